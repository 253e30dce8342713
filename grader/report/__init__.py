"""Reports of a GradeResult: terminal, HTML, charts, gradebook, Gradescope.

Every word a report shows goes through grader.i18n's `_` when the report is drawn, so one
result reads in the language chosen for it (--lang, the course file, the locale); scores,
statuses and check names never change with the language (docs/translating.md)."""

from __future__ import annotations

import datetime

from grader.i18n import N_, _, current_language

LOCAL_FEEDBACK_NOTICE = N_("This score is feedback for you, not your instructor's grade: it was graded on your own "
                           "machine at the `local` level, where your code runs without the course's sandbox. "
                           "Your instructor grades the submission you hand in separately.")
"""Shown with every result graded at the `local` isolation level (terminal and HTML reports);
pass it through `_` where it is shown."""

FACT_LABELS = {"Call": N_("Call"), "Input": N_("Input"), "Expected": N_("Expected"), "Got": N_("Got")}
"""results.Failure.facts()'s labels, translated where a report shows them."""


def fact_label(label: str) -> str:
    """A wrong answer's fact label (results.Failure.facts) in the reader's language."""
    return _(FACT_LABELS[label]) if label in FACT_LABELS else label


def local_feedback_notice() -> str:
    return _(LOCAL_FEEDBACK_NOTICE)


def made_at(when: datetime.datetime | None = None) -> str:
    """"Made on 5 Dec 2026, 18:42 UTC+09:00" in the reader's language and local time: a page
    says when it was made, so an old report is never read as the new one."""
    from babel.dates import format_datetime

    when = (when or datetime.datetime.now()).astimezone()
    stamp = format_datetime(when, "medium", tzinfo=when.tzinfo, locale=current_language())
    return _("Made on {when}").format(when=f"{stamp} {when.strftime('%Z')}".strip())


def title_of(title: str) -> str:
    """A check's title in the reader's language. A result keeps the title in the language it was
    graded in; one graded in English is its catalog's message id, so a report redrawn later in
    Korean (`grade feedback --lang ko`) still shows it translated."""
    return _(title) if title else title


def origin_note(check, audience: str = "student") -> str:
    """What a report says about who a check's outcome belongs to, beyond its status: another
    exercise's code that made it fail (so the student fixes it there), and for instructors the
    kind of a grader fault (grader, machine, data). "" when there is nothing to add."""
    origin = getattr(check, "origin", "") or ""
    if origin.startswith("exercise:"):
        return _("This comes from code of {exercise}, not of this exercise: fixing it there "
                 "fixes this check.").format(exercise=origin.split(':', 1)[1])
    if audience == "instructor" and check.status == "could_not_run" and origin:
        return _("Not run because of: {origin}.").format(origin=origin)
    return ""


def location_text(location: dict) -> str:
    """Where the student's code raised, as "gradients.py, line 17" (and the exercise when it is
    another one's code); "" when unknown."""
    if not location or not location.get("file"):
        return ""
    file, line, exercise = str(location["file"]), location.get("line"), location.get("exercise")
    if line and exercise:
        return _("{file}, line {line} ({exercise})").format(file=file, line=line, exercise=exercise)
    if line:
        return _("{file}, line {line}").format(file=file, line=line)
    return _("{file} ({exercise})").format(file=file, exercise=exercise) if exercise else file
