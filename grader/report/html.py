"""Report: one GradeResult as a self-contained HTML page, and the batch summary page.

All markup lives in jinja2 templates under templates/ (at the project root); this module
only shapes the data they show. Everything that came from a student (printed output,
messages that quote their return values, student ids) is escaped by jinja2's autoescaping,
and the page carries a Content-Security-Policy that forbids scripts, so even a missed
escape could not run code. No CDN, no script, no web font: the page works offline and
from a file:// link, and its CSS reflows to a phone's width.

Check authors attach structured details (grader.checks.api.attach) that the report draws:
- `gradients`: rows {name, max_rel_error, worst_index, got, expected, passed} -> a table;
- `curves`: {series name: [values]} -> line charts as inline SVG (losses on one chart,
  accuracies on another; their geometry in charts.py); optional `reference_curves` of the
  same form are drawn dashed beside them;
- `seconds`, `reference_seconds`, `device`, `dataset` -> the timing line;
- `call`, `inputs`, `expected`, `got` (from expect_close) -> the failure's facts.
Any other detail (accuracies, settings, tolerances) is listed as text under "Other details".
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from grader.catalog import EXERCISES, PROJECT_ROOT
from grader.report import charts
from grader.results import GradeResult, is_cut_notice, write_atomic

TEMPLATES = next((folder for folder in (Path(__file__).resolve().parent.parent / "templates", PROJECT_ROOT / "templates")
                  if folder.is_dir()), PROJECT_ROOT / "templates")
"""The course repository keeps templates/ at its root; the students' bundle ships them inside the
grader package (grader/templates/), so that a non-editable `pip install dlcourse.zip` finds them."""
OUTPUT_MAX_LINES = 200
OUTPUT_MAX_CHARS = 12_000
"""How much of the student's printed output a report shows: enough to debug, short enough to read."""
KNOWN_DETAILS = {"gradients", "curves", "reference_curves", "seconds", "reference_seconds", "device", "dataset",
                 "call", "inputs", "expected", "got"}
AUDIENCES = ("student", "instructor")


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["points"] = points
    env.filters["pct"] = lambda value: f"{value:.0f}%"
    env.filters["number"] = number
    return env


def points(value: float) -> str:
    return f"{value:g}"


def number(value: Any) -> str:
    """A measured number, short: 1.23e-07, 0.8123, 12.5."""
    if isinstance(value, (int, float)) and math.isfinite(value):
        return f"{value:.4g}"
    return str(value)


# -- one student's report ----------------------------------------------------------------------
def render_report(result: GradeResult, audience: str = "student") -> str:
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {AUDIENCES}, not {audience!r}")
    exercise = EXERCISES.get(result.exercise)
    shown = result.visible_checks(audience)
    hidden = [c for c in result.checks if c not in shown]
    context = {
        "result": result, "audience": audience, "topic": exercise.topic if exercise else "",
        "percent": percent(result.score, result.max_score),
        "checks": [check_view(c, audience) for c in shown],
        # what the student can fix: not checks the machine could not run (they are not their fault)
        "failed": [c for c in shown if not c.passed and not c.grader_fault
                   and not (result.error and c.message == result.error)],
        "hidden": {"count": len(hidden), "score": sum(c.score for c in hidden),
                   "max_score": sum(c.max_score for c in hidden), "passed": sum(c.passed for c in hidden)},
        "hidden_not_run": not any(c.visibility == "hidden" for c in result.checks),
        "output": cut_output(result.output),
        "feedback_only": feedback_notice(result.isolation),
    }
    return environment().get_template("report.html").render(**context)


def feedback_notice(isolation: str) -> str:
    """What the page says about a score graded at the `local` level (grader/sandbox/local.py)."""
    from grader.report import LOCAL_FEEDBACK_NOTICE

    return LOCAL_FEEDBACK_NOTICE if isolation == "local" else ""


def write_report(result: GradeResult, path: Path, audience: str = "student") -> None:
    write_atomic(Path(path), render_report(result, audience))


def percent(score: float, max_score: float) -> float:
    return 100.0 * score / max_score if max_score else 0.0


def check_view(check, audience: str) -> dict:
    """What the template needs for one check: its result plus its details made drawable."""
    details = check.details or {}
    message = check.message
    inputs = details.get("inputs")
    if isinstance(inputs, str) and inputs and f" Input: {inputs}." in message:
        message = message.replace(f" Input: {inputs}.", "")  # shown once, as its own fact below
    facts = [(label, str(details[key])) for key, label in
             (("call", "Call"), ("inputs", "Input"), ("expected", "Expected"), ("got", "Got"))
             if details.get(key) not in (None, "")]
    return {
        "check": check, "message": message, "facts": facts if not check.passed else [],
        "percent": percent(check.score, check.max_score),
        "gradients": gradient_rows(details.get("gradients")),
        "charts": charts.learning_curves(details.get("curves"), details.get("reference_curves")),
        "timing": timing(details),
        "extra": extra_details(details),
    }


def gradient_rows(rows: Any) -> list[dict]:
    if not isinstance(rows, list):
        return []
    keep = []
    for row in rows:
        if isinstance(row, dict):
            keep.append({"name": row.get("name", "?"), "error": row.get("max_rel_error"),
                         "index": row.get("worst_index"), "got": row.get("got"),
                         "expected": row.get("expected"), "passed": bool(row.get("passed"))})
    return keep


def timing(details: dict) -> dict | None:
    seconds, reference = details.get("seconds"), details.get("reference_seconds")
    if seconds is None and not details.get("device") and not details.get("dataset"):
        return None
    ratio = seconds / reference if isinstance(seconds, (int, float)) and isinstance(reference, (int, float)) \
        and reference > 0 else None
    longest = max([v for v in (seconds, reference) if isinstance(v, (int, float))] or [0]) or 1
    return {"seconds": seconds, "reference": reference, "ratio": ratio,
            "seconds_pct": 100 * seconds / longest if isinstance(seconds, (int, float)) else 0,
            "reference_pct": 100 * reference / longest if isinstance(reference, (int, float)) else 0,
            "device": details.get("device"), "dataset": details.get("dataset")}


def extra_details(details: dict) -> list[tuple[str, str]]:
    out = []
    for key, value in details.items():
        if key not in KNOWN_DETAILS:
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            out.append((key, text if len(text) <= 600 else text[:597] + "..."))
    return out


def cut_output(text: str) -> dict:
    """The student's output, cut by lines and characters; says how much was left out.

    The sandbox already keeps only the start of a flood and ends it with a notice saying so
    (results.is_cut_notice). That notice stays the last line shown, however much this
    cuts too: otherwise the usual case, a flood longer than the report shows, would hide it."""
    lines = (text or "").splitlines()
    notice = lines.pop() if lines and is_cut_notice(lines[-1]) else ""
    shown = "\n".join(lines[:OUTPUT_MAX_LINES])[:OUTPUT_MAX_CHARS]
    left_out = len("\n".join(lines)) - len(shown)
    shown_lines = len(shown.splitlines())
    if left_out > 0:
        note = f"… {len(lines) - shown_lines} more lines ({left_out} characters) not shown"
        label = f"the first {shown_lines} lines"
    elif notice:
        note, label = "", f"the first {shown_lines} lines (the rest was cut)"
    else:
        note, label = "", f"{shown_lines} line{'s' if shown_lines != 1 else ''} printed"
    return {"text": f"{shown}\n{notice}" if notice else shown, "lines": shown_lines, "note": note, "label": label}


# -- the batch summary page ---------------------------------------------------------------------
def render_summary(summary: dict, out: Path | None = None) -> str:
    """summary: what grader.report.gradebook.summarize returns. With the batch's `out` folder,
    students who handed in a notebook get a link to their notebook with feedback (feedback.html)."""
    from grader.report.notebook_feedback import FEEDBACK_FILE

    with_notebook = {s["student"] for s in summary["students"]
                     if out is not None and (Path(out) / s["student"] / FEEDBACK_FILE).is_file()}
    return environment().get_template("summary.html").render(
        dict(summary, histogram=charts.histogram(summary["histogram"]), with_notebook=with_notebook,
             notebook_file=FEEDBACK_FILE))
