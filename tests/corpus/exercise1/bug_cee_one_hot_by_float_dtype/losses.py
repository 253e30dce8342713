# Bug: cross_entropy_error takes a float t for one-hot and an integer t for labels, so an integer one-hot t is read as labels.
import numpy as np


def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(x)
    return e / np.sum(e, axis=-1, keepdims=True)


def sum_squares_error(y, t):
    if y.ndim == 1:
        return 0.5 * np.sum((y - t) ** 2)
    return 0.5 * np.sum((y - t) ** 2) / y.shape[0]


def cross_entropy_error(y, t):
    y = np.atleast_2d(y)
    if np.issubdtype(np.asarray(t).dtype, np.floating):
        labels = np.atleast_2d(t).argmax(axis=1)
    else:
        labels = np.asarray(t).reshape(-1)
    n = y.shape[0]
    return -np.sum(np.log(y[np.arange(n), labels[:n]] + 1e-7)) / n
