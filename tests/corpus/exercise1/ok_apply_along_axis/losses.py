# Correct: one-row helpers applied with np.apply_along_axis and a list comprehension.
import numpy as np


def _softmax_row(row):
    e = np.exp(row - row.max())
    return e / e.sum()


def softmax(x):
    return np.apply_along_axis(_softmax_row, -1, x.astype(float))


def sum_squares_error(y, t):
    if y.ndim == 1:
        return 0.5 * float(np.dot(y - t, y - t))
    return sum(sum_squares_error(a, b) for a, b in zip(y, t)) / len(y)


def cross_entropy_error(y, t):
    if y.ndim == 1:
        label = int(np.argmax(t)) if np.ndim(t) == 1 else int(t)
        return -np.log(y[label] + 1e-7)
    return np.mean([cross_entropy_error(row, label) for row, label in zip(y, t)])
