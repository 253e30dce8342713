"""Late policy and overrides: what the course does to a grade after the checks have scored it.

The checks never change: a late penalty or an instructor's override is applied to the
result's score afterwards, and every step is kept (raw, penalty, override, final) with a
sentence saying why, so the gradebook and both reports can show it.

Order of application, for one student and exercise:
1. raw: the checks' score, with any per-check override (`overrides.csv` with a `check`)
   replacing that check's points;
2. late penalty: `late_penalty_per_day` of the raw score per started day after the deadline
   (the student's extension, when there is one, replaces the deadline and moves `last_day`
   by as much); after `last_day` the score is 0. A submission Canvas marked LATE without a
   time is flagged late with the days unknown: no penalty until `--submitted-at` gives a time;
3. a total override (`overrides.csv` with an empty `check`) sets the final score outright.

`overrides.csv` sits beside the course file and is only read, never written by the grader,
so a rerun or `--force` cannot lose it.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from grader.course.roster import Course, CourseError, ExercisePolicy, Roster, nfc, parse_time
from grader.i18n import _, ngettext
from grader.results import GradeResult

OVERRIDE_COLUMNS = ("student", "exercise", "check", "points", "reason")


@dataclass(frozen=True)
class Override:
    student: str
    exercise: str
    check: str
    """Empty: the override sets the exercise's total."""
    points: float
    reason: str


@dataclass
class Lateness:
    submitted_at: datetime | None
    deadline: datetime | None
    last_day: datetime | None
    days_late: int | None
    """Started days after the deadline; 0 on time; None when late but the time is unknown."""
    extension: bool = False

    @property
    def late(self) -> bool:
        return self.days_late is None or self.days_late > 0


@dataclass
class Adjusted:
    """One student's grade for one exercise after the course's rules."""
    raw: float
    max_score: float
    penalty: float = 0.0
    final: float = 0.0
    lateness: Lateness | None = None
    overrides: list[Override] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    """Sentences for the student's report, in the order the rules applied."""
    check_points: dict[str, float] = field(default_factory=dict)
    """Check name -> points after per-check overrides."""


# -- submission times --------------------------------------------------------------------------
def load_submitted_at(path: Path, roster: Roster | None = None) -> dict[str, datetime]:
    """`student,submitted_at` CSV -> roster id (or the id as written, without a roster) -> time."""
    path = Path(path)
    times = {}
    for line, row in _rows(path, ("student", "submitted_at")):
        student = nfc(row["student"])
        if roster is not None:
            found = roster.by_id(student) or roster.by_email(student)
            if found is None:
                raise CourseError(_("{path}, line {line}: {student} is not on the roster").format(
                    path=path, line=line, student=repr(student)))
            student = found.id
        times[student] = parse_time(row["submitted_at"], f"{path}, line {line}")
    return times


def lateness(policy: ExercisePolicy, submitted_at: datetime | None, late_flag: bool,
             extension: datetime | None) -> Lateness | None:
    """How late a submission is under the exercise's policy (None: the exercise has no deadline)."""
    if policy.deadline is None:
        return None
    deadline, last_day = policy.deadline, policy.last_day
    if extension is not None:
        if last_day is not None:
            last_day = max(last_day, last_day + (extension - deadline))
        deadline = extension
    if submitted_at is None:
        return Lateness(None, deadline, last_day, None if late_flag else 0, extension is not None)
    seconds = (submitted_at - deadline).total_seconds()
    days = max(0, math.ceil(seconds / 86400)) if seconds > 0 else 0
    return Lateness(submitted_at, deadline, last_day, days, extension is not None)


# -- the whole adjustment -----------------------------------------------------------------------
def adjust(result: GradeResult, *, student: str, course: Course | None, submitted_at: datetime | None = None,
           late_flag: bool = False, overrides: list[Override] = ()) -> Adjusted:
    """Apply per-check overrides, the late policy and a total override to a graded result."""
    mine = [o for o in overrides if o.student == student and o.exercise == result.exercise]
    points = {c.name: c.score for c in result.checks}
    hidden = {c.name for c in result.checks if c.visibility != "public"}
    reasons = []
    for override in (o for o in mine if o.check):
        if override.check not in points:
            reasons.append(_("An override names the check {check}, which this exercise does not have; it was not "
                             "applied.").format(check=override.check))
            continue
        name = _("A hidden check") if override.check in hidden else override.check  # never named to students
        reasons.append(_("{check}: set to {points} points by your instructor ({reason}); the checks gave {before}.")
                       .format(check=name, points=f"{override.points:g}", reason=override.reason or _("no reason given"),
                               before=f"{points[override.check]:g}"))
        points[override.check] = override.points
    raw = round(sum(points.values()), 6)
    adjusted = Adjusted(raw=raw, max_score=result.max_score, final=raw, overrides=mine, check_points=points)
    if course is not None:
        extension = course.extensions.get(student, {}).get(result.exercise)
        adjusted.lateness = lateness(course.policy(result.exercise), submitted_at, late_flag, extension)
        _apply_late(adjusted, course.policy(result.exercise))
    adjusted.reasons[:0] = reasons
    for override in (o for o in mine if not o.check):
        adjusted.reasons.append(_("Your instructor set this exercise's score to {points} ({reason}); before that "
                                  "it was {before}.").format(points=f"{override.points:g}",
                                                             reason=override.reason or _("no reason given"),
                                                             before=f"{adjusted.final:g}"))
        adjusted.final = override.points
    return adjusted


def _apply_late(adjusted: Adjusted, policy: ExercisePolicy) -> None:
    late = adjusted.lateness
    if late is None or not late.late:
        if late is not None and late.extension:
            adjusted.reasons.append(_("You had an extension to {deadline} and submitted on time.")
                                    .format(deadline=late.deadline.isoformat()))
        return
    if late.days_late is None:
        adjusted.reasons.append(_("The LMS marked this submission late, but its time is unknown, so no late penalty "
                                  "was applied yet (deadline {deadline}).").format(deadline=late.deadline.isoformat()))
        return
    when = late.submitted_at.isoformat()
    if late.last_day is not None and late.submitted_at > late.last_day:
        adjusted.penalty = adjusted.raw
        adjusted.reasons.append(_("Submitted {when}, after the last day submissions were accepted ({last_day}): the "
                                  "score is 0 (the checks gave {raw}).").format(
                                      when=when, last_day=late.last_day.isoformat(), raw=f"{adjusted.raw:g}"))
    else:
        fraction = min(1.0, policy.late_penalty_per_day * late.days_late)
        adjusted.penalty = round(adjusted.raw * fraction, 6)
        late_by = (ngettext("Submitted {when}, {days} started day after your extended deadline ({deadline})",
                            "Submitted {when}, {days} started days after your extended deadline ({deadline})",
                            late.days_late) if late.extension else
                   ngettext("Submitted {when}, {days} started day after the deadline ({deadline})",
                            "Submitted {when}, {days} started days after the deadline ({deadline})", late.days_late))
        adjusted.reasons.append(
            late_by.format(when=when, days=late.days_late, deadline=late.deadline.isoformat()) + ": "
            + _("{rate} per day, {fraction} of {raw} = {penalty} points off.").format(
                rate=f"{policy.late_penalty_per_day:.0%}", fraction=f"{fraction:.0%}", raw=f"{adjusted.raw:g}",
                penalty=f"{adjusted.penalty:g}"))
    adjusted.final = round(adjusted.raw - adjusted.penalty, 6)


# -- overrides ----------------------------------------------------------------------------------
def load_overrides(path: Path | None, roster: Roster | None = None) -> list[Override]:
    """Read overrides.csv; a missing file means no overrides."""
    if path is None or not Path(path).is_file():
        return []
    overrides = []
    for line, row in _rows(Path(path), OVERRIDE_COLUMNS[:4]):
        student = nfc(row["student"])
        if roster is not None:
            found = roster.by_id(student)
            if found is None:
                raise CourseError(_("{path}, line {line}: {student} is not on the roster").format(
                    path=path, line=line, student=repr(student)))
            student = found.id
        try:
            points = float(row["points"])
        except ValueError:
            raise CourseError(_("{path}, line {line}: points {points} is not a number").format(
                path=path, line=line, points=repr(row["points"]))) from None
        overrides.append(Override(student, nfc(row["exercise"]), nfc(row.get("check") or ""), points,
                                  nfc(row.get("reason") or "")))
    return overrides


def _rows(path: Path, required: tuple[str, ...]):
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CourseError(_("{path}: cannot read it ({error})").format(path=path, error=exc.strerror or exc)) from None
    reader = csv.DictReader(text.splitlines())
    reader.fieldnames = [c.strip().lower() for c in reader.fieldnames or []]
    missing = [c for c in required if c not in reader.fieldnames]
    if missing:
        raise CourseError(_("{path}: needs the columns {columns} (missing {missing})").format(
            path=path, columns=", ".join(required), missing=", ".join(missing)))
    for line, row in enumerate(reader, start=2):
        if any((v or "").strip() for v in row.values()):
            yield line, {k: (v or "").strip() for k, v in row.items() if k}
