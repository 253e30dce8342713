# HOSTILE: softmax never returns (an infinite loop).

import numpy as np


def softmax(x):
    x = np.asarray(x, dtype=float)
    total = 0.0
    while True:  # meant to stop when the sum converged; it never does
        total += np.sum(np.exp(x - np.max(x)))
    return np.exp(x) / total


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
