# HOSTILE: replaces numpy, builtins, pytest and sys.exit functions in its own process, then returns wrong values.

import builtins
import sys

import numpy as np


def _always_true(*args, **kwargs):
    return True


def _nothing(*args, **kwargs):
    return None


np.allclose = np.array_equal = _always_true
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.shape(a), dtype=bool)
np.testing.assert_allclose = np.testing.assert_array_equal = _nothing
builtins.all = builtins.any = _always_true
builtins.abs = builtins.round = lambda *args, **kwargs: 0
builtins.AssertionError = type("AssertionError", (Exception,), {})
sys.exit = _nothing
try:
    import pytest

    pytest.approx = lambda expected, *args, **kwargs: _AnythingGoes()
    pytest.fail = pytest.skip = _nothing
    pytest.main = lambda *args, **kwargs: 0
except ImportError:
    pass
for _name in ("grader", "grader.checks.api", "grader.checks.runner"):  # not loaded here; harmless if they were
    _module = sys.modules.get(_name)
    if _module is not None:
        _module.expect_close = _module.fail = _nothing


class _AnythingGoes:
    def __eq__(self, other):
        return True


def softmax(x):
    return np.zeros_like(np.asarray(x, dtype=float))


def sum_squares_error(y, t):
    return 0.0


def cross_entropy_error(y, t):
    return 0.0
