"""Exercise 3 beyond its verdict table (tests/test_verdicts.py): the gradient table of the report,
a wrong backprop's message, repeatable statistical checks, and the margins the checks' tolerances
rely on."""

import numpy as np
import pytest

from conftest import CASES
from grader.checks.exercise3 import support
from grader.checks.gradcheck import compare
from reference.exercise3 import two_layer_net as ref


def test_reference_report_has_a_gradient_table(grade_reference):
    """Does the reference's backprop check attach a gradient table, every row passing by far?"""
    result = grade_reference("exercise3")
    rows = {c.name: c.details.get("gradients") for c in result.checks}
    assert [row["name"] for row in rows["gradient_backprop"]] == ["W1", "b1", "W2", "b2"]
    assert all(row["passed"] and row["max_rel_error"] < 1e-9 for row in rows["gradient_backprop"])


def test_gradient_failure_names_worst_element_and_both_values(grade):
    """Does a wrong backprop's message give each parameter's worst relative error, its index and
    both values, and attach the same table for the report?"""
    result = grade("exercise3", CASES / "exercise3" / "bug_no_batch_division")
    check = next(c for c in result.checks if c.name == "gradient_backprop")
    rows = check.details["gradients"]
    assert [r["name"] for r in rows] == ["W1", "b1", "W2", "b2"] and not any(r["passed"] for r in rows)
    worst = rows[0]
    assert np.isclose(worst["got"], 7 * worst["expected"])
    assert f"at index {tuple(worst['worst_index'])}" in check.message
    assert f"yours {worst['got']:.6g}, expected {worst['expected']:.6g}" in check.message


@pytest.mark.slow
def test_random_weights_get_the_same_verdict_every_time(grade):
    """Do the weight-scale checks, statistical by nature, give an unseeded generator the same
    (full) score on 20 gradings?"""
    results = [grade("exercise3", CASES / "exercise3" / "ok_rng_ordered_dict") for _ in range(20)]
    assert {r.score for r in results} == {results[0].max_score}


@pytest.mark.parametrize("name", sorted(support.CASES))
def test_check_networks_are_well_conditioned(name):
    """Are the networks the checks use free of near-zero gradient entries (relative errors stay
    meaningful) and of near-ties between classes (accuracy is stable), with all sizes different
    (a wrong shape names its array)?"""
    case = support.case_named(name)
    reference = case.reference()
    grads = reference.gradient(case.x, case.target("one-hot"))
    for key in support.KEYS:
        assert np.abs(grads[key]).min() > 1e-4 * np.abs(grads[key]).max(), key
    top2 = np.sort(reference.predict(case.x), axis=1)[:, -2:]
    assert (top2[:, 1] - top2[:, 0]).min() > 1e-2
    assert len({*case.sizes, len(case.x)}) == 4


def test_loss_tolerance_covers_the_1e7_and_nothing_more():
    """Does leaving out the 1e-7 inside the log stay within the loss tolerance, while the
    smallest classic mistake (no mean) is far outside it?"""
    case = support.case_named("main")
    y = case.reference().predict(case.x)
    without_delta = -np.mean(np.log(y[np.arange(len(y)), case.labels]))
    with_delta = ref.cross_entropy_error(y, case.labels)
    assert abs(without_delta - with_delta) < support.LOSS_RTOL * with_delta / 2


def test_numerical_tolerance_separates_central_from_forward_differences():
    """On the numerical_gradient check's network, is a loss without the 1e-7 within the
    tolerance, and a forward difference outside it for every parameter?"""
    case = support.case_named("numerical")
    t = case.target("one-hot")
    reference = case.reference()
    expected = reference.numerical_gradient(case.x, t)

    def loss_without_delta(_):
        y = reference.predict(case.x)
        return -np.mean(np.log(y[np.arange(len(y)), case.labels]))

    def forward_difference(key):
        base = reference.loss(case.x, t)
        w = reference.params[key]
        out = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            old = w[idx]
            w[idx] = old + support.H
            out[idx] = (reference.loss(case.x, t) - base) / support.H
            w[idx] = old
        return out

    for key in support.KEYS:
        no_delta = ref.numerical_gradient(loss_without_delta, reference.params[key])
        assert compare(key, no_delta, expected[key], support.NUMERICAL_TOL).passed
        assert not compare(key, forward_difference(key), expected[key], support.NUMERICAL_TOL).passed


def test_backprop_tolerance_is_met_by_the_reference_alone():
    """Would SPEC's literal criterion (1e-6 against the numerical gradient) fail a correct
    backprop on the main network? (It does, through the 1e-7 in the loss: that is why the
    check compares with the reference's backprop first.)"""
    case = support.case_named("main")
    t = case.target("one-hot")
    reference = case.reference()
    analytic, numeric = reference.gradient(case.x, t), reference.numerical_gradient(case.x, t)
    worst = max(compare(k, analytic[k], numeric[k], 1.0).max_rel_error for k in support.KEYS)
    assert worst > support.GRADIENT_TOL
