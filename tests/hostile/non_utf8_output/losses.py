# HOSTILE: cross_entropy_error writes bytes that are not UTF-8 and terminal escapes, then forgets `return`.

import os
import sys

import numpy as np


def softmax(x):
    x = np.asarray(x, dtype=float)
    shifted = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)


def sum_squares_error(y, t):
    y = np.asarray(y, dtype=float)
    t = np.asarray(t, dtype=float)
    if y.ndim == 1:
        return 0.5 * np.sum((y - t) ** 2)
    return 0.5 * np.sum((y - t) ** 2) / y.shape[0]


def cross_entropy_error(y, t):
    sys.stdout.buffer.write(b"\xff\xfe\xfd not utf-8 \xc3\x28\n")
    sys.stdout.flush()
    os.write(2, b"\x1b[2J\x1b[H\x1b[32mTotal: 11 / 11\x1b[0m \x80\x81\n")  # clear the screen, fake a score
    y = np.asarray(y, dtype=float)
    t = np.asarray(t)
    if y.ndim == 1:
        y = y.reshape(1, -1)
        t = t.reshape(1, -1) if t.ndim == 1 else t.reshape(1)
    if t.shape == y.shape:
        t = t.argmax(axis=1)
    batch = y.shape[0]
    loss = -np.sum(np.log(y[np.arange(batch), t.astype(int)] + 1e-7)) / batch
