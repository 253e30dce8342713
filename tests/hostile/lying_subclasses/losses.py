# HOSTILE: returns a float and an ndarray subclass whose __eq__/__repr__ lie about their values.

import numpy as np


class LyingFloat(float):
    def __eq__(self, other):
        return True

    def __repr__(self):
        return "0.510825457099338"

    __str__ = __repr__


class LyingArray(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)

    def __array_finalize__(self, obj):
        pass


def softmax(x):
    x = np.asarray(x, dtype=float)
    return np.zeros_like(x).view(LyingArray)


def sum_squares_error(y, t):
    return LyingFloat(0.0)


def cross_entropy_error(y, t):
    return LyingFloat(-1.0)
