# HOSTILE: softmax fills anonymous MAP_SHARED memory, which RLIMIT_DATA does not count (the
# zygote's memory watch stops it). It stops by itself at 2 GB and waits, so a missing watch fails
# this case as a hang instead of taking the test machine's memory.

import mmap

import numpy as np

CHUNK = 50 * 2**20
HELD = []


def softmax(x):
    x = np.asarray(x, dtype=float)
    for _ in range(2**31 // CHUNK):  # "a cache shared with worker processes", 50 MB at a time
        block = mmap.mmap(-1, CHUNK, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
        np.frombuffer(block, dtype=np.uint8)[:] = 1
        HELD.append(block)
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
