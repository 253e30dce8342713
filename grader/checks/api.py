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
import itertools
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterator, NoReturn

import numpy as np

from grader.checks import translated
from grader.checks.translated import _
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
        self.message = sentence(self.failure)
        super().__init__(self.message)
        self.hint = hint
        self.details = details or {}

    @property
    def rationale(self) -> str:
        return self.failure.rationale


def _fact(value: Any) -> str:
    """A fact as text: given text stays as it is, a value is shown as `show_block` shows it."""
    if value is None or isinstance(value, str):
        return value or ""
    return show_block(value)


def sentence(failure: Failure) -> str:
    """The check's `message`, in the current language: the rationale, then the input and the
    expected and returned values it does not already quote (results.Failure.sentence's English)."""
    facts = dict(failure.facts())
    text = failure.rationale.rstrip()
    if "Input" in facts:
        text += " " + _("Input: {inputs}.").format(inputs=facts["Input"])
    if "Expected" in facts and "Got" in facts:
        text += " " + _("Expected {expected}; got {got}.").format(expected=facts["Expected"], got=facts["Got"])
    elif "Expected" in facts:
        text += " " + _("Expected {expected}.").format(expected=facts["Expected"])
    elif "Got" in facts:
        text += " " + _("Got {got}.").format(got=facts["Got"])
    return text


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


MATRIX_ROWS = 6
"""Rows of a matrix shown in full; a longer one shows its first MATRIX_ROWS_CUT rows."""
MATRIX_ROWS_CUT = 3
MATRIX_COLUMNS = 10
"""Values of a row shown in full; a longer row shows its first MATRIX_COLUMNS_CUT."""
MATRIX_COLUMNS_CUT = 8
MATRIX_LINE = 76
"""Characters a matrix row may take: fewer columns are shown when wide numbers need it, so a
terminal of 80 columns never breaks a row."""


def show(value: Any, limit: int = 300) -> str:
    """A short, one-line rendering of an input or output, for a sentence: numbers in one format,
    an array's shape stated when it has more than a few values."""
    if isinstance(value, (np.ndarray, np.floating, float)) and np.ndim(value) == 0 and not isinstance(value, bool):
        number = np.asarray(value).item()
        text = f"{number:.6g}" if isinstance(number, float) else repr(number)
    elif isinstance(value, np.ndarray) and value.dtype.kind in "biuf" and not value.size:
        text = _("empty array of shape {shape}").format(shape=_shape(value))
    elif isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        rows = _rows(value)
        shown = np.concatenate([r for r in rows if r.size]) if any(r.size for r in rows) else np.zeros(0)
        cells = _cells(shown, integers=value.dtype.kind in "biu")
        body = _inline(value, rows, cells)
        text = body if value.size <= 6 else _("array of shape {shape}: {values}").format(
            shape=_shape(value), values=body)
    else:
        text = repr(value)
    return shorten(text, limit)


def show_block(value: Any) -> str:
    """An input or output as a fact under a message: a matrix (2-D and up, several rows) as
    aligned rows, one line each, in one number format, cut to MATRIX_ROWS x MATRIX_COLUMNS (and
    MATRIX_LINE characters) with its shape stated; anything else as `show` gives it. Renderers
    print a fact's later lines as they are (the terminal never wraps a matrix row)."""
    if (not isinstance(value, np.ndarray) or value.ndim < 2 or value.dtype.kind not in "biuf" or not value.size
            or value.size == value.shape[-1]):  # one row reads best on the line
        return show(value)
    columns = MATRIX_COLUMNS if value.shape[-1] <= MATRIX_COLUMNS else MATRIX_COLUMNS_CUT
    while True:
        rows = _rows(value, columns)
        cells = _cells(np.concatenate(rows), integers=value.dtype.kind in "biu")
        width = max(len(c) for c in cells)
        if columns == 1 or 6 + columns * (width + 2) <= MATRIX_LINE:
            break
        columns -= 1
    lines, at = [], 0
    for row in rows:
        texts = [c.rjust(width) for c in cells[at:at + row.size]]
        at += row.size
        more = " …" if value.shape[-1] > row.size else ""
        lines.append("  [" + "  ".join(texts) + more + "]")
    return _matrix_heading(value, len(rows), rows[0].size) + "\n" + "\n".join(lines)


def _rows(value: np.ndarray, columns: int | None = None) -> list[np.ndarray]:
    """The rows (along the last axis) a message shows, each cut to the columns shown, as floats;
    only those are read (a message about a large array must not copy all of it)."""
    if columns is None:
        columns = value.shape[-1] if value.shape[-1] <= MATRIX_COLUMNS else MATRIX_COLUMNS_CUT
    if value.ndim == 1:
        return [np.asarray(value[:columns], dtype=float)]
    count = int(np.prod(value.shape[:-1]))
    places = itertools.islice(np.ndindex(value.shape[:-1]), count if count <= MATRIX_ROWS else MATRIX_ROWS_CUT)
    return [np.asarray(value[place][:columns], dtype=float) for place in places]


def _cells(values: np.ndarray, integers: bool = False) -> list[str]:
    """Every value in one format: an integer array's as integers; else fixed decimals (as few
    as keep 6 significant digits of the largest, common trailing zeros dropped, at least one),
    or scientific notation for all when the values span more than fixed decimals can show."""
    values = np.asarray(values, dtype=float)
    finite = np.abs(values[np.isfinite(values)])
    if integers and finite.size and finite.max() < 1e15:
        return [_special(v) or f"{v:.0f}" for v in values]
    if not finite.size:
        return [_special(v) for v in values]
    largest, smallest = finite.max(), finite[finite > 0].min() if np.any(finite > 0) else 0.0
    if largest >= 1e6 or (smallest and smallest < 1e-4):
        return [_special(v) or f"{v:.3e}" for v in values]
    decimals = int(np.clip(6 - (np.floor(np.log10(largest)) + 1 if largest >= 1 else 0), 1, 8))
    texts = [[_special(v) or f"{v:.{d}f}" for v in values] for d in range(decimals, 0, -1)]
    for option, fewer in zip(texts, texts[1:]):
        if not all(float(a) == float(b) for a, b in zip(option, fewer) if a not in ("nan", "inf", "-inf")):
            return option
    return texts[-1]


def _special(value: float) -> str:
    return "" if np.isfinite(value) else str(value)


def _inline(value: np.ndarray, rows: list[np.ndarray], cells: list[str]) -> str:
    """The values of `rows` on one line, nested like the array (`[[1, 2], [3, 4]]`)."""
    texts, at = [], 0
    for row in rows:
        more = ", …" if value.shape[-1] > row.size else ""
        texts.append("[" + ", ".join(cells[at:at + row.size]) + more + "]")
        at += row.size
    if value.ndim == 1:
        return texts[0]
    if len(rows) < int(np.prod(value.shape[:-1])):  # cut: the rows shown, then "…"
        return "[" + ", ".join(texts) + ", …]"
    for side in reversed(value.shape[1:-1]):  # nest the rows as the array does
        texts = ["[" + ", ".join(texts[i:i + side]) + "]" for i in range(0, len(texts), side)]
    return "[" + ", ".join(texts) + "]"


def _shape(value: np.ndarray) -> str:
    return str(tuple(int(n) for n in value.shape))


def _matrix_heading(value: np.ndarray, rows: int, columns: int) -> str:
    shape, dtype = _shape(value), ("" if value.dtype == np.float64 else f", dtype {value.dtype}")
    if value.ndim > 2:
        dtype += _(", shown as rows of its last axis")
    all_rows = int(np.prod(value.shape[:-1]))
    if rows < all_rows and columns < value.shape[-1]:
        return _("array of shape {shape}{dtype}, first {rows} rows and {columns} columns:").format(
            shape=shape, dtype=dtype, rows=rows, columns=columns)
    if rows < all_rows:
        return _("array of shape {shape}{dtype}, first {rows} rows:").format(shape=shape, dtype=dtype, rows=rows)
    if columns < value.shape[-1]:
        return _("array of shape {shape}{dtype}, first {columns} columns:").format(
            shape=shape, dtype=dtype, columns=columns)
    return _("array of shape {shape}{dtype}:").format(shape=shape, dtype=dtype)


def describe_inputs(inputs: dict[str, Any] | None, *, inline: bool = False) -> str:
    """The inputs as `name=value` pairs on one line, or (unless `inline`) one block per input
    when one of them is a matrix (show_block)."""
    if not inputs:
        return ""
    blocks = {name: show_block(value) for name, value in inputs.items()} if not inline else {}
    if any("\n" in block for block in blocks.values()):
        return "\n".join(f"{name} = {block}" for name, block in blocks.items())
    return ", ".join(f"{k}={show(v, 160)}" for k, v in inputs.items())


def student_object(value: Any, depth: int = 0) -> str:
    """"a generator object" when `value` is (or, in a list/tuple, holds) an object that stayed
    in the student's process (a RemoteObject); "" for plain data. Such an object is never
    compared or converted: its own __eq__/__float__/__len__ cannot fake a match."""
    from grader.sandbox.session import RemoteObject, a_or_an, student_type

    if isinstance(value, RemoteObject):
        kind = student_type(value)
        english = a_or_an(f"{kind} object") if kind else "an object"
        if translated.current_language() == "en":
            return english
        return translated.said(_("{kind} object").format(kind=kind) if kind else _("an object"), english)
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
        fail(_("{call} returned {found}, not {expected}; the grader can only compare numbers and arrays.").format(
                 call=call, found=found, expected=expected),
             hint=_("return the values themselves (a numpy array or a float), not a generator, lambda, "
                    "function or object of your own."), call=call, got=found, cause="returned-object")
    if _holds_text(value):
        fail(_("{call} returned text, not {expected}.").format(call=call, expected=expected),
             hint=_("return the number or array itself, not a string made from it (no str(), f-strings or "
                    "formatting)."), call=call, expected=expected, got=show(value, 120), cause="returned-text")


def as_array(value: Any, *, call: str, hint: str = "") -> np.ndarray:
    """The student's result as a float array, or a failure that says what came back instead."""
    _reject_student_object(value, call, _("a numpy array"))
    if value is None:
        fail(_("{call} returned None; expected a numpy array.").format(call=call),
             hint=_("did you forget `return`?"), call=call, cause="returned-none")
    if isinstance(value, (np.ndarray, list, tuple, float, int, np.number)) and not isinstance(value, bool):
        try:
            arr = np.asarray(value, dtype=float)
            return arr
        except (TypeError, ValueError):
            pass
    fail(_("{call} returned {kind} {value}; expected a numpy array of numbers.").format(
             call=call, kind=type(value).__name__, value=show(value, 80)),
         hint=hint or _("return the array you computed (check for a missing `return`)."), call=call,
         expected=_("a numpy array of numbers"), got=show(value))


def as_float(value: Any, *, call: str, hint: str = "") -> float:
    """Accepts a Python float, a numpy scalar or a 0-d/size-1 array, as SPEC.md allows."""
    _reject_student_object(value, call, _("a number"))
    if value is None:
        fail(_("{call} returned None; expected a number.").format(call=call), hint=_("did you forget `return`?"),
             call=call, cause="returned-none")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.size != 1:
        fail(_("{call} returned {value}; expected a single number.").format(call=call, value=show(value, 120)),
             hint=hint or _("the result should be one number (the mean over the batch), not an array."),
             call=call, got=show(value))
    return float(arr.reshape(()))


def expect_shape(got: np.ndarray, shape: tuple, *, call: str, inputs: dict | None = None, hint: str = "") -> None:
    if tuple(got.shape) != tuple(shape):
        fail(_("{call} returned an array of the wrong shape.").format(call=call), hint=hint, call=call,
             inputs=describe_inputs(inputs), expected=_("shape {shape}").format(shape=tuple(shape)),
             got=_("shape {shape}").format(shape=tuple(got.shape)), cause="wrong-shape")


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
             inputs=describe_inputs(inputs), expected=show_block(expected_arr), got=show_block(got_arr))
    return got_arr


def _difference(call: str, got: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> str:
    """The rationale of a numeric mismatch: where the first difference is, with both values."""
    if not expected.ndim:
        return _("{call} gave {got}; expected {expected}.").format(
            call=call, got=f"{got.item():.6g}", expected=f"{expected.item():.6g}")
    bad = ~np.isclose(got, expected, rtol=rtol, atol=atol)
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    return _("{call} differs from the expected result (first difference at index {index}: expected {expected}, "
             "got {got}).").format(call=call, index=idx, expected=f"{expected[idx]:.6g}", got=f"{got[idx]:.6g}")


def limit_time(student: Any, seconds: float) -> None:
    """Give the student's code at most `seconds` more in this check (never more than it had),
    e.g. a timed run allowed a few times the reference's time: a far too slow submission is
    then stopped early (StudentTimeout) instead of using the check's whole timeout."""
    import time

    from grader.sandbox.session import session_of

    session = session_of(student)
    if seconds < session.deadline - time.monotonic():
        session.set_deadline(seconds, session.budget_kind)
