"""Exercise 5 beyond its verdict table (tests/test_verdicts.py): the contract-wide check shows the
smallest failing scenario, grades the same way twice, and its tolerance admits every form SPEC.md
accepts on every scenario it generates."""

import re

import numpy as np
import pytest

from conftest import CORPUS, message_of
from grader.checks.api import CheckFailed
from grader.checks.contract import _draw
from grader.checks.exercise5 import test_hidden_contract as contract
from local_student import LocalStudent

CHECK = "optimizers_on_any_params_dict"


def test_positional_order_bug_is_shown_on_the_smallest_scenario(grade):
    """Does a Momentum whose constructor takes (momentum, lr) fail with a small scenario in the
    message: the first hyper-parameters, one key of at most 3 x 3, the first update call, the
    constructor called by position? (How far shrinking goes is bounded by counts, so it does not
    depend on the machine's load: contract.MAX_SHRINK_*.)"""
    result = grade("exercise5", CORPUS / "exercise5" / "bug_momentum_parameter_order")
    message = message_of(result, CHECK)
    assert re.match(r"Momentum\(0\.1, 0\.9\) on params \{'W1': shape \([1-3], [1-3]\) \([^)]*\)\}, ", message), message
    assert "update call 1 of" in message and "by position" in message


@pytest.mark.slow
def test_grading_is_deterministic(grade):
    """Does the same submission get the same score and messages when graded twice?"""
    case = CORPUS / "exercise5" / "bug_sgd_reshape_view"
    first, second = grade("exercise5", case), grade("exercise5", case)
    assert first.score == second.score < first.max_score
    assert message_of(first, CHECK) == message_of(second, CHECK)


ACCEPTED = sorted((CORPUS / "exercise5").glob("ok_*/optimizers.py")) + sorted(
    (CORPUS.parent / "cases" / "exercise5").glob("ok_*/optimizers.py"))


@pytest.mark.parametrize("path", [ACCEPTED[0], *(pytest.param(p, marks=pytest.mark.slow) for p in ACCEPTED[1:])],
                         ids=lambda p: p.parent.name)
def test_accepted_forms_pass_many_more_scenarios(path):
    """Does every valid alternative (PyTorch momentum, the book's lr_t Adam, eps 1e-8, reassigned
    entries, nditer loops) pass 40 generated scenarios, 5 times what grading draws?"""
    student = LocalStudent(path)
    for scenario in _draw(contract.scenarios(), 40):
        contract.expect_every_optimizer(student, scenario)


def test_a_layout_bug_is_caught_and_named_locally():
    """Does an SGD that updates params[key].reshape(-1) fail on some scenario, with the layout hint?"""
    student = LocalStudent(CORPUS / "exercise5" / "bug_sgd_reshape_view" / "optimizers.py")
    hints = []
    for scenario in _draw(contract.scenarios(), 10):
        try:
            contract.expect_every_optimizer(student, scenario)
        except CheckFailed as failure:
            hints.append(failure.hint)
    assert hints and all("wrote into a COPY" in hint for hint in hints)


def test_final_comparison_scales_with_the_distance_travelled():
    """Does the happy path's final comparison allow rounding on a back-and-forth trajectory and
    refuse a 1% error?"""
    steps = [{"w": np.array([0.0])}, {"w": np.array([1.0])}, {"w": np.array([1e-9])}]
    assert not contract.final_differs({"w": np.array([1e-9 + 1e-8])}, steps)
    assert contract.final_differs({"w": np.array([0.02])}, steps)
