"""Whose fault: the one place a check's exception becomes a status, an origin and a message.

Default deny: a failure is charged to the student only when it is proven to come from the
student's code:

- a wrong answer (`CheckFailed`, raised by the check's comparisons and converters);
- an exception whose raise site is the student's code (the child decides it from the frames
  of its traceback: `child.raise_site`), or the student's process crashing, hanging, flooding
  or breaking its connection (`StudentCodeError`);
- a value the student returned that a converter rejects (`StudentValueRejected`).

Everything else is the grader's: the check's own code, a helper, a callback's body, the harness
in the student's process, the sandbox, a stand-in of the students' bundle. It becomes
`could_not_run` with its origin ("grader", "machine", "data", or "exercise:<name>" when another
exercise's code stopped this one), costs the student nothing, is regraded by batch, and keeps
its traceback for the instructor only.
"""

from __future__ import annotations

import traceback as tb
from dataclasses import dataclass, field, replace
from typing import Any

from grader.checks.api import CheckCouldNotRun, CheckFailed
from grader.checks.translated import _, english_of
from grader.results import COULD_NOT_RUN, ERROR, FAILED, CheckResult, Failure, cause_key
from grader.sandbox.errors import DATA, GRADER, MACHINE, STUDENT, GraderFault, ImportFailed, StudentCodeError, StudentRaised
from grader.sandbox.session import StudentValueRejected

TRACEBACK_LIMIT = 8000
"""Characters of a grader fault's traceback kept for the instructor."""


@dataclass
class Outcome:
    """A failed check's verdict: what CheckResult gets."""

    status: str
    origin: str
    message: str
    hint: str = ""
    location: dict[str, Any] = field(default_factory=dict)
    traceback: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    failure: Failure | None = None
    """A wrong answer's typed facts (input, expected, got), as the check gave them."""


def classify(exc: BaseException | None, fault: Exception | None = None) -> Outcome:
    """The verdict for a check that ended with `exc`; `fault` is a grader fault recorded during
    the check (a callback's body that raised), which decides whatever the check did next."""
    if isinstance(fault, CheckFailed):  # a callback of the check's found a wrong answer
        return classify(fault)
    if fault is not None:
        return _grader_fault(fault)
    if isinstance(exc, CheckFailed):
        return Outcome(FAILED, STUDENT, exc.message, exc.hint, _student_location(exc), details=dict(exc.details),
                       failure=exc.failure)
    if isinstance(exc, CheckCouldNotRun):
        return Outcome(COULD_NOT_RUN, _could_not_run_origin(exc), exc.message, exc.hint)
    if isinstance(exc, GraderFault):
        return _grader_fault(exc)
    if isinstance(exc, StudentCodeError):
        return _student_code(exc)
    if isinstance(exc, StudentValueRejected):
        return Outcome(FAILED, STUDENT, f"{exc}.",
                       _("return the values themselves (a numpy array or a float), not an object of your own."))
    return _unexpected(exc)


def _student_code(exc: StudentCodeError) -> Outcome:
    cause = exc.cause if isinstance(exc, ImportFailed) else exc
    if isinstance(cause, GraderFault):  # the harness failed while importing the module
        return _grader_fault(cause)
    if getattr(cause, "grader_fault", False):  # the sandbox refused, or its harness failed before import
        return Outcome(COULD_NOT_RUN, getattr(cause, "origin", MACHINE), exc.student_message())
    location = cause.location if isinstance(cause, StudentRaised) else {}
    status = FAILED if getattr(cause, "not_implemented", False) else ERROR
    return Outcome(status, STUDENT, exc.student_message(), location=location)


def _grader_fault(fault: GraderFault) -> Outcome:
    return Outcome(COULD_NOT_RUN, fault.origin, fault.student_message(), location=dict(getattr(fault, "location", {})),
                   traceback=fault.traceback or _traceback(fault))


def _unexpected(exc: BaseException | None) -> Outcome:
    """Anything no rule claims for the student: the check's own code or a helper raised."""
    from grader.sandbox.launcher import SandboxUnavailable

    if exc is None:
        return Outcome(COULD_NOT_RUN, GRADER, _("the check ended without saying why; this is a problem of the "
                                                "grader, not of your code: this check was not graded."))
    origin = MACHINE if isinstance(exc, (SandboxUnavailable, OSError)) else GRADER
    if origin == MACHINE:
        message = _("the grading machine failed ({error}); this is not a problem of your code: this check was not "
                    "graded and will be graded again.")
    else:
        message = _("the grader's own check failed ({error}); this is not a problem of your code: this check was "
                    "not graded and will be graded again.")
    return Outcome(COULD_NOT_RUN, origin, message.format(error=type(exc).__name__), traceback=_traceback(exc))


def _could_not_run_origin(exc: CheckCouldNotRun) -> str:
    """A check's own could_not_run: its `origin` when it names one, else read from the error it
    was raised while handling: MNIST missing or damaged is "data", a grader fault (a bundle
    stand-in without an answer) keeps its origin, anything else is the machine's."""
    from grader.mnist import MnistError

    if getattr(exc, "origin", ""):
        return exc.origin
    for cause in _causes(exc):
        if isinstance(cause, MnistError):
            return DATA
        if isinstance(cause, GraderFault):
            return cause.origin
    return MACHINE


def _causes(exc: BaseException, depth: int = 5) -> list[BaseException]:
    """The exceptions `exc` was raised while handling (or from), nearest first."""
    found, seen = [], exc.__cause__ or exc.__context__
    while seen is not None and len(found) < depth:
        found.append(seen)
        seen = seen.__cause__ or seen.__context__
    return found


def _student_location(failure: CheckFailed) -> dict:
    """A wrong answer the check gave while handling an exception of the student's code (it
    expected another exception, or none) still names the line that raised."""
    return next((cause.location for cause in _causes(failure) if isinstance(cause, StudentRaised)), {})


def _traceback(exc: BaseException) -> str:
    return "".join(tb.format_exception(type(exc), exc, exc.__traceback__))[-TRACEBACK_LIMIT:]


def cause_of(check: CheckResult) -> str:
    """results.cause_key of `check` read in English (translated.english_of), worked out while
    the check's sentences are still known: a student graded in Korean and one graded in English
    who made the same mistake get the same key."""
    failure = check.failure and replace(check.failure, **{name: english_of(getattr(check.failure, name))
                                                          for name in ("rationale", "call", "inputs")})
    english = replace(check, message=english_of(check.message), hint=english_of(check.hint), failure=failure,
                      cause="")
    return cause_key(english)
