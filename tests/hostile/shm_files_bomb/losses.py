# HOSTILE: softmax writes files to /dev/shm, memory that RLIMIT_DATA does not count (the zygote's
# memory watch stops it; the private /dev/shm also has its own 512 MB size). Each file stays under
# the 64 MB file-size limit; a full /dev/shm is waited out, so the watch, not ENOSPC, ends it.

import os

import numpy as np

FILE = b"\1" * (32 * 2**20)


def softmax(x):
    x = np.asarray(x, dtype=float)
    for index in range(64):  # at most 2 GB
        try:
            with open(f"/dev/shm/cache-{index}.bin", "wb") as f:
                f.write(FILE)
        except OSError:
            break
    while True:
        pass
    return np.exp(x) / np.sum(np.exp(x))


def sum_squares_error(y, t):
    y = np.asarray(y, dtype=float)
    t = np.asarray(t, dtype=float)
    if y.ndim == 1:
        return 0.5 * np.sum((y - t) ** 2)
    return 0.5 * np.sum((y - t) ** 2) / y.shape[0]


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
