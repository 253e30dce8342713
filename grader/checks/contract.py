"""Contract-wide checks: judge a student's function on generated inputs that cover what SPEC.md
allows (shapes, dtypes, memory layouts, values, label forms, call sequences), not only on a few
hand-picked examples.

Inputs are drawn with Hypothesis (`hypothesis.strategies`, `hypothesis.extra.numpy`) and the
run is seeded and has no example database, so a submission graded twice gets the same verdict:

    @hidden(points=1)
    def test_softmax_contract(student):
        \"\"\"softmax matches the reference on any shape, layout and value range SPEC.md allows\"\"\"
        for_all(score_arrays(), lambda x: check_softmax(student, x))

`for_all` stops at the first failing example, shrinks it to the smallest one that still fails,
and re-raises that failure: the student sees the small input in the check's message, not a
wall of random numbers. The student's code hanging or crashing, and the grader's own faults,
end the run at once (shrinking them would only cost time and blame no one better).
"""

from __future__ import annotations

import copy
import pickle
import time
from typing import Any, Callable

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky, FlakyFailure
from hypothesis.extra import numpy as hnp

from grader.checks.api import CheckFailed, current_check
from grader.sandbox.codec import LAYOUTS, Layout
from grader.sandbox.errors import StudentRaised

DEFAULT_EXAMPLES = 40
DEFAULT_BUDGET_S = 8.0
"""Seconds of exploring per call of `for_all` before the remaining examples are skipped: a slow
but correct submission passes on the examples it had time for, never fails for being slow here
(the checks' own time limits judge speed)."""
SEED = 20261205

_drawn: dict[tuple, list] = {}
"""Examples drawn per (check, strategy, count), kept for the life of the grading process: every
submission a batch worker grades gets the same examples without paying Hypothesis's cost of
drawing them again (about 2 ms an example against 0.2 ms to ask the student's code)."""


class _StopExploring(BaseException):
    """Carries a failure out of Hypothesis without shrinking it (a BaseException, so Hypothesis
    does not treat it as a test failure to minimise)."""

    def __init__(self, error: BaseException):
        super().__init__(str(error))
        self.error = error


def _shrinkable(error: BaseException) -> bool:
    """A wrong answer or an exception the student's code raised is worth shrinking to its
    smallest input; a hang, a crash, a stub's NotImplementedError or the grader's own fault is not."""
    if isinstance(error, StudentRaised):
        return not error.not_implemented
    return isinstance(error, CheckFailed)


def for_all(strategy: st.SearchStrategy, check: Callable[[Any], None], *, examples: int = DEFAULT_EXAMPLES,
            budget_s: float = DEFAULT_BUDGET_S) -> None:
    """Run `check(example)` on `examples` examples drawn from `strategy` (a fixed seed, no example
    database, so the same examples for every submission); on a failure, re-raise the failure of
    the smallest example that still fails. `check` raises CheckFailed (api.fail, expect_close)
    with the example in its message, and must not change the example it is given."""
    key = (current_check(), repr(strategy), examples)
    if key not in _drawn:
        _drawn[key] = _draw(strategy, examples)
    deadline = time.monotonic() + budget_s
    for example in _drawn[key]:
        if time.monotonic() > deadline:
            return  # out of time: the examples left are skipped, never failed
        try:
            check(copy.deepcopy(example))
        except BaseException as error:  # noqa: BLE001 - a wrong answer is shrunk, the rest re-raised
            if not _shrinkable(error):
                raise
            _shrink(strategy, check, examples, deadline)
            raise  # Hypothesis did not reproduce it (the student's code is not deterministic)


def _settings(examples: int, phases: tuple) -> Callable:
    def apply(test: Callable) -> Callable:
        test = settings(max_examples=examples, derandomize=False, database=None, deadline=None, print_blob=False,
                        report_multiple_bugs=False, verbosity=Verbosity.quiet, phases=phases,
                        suppress_health_check=list(HealthCheck))(test)
        return seed(SEED)(test)
    return apply


def _draw(strategy: st.SearchStrategy, examples: int) -> list:
    """The examples Hypothesis generates for `strategy` with the fixed seed, in order."""
    drawn: list = []

    @_settings(examples, (Phase.explicit, Phase.generate))
    @given(strategy)
    def record(example: Any) -> None:
        drawn.append(copy.deepcopy(example))

    record()
    return drawn


def _shrink(strategy: st.SearchStrategy, check: Callable[[Any], None], examples: int, deadline: float) -> None:
    """Let Hypothesis replay the same examples (same seed) up to the failing one and shrink it;
    raises the smallest example's failure. Returns only when no example failed this time."""
    shrink_deadline = max(deadline, time.monotonic() + SHRINK_BUDGET_S)

    @_settings(examples, (Phase.explicit, Phase.generate, Phase.shrink))
    @given(strategy)
    def explore(example: Any) -> None:
        if time.monotonic() > shrink_deadline:
            return  # out of time while shrinking: the smallest failure found so far stands
        try:
            check(example)
        except BaseException as error:  # noqa: BLE001 - sorted below, re-raised either way
            if _shrinkable(error):
                raise
            raise _StopExploring(error) from None

    try:
        explore()
    except _StopExploring as stop:
        raise stop.error from None
    except FlakyFailure as flaky:  # the same input failed once and passed once
        raise _first_failure(flaky) from None
    except Flaky as flaky:
        raise CheckFailed("your code gave different results for the same input on two calls.",
                          hint="results must depend only on the arguments (no global state or unseeded "
                               "randomness between calls).") from flaky


SHRINK_BUDGET_S = 5.0
"""Seconds allowed to shrink a failure once found, beyond the exploring budget."""


def _first_failure(group: BaseException) -> BaseException:
    """The first failure inside an exception group (Python 3.10 has no BaseExceptionGroup)."""
    inner = getattr(group, "exceptions", None)
    return _first_failure(inner[0]) if inner else group


# --- strategies for what SPEC.md allows -------------------------------------------------------

def layouts() -> st.SearchStrategy[str]:
    """Every memory layout an array may arrive in (codec.LAYOUTS); C first, so it shrinks to C."""
    return st.sampled_from(LAYOUTS)


def in_layout(array: np.ndarray, layout: str) -> Any:
    """`array` as an argument that reaches the student's code in `layout` (codec.Layout)."""
    return Layout(array, layout) if layout != "C" else array


def float_arrays(shape: st.SearchStrategy | tuple, *, low: float = -10.0, high: float = 10.0,
                 dtypes: tuple = (np.float64,), width: int = 64) -> st.SearchStrategy[np.ndarray]:
    """Finite floats in [low, high] of the given shape(s) and dtype(s)."""
    return st.sampled_from(dtypes).flatmap(lambda dtype: hnp.arrays(
        dtype, shape, elements=st.floats(low, high, allow_nan=False, allow_infinity=False,
                                         width=min(width, np.dtype(dtype).itemsize * 8))))


def shapes(min_dims: int = 1, max_dims: int = 2, min_side: int = 1, max_side: int = 6) -> st.SearchStrategy[tuple]:
    """Array shapes, including size-1 sides and coincident sides (N == C)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


# --- h4: shrinking bounded by a number of calls, not only by time --------------------------------
SHRINK_CALLS = 80
"""Calls of a check that shrinking may make in `within_calls`: enough for Hypothesis to reach a
small example, few enough to finish far inside SHRINK_BUDGET_S on a loaded machine."""


def within_calls(check: Callable[[Any], None], limit: int = SHRINK_CALLS) -> Callable[[Any], None]:
    """`check` that, after `limit` calls, passes every example it has not seen fail: shrinking then
    stops at the same example however busy the machine is (SHRINK_BUDGET_S alone would stop it
    wherever the clock runs out, so the message shown could differ between two gradings). An
    example seen failing fails again the same way, so Hypothesis's replay of the smallest one
    raises its failure. Make a new one per for_all call: the count is per grading."""
    calls = 0
    failures: dict[bytes, BaseException] = {}

    def limited(example: Any) -> None:
        nonlocal calls
        key = pickle.dumps(example) if failures or calls >= limit else None  # no failure yet: nothing to look up
        if key in failures:
            raise failures[key]
        calls += 1
        if calls > limit:
            return
        try:
            check(example)
        except BaseException as error:  # noqa: BLE001 - remembered, then re-raised unchanged
            failures[pickle.dumps(example) if key is None else key] = error
            raise

    return limited
