"""One student's files in the batch's output folder, and when they are still current.

OUT/<student>/ holds report.html (the student's copy), instructor.html, optionally
gradescope.json, for a notebook submission feedback.html (the notebook with each check's verdict
after the cell it tests, grader/report/notebook_feedback.py), and result.json, written last: a result on disk always comes with its
reports. result.json is GradeResult.to_dict() plus a "batch" entry: the grading key it was
graded under and whether it records a fault of the grader (then the next run retries it): the
grader failing on the submission, or any check that could not run (status could_not_run).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from grader.catalog import Exercise
from grader.results import GradeResult, write_atomic

RESULT_FILE, STUDENT_REPORT, INSTRUCTOR_REPORT, GRADESCOPE_FILE = (
    "result.json", "report.html", "instructor.html", "gradescope.json")


@dataclass(frozen=True)
class Student:
    id: str
    path: Path
    hash: str
    """grader.submission.content_hash of the entry when the batch started."""


def student_dir(out: Path, student: str) -> Path:
    return Path(out) / student


def load_stored(out: Path, student: str) -> dict | None:
    try:
        return json.loads((student_dir(out, student) / RESULT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_current(stored: dict | None, student: Student, key: str) -> bool:
    """The stored result grades this very submission under the checks and limits in force."""
    meta = (stored or {}).get("batch") or {}
    return bool(stored) and stored.get("submission_hash") == student.hash and meta.get("key") == key


def is_final(stored: dict | None, student: Student, key: str) -> bool:
    """Current, and not a fault of the grader that a rerun should retry."""
    return is_current(stored, student, key) and not (stored.get("batch") or {}).get("retry")


def save_student(out: Path, result: GradeResult, *, key: str, formats: tuple[str, ...] = (),
                 retry: bool = False, submission: Path | None = None) -> None:
    """Write the student's files; `submission` (the entry graded) is read for feedback.html when
    it is a notebook. Without the `notebooks` extra that page is skipped with a note in result.json."""
    from grader.report.html import write_report
    from grader.report.notebook_feedback import FEEDBACK_FILE, write_feedback_quietly

    folder = student_dir(out, result.student)
    write_report(result, folder / STUDENT_REPORT, audience="student")
    write_report(result, folder / INSTRUCTOR_REPORT, audience="instructor")
    (folder / FEEDBACK_FILE).unlink(missing_ok=True)  # a student who moved from a notebook to a .py
    feedback_problem = write_feedback_quietly(result, submission, folder / FEEDBACK_FILE)
    if "gradescope" in formats:
        from grader.report.gradescope import write_gradescope

        write_gradescope(result, folder / GRADESCOPE_FILE)
    data = result.to_dict()
    retry = retry or bool(result.grader_faults)  # a check the grader could not run: regrade next time
    data["batch"] = {"key": key, "retry": retry, "graded_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    if feedback_problem:
        data["batch"]["feedback_html"] = feedback_problem
    write_atomic(folder / RESULT_FILE, json.dumps(data, indent=2, default=str))


def error_result(exercise: Exercise, student: Student, message: str) -> GradeResult:
    """Every check at zero with `message`: for a student the grader itself could not grade."""
    from grader.pipeline import failed_result

    result = failed_result(exercise, message, student=student.id)
    result.submission_hash = student.hash
    return result
