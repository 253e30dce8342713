"""Exercise 3 verdicts: reference, stub, buggy and correct-but-different submissions, and the
margins the checks' tolerances rely on."""

from typing import NamedTuple

import numpy as np
import pytest

from conftest import CASES, assert_caught, assert_full_marks, assert_stub_scores_zero, case_folders, failed_checks
from grader.catalog import get_exercise
from grader.checks.exercise3 import support
from grader.checks.gradcheck import compare
from reference.exercise3 import two_layer_net as ref

EXERCISE = get_exercise("exercise3")
GRADIENT_ALSO = frozenset({"gradient_backprop_other_sizes"})
CRASH_ALSO = GRADIENT_ALSO | {"gradient_backprop_labels"}
"""A backprop that raises earns nothing with labels either: there is nothing to compare."""
STALE_ALSO = frozenset({"gradient_backprop", "predict_other_sizes", "gradient_backprop_other_sizes",
                        "methods_read_params_at_call_time"})


class Caught(NamedTuple):
    check: str
    """The check that must fail, naming the mistake..."""
    words: str
    """...with these words in its message or hint."""
    also: frozenset = frozenset()
    """Every other check the mistake may cost (the table pins what one mistake costs)."""


VERDICTS = {
    "bug_accuracy_one_hot_only": Caught("accuracy_labels", "integer labels"),
    "bug_accuracy_returns_count": Caught("accuracy_one_hot", "not their count"),
    "bug_batch_divided_twice": Caught("gradient_backprop", "divided by the batch size twice", GRADIENT_ALSO),
    "bug_biases_random": Caught("params_layout", "biases start at zero"),
    "bug_book_layers_built_once": Caught("predict", "affine layers built once", STALE_ALSO),
    "bug_db_summed_over_wrong_axis": Caught("gradient_backprop", "sum over the batch axis, axis=0", GRADIENT_ALSO),
    "bug_default_weight_init_std_wrong": Caught("default_weight_init_std", "the default is 0.01"),
    "bug_dw2_uses_x": Caught("gradient_backprop", "hidden activation z1, not x", GRADIENT_ALSO),
    "bug_dz1_without_transpose": Caught("gradient_backprop", "dz1 = dy @ W2.T", CRASH_ALSO),
    "bug_gradient_one_hot_only": Caught("gradient_backprop_labels", "integer labels"),
    "bug_gradient_reuses_predict_state": Caught("gradient_backprop", "run the forward pass inside it", CRASH_ALSO),
    "bug_gradient_wrong_sign": Caught("gradient_backprop", "wrong sign", GRADIENT_ALSO),
    "bug_loss_one_hot_only": Caught("loss_labels", "integer labels"),
    "bug_loss_sum_not_mean": Caught("loss_one_hot", "divide by N = 7"),
    "bug_missing_hidden_bias": Caught("predict", "add the bias b1", {"predict_other_sizes"}),
    "bug_no_batch_division": Caught("gradient_backprop", "exactly N = 7 times too large", GRADIENT_ALSO),
    "bug_numerical_gradient_forward_difference": Caught("numerical_gradient", "not the central difference"),
    "bug_numerical_gradient_not_restored": Caught("numerical_gradient", "put its saved value back"),
    "bug_numerical_gradient_on_copy": Caught("numerical_gradient", "in place (not a copy)"),
    "bug_only_init_and_predict": Caught("loss_one_hot", "not implemented yet", {
        "accuracy_one_hot", "numerical_gradient", "gradient_backprop", "loss_labels", "accuracy_labels",
        "gradient_backprop_labels", "gradient_backprop_other_sizes"}),  # no points for methods that raise
    "bug_params_cached_on_first_call": Caught("methods_read_params_at_call_time", "read self.params['w1']"),
    "bug_predict_without_softmax": Caught("predict", "apply softmax", {"predict_other_sizes"}),
    "bug_second_layer_fed_x": Caught("predict", "hidden activation z1", {
        "loss_one_hot", "accuracy_one_hot", "numerical_gradient", "predict_other_sizes", "loss_labels",
        "accuracy_labels"}),  # all crash in predict
    "bug_sigmoid_derivative_of_output": Caught("gradient_backprop", "applied the sigmoid twice", GRADIENT_ALSO),
    "bug_sigmoid_derivative_of_preactivation": Caught("gradient_backprop", "a1 * (1 - a1)", GRADIENT_ALSO),
    "bug_weight_init_std_ignored": Caught("weights_scale_with_weight_init_std", "weight_init_std argument"),
    "bug_weights_cached_in_init": Caught("predict", "self.W1 = ...", STALE_ALSO),
    "bug_weights_not_scaled": Caught("weights_scale_with_weight_init_std", "multiply the standard normal"),
    "bug_weights_uniform": Caught("weights_scale_with_weight_init_std", "np.random.rand is uniform"),
    "bug_weights_zero": Caught("weights_scale_with_weight_init_std", "every weight is 0"),
    "ok_book_layers": None,
    "ok_einsum": None,
    "ok_imports_earlier_exercises": None,  # exercises 1 and 2 resolve to their references in the sandbox
    "ok_labels_one_hot_internally": None,
    "ok_rng_ordered_dict": None,
    "ok_tanh_sigmoid": None,
}


def test_reference_gets_full_marks(grade):
    """Does the reference solution get every point, with a gradient table for the report?"""
    result = grade("exercise3", EXERCISE.reference_path.parent)
    assert_full_marks(result)
    rows = {c.name: c.details.get("gradients") for c in result.checks}
    assert [row["name"] for row in rows["gradient_backprop"]] == ["W1", "b1", "W2", "b2"]
    assert all(row["passed"] and row["max_rel_error"] < 1e-9 for row in rows["gradient_backprop"])


def test_stub_scores_zero_with_not_implemented(grade):
    """Does the untouched handout score zero, every check saying 'not implemented yet'?"""
    assert_stub_scores_zero(grade("exercise3", EXERCISE.stub_path.parent))


@pytest.mark.parametrize("case", sorted(VERDICTS))
def test_case_verdict(grade, case):
    """Does each buggy case lose exactly the checks its mistake touches, the named one saying
    why, and does each correct one get full marks?"""
    result = grade("exercise3", CASES / "exercise3" / case)
    expected = VERDICTS[case]
    if expected is None:
        assert_full_marks(result)
        return
    assert_caught(result, expected.check, expected.words)
    assert failed_checks(result) == {expected.check, *expected.also}


def test_every_case_folder_is_in_the_table():
    """Is every case folder on disk listed in the verdict table (and no stale entry left)?"""
    assert case_folders("exercise3") == set(VERDICTS)


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


def test_random_weights_get_the_same_verdict_every_time(grade):
    """Do the weight-scale checks, statistical by nature, give an unseeded generator the same
    (full) score on 20 gradings?"""
    scores = {grade("exercise3", CASES / "exercise3" / "ok_rng_ordered_dict").score for _ in range(20)}
    assert scores == {20.0}


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
