"""Report: the result as a readable table in the terminal (plain text; click adds colour)."""

from __future__ import annotations

import textwrap

import click

from grader.results import PASSED, CheckResult, GradeResult

MARKS = {PASSED: ("✓", "green"), "failed": ("✗", "red"), "error": ("!", "yellow")}


def _points(value: float) -> str:
    return f"{value:g}"


def check_line(check: CheckResult) -> str:
    mark, colour = MARKS.get(check.status, ("?", "white"))
    title = check.title or check.name
    points = f"{_points(check.score)}/{_points(check.max_score)}"
    tag = " [hidden]" if check.visibility == "hidden" else ""
    return f"  {click.style(mark, fg=colour)} {points:>7}  {title}{tag}"


def render(result: GradeResult, width: int = 100) -> str:
    lines = [click.style(f"{result.exercise}" + (f" — {result.student}" if result.student else ""), bold=True)]
    if result.error:
        lines.append(click.style(f"  could not grade: {result.error}", fg="red"))
    for check in result.checks:
        lines.append(check_line(check))
        if not check.passed and check.message and not (result.error and check.message == result.error):
            body = check.message + (f"\n  Hint: {check.hint}" if check.hint else "")
            for para in body.splitlines():
                lines.extend(textwrap.wrap(para, width=width - 14, initial_indent=" " * 13,
                                           subsequent_indent=" " * 13) or [""])
    total = f"Total: {_points(result.score)} / {_points(result.max_score)}"
    colour = "green" if result.max_score and result.score == result.max_score else "yellow"
    lines.append(click.style(total, bold=True, fg=colour) + f"   ({result.seconds:.2f} s, isolation: {result.isolation or '-'})")
    hidden = [c for c in result.checks if c.visibility == "hidden"]
    if not hidden:
        lines.append("Hidden checks run when your instructor grades; passing every public check does not "
                     "guarantee full marks.")
    return "\n".join(lines)
