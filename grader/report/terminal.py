"""Report: the result as a readable table in the terminal (plain text; click adds colour)."""

from __future__ import annotations

import textwrap
import threading
import time
from typing import Callable, TextIO

import click

from grader.i18n import N_, _, ngettext
from grader.report import fact_label, local_feedback_notice, location_text, title_of
from grader.results import PASSED, CheckResult, GradeResult

MARKS = {PASSED: ("✓", "green"), "failed": ("✗", "red"), "error": ("!", "yellow"), "could_not_run": ("?", "blue")}


def _points(value: float) -> str:
    return f"{value:g}"


NOT_GRADED = N_("not graded: the grader's fault")
"""What a check the grader could not run is called: it costs the student nothing."""


def check_line(check: CheckResult) -> str:
    mark, colour = MARKS.get(check.status, ("?", "white"))
    title = title_of(check.title) or check.name
    points = f"{_points(check.score)}/{_points(check.max_score)}"
    tag = " [" + _("hidden") + "]" if check.visibility == "hidden" else ""
    if check.not_graded:
        tag += click.style(f"  ({_(NOT_GRADED)})", fg=colour)
    return f"  {click.style(mark, fg=colour)} {points:>7}  {title}{tag}"


OUTPUT_LINES = 20
"""Lines of the student's printed output shown in the terminal; the report has more."""


def where_line(check: CheckResult) -> str:
    """"Where: losses.py, line 12 (exercise2)" when the message does not already name that line."""
    place = check.location or {}
    file, line = place.get("file"), place.get("line")
    said = line is not None and file in check.message and any(
        phrase in check.message for phrase in (f"line {line}", _("line {line}").format(line=line)))
    if not file or said:
        return ""
    return _("Where: {place}").format(place=location_text(place))


def render_check(check: CheckResult, width: int = 100, repeat_message: bool = True) -> str:
    """One check: its line, then (if it did not pass) what went wrong, wrapped: a wrong answer's
    rationale with its facts (input, expected, got) a line each, else the message; then where the
    student's code raised (when the message does not say) and the hint."""
    lines = [check_line(check)]
    if check.passed or not repeat_message:
        return "\n".join(lines)
    paragraphs = failure_lines(check)
    where = where_line(check)
    if where:
        paragraphs.append(f"  {where}")
    if check.hint:
        paragraphs.append("  " + _("Hint: {hint}").format(hint=check.hint))
    for para in paragraphs:  # a paragraph's later lines (a matrix's rows) are printed as they are
        head, *rows = para.split("\n")
        lines.extend(textwrap.wrap(head, width=width - 14, initial_indent=" " * 13,
                                   subsequent_indent=" " * 15) or [""])
        lines.extend(" " * 13 + row for row in rows)
    return "\n".join(lines)


def render_check_once(check: CheckResult, seen: set[str], width: int = 100) -> str:
    """render_check, but an error already shown for an earlier check (a module that does not
    import fails every check alike) is said once: later checks point back to it."""
    if check.status != "error" or check.message not in seen:
        seen.add(check.message)
        return render_check(check, width)
    return render_check(check, width, repeat_message=False) + "\n" + " " * 13 + _("(the same error as above)")


def failure_lines(check: CheckResult) -> list[str]:
    """What went wrong, a paragraph a line: the rationale and each fact it does not quote, or the message."""
    if check.status == "failed" and check.failure is not None:
        return [check.failure.rationale] + [f"  {fact_label(label)}: {text}" for label, text in check.failure.facts()]
    return check.message.splitlines() if check.message else []


def render_header(result: GradeResult) -> str:
    lines = [click.style(result.exercise + (f" — {result.student}" if result.student else ""), bold=True)]
    if result.error:
        lines.append(click.style("  " + _("could not grade: {error}").format(error=result.error), fg="red"))
    return "\n".join(lines)


def render_output(result: GradeResult, limit: int = OUTPUT_LINES) -> str:
    """What the student's code printed (its first `limit` lines, then how many more), then the
    grader's own notes, apart: a note of the grader's is never shown as the student's output."""
    lines = []
    printed = result.output.rstrip("\n").splitlines() if result.output.strip() else []
    if printed:
        lines.append(click.style(_("Your code printed:"), bold=True))
        lines.extend(f"  | {line}" for line in printed[:limit])
        if len(printed) > limit:
            more = len(printed) - limit
            lines.append("  " + ngettext("… {count} more line (in the HTML report or with --json)",
                                         "… {count} more lines (in the HTML report or with --json)", more).format(count=more))
    if result.notes:
        lines.append(click.style(_("Notes from the grader:"), bold=True))
        lines.extend(f"  - {note}" for note in result.notes)
    return "\n".join(lines)


def render_total(result: GradeResult) -> str:
    """The printed output and notes (render_output), then the total and what it means."""
    total = _("Total: {score} / {max_score}").format(score=_points(result.score), max_score=_points(result.max_score))
    colour = "green" if result.max_score and result.score == result.max_score else "yellow"
    output = render_output(result)
    lines = [output] if output else []
    lines.append(click.style(total, bold=True, fg=colour)
                 + "   " + _("({seconds} s, isolation: {level})").format(
                     seconds=f"{result.seconds:.2f}", level=result.isolation or "-"))
    if result.isolation == "local":
        lines.append(click.style(local_feedback_notice(), fg="blue"))
    pending = sorted({c.origin.split(":", 1)[1] for c in result.grader_faults if c.origin.startswith("exercise:")})
    faults = [c for c in result.grader_faults if not c.origin.startswith("exercise:")]
    if faults:
        lines.append(click.style(ngettext(
            "{count} check not graded: the grader's fault, not your code's (see the message above). Its points "
            "are not lost; it needs grading again.",
            "{count} checks not graded: the grader's fault, not your code's (see the message above). Their points "
            "are not lost; they need grading again.", len(faults)).format(count=len(faults)), fg="blue"))
    if pending:
        lines.append(click.style(_("Some checks wait on {exercises}: they use your code from there, which raised; "
                                   "fix it there and they will run.").format(exercises=", ".join(pending)), fg="blue"))
    if not any(c.visibility == "hidden" for c in result.checks):
        lines.append(_("Hidden checks run when your instructor grades; passing every public check does not "
                       "guarantee full marks."))
    return "\n".join(lines)


def render_after_checks(result: GradeResult) -> str:
    """What the terminal shows once the checks' own lines are printed: why nothing was graded
    (if so) and the total."""
    return "\n".join(([render_header(result)] if result.error else []) + [render_total(result)])


def render(result: GradeResult, width: int = 100) -> str:
    checks = [render_check(c, width, repeat_message=not result.error) for c in result.checks]
    return "\n".join([render_header(result), *checks, render_total(result)])


class RunningCheck:
    """On a terminal, a line that names the check running now and counts its seconds, so a
    long timed training run shows it is alive. Silent when output goes to a file or a pipe.

    Drawn with click.echo, not with click.progressbar: a check reports nothing while it runs,
    so the line must redraw itself on a timer, which click's bar does not do, and it must
    vanish before the finished check's line prints, where click's bar ends with a newline
    and leaves itself on screen (tests/test_cli.py shows both)."""

    DELAY = 1.0
    """Checks shorter than this never show the line."""
    TICK = 0.25
    """Seconds between redraws."""

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic, tick: float = TICK):
        self.stream = stream
        self.enabled = stream.isatty()
        self.clock, self.tick = clock, tick
        self.shown = threading.Event()
        """Set once the line of the check running now is on screen."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def started(self, check: CheckResult) -> None:
        if not self.enabled:
            return
        self._stop.clear()
        self.shown.clear()
        self._thread = threading.Thread(target=self._run, args=(check.title or check.name,), daemon=True)
        self._thread.start()

    def finished(self) -> None:
        """Stop counting and clear the line, so what prints next starts on a clean line."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def _run(self, title: str) -> None:
        start = self.clock()
        while not self._stop.wait(self.tick):
            elapsed = self.clock() - start
            if elapsed >= self.DELAY:
                self._draw(f"  … {elapsed:5.1f} s  {title}"[:120])
                self.shown.set()
        if self.shown.is_set():
            self._draw("")

    def _draw(self, text: str) -> None:
        """Replace the current line: back to its start, erase it, write `text`."""
        click.echo(f"\r\x1b[K{text}", file=self.stream, nl=False)
