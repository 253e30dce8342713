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
import functools
import pickle
import sys
import time
from collections import Counter
from typing import Any, Callable

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky, FlakyFailure
from hypothesis.extra import numpy as hnp

from grader.checks import api
from grader.checks.api import CheckFailed, current_check
from grader.checks.translated import _
from grader.sandbox.codec import LAYOUTS, Layout
from grader.sandbox.errors import StudentCodeError, StudentRaised
from grader.sandbox.session import messages_so_far

DEFAULT_EXAMPLES = 40
DEFAULT_BUDGET_S = 5.0
"""Seconds of exploring per call of `for_all` before the remaining examples are skipped: a slow
but correct submission passes on the examples it had time for, never fails for being slow here
(the checks' own time limits judge speed). With SHRINK_BUDGET_S it stays under the 10 s a check
has by default (catalog.Exercise.check_timeout): a check calling `for_all` more than once, or
with a larger budget, needs a `timeout=` that covers them all."""
SHRINK_BUDGET_S = 3.0
"""Seconds allowed to shrink a failure once found, beyond the exploring budget: a safety net
for slow code only. The limits below end shrinking first, and they are counts, not seconds, so
the example shown is the same on a loaded machine."""
MAX_SHRINK_DRAWS = 150
"""Inputs Hypothesis draws while shrinking, after the first failure (each costs Hypothesis
about 2 ms for an array, several for a whole scenario): enough to bring a random array down to a
small one."""
MAX_SHRINK_MESSAGES = 400
"""Messages to the student's process while shrinking (session.messages_so_far): bounds the
shrinking of checks whose every input runs a whole scenario (an optimizer over several calls, a
network's sequence of methods); a function checked one call an input stops at MAX_SHRINK_DRAWS
first."""
SEED = 20261205

_drawn: dict[tuple, list] = {}
"""Examples drawn per call of `for_all` (check, place in the check's code, how many times that
place ran in this run of the check, strategy, count), kept for the life of the grading process:
every submission a batch worker grades gets the same examples without paying Hypothesis's cost
of drawing them again (about 2 ms an example against 0.2 ms to ask the student's code). The
strategy's repr alone is no key: two composites of the same function with other arguments may print alike."""
_shrunk: dict[tuple, Any] = {}
"""The smallest failing example found for a behaviour: the same first failing example failing
with the same message (so the same wrong values). A batch meets the same mistake many times
(everyone who used log10 gets the same numbers): a later submission is tried on that small
example first and shrunk only when it passes there, which saves Hypothesis's shrinking (about
0.3 s a check). The same submission always meets its own earlier result, so grading it again
gives the same message."""
_calls = {"run": None, "seen": Counter()}
"""The check run now in progress (api's record of it) and how often each place called `for_all` in it."""
_shrinking = False
"""Whether a failure is being shrunk now (see `shrinking`)."""


class _StopExploring(BaseException):
    """Ends shrinking: past its limits, or on a hang or crash, which is not worth shrinking (a
    BaseException, so Hypothesis does not treat it as a test failure to minimise)."""


def shrinking() -> bool:
    """True while a failure is being shrunk: then only whether an input fails matters, so a check
    may skip what only words its message (e.g. a hint that reruns the student's code on variants
    of the input). The smallest failing input is checked once more afterwards, with the message
    in full."""
    return _shrinking


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
    key = (current_check(), *_call_site(), repr(strategy), examples)
    if key not in _drawn:
        _drawn[key] = _smallest_first(_draw(strategy, examples))
    deadline = time.monotonic() + budget_s
    for index, example in _drawn[key]:
        if time.monotonic() > deadline:
            return  # out of time: the examples left are skipped, never failed
        try:
            check(copy.deepcopy(example))
        except BaseException as error:  # noqa: BLE001 - a wrong answer is shrunk, the rest re-raised
            if not _shrinkable(error):
                raise
            behaviour = (key, index, type(error).__name__, str(error))
            if behaviour in _shrunk:
                _check_known_smallest(check, _shrunk[behaviour], error)
            smallest = _shrink(strategy, check, examples, deadline, start_at=index)
            if smallest is None:
                raise  # Hypothesis did not reproduce it (the student's code is not deterministic)
            failure, _shrunk[behaviour] = smallest
            raise failure from None


def _smallest_first(examples: list) -> list[tuple[int, Any]]:
    """(Hypothesis's index, example), the smallest examples first (by the size of their pickled
    data: array elements, dict keys, call steps; ties in Hypothesis's order): the first failing
    example is then the smallest that fails, which is what the student sees even where shrinking
    stops early, and shrinking it costs least."""
    def size(item: tuple[int, Any]) -> tuple[int, int]:
        try:
            return len(pickle.dumps(item[1], protocol=5)), item[0]
        except Exception:  # noqa: BLE001 - an example pickle cannot copy: keep its place
            return 0, item[0]

    return sorted(enumerate(examples), key=size)


def _check_known_smallest(check: Callable[[Any], None], smallest: Any, first: BaseException) -> None:
    """Try the smallest example another submission failed with the same behaviour: raises this
    submission's own failure there; returns when it passes there (then it is shrunk as usual).
    A hang or crash on that example does not replace the wrong answer found first, as shrinking
    would not let it."""
    try:
        check(copy.deepcopy(smallest))
    except BaseException as error:  # noqa: BLE001 - a wrong answer there is the one reported
        if _shrinkable(error):
            raise
        raise first from None


def _call_site() -> tuple:
    """(file, line, n): where the check called `for_all`, and that this is the n-th call from
    there in this run of the check (a loop over shapes calls it from one line)."""
    run = api._running.get()  # a new record for each run of a check (api.running_check)
    if run is not _calls["run"]:
        _calls["run"], _calls["seen"] = run, Counter()
    caller = sys._getframe(2)
    place = (caller.f_code.co_filename, caller.f_lineno)
    _calls["seen"][place] += 1
    return (*place, _calls["seen"][place])


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


def _shrink(strategy: st.SearchStrategy, check: Callable[[Any], None], examples: int,
            deadline: float, start_at: int = 0) -> tuple[BaseException, Any] | None:
    """Let Hypothesis replay the same examples (same seed) up to the failing one, number
    `start_at` in its order (the ones before it pass unchecked), and shrink it:
    (the failure, the example) of the smallest failing example found, or None when none failed
    this time. Every input Hypothesis tries while shrinking is smaller than the last one that
    failed, so the last failure seen is the smallest so far; shrinking stops after
    MAX_SHRINK_DRAWS inputs or MAX_SHRINK_MESSAGES messages to the student's code (or
    SHRINK_BUDGET_S), or when an input hangs or crashes the student's code. The smallest is
    then checked again outside shrinking mode, for its full message."""
    global _shrinking
    budget = _ShrinkBudget(max(deadline, time.monotonic() + SHRINK_BUDGET_S))
    failures: list[tuple[BaseException, Any]] = []
    replayed = 0

    @_settings(examples, (Phase.explicit, Phase.generate, Phase.shrink))
    @given(_counting_draws(strategy, budget))
    def explore(example: Any) -> None:
        nonlocal replayed
        if not failures and replayed < start_at:
            replayed += 1
            return
        budget.check()
        try:
            check(example)
        except BaseException as error:  # noqa: BLE001 - sorted below, re-raised either way
            if not _shrinkable(error):
                raise _StopExploring from None
            failures.append((error, example))
            budget.start()
            raise

    _shrinking = True
    try:
        explore()
    except _StopExploring:
        pass
    except FlakyFailure as flaky:  # the same input failed once and passed once
        raise _first_failure(flaky) from None
    except Flaky as flaky:
        raise CheckFailed(_("your code gave different results for the same input on two calls."),
                          hint=_("results must depend only on the arguments (no global state or unseeded "
                                 "randomness between calls).")) from flaky
    except Exception:  # noqa: BLE001 - Hypothesis re-raised the smallest failure, already recorded
        pass
    finally:
        _shrinking = False
    if not failures:
        return None
    return _in_full(check, *failures[-1])


class _ShrinkBudget:
    """Counts what shrinking has cost since the first failure; ends it past the limits."""

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.draws = 0
        self.first_message: int | None = None

    def start(self) -> None:
        if self.first_message is None:
            self.first_message = messages_so_far()

    def spend_draw(self) -> None:
        if self.first_message is not None:
            self.draws += 1

    def check(self) -> None:
        """Ends shrinking past a limit. Called as an input reaches the check, never while one is
        drawn (Hypothesis takes a draw cut short for a strategy that changes between runs)."""
        if self.first_message is None:
            return
        if (self.draws > MAX_SHRINK_DRAWS or messages_so_far() - self.first_message > MAX_SHRINK_MESSAGES
                or time.monotonic() > self.deadline):
            raise _StopExploring


def _counting_draws(strategy: st.SearchStrategy, budget: _ShrinkBudget) -> st.SearchStrategy:
    """`strategy`, drawing the same examples, with each draw counted against the shrinking budget
    (Hypothesis also draws inputs it rejects before they reach the check)."""
    @st.composite
    def counted(draw: Callable) -> Any:
        budget.spend_draw()
        return draw(strategy)

    return counted()


def _in_full(check: Callable[[Any], None], failure: BaseException, example: Any) -> tuple[BaseException, Any]:
    """(the failure, the example) with the failure's message in full: `example` checked again
    outside shrinking mode. A check that passes or hangs there keeps the failure found."""
    try:
        check(copy.deepcopy(example))
    except BaseException as error:  # noqa: BLE001 - a wrong answer is the one reported
        if _shrinkable(error):
            return error, example
    return failure, example


def _first_failure(group: BaseException) -> BaseException:
    """The first failure inside an exception group (Python 3.10 has no BaseExceptionGroup)."""
    inner = getattr(group, "exceptions", None)
    return _first_failure(inner[0]) if inner else group


class pinned:
    """The student's module with each attribute looked up once per check, as `from losses import
    softmax` would: each example then costs one round trip into the student's process (the
    call), not two (the lookup, then the call). A missing attribute is asked again each time."""

    def __init__(self, module: Any):
        self._module = module
        self._found: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if name not in self._found:
            self._found[name] = getattr(self._module, name)
        return self._found[name]


# --- strategies for what SPEC.md allows -------------------------------------------------------

def layouts() -> st.SearchStrategy[str]:
    """Every memory layout an array may arrive in (codec.LAYOUTS); C first, so it shrinks to C."""
    return st.sampled_from(LAYOUTS)


def in_layout(array: np.ndarray, layout: str) -> Any:
    """`array` as an argument that reaches the student's code in `layout` (codec.Layout)."""
    return Layout(array, layout) if layout != "C" else array


def built_once(make: Callable[..., st.SearchStrategy]) -> Callable[..., st.SearchStrategy]:
    """`make`, giving back the strategy it built before for the same (hashable) arguments. A
    strategy built inside a composite or a flatmap is otherwise built and validated anew on every
    draw: a fifth of Hypothesis's time while it shrinks a scenario. The examples drawn are the same."""
    return functools.lru_cache(maxsize=4096)(make)


@built_once
def arrays(dtype: Any, shape: Any, elements: st.SearchStrategy) -> st.SearchStrategy[np.ndarray]:
    """hnp.arrays(dtype, shape, elements=elements), built once (see built_once)."""
    return hnp.arrays(dtype, shape, elements=elements)


def shapes(min_dims: int = 1, max_dims: int = 2, min_side: int = 1, max_side: int = 6) -> st.SearchStrategy[tuple]:
    """Array shapes, including size-1 sides and coincident sides (N == C)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


# --- h3: a student's exception that names the (shrunk) input ----------------------------------

def call_showing_input(function: Callable, *args, call: str, inputs: dict[str, Any], **kwargs) -> Any:
    """`function(*args, **kwargs)` (a student's function); when the student's code raises, the
    same exception is re-raised with the call and its input in its message (still the student's
    error, status 'error'), so the student sees the smallest input that makes the code raise."""
    from grader.checks.api import describe_inputs

    try:
        return function(*args, **kwargs)
    except StudentRaised as error:
        if error.not_implemented:
            raise
        label = _("{call} for {inputs}").format(call=call, inputs=describe_inputs(inputs, inline=True))
        raise type(error)(error.info, label, error.memory_mb) from None


def expect_close_or_hint(got: Any, expected: Any, *, hint: Callable[[], str], **compare: Any) -> None:
    """api.expect_close, with the hint worked out only when the answer is wrong (a hint costs
    numpy calls, and most examples pass), and the first differing value given to 12 digits when
    the message's 6 digits show the same number ("gave 3; expected 3")."""
    from grader.checks.api import expect_close

    try:
        expect_close(got, expected, **compare)
    except CheckFailed as failure:
        failure.hint = " ".join(part for part in (hint(), _digits(got, expected)) if part)
        raise


def _digits(got: Any, expected: Any) -> str:
    try:
        if np.shape(got) != np.shape(expected):  # a wrong shape: its digits say nothing
            return ""
        got_arr = np.asarray(got, dtype=float).reshape(-1)
        expected_arr = np.asarray(expected, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        return ""
    if got_arr.shape != expected_arr.shape or not got_arr.size:
        return ""
    index = int(np.argmax(got_arr != expected_arr))
    g, e = got_arr[index], expected_arr[index]
    if not (np.isfinite(g) and np.isfinite(e)) or f"{g:.6g}" != f"{e:.6g}":
        return ""
    return _("(To 12 digits: expected {expected}, got {got}.)").format(expected=f"{e:.12g}", got=f"{g:.12g}")


# --- h3: examples that depend on the seed alone, not on which modules are loaded ---------------
# Hypothesis (6.13x on) mixes into its draws numbers it finds in the source of every "local"
# module loaded at that moment (providers._get_local_constants). The same seed then drew other
# examples in `grade`, in a batch worker and under pytest (seen on exercise 2: a case caught in
# one and not in the other). An empty pool of such constants makes the drawn examples a
# function of the seed and the strategy only.
try:
    from hypothesis.internal.conjecture import providers as _providers

    _NO_LOCAL_CONSTANTS = _providers.Constants()
    _providers._get_local_constants = lambda: _NO_LOCAL_CONSTANTS
except (ImportError, AttributeError, TypeError):  # pragma: no cover - another Hypothesis: nothing to turn off
    pass
