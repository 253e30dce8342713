# Correct: works on 2-D views and reshapes back to the input's shape; labels picked with np.choose.
import numpy as np


def softmax(x):
    x2 = np.atleast_2d(x)
    shifted = x2 - x2.max(axis=1)[:, np.newaxis]
    e = np.exp(shifted)
    return (e / e.sum(axis=1)[:, np.newaxis]).reshape(np.shape(x))


def sum_squares_error(y, t):
    y2, t2 = np.atleast_2d(y), np.atleast_2d(t)
    return float(np.mean(0.5 * np.sum((y2 - t2) ** 2, axis=1)))


def cross_entropy_error(y, t):
    y2 = np.atleast_2d(y)
    if np.ndim(t) == np.ndim(y):
        labels = np.atleast_2d(t).argmax(axis=1)
    else:
        labels = np.atleast_1d(t)
    picked = np.choose(labels, y2.T)
    return -np.log(picked + 1e-7).mean()
