"""Contract-wide hidden checks of exercise 1 (issue 17): each function compared with the reference
on inputs drawn by Hypothesis over everything SPEC.md allows, shrunk to the smallest failing one.

Input dimensions covered, function by function (from SPEC.md, the stub's docstrings and the book):

softmax(x)
- shapes: (C,) and (N, C), sides 1 to 5: C == 1, N == 1, N == C and N != C all occur;
- dtypes: float64, float32, int64 (the book's np.array([1010, 1000, 990]) is an integer array);
- layouts: C, F, transposed, strided (a view of every other column), offset (codec.LAYOUTS);
- values: anywhere in [-1e4, 1e4] (SPEC: finite for inputs as large as +-1e4), so 1-D and 2-D
  rows whose exp overflows or underflows without the max shift, ties, zeros.
sum_squares_error(y, t)
- shapes: (C,) and (N, C), sides 1 to 5 (C == 1, N == 1, N == C);
- dtypes: y float64 or float32; t one-hot as float64 or int64 (the book's t is a list of ints);
- layouts of y and t, each independently;
- values: y in [-10, 10] (a network's output, not only probabilities); any label set.
cross_entropy_error(y, t), one-hot t
- shapes: y (C,) or (N, C) with C >= 2 (see C == 1 below), N from 1 to 5 (N == 1, N == C);
- dtypes: y float64 or float32; t float64 or int64;
- layouts of y and t, each independently;
- values: y rows of probabilities in [0, 1] summing to 1, with exact zeros, also at the label
  (SPEC: finite when y[label] == 0); any label set (all equal, only some classes).
cross_entropy_error(y, t), integer labels
- forms: t of shape (N,) for y (N, C); one numpy integer scalar for y (C,);
- label dtypes: int64, int32, uint8 (MNIST's labels are uint8), for arrays and scalars alike;
- label sets: any values in 0..C-1, in any order, repeated, only 0s and 1s, one class only;
- shapes, y dtypes, y layouts and y values as for one-hot t.

Not generated, because SPEC.md leaves them open (the lead decides; every reading is accepted):
- cross_entropy_error with C == 1: the book's own code (`if t.size == y.size: t = t.argmax(axis=1)`)
  cannot tell (N,) labels from one-hot when C == 1, and tests/cases/exercise1/ok_imports_and_helpers
  reads a (N, 1) one-hot t as labels 1;
- integer labels of another form (Python int, a (1,) array for 1-D y, float labels), bool one-hot.

Tolerances: float64 results within rtol 1e-6 (atol 1e-10 for softmax, 1e-9 for the losses);
float32 inputs within rtol 1e-5 plus, for softmax, 8 float32 epsilons per unit of the largest
|x| (x - max(x) rounds to about that), atol 1e-6.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from grader.checks.api import hidden
from grader.checks.contract import (arrays, call_showing_input, expect_close_or_hint, for_all, in_layout, layouts,
                                     pinned)
from grader.checks.exercise1.support import loss_hint, softmax_hint
from grader.checks.translated import _
from reference.exercise1 import losses as ref

EPS32 = float(np.finfo(np.float32).eps)
EXAMPLES = {"softmax": 10, "sse": 6, "one_hot": 6, "one label": 6, "labels": 8}
"""Examples per check: about 35 calls into the student's process, within the +50 % of warm
grading time issue 17 allows (tests/test_exercise1.py checks that they reach every dimension)."""
SCORE_LIMIT = 1e4
"""SPEC.md: softmax must stay finite for inputs as large as +-1e4."""


# --- strategies ------------------------------------------------------------------------------

SHAPE_KINDS = ("vector", "one row", "one column", "batch")
ZERO_OR_UNIT = st.just(0.0) | st.floats(0.0, 1.0)
"""Elements of a probability row before it is normalised: exact zeros often."""


def kind_shapes(kinds: tuple = SHAPE_KINDS, min_classes: int = 1) -> st.SearchStrategy[tuple]:
    """Shapes of every kind named, so that few examples still reach each: (C,), (1, C), (N, 1)
    and (N, C) with N, C >= 2 (N == C among them); sides up to 5."""
    side = st.integers(2, 5)
    classes = st.integers(min_classes, 5)
    by_kind = {"vector": st.tuples(classes), "one row": st.tuples(st.just(1), classes),
               "one column": st.tuples(side, st.just(1)), "batch": st.tuples(side, side)}
    return st.sampled_from(kinds).flatmap(lambda kind: by_kind[kind])


@st.composite
def scores(draw) -> tuple[np.ndarray, str]:
    """softmax's input: (C,) or (N, C) scores of any dtype SPEC.md allows, and a layout. Scores
    within +-10 or within +-1e4 (integer scores spread by 1e4 give one-hot rows, which hide
    mistakes that small scores show)."""
    shape = draw(kind_shapes())
    dtype = draw(st.sampled_from([np.float64, np.int64, np.float32]))
    limit = draw(st.sampled_from([10.0, SCORE_LIMIT]))
    if dtype is np.int64:
        elements = st.integers(-int(limit), int(limit))
    else:
        elements = st.floats(-limit, limit, width=64 if dtype is np.float64 else 32)
    return draw(arrays(dtype, shape, elements)), draw(layouts())


@st.composite
def outputs_and_one_hot(draw) -> tuple[np.ndarray, np.ndarray, str, str]:
    """sum_squares_error's inputs: y any values, t one-hot of y's shape (C == 1 allowed)."""
    shape = draw(kind_shapes())
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    y = draw(arrays(dtype, shape, st.floats(-10, 10, width=64 if dtype is np.float64 else 32)))
    labels = draw(_labels(shape))
    t = np.eye(shape[-1], dtype=draw(st.sampled_from([np.float64, np.int64])))[labels]
    return y, t, draw(layouts()), draw(layouts())


def _labels(shape: tuple) -> st.SearchStrategy:
    """One label per row of a y of `shape` (an int for 1-D y), any values in 0..C-1."""
    one = st.integers(0, shape[-1] - 1)
    return one if len(shape) == 1 else arrays(np.int64, shape[:1], one)


@st.composite
def probabilities(draw, kinds: tuple = ("vector", "one row", "batch")) -> np.ndarray:
    """y for the cross-entropy: (C,) or (N, C) rows in [0, 1] summing to 1, C >= 2, exact zeros."""
    shape = draw(kind_shapes(kinds, min_classes=2))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    raw = draw(arrays(np.float64, shape, ZERO_OR_UNIT))
    sums = raw.sum(axis=-1, keepdims=True)
    rows = np.where(sums > 0, raw / np.where(sums > 0, sums, 1.0), 1.0 / shape[-1])
    return rows.astype(dtype)


@st.composite
def one_hot_targets(draw) -> tuple[np.ndarray, np.ndarray, str, str]:
    y = draw(probabilities())
    labels = draw(_labels(y.shape))
    t = np.eye(y.shape[-1], dtype=draw(st.sampled_from([np.float64, np.int64])))[labels]
    return y, t, draw(layouts()), draw(layouts())


@st.composite
def label_targets(draw, kinds: tuple) -> tuple[np.ndarray, object, str]:
    """y and integer labels: (N,) for 2-D y, one numpy integer scalar for 1-D y."""
    y = draw(probabilities(kinds))
    dtype = draw(st.sampled_from([np.int64, np.int32, np.uint8]))
    labels = draw(_labels(y.shape))
    t = dtype(labels) if y.ndim == 1 else np.asarray(labels, dtype=dtype)
    return y, t, draw(layouts())


# --- softmax ---------------------------------------------------------------------------------

def _layout_note(layout: str) -> str:
    return "" if layout == "C" else _(", in {layout} memory layout").format(layout=layout)


def _float32_rtol(*arrays: np.ndarray) -> float:
    """float32 arithmetic on these inputs is good to about this relative error."""
    largest = max((float(np.max(np.abs(a))) for a in arrays if a.size), default=0.0)
    return 1e-5 + 8 * EPS32 * largest


def _raw(got) -> np.ndarray | None:
    return got if isinstance(got, np.ndarray) else None


def _integer_hint(x: np.ndarray, got) -> str:
    if np.issubdtype(x.dtype, np.integer) and got is not None and np.issubdtype(got.dtype, np.integer):
        return _("x holds integer scores (dtype {x_dtype}) and your result has dtype {got_dtype}: probabilities are "
                 "fractions, so build the result in floats (np.zeros_like(x) or np.empty_like(x) keep x's "
                 "integer dtype; use np.zeros(x.shape) or x.astype(float)).").format(x_dtype=x.dtype,
                                                                                      got_dtype=got.dtype)
    return ""


def check_softmax_example(student, example: tuple[np.ndarray, str]) -> None:
    x, layout = example
    call = _("softmax(x) for x of shape {shape}, dtype {dtype}{layout}").format(
        shape=x.shape, dtype=x.dtype, layout=_layout_note(layout))
    got = call_showing_input(student.softmax, in_layout(x, layout), call="softmax(x)", inputs={"x": x})
    float32 = x.dtype == np.float32
    expect_close_or_hint(got, ref.softmax(x), call=call, inputs={"x": x}, hint=lambda: _softmax_hint(x, got),
                         rtol=_float32_rtol(x) if float32 else 1e-6, atol=1e-6 if float32 else 1e-10)


def _softmax_hint(x: np.ndarray, got) -> str:
    hint = _integer_hint(x, _raw(got)) or (softmax_hint(x, got) if _raw(got) is not None else "")
    return hint or _("subtract each row's maximum (axis=-1, keepdims=True), exponentiate, divide by the row sum.")


@hidden(points=1)
def test_softmax_contract(student):
    """softmax matches the reference for every shape, dtype, memory layout and score up to ±1e4"""
    student = pinned(student)
    for_all(scores(), lambda example: check_softmax_example(student, example), examples=EXAMPLES["softmax"])


# --- sum_squares_error -----------------------------------------------------------------------

def _shape_note(y: np.ndarray) -> str:
    if y.ndim == 2 and 1 in y.shape:
        return " " + _("y has shape {shape}: a batch of {rows} row(s) of {classes} class(es); keep both "
                       "axes (no np.squeeze) and average over the rows.").format(
            shape=y.shape, rows=y.shape[0], classes=y.shape[1])
    return ""


def check_sse_example(student, example) -> None:
    y, t, y_layout, t_layout = example
    call = _("sum_squares_error(y, t) for y of shape {shape}, dtype {y_dtype}{y_layout}, "
             "t one-hot of dtype {t_dtype}{t_layout}").format(shape=y.shape, y_dtype=y.dtype,
                                                               y_layout=_layout_note(y_layout), t_dtype=t.dtype,
                                                               t_layout=_layout_note(t_layout))
    inputs = {"y": y, "t": t}
    got = call_showing_input(student.sum_squares_error, in_layout(y, y_layout), in_layout(t, t_layout),
                             call="sum_squares_error(y, t)", inputs=inputs)
    expected = ref.sum_squares_error(y, t)
    batch = y.shape[0] if y.ndim == 2 else 1
    default = _("the 1-D value is 0.5 * np.sum((y - t)**2); for y of shape (N, C) divide by the batch size "
                "N = y.shape[0].")
    expect_close_or_hint(got, expected, call=call, inputs=inputs,
                         hint=lambda: loss_hint(got, float(expected), batch, default) + _shape_note(y),
                         rtol=_float32_rtol(y) if y.dtype == np.float32 else 1e-6, atol=1e-9)


@hidden(points=0.5)
def test_sum_squares_error_contract(student):
    """sum_squares_error matches the reference for every shape (C == 1, N == 1), dtype and layout"""
    student = pinned(student)
    for_all(outputs_and_one_hot(), lambda example: check_sse_example(student, example), examples=EXAMPLES["sse"])


# --- cross_entropy_error ---------------------------------------------------------------------

def _cee_hint(y: np.ndarray, t, got, expected: float) -> str:
    """What about this (shrunk) input commonly goes wrong, as sentences a student can act on."""
    value = np.asarray(got, dtype=float) if isinstance(got, (float, int, np.number, np.ndarray)) else None
    if value is not None and value.size == 1 and not np.isfinite(value).all():
        return _("the result is not finite: add 1e-7 inside the log, -np.log(y[label] + 1e-7), in every branch.")
    notes = []
    t_arr = np.asarray(t)
    if t_arr.shape == y.shape:
        if np.issubdtype(t_arr.dtype, np.integer):
            notes.append(_("t is one-hot here, stored as integers (dtype {dtype}, like the book's "
                           "[0, 0, 1, ...]): tell one-hot t from labels by its shape (t.shape == y.shape), not by "
                           "its dtype or values.").format(dtype=t_arr.dtype))
    else:
        if t_arr.ndim == 0 and t_arr.dtype != np.int64:
            notes.append(_("t is one label, an np.{dtype} scalar: any numpy integer scalar (np.int64, "
                           "np.int32, np.uint8, ...) must work; test np.ndim(t) == 0 rather than a type.").format(
                dtype=t_arr.dtype))
        if y.ndim == 2 and y.shape[0] == 1:
            notes.append(_("y of shape {shape} with labels of shape (1,) is a batch of one row, not one example: "
                           "pick y[np.arange(N), t] as for any batch.").format(shape=y.shape))
        if np.all(t_arr <= 1):
            if t_arr.ndim == 0:
                notes.append(_("this label is 0 or 1, yet t holds labels, not one-hot: tell one-hot t from labels "
                               "by its shape (t.shape == y.shape), not by its values."))
            else:
                notes.append(_("these labels are only 0s and 1s, yet t holds labels, not one-hot: tell one-hot t "
                               "from labels by its shape (t.shape == y.shape), not by its values."))
    batch = y.shape[0] if y.ndim == 2 else 1
    default = _("average -log(y[label] + 1e-7) over the rows, with label = t.argmax(axis=-1) for a one-hot t.")
    general = loss_hint(got, expected, batch, default)
    return " ".join(notes + ([general] if general != default or not notes else []))


def check_cee_example(student, y: np.ndarray, t, y_layout: str, t_layout: str, t_text: str) -> None:
    call = _("cross_entropy_error(y, t) for y of shape {shape}, dtype {dtype}{layout}, t {t}").format(
        shape=y.shape, dtype=y.dtype, layout=_layout_note(y_layout), t=t_text)
    inputs = {"y": y, "t": t}
    t_arg = in_layout(t, t_layout) if isinstance(t, np.ndarray) else t
    got = call_showing_input(student.cross_entropy_error, in_layout(y, y_layout), t_arg,
                             call="cross_entropy_error(y, t)", inputs=inputs)
    expected = float(ref.cross_entropy_error(y, t))
    float32 = y.dtype == np.float32
    expect_close_or_hint(got, expected, call=call, inputs=inputs, hint=lambda: _cee_hint(y, t, got, expected),
                         rtol=1e-5 if float32 else 1e-6, atol=1e-6 if float32 else 1e-9)


def check_one_hot_example(student, example) -> None:
    y, t, y_layout, t_layout = example
    check_cee_example(student, y, t, y_layout, t_layout,
                      _("one-hot of dtype {dtype}{layout}").format(dtype=t.dtype, layout=_layout_note(t_layout)))


def check_labels_example(student, example) -> None:
    y, t, y_layout = example
    if np.ndim(t) == 0:
        form = _("= np.{dtype}({label}) (one label)").format(dtype=t.dtype, label=int(t))
    else:
        form = _("labels of shape {shape}, dtype {dtype}").format(shape=t.shape, dtype=t.dtype)
    check_cee_example(student, y, t, y_layout, "C", form)


@hidden(points=0.5)
def test_cross_entropy_one_hot_contract(student):
    """cross_entropy_error with one-hot t (floats or integers) matches the reference for every shape and layout"""
    student = pinned(student)
    for_all(one_hot_targets(), lambda example: check_one_hot_example(student, example),
            examples=EXAMPLES["one_hot"])


@hidden(points=1)
def test_cross_entropy_labels_contract(student):
    """cross_entropy_error with integer labels (int64, int32, uint8; arrays or one numpy scalar) matches the reference"""
    student = pinned(student)
    for_all(label_targets(("vector",)), lambda example: check_labels_example(student, example),
            examples=EXAMPLES["one label"])
    for_all(label_targets(("one row", "batch")), lambda example: check_labels_example(student, example),
            examples=EXAMPLES["labels"])
