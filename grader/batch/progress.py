"""How far a batch is: the counts the library reports, and a one-line display for a terminal."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TextIO


@dataclass
class Progress:
    """`done` counts students graded in this run; `skipped` those unchanged since the last."""
    total: int
    skipped: int = 0
    done: int = 0
    errors: int = 0
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
    """A progress bar with counts, rate and ETA, redrawn in place on a terminal; elsewhere (a
    log, CI) one line per tenth of the way, so the log stays short."""

    def __init__(self, stream: TextIO = sys.stderr, label: str = "", width: int = 24):
        self.stream, self.label, self.width = stream, label, width
        self.tty = stream.isatty()
        self.last_draw = 0.0
        self.last_tenth = -1

    def __call__(self, p: Progress) -> None:
        fraction = p.finished / p.total if p.total else 1.0
        now = time.monotonic()
        if self.tty:
            if now - self.last_draw < 0.1 and p.finished < p.total:
                return
            self.last_draw = now
            self.stream.write("\r" + self.line(p, fraction) + "\033[K")
        else:
            tenth = int(fraction * 10)
            if tenth == self.last_tenth:
                return
            self.last_tenth = tenth
            self.stream.write(self.line(p, fraction) + "\n")
        self.stream.flush()

    def line(self, p: Progress, fraction: float) -> str:
        filled = int(round(fraction * self.width))
        parts = [f"{self.label} [{'#' * filled}{'-' * (self.width - filled)}] {p.finished}/{p.total}".strip()]
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

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
