# Correct: a helper module in the same folder and a module-level constant.
import numpy as np

from helpers import as_labels

DELTA = 1e-7


def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(x)
    return e / np.sum(e, axis=-1, keepdims=True)


def sum_squares_error(y, t):
    if y.ndim == 1:
        return 0.5 * np.sum((y - t) ** 2)
    return 0.5 * np.sum((y - t) ** 2) / y.shape[0]


def cross_entropy_error(y, t):
    y = y.reshape(-1, y.shape[-1])
    labels = as_labels(t, y.shape)
    return -np.log(y[np.arange(y.shape[0]), labels] + DELTA).sum() / y.shape[0]
