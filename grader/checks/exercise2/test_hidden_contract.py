"""Contract-wide hidden checks of exercise 2 (issue 17): each function compared with the reference
on inputs drawn by Hypothesis over everything SPEC.md allows, shrunk to the smallest failing one.
The functions f handed to the student's code are the grader's own (module-level below), so each
call the student's code makes to f runs here, on the values it was given.

Input dimensions covered, function by function (from SPEC.md, the stub's docstrings and the book):

numerical_diff(f, x)
- x: a Python int (the book calls numerical_diff(function_1, 5)), a Python float or an
  np.float64, anywhere in [-10, 10], 0 included;
- f: smooth functions of one variable whose third derivative is large beside the first
  (sin(10 x)), so that a central difference with another step than h = 1e-4 shows; the book's
  quadratic; a cubic; exp.
numerical_gradient(f, x), values
- shapes: (D,) with D from 1 to 5, (N, D) with sides 1 to 3 (N == 1, D == 1, N == D), and 3-D
  (sides 1 to 2): SPEC says "any shape (1-D, 2-D, ...)";
- layouts: C and offset (a view one row into a larger array) for every shape; strided too for 1-D;
- values: x in [-5, 5], zeros included;
- f: functions of the whole array that read their argument: separable (sum of sin(3 x)),
  position-weighted (sum of k * x_k^2) and non-separable (log(1 + sum of x^2)).
numerical_gradient(f, x), in place
- f reads x through a closure (as `lambda W: net.loss(x, t)` does), so only perturbations
  made in x itself count; quadratics whose gradient is not 0 at x = 0; afterwards x must hold
  exactly its old values (bitwise);
- dtypes: float64, and float32 (a float array too: np.asarray(x, dtype=float) or x.astype(float)
  is then a copy);
- shapes (D,) with D from 1 to 4 and (N, D) with sides 1 to 3; layouts and values as above
  (float32 values in [-2, 2]).
gradient_descent(f, init_x, lr=0.01, step_num=100)
- init_x: (D,) with D from 1 to 3 or (N, D) with sides 1 to 2, float64 in [-3, 3], a fresh array;
- lr: 0, 0.01, 0.1, 0.25; step_num: 0 to 3 (0 steps return init_x's values);
- call forms: keywords, all positional (f, x, lr, step_num), lr positional and step_num by keyword;
- f: the book's sum of squares and two other quadratics (exact central differences, so a wrong h
  in numerical_gradient costs points in its own check only).

Not generated, because SPEC.md leaves it open (the lead decides; every reading is accepted):
- a non-contiguous 2-D x for numerical_gradient (Fortran order, a transposed or strided view).
  SPEC says "a float array of any shape" and "perturbs x in place"; for such an x, x.reshape(-1)
  is a copy, so perturbing through it (tests/cases/exercise2/ok_flat_view, a valid case) changes
  nothing f can see. Every array the course passes (network parameters) is contiguous.
- float32 for gradient_descent: numerical gradients in float32 are too noisy (the rounding of
  x + h moves h by up to 1e-3 of itself) to compare a trajectory with the reference.

Tolerances: numerical_diff within rtol 1e-8, atol 1e-10 (the same formula gives the same floats);
numerical_gradient within rtol 1e-7, atol 1e-9 in float64, rtol 1e-2, atol 1e-3 in float32 (a
different but right rounding of x[i] + h moves the quotient by up to 2 float32 epsilons / 1e-4
of the gradient); gradient_descent within rtol 1e-6, atol 1e-9.
"""

from __future__ import annotations

import math
import numpy as np
from hypothesis import strategies as st

from grader.checks.api import as_array, expect_close, fail, hidden, show
from grader.checks.contract import arrays, call_showing_input, expect_close_or_hint, for_all, in_layout, pinned
from grader.checks.exercise2.support import diff_hint
from grader.checks.translated import N_, _
from reference.exercise2 import gradients as ref

EXAMPLES = {"diff": 8, "gradient": 10, "in_place": 6, "descent": 8}
"""Examples per check (tests/test_exercise2.py checks that they reach every dimension); each
numerical_gradient example costs 2 calls back into the grader per element of x."""
GRADIENT_HINT = N_("one central difference per element of x, for x of any shape: iterate over "
                    "np.ndindex(x.shape) or np.nditer(x, flags=['multi_index']), perturb x[idx] by h = 1e-4 "
                    "each way and divide by 2h.")


# --- the grader's functions f ------------------------------------------------------------------

def sin_10x(x):
    """f(x) = sin(10 x)"""
    return math.sin(10 * x)


def book_quadratic(x):
    """f(x) = 0.01 x^2 + 0.1 x"""
    return 0.01 * x ** 2 + 0.1 * x


def cubic(x):
    """f(x) = x^3 - 2 x"""
    return x ** 3 - 2 * x


def exponential(x):
    """f(x) = exp(x / 2)"""
    return math.exp(x / 2)


ONE_VARIABLE = (sin_10x, book_quadratic, cubic, exponential)


def sum_sin_3x(x):
    """f(x) = sum of sin(3 x_k)"""
    return float(np.sum(np.sin(3 * np.asarray(x, dtype=float))))


def weighted_squares(x):
    """f(x) = sum of (k + 1) x_k^2 (k = 0, 1, ... along x.ravel())"""
    x = np.asarray(x, dtype=float).ravel()
    return float(np.sum(np.arange(1, x.size + 1) * x ** 2))


def log_norm(x):
    """f(x) = log(1 + sum of x_k^2)"""
    return float(np.log1p(np.sum(np.asarray(x, dtype=float) ** 2)))


def sum_of_squares(x):
    """f(x) = sum of x_k^2"""
    return float(np.sum(np.asarray(x, dtype=float) ** 2))


def squares_plus_sum(x):
    """f(x) = sum of (k + 1) x_k^2 + sum of x_k (k = 0, 1, ... along x.ravel())"""
    x = np.asarray(x, dtype=float).ravel()
    return float(np.sum(np.arange(1, x.size + 1) * x ** 2) + np.sum(x))


def squares_around_one(x):
    """f(x) = sum of (x_k - 1)^2"""
    return float(np.sum((np.asarray(x, dtype=float) - 1.0) ** 2))


MANY_VARIABLES = (sum_sin_3x, weighted_squares, log_norm)
"""For the values of numerical_gradient: non-quadratic f show a step other than h = 1e-4."""
QUADRATIC = (squares_plus_sum, squares_around_one)
"""For the in-place check and gradient descent: a central difference of a quadratic is exact
whatever h, so a wrong h costs points once (in the values check), and the gradient is not zero
at x = 0, so a copy-perturbing numerical_gradient shows even there."""


# --- strategies --------------------------------------------------------------------------------

def numbers(limit: float) -> st.SearchStrategy:
    """A number as a student's caller may pass it: Python int, Python float or np.float64."""
    return st.one_of(st.integers(-int(limit), int(limit)), st.floats(-limit, limit),
                     st.floats(-limit, limit).map(np.float64))


def float_arrays(shape: tuple, dtype=np.float64, limit: float = 5.0) -> st.SearchStrategy[np.ndarray]:
    width = 32 if dtype is np.float32 else 64
    return arrays(dtype, shape, st.floats(-limit, limit, width=width))


@st.composite
def gradient_inputs(draw, dims: tuple = (1, 2, 3), dtypes: tuple = (np.float64,),
                    functions: tuple = MANY_VARIABLES) -> tuple:
    """(f, x, layout) for numerical_gradient: x of 1, 2 or 3 axes in a layout its perturbation
    through any view stays visible (see the module docstring)."""
    ndim = draw(st.sampled_from(dims))
    side = {1: st.integers(1, 5 if 3 in dims else 4), 2: st.integers(1, 3), 3: st.integers(1, 2)}[ndim]
    shape = tuple(draw(side) for _ in range(ndim))
    dtype = draw(st.sampled_from(dtypes))
    x = draw(float_arrays(shape, dtype, 2.0 if dtype is np.float32 else 5.0))
    layout = draw(st.sampled_from(("C", "offset", "strided") if ndim == 1 else ("C", "offset")))
    return draw(st.sampled_from(functions)), x, layout


@st.composite
def descent_inputs(draw) -> tuple:
    ndim = draw(st.sampled_from((1, 2)))
    shape = (draw(st.integers(1, 3)),) if ndim == 1 else (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    x = draw(float_arrays(shape, np.float64, 3.0))
    return (draw(st.sampled_from((sum_of_squares, squares_plus_sum, squares_around_one))), x,
            draw(st.sampled_from((0.1, 0.0, 0.01, 0.25))), draw(st.integers(0, 3)),
            draw(st.sampled_from(("keywords", "positional", "lr by position"))))


# --- numerical_diff ----------------------------------------------------------------------------

def check_diff_example(student, example) -> None:
    f, x = example
    call = _("numerical_diff(f, {x}) for {f}").format(x=repr(x), f=f.__doc__)
    inputs = {"f": f.__doc__, "x": x}
    got = call_showing_input(student.numerical_diff, f, x, call="numerical_diff(f, x)", inputs=inputs)
    expect_close_or_hint(got, ref.numerical_diff(f, x), call=call, inputs=inputs,
                         hint=lambda: diff_hint(f, float(x), got), rtol=1e-8, atol=1e-10)


@hidden(points=0.5)
def test_numerical_diff_contract(student):
    """numerical_diff is the central difference with h = 1e-4 for any number x (int, float, 0) and smooth f"""
    student = pinned(student)
    for_all(st.tuples(st.sampled_from(ONE_VARIABLE), numbers(10)),
            lambda example: check_diff_example(student, example), examples=EXAMPLES["diff"])


# --- numerical_gradient ------------------------------------------------------------------------

def _describe_x(x: np.ndarray, layout: str) -> str:
    where = "" if layout == "C" else _(", a view in {layout} memory layout").format(layout=layout)
    return _("x of shape {shape}, dtype {dtype}{where}").format(shape=x.shape, dtype=x.dtype, where=where)


def check_gradient_example(student, example) -> None:
    f, x, layout = example
    call = _("numerical_gradient(f, x) for {x}, {f}").format(x=_describe_x(x, layout), f=f.__doc__)
    inputs = {"x": x}
    got = call_showing_input(student.numerical_gradient, f, in_layout(x.copy(), layout),
                             call="numerical_gradient(f, x)", inputs={"f": f.__doc__, "x": x})
    got = as_array(got, call="numerical_gradient(f, x)")
    expect_close_or_hint(got, ref.numerical_gradient(f, x.copy()), call=call, inputs=inputs, rtol=1e-7, atol=1e-9,
                         hint=lambda: _(GRADIENT_HINT) + (" " + _("Here x has {axes} axes.").format(axes=x.ndim)
                                                          if x.ndim > 2 else ""))


@hidden(points=1)
def test_numerical_gradient_contract(student):
    """numerical_gradient matches the reference for x of 1, 2 or 3 axes, size-1 sides and non-quadratic f"""
    student = pinned(student)
    for_all(gradient_inputs(), lambda example: check_gradient_example(student, example),
            examples=EXAMPLES["gradient"])


def check_in_place_example(student, example) -> None:
    f, start, layout = example
    x = student.keep(in_layout(start.copy(), layout))

    def reads_x_through_closure(_ignored):
        return f(x.call("copy"))

    reads_x_through_closure.__doc__ = _("f(W) ignores W and reads x itself (like lambda W: net.loss(x, t)): "
                                        "{f}").format(f=f.__doc__)
    call = _("numerical_gradient(f, x) for {x}, where {f}").format(x=_describe_x(start, layout),
                                                                  f=reads_x_through_closure.__doc__)
    got = call_showing_input(student.numerical_gradient, reads_x_through_closure, x,
                             call="numerical_gradient(f, x)", inputs={"f": reads_x_through_closure.__doc__, "x": start})
    got = as_array(got, call="numerical_gradient(f, x)")
    expected = ref.numerical_gradient(f, start.copy())
    float32 = start.dtype == np.float32
    expect_close_or_hint(got, expected, call=call, inputs={"x": start}, hint=lambda: _closure_hint(start, got),
                         rtol=1e-2 if float32 else 1e-7, atol=1e-3 if float32 else 1e-9)
    after = np.asarray(x.call("copy"))
    if after.shape != start.shape or after.dtype != start.dtype or not np.array_equal(after, start):
        fail(_("after numerical_gradient(f, x) for {x}, x={start}, {change}").format(
                 x=_describe_x(start, layout), start=show(start), change=_first_change(start, after)),
             hint=_("save the element first (old = x[idx]) and put it back with x[idx] = old; computing it back "
                    "(x[idx] += h after x[idx] = old - h) does not always give the same float."))


def _first_change(start: np.ndarray, after: np.ndarray) -> str:
    """The first element numerical_gradient left changed, to all its digits (6 would hide it)."""
    if after.shape != start.shape or after.dtype != start.dtype:
        return _("x has become {after} (shape {shape}, dtype {dtype}).").format(
            after=show(after), shape=after.shape, dtype=after.dtype)
    index = tuple(int(i) for i in np.argwhere(after != start)[0])
    return _("x{index} was {old} and is now {new}: x must hold exactly its old values afterwards.").format(
        index=list(index), old=repr(start[index].item()), new=repr(after[index].item()))


def _closure_hint(start: np.ndarray, got: np.ndarray) -> str:
    if got.shape == start.shape and np.allclose(got, 0.0):
        copy_note = (" " + _("For a float32 x, np.asarray(x, dtype=float) and x.astype(float) are copies too.")
                     if start.dtype == np.float32 else "")
        return _("your gradient is all zeros for an f that reads x through a closure: change x itself "
                 "(x[idx] = old + h), not a copy of it, before calling f(x).") + copy_note
    return _("perturb x in place, one element at a time, call f(x) and put the element back.")


@hidden(points=1)
def test_numerical_gradient_in_place_contract(student):
    """numerical_gradient perturbs x itself (float64 or float32) and leaves it bit-for-bit as it was"""
    student = pinned(student)
    for_all(gradient_inputs(dims=(1, 2), dtypes=(np.float64, np.float32), functions=QUADRATIC),
            lambda example: check_in_place_example(student, example), examples=EXAMPLES["in_place"])


# --- gradient_descent --------------------------------------------------------------------------

def check_descent_example(student, example) -> None:
    f, start, lr, steps, form = example
    args, kwargs, written = {
        "keywords": ((), {"lr": lr, "step_num": steps}, f"lr={lr}, step_num={steps}"),
        "positional": ((lr, steps), {}, f"{lr}, {steps}"),
        "lr by position": ((lr,), {"step_num": steps}, f"{lr}, step_num={steps}"),
    }[form]
    call = f"gradient_descent(f, init_x, {written})"
    inputs = {"f": f.__doc__, "init_x": start}
    got = call_showing_input(student.gradient_descent, f, start.copy(), *args, call=call, inputs=inputs, **kwargs)
    expected = ref.gradient_descent(f, start.copy(), lr=lr, step_num=steps)
    expect_close_or_hint(got, expected, call=call, inputs=inputs, hint=lambda: _descent_hint(form, steps),
                         rtol=1e-6, atol=1e-9)


def _descent_hint(form: str, steps: int) -> str:
    if form != "keywords":
        return _("keep the signature gradient_descent(f, init_x, lr=0.01, step_num=100): this call passes "
                 "lr (and step_num) by position, in that order.")
    if steps == 0:
        return _("step_num=0 takes no step: return init_x's values unchanged.")
    return _("take exactly step_num steps of x -= lr * numerical_gradient(f, x) and return the final x.")


@hidden(points=0.5)
def test_gradient_descent_contract(student):
    """gradient_descent matches the reference for any lr (0 too), step_num from 0, positional or keyword calls"""
    student = pinned(student)
    for_all(descent_inputs(), lambda example: check_descent_example(student, example), examples=EXAMPLES["descent"])
