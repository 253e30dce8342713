"""The student module the broken checks are run against (tests/test_attribution.py)."""

import numpy as np


def softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def apply(f, value):
    return f(value)


def apply_quietly(f, value):
    try:
        return f(value)
    except Exception:
        return "caught"


def call_with_too_many(f, value):
    return f(value, 1, 2)


class Own:
    def value(self):
        raise ValueError("my own object refuses")


def apply_to_own_object(f):
    return f(Own())


def broken(x):
    return x[[5]]


def wrong_double(value):
    return value * 3


def noisy(n):
    for i in range(n):
        print(f"printed line {i}")
    return float(n)
