# Correct: softmax via log-sum-exp, losses with np.mean and a 0-d array result.
import numpy as np


def softmax(x):
    m = x.max(axis=-1, keepdims=True)
    log_z = m + np.log(np.exp(x - m).sum(axis=-1, keepdims=True))
    return np.exp(x - log_z)


def sum_squares_error(y, t):
    per_row = 0.5 * ((y - t) ** 2).sum(axis=-1)
    return np.mean(per_row)


def cross_entropy_error(y, t):
    y2 = y.reshape(-1, y.shape[-1])
    if t.size == y.size:
        t = t.reshape(y2.shape).argmax(axis=1)
    t = np.asarray(t).reshape(-1)
    return np.array(-np.log(y2[np.arange(len(t)), t] + 1e-7).mean())
