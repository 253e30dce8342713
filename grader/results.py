"""The result model: plain data that every renderer (terminal, JSON, HTML, CSV, Gradescope) reads.

`GradeResult.to_dict`/`from_dict` (and `to_json`/`from_json` over them, with `dumps`, the one
JSON encoder) are the one place results are serialised: the CLI's --json, the batch's
result.json (local and cluster), the release's verification and Gradescope's file all go
through them. The layout is versioned by `"format": FORMAT`. The fields named in SPEC.md
(exercise, score, max_score, checks[name, score, max_score, passed, visibility, message]) keep
their meaning; the rest are extras the reports use.

A wrong answer travels as a typed `Failure` (rationale, call, inputs, expected, got), not as a
sentence that renderers take apart: each renderer composes its own text from the fields, and
`message` is the readable sentence composed once from them (`Failure.sentence`). Attachments
(curves, timings, gradient tables) are read as small typed records (`attachments_of`) that the
HTML report draws by type. Every cut of long text (a value, a message, printed output) is made
here, by `shorten` and `cut_output`.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

FORMAT = 2
"""The version of the result JSON's layout, written as its "format" field (SPEC.md). 1 is the
layout before the field existed (read as such when it is absent): a wrong answer's facts then
sat in `details` (call, inputs, expected, got). 2: they sit in `failure`."""

PASSED, FAILED, ERROR, COULD_NOT_RUN = "passed", "failed", "error", "could_not_run"
"""A check's outcome (SPEC.md): passed; failed (a wrong answer); error (the student's code
raised, hung or crashed); could_not_run (the grader or the machine could not run the check:
data missing, CUDA unusable, the sandbox's own harness failing). could_not_run is never the
student's fault: it scores nothing until regraded, and batch regrades it on the next run."""


class ResultFormatError(ValueError):
    """A result JSON written by a newer grader, in a layout this one does not know."""


@dataclass
class Failure:
    """A wrong answer's facts, kept apart (check50's Failure/Mismatch): what is wrong, the call
    that showed it, its inputs, and what was expected and returned, each as readable text."""

    rationale: str
    call: str = ""
    inputs: str = ""
    expected: str = ""
    got: str = ""
    cause: str = ""
    """A stable name for the mistake, when the check knows it (api.fail(cause=...)); `cause_key`
    derives one from the hint and the call otherwise. Never shown to students."""

    def facts(self) -> list[tuple[str, str]]:
        """(label, text) of each fact the rationale does not already quote, in reading order:
        what every renderer lists under the rationale."""
        found = [("Call", self.call), ("Input", self.inputs), ("Expected", self.expected), ("Got", self.got)]
        return [(label, text) for label, text in found if text and text not in self.rationale]

    def sentence(self) -> str:
        """The readable sentence that is the check's `message`: the rationale, then the input and
        the expected and returned values it does not already quote."""
        facts = dict(self.facts())
        text = self.rationale.rstrip()
        if "Input" in facts:
            text += f" Input: {facts['Input']}."
        said = [f"{label.lower()} {facts[label]}" for label in ("Expected", "Got") if label in facts]
        if said:
            joined = "; ".join(said)
            text += f" {joined[0].upper()}{joined[1:]}."
        return text

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Failure":
        return cls(**{f.name: str(data.get(f.name) or "") for f in fields(cls)})


@dataclass
class CheckResult:
    """One check's outcome. `status` has no default: a result that no one set must never read
    as passed (a default of PASSED with score 0 looked like a pass worth nothing)."""

    name: str
    max_score: float
    visibility: str  # "public" | "hidden"
    status: str  # PASSED | FAILED | ERROR
    score: float = 0.0
    message: str = ""
    hint: str = ""
    title: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    failure: Failure | None = None
    """A wrong answer's typed facts (status failed, from api.fail / expect_close); None otherwise."""
    origin: str = ""
    """Who a non-passing outcome belongs to: "student" for failed/error; for could_not_run
    "grader" (check code, helpers, callbacks, harness, bundle stand-ins), "machine" (sandbox,
    GPU, limits it could not set) or "data" (MNIST missing); "exercise:<name>" when another
    exercise's code (a stub, or a wrong earlier function) made this check fail."""
    location: dict[str, Any] = field(default_factory=dict)
    """Where the student's code raised: {"file", "line", "exercise"}; empty when unknown."""
    traceback: str = ""
    """The grader's own traceback for a grader fault: for instructors, never shown to students."""
    cause: str = ""
    """`cause_key` worked out in English when the check ran (checks/outcome.cause_of), so the
    same mistake has one key whatever language the student was graded in; "" when not set."""

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    @property
    def grader_fault(self) -> bool:
        return self.status == COULD_NOT_RUN

    @property
    def not_graded(self) -> bool:
        """Could not run: shown as "not graded: the grader's fault", not among the lost points."""
        return self.status == COULD_NOT_RUN

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["passed"] = self.passed
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CheckResult":
        """Read back a check; one written with only SPEC.md's fields (no `status`) gets it from
        `passed`, so a failed check never comes back as a pass. A format-1 check's facts in
        `details` become its `failure`."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values.setdefault("status", PASSED if data.get("passed") is True else FAILED)
        failure = values.pop("failure", None)
        values["details"] = dict(values.get("details") or {})
        if failure is None and values["status"] == FAILED:
            facts = {key: values["details"].pop(key) for key in ("call", "inputs", "expected", "got")
                     if key in values["details"]}
            failure = dict(facts, rationale=values.get("message", "")) if facts else None
        check = cls(**values)
        check.failure = Failure.from_dict(failure) if isinstance(failure, dict) else None
        return check


@dataclass
class GradeResult:
    exercise: str
    checks: list[CheckResult] = field(default_factory=list)
    student: str = ""
    output: str = ""
    """What the student's code printed (stdout and stderr), already cut to a readable length."""
    isolation: str = ""
    seconds: float = 0.0
    submission_hash: str = ""
    error: str = ""
    """Set when the submission could not be graded at all (e.g. no module found)."""
    notes: list[str] = field(default_factory=list)
    """What the grader noticed about the hand-in as a whole, for the instructor and the student:
    "probably exercise2" (a file for another exercise), an alternative it did not grade, notebook
    cells it did not run. Kept apart from `output`, which is only what the student's code printed."""
    student_uid: int | None = None
    """The user id the student's code ran as (never 0: the sandbox refuses to run it as root);
    None when it did not run (an unreadable submission) or in results written before."""

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 6)

    @property
    def max_score(self) -> float:
        return round(sum(c.max_score for c in self.checks), 6)

    @property
    def status(self) -> str:
        """error: not graded at all; incomplete: some check could not run (the grader's fault,
        regraded by the next batch run); complete: full marks; graded: the rest."""
        if self.error:
            return "error"
        if self.grader_faults:
            return "incomplete"
        return "complete" if all(c.passed for c in self.checks) else "graded"

    @property
    def lost_points(self) -> float:
        """Points the student lost: wrong answers and their code's errors, not checks the grader
        could not run (those are pending until regraded)."""
        return round(sum(c.max_score - c.score for c in self.checks if not c.not_graded), 6)

    @property
    def pending_points(self) -> float:
        """Points of checks the grader could not run: neither earned nor lost yet."""
        return round(sum(c.max_score for c in self.checks if c.not_graded), 6)

    @property
    def grader_faults(self) -> list[CheckResult]:
        """Checks the grader or the machine could not run."""
        return [c for c in self.checks if c.grader_fault]

    def visible_checks(self, audience: str) -> list[CheckResult]:
        """Checks a reader may see in full: students see public ones, instructors all."""
        if audience == "instructor":
            return list(self.checks)
        return [c for c in self.checks if c.visibility == "public"]

    def to_dict(self) -> dict[str, Any]:
        """The result as plain data, every value JSON can hold (numpy values become lists and
        numbers here, whoever writes the JSON)."""
        return _plain({
            "format": FORMAT,
            "exercise": self.exercise,
            "score": self.score,
            "max_score": self.max_score,
            "checks": [c.to_dict() for c in self.checks],
            "student": self.student,
            "status": self.status,
            "output": self.output,
            "isolation": self.isolation,
            "seconds": round(self.seconds, 3),
            "submission_hash": self.submission_hash,
            "error": self.error,
            "notes": list(self.notes),
            "student_uid": self.student_uid,
        })

    def to_json(self, **extra: Any) -> str:
        """The result JSON; `extra` adds top-level entries (the batch's own "batch" record)."""
        return dumps(dict(self.to_dict(), **extra))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GradeResult":
        version = data.get("format", 1)
        if not isinstance(version, int) or version > FORMAT:
            raise ResultFormatError(f"this result has format {version!r}; this grader reads formats up to "
                                    f"{FORMAT}: update dlgrader to read it")
        return cls(
            exercise=data["exercise"],
            checks=[CheckResult.from_dict(c) for c in data.get("checks", [])],
            student=data.get("student", ""),
            output=data.get("output", ""),
            isolation=data.get("isolation", ""),
            seconds=data.get("seconds", 0.0),
            submission_hash=data.get("submission_hash", ""),
            error=data.get("error", ""),
            notes=[str(n) for n in data.get("notes") or []],
            student_uid=data.get("student_uid"),
        )

    @classmethod
    def from_json(cls, text: str) -> "GradeResult":
        return cls.from_dict(json.loads(text))

    def write_json(self, path: Path, **extra: Any) -> None:
        write_atomic(Path(path), self.to_json(**extra))


NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?")


def mask_numbers(text: str) -> str:
    """`text` with every number replaced by #: the same mistake made with other values reads the same."""
    return NUMBER.sub("#", text)


def cause_key(check: CheckResult) -> str:
    """The one definition of "the same mistake" (the class summary groups failures by it): the
    key worked out in English when the check ran (`check.cause`, so Korean and English gradings
    group together), else, for results without it: the
    cause the check named (api.fail(cause=...)); else, when a hint diagnosed the mistake, that
    hint, with the call it was seen in; else the rationale. Numbers are masked everywhere, so the
    value displayed is never part of the key, and "" for a passed check."""
    if check.passed:
        return ""
    if check.cause:
        return check.cause
    failure = check.failure
    call = mask_numbers(failure.call) if failure else ""
    if failure and failure.cause:
        return f"cause:{failure.cause}|{call}"
    if check.hint:
        return f"hint:{mask_numbers(check.hint)}|{call}"
    text = failure.rationale if failure else check.message.split(" Input: ")[0]
    return f"{check.status}:{mask_numbers(text)}|{call}"


OUTPUT_CUT_MARKER = "more bytes of output were cut"
"""The words of the notice the sandbox ends a cut flood of output with (cut_notice); no other
line of the grader's own contains them, so the HTML report can keep that line in view."""


def cut_notice(dropped: int, kept: int) -> str:
    """The last line of a student's output that was cut: how much was dropped and kept."""
    return f"… [{dropped:,} {OUTPUT_CUT_MARKER}; only the first {kept:,} are kept]"


def is_cut_notice(line: str) -> bool:
    return line.startswith("… [") and OUTPUT_CUT_MARKER in line and line.endswith("]")


def dumps(data: Any) -> str:
    """The one JSON encoder of the grader's files (result.json, gradescope.json)."""
    return json.dumps(_plain(data), indent=2)


def _plain(value: Any) -> Any:
    """`value` with every numpy scalar or array made a Python number or list (never a string:
    a number in a check's details reads back as a number), tuples made lists, and anything else
    JSON cannot hold made its text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if hasattr(value, "tolist"):
        return _plain(value.tolist())
    return str(value)


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending with "..." when cut: every cut of a
    value or message the reports show is made here."""
    text = str(text)
    return text if len(text) <= limit else text[: max(limit - 3, 0)] + "..."


@dataclass
class CutOutput:
    """The student's printed output as a report shows it."""

    text: str
    lines: int
    """Lines shown."""
    note: str
    """What was left out ("" when nothing)."""
    label: str
    """A heading for the block: "3 lines printed", "the first 200 lines"."""


def cut_output(text: str, max_lines: int, max_chars: int) -> CutOutput:
    """The student's output, cut by lines and characters, saying how much was left out.

    The sandbox already keeps only the start of a flood and ends it with a notice saying so
    (is_cut_notice). That notice stays the last line shown, however much this cuts too:
    otherwise the usual case, a flood longer than the report shows, would hide it."""
    lines = (text or "").splitlines()
    notice = lines.pop() if lines and is_cut_notice(lines[-1]) else ""
    shown = "\n".join(lines[:max_lines])[:max_chars]
    left_out = len("\n".join(lines)) - len(shown)
    shown_lines = len(shown.splitlines())
    if left_out > 0:
        note = f"… {len(lines) - shown_lines} more lines ({left_out} characters) not shown"
        label = f"the first {shown_lines} lines"
    elif notice:
        note, label = "", f"the first {shown_lines} lines (the rest was cut)"
    else:
        note, label = "", f"{shown_lines} line{'s' if shown_lines != 1 else ''} printed"
    return CutOutput(f"{shown}\n{notice}" if notice else shown, shown_lines, note, label)


def write_atomic(path: Path, text: str) -> None:
    """Write so that a reader (or a killed batch) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


# -- attachments: what a check attached (api.attach), as small typed records -----------------------
@dataclass
class GradientRow:
    name: str
    max_rel_error: float | None = None
    worst_index: Any = None
    got: float | None = None
    expected: float | None = None
    passed: bool = False


@dataclass
class GradientTable:
    """A gradient comparison per parameter (checks/gradcheck.py's rows)."""

    kind = "gradients"
    rows: list[GradientRow]


@dataclass
class Curves:
    """Learning curves: {series name: values}, and the reference's of the same form (drawn dashed)."""

    kind = "curves"
    series: dict[str, list[float]]
    reference: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class Timing:
    """A timed run: the student's seconds beside the reference's, the device and the data used."""

    kind = "timing"
    seconds: float | None = None
    reference_seconds: float | None = None
    device: str = ""
    dataset: str = ""


@dataclass
class OtherDetail:
    """Any other attached value (an accuracy, a setting, a tolerance), shown as text."""

    kind = "other"
    key: str
    text: str


ATTACHMENT_KEYS = {"gradients", "curves", "reference_curves", "seconds", "reference_seconds", "device", "dataset"}
"""The keys of a check's details (api.attach) that are read as typed records; the rest are OtherDetail."""
OTHER_DETAIL_CHARS = 600


def attachments_of(details: dict[str, Any] | None) -> list[Any]:
    """A check's attached details as typed records, gradient table, curves, timing, then the
    other details in the order attached. Malformed values (a check's own mistake) are left out
    rather than breaking a report."""
    details = details or {}
    found: list[Any] = []
    rows = details.get("gradients")
    if isinstance(rows, list):
        table = [GradientRow(**{k: row.get(k) for k in ("max_rel_error", "worst_index", "got", "expected")},
                             name=str(row.get("name", "?")), passed=bool(row.get("passed")))
                 for row in rows if isinstance(row, dict)]
        if table:
            found.append(GradientTable(table))
    if isinstance(details.get("curves"), dict):
        reference = details.get("reference_curves")
        found.append(Curves(details["curves"], reference if isinstance(reference, dict) else {}))
    if details.get("seconds") is not None or details.get("device") or details.get("dataset"):
        found.append(Timing(_number(details.get("seconds")), _number(details.get("reference_seconds")),
                            str(details.get("device") or ""), str(details.get("dataset") or "")))
    for key, value in details.items():
        if key not in ATTACHMENT_KEYS:
            text = value if isinstance(value, str) else json.dumps(_plain(value))
            found.append(OtherDetail(key, shorten(text, OTHER_DETAIL_CHARS)))
    return found


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
