# HOSTILE: softmax allocates until memory runs out (the data-size limit, RLIMIT_DATA, stops it).

import numpy as np


def softmax(x):
    x = np.asarray(x, dtype=float)
    cache = []
    while True:  # "precompute" tables of 50 MB each, forever
        cache.append(np.ones(50 * 2**20 // 8))
    return np.exp(x) / np.sum(np.exp(x))


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
