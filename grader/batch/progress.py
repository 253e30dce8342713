"""How far a batch is: the counts the library reports, and their display for the CLI."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

import click


@dataclass
class Progress:
    """`done` counts students graded in this run; `skipped` those unchanged since the last;
    `workers` the cluster's workers connected now (None for a local batch, whose pool is fixed)."""
    total: int
    skipped: int = 0
    done: int = 0
    errors: int = 0
    workers: int | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def finished(self) -> int:
        return self.skipped + self.done

    def rate(self) -> float | None:
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if self.done and elapsed > 0 else None

    def eta(self) -> float | None:
        rate = self.rate()
        return (self.total - self.finished) / rate if rate else None


class ProgressLine:
    """Batch progress for the CLI: on a terminal, click's progress bar redrawn in place with
    counts, rate and ETA; elsewhere (a log, CI) one line per tenth of the way, so the log stays
    short (click's bar would print only its label there).

    The ETA is Progress.eta, not click's: click counts every step, so students skipped as
    unchanged, done in no time, would make the rest look almost finished."""

    def __init__(self, stream: TextIO = sys.stderr, label: str = "", width: int = 24):
        self.stream, self.label, self.width = stream, label, width
        self.tty = stream.isatty()
        self.bar = None  # click's progress bar, made at the first call: it needs the total
        self.last_tenth = -1

    def __call__(self, p: Progress) -> None:
        if self.tty:
            self._redraw(p)
        else:
            self._log(p)

    def _redraw(self, p: Progress) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=p.total, label=self.label, file=self.stream, width=self.width,
                                         fill_char="#", empty_char="-", show_pos=True, show_percent=False,
                                         show_eta=False, item_show_func=lambda shown: shown and details(shown))
        self.bar.current_item = p
        if p.finished > self.bar.pos:
            self.bar.update(p.finished - self.bar.pos)
        else:  # nobody finished: the rate and ETA still move
            self.bar.render_progress()

    def _log(self, p: Progress) -> None:
        tenth = int((p.finished / p.total if p.total else 1.0) * 10)
        if tenth != self.last_tenth:
            self.last_tenth = tenth
            click.echo("  ".join(filter(None, [f"{self.label} {p.finished}/{p.total}".strip(), details(p)])),
                       file=self.stream)

    def close(self) -> None:
        """End the bar's line on a terminal, so what prints next starts on its own line."""
        if self.bar is not None:
            self.bar.render_finish()


def details(p: Progress) -> str:
    """What follows the count: workers connected (cluster), unchanged students, errors,
    students per second and the ETA."""
    parts = []
    if p.workers is not None:
        parts.append(f"{p.workers} worker{'s' if p.workers != 1 else ''}")
    if p.skipped:
        parts.append(f"{p.skipped} unchanged")
    if p.errors:
        parts.append(f"{p.errors} error{'s' if p.errors != 1 else ''}")
    rate, eta = p.rate(), p.eta()
    if rate:
        parts.append(f"{rate:.1f}/s")
    if p.finished < p.total:
        parts.append(f"ETA {int(eta) // 60}:{int(eta) % 60:02d}" if eta is not None else "ETA --:--")
    return "  ".join(parts)
