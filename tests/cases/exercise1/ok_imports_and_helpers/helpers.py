"""Small helpers the student kept in a second file."""

import numpy as np


def as_labels(t, shape):
    t = np.asarray(t)
    if t.size == shape[0] * shape[1] and t.size != shape[0]:
        return t.reshape(shape).argmax(axis=1)
    if t.size == shape[0] * shape[1]:
        return t.reshape(shape).argmax(axis=1) if shape[1] > 1 and t.ndim > 1 else t.reshape(-1).astype(int)
    return t.reshape(-1).astype(int)
