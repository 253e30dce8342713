"""Chart geometry for the HTML reports: where the axes, ticks, lines and bars go, in SVG units.

Only numbers come out of here (pixel positions, tick values, point lists); the templates turn
them into markup. Keeping the arithmetic apart lets it be tested without parsing HTML, and
lets a template change its look without touching a scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from grader.i18n import _

MAX_POINTS = 400
"""Longer series are averaged in buckets: 10,000 iterations would draw as a solid band."""
Point = tuple[float, float]
Series = tuple[str, list[float | None], bool]
"""(name, values, dashed): None marks a value that is not a finite number."""


# -- learning curves -----------------------------------------------------------------------------
@dataclass
class Line:
    """One series on a chart. A run of finite values is one segment; a NaN breaks the line, and a
    segment of a single point is also listed in `dots` (a polyline of one point draws nothing)."""
    name: str
    dashed: bool
    segments: list[list[Point]]
    dots: list[Point]
    dropped: int
    """How many values were not finite (and so not drawn)."""
    last: float | None
    """The last finite value, which the legend quotes."""


@dataclass
class LineChart:
    """A chart of one or more series; left/right/top/bottom bound the plot area."""
    title: str
    x_label: str
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    y_ticks: list[tuple[float, float]]
    """(pixel y, value) for each horizontal grid line."""
    x_ticks: list[tuple[float, int]]
    """(pixel x, epoch or iteration) for each tick on the x axis."""
    lines: list[Line] = field(default_factory=list)


WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 52, 14, 12, 46
"""Margins around the plot area, wide enough for the tick labels and the axis title."""


def learning_curves(curves: Any, reference: Any = None) -> list[LineChart]:
    """Loss curves on one chart, accuracy curves on another, anything else on its own.

    `curves` and `reference` are what a check attached ({series name: [values]}); anything
    that is not such a mapping draws nothing rather than failing the report."""
    curves = numeric_series(curves)
    reference = numeric_series(reference)
    if not curves:
        return []
    groups: dict[str, list[str]] = {}
    for name in curves:
        groups.setdefault(_kind(name), []).append(name)
    epoch_lengths = {len(curves[n]) for n in curves if "acc" in n}
    built = []
    for kind, names in groups.items():
        per_iteration = kind == "loss" and epoch_lengths and any(len(curves[n]) not in epoch_lengths for n in names)
        series = [(n, curves[n], False) for n in names]
        series += [(_("reference {name}").format(name=n), reference[n], True) for n in names if n in reference]
        built.append(line_chart(chart_title(kind), series, _("iteration") if per_iteration else _("epoch"),
                                unit_interval=kind == "accuracy"))
    return built


def chart_title(kind: str) -> str:
    """A chart's title: the loss and accuracy charts' in the reader's language, others by their series."""
    titles = {"loss": _("Loss"), "accuracy": _("Accuracy")}
    return titles.get(kind) or kind.replace("_", " ").capitalize()


def _kind(name: str) -> str:
    """Which chart a series goes on: its losses and accuracies share one chart each."""
    return "loss" if "loss" in name else "accuracy" if "acc" in name else name


def numeric_series(curves: Any) -> dict[str, list[float | None]]:
    """{name: values} with every value a float, or None where it is not a finite number."""
    if not isinstance(curves, dict):
        return {}
    out = {}
    for name, values in curves.items():
        if isinstance(values, (list, tuple)) and values:
            out[str(name)] = [float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None for v in values]
    return out


def bucket_means(values: list[float | None], limit: int = MAX_POINTS) -> list[tuple[float, float | None]]:
    """(x, y) points, x counted from 0; long series averaged in equal buckets."""
    if len(values) <= limit:
        return list(enumerate(values))
    size = len(values) / limit
    points = []
    for b in range(limit):
        chunk = [v for v in values[int(b * size):int((b + 1) * size)] if v is not None]
        centre = (b + 0.5) * size - 0.5
        points.append((centre, sum(chunk) / len(chunk) if chunk else None))
    return points


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About `count` round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) covering low..high."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks, value = [], math.floor(low / step) * step
    while value <= high + step * 1e-9:
        if value >= low - step * 1e-9:
            ticks.append(round(value, 12))
        value += step
    return ticks


def y_range(finite: list[float], unit_interval: bool) -> tuple[float, float]:
    """The values' range, from 0 when none is negative; 0..1 for accuracies that fit in it."""
    if unit_interval and finite and min(finite) >= 0 and max(finite) <= 1:
        return 0.0, 1.0
    low = min(finite + [0.0]) if finite and min(finite) >= 0 else min(finite or [0.0])
    high = max(finite or [1.0])
    if high - low < 1e-12:  # a flat line: give it room above and below
        return low - 0.5, high + 0.5
    return low, high


def line_chart(title: str, series: list[Series], x_label: str, unit_interval: bool = False) -> LineChart:
    """The geometry of one chart: every series scaled into the same plot area."""
    finite = [v for _, values, _ in series for v in values if v is not None]
    y_low, y_high = y_range(finite, unit_interval)
    y_ticks = nice_ticks(y_low, y_high)
    y_low, y_high = min(y_ticks[0], y_low), max(y_ticks[-1], y_high)  # the outer ticks stay inside
    x_high = max(max(len(values) for _, values, _ in series) - 1, 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def point(x: float, y: float) -> Point:
        return round(LEFT + plot_w * x / x_high, 1), round(TOP + plot_h * (1 - (y - y_low) / (y_high - y_low)), 1)

    x_ticks = [int(t) for t in nice_ticks(0, x_high, 6) if float(t).is_integer()]
    return LineChart(title=title, x_label=x_label, width=WIDTH, height=HEIGHT,
                     left=LEFT, right=WIDTH - RIGHT, top=TOP, bottom=HEIGHT - BOTTOM,
                     y_ticks=[(point(0, t)[1], t) for t in y_ticks],
                     x_ticks=[(point(t, y_low)[0], t) for t in x_ticks],
                     lines=[_line(name, values, dashed, point) for name, values, dashed in series])


def _line(name: str, values: list[float | None], dashed: bool, point) -> Line:
    segments: list[list[Point]] = []
    current: list[Point] = []
    for x, y in bucket_means(values):
        if y is None:
            if current:
                segments.append(current)
            current = []
        else:
            current.append(point(x, y))
    if current:
        segments.append(current)
    return Line(name=name, dashed=dashed, segments=segments, dots=[s[0] for s in segments if len(s) == 1],
                dropped=sum(v is None for v in values),
                last=next((v for v in reversed(values) if v is not None), None))


# -- the class's score histogram -----------------------------------------------------------------
@dataclass
class Bar:
    """One score range: the rectangle, its label and count, and the centre for both texts."""
    x: float
    y: float
    w: float
    h: float
    label: str
    count: int
    cx: float


@dataclass
class Histogram:
    """Bars standing on `base`; the plot spans left..width-8 across."""
    width: int
    height: int
    left: int
    base: int
    top: int
    bars: list[Bar]
    y_ticks: list[tuple[float, int]]
    """(pixel y, number of students) for each grid line."""


def histogram(bins: list[dict]) -> Histogram:
    """Bars for the score distribution: bins [{label, count}] -> their rectangles and ticks."""
    width, height, left, bottom, top = 640, 200, 36, 28, 10
    tallest = max([b["count"] for b in bins] + [1])
    ticks = [int(t) for t in nice_ticks(0, tallest, 4) if float(t).is_integer()]
    tallest = max(tallest * 1.12, ticks[-1] if ticks else 1)  # room for the count above the tallest bar
    slot = (width - left - 8) / max(len(bins), 1)
    plot_h = height - top - bottom
    bars = []
    for i, b in enumerate(bins):
        h = plot_h * b["count"] / tallest
        bars.append(Bar(x=round(left + i * slot + 2, 1), y=round(top + plot_h - h, 1), w=round(slot - 4, 1),
                        h=round(h, 1), label=b["label"], count=b["count"], cx=round(left + (i + 0.5) * slot, 1)))
    return Histogram(width=width, height=height, left=left, base=height - bottom, top=top, bars=bars,
                     y_ticks=[(round(top + plot_h * (1 - t / tallest), 1), t) for t in ticks])
