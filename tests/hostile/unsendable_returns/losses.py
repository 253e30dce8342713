# HOSTILE: returns a generator, a lambda, and an object whose __eq__ always says True.

import numpy as np


class AlwaysEqual:
    """Claims to equal anything, converts to any number or array the grader might want."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __float__(self):
        return 0.5108

    def __array__(self, dtype=None, copy=None):
        return np.array(0.5108)

    def __len__(self):
        return 1

    def __getitem__(self, index):
        return 0.5108


def softmax(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return (row / np.sum(row) for row in np.atleast_2d(e))  # a generator, not an array


def sum_squares_error(y, t):
    return lambda: 0.5 * np.sum((np.asarray(y) - np.asarray(t)) ** 2)  # returns the function, not its value


def cross_entropy_error(y, t):
    return AlwaysEqual()
