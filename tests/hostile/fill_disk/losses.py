# HOSTILE: writes a 100 MB file (the file-size limit stops it at 64 MB).

import numpy as np


def softmax(x):
    x = np.asarray(x, dtype=float)
    shifted = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)


def sum_squares_error(y, t):
    with open("cache.bin", "wb") as f:
        for _ in range(100):
            f.write(b"\0" * 2**20)
    y = np.asarray(y, dtype=float)
    t = np.asarray(t, dtype=float)
    return 0.5 * np.sum((y - t) ** 2)


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
