"""Report: one GradeResult as a self-contained HTML page, and the batch summary page.

All markup lives in jinja2 templates under templates/ (at the project root); this module
only shapes the data they show. Everything that came from a student (printed output,
messages that quote their return values, student ids) is escaped by jinja2's autoescaping,
and the page carries a Content-Security-Policy that forbids scripts, so even a missed
escape could not run code. No CDN, no script, no web font: the page works offline and
from a file:// link, and its CSS reflows to a phone's width.

Check authors attach structured details (grader.checks.api.attach) that the report draws:
- `gradients`: rows {name, max_rel_error, worst_index, got, expected, passed} -> a table;
- `curves`: {series name: [values]} -> line charts drawn here as inline SVG (losses on
  one chart, accuracies on another); optional `reference_curves` of the same form are
  drawn dashed beside them;
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
from grader.results import GradeResult, write_atomic

TEMPLATES = PROJECT_ROOT / "templates"
OUTPUT_MAX_LINES = 200
OUTPUT_MAX_CHARS = 12_000
"""How much of the student's printed output a report shows: enough to debug, short enough to read."""
CHART_MAX_POINTS = 400
"""Longer series are averaged in buckets: 10,000 iterations would draw as a solid band."""
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
        "failed": [c for c in shown if not c.passed and not (result.error and c.message == result.error)],
        "hidden": {"count": len(hidden), "score": sum(c.score for c in hidden),
                   "max_score": sum(c.max_score for c in hidden), "passed": sum(c.passed for c in hidden)},
        "hidden_not_run": not any(c.visibility == "hidden" for c in result.checks),
        "output": cut_output(result.output),
    }
    return environment().get_template("report.html").render(**context)


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
        "charts": charts(details.get("curves"), details.get("reference_curves")),
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

    The engine already keeps only the start of a flood (and says so on the last line)."""
    lines = (text or "").splitlines()
    engine_cut = bool(lines) and lines[-1].endswith("of output cut]")
    shown = "\n".join(lines[:OUTPUT_MAX_LINES])[:OUTPUT_MAX_CHARS]
    left_out = len("\n".join(lines)) - len(shown)
    shown_lines = len(shown.splitlines())
    if left_out > 0:
        note = f"… {len(lines) - shown_lines} more lines ({left_out} characters) not shown"
        label = f"the first {shown_lines} lines"
    elif engine_cut:
        note, label = "", f"the first {shown_lines - 1} lines (the rest was cut)"
    else:
        note, label = "", f"{shown_lines} line{'s' if shown_lines != 1 else ''} printed"
    return {"text": shown, "lines": shown_lines, "note": note, "label": label}


# -- inline SVG line charts -------------------------------------------------------------------
WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 52, 14, 12, 46
COLOURS = ["#0969da", "#d1242f", "#1a7f37", "#8250df", "#bc4c00", "#116329"]


def charts(curves: Any, reference: Any = None) -> list[dict]:
    """Loss curves on one chart, accuracy curves on another, anything else on its own."""
    curves = _numeric_series(curves)
    reference = _numeric_series(reference)
    if not curves:
        return []
    groups: dict[str, list[str]] = {}
    for name in curves:
        kind = "loss" if "loss" in name else "accuracy" if "acc" in name else name
        groups.setdefault(kind, []).append(name)
    epoch_lengths = {len(curves[n]) for n in curves if "acc" in n}
    built = []
    for kind, names in groups.items():
        per_iteration = kind == "loss" and epoch_lengths and any(len(curves[n]) not in epoch_lengths for n in names)
        x_label = "iteration" if per_iteration else "epoch"
        series = [(n, curves[n], False) for n in names]
        series += [(f"reference {n}", reference[n], True) for n in names if n in reference]
        built.append(line_chart(kind.replace("_", " ").capitalize(), series, x_label,
                                unit_interval=kind == "accuracy"))
    return built


def _numeric_series(curves: Any) -> dict[str, list[float | None]]:
    if not isinstance(curves, dict):
        return {}
    out = {}
    for name, values in curves.items():
        if isinstance(values, (list, tuple)) and values:
            out[str(name)] = [float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None for v in values]
    return out


def bucket_means(values: list[float | None], limit: int = CHART_MAX_POINTS) -> list[tuple[float, float | None]]:
    """(x, y) points, x counted from 0; long series averaged in equal buckets."""
    if len(values) <= limit:
        return list(enumerate(values))
    size = len(values) / limit
    points_out = []
    for b in range(limit):
        chunk = [v for v in values[int(b * size):int((b + 1) * size)] if v is not None]
        centre = (b + 0.5) * size - 0.5
        points_out.append((centre, sum(chunk) / len(chunk) if chunk else None))
    return points_out


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        high = low + 1.0
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks, value = [], first
    while value <= high + step * 1e-9:
        if value >= low - step * 1e-9:
            ticks.append(round(value, 12))
        value += step
    return ticks


def line_chart(title: str, series: list[tuple[str, list, bool]], x_label: str, unit_interval: bool = False) -> dict:
    finite = [v for _, values, _ in series for v in values if v is not None]
    longest = max(len(values) for _, values, _ in series)
    if unit_interval and finite and min(finite) >= 0 and max(finite) <= 1:
        y_low, y_high = 0.0, 1.0
    else:
        y_low = min(finite + [0.0]) if finite and min(finite) >= 0 else min(finite or [0.0])
        y_high = max(finite or [1.0])
        if y_high - y_low < 1e-12:
            y_low, y_high = y_low - 0.5, y_high + 0.5
    y_ticks = nice_ticks(y_low, y_high)
    y_low, y_high = min(y_ticks[0], y_low), max(y_ticks[-1], y_high)
    x_high = max(longest - 1, 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(x: float) -> float:
        return round(LEFT + plot_w * x / x_high, 1)

    def sy(y: float) -> float:
        return round(TOP + plot_h * (1 - (y - y_low) / (y_high - y_low)), 1)

    lines = []
    for i, (name, values, dashed) in enumerate(series):
        segments, current = [], []
        for x, y in bucket_means(values):
            if y is None:
                if current:
                    segments.append(current)
                current = []
            else:
                current.append(f"{sx(x)},{sy(y)}")
        if current:
            segments.append(current)
        colour = "#6e7781" if dashed else COLOURS[i % len(COLOURS)]
        dropped = sum(v is None for v in values)
        lines.append({"name": name, "colour": colour, "dashed": dashed, "dropped": dropped,
                      "segments": [" ".join(s) for s in segments],
                      "dots": [s[0] for s in segments if len(s) == 1],
                      "last": next((v for v in reversed(values) if v is not None), None)})
    x_ticks = [t for t in nice_ticks(0, x_high, 6) if float(t).is_integer()]
    return {"title": title, "x_label": x_label, "width": WIDTH, "height": HEIGHT,
            "left": LEFT, "right": WIDTH - RIGHT, "top": TOP, "bottom": HEIGHT - BOTTOM,
            "y_ticks": [(sy(t), number(t)) for t in y_ticks],
            "x_ticks": [(sx(t), f"{int(t)}") for t in x_ticks],
            "lines": lines, "summary": ", ".join(f"{s['name']} ends at {number(s['last'])}" for s in lines)}


# -- the batch summary page ---------------------------------------------------------------------
def render_summary(summary: dict) -> str:
    """summary: what grader.report.gradebook.summarize returns."""
    return environment().get_template("summary.html").render(dict(summary, histogram=histogram(summary["histogram"])))


def histogram(bins: list[dict]) -> dict:
    """Bars for the score distribution: bins [{label, count}] -> SVG geometry."""
    width, height, left, bottom, top = 640, 200, 36, 28, 10
    tallest = max([b["count"] for b in bins] + [1])
    ticks = [t for t in nice_ticks(0, tallest, 4) if float(t).is_integer()]
    tallest = max(tallest * 1.12, ticks[-1] if ticks else 1)  # room for the count above the tallest bar
    slot = (width - left - 8) / max(len(bins), 1)
    plot_h = height - top - bottom
    bars = []
    for i, b in enumerate(bins):
        h = plot_h * b["count"] / tallest
        bars.append({"x": round(left + i * slot + 2, 1), "y": round(top + plot_h - h, 1), "w": round(slot - 4, 1),
                     "h": round(h, 1), "label": b["label"], "count": b["count"],
                     "cx": round(left + (i + 0.5) * slot, 1)})
    return {"width": width, "height": height, "left": left, "base": height - bottom, "top": top, "bars": bars,
            "y_ticks": [(round(top + plot_h * (1 - t / tallest), 1), int(t)) for t in ticks]}
