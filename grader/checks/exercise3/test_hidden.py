"""Hidden checks of exercise 3: label targets, other sizes, the default weight scale, and
whether the methods follow new arrays put into net.params between calls.

Tolerances as in test_public.py (their values: support.py).
"""

from __future__ import annotations

import numpy as np

from grader.checks.api import as_float, fail, hidden, show
from grader.checks.exercise3.support import (LOSS_RTOL, STALE_HINT, WEIGHT_SIZES, Case, assign_params, call_student,
                                             case_named, check_accuracy, check_default_scale, check_gradient,
                                             check_loss, check_predict, read_params, same, student_net)
from grader.checks.translated import _
from grader.sandbox.errors import StudentRaised


@hidden(points=1)
def test_default_weight_init_std(student):
    """without weight_init_std, the weights have the scale of weight_init_std=0.01"""
    check_default_scale(student, WEIGHT_SIZES)


@hidden(points=1)
def test_predict_other_sizes(student):
    """predict for a single example and for a wider network (6-10-4, batch 1; 3-8-5, batch 12)"""
    check_predict(student, case_named("single"))
    check_predict(student, case_named("wide"))


@hidden(points=1)
def test_loss_labels(student):
    """loss accepts integer labels of shape (N,)"""
    check_loss(student, case_named("main"), "labels")


@hidden(points=1)
def test_accuracy_labels(student):
    """accuracy accepts integer labels of shape (N,)"""
    check_accuracy(student, "labels")


@hidden(points=2)
def test_gradient_backprop_labels(student):
    """gradient (backprop) with integer labels, 5-4-3 network, batch of 7"""
    check_gradient(student, case_named("labels"), "labels")


@hidden(points=2)
def test_gradient_backprop_other_sizes(student):
    """gradient (backprop) for a single example and for a wider network (6-10-4, batch 1; 3-8-5, batch 12)"""
    check_gradient(student, case_named("single"), "one-hot")
    check_gradient(student, case_named("wide"), "one-hot")


@hidden(points=2)
def test_methods_read_params_at_call_time(student):
    """predict and gradient follow new arrays put into net.params between calls"""
    first, second = case_named("first"), case_named("main")
    calls = {"predict": (second.x,), "gradient": (second.x, second.target("one-hot"))}
    fresh = student.TwoLayerNet(*second.sizes)
    assign_params(fresh, second.params)
    want = results_of(fresh, calls)
    reused = student.TwoLayerNet(*first.sizes)
    assign_params(reused, first.params)
    before = results_of(reused, calls)
    assign_params(reused, second.params)
    for method, args in calls.items():
        got = reused.call(method, *args)
        if same(got, want[method]):
            continue
        stale = same(got, before[method])
        names = ", ".join(("x", "t")[:len(args)])
        if stale:
            rationale = _("net.{method}({names}) gave another result than a new network holding the same params, and "
                          "the same as before they were replaced ({case}): the net was given one set of params, "
                          "called, then given new arrays in net.params.")
        else:
            rationale = _("net.{method}({names}) gave another result than a new network holding the same params "
                          "({case}): the net was given one set of params, called, then given new arrays in "
                          "net.params.")
        fail(rationale.format(method=method, names=names, case=second.describe()),
             hint=_(STALE_HINT) if stale else _("every method must compute from self.params as it is when called."))
    if read_params(reused) is None:
        fail(_("net.params is no longer a dict after the calls."), hint=_("keep self.params a dict of arrays."))


def results_of(net, calls: dict) -> dict:
    """What each method returns; a method that raises is left out of this check (the predict and
    gradient checks charge it), unless all of them raise."""
    results, errors = {}, []
    for method, args in calls.items():
        try:
            results[method] = net.call(method, *args)
        except StudentRaised as exc:
            errors.append(exc)
    if not results:
        raise errors[0]
    for method in set(calls) - set(results):
        del calls[method]
    return results


@hidden(points=0.5)
def test_loss_when_the_right_class_has_probability_near_zero(student):
    """loss is exercise 1's -log(y[label] + 1e-7), also when the net gives the right class a probability near 0"""
    main = case_named("main")
    params = dict(main.params, W2=main.params["W2"] * 0.1, b2=np.array([40.0, 0.0, -40.0]))
    labels = np.array([2, 2, 1, 2, 0, 2, 1])
    case = Case(main.sizes, params, main.x, labels)
    t = case.target("one-hot")
    # Only a loss that is right on ordinary inputs is judged here: any other mistake in loss
    # (or predict) costs points in the public checks, once.
    ordinary, _weights = student_net(student, main)
    try:
        usual = as_float(ordinary.call("loss", main.x, main.target("one-hot")), call="net.loss(x, t)")
    except StudentRaised as exc:
        if exc.not_implemented:
            raise
        return  # a loss that crashes on ordinary inputs fails the loss checks already
    if not np.isclose(usual, main.reference().loss(main.x, main.target("one-hot")), rtol=LOSS_RTOL, atol=1e-10):
        return
    net, _weights = student_net(student, case)
    value = as_float(call_student(net, "loss", case, case.x, t, kind="one-hot"), call="net.loss(x, t)")
    expected = case.reference().loss(case.x, t)
    if np.isclose(value, expected, rtol=LOSS_RTOL, atol=1e-10):
        return
    picked = case.reference().predict(case.x)[np.arange(len(labels)), labels]
    hint = _("the loss is exercise 1's cross-entropy, the mean of -log(y[label] + 1e-7): the 1e-7 goes inside the "
             "log, is exactly 1e-7, and caps each term near 16.1 when y[label] is close to 0.")
    if not np.isfinite(value):
        hint = _("the loss must stay finite when y[label] is 0: add 1e-7 INSIDE the log, -log(y[label] + 1e-7).")
    fail(_("net.loss(x, t) returned {got}; expected {expected} for a net that gives the right classes "
           "probabilities as small as {smallest} ({case}; labels {labels}).").format(
             got=f"{value:.6g}", expected=f"{expected:.6g}", smallest=show(np.min(picked)),
             case=case.describe("one-hot"), labels=show(labels)),
         hint=hint, expected=expected, got=value)
