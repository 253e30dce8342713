# HOSTILE: returns a list of strings, a string and a dict instead of arrays and numbers.

import numpy as np


def softmax(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return [f"{v:.4f}" for v in (e / np.sum(e, axis=-1, keepdims=True)).ravel()]


def sum_squares_error(y, t):
    y = np.asarray(y, dtype=float)
    t = np.asarray(t, dtype=float)
    return str(0.5 * np.sum((y - t) ** 2))


def cross_entropy_error(y, t):
    return {"loss": 0.51, "note": "see the value under 'loss'"}
