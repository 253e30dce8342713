"""The result model: plain data that every renderer (terminal, JSON, HTML, CSV, Gradescope) reads.

`to_json`/`from_json` are the one place results are serialised. The fields named in
SPEC.md (exercise, score, max_score, checks[name, score, max_score, passed, visibility,
message]) keep their meaning; the rest are extras the reports use.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

PASSED, FAILED, ERROR, COULD_NOT_RUN = "passed", "failed", "error", "could_not_run"
"""A check's outcome (SPEC.md): passed; failed (a wrong answer); error (the student's code
raised, hung or crashed); could_not_run (the grader or the machine could not run the check:
data missing, CUDA unusable, the sandbox's own harness failing). could_not_run is never the
student's fault: it scores nothing until regraded, and batch regrades it on the next run."""


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
    origin: str = ""
    """Who a non-passing outcome belongs to: "student" for failed/error; for could_not_run
    "grader" (check code, helpers, callbacks, harness, bundle stand-ins), "machine" (sandbox,
    GPU, limits it could not set) or "data" (MNIST missing); "exercise:<name>" when another
    exercise's code (a stub, or a wrong earlier function) made this check fail."""
    location: dict[str, Any] = field(default_factory=dict)
    """Where the student's code raised: {"file", "line", "exercise"}; empty when unknown."""
    traceback: str = ""
    """The grader's own traceback for a grader fault: for instructors, never shown to students."""

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    @property
    def grader_fault(self) -> bool:
        return self.status == COULD_NOT_RUN

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["passed"] = self.passed
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CheckResult":
        """Read back a check; one written with only SPEC.md's fields (no `status`) gets it from
        `passed`, so a failed check never comes back as a pass."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values.setdefault("status", PASSED if data.get("passed") is True else FAILED)
        return cls(**values)


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
    """The grader's own notes about the submission (e.g. notebook cells it did not run): kept
    apart from `output`, which is only what the student's code printed."""

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
    def grader_faults(self) -> list[CheckResult]:
        """Checks the grader or the machine could not run."""
        return [c for c in self.checks if c.grader_fault]

    def visible_checks(self, audience: str) -> list[CheckResult]:
        """Checks a reader may see in full: students see public ones, instructors all."""
        if audience == "instructor":
            return list(self.checks)
        return [c for c in self.checks if c.visibility == "public"]

    def to_dict(self) -> dict[str, Any]:
        return {
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
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=_json_default)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GradeResult":
        return cls(
            exercise=data["exercise"],
            checks=[CheckResult.from_dict(c) for c in data.get("checks", [])],
            student=data.get("student", ""),
            output=data.get("output", ""),
            isolation=data.get("isolation", ""),
            seconds=data.get("seconds", 0.0),
            submission_hash=data.get("submission_hash", ""),
            error=data.get("error", ""),
            notes=list(data.get("notes", [])),
        )

    @classmethod
    def from_json(cls, text: str) -> "GradeResult":
        return cls.from_dict(json.loads(text))

    def write_json(self, path: Path) -> None:
        write_atomic(Path(path), self.to_json())


OUTPUT_CUT_MARKER = "more bytes of output were cut"
"""The words of the notice the sandbox ends a cut flood of output with (cut_notice); no other
line of the grader's own contains them, so the HTML report can keep that line in view."""


def cut_notice(dropped: int, kept: int) -> str:
    """The last line of a student's output that was cut: how much was dropped and kept."""
    return f"… [{dropped:,} {OUTPUT_CUT_MARKER}; only the first {kept:,} are kept]"


def is_cut_notice(line: str) -> bool:
    return line.startswith("… [") and OUTPUT_CUT_MARKER in line and line.endswith("]")


def _json_default(value: Any) -> Any:
    """Details may hold numpy scalars or arrays from a check; JSON gets plain numbers."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def write_atomic(path: Path, text: str) -> None:
    """Write so that a reader (or a killed batch) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
