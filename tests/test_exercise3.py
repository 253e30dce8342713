"""Exercise 3 beyond its verdict table (tests/test_verdicts.py): the gradient table of the report,
a wrong backprop's message, repeatable statistical checks, and the margins the checks' tolerances
rely on."""

import re
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


# -- the contract-wide hidden checks (test_hidden_contract.py) ----------------------------------------
from conftest import CORPUS, message_of  # noqa: E402
from grader.checks.contract import _draw  # noqa: E402
from grader.checks.exercise3 import test_hidden_contract as contract  # noqa: E402


def test_contract_failure_shows_the_smallest_failing_input(grade):
    """Does a softmax without the max shift fail predict_contract on a small shrunk input (a net
    of at most 4 units a layer, one row of zeros; the large scores come from the weights), shown as
    data with expected and got? (How far shrinking goes is bounded: contract.MAX_SHRINK_*.)"""
    result = grade("exercise3", CORPUS / "exercise3" / "bug_softmax_without_max_shift")
    message = message_of(result, "predict_contract")
    size = re.search(r"a ([1-4])-[1-4]-[1-4] network", message)
    assert size, message
    side = int(size.group(1))
    assert f"x of shape (1, {side}) (float64) = [[{', '.join(['0.'] * side)}]]" in message, message
    assert "got nan" in message and "Expected [[" in message and "subtract each row's maximum" in message


def test_sequence_failure_shows_the_calls_that_lead_to_it(grade):
    """Does a gradient that reuses an earlier call's activations fail call_sequences with the
    sequence of calls, and pass the single-call checks (each call is right on a new net)?"""
    result = grade("exercise3", CORPUS / "exercise3" / "bug_gradient_reuses_forward_of_same_shape")
    message = message_of(result, "call_sequences")
    assert "net = TwoLayerNet(" in message and message.count("net.gradient(x, t)") >= 2
    assert {c.name for c in result.checks if not c.passed} == {"call_sequences"}


@pytest.mark.slow
def test_contract_checks_grade_the_same_twice(grade):
    """Is a submission that fails several contract checks graded identically twice (same
    scores, same shrunk examples in the messages)?"""
    path = CORPUS / "exercise3" / "bug_label_check_by_last_dim"
    first, second = grade("exercise3", path), grade("exercise3", path)
    assert [(c.name, c.score, c.message) for c in first.checks] == [(c.name, c.score, c.message)
                                                                    for c in second.checks]
    assert first.score < first.max_score


def test_drawn_cases_cover_the_dimensions_the_docstring_lists():
    """Do the fixed-seed examples of the target checks hold N == 1 and N == C in every case, and
    across the cases integer labels of a dtype other than int64, one-hot rows of a dtype other
    than float64, float32 x, a layout other than C and, for predict, scores of 1000?"""
    cases = _draw(contract.with_forms(), 3)
    for case, _ in cases:
        sizes = {len(e.x) for e in case.examples}
        assert {1, case.examples[0].sizes[2]} <= sizes
    forms = {form for _, pair in cases for form in pair}
    assert any(f[0] == "labels" and f[1] != np.int64 for f in forms)
    assert any(f[0] == "one-hot" and f[1] != np.float64 for f in forms)
    examples = [e for case, _ in cases for e in case.examples]
    assert any(e.x.dtype == np.float32 for e in examples) and any(e.layout != "C" for e in examples)
    large = _draw(contract.net_cases(large=True), 3)
    assert any(np.abs(case.examples[0].params["b2"]).max() > 100 for case in large)
    assert any(by_keyword for _, by_keyword, _ in _draw(contract.init_calls(), 3))


def test_call_sequences_always_hold_the_patterns_they_test():
    """Does every drawn sequence pass gradient a batch of the previous call's size with other
    rows, and end with two calls on batches of another size?"""
    for scenario in _draw(contract.scenarios(), 3):
        calls = [s for s in scenario.steps if s[0] != "params"]
        assert calls[1][0] == "gradient" and calls[3][0] == "gradient"
        assert calls[0][1].x.shape == calls[1][1].x.shape and not np.array_equal(calls[0][1].x, calls[1][1].x)
        assert len(calls[2][1].x) == len(calls[3][1].x) != len(calls[0][1].x)
