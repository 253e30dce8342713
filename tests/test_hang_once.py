"""A function that hangs costs its full time limit about once per submission, not once per
check that calls it (issue 20): later calls get a short limit drawn from how long that function
took when it did finish (grader/sandbox/session.py, HangMemory)."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.options import GradingOptions, Limits
from grader.pipeline import grade
from grader.sandbox.session import HangMemory

HANGS = Path(__file__).parent / "hostile" / "hang_in_function"


def test_a_function_gets_its_full_limit_until_it_hangs():
    hangs = HangMemory()
    hangs.finished("softmax", 0.2)
    assert hangs.limit("softmax", 10.0) is None


def test_after_a_hang_the_limit_is_three_times_its_slowest_finished_call_with_a_floor():
    hangs = HangMemory()
    hangs.timed_out("softmax")
    assert hangs.limit("softmax", 10.0) == pytest.approx(1.0)  # never finished: the floor
    assert hangs.limit("softmax", 30.0) == pytest.approx(3.0)  # a tenth of a long check's limit
    hangs.finished("softmax", 2.0)
    assert hangs.limit("softmax", 10.0) == pytest.approx(6.0)  # slow but finishing calls keep room
    assert hangs.limit("cross_entropy_error", 10.0) is None  # only the function that hung


@pytest.mark.slow
def test_a_hanging_softmax_costs_its_full_limit_once_then_short_limits(tmp_path):
    check_timeout = 4.0
    options = GradingOptions(limits=Limits(check_timeout=check_timeout, submission_timeout=120))
    result = grade("exercise1", HANGS, options=options).result
    hung = [c for c in result.checks if "ran longer than" in c.message and "softmax" in c.message]
    first, repeats = hung[0], hung[1:]
    assert "earlier check" not in first.message and first.seconds >= check_timeout - 0.5
    assert len(repeats) >= 2, [c.message for c in hung]
    for check in repeats:
        assert "earlier check" in check.message and "1 s" in check.message, check.message
        assert check.seconds < check_timeout - 1, (check.name, check.seconds)
    sse = [c for c in result.checks if c.name.startswith("sum_squares_error")]
    assert sse and all(c.passed for c in sse)  # other functions are untouched
