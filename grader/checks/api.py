"""What a check author writes with: point-carrying decorators, failures with hints, comparisons.

A check is a pytest test function in grader/checks/exerciseN/ that takes the `student`
fixture (the student's module, living in the sandbox) and compares what it returns with the
reference, which is imported directly in the grader's own process:

    @public(points=1)
    def test_softmax_rows_sum_to_one(student):
        x = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
        expect_close(student.softmax(x), ref.softmax(x), call="softmax(x)", inputs={"x": x},
                     hint="did you normalise over the right axis (axis=-1, keepdims=True)?")

Errors raised by the student's code (crash, hang, exception) need no handling here: the
runner turns them into a failed check with a message a student understands.
"""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator, NoReturn

import numpy as np

from grader.results import Curves, Failure, GradientTable, Timing, shorten

PUBLIC, HIDDEN = "public", "hidden"



@dataclass
class CheckInProgress:
    name: str
    details: dict = field(default_factory=dict)


_running: contextvars.ContextVar[CheckInProgress | None] = contextvars.ContextVar("running_check", default=None)


@contextlib.contextmanager
def running_check(name: str, details: dict) -> Iterator[None]:
    """Set by the runner around each check: `attach` adds to `details`, and the release's
    recorder (course/oracle/record.py) files the reference's answers under `name`."""
    token = _running.set(CheckInProgress(name, details))
    try:
        yield
    finally:
        _running.reset(token)


def current_check() -> str | None:
    """The name of the check running now (without `test_`), or None outside a check."""
    running = _running.get()
    return running.name if running else None


class CheckFailed(AssertionError):
    """A wrong answer, as typed fields (check50's Failure/Mismatch): `rationale` says what is
    wrong, `hint` what to look at, and `call`, `inputs`, `expected`, `got` are the facts, each
    readable text. Every renderer composes its own text from them; `message` is the one
    readable sentence composed from them (results.Failure.sentence), the result's `message`.
    `details` are other values for the report (api.attach's kind)."""

    def __init__(self, rationale: str, hint: str = "", details: dict[str, Any] | None = None, *,
                 call: str = "", inputs: str = "", expected: Any = "", got: Any = "", cause: str = ""):
        self.failure = Failure(rationale=rationale, call=str(call or ""), inputs=str(inputs or ""),
                               expected=_fact(expected), got=_fact(got), cause=cause)
        self.message = self.failure.sentence()
        super().__init__(self.message)
        self.hint = hint
        self.details = details or {}

    @property
    def rationale(self) -> str:
        return self.failure.rationale


def _fact(value: Any) -> str:
    """A fact as text: given text stays as it is, a value is shown as `show` shows it."""
    if value is None or isinstance(value, str):
        return value or ""
    return show(value)


class CheckCouldNotRun(Exception):
    """The grader, not the student, could not run this check (e.g. MNIST is missing)."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint


def could_not_run(message: str, *, hint: str = "") -> NoReturn:
    """End the check as 'could not run' (status could_not_run, no points until regraded),
    blaming the grader or the machine, not the student's code."""
    raise CheckCouldNotRun(message, hint)


def _mark(visibility: str, points: float, timeout: float | None) -> Callable:
    if points <= 0:
        raise ValueError("a check must be worth some points")

    def decorate(func: Callable) -> Callable:
        func.grader_check = {"points": float(points), "visibility": visibility, "timeout": timeout}
        return func

    return decorate


def public(points: float, timeout: float | None = None) -> Callable:
    """A check whose name, message and points the student sees (and can run at home)."""
    return _mark(PUBLIC, points, timeout)


def hidden(points: float, timeout: float | None = None) -> Callable:
    """A check that runs only when the instructor grades; students see only its points."""
    return _mark(HIDDEN, points, timeout)


def attach(*records: Any, **details: Any) -> None:
    """Add structured data to the running check's result: typed records (results.GradientTable,
    Curves, Timing), which the HTML report draws by type, and any other named values, listed
    as text. The keywords `gradients`, `curves`, `reference_curves`, `seconds`,
    `reference_seconds`, `device` and `dataset` are read back as those same records."""
    running = _running.get()
    if running is not None:
        for record in records:
            running.details.update(record_details(record))
        running.details.update(details)


def record_details(record: Any) -> dict[str, Any]:
    """A typed attachment as the details it is stored as (results.attachments_of reads it back)."""
    if isinstance(record, GradientTable):
        return {"gradients": [asdict(row) for row in record.rows]}
    if isinstance(record, Curves):
        return {"curves": record.series, **({"reference_curves": record.reference} if record.reference else {})}
    if isinstance(record, Timing):
        found = {"seconds": record.seconds, "reference_seconds": record.reference_seconds, "device": record.device,
                 "dataset": record.dataset}
        return {key: value for key, value in found.items() if value not in (None, "")}
    raise TypeError(f"attach() takes GradientTable, Curves or Timing records, not {type(record).__name__}")


def fail(rationale: str, *, hint: str = "", call: str = "", inputs: Any = "", expected: Any = "", got: Any = "",
         cause: str = "", **details: Any) -> NoReturn:
    """End the check as a wrong answer: `rationale` is what is wrong (a sentence), `hint` what
    the student can do; `call`, `inputs` (a dict is shown as name=value pairs), `expected` and
    `got` are the facts the reports list; `cause` a stable name for the mistake, for the class
    summary's grouping (results.cause_key; derived from the hint when not given); any other
    keyword is a detail for the report."""
    if isinstance(inputs, dict):
        inputs = describe_inputs(inputs)
    raise CheckFailed(rationale, hint=hint, details=details, call=call, inputs=inputs, expected=expected, got=got,
                      cause=cause)


def show(value: Any, limit: int = 300) -> str:
    """A short, readable rendering of an input or output for a message."""
    if isinstance(value, (np.ndarray, np.floating, float)) and np.ndim(value) == 0 and not isinstance(value, bool):
        number = np.asarray(value).item()
        text = f"{number:.6g}" if isinstance(number, float) else repr(number)
    elif isinstance(value, np.ndarray):
        with np.printoptions(precision=6, suppress=True, threshold=20, edgeitems=3, linewidth=100):
            text = np.array2string(value, separator=", ")
        text = f"array(shape={value.shape}, dtype={value.dtype}) {text}" if value.size > 6 else f"array({text})"
    else:
        text = repr(value)
    return shorten(text, limit)


def describe_inputs(inputs: dict[str, Any] | None) -> str:
    if not inputs:
        return ""
    return ", ".join(f"{k}={show(v, 160)}" for k, v in inputs.items())


def student_object(value: Any, depth: int = 0) -> str:
    """"a generator object" when `value` is (or, in a list/tuple, holds) an object that stayed
    in the student's process (a RemoteObject); "" for plain data. Such an object is never
    compared or converted: its own __eq__/__float__/__len__ cannot fake a match."""
    from grader.sandbox.session import RemoteObject, a_or_an, student_type

    if isinstance(value, RemoteObject):
        kind = student_type(value)
        return a_or_an(f"{kind} object") if kind else "an object"
    if isinstance(value, (list, tuple)) and depth < 3:
        return next((found for item in value[:1000] if (found := student_object(item, depth + 1))), "")
    return ""


def _holds_text(value: Any, depth: int = 0) -> bool:
    if isinstance(value, (str, bytes)):
        return True
    return isinstance(value, (list, tuple)) and depth < 3 and any(_holds_text(v, depth + 1) for v in value[:1000])


def _reject_student_object(value: Any, call: str, expected: str) -> None:
    """Refuse what is not numbers before numpy converts it: a student object, or text ("0.0975"
    or a list of such strings, which np.asarray(..., dtype=float) would quietly parse)."""
    found = student_object(value)
    if found:
        fail(f"{call} returned {found}, not {expected}; the grader can only compare numbers and arrays.",
             hint="return the values themselves (a numpy array or a float), not a generator, lambda, "
                  "function or object of your own.", call=call, got=found, cause="returned-object")
    if _holds_text(value):
        fail(f"{call} returned text, not {expected}.",
             hint="return the number or array itself, not a string made from it (no str(), f-strings or "
                  "formatting).", call=call, expected=expected, got=show(value, 120), cause="returned-text")


def as_array(value: Any, *, call: str, hint: str = "") -> np.ndarray:
    """The student's result as a float array, or a failure that says what came back instead."""
    _reject_student_object(value, call, "a numpy array")
    if value is None:
        fail(f"{call} returned None; expected a numpy array.", hint="did you forget `return`?", call=call,
             cause="returned-none")
    if isinstance(value, (np.ndarray, list, tuple, float, int, np.number)) and not isinstance(value, bool):
        try:
            arr = np.asarray(value, dtype=float)
            return arr
        except (TypeError, ValueError):
            pass
    fail(f"{call} returned {type(value).__name__} {show(value, 80)}; expected a numpy array of numbers.",
         hint=hint or "return the array you computed (check for a missing `return`).", call=call,
         expected="a numpy array of numbers", got=show(value))


def as_float(value: Any, *, call: str, hint: str = "") -> float:
    """Accepts a Python float, a numpy scalar or a 0-d/size-1 array, as SPEC.md allows."""
    _reject_student_object(value, call, "a number")
    if value is None:
        fail(f"{call} returned None; expected a number.", hint="did you forget `return`?", call=call,
             cause="returned-none")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.size != 1:
        fail(f"{call} returned {show(value, 120)}; expected a single number.",
             hint=hint or "the result should be one number (the mean over the batch), not an array.",
             call=call, got=show(value))
    return float(arr.reshape(()))


def expect_shape(got: np.ndarray, shape: tuple, *, call: str, inputs: dict | None = None, hint: str = "") -> None:
    if tuple(got.shape) != tuple(shape):
        fail(f"{call} returned an array of the wrong shape.", hint=hint, call=call, inputs=describe_inputs(inputs),
             expected=f"shape {tuple(shape)}", got=f"shape {tuple(got.shape)}", cause="wrong-shape")


def expect_close(got: Any, expected: Any, *, call: str, inputs: dict | None = None, hint: str = "",
                 rtol: float = 1e-6, atol: float = 1e-8) -> np.ndarray:
    """Compare a numeric result with the reference: shape first, then values within rtol/atol."""
    expected_arr = np.asarray(expected, dtype=float)
    got_arr = as_float(got, call=call, hint=hint) if expected_arr.ndim == 0 else as_array(got, call=call, hint=hint)
    got_arr = np.asarray(got_arr, dtype=float)
    if expected_arr.ndim:
        expect_shape(got_arr, expected_arr.shape, call=call, inputs=inputs, hint=hint)
    if not np.allclose(got_arr, expected_arr, rtol=rtol, atol=atol, equal_nan=False):
        fail(_difference(call, got_arr, expected_arr, rtol, atol), hint=hint, call=call,
             inputs=describe_inputs(inputs), expected=show(expected_arr), got=show(got_arr))
    return got_arr


def _difference(call: str, got: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> str:
    """The rationale of a numeric mismatch: where the first difference is, with both values."""
    if not expected.ndim:
        return f"{call} gave {got.item():.6g}; expected {expected.item():.6g}."
    bad = ~np.isclose(got, expected, rtol=rtol, atol=atol)
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    return (f"{call} differs from the expected result (first difference at index {idx}: expected "
            f"{expected[idx]:.6g}, got {got[idx]:.6g}).")


def limit_time(student: Any, seconds: float) -> None:
    """Give the student's code at most `seconds` more in this check (never more than it had),
    e.g. a timed run allowed a few times the reference's time: a far too slow submission is
    then stopped early (StudentTimeout) instead of using the check's whole timeout."""
    import time

    from grader.sandbox.session import session_of

    session = session_of(student)
    if seconds < session.deadline - time.monotonic():
        session.set_deadline(seconds, session.budget_kind)
