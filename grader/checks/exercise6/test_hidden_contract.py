"""Contract-wide hidden checks of exercise 6: batch normalization and dropout over generated call
sequences (a seeded scenario generator: `for_all` over a Hypothesis strategy of whole operation
lists, shrunk to the smallest failing one), and inputs left unchanged.

Input dimensions SPEC.md allows, function by function (what is generated here, and where the
rest is covered):

`BatchNormalization(gamma, beta, momentum=0.9, running_mean=None, running_var=None)`:
- gamma, beta of shape (D,), D = 1 to 4; gamma of either sign: generated. momentum 0 to 0.95
  (0: the running statistics are the last batch's): generated; given running statistics:
  test_hidden.py (test_batchnorm_starts_from_given_running_statistics).
`forward(x, train_flg)`, x of shape (N, D):
- N = 1 to 6 (N == 1: batch variance 0, x_hat = 0, out = beta; N == D coincidences), a new N
  on every call: generated.
- memory layout of x (C, Fortran, transposed, strided, offset): generated.
- values: per feature, integers times a scale of 10 to 30 plus an offset of 0, 5, -40 or 1e8
  (large offsets: a variance computed as E[x**2] - E[x]**2 loses all its digits there, the
  two-pass mean((x - mu)**2) keeps them): generated. Every feature of a batch with N >= 2 has a
  variance of at least 13.9 (see TOLERANCES). Features whose variance is near eps:
  test_hidden.py (near-constant features).
- call sequences: training and test passes interleaved in any order, test mode BEFORE any
  training (running statistics start at zeros: out = gamma * x / sqrt(eps) + beta), backward
  after a training pass, backward twice: generated. backward after a TEST pass is not generated
  (SPEC does not say whether it differentiates the test pass or the last training pass).
- x left unchanged by forward, in training and at test time (x kept in the student's process and
  read back): test_forward_leaves_x_unchanged, for Dropout too. dout left unchanged by backward
  is NOT checked: SPEC says nothing about it (noted for the lead).
`backward(dout)`, dout of shape (N, D) in any layout: dx, dgamma, dbeta against the reference
  backward of the same training pass (the reference's backward is checked against central
  differences in tests/test_exercise6.py): generated.

`Dropout(dropout_ratio=0.5)`:
- dropout_ratio 0, 0.2, 0.5 or 0.8: generated; default: test_hidden.py.
`forward(x, train_flg)`: x of ANY shape (SPEC, the stub: "x of any shape"), 1-D to 4-D with
  sides 1 to 4, in any memory layout, elements nonzero (so a dropped unit shows as 0):
  generated. Either convention: in training every unit is 0 or x times ONE scale s per call;
  at test time x times c with c == (1 - dropout_ratio) * s, the expected training output (before
  any training pass, c == 1 - dropout_ratio or c == 1). Left unchanged: x (see below).
  The fraction dropped and the newness of each mask: test_public.py (they need 10,000 units).
`backward(dout)`, dout in any layout, right after a training forward or after another backward:
  dout times exactly the mask and scale of the last training forward: generated. backward after
  a test pass is not generated (train -> test -> backward is ambiguous in SPEC).

`xavier_std(n_in)`, `he_std(n_in)`: n_in a positive int; test_public.py checks 1, 50, 100, 784
  (the formulas have no other dimension to vary).

TOLERANCES: SPEC lets eps be anything in [1e-8, 1e-5]. Training outputs and gradients are
compared with the reference (eps 1e-7) where every feature's variance is 0 (N == 1: x_hat = 0
and dx = 0 whatever eps) or at least 13.9, so eps moves x_hat by at most 4e-7 relative. dx is a
sum of terms of size |gamma * dout| / std that can cancel to almost nothing (for N == 2 always:
x_hat is +-1 whatever x), and what is left depends on eps; so every element is judged on the
scale of those terms: allowed |got - expected| <= 1e-4 * (largest |gamma * dout| / std), and
likewise 1e-4 * sum|dout| * max|x_hat| for dgamma and dbeta, 1e-4 * max|gamma| * max|x_hat| for
the outputs (OUT_RTOL = GRAD_TOL = 1e-4, 150 times eps's largest effect). Test-mode outputs
depend on eps where the running variance is small (before training, or after N == 1 batches
only), so a test output must lie between the outputs with eps = 1e-8 and eps = 1e-5 (within the
same tolerance).
Dropout is judged by exact relations (rtol 1e-9), whatever generator the student uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from grader.checks.api import as_array, fail, hidden, show
from grader.checks.translated import N_, _, english_of as english, join
from grader.checks.contract import arrays, built_once, for_all, in_layout, layouts, shapes
from grader.checks.exercise6.support import EPS_RANGE, GRAD_TOL, seed_students_generator
from grader.sandbox.errors import StudentRaised
from reference.exercise6 import batchnorm as ref

OUT_RTOL = 1e-4
"""Training and test outputs: allowed error relative to their scale (see TOLERANCES)."""
GRAD_ATOL = 1e-9
"""Absolute slack on gradients that are exactly 0 in the reference (N == 1)."""
EXACT = 1e-9
"""Dropout's relations (mask and scale) are exact up to rounding."""
MOMENTA = (0.9, 0.0, 0.5, 0.95)
OFFSETS = (0.0, 5.0, -40.0, 1e8)
FEATURE_SCALES = st.sampled_from((10.0, 30.0, 17.0))
GAMMAS = st.sampled_from((1.0, 1.5, -0.7, 2.0))
BETAS = st.sampled_from((0.0, 0.3, -1.0))
RATIOS = (0.5, 0.0, 0.2, 0.8)


# -- batch normalization scenarios ------------------------------------------------------------------

@dataclass(frozen=True)
class BNScenario:
    gamma: np.ndarray
    beta: np.ndarray
    momentum: float
    ops: list   # ("train" | "test", x, layout) or ("backward", dout, layout)

    def made(self) -> str:
        return (f"BatchNormalization(gamma={show(self.gamma)}, beta={show(self.beta)}, "
                f"momentum={self.momentum})")

    def describe(self, upto: int | None = None) -> str:
        ops = self.ops if upto is None else self.ops[:upto]
        names, forwards = [], 0
        for kind, data, _layout in ops:
            forwards += kind != "backward"
            names.append("backward(dout)" if kind == "backward" else
                         _("forward(x{number} of shape {shape}, train_flg={train})").format(
                             number=forwards, shape=data.shape, train=kind == "train"))
        return _("{layer}, then {calls}").format(layer=self.made(), calls=join(" -> ", names))


@built_once
def bn_batches(d: int, offsets: tuple) -> st.SearchStrategy[np.ndarray]:
    """x of shape (N, D): integers 0..3 (row 0: 4..7, so no feature of a batch with N >= 2 is
    constant) times 10 to 30, plus a per-feature offset."""
    return st.integers(1, 6).flatmap(lambda n: bn_batch(n, d, offsets))


@built_once
def bn_batch(n: int, d: int, offsets: tuple) -> st.SearchStrategy[np.ndarray]:
    base = arrays(np.int64, (n, d), st.integers(0, 3))
    scale = arrays(np.float64, (d,), FEATURE_SCALES)
    return st.builds(lambda b, s: (b + 4 * (np.arange(n) == 0)[:, None]) * s + np.asarray(offsets), base, scale)


BN_SEGMENTS = (("train", "backward"), ("test",), ("train",), ("train", "backward", "backward"))
"""Pieces of a call sequence; backward comes only right after a training pass or another backward
(see the module docstring). Every sequence starts with a test pass and a training pass and ends
with a training pass and two backward calls (so a test pass before training, a new batch size
and a repeated backward are in every example), with at most one of these pieces in between."""


@st.composite
def bn_scenarios(draw) -> BNScenario:
    d = draw(st.integers(1, 4))
    gamma = draw(arrays(np.float64, (d,), GAMMAS))
    beta = draw(arrays(np.float64, (d,), BETAS))
    offsets = tuple(draw(st.sampled_from(OFFSETS)) for _feature in range(d))
    segments = draw(st.lists(st.sampled_from(BN_SEGMENTS), max_size=1))
    kinds = ["test", "train"] + [kind for segment in segments for kind in segment] + ["train", "backward", "backward"]
    ops, n = [], None
    for kind in kinds:
        if kind == "backward":
            dout = draw(arrays(np.float64, (n, d), st.floats(-2, 2)))
            ops.append(("backward", dout, draw(layouts())))
            continue
        x = draw(bn_batches(d, offsets))
        n = x.shape[0]
        ops.append((kind, x, draw(layouts())))
    return BNScenario(gamma, beta, draw(st.sampled_from(MOMENTA)), ops)


def bounds_at_test_time(layer: ref.BatchNormalization, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The test-mode outputs with the smallest and the largest eps SPEC allows."""
    zeros = np.zeros(x.shape[1])
    mean = zeros if layer.running_mean is None else layer.running_mean
    var = zeros if layer.running_var is None else layer.running_var
    outs = [layer.gamma * (x - mean) / np.sqrt(var + eps) + layer.beta for eps in EPS_RANGE]
    return np.minimum(*outs), np.maximum(*outs)


def close_on_scale(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float = 0.0) -> bool:
    """Every element within rtol of the array's largest element (plus atol)."""
    if got.shape != expected.shape or not np.all(np.isfinite(got)):
        return False
    return bool(np.all(np.abs(got - expected) <= rtol * np.max(np.abs(expected), initial=0.0) + atol))


def one_pass_output(sc: BNScenario, x: np.ndarray) -> np.ndarray:
    """A training output whose variance is E[x**2] - E[x]**2 (the mistake the hint names)."""
    mu = x.mean(axis=0)
    var = np.mean(x ** 2, axis=0) - mu ** 2
    with np.errstate(all="ignore"):
        return sc.gamma * (x - mu) / np.sqrt(var + ref.EPS) + sc.beta


def backward_with_batch_size(layer: ref.BatchNormalization, dout: np.ndarray, n: int) -> np.ndarray:
    """The reference backward of the last batch, with the batch size `n` instead of its own."""
    saved = layer.batch_size
    layer.batch_size = n
    try:
        return layer.backward(dout)
    finally:
        layer.batch_size = saved


def run_bn(student, sc: BNScenario) -> None:
    layer = ref.BatchNormalization(sc.gamma.copy(), sc.beta.copy(), momentum=sc.momentum)
    bn = student.call("BatchNormalization", sc.gamma.copy(), sc.beta.copy(), momentum=sc.momentum)
    trained, first_n, sums = False, None, {"dgamma": 0.0, "dbeta": 0.0}
    for i, (kind, data, layout) in enumerate(sc.ops):
        where = sc.describe(i + 1)
        if kind == "backward":
            expect_bn_backward(bn, layer, data, layout, where, first_n, sums)
            continue
        if kind == "test":
            bounds = bounds_at_test_time(layer, data)
            out = bn_call(bn, "forward", data, layout, False, where=where, before_training=not trained)
            expect_test_output(out, bounds, data, where, trained)
            continue
        expected = layer.forward(data, True)
        out = bn_call(bn, "forward", data, layout, True, where=where, before_training=False)
        trained, first_n = True, first_n or data.shape[0]
        if not close_on_scale(out, expected, OUT_RTOL, OUT_RTOL * np.max(np.abs(sc.gamma)) * np.max(np.abs(layer.xn))
                              + 1e-9):
            hint = _("x_hat = (x - mu) / sqrt(var + eps) with mu and var the mean and biased variance of THIS batch "
                     "(axis 0), then gamma * x_hat + beta — on every call, whatever its batch size.")
            if close_on_scale(out, one_pass_output(sc, data), OUT_RTOL, 1e-9):
                hint = _("your variance is E[x**2] - E[x]**2: with large values (here an offset of 1e8) both terms "
                         "are about 1e16 and their difference keeps no correct digit. Compute it from the centred "
                         "x: var = np.mean((x - mu)**2, axis=0), or np.var(x, axis=0).")
            fail(_("{where}: the last training forward returned {got}; expected {expected}. Input: x={x} "
                   "(x - its column means: {centred}).").format(where=where, got=show(out, 200),
                                                                expected=show(expected, 200), x=show(data, 200),
                                                                centred=show(data - data.mean(axis=0), 200)),
                 hint=hint, call="BatchNormalization.forward(x, train_flg=True)",
                 inputs=f"x={show(data, 200)}", expected=show(expected, 200), got=show(out, 200))


def bn_call(bn, method: str, data, layout, *args, where: str, before_training: bool) -> np.ndarray:
    try:
        got = as_array(bn.call(method, in_layout(data, layout), *args), call=f"BatchNormalization.{method}")
    except StudentRaised as exc:
        if not before_training or exc.not_implemented:
            exc.label = f"{exc.label}, in {english(where)},"  # in English, like every call (results.cause_key)
            raise
        fail(_("{where}: {error}").format(where=where, error=exc.student_message()),
             hint=_("test mode may come before any training (evaluating a new network): the running statistics "
                    "start as zeros of shape (D,), so create them before the `if train_flg` branch (or in __init__ "
                    "when D is known) — test mode then returns gamma * x / sqrt(eps) + beta."),
             call="BatchNormalization.forward(x, train_flg=False)", inputs=f"x={show(data, 200)}")
    if got.shape != np.shape(data):
        fail(_("{where}: {method} returned shape {shape}; expected {expected}.").format(
                 where=where, method=method, shape=got.shape, expected=np.shape(data)),
             hint=_("forward returns an array shaped like x, backward one shaped like dout."))
    return got


def expect_test_output(out, bounds, x, where: str, trained: bool) -> None:
    low, high = bounds
    slack = OUT_RTOL * np.max(np.abs(high), initial=0.0) + 1e-9
    if np.all(np.isfinite(out)) and np.all(out >= low - slack) and np.all(out <= high + slack):
        return
    when = "" if trained else _(" before any training (running statistics still zeros)")
    fail(_("{where}: the test-mode forward{when} returned {got}; with an eps between 1e-8 and 1e-5 it must lie "
           "between {low} and {high}. Input: x={x}.").format(where=where, when=when, got=show(out, 200),
                                                             low=show(low, 200), high=show(high, 200), x=show(x, 200)),
         hint=_("at test time: gamma * (x - running_mean) / sqrt(running_var + eps) + beta, with the running "
                "statistics of every training pass so far (zeros before the first one) — and test mode leaves them "
                "unchanged."), call="BatchNormalization.forward(x, train_flg=False)", inputs=f"x={show(x, 200)}",
         expected=_("between {low} and {high}").format(low=show(low, 200), high=show(high, 200)), got=show(out, 200))


def expect_bn_backward(bn, layer, dout, layout, where: str, first_n: int, sums: dict) -> None:
    expected_dx = layer.backward(dout)
    dx = bn_call(bn, "backward", dout, layout, where=where, before_training=False)
    n = dout.shape[0]
    # dx's terms are of size |gamma * dout| / std; they can cancel to almost 0 (always for N == 2), and
    # what is left then depends on eps: judge dx on the scale of its terms (see TOLERANCES).
    term = np.max(np.abs(layer.gamma * dout) / layer.std, initial=0.0)
    if not close_on_scale(dx, expected_dx, GRAD_TOL, GRAD_TOL * term + GRAD_ATOL):
        hint = _("dx of THIS batch: backpropagate through x_hat with the batch size, x_hat and std saved by the last "
                 "training forward call.")
        if n != first_n and close_on_scale(dx, backward_with_batch_size(layer, dout, first_n), GRAD_TOL,
                                           GRAD_TOL * term + GRAD_ATOL):
            hint = _("your backward used the batch size of the FIRST batch ({first}), not that of the last training "
                     "batch ({last}): save N = x.shape[0] on every training forward call (the last batch of an epoch "
                     "is often smaller).").format(first=first_n, last=n)
        fail(_("{where}: backward returned dx={got}; expected {expected} (tolerance {tolerance} of its largest "
               "element). Inputs: dout={dout}.").format(where=where, got=show(dx, 200), expected=show(expected_dx, 200),
                                                        tolerance=f"{GRAD_TOL:g}", dout=show(dout, 200)), hint=hint,
             call="BatchNormalization.backward(dout)", inputs=f"dout={show(dout, 200)}",
             expected=show(expected_dx, 200), got=show(dx, 200))
    sum_scale = GRAD_TOL * np.sum(np.abs(dout)) * max(1.0, np.max(np.abs(layer.xn))) + GRAD_ATOL
    for name, expected in (("dgamma", layer.dgamma), ("dbeta", layer.dbeta)):
        got = as_array(getattr(bn, name), call=f"self.{name} after backward(dout)")
        sums[name] = sums[name] + expected
        if close_on_scale(got, expected, GRAD_TOL, sum_scale):
            continue
        hint = _("{name} is the gradient of this backward call alone: {name} = np.sum(..., axis=0).").format(name=name)
        if not np.array_equal(sums[name], expected) and close_on_scale(got, sums[name], GRAD_TOL, sum_scale):
            # the sum of every backward call's gradient so far: `self.dgamma += ...`
            hint = _("self.{name} holds the SUM over several backward calls: set it (self.{name} = ...) in every "
                     "backward call; do not accumulate it with +=.").format(name=name)
        fail(_("{where}: self.{name} = {got}; expected {expected}.").format(where=where, name=name, got=show(got),
                                                                             expected=show(expected)), hint=hint,
             call="BatchNormalization.backward(dout)", expected=show(expected), got=show(got))


# -- dropout scenarios ------------------------------------------------------------------------------

NONZERO = st.one_of(st.floats(0.5, 2.0), st.floats(-2.0, -0.5))


@st.composite
def dropout_scenarios(draw) -> tuple:
    ratio = draw(st.sampled_from(RATIOS))
    shape = draw(shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    middle = draw(st.lists(st.sampled_from(("train", "test", "backward")), max_size=2))
    kinds = ["test"] + middle + ["train", "backward"]   # test before any training, and backward, every time
    ops, last_forward = [], None
    for kind in kinds:
        if kind == "backward" and last_forward != "train" and not (ops and ops[-1][0] == "backward"):
            kind = "train"
        if kind != "backward":
            last_forward = kind
        ops.append((kind, draw(arrays(np.float64, shape, NONZERO)), draw(layouts())))
    return ratio, ops


def describe_dropout(ratio, ops, upto: int) -> str:
    names = [_("forward(x of shape {shape}, train_flg={train})").format(shape=x.shape, train=kind == "train")
             if kind != "backward" else "backward(dout)" for kind, x, _layout in ops[:upto]]
    return _("{layer}, then {calls}").format(layer=f"Dropout({ratio})", calls=join(" -> ", names))


ANY_SHAPE_HINT = N_("Dropout takes x of every shape (1-D, 2-D, 4-D feature maps): draw the mask with the shape of x, "
                    "np.random.rand(*x.shape), never from x.shape[0] and x.shape[1] alone.")
EXPECTATION_HINT = N_("test mode returns the expected training output: x * (1 - dropout_ratio) for the book's dropout, "
                      "x itself for inverted dropout — a fixed number from dropout_ratio, not measured from a mask, "
                      "and available before any training pass.")


def dropout_call(layer, method, data, layout, *args, where: str, before_training: bool = False) -> np.ndarray:
    try:
        got = as_array(layer.call(method, in_layout(data, layout), *args), call=f"Dropout.{method}")
    except StudentRaised as exc:
        if exc.not_implemented:
            raise
        if before_training:
            fail(_("{where}: {error}").format(where=where, error=exc.student_message()), hint=_(EXPECTATION_HINT),
                 call=f"Dropout.{method}", inputs=_("x of shape {shape}").format(shape=data.shape))
        if data.ndim != 2:
            fail(_("{where}: {error}").format(where=where, error=exc.student_message()), hint=_(ANY_SHAPE_HINT),
                 call=f"Dropout.{method}", inputs=_("x of shape {shape}").format(shape=data.shape))
        exc.label = f"{exc.label}, in {english(where)},"  # in English, like every call (results.cause_key)
        raise
    if got.shape != data.shape:
        fail(_("{where}: {method} returned shape {shape} for an input of shape {input}.").format(
                 where=where, method=method, shape=got.shape, input=data.shape),
             hint=_(ANY_SHAPE_HINT) if data.ndim != 2 else _("the output has the shape of the input."),
             call=f"Dropout.{method}", inputs=_("x of shape {shape}").format(shape=data.shape),
             expected=_("shape {shape}").format(shape=data.shape), got=_("shape {shape}").format(shape=got.shape))
    return got


def run_dropout(student, scenario) -> None:
    ratio, ops = scenario
    seed_students_generator(student, 1)
    layer = student.call("Dropout", ratio)
    scale, last = None, None   # the training scale seen so far; (kept mask, scale) of the last training pass
    for i, (kind, data, layout) in enumerate(ops):
        where = describe_dropout(ratio, ops, i + 1)
        if kind == "backward":
            dx = dropout_call(layer, "backward", data, layout, where=where)
            expected = data * last[0] * (last[1] or 0.0)
            if not np.allclose(dx, expected, rtol=EXACT, atol=1e-12):
                fail(_("{where}: backward returned {got}; the last training forward kept {mask} (scale {scale}), so "
                       "dx should be {expected}.").format(where=where, got=show(dx, 200),
                                                           mask=show(last[0].astype(int), 200),
                                                           scale=f"{last[1] or 0:.6g}", expected=show(expected, 200)),
                     hint=_("backward multiplies dout by exactly what forward multiplied x by: the mask of the LAST "
                            "training forward call and its scale (1, or 1 / (1 - dropout_ratio))."),
                     call="Dropout.backward(dout)", expected=show(expected, 200), got=show(dx, 200))
            continue
        out = dropout_call(layer, "forward", data, layout, kind == "train", where=where,
                           before_training=kind == "test" and last is None)
        factors = out / data
        if kind == "train":
            kept = out != 0
            call_scale = float(np.median(factors[kept])) if kept.any() else None
            if call_scale is not None and not np.allclose(factors[kept], call_scale, rtol=EXACT):
                fail(_("{where}: the training forward multiplied the kept units by different factors: {factors} for "
                       "x={x}.").format(where=where, factors=show(factors, 200), x=show(data, 200)),
                     hint=_("multiply x by the 0/1 mask (and, for inverted dropout, one constant 1 / (1 - ratio))."),
                     call="Dropout.forward(x, train_flg=True)")
            if ratio == 0 and not kept.all():
                fail(_("{where}: Dropout(0) dropped units in training: {out} for x={x}.").format(
                         where=where, out=show(out, 200), x=show(data, 200)),
                     hint=_("a unit is dropped with probability dropout_ratio: with 0, none is."))
            scale = scale or call_scale
            last = (kept, call_scale)
            continue
        expect_dropout_test(where, ratio, data, out, factors, scale)


def expect_dropout_test(where, ratio, x, out, factors, scale) -> None:
    c = float(factors.reshape(-1)[0])
    allowed = [(1 - ratio) * scale] if scale is not None else [1 - ratio, 1.0]
    if np.allclose(factors, c, rtol=EXACT) and any(np.isclose(c, a, rtol=EXACT) for a in allowed):
        return
    expected = (_("(1 - dropout_ratio) times your training scale {scale}, i.e. {product}").format(
        scale=f"{scale:.6g}", product=f"{allowed[0]:.6g}") if scale is not None else _("1 - dropout_ratio or 1"))
    fail(_("{where}: the test-mode forward returned {got} for x={x}: x times {factors}; it should be x times "
           "{expected}, the expected training output.").format(where=where, got=show(out, 200), x=show(x, 200),
                                                               factors=show(factors, 120), expected=expected),
         hint=_(EXPECTATION_HINT), call="Dropout.forward(x, train_flg=False)", got=show(out, 200))


# -- inputs left unchanged --------------------------------------------------------------------------

@st.composite
def unchanged_cases(draw) -> tuple:
    d = draw(st.integers(1, 4))
    x = draw(bn_batches(d, (5.0,) * d))
    return x, draw(layouts())


UNCHANGED_CALLS = (("BatchNormalization", True), ("BatchNormalization", False), ("Dropout", True), ("Dropout", False))


def forward_changes_x(student, x, layout, calls) -> np.ndarray | None:
    """x as it is after the forward calls `calls` on one kept copy of it; None if unchanged."""
    d = x.shape[1]
    layers = {name: student.call(name, *((np.ones(d), np.zeros(d)) if name == "BatchNormalization" else (0.5,)))
              for name in {name for name, _train in calls}}
    kept = student.keep(in_layout(x, layout))
    for name, train in calls:
        layers[name].call("forward", kept, train)
    after = as_array(kept.call("copy"), call="x after forward")
    return None if np.array_equal(after, x) else after


def expect_x_unchanged(student, case) -> None:
    x, layout = case
    seed_students_generator(student, 2)
    if forward_changes_x(student, x, layout, UNCHANGED_CALLS) is None:
        return
    for name, train in UNCHANGED_CALLS:  # which call changed it
        after = forward_changes_x(student, x, layout, [(name, train)])
        if after is not None:
            fail(_("{name}(...).forward(x, train_flg={train}) changed the caller's x: x was {x}, after the call it "
                   "is {after}.").format(name=name, train=train, x=show(x, 200), after=show(after, 200)),
                 hint=_("forward must return a new array and leave x as it was (the layer below may still use it, "
                        "e.g. Sigmoid saves its output for backward): write xc = x - mu, out = x * mask, not "
                        "x -= mu or x *= mask."), call=f"{name}.forward", inputs=f"x={show(x, 200)}")


# -- the checks --------------------------------------------------------------------------------------

@hidden(points=1)
def test_batchnorm_any_call_sequence(student):
    """BatchNormalization over generated call sequences: training and test passes in any order (test first
    too), a new batch size on every call (N = 1 included), backward once or twice, large offsets, any layout"""
    for_all(bn_scenarios(), lambda sc: run_bn(student, sc), examples=4)


@hidden(points=1)
def test_dropout_any_shape_and_call_sequence(student):
    """Dropout on x of any shape and layout over generated call sequences: one scale per training pass, test output
    equal to the expected training output (test first too), backward with the last training pass's mask"""
    for_all(dropout_scenarios(), lambda sc: run_dropout(student, sc), examples=4)


@hidden(points=0.5)
def test_forward_leaves_x_unchanged(student):
    """BatchNormalization.forward and Dropout.forward, in training and at test time, leave the caller's x unchanged"""
    for_all(unchanged_cases(), lambda case: expect_x_unchanged(student, case), examples=2)
