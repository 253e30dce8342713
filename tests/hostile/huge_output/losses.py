# HOSTILE: softmax prints 100 MB (and still returns the right values); sum_squares_error prints forever.

import numpy as np


PRINTED = []


def softmax(x):
    x = np.asarray(x, dtype=float)
    if not PRINTED:
        print("x" * (100 * 2**20))  # a debugging print of 100 MB, the first time
        PRINTED.append(True)
    shifted = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)


def sum_squares_error(y, t):
    y = np.asarray(y, dtype=float)
    t = np.asarray(t, dtype=float)
    step = 0
    while True:  # a loop that prints its progress and never ends
        step += 1
        print("step", step, "error", 0.5 * np.sum((y - t) ** 2), flush=True)


def cross_entropy_error(y, t):
    y = np.asarray(y, dtype=float)
    t = np.asarray(t)
    if y.ndim == 1:
        y = y.reshape(1, -1)
        t = t.reshape(1, -1) if t.ndim == 1 else t.reshape(1)
    if t.shape == y.shape:
        t = t.argmax(axis=1)
    batch = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch), t.astype(int)] + 1e-7)) / batch
