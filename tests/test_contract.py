"""grader/checks/contract.py's `for_all`: the same examples in every process, a failure shrunk
to its smallest input, a time budget that skips rather than fails, a hang or a stub stopped at
once, and a student's function that answers differently for the same input still judged."""

from __future__ import annotations

import importlib
import json
import os
import pickle
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import strategies as st

from grader.checks import contract
from grader.checks.api import CheckFailed, running_check
from grader.checks.contract import for_all, shapes
from grader.sandbox.errors import StudentRaised, StudentTimeout

ROOT = Path(__file__).resolve().parent.parent

INTEGER_LISTS = st.lists(st.integers(0, 1000), min_size=1, max_size=20)
FINITE = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


def float_arrays(shape):
    """Finite float64 arrays of `shape` (a tuple or a strategy of shapes), built in a flatmap as a
    check's strategies often are: for two tuples, the strategies print alike."""
    return st.just(np.float64).flatmap(lambda dtype: contract.arrays(dtype, shape, FINITE))


@pytest.fixture(autouse=True)
def fresh_draws(monkeypatch):
    """Each test draws its examples afresh (as a new grading process would)."""
    monkeypatch.setattr(contract, "_drawn", {})


def fail_if(condition):
    """A check that fails, naming the example, where `condition(example)` holds; records what it saw."""
    seen = []

    def check(example):
        seen.append(example)
        if condition(example):
            raise CheckFailed(f"fails for {example!r}")

    check.seen = seen
    return check


DRAW_IN_A_FRESH_PROCESS = """
import json, sys
import numpy as np
from grader.checks.api import running_check
from grader.checks.contract import arrays, for_all, shapes
from hypothesis import strategies as st
seen = []
with running_check("softmax_contract", {}):
    floats = arrays(np.float64, shapes(max_dims=2), st.floats(-10, 10, allow_nan=False, allow_infinity=False))
    for_all(st.tuples(floats, st.lists(st.integers(0, 9))),
            lambda example: seen.append([example[0].shape, example[0].tolist(), example[1]]), examples=25)
print(json.dumps(seen))
"""


def test_examples_are_the_same_in_every_process():
    """Do two grading processes (different hash seeds) draw the very same examples, so a
    submission graded twice, or by two batch workers, is judged on the same inputs?"""
    drawn = []
    for hash_seed in ("1", "2"):
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONHASHSEED=hash_seed)
        done = subprocess.run([sys.executable, "-c", DRAW_IN_A_FRESH_PROCESS], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        drawn.append(json.loads(done.stdout))
    assert len(drawn[0]) == 25 and drawn[0] == drawn[1]
    assert len({json.dumps(example) for example in drawn[0]}) > 20, "the examples should differ from each other"


def test_examples_are_drawn_once_per_check_and_replayed():
    """Is the next run of a check (the next submission) given the examples of the first, with no
    new drawing, while another check with the same strategy draws its own?"""
    first, second, other = fail_if(lambda x: False), fail_if(lambda x: False), fail_if(lambda x: False)
    for name, check in (("one", first), ("one", second), ("another", other)):
        with running_check(name, {}):
            for_all(INTEGER_LISTS, check, examples=15)
    assert first.seen == second.seen and len(first.seen) == 15
    assert len(contract._drawn) == 2


def test_strategies_that_print_alike_get_their_own_examples():
    """Do `float_arrays((2, 2))` and `float_arrays((3, 3))`, called from one line of a check
    (their reprs are equal), each get examples of their own shape, run after run?"""
    for _ in range(2):  # two runs of the check: the second replays the first's examples
        seen = []
        with running_check("shapes", {}):
            for shape in ((2, 2), (3, 3)):
                for_all(float_arrays(shape), lambda x: seen.append(x.shape), examples=5)
        assert seen == [(2, 2)] * 5 + [(3, 3)] * 5
    assert len(contract._drawn) == 2


def test_a_failure_is_shrunk_to_the_smallest_failing_example():
    """Does a wrong answer on a large example come back as the smallest input that still fails
    ([10] for 'fails when an element is at least 10'; a length-3 array of zeros for 'fails from
    three rows on'), the message naming it?"""
    with pytest.raises(CheckFailed) as caught:
        for_all(INTEGER_LISTS, fail_if(lambda xs: max(xs) >= 10))
    assert caught.value.message == "fails for [10]"
    with pytest.raises(CheckFailed) as caught:
        for_all(float_arrays(shapes(max_dims=1)), fail_if(lambda x: x.shape[0] >= 3))
    assert caught.value.message == f"fails for {np.zeros(3)!r}"


def test_examples_are_explored_smallest_first():
    """Are the drawn examples tried smallest first (the first failure a student meets is then
    the smallest drawn one), every one of them still tried?"""
    check = fail_if(lambda xs: False)
    for_all(INTEGER_LISTS, check, examples=30)
    sizes = [len(pickle.dumps(xs, protocol=5)) for xs in check.seen]
    assert len(check.seen) == 30 and sizes == sorted(sizes)
    assert sorted(map(tuple, check.seen)) == sorted(map(tuple, contract._draw(INTEGER_LISTS, 30)))


def test_shrinking_is_bounded_by_a_count_of_draws(monkeypatch):
    """Does shrinking stop after MAX_SHRINK_DRAWS inputs, whatever the machine's speed, and
    still report a failing example no larger than the one found first?"""
    monkeypatch.setattr(contract, "MAX_SHRINK_DRAWS", 3)
    check = fail_if(lambda xs: sum(xs) >= 500)
    with pytest.raises(CheckFailed) as caught:
        for_all(INTEGER_LISTS, check, examples=30)
    first = next(xs for xs in check.seen if sum(xs) >= 500)
    shown = eval(caught.value.message.removeprefix("fails for "))  # noqa: S307 - our own repr of a list
    assert sum(shown) >= 500 and len(pickle.dumps(shown, protocol=5)) <= len(pickle.dumps(first, protocol=5))
    tried_after_first = len(check.seen) - check.seen.index(first) - 1
    assert tried_after_first <= 3 + 2 + 1, "the replay up to it, 3 shrinking draws, the message in full"


def test_the_message_shown_is_worked_out_outside_shrinking_mode():
    """May a check skip costly wording while a failure is shrunk (contract.shrinking()), and is
    the smallest input then checked once more for the message in full?"""
    modes = []

    def check(xs):
        modes.append(contract.shrinking())
        if max(xs) >= 10:
            raise CheckFailed("short" if contract.shrinking() else f"in full: fails for {xs!r}")

    with pytest.raises(CheckFailed) as caught:
        for_all(INTEGER_LISTS, check)
    assert caught.value.message == "in full: fails for [10]"
    assert True in modes and modes[-1] is False and not contract.shrinking()


def test_the_students_exception_is_shrunk_too():
    """Is an exception of the student's code (not a stub's NotImplementedError) shrunk like a
    wrong answer?"""
    def check(xs):
        if len(xs) >= 4:
            raise StudentRaised({"type": "IndexError", "message": f"index {len(xs)} is out of bounds"}, "f(xs)")

    with pytest.raises(StudentRaised) as caught:
        for_all(INTEGER_LISTS, check)
    assert "index 4 is out of bounds" in str(caught.value)


def test_out_of_time_skips_the_remaining_examples_and_passes():
    """When the examples take longer than the budget, are the rest skipped (the check passes on
    the examples it had time for) rather than failed?"""
    def slow(example):
        seen.append(example)
        time.sleep(0.05)

    seen = []
    start = time.monotonic()
    for_all(INTEGER_LISTS, slow, examples=40, budget_s=0.2)
    assert 1 <= len(seen) < 40
    assert time.monotonic() - start < 1.5


@pytest.mark.parametrize("error", [StudentTimeout(2.0, "f(xs)"),
                                   StudentRaised({"type": "NotImplementedError", "not_implemented": True}, "f(xs)")],
                         ids=["hang", "stub"])
def test_a_hang_or_a_stub_ends_the_run_at_once_unshrunk(error):
    """Does a hang (or a stub's NotImplementedError) stop the run at the example where it
    happened, re-raised as is, without replaying examples to shrink it?"""
    seen = []

    def check(xs):
        seen.append(xs)
        if max(xs) >= 10:
            raise error

    with pytest.raises(type(error)) as caught:
        for_all(INTEGER_LISTS, check)
    assert caught.value is error
    assert max(seen[-1]) >= 10 and all(max(xs) < 10 for xs in seen[:-1]), "no example after the hang"


def test_a_hang_while_shrinking_keeps_the_wrong_answer_found():
    """When a smaller input tried while shrinking makes the student's code hang (or the check's
    time runs out there), is the wrong answer found first reported, not a timeout?"""
    found = []

    def check(xs):
        if max(xs) >= 10:
            if found:  # shrinking: every later failing input hangs
                raise StudentTimeout(10.0, "f(xs)")
            found.append(xs)
            raise CheckFailed(f"fails for {xs!r}")

    with pytest.raises(CheckFailed) as caught:
        for_all(INTEGER_LISTS, check)
    assert caught.value.message == f"fails for {found[0]!r}"


@pytest.mark.parametrize("fails_on", [lambda call: call == 3, lambda call: call % 2 == 1],
                         ids=["only-the-third-call", "every-other-call"])
def test_a_student_function_that_answers_differently_is_still_failed(fails_on):
    """A student's function that fails an input once and passes it the next time (hidden state,
    unseeded randomness): is it failed with a CheckFailed naming an input, not a crash of the grader?"""
    calls = []

    def check(xs):
        calls.append(xs)
        if max(xs) >= 10 and fails_on(len(calls)):
            raise CheckFailed(f"fails for {xs!r}")

    with pytest.raises(CheckFailed) as caught:
        for_all(INTEGER_LISTS, check)
    assert caught.value.message.startswith("fails for [") or "different results" in caught.value.message


def test_a_grader_fault_is_not_blamed_on_the_student():
    """Is an error of the check itself (not CheckFailed, not the student's) re-raised as is, at once?"""
    seen = []

    def check(xs):
        seen.append(xs)
        if len(seen) == 2:
            raise KeyError("bug in the check")

    with pytest.raises(KeyError):
        for_all(INTEGER_LISTS, check)
    assert len(seen) == 2


COMPOSITE_ARGUMENTS = {"label_targets": (("vector", "one row", "batch"),)}
"""Arguments of the composites that need some (the rest are drawn with their defaults)."""


def _composites() -> list[tuple[str, str]]:
    """(exercise, name) of every composite strategy in the contract checks."""
    found = []
    for path in sorted((ROOT / "grader" / "checks").glob("exercise*/test_hidden_contract.py")):
        for name in re.findall(r"@st\.composite\s*\ndef (\w+)\(draw\b", path.read_text()):
            found.append((path.parent.name, name))
    return found


@pytest.mark.parametrize("exercise, name", _composites())
def test_composite_strategies_build_each_array_strategy_once(monkeypatch, exercise, name):
    """Does drawing the same examples again build no new array strategy? Shrinking draws a hundred
    inputs, and a strategy built inside a composite is otherwise built and validated on every draw
    (use contract.arrays and contract.built_once)."""
    from hypothesis.extra import numpy as hnp

    module = importlib.import_module(f"grader.checks.{exercise}.test_hidden_contract")
    strategy = getattr(module, name)(*COMPOSITE_ARGUMENTS.get(name, ()))
    first = contract._draw(strategy, 8)
    built, real = [], hnp.arrays
    monkeypatch.setattr(hnp, "arrays", lambda *args, **kwargs: built.append(args) or real(*args, **kwargs))
    again = contract._draw(strategy, 8)
    assert len(again) == len(first) == 8
    assert built == [], f"{name} built {len(built)} array strategies while drawing examples it had drawn before"
