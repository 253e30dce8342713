"""Public checks of exercise 1: the book's examples, both input shapes, stability."""

import numpy as np

from grader.checks.api import expect_close, public
from grader.checks.exercise1.support import check_softmax, loss_hint
from grader.checks.translated import _
from reference.exercise1 import losses as ref

BOOK_T = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0], dtype=float)
BOOK_Y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])


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
                 hint=loss_hint(got, expected, 1, _("the formula is 0.5 * np.sum((y - t)**2): check the 0.5 "
                                                    "and the square.")))


@public(points=1)
def test_cross_entropy_book_example(student):
    """cross_entropy_error of the book's example is 0.5108 (one-hot t)"""
    got = student.cross_entropy_error(BOOK_Y, BOOK_T)
    expected = ref.cross_entropy_error(BOOK_Y, BOOK_T)
    expect_close(got, expected, call="cross_entropy_error(y, t)", inputs={"y": BOOK_Y, "t": BOOK_T},
                 hint=loss_hint(got, expected, 1, _("the result is -log(y[label] + 1e-7); only the correct "
                                                    "class's probability counts.")))
