"""One route from a graded hand-in to every output: a declared list of targets, one writer.

The CLI, a local batch, a cluster batch and `grade gradescope` differ only in the list of
targets they declare; `write_outputs` writes them all the same way, so what one of them gets
(a notebook's feedback page, a Gradescope file) the others get too:

    targets = [Target.html(path, "student"), Target.feedback(path), Target.json(path)]
    problems = write_outputs(graded, targets)

Targets are written in the order given, so a caller that must write a file last (the batch's
result.json, which says the student is done) puts it last. A target that cannot be written
for a reason of this machine (the notebooks extra missing) is skipped with a one-line problem
returned; the others are still written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from grader.results import GradeResult, write_atomic
from grader.submission import HandIn

KINDS = ("terminal", "json", "html", "feedback", "gradescope")


@dataclass(frozen=True)
class Target:
    """One output: its kind, where it goes, and the kind's own choices."""

    kind: str
    path: Path | None = None
    audience: str = "student"
    """html: whose copy (the student's hides hidden checks' names and messages)."""
    hidden_visibility: str = "after_published"
    """gradescope: when students see the hidden checks."""
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    """json: top-level entries added to the result (the batch's own record)."""
    stream: TextIO | None = field(default=None, hash=False, compare=False)
    """terminal: where the summary is printed."""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown output {self.kind!r}; outputs: {', '.join(KINDS)}")

    @classmethod
    def terminal(cls, stream: TextIO) -> "Target":
        return cls("terminal", stream=stream)

    @classmethod
    def json(cls, path: Path, **extra: Any) -> "Target":
        return cls("json", Path(path), extra=extra)

    @classmethod
    def html(cls, path: Path, audience: str = "student", submission: Path | None = None) -> "Target":
        """`submission`: where the hand-in lies, linked from the instructor's copy."""
        extra = {"submission": Path(submission).resolve().as_uri()} if submission else {}
        return cls("html", Path(path), audience=audience, extra=extra)

    @classmethod
    def feedback(cls, path: Path) -> "Target":
        """feedback.html, the student's notebook with its verdicts; written only for a notebook
        hand-in, and removed for any other (a student who moved from a notebook to a .py)."""
        return cls("feedback", Path(path))

    @classmethod
    def gradescope(cls, path: Path, hidden_visibility: str = "after_published") -> "Target":
        return cls("gradescope", Path(path), hidden_visibility=hidden_visibility)


@dataclass
class Written:
    """What write_outputs did: the files written, and why any target was not."""

    files: list[Path] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)
    """target kind -> the one line saying why it was not written."""


def write_outputs(result: GradeResult, hand_in: HandIn | None, targets: list[Target]) -> Written:
    """Write every target for `result`, graded from `hand_in` (the bytes grading read)."""
    written = Written()
    for target in targets:
        problem = _write(result, hand_in, target)
        if problem:
            written.problems[target.kind] = problem
        elif target.path is not None and target.path.is_file():
            written.files.append(target.path)
    return written


def _write(result: GradeResult, hand_in: HandIn | None, target: Target) -> str:
    """Write one target; "" when done (or when there was nothing to write), else why not."""
    if target.kind == "terminal":
        import click

        from grader.report.terminal import render_after_checks

        click.echo(render_after_checks(result), file=target.stream)
    elif target.kind == "json":
        result.write_json(target.path, **target.extra)
    elif target.kind == "html":
        from grader.report.html import render_report

        write_atomic(target.path, render_report(result, target.audience, hand_in=hand_in,
                                                submission_link=target.extra.get("submission", "")))
    elif target.kind == "gradescope":
        from grader.report.gradescope import write_gradescope

        write_gradescope(result, target.path, hidden_visibility=target.hidden_visibility)
    elif target.kind == "feedback":
        from grader.report.notebook_feedback import write_feedback_quietly

        target.path.unlink(missing_ok=True)
        return write_feedback_quietly(result, hand_in, target.path)
    return ""
