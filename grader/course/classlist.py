"""The course layer around a batch: stage a download for grading, then one row per roster student.

    prepare_batch: match the download to the roster (lms.py), copy each student's files to
        OUT/.course/submissions/<folder> (what the batch grades), write OUT/course.json;
    class_rows:    every roster student with their result (or missing / unreadable / pending),
        adjusted by the late policy and overrides (policy.py);
    finish_course: OUT/gradebook.csv rewritten with a row per roster student and the
        adjustments, and a paragraph saying why in each student's reports.

OUT/course.json is the record of the match (roster, folders, times, LATE flags, unmatched
entries); `grade gradebook` and `grade feedback` read it, so they need no --roster.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from grader.course.lms import Matching, match_download, stage
from grader.course.policy import Adjusted, Override, adjust, load_overrides
from grader.course.roster import Course, CourseError, Roster, RosterStudent, load_course
from grader.i18n import _
from grader.results import GradeResult, write_atomic

COURSE_RECORD = "course.json"
STAGING = Path(".course") / "submissions"
MISSING, UNREADABLE, PENDING = "missing", "unreadable", "pending"


@dataclass
class Prepared:
    staged: Path
    """The folder to hand to the batch: one entry per student with something to grade."""
    matching: Matching
    record: dict


def prepare_batch(download: Path, out: Path, exercise: str, roster: Roster, course: Course | None,
                  submitted_at: dict[str, datetime] | None = None) -> Prepared:
    """Match `download` to the roster and stage each student's files under their folder name."""
    from grader.submission import content_hash

    out = Path(out)
    matching = match_download(Path(download), roster, skip=out)
    staged = out / STAGING
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    students = []
    for student in roster.students:
        handin = matching.handins.get(student.id)
        entry = {"id": student.id, "folder": roster.folder(student.id), "status": MISSING, "layout": "",
                 "sources": [], "submitted_at": None, "late_flag": False, "notes": [], "hash": ""}
        if handin is not None:
            path = stage(handin, entry["folder"], staged)
            when = handin.submitted_at or (submitted_at or {}).get(student.id)
            entry.update(status="submitted" if path else UNREADABLE, layout=handin.layout,
                         sources=handin.sources, late_flag=handin.late_flag, notes=list(handin.notes),
                         submitted_at=when.isoformat() if when else None,
                         hash=content_hash(path) if path else "")
            if path is None:
                entry["notes"].append("nothing the grader can read was handed in: "
                                      + ", ".join(sorted(handin.files)) + " (hand in .py, .ipynb or .zip)")
        elif (submitted_at or {}).get(student.id):
            entry["submitted_at"] = submitted_at[student.id].isoformat()
        students.append({**_roster_fields(student), **entry})
    record = {"exercise": exercise, "course": str(course.path.resolve()) if course and course.path else None,
              "roster": str(roster.path.resolve()) if roster.path else None, "students": students,
              "unmatched": [{"entry": u.entry, "why": u.why} for u in matching.unmatched],
              "warnings": matching.warnings}
    write_atomic(out / COURSE_RECORD, json.dumps(record, indent=2, ensure_ascii=False))
    return Prepared(staged, matching, record)


def _roster_fields(student: RosterStudent) -> dict:
    return {"name": student.name, "email": student.email, "lms_id": student.lms_id, "sis_id": student.sis_id,
            "section": student.section}


def roster_of(record: dict) -> Roster:
    """The roster as the batch saw it, to resolve ids written by hand (overrides) the same way."""
    return Roster([RosterStudent(s["id"], s["name"], s["email"], s.get("lms_id", ""), s.get("sis_id", ""),
                                 s.get("section", "")) for s in record["students"]],
                  folders={s["id"]: s["folder"] for s in record["students"]})


def load_record(out: Path) -> dict | None:
    try:
        return json.loads((Path(out) / COURSE_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# -- one row per roster student --------------------------------------------------------------------
@dataclass
class ClassRow:
    student: dict
    """The roster's fields and the match record (id, name, email, lms_id, sis_id, section, folder, ...)."""
    exercise: str
    status: str
    result: GradeResult | None
    adjusted: Adjusted | None

    @property
    def final(self) -> float | None:
        """The score to publish: 0 for nothing handed in; None (left blank) for a hand-in that
        could not be read or is not graded yet, unless an override sets the total."""
        overridden = self.adjusted is not None and any(not o.check for o in self.adjusted.overrides)
        if self.status in (UNREADABLE, PENDING) and not overridden:
            return None
        if self.adjusted is not None:
            return self.adjusted.final
        return 0.0 if self.status == MISSING else None


def class_rows(out: Path, course: Course | None = None, overrides: list[Override] | None = None) -> list[ClassRow]:
    """Every student of OUT's course record, in roster order, with the course's rules applied.
    The course file named in the record is used when `course` is None."""
    record = load_record(out)
    if record is None:
        raise CourseError(_("{out}: no {record}; run `grade batch ... --roster FILE` (or --course) first").format(
            out=out, record=COURSE_RECORD))
    if course is None and record.get("course") and Path(record["course"]).is_file():
        course = load_course(Path(record["course"]))
    if overrides is None:
        overrides = load_overrides(course.overrides_path if course else None, roster_of(record))
    rows = []
    for student in record["students"]:
        result = _current_result(Path(out), student)
        status = student["status"]
        if status == "submitted":
            status = PENDING if result is None else UNREADABLE if result.error else result.status
        adjusted = None
        if result is not None:
            when = datetime.fromisoformat(student["submitted_at"]) if student.get("submitted_at") else None
            adjusted = adjust(result, student=student["id"], course=course, submitted_at=when,
                              late_flag=student.get("late_flag", False), overrides=overrides)
        elif status == MISSING:
            mine = [o for o in overrides if o.student == student["id"] and o.exercise == record["exercise"]
                    and not o.check]
            if mine:
                adjusted = Adjusted(raw=0.0, max_score=0.0, final=mine[-1].points, overrides=mine,
                                    reasons=[_("Your instructor set this exercise's score to {points} ({reason}).")
                                             .format(points=f"{mine[-1].points:g}",
                                                     reason=mine[-1].reason or _("no reason given"))])
        rows.append(ClassRow(student, record["exercise"], status, result, adjusted))
    return rows


def _current_result(out: Path, student: dict) -> GradeResult | None:
    if student["status"] != "submitted":
        return None
    try:
        data = json.loads((out / student["folder"] / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if student.get("hash") and data.get("submission_hash") != student["hash"]:
        return None  # graded from an older download: not this submission's grade
    return GradeResult.from_dict(data)


# -- after the batch -------------------------------------------------------------------------------
def finish_course(out: Path, course: Course | None = None) -> list[ClassRow]:
    """Rewrite OUT/gradebook.csv with one row per roster student, and say why in each report."""
    from grader.report.exports import batch_gradebook_csv

    rows = class_rows(out, course)
    write_atomic(Path(out) / "gradebook.csv", batch_gradebook_csv(rows))
    for row in rows:
        annotate_reports(Path(out) / row.student["folder"], row)
    annotate_summary(Path(out) / "summary.html", rows, load_record(out) or {})
    return rows


def annotate_summary(path: Path, rows: list[ClassRow], record: dict) -> None:
    """The roster's view on summary.html: who handed in nothing or nothing readable, and which
    entries of the download matched no one."""
    if not path.is_file():
        return
    titles = {MISSING: _("Missing ({count})"), UNREADABLE: _("Unreadable ({count})"), PENDING: _("Pending ({count})")}
    groups = [(_("Matched no roster student ({count})").format(count=len(record.get("unmatched", []))),
               [f"{u['entry']}: {u['why']}" for u in record.get("unmatched", [])]),
              *((titles[status].format(count=sum(r.status == status for r in rows)),
                 [f"{r.student['id']} ({r.student['name']})" + (": " + "; ".join(r.student.get("notes", []))
                                                               if r.student.get("notes") else "")
                  for r in rows if r.status == status]) for status in (MISSING, UNREADABLE, PENDING))]
    body = "".join(f"<h3>{html.escape(title)}</h3><ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in items)
                   + "</ul>" for title, items in groups if items)
    heading = html.escape(_("Roster: {count} students").format(count=len(rows)))
    body = body or f"<p>{html.escape(_('Every roster student handed in a readable submission.'))}</p>"
    block = f'<section class="summary-card" id="roster"><h2>{heading}</h2>{body}</section>'
    inject(path, "roster", block)


def inject(path: Path, name: str, block: str) -> None:
    """Put `block` at the top of a page the batch rendered, replacing an earlier block of the
    same name, so reruns never stack them; an empty block just removes the old one."""
    start, end = f"<!-- course:{name} -->", f"<!-- /course:{name} -->"
    text = re.sub(re.escape(start) + ".*?" + re.escape(end), "", path.read_text(encoding="utf-8"), flags=re.S)
    if block:
        block = start + block + end
        marker = next((m for m in ('<main class="wide">', "<main>", "<body>") if m in text), None)
        text = text.replace(marker, marker + block, 1) if marker else text + block
    write_atomic(path, text)


def annotate_reports(folder: Path, row: ClassRow) -> None:
    """Put the course's adjustments (late penalty, overrides) at the top of both reports; a
    rerun replaces the paragraph, so it always matches the gradebook."""
    block = adjustments_block(row)
    for name in ("report.html", "instructor.html"):
        if (folder / name).is_file():
            inject(folder / name, "adjustments", block)


def adjustments_block(row: ClassRow) -> str:
    """The course's adjustments as a section of a report, in the current language; "" for none."""
    reasons = row.adjusted.reasons if row.adjusted else []
    if not reasons:
        return ""
    items = "".join(f"<li>{html.escape(reason)}</li>" for reason in reasons)
    a = row.adjusted
    parts = [_("Checks: {score} / {max_score}").format(score=f"{a.raw:g}", max_score=f"{a.max_score:g}")]
    if a.penalty:
        parts.append(_("late penalty: −{points}").format(points=f"{a.penalty:g}"))
    final = html.escape(_("final: {points}").format(points=f"{a.final:g}"))
    return (f'<section class="summary-card" id="course-adjustments"><h2>{html.escape(_("Your grade"))}</h2>'
            f"<p>{html.escape(' · '.join(parts))} · <strong>{final}</strong></p><ul>{items}</ul></section>")
