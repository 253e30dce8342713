"""Report: one GradeResult as a self-contained HTML page, and the batch summary page.

All markup lives in jinja2 templates under templates/ (at the project root); this module
only shapes the data they show. Everything that came from a student (printed output,
messages that quote their return values, student ids) is escaped by jinja2's autoescaping,
and the page carries a Content-Security-Policy that forbids scripts, so even a missed
escape could not run code. No CDN, no script, no web font: the page works offline and
from a file:// link, and its CSS reflows to a phone's width.

A wrong answer's facts (call, input, expected, got) come typed in `check.failure`
(results.Failure) and are listed under its rationale. What a check attached (api.attach) comes
as typed records (results.attachments_of), each drawn by its type: a gradient table, learning
curves as inline SVG (losses on one chart, accuracies on another; geometry in charts.py; the
reference's dashed beside them), a timing line, and any other detail as text under "Other details".
"""

from __future__ import annotations

import dataclasses
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from grader.catalog import EXERCISES, PROJECT_ROOT
from grader.hand_in_review import shared_error
from grader.i18n import _, install_in, ngettext
from grader.report import charts, fact_label, location_text, made_at, origin_note, title_of
from grader.report.code_view import code_blocks, line_link
from grader.results import (CheckResult, Curves, GradeResult, GradientTable, OtherDetail, Timing, attachments_of,
                            cut_output, is_cut_notice, write_atomic)
from grader.submission import HandIn

TEMPLATES = next((folder for folder in (Path(__file__).resolve().parent.parent / "templates", PROJECT_ROOT / "templates")
                  if folder.is_dir()), PROJECT_ROOT / "templates")
"""The course repository keeps templates/ at its root; the students' bundle ships them inside the
grader package (grader/templates/), so that a non-editable `pip install dlcourse.zip` finds them."""
OUTPUT_MAX_LINES = 200
OUTPUT_MAX_CHARS = 12_000
"""How much of the student's printed output a report shows: enough to debug, short enough to read."""
AUDIENCES = ("student", "instructor")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["points"] = points
    env.filters["pct"] = lambda value: f"{value:.0f}%"
    env.filters["number"] = number
    env.filters["origin_note"] = origin_note
    env.filters["fact_label"] = fact_label
    env.filters["location_text"] = location_text
    env.filters["title_of"] = title_of
    install_in(env)
    return env


def points(value: float) -> str:
    return f"{value:g}"


def number(value: Any) -> str:
    """A measured number, short: 1.23e-07, 0.8123, 12.5."""
    if isinstance(value, (int, float)) and math.isfinite(value):
        return f"{value:.4g}"
    return str(value)


# -- one student's report ----------------------------------------------------------------------
def render_report(result: GradeResult, audience: str = "student", *, hand_in: HandIn | None = None,
                  submission_link: str = "") -> str:
    """The report page. The instructor's copy shows the submitted code (from `hand_in`, the bytes
    that were graded) beside the verdicts, each line a check names marked, and links to
    `submission_link` (the hand-in on disk) when given."""
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {AUDIENCES}, not {audience!r}")
    code = code_blocks(result, hand_in) if audience == "instructor" else []
    exercise = EXERCISES.get(result.exercise)
    shown = result.visible_checks(audience)
    hidden = [c for c in result.checks if c not in shown]
    context = {
        "result": result, "audience": audience, "topic": _(exercise.topic) if exercise else "",
        "percent": percent(result.score, result.max_score),
        "checks": [dict(check_view(c, audience), lines=line_link(code, c.name)) for c in shown],
        "code": code, "submission_link": submission_link,
        "shared_error": shared_error(result.checks) if not result.error else "",
        # what the student can fix: not checks the machine could not run (they are not their fault)
        "failed": [c for c in shown if not c.passed and not c.not_graded
                   and not (result.error and c.message == result.error)],
        "hidden": {"count": len(hidden), "score": sum(c.score for c in hidden),
                   "max_score": sum(c.max_score for c in hidden), "passed": sum(c.passed for c in hidden)},
        "hidden_not_run": not any(c.visibility == "hidden" for c in result.checks),
        "output": output_view(result.output),
        "made": made_at(),
        "feedback_only": feedback_notice(result.isolation),
    }
    return environment().get_template("report.html").render(**context)


def feedback_notice(isolation: str) -> str:
    """What the page says about a score graded at the `local` level (grader/sandbox/local.py)."""
    from grader.report import local_feedback_notice

    return local_feedback_notice() if isolation == "local" else ""


def write_report(result: GradeResult, path: Path, audience: str = "student") -> None:
    write_atomic(Path(path), render_report(result, audience))


def percent(score: float, max_score: float) -> float:
    return 100.0 * score / max_score if max_score else 0.0


def check_view(check: CheckResult, audience: str) -> dict:
    """What the template needs for one check: the text it shows and its attachments, drawable.

    A wrong answer shows its rationale with the facts listed under it; any other outcome its
    message. A check the grader could not run shows its traceback to the instructor only."""
    failure = check.failure if check.status == "failed" else None
    attachments = attachments_of(check.details)
    return {
        "check": check,
        "message": without_tabled_lines(failure.rationale if failure else check.message, attachments),
        "facts": failure.facts() if failure else [],
        "where": location_text(check.location),
        "origin": origin_note(check, audience),
        "traceback": check.traceback if audience == "instructor" and check.not_graded else "",
        "percent": percent(check.score, check.max_score),
        "attachments": [drawable(a) for a in attachments],
    }


def without_tabled_lines(message: str, attachments: list) -> str:
    """The message without its lines about one parameter ("  W1: relative error …") when the
    gradient table beside it lists that parameter: the page shows each value once, in the table."""
    names = {row.name for a in attachments if isinstance(a, GradientTable) for row in a.rows}
    if not names:
        return message
    kept = [line for line in message.splitlines() if line.strip().split(":", 1)[0] not in names]
    return "\n".join(kept)


def output_view(output: str, max_lines: int = OUTPUT_MAX_LINES, max_chars: int = OUTPUT_MAX_CHARS):
    """The student's printed output, cut to what a report shows (results.cut_output), with its
    label and note in the reader's language."""
    cut = cut_output(output, max_lines, max_chars)
    printed = (output or "").splitlines()
    total = len(printed) - (1 if printed and is_cut_notice(printed[-1]) else 0)
    if cut.note:
        label = _("the first {count} lines").format(count=cut.lines)
        note = _("… {count} more lines not shown").format(count=max(total - cut.lines, 0))
    elif cut.label.endswith("(the rest was cut)"):
        label, note = _("the first {count} lines (the rest was cut)").format(count=cut.lines), ""
    else:
        label, note = ngettext("{count} line printed", "{count} lines printed", cut.lines).format(count=cut.lines), ""
    return dataclasses.replace(cut, note=note, label=label)


def drawable(record) -> dict:
    """One attachment as its template part draws it, by type."""
    if isinstance(record, GradientTable):
        return {"kind": record.kind, "rows": record.rows}
    if isinstance(record, Curves):
        return {"kind": record.kind, "charts": charts.learning_curves(record.series, record.reference)}
    if isinstance(record, Timing):
        return {"kind": record.kind, **timing(record)}
    if isinstance(record, OtherDetail):
        return {"kind": record.kind, "key": record.key, "text": record.text}
    raise TypeError(f"no drawing for {type(record).__name__}")


def timing(record: Timing) -> dict:
    seconds, reference = record.seconds, record.reference_seconds
    ratio = seconds / reference if seconds is not None and reference else None
    longest = max([v for v in (seconds, reference) if v is not None] or [0]) or 1
    return {"seconds": seconds, "reference": reference, "ratio": ratio,
            "seconds_pct": 100 * seconds / longest if seconds is not None else 0,
            "reference_pct": 100 * reference / longest if reference is not None else 0,
            "device": record.device, "dataset": record.dataset}


# -- the batch summary page ---------------------------------------------------------------------
def render_summary(summary: dict, out: Path | None = None) -> str:
    """summary: what grader.report.gradebook.summarize returns. With the batch's `out` folder,
    students who handed in a notebook get a link to their notebook with feedback (feedback.html)."""
    from grader.report.notebook_feedback import FEEDBACK_FILE

    with_notebook = {s["student"] for s in summary["students"]["name"]
                     if out is not None and (Path(out) / s["student"] / FEEDBACK_FILE).is_file()}
    return environment().get_template("summary.html").render(
        dict({"similarity": None}, **dict(summary, histogram=charts.histogram(summary["histogram"]),
                                          with_notebook=with_notebook, notebook_file=FEEDBACK_FILE, made=made_at())))


# -- the similarity report ------------------------------------------------------------------------
SIMILARITY_PAIRS_SHOWN = 150
"""Pairs drawn side by side in similarity.html (all pairs are in similarity.csv)."""


def render_similarity(exercise: str, report) -> str:
    """similarity.html from a grader.course.similarity.Report: the clusters, then each pair with
    both submissions side by side and their matching lines marked."""
    def side(code, ranges):
        marked = {n for first, last in ranges for n in range(first, last + 1)}
        return [{"number": n, "text": text, "marked": n in marked} for n, text in enumerate(code.lines, start=1)]

    pairs = [{"pair": p, "a": side(report.codes[p.a], p.lines_a), "b": side(report.codes[p.b], p.lines_b)}
             for p in report.pairs[:SIMILARITY_PAIRS_SHOWN]]
    return environment().get_template("similarity.html").render(
        exercise=exercise, report=report, pairs=pairs, more=max(0, len(report.pairs) - SIMILARITY_PAIRS_SHOWN))
