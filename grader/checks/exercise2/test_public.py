"""Public checks of exercise 2: the book's examples of chapter 4.

The functions f given to the student's code are the grader's own: each call the student's
code makes runs here, in the grader's process, on the values it was given.
"""

import numpy as np

from grader.checks.api import as_array, expect_close, fail, public, show
from grader.checks.exercise2.support import book_function, check_diff, sum_of_squares
from grader.checks.translated import _
from reference.exercise2 import gradients as ref


@public(points=1)
def test_numerical_diff_book_example(student):
    """numerical_diff of 0.01x² + 0.1x at x = 5 and x = 10 (book 4.3.2)"""
    check_diff(student, book_function, 5.0)
    check_diff(student, book_function, 10.0)


@public(points=1)
def test_numerical_gradient_vector(student):
    """numerical_gradient of x0² + x1² at (3, 4), (0, 2) and (3, 0) (book 4.4)"""
    for point in ([3.0, 4.0], [0.0, 2.0], [3.0, 0.0]):
        x = np.array(point)
        got = as_array(student.numerical_gradient(sum_of_squares, x.copy()), call="numerical_gradient(f, x)")
        expect_close(got, ref.numerical_gradient(sum_of_squares, x.copy()), call="numerical_gradient(f, x)",
                     inputs={"f": "x0**2 + x1**2", "x": x}, rtol=1e-6, atol=1e-8,
                     hint=_("one central difference per element, with h = 1e-4, each divided by 2h."))


@public(points=1)
def test_numerical_gradient_restores_x(student):
    """numerical_gradient leaves x holding exactly its old values"""
    original = np.array([0.1, 0.7, 3.3, -1.9])
    x = student.keep(original.copy())
    student.numerical_gradient(sum_of_squares, x)
    after = np.asarray(x.call("copy"), dtype=float)
    if after.shape != original.shape or not np.array_equal(after, original):
        changed = np.flatnonzero(after != original) if after.shape == original.shape else []
        if len(changed):
            rationale = _("after numerical_gradient(f, x) with x={x}, x holds {after} (changed at index "
                          "{index}).").format(x=show(original), after=show(after), index=list(changed)[:5])
        else:
            rationale = _("after numerical_gradient(f, x) with x={x}, x holds {after}.").format(
                x=show(original), after=show(after))
        fail(rationale, hint=_("save the element first (old = x[i]) and put it back with x[i] = old; adding h and "
                               "subtracting it again does not always give the same float."))


@public(points=1)
def test_gradient_descent_book_example(student):
    """gradient_descent of x0² + x1² from (-3, 4), lr = 0.1, 100 steps ends near (0, 0)"""
    start = np.array([-3.0, 4.0])
    got = student.gradient_descent(sum_of_squares, start.copy(), lr=0.1, step_num=100)
    expected = ref.gradient_descent(sum_of_squares, start.copy(), lr=0.1, step_num=100)
    expect_close(got, expected, call="gradient_descent(f, init_x=[-3, 4], lr=0.1, step_num=100)",
                 inputs={"f": "x0**2 + x1**2"}, rtol=1e-5, atol=1e-8,
                 hint=_("each of the step_num steps does x -= lr * numerical_gradient(f, x); return the final x."))
