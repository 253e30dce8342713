"""Hidden checks of exercise 3: label targets, other sizes, the default weight scale, and
whether the methods follow new arrays put into net.params between calls.

Tolerances as in test_public.py (their values: support.py).
"""

from __future__ import annotations

from grader.checks.api import fail, hidden
from grader.checks.exercise3.support import (STALE_HINT, WEIGHT_SIZES, assign_params, case_named, check_accuracy,
                                             check_default_scale, check_gradient, check_loss, check_predict,
                                             read_params, same)
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
        fail(f"net.{method}({', '.join(('x', 't')[:len(args)])}) gave another result than a new network holding "
             f"the same params{', and the same as before they were replaced' if stale else ''} "
             f"({second.describe()}): the net was given one set of params, called, then given new arrays in "
             "net.params.", hint=STALE_HINT if stale else "every method must compute from self.params as it is when called.")
    if read_params(reused) is None:
        fail("net.params is no longer a dict after the calls.", hint="keep self.params a dict of arrays.")


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
