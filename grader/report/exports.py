"""Gradebooks for a course with a roster: the batch's own gradebook.csv, and exports an LMS imports.

- `batch_gradebook_csv`: OUT/gradebook.csv of one exercise, one row per roster student; the
  columns of today's gradebook first (so `grade gradebook` still merges it), `score` being
  the final score, then raw / penalty / days late / override and the student's details.
- `export_csv`: several exercises, one row per roster student, each exercise's raw, penalty,
  final and status, with a `points_possible` row first.
- `export_canvas`: Canvas's gradebook import: `Student, ID, SIS User ID, SIS Login ID,
  Section`, one column per exercise, then a "Points Possible" row (Canvas reads the row as
  the assignments' maxima and skips it as a student). ID is the roster's lms_id (the Canvas
  user id); SIS Login ID is the roster id.
- `export_moodle`: Moodle's "Import grades from CSV": a header row, the columns to key
  students by (ID number = sis_id, Email address), one column per grade item. No points row:
  Moodle maps every row to a user.

A student with nothing handed in scores 0; one whose hand-in could not be read or is not
graded yet is left blank in the LMS exports, so an import never posts a grade the
instructor has not seen. The exports start with a UTF-8 byte-order mark so that Excel shows
accented names correctly (Canvas and Moodle both accept it).
"""

from __future__ import annotations

import csv
import io

from grader.course.classlist import MISSING, ClassRow

BOM = "\ufeff"
BASE = ["student", "exercise", "score", "max_score", "percent"]
COURSE_TAIL = ["status", "seconds", "raw", "penalty", "days_late", "submitted_at", "override", "name", "email",
               "section", "notes"]
CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_HEADER = ["Full name", "ID number", "Email address"]
FORMULA_START = ("=", "+", "@", "-")


def _cell(text: str) -> str:
    """Spreadsheets run cells that start with = + @ - as formulas; a name or id must not."""
    text = str(text or "")
    return "'" + text if text.startswith(FORMULA_START) else text


def _num(value: float | None) -> str:
    return "" if value is None else f"{round(value, 4):g}"


def _csv(rows: list[list[str]], bom: bool) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n" if bom else "\n").writerows(rows)
    return (BOM if bom else "") + buffer.getvalue()


def _max_score(rows: list[ClassRow]) -> float:
    return max((r.result.max_score for r in rows if r.result is not None), default=0.0)


# -- one exercise: OUT/gradebook.csv ------------------------------------------------------------
def batch_gradebook_csv(rows: list[ClassRow]) -> str:
    checks = []
    for row in rows:
        for check in row.result.checks if row.result else []:
            if check.name not in checks:
                checks.append(check.name)
    maximum = _max_score(rows)
    table = [BASE + checks + COURSE_TAIL]
    for row in rows:
        a, s = row.adjusted, row.student
        late = a.lateness if a else None
        points = a.check_points if a else {}
        override = "; ".join(f"{o.check or 'total'}={o.points:g} ({o.reason})" for o in a.overrides) if a else ""
        table.append([
            _cell(s["id"]), row.exercise, _num(row.final), _num(maximum),
            _num(round(100 * row.final / maximum, 1)) if maximum and row.final is not None else "",
            *(_num(points.get(name)) if name in points else "" for name in checks),
            row.status, f"{row.result.seconds:.2f}" if row.result else "",
            _num(a.raw) if a else "", _num(a.penalty) if a else "",
            ("unknown" if late.days_late is None else str(late.days_late)) if late else "",
            s.get("submitted_at") or "", override, _cell(s["name"]), _cell(s["email"]), _cell(s["section"]),
            " | ".join(s.get("notes", []) + (a.reasons if a else []))])
    return _csv(table, bom=False)


# -- several exercises ----------------------------------------------------------------------------
def _by_student(books: list[list[ClassRow]]) -> tuple[list[str], list[dict], dict[tuple[str, str], ClassRow]]:
    """Exercises in order, students in first-seen roster order, and each (student, exercise) row."""
    exercises, students, cells = [], {}, {}
    for rows in books:
        for row in rows:
            if row.exercise not in exercises:
                exercises.append(row.exercise)
            students.setdefault(row.student["id"], row.student)
            cells[row.student["id"], row.exercise] = row
    return exercises, list(students.values()), cells


def export_csv(books: list[list[ClassRow]]) -> str:
    exercises, students, cells = _by_student(books)
    maxima = {e: _max_score(b) for b in books for e in {r.exercise for r in b}}
    header = ["student", "name", "email", "section"]
    for e in exercises:
        header += [f"{e} raw", f"{e} penalty", f"{e} final", f"{e} status"]
    header += ["total", "max_total", "percent"]
    total_max = sum(maxima.values())
    table = [header, ["points_possible", "", "", ""] + sum(([_num(maxima[e]), "", _num(maxima[e]), ""]
                                                            for e in exercises), []) +
             [_num(total_max), _num(total_max), "100"]]
    for s in students:
        line, total = [_cell(s["id"]), _cell(s["name"]), _cell(s["email"]), _cell(s["section"])], 0.0
        for e in exercises:
            row = cells.get((s["id"], e))
            a = row.adjusted if row else None
            line += [_num(a.raw) if a else "", _num(a.penalty) if a else "",
                     _num(row.final) if row else "", row.status if row else MISSING]
            total += (row.final or 0.0) if row else 0.0
        line += [_num(total), _num(total_max), _num(100 * total / total_max) if total_max else "0"]
        table.append(line)
    return _csv(table, bom=True)


def _lms_score(row: ClassRow | None) -> str:
    return "0" if row is None else _num(row.final)


def export_canvas(books: list[list[ClassRow]]) -> str:
    exercises, students, cells = _by_student(books)
    maxima = {e: _max_score(b) for b in books for e in {r.exercise for r in b}}
    table = [CANVAS_HEADER + exercises,
             ["    Points Possible", "", "", "", ""] + [_num(maxima[e]) for e in exercises]]
    for s in students:
        table.append([_cell(s["name"]), s.get("lms_id", ""), _cell(s.get("sis_id", "")), _cell(s["id"]),
                      _cell(s.get("section", ""))] + [_lms_score(cells.get((s["id"], e))) for e in exercises])
    return _csv(table, bom=True)


def export_moodle(books: list[list[ClassRow]]) -> str:
    exercises, students, cells = _by_student(books)
    table = [MOODLE_HEADER + exercises]
    for s in students:
        table.append([_cell(s["name"]), _cell(s.get("sis_id", "")), _cell(s["email"])]
                     + [_lms_score(cells.get((s["id"], e))) for e in exercises])
    return _csv(table, bom=True)


EXPORTS = {"csv": export_csv, "canvas": export_canvas, "moodle": export_moodle}


# -- files a rerun adds without regrading -------------------------------------------------------------
def write_missing_gradescope(out, students, key: str) -> int:
    """`--format gradescope` on a rerun: write gradescope.json for the students skipped as
    unchanged (their result.json is current), from that result, without grading them again."""
    from pathlib import Path

    from grader.batch.store import GRADESCOPE_FILE, is_current, load_stored, student_dir
    from grader.report.gradescope import write_gradescope
    from grader.results import GradeResult

    written = 0
    for student in students:
        target = student_dir(Path(out), student.id) / GRADESCOPE_FILE
        stored = load_stored(Path(out), student.id)
        if not target.is_file() and is_current(stored, student, key):
            write_gradescope(GradeResult.from_dict(stored), target)
            written += 1
    return written
