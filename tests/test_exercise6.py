"""Exercise 6 beyond its verdict table (tests/test_verdicts.py): the claims the checks' tolerances
rest on (eps range, the reference backward), repeatable dropout verdicts, and the contract-wide
checks' shrunk messages and acceptance of every valid form on many generated scenarios."""

from pathlib import Path

import numpy as np
import pytest

from conftest import CASES, CORPUS, message_of
from grader.checks.api import CheckFailed
from grader.checks.contract import _draw
from grader.checks.exercise6 import support
from grader.checks.exercise6 import test_hidden_contract as contract
from grader.checks.gradcheck import compare
from local_student import LocalStudent
from reference.exercise6 import batchnorm as ref

# Cases whose dropout draws from its own generator, which no check seeds: the student's process starts every
# unseeded generator from the same state (child.make_randomness_repeatable), so their masks repeat on every run.
UNSEEDED = ["ok_eps_1e8_inverted_dropout_default_rng", "bug_dropout_keeps_ratio", "bug_dropout_backward_new_mask",
            "bug_dropout_one_mask_per_feature"]
REGRADES = 20


@pytest.mark.slow
@pytest.mark.parametrize("case", UNSEEDED)
def test_unseeded_dropout_gets_the_same_verdict_every_run(grade, case):
    """Does a submission whose dropout uses its own unseeded generator get the same checks passed on every run?"""
    verdicts = set()
    for _ in range(REGRADES):
        result = grade("exercise6", CASES / "exercise6" / case)
        verdicts.add((result.score, tuple(sorted(c.name for c in result.checks if not c.passed))))
    assert len(verdicts) == 1, verdicts


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


# -- the contract-wide checks (test_hidden_contract.py) ----------------------------------------------


CONTRACT_RUNS = ((contract.bn_scenarios, contract.run_bn), (contract.dropout_scenarios, contract.run_dropout),
                 (contract.unchanged_cases, contract.expect_x_unchanged))


def test_dropout_shape_bug_is_shown_on_the_smallest_input(grade):
    """Does a dropout whose mask is (x.shape[0], x.shape[-1]) fail with the shrunk input in the message:
    the sequence's fixed test pass, then one training forward, on a 1-D x of one element?"""
    result = grade("exercise6", CORPUS / "exercise6" / "bug_dropout_mask_for_2d_only")
    message = message_of(result, "dropout_any_shape_and_call_sequence")
    assert message.startswith("Dropout(0.5), then forward(x of shape (1,), train_flg=False) -> "
                              "forward(x of shape (1,), train_flg=True): forward returned shape (1, 1)")


def test_contract_grading_is_deterministic(grade):
    """Does the same submission get the same score and message from the call-sequence check twice?"""
    case = CORPUS / "exercise6" / "bug_bn_one_pass_variance"
    first, second = grade("exercise6", case), grade("exercise6", case)
    assert first.score == second.score < first.max_score
    check = "batchnorm_any_call_sequence"
    assert message_of(first, check) == message_of(second, check) and "E[x**2] - E[x]**2" in message_of(first, check)


ACCEPTED = sorted((CORPUS / "exercise6").glob("ok_*/batchnorm.py")) + sorted(
    (CASES / "exercise6").glob("ok_*/batchnorm.py"))


@pytest.mark.parametrize("path", [ACCEPTED[0], *(pytest.param(p, marks=pytest.mark.slow) for p in ACCEPTED[1:])],
                         ids=lambda p: p.parent.name)
def test_accepted_forms_pass_many_more_scenarios(path):
    """Does every valid alternative pass 60 generated scenarios of each contract check, 7 times what grading draws?"""
    student = LocalStudent(path)
    with np.errstate(all="ignore"):
        for strategy, check in CONTRACT_RUNS:
            for example in _draw(strategy(), 60):
                check(student, example)


@pytest.mark.parametrize("eps", [1e-8, 1e-5])
def test_any_eps_spec_allows_passes_the_call_sequences(eps, tmp_path):
    """Does the reference with eps at either end of SPEC's range pass 100 generated call sequences
    (the claim the tolerances of test_hidden_contract.py rest on)?"""
    source = Path(ref.__file__).read_text().replace("EPS = 1e-7", f"EPS = {eps!r}")
    (tmp_path / "batchnorm.py").write_text(source)
    student = LocalStudent(tmp_path / "batchnorm.py")
    for scenario in _draw(contract.bn_scenarios(), 100):
        contract.run_bn(student, scenario)


def test_accumulating_dgamma_is_caught_and_named_locally():
    """Does a backward that adds to dgamma (+=) fail some generated call sequence, with the hint that names it?"""
    student = LocalStudent(CORPUS / "exercise6" / "bug_bn_dgamma_accumulates" / "batchnorm.py")
    hints = []
    for scenario in _draw(contract.bn_scenarios(), 8):
        try:
            contract.run_bn(student, scenario)
        except CheckFailed as failure:
            hints.append(failure.hint)
    assert hints and all("do not accumulate it with +=" in hint for hint in hints)
