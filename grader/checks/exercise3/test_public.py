"""Public checks of exercise 3: TwoLayerNet's parameters, forward pass, loss, accuracy, gradients.

The grader builds the student's network in the sandbox, puts its own parameters into it
(`net.ref("params")[key] = value`: SPEC.md says methods read self.params at call time) and
compares each result with the reference network holding the same parameters. The sizes are
all different (input 5, hidden 4, output 3, batch 7), so a wrong shape tells which array was
used where. The test networks and the helpers that name mistakes live in support.py.

predict and gradient are compared with the reference only. loss, accuracy and
numerical_gradient are thin layers over predict and loss, so they are also right when they
agree with the student's own predict (loss, accuracy) or own loss (numerical_gradient): a
mistake in the forward pass costs points on the predict checks, not on every check.

Tolerances (float64 throughout; the tests measure the margins on these very inputs):
- predict, accuracy: rtol 1e-6 (rounding is ~1e-15).
- loss: rtol 1e-5. The 1e-7 inside the log moves the loss by up to ~2e-6 relative here
  (a row's correct class has probability 0.005), and leaving it out is exercise 1's business.
- gradient: relative error 1e-6 per element against the reference's backprop, which a
  correct backprop matches to rounding (~1e-12). Not against the numerical gradient first:
  that one differentiates the loss *with* its 1e-7, which moves small entries by up to 1e-3
  relative on these inputs, so SPEC.md's "1e-6 against the numerical gradient" cannot hold
  for a correct backprop; it is the fallback (a backprop of the loss with the 1e-7 passes).
- numerical_gradient: relative error 1e-5 against the reference's numerical gradient (same
  central differences and h; a loss without the 1e-7 moves it by ~1e-6; a forward
  difference is off by 3e-5 to 4e-4), else against the reference's backprop or the central
  differences of the student's own loss.
"""

from __future__ import annotations

import numpy as np

from grader.checks.api import as_float, attach, expect_close, fail, public, show
from grader.checks.exercise3.support import (KEYS, LABELS_HINT, STALE_HINT, Case, accuracy_case, check_weights,
                                             expect_param_layout, gradient_hint, loss_hint, case_named, predict_hint,
                                             raised_hint, read_params, same, student_net, uses_initial)
from grader.checks.gradcheck import Comparison, compare
from grader.sandbox.errors import StudentRaised
from reference.exercise3 import two_layer_net as ref

GRADIENT_TOL = 1e-6
NUMERICAL_TOL = 1e-5
LOSS_RTOL = 1e-5
H = 1e-4
WEIGHT_SIZES = (400, 100, 10)
"""Large enough to measure a standard deviation: W1 holds 40,000 numbers, W2 1,000."""


def call_student(net, method: str, case: Case, *args, kind: str = ""):
    """net.method(*args); a shape error or a crash gets a hint that names the likely cause."""
    try:
        return net.call(method, *args)
    except StudentRaised as exc:
        hint = raised_hint(exc, method, kind)
        if hint:
            names = ", ".join(("x", "t")[:len(args)])
            fail(f"net.{method}({names}) raised {exc.type_name}: {exc.text} ({case.describe()}).", hint=hint,
                 error=exc.student_message())
        raise


def check_predict(student, case: Case) -> None:
    net, initial = student_net(student, case)
    got = call_student(net, "predict", case, case.x)
    expect_close(got, case.reference().predict(case.x), call=f"net.predict(x) for {case.describe()}",
                 hint=predict_hint(got, case, initial), rtol=1e-6, atol=1e-10)


def check_loss(student, case: Case, kind: str) -> None:
    """Right if it matches the reference, or the cross-entropy of the student's own predict(x):
    a mistake in the forward pass is charged by the predict checks, not a second time here.
    With labels, also right if it equals the student's own loss with the same targets one-hot."""
    net, initial = student_net(student, case)
    t = case.target(kind)
    value = as_float(call_student(net, "loss", case, case.x, t, kind=kind), call="net.loss(x, t)")
    expected = case.reference().loss(case.x, t)
    if np.isclose(value, expected, rtol=LOSS_RTOL, atol=1e-10) or same_as_one_hot(net, "loss", case, kind, value):
        return
    y = own_predict(net, case)
    with np.errstate(all="ignore"):
        own = ref.cross_entropy_error(y, t) if y is not None else None
    if own is not None and np.isclose(value, own, rtol=LOSS_RTOL, atol=1e-10):
        return
    fail(f"net.loss(x, t) returned {value:.6g}; expected {expected:.6g} ({case.describe(kind)}; t = {show(t)}).",
         hint=loss_hint(value, case, kind, initial, own), expected=expected, got=value)


def check_accuracy(student, kind: str) -> None:
    """Right if it matches the reference, or the fraction of matches of the student's own predict(x)."""
    case, right = accuracy_case(kind)
    net, initial = student_net(student, case)
    t = case.target(kind)
    got = as_float(call_student(net, "accuracy", case, case.x, t, kind=kind), call="net.accuracy(x, t)")
    expected = case.reference().accuracy(case.x, t)
    n = len(case.x)
    if np.isclose(got, expected, rtol=1e-6) or same_as_one_hot(net, "accuracy", case, kind, got):
        return
    y = own_predict(net, case)
    if y is not None and np.isclose(got, np.mean(y.argmax(axis=1) == case.labels), rtol=1e-6):
        return
    if np.isclose(got, right):
        hint = f"return the fraction of rows that are right ({right} of {n} = {expected:.4f}), not their count."
    elif uses_initial(got, initial, lambda r: r.accuracy(case.x, t)):
        hint = STALE_HINT
    elif kind == "labels":
        hint = LABELS_HINT
    else:
        hint = ("compare y.argmax(axis=1) with the labels (for one-hot t: t.argmax(axis=1)) and take the "
                "mean of the matches.")
    fail(f"net.accuracy(x, t) returned {got:.6g}; expected {expected:.6g}: {right} of the {n} rows are "
         f"classified correctly ({case.describe(kind)}; t = {show(t)}).", hint=hint, expected=expected, got=got)


def own_predict(net, case: Case) -> np.ndarray | None:
    """The student's own predict(x), if it runs and has the right shape."""
    try:
        y = np.asarray(net.predict(case.x), dtype=float)
    except (StudentRaised, TypeError, ValueError):
        return None
    return y if y.shape == (len(case.x), case.sizes[2]) else None


def same_as_one_hot(net, method: str, case: Case, kind: str, got) -> bool:
    """With labels: does the student's method give what it gives for the same targets one-hot?
    Then labels are handled right, and any other mistake is charged by the one-hot check."""
    if kind != "labels":
        return False
    try:
        return same(got, net.call(method, case.x, case.target("one-hot")))
    except StudentRaised:
        return False


def check_gradient(student, case: Case, kind: str, method: str = "gradient") -> None:
    """Compare the student's gradient dict with the reference's per parameter, and attach the table."""
    net, initial = student_net(student, case)
    t = case.target(kind)
    got = call_student(net, method, case, case.x, t, kind=kind)
    if same_as_one_hot(net, method, case, kind, got):
        return
    grads = case.expect_gradient_dict(got, f"net.{method}(x, t)")
    tol = GRADIENT_TOL if method == "gradient" else NUMERICAL_TOL
    if method == "numerical_gradient":
        case.expect_params_restored(read_params(net))
    comparisons = compare_with_reference(grads, case, t, method, tol)
    if method == "numerical_gradient" and not all(c.passed for c in comparisons):
        own = own_loss_gradient(net, case, t)
        comparisons = [better(c, compare(f"{c.name} (vs. your loss)", grads[c.name], own[c.name], tol))
                       for c in comparisons]
    attach(gradients=[c.to_row() for c in comparisons], tolerance=tol)
    bad = [c for c in comparisons if not c.passed]
    if bad:
        lines = "\n".join(f"  {c.describe()}" for c in bad)
        fail(f"net.{method}(x, t) disagrees with the reference for {', '.join(c.name for c in bad)} "
             f"({case.describe(kind)}; tolerance: relative error {tol:g}):\n{lines}",
             hint=gradient_hint(grads, case, kind, initial, method, [c.name for c in bad]))


def compare_with_reference(grads: dict, case: Case, t, method: str, tol: float) -> list[Comparison]:
    """Per key: against the reference's gradient of the same kind, else of the other kind
    (backprop against numerical is SPEC.md's own criterion, so it passes too)."""
    reference = case.reference()
    kinds = ["gradient", "numerical_gradient"] if method == "gradient" else ["numerical_gradient", "gradient"]
    first = getattr(reference, kinds[0])(case.x, t)
    comparisons = [compare(key, grads[key], first[key], tol) for key in KEYS]
    if all(c.passed for c in comparisons):
        return comparisons
    second = getattr(reference, kinds[1])(case.x, t)
    return [better(c, compare(c.name, grads[c.name], second[c.name], tol)) for c in comparisons]


def own_loss_gradient(net, case: Case, t) -> dict:
    """Central differences (h = 1e-4) of the student's own net.loss, perturbing net.params from
    here: numerical_gradient is right if it matches these, since a mistake in the loss is charged
    by the loss checks. Tiny nets only: two round trips per evaluation."""
    target = net.ref("params")
    grads = {}
    for key in KEYS:
        base = case.params[key]
        grads[key] = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            losses = []
            for step in (H, -H):
                moved = base.copy()
                moved[idx] += step
                target[key] = moved
                losses.append(as_float(net.loss(case.x, t), call="net.loss(x, t)"))
            grads[key][idx] = (losses[0] - losses[1]) / (2 * H)
        target[key] = base.copy()
    return grads


def better(first: Comparison, fallback: Comparison) -> Comparison:
    """The first comparison, unless it failed and the fallback passed."""
    return fallback if fallback.passed and not first.passed else first


@public(points=1)
def test_params_layout(student):
    """params holds W1, b1, W2, b2 with the right shapes, biases zero"""
    net = student.TwoLayerNet(5, 4, 3)
    expect_param_layout(read_params(net), (5, 4, 3), call="TwoLayerNet(5, 4, 3).params")


@public(points=1)
def test_weights_scale_with_weight_init_std(student):
    """weights are weight_init_std times standard normal numbers (weight_init_std=0.05)"""
    check_weights(student, WEIGHT_SIZES, 0.05)


@public(points=2)
def test_predict(student):
    """predict returns softmax(sigmoid(x @ W1 + b1) @ W2 + b2), one row per example"""
    check_predict(student, case_named("main"))


@public(points=1)
def test_loss_one_hot(student):
    """loss is the cross-entropy error of predict(x), with one-hot targets"""
    check_loss(student, case_named("main"), "one-hot")


@public(points=1)
def test_accuracy_one_hot(student):
    """accuracy is the fraction of rows classified correctly, with one-hot targets"""
    check_accuracy(student, "one-hot")


@public(points=1)
def test_numerical_gradient(student):
    """numerical_gradient gives central differences (h = 1e-4) of the loss, and restores params"""
    check_gradient(student, case_named("numerical"), "one-hot", method="numerical_gradient")


@public(points=3)
def test_gradient_backprop(student):
    """gradient (backprop) agrees with the loss's gradient, 5-4-3 network, batch of 7, one-hot targets"""
    check_gradient(student, case_named("main"), "one-hot")
