"""Report: a result in Gradescope's autograder format.

Gradescope runs `/autograder/run_autograder` once per submission and reads
`/autograder/results/results.json`: a top-level `score`, `execution_time`, `output`, and
`tests`, each with `name`, `score`, `max_score`, `status`, `output` and `visibility`
("visible", "hidden", "after_due_date" or "after_published"). Public checks are
"visible"; hidden checks default to "after_published", so students see them once the
instructor publishes grades (pass `hidden_visibility="hidden"` to never show them).

In the container, `grade gradescope exercise1 /autograder/submission` grades and writes it
(grader/cli.py; see docs/gradescope.md).
"""

from __future__ import annotations

from pathlib import Path

from grader.i18n import _
from grader.results import FORMAT, CheckResult, GradeResult, dumps, write_atomic

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
OUTPUT_MAX_LINES = 100
OUTPUT_MAX_CHARS = 4000
"""How much of the student's printed output is copied into results.json."""


def entry_for_check(check: CheckResult, hidden_visibility: str) -> dict:
    return {
        "name": check.title or check.name,
        "name_format": "text",
        "score": check.score,
        "max_score": check.max_score,
        "status": "passed" if check.passed else "failed",
        "output": check_text(check),
        "output_format": "text",
        "visibility": "visible" if check.visibility == "public" else hidden_visibility,
        "tags": [check.name, check.visibility] + ([] if check.status != "could_not_run" else ["could-not-run"]),
    }


def check_text(check: CheckResult) -> str:
    """A check's text in Gradescope's plain-text box: what went wrong, facts a line each, where, hint."""
    from grader.report import fact_label, location_text, origin_note

    if check.passed:
        return ""
    lines = [_("Not graded: the grader's fault, not your code's; these points are not lost.")] if check.not_graded else []
    if check.status == "failed" and check.failure is not None:
        lines.append(check.failure.rationale)
        lines += [f"{fact_label(label)}: {text}" for label, text in check.failure.facts()]
    elif check.message:
        lines.append(check.message)
    if origin_note(check):
        lines.append(origin_note(check))
    where = location_text(check.location)
    if where:
        lines.append(_("Raised at: {place}").format(place=where))
    if check.hint:
        lines.append(_("Hint: {hint}").format(hint=check.hint))
    return "\n".join(lines)


def gradescope_json(result: GradeResult, *, hidden_visibility: str = "after_published") -> dict:
    if hidden_visibility not in VISIBILITIES:
        raise ValueError(f"hidden_visibility must be one of {VISIBILITIES}")
    from grader.report.html import output_view

    cut = output_view(result.output, OUTPUT_MAX_LINES, OUTPUT_MAX_CHARS)
    output = cut.text + (f"\n{cut.note}" if cut.note else "")
    head = f"{result.exercise}: {result.score:g} / {result.max_score:g}"
    if result.error:
        head += "\n" + _("This submission could not be graded: {error}").format(error=result.error)
    body = "\n\n" + _("Your code printed:") + f"\n{output}" if output.strip() else ""
    return {
        "score": result.score,
        "execution_time": round(result.seconds, 3),
        "output": head + body,
        "output_format": "text",
        "stdout_visibility": "hidden",
        "tests": [entry_for_check(c, hidden_visibility) for c in result.checks],
        "extra_data": {"format": FORMAT, "exercise": result.exercise, "max_score": result.max_score, "status": result.status,
                       "isolation": result.isolation, "submission_hash": result.submission_hash},
    }


def write_gradescope(result: GradeResult, path: Path, *, hidden_visibility: str = "after_published") -> None:
    write_atomic(Path(path), dumps(gradescope_json(result, hidden_visibility=hidden_visibility)))
