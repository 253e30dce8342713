# Bug: cross_entropy_error calls t one-hot when it holds only 0s and 1s, so labels such as [0, 1, 1] are read as one-hot.
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
    t = np.asarray(t)
    if np.all((t == 0) | (t == 1)):
        labels = np.atleast_2d(t).argmax(axis=1)
    else:
        labels = t.reshape(-1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), labels] + 1e-7)) / batch_size
