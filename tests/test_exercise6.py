"""Exercise 6 verdicts: reference, stub, buggy and correct-but-different submissions, and the
claims the checks' tolerances rest on (eps range, the reference backward, repeatable dropout verdicts)."""

import numpy as np
import pytest

from conftest import CASES, assert_full_marks, assert_stub_scores_zero, assert_verdict, case_folders
from grader.catalog import get_exercise
from grader.checks.exercise6 import support
from grader.checks.gradcheck import compare
from reference.exercise6 import batchnorm as ref

EXERCISE = get_exercise("exercise6")

# case folder -> (check that must fail, words its message or hint must contain); None = full marks
VERDICTS = {
    "bug_bn_normalise_rows": ("batchnorm_forward_training", "each row was normalised"),
    "bug_bn_unbiased_variance": ("batchnorm_forward_training", "unbiased variance"),
    "bug_bn_divide_by_variance": ("batchnorm_forward_training", "not by the variance"),
    "bug_bn_gamma_beta_swapped": ("batchnorm_forward_training", "gamma and beta are swapped"),
    "bug_bn_running_momentum_swapped": ("batchnorm_running_statistics", "momentum weighs the old running value"),
    "bug_bn_running_var_stores_std": ("batchnorm_running_statistics", "not the standard deviation"),
    "bug_bn_ignores_momentum": ("batchnorm_honours_momentum", "momentum passed to the constructor was ignored"),
    "bug_bn_test_mode_batch_statistics": ("batchnorm_test_mode", "its own batch mean and variance"),
    "bug_bn_test_mode_updates_running": ("batchnorm_test_mode", "only when train_flg is true"),
    "bug_bn_backward_direct_path_only": ("batchnorm_backward_dx", "only has the direct path"),
    "bug_bn_backward_no_variance_path": ("batchnorm_backward_dx", "path through the batch variance"),
    "bug_bn_dgamma_uses_x": ("batchnorm_backward_dgamma_dbeta", "normalised x_hat"),
    "bug_bn_dbeta_mean": ("batchnorm_backward_dgamma_dbeta", "sum of dout over the batch, not the mean"),
    "bug_dropout_keeps_ratio": ("dropout_drops_the_right_fraction", "you kept units"),
    "bug_dropout_no_test_scaling": ("dropout_expected_training_output_equals_test_output",
                                    "return x * (1 - dropout_ratio)"),
    "bug_dropout_inverted_scaled_twice": ("dropout_expected_training_output_equals_test_output",
                                          "return x unchanged"),
    "bug_dropout_backward_new_mask": ("dropout_backward_uses_the_forward_mask", "instead of drawing a new one"),
    "bug_dropout_inverted_backward_unscaled": ("dropout_backward_uses_the_forward_mask",
                                               "backward must apply the same scale"),
    "bug_dropout_one_mask_per_feature": ("dropout_drops_the_right_fraction", "a mask of x's full shape"),
    "bug_dropout_reseeds_every_call": ("dropout_drops_the_right_fraction", "new mask on every forward call"),
    "bug_xavier_no_sqrt": ("xavier_std", "take the square root"),
    "bug_he_two_outside_sqrt": ("he_std", "the 2 goes inside the square root"),
    "ok_book_style": None,
    "ok_compact_backward_eps_1e5": None,
    "ok_eps_1e8_inverted_dropout_default_rng": None,
    "ok_graph_nodes_and_rng_in_init": None,
    "ok_binomial_dropout_and_cache_tuple": None,
}

# Cases whose dropout draws from a generator the grader cannot seed: their masks differ on every run.
UNSEEDED = ["ok_eps_1e8_inverted_dropout_default_rng", "bug_dropout_keeps_ratio", "bug_dropout_backward_new_mask",
            "bug_dropout_one_mask_per_feature"]
REGRADES = 20


def test_reference_gets_full_marks(grade):
    """Does the reference solution get every point?"""
    assert_full_marks(grade("exercise6", EXERCISE.reference_path.parent))


def test_stub_scores_zero_with_not_implemented(grade):
    """Does the untouched handout score zero, every check saying 'not implemented yet'?"""
    assert_stub_scores_zero(grade("exercise6", EXERCISE.stub_path.parent))


@pytest.mark.parametrize("case", sorted(VERDICTS))
def test_case_verdict(grade, case):
    """Does each buggy case lose points on the check naming its mistake, and each correct one pass?"""
    assert_verdict(grade("exercise6", CASES / "exercise6" / case), VERDICTS[case])


@pytest.mark.parametrize("case", UNSEEDED)
def test_unseeded_dropout_gets_the_same_verdict_every_run(grade, case):
    """Does a submission whose dropout uses its own unseeded generator get the same checks passed on every run?"""
    verdicts = set()
    for _ in range(REGRADES):
        result = grade("exercise6", CASES / "exercise6" / case)
        verdicts.add((result.score, tuple(sorted(c.name for c in result.checks if not c.passed))))
    assert len(verdicts) == 1, verdicts


def test_every_case_folder_is_in_the_table():
    """Is every case folder on disk listed in the verdict table (and no stale entry left)?"""
    assert case_folders("exercise6") == set(VERDICTS)


def numerical_gradient(f, a, h=1e-5):
    grad = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        old = a[i]
        a[i] = old + h
        plus = f()
        a[i] = old - h
        minus = f()
        a[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def test_reference_backward_matches_central_differences():
    """Is the reference's analytic backward (the checks' oracle) right, by central differences of its forward?"""
    x = support.batch(6, 40)
    gamma, beta = support.GAMMA.copy(), support.BETA.copy()
    dout = np.random.default_rng(41).normal(size=x.shape)
    layer = ref.BatchNormalization(gamma.copy(), beta.copy())
    layer.forward(x, True)
    dx = layer.backward(dout)

    def loss():
        return float(np.sum(ref.BatchNormalization(gamma, beta).forward(x, True) * dout))

    for analytic, wrt in ((dx, x), (layer.dgamma, gamma), (layer.dbeta, beta)):
        numeric = numerical_gradient(loss, wrt)
        assert compare("g", analytic, numeric, 1e-7).passed


@pytest.mark.parametrize("seed,n", [(1, 6), (10, 8), (11, 8), (12, 8), (20, 8), (21, 8), (22, 8), (40, 6),
                                    (60, 8), (61, 8), (62, 8), (62, 10), (63, 10)])
def test_check_inputs_keep_eps_below_tolerance(seed, n, monkeypatch):
    """Do the checks' batches keep any eps in [1e-8, 1e-5] at least 10x below BN_RTOL and GRAD_TOL?"""
    x = support.batch(n, seed)
    assert x.var(axis=0).min() >= 15
    dout = np.random.default_rng(seed + 1).normal(size=x.shape)
    results = []
    for eps in (1e-8, 1e-5):
        monkeypatch.setattr(ref, "EPS", eps)
        layer = ref.BatchNormalization(support.GAMMA.copy(), support.BETA.copy())
        out = layer.forward(x, True)
        results.append((out, layer.backward(dout), layer.dgamma, layer.dbeta))
    (out_a, *grads_a), (out_b, *grads_b) = results
    assert np.allclose(out_a, out_b, rtol=support.BN_RTOL / 10, atol=support.BN_ATOL / 10)
    for a, b in zip(grads_a, grads_b):
        assert compare("g", a, b, support.GRAD_TOL / 10).passed
