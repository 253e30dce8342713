"""Helpers shared by exercise 2's public and hidden checks: the grader's functions f handed to the
student's code, and the numerical_diff comparison with a hint naming the likely mistake. Kept
apart from the checks so that the hidden checks never import the public check module."""

import numpy as np

from grader.checks.api import expect_close
from grader.checks.translated import _
from reference.exercise2 import gradients as ref

H = 1e-4


def book_function(x):
    """f(x) = 0.01 x^2 + 0.1 x (book, 4.3.2)."""
    return 0.01 * x ** 2 + 0.1 * x


def sum_of_squares(x):
    """f(x) = sum of x_i^2 (book, 4.3.3)."""
    return float(np.sum(np.asarray(x, dtype=float) ** 2))


def diff_hint(f, x, got) -> str:
    """Name the likely mistake behind a wrong numerical_diff."""
    value = float(np.asarray(got, dtype=float).reshape(-1)[0]) if np.size(got) == 1 else None
    if value is None:
        return _("numerical_diff returns one number.")
    if np.isclose(value, (f(x + H) - f(x)) / H, rtol=1e-9):
        return _("that is the forward difference (f(x+h) - f(x)) / h; use the central difference "
                 "(f(x+h) - f(x-h)) / (2h).")
    if np.isclose(value, (f(x + H) - f(x - H)) / H, rtol=1e-9):
        return _("the central difference divides by 2h, not h.")
    if value == 0.0:
        return _("a result of 0 usually means h is so small it is lost to rounding; use h = 1e-4.")
    return _("use (f(x + h) - f(x - h)) / (2 * h) with h = 1e-4.")


def check_diff(student, f, x) -> None:
    got = student.numerical_diff(f, x)
    expect_close(got, ref.numerical_diff(f, x), call=f"numerical_diff(f, {x})",
                 inputs={"f": f.__doc__, "x": x}, hint=diff_hint(f, x, got), rtol=1e-7, atol=1e-12)
