"""Hidden checks of exercise 2: other functions and shapes, closures, hyper-parameters."""

import numpy as np

from grader.checks.api import as_array, expect_close, fail, hidden
from grader.checks.exercise2.support import check_diff
from grader.checks.translated import N_, _
from grader.sandbox.errors import StudentRaised
from reference.exercise2 import gradients as ref

TWO_D_HINT = N_("for a 2-D x, loop over every element: np.nditer(x, flags=['multi_index']) or "
                 "np.ndindex(x.shape); range(x.size) with x[i] indexes whole rows.")
WEIGHTS = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]])


def exponential(x):
    """f(x) = exp(x)"""
    return float(np.exp(x))


def weighted_squares(x):
    """f(x) = sum of w_ij * x_ij^2 + sum of x_ij, w a fixed (2, 3) matrix"""
    x = np.asarray(x, dtype=float)
    return float(np.sum(WEIGHTS * x ** 2) + np.sum(x))


@hidden(points=1)
def test_numerical_diff_exponential(student):
    """numerical_diff of exp at x = 1 is a central difference"""
    check_diff(student, exponential, 1.0)


@hidden(points=1)
def test_numerical_gradient_matrix(student):
    """numerical_gradient works for a 2-D x of shape (2, 3)"""
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.25]])
    try:
        got = student.numerical_gradient(weighted_squares, x.copy())
    except StudentRaised as exc:
        if exc.not_implemented:
            raise
        fail(_("numerical_gradient(f, x) raised {error}: {text} for x of shape (2, 3).").format(
                 error=exc.type_name, text=exc.text), hint=_(TWO_D_HINT))
    got = as_array(got, call="numerical_gradient(f, x)")
    expect_close(got, ref.numerical_gradient(weighted_squares, x.copy()), call="numerical_gradient(f, x)",
                 inputs={"x": x}, rtol=1e-6, atol=1e-8, hint=_(TWO_D_HINT))


@hidden(points=1)
def test_numerical_gradient_through_closure(student):
    """numerical_gradient changes x in place, so f may read x through a closure"""
    start = np.array([[1.0, -2.0, 0.5], [0.25, 3.0, -1.5]])
    x = student.keep(start.copy())

    def reads_x_through_closure(_ignored):
        """f(W) = sum of w_ij * x_ij^2 + sum of x_ij, reading x itself (like lambda W: net.loss(x, t))"""
        return weighted_squares(x.call("copy"))

    got = as_array(student.numerical_gradient(reads_x_through_closure, x), call="numerical_gradient(f, x)")
    expected = 2 * WEIGHTS * start + 1
    if got.shape == expected.shape and np.allclose(got, 0.0):
        fail(_("numerical_gradient(f, x) returned all zeros for an f that reads x through a closure "
               "(as in lambda W: net.loss(x, t))."),
             hint=_("change x itself (x[i] = old + h), not a copy of it, before calling f(x)."))
    expect_close(got, expected, call="numerical_gradient(f, x)", inputs={"x": start}, rtol=1e-6, atol=1e-7,
                 hint=_("perturb x in place, one element at a time, and call f(x)."))


@hidden(points=1)
def test_gradient_descent_uses_lr_and_steps(student):
    """gradient_descent honours lr and step_num"""
    start = np.array([[2.0, -1.0, 0.5], [1.0, 1.0, -3.0]]) / 4
    got = student.gradient_descent(weighted_squares, start.copy(), lr=0.05, step_num=7)
    expected = ref.gradient_descent(weighted_squares, start.copy(), lr=0.05, step_num=7)
    hint = _("take exactly step_num steps of x -= lr * numerical_gradient(f, x).")
    arr = np.asarray(got, dtype=float) if isinstance(got, np.ndarray) else None
    for lr, steps in ((0.01, 7), (0.05, 100), (0.01, 100)):
        ignored = ref.gradient_descent(weighted_squares, start.copy(), lr=lr, step_num=steps)
        if arr is not None and arr.shape == ignored.shape and np.allclose(arr, ignored, rtol=1e-5):
            hint = _("you returned the result for lr={lr}, step_num={steps}: use the lr and step_num "
                     "arguments instead of fixed values.").format(lr=lr, steps=steps)
    expect_close(got, expected, call="gradient_descent(f, init_x, lr=0.05, step_num=7)",
                 inputs={"init_x": start}, rtol=1e-5, atol=1e-8, hint=hint)


def one_weighted_square(x):
    """f(x) = 3 * x0^2 + x0 for x of shape (1,)"""
    x = np.asarray(x, dtype=float)
    return float(3.0 * x[0] ** 2 + x[0])


@hidden(points=0.5)
def test_gradient_descent_defaults(student):
    """gradient_descent(f, init_x) without lr and step_num uses the defaults lr=0.01, step_num=100"""
    # One element: 100 steps call f 200 times, each a call back into the grader, so this stays cheap.
    start = np.array([0.8])
    got = student.gradient_descent(one_weighted_square, start.copy())
    expected = ref.gradient_descent(one_weighted_square, start.copy(), lr=0.01, step_num=100)
    hint = _("keep the signature gradient_descent(f, init_x, lr=0.01, step_num=100): the defaults are part of it.")
    arr = np.asarray(got, dtype=float) if isinstance(got, np.ndarray) else None
    for lr, steps in ((0.1, 100), (0.001, 100), (0.01, 1000), (0.01, 10), (0.01, 99), (0.01, 101)):
        other = ref.gradient_descent(one_weighted_square, start.copy(), lr=lr, step_num=steps)
        if arr is not None and arr.shape == other.shape and np.allclose(arr, other, rtol=1e-7, atol=1e-12):
            hint = _("your defaults behave like lr={lr}, step_num={steps}; the signature is "
                     "gradient_descent(f, init_x, lr=0.01, step_num=100).").format(lr=lr, steps=steps)
    expect_close(got, expected, call="gradient_descent(f, init_x)", inputs={"f": one_weighted_square.__doc__,
                 "init_x": start}, rtol=1e-7, atol=1e-10, hint=hint)
