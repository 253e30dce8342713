# HOSTILE: modifies, renames and deletes files outside its own folder (canaries the test planted).

import os

import numpy as np


def _targets():
    """The test's planted canaries, plus any file named *canary* in the sandbox folder.
    (Bounded on purpose: without the test's _targets.py this module touches nothing.)"""
    try:
        from _targets import TARGETS
    except ImportError:
        return []
    found = list(TARGETS)
    sandbox = os.path.dirname(os.path.dirname(os.path.dirname(os.getcwd())))  # up from jobs/<job>/work
    for base, _dirs, files in os.walk(sandbox):
        found += [os.path.join(base, f) for f in files if "canary" in f]
    return found


def _attack(path):
    results = []
    for attempt in (lambda: open(path, "a").write("owned\n"), lambda: os.chmod(path, 0o777),
                    lambda: os.utime(path, (0, 0)), lambda: os.rename(path, path + ".moved"),
                    lambda: os.unlink(path)):
        try:
            attempt()
            results.append("ok")
        except OSError as exc:
            results.append(type(exc).__name__)
    return results


ATTACKS = {path: _attack(path) for path in _targets()}
print("attacks:", ATTACKS)


def softmax(x):
    x = np.asarray(x, dtype=float)
    shifted = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)


def sum_squares_error(y, t):
    y = np.asarray(y, dtype=float)
    t = np.asarray(t, dtype=float)
    if y.ndim == 1:
        return 0.5 * np.sum((y - t) ** 2)
    return 0.5 * np.sum((y - t) ** 2) / y.shape[0]


def cross_entropy_error(y, t):
    return 0.0
