"""How far a batch is: the counts the library reports, and their display for the CLI.

Besides the counts, a local batch reports who is being graded now and what each waits on (the
check running in the student's code, and for how long), so a hanging submission is named while
it hangs, and the ETA counts the time those students may still take."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

import click

from grader.i18n import _, ngettext


@dataclass
class Running:
    """A student being graded now: the check running in their code, and seconds so far."""
    student: str
    check: str
    seconds: float
    check_seconds: float = 0.0


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
    running: list[Running] = field(default_factory=list)
    """Students being graded now (a local batch; empty for a cluster batch)."""
    limit: float | None = None
    """Seconds one student may take at most (the submission's time limit): bounds the ETA of a
    student who is taking longer than the others did."""

    @property
    def finished(self) -> int:
        return self.skipped + self.done

    def rate(self) -> float | None:
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if self.done and elapsed > 0 else None

    def eta(self) -> float | None:
        """Seconds left: what the running students may still take (the mean so far less their
        time; one already slower than the mean: up to the time limit), then the students still
        queued at the rate so far, starting as the first running student finishes."""
        rate = self.rate()
        queued = max(0, self.total - self.finished - len(self.running))
        if not self.running:
            return queued / rate if rate else None
        mean = (time.monotonic() - self.started) / self.done if self.done else None
        left = [self._left(r, mean) for r in self.running]
        if None in left or (queued and not rate):
            return None
        return max(max(left), min(left) + queued / rate if queued else 0.0)

    def _left(self, running: Running, mean: float | None) -> float | None:
        if mean is not None and running.seconds < mean:
            return mean - running.seconds
        return max(0.0, self.limit - running.seconds) if self.limit else None


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
        self.last_slow: tuple = ()

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
        """A line per tenth of the way, and one whenever another student becomes slow."""
        tenth = int((p.finished / p.total if p.total else 1.0) * 10)
        slow = tuple(sorted(r.student for r in p.running if r.seconds >= SLOW_S))
        if tenth != self.last_tenth or (slow and slow != self.last_slow):
            self.last_tenth, self.last_slow = tenth, slow
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
        parts.append(ngettext("{count} worker", "{count} workers", p.workers).format(count=p.workers))
    if p.skipped:
        parts.append(_("{count} unchanged").format(count=p.skipped))
    if p.errors:
        parts.append(ngettext("{count} error", "{count} errors", p.errors).format(count=p.errors))
    rate, eta = p.rate(), p.eta()
    if rate:
        parts.append(f"{rate:.1f}/s")
    if p.finished < p.total:
        left = f"{int(eta) // 60}:{int(eta) % 60:02d}" if eta is not None else "--:--"
        parts.append(_("ETA {time}").format(time=left))
    waiting = waits(p)
    if waiting:
        parts.append(waiting)
    return "  ".join(parts)


SLOW_S = 3.0
"""A student running longer than this is named in the progress line."""


def waits(p: Progress, most: int = 3) -> str:
    """"waiting on ana (cross_entropy_batch: 8 s), bo (…)": the students graded for longer than
    SLOW_S, longest first, and the check each is in."""
    slow = sorted((r for r in p.running if r.seconds >= SLOW_S), key=lambda r: -r.seconds)
    if not slow:
        return ""
    named = [f"{r.student} ({r.check + ': ' if r.check else ''}{int(r.check_seconds if r.check else r.seconds)} s)"
             for r in slow[:most]]
    if len(slow) > most:
        return _("waiting on {students} and {count} more").format(students=", ".join(named), count=len(slow) - most)
    return _("waiting on {students}").format(students=", ".join(named))
