"""Public checks of exercise 1: the book's examples, both input shapes, stability."""

import numpy as np

from grader.checks.api import expect_close, fail, public, show
from grader.sandbox.errors import StudentRaised
from reference.exercise1 import losses as ref

BOOK_T = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0], dtype=float)
BOOK_Y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
AXIS_HINT = "each row must sum to 1: normalise with np.sum(..., axis=-1, keepdims=True), not over the whole array."


def softmax_hint(x: np.ndarray, got) -> str:
    """Name the likely mistake behind a wrong softmax."""
    got = np.asarray(got, dtype=float)
    if got.shape != x.shape:
        return "softmax must return an array of the same shape as its input."
    if not np.all(np.isfinite(got)):
        return "exp overflowed: subtract each row's maximum before np.exp."
    if x.ndim == 2 and np.isclose(got.sum(), 1.0) and not np.allclose(got.sum(axis=-1), 1.0):
        return AXIS_HINT
    if x.ndim == 2 and not np.allclose(got.sum(axis=-1), 1.0):
        return ("rows do not sum to 1 — did you subtract/divide with the right axis and keepdims=True "
                "(broadcasting a (N,) vector against (N, C) mixes rows)?")
    return ""


def check_softmax(student, x: np.ndarray, *, call: str = "softmax(x)") -> None:
    try:
        got = student.softmax(x)
    except StudentRaised as exc:
        if x.ndim == 1 and "axis" in exc.text.lower():
            fail(f"softmax(x) raised {exc.type_name} on a 1-D input x={show(x)}: {exc.text}",
                 hint="use axis=-1 (the last axis) so the same code works for (C,) and (N, C).")
        raise
    try:
        expect_close(got, ref.softmax(x), call=call, inputs={"x": x}, rtol=1e-6, atol=1e-10)
    except AssertionError as exc:
        hint = softmax_hint(x, got) if isinstance(got, np.ndarray) else ""
        exc.hint = exc.hint or hint
        raise


def loss_hint(got, expected: float, batch: int, default: str) -> str:
    """Name the likely mistake behind a wrong loss value from how it relates to the right one."""
    try:
        value = float(np.asarray(got, dtype=float).reshape(-1)[0]) if np.size(got) == 1 else None
    except (TypeError, ValueError):
        value = None
    if value is None or expected == 0:
        return default
    ratio = value / expected
    if batch > 1 and np.isclose(ratio, batch, rtol=1e-6):
        return f"you returned the sum over the batch; divide by the batch size N = {batch}."
    if np.isclose(ratio, 1 / np.log(10), rtol=1e-4):
        return "that is log base 10: use the natural logarithm np.log."
    if np.isclose(ratio, 2.0, rtol=1e-6):
        return "the value is twice the expected one: did you forget the factor 0.5?"
    return default


@public(points=1)
def test_softmax_vector(student):
    """softmax of one score vector matches the book's example"""
    check_softmax(student, np.array([0.3, 2.9, 4.0]))


@public(points=1)
def test_softmax_batch_rows(student):
    """softmax of a batch normalises each row separately"""
    x = np.array([[0.3, 2.9, 4.0], [1.0, 1.0, 1.0], [-2.0, 0.0, 2.0]])
    check_softmax(student, x)


@public(points=1)
def test_softmax_large_scores(student):
    """softmax stays finite for scores as large as ±1e4"""
    x = np.array([[1e4, 1e4 - 1.0, -1e4], [-1e4, -1e4, -1e4 + 2.0]])
    check_softmax(student, x)


@public(points=1)
def test_sum_squares_error_book_example(student):
    """sum_squares_error of the book's example is 0.0975"""
    got = student.sum_squares_error(BOOK_Y, BOOK_T)
    expected = ref.sum_squares_error(BOOK_Y, BOOK_T)
    expect_close(got, expected, call="sum_squares_error(y, t)", inputs={"y": BOOK_Y, "t": BOOK_T},
                 hint=loss_hint(got, expected, 1, "the formula is 0.5 * np.sum((y - t)**2): check the 0.5 "
                                                  "and the square."))


@public(points=1)
def test_cross_entropy_book_example(student):
    """cross_entropy_error of the book's example is 0.5108 (one-hot t)"""
    got = student.cross_entropy_error(BOOK_Y, BOOK_T)
    expected = ref.cross_entropy_error(BOOK_Y, BOOK_T)
    expect_close(got, expected, call="cross_entropy_error(y, t)", inputs={"y": BOOK_Y, "t": BOOK_T},
                 hint=loss_hint(got, expected, 1, "the result is -log(y[label] + 1e-7); only the correct "
                                                  "class's probability counts."))
