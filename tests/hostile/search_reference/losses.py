# HOSTILE: searches the disk (and the import path) for the grader's reference solution and returns its answers.

import importlib.util
import os
import sys
import time

import numpy as np


SKIP = {"/proc", "/sys", "/dev", "/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/boot",
        "/etc", "/snap", "/var", "/run"}
WANTED = os.path.join("reference", "exercise1", "losses.py")


def _candidates():
    yield from sys.path
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            for link in ("cwd", "root"):
                try:
                    yield os.readlink(f"/proc/{pid}/{link}")
                except OSError:
                    pass
    folder = os.getcwd()
    while folder != "/":
        folder = os.path.dirname(folder)
        yield folder
    deadline = time.monotonic() + 1.0
    for base, dirs, _files in os.walk("/"):
        if time.monotonic() > deadline:
            return
        dirs[:] = [d for d in dirs if os.path.join(base, d) not in SKIP]
        if "reference" in dirs:
            yield base


def _find_reference():
    try:
        import reference.exercise1.losses as found  # an installed grader on the import path?

        print("FOUND on the import path:", found.__file__)
        return found
    except ImportError:
        pass
    for folder in _candidates():
        path = os.path.join(folder, WANTED)
        if os.path.isfile(path):
            print("FOUND", path)
            spec = importlib.util.spec_from_file_location("stolen_reference", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    print("reference not found")
    return None


_REFERENCE = _find_reference()


def softmax(x):
    if _REFERENCE is not None:
        return _REFERENCE.softmax(x)
    return np.full(np.shape(x), 1.0 / np.shape(x)[-1])


def sum_squares_error(y, t):
    if _REFERENCE is not None:
        return _REFERENCE.sum_squares_error(y, t)
    return 0.0


def cross_entropy_error(y, t):
    if _REFERENCE is not None:
        return _REFERENCE.cross_entropy_error(y, t)
    return 0.0
