"""One student's files in the batch's output folder, and when they are still current.

OUT/<student>/ holds report.html (the student's copy), instructor.html, optionally
gradescope.json, for a notebook submission feedback.html (the notebook with each check's verdict
after the cell it tests, grader/report/notebook_feedback.py), and result.json, written last: a result on disk always comes with its
reports. Every file is written by grader/report/outputs.py from the targets `student_targets`
declares, the same for a local and a cluster batch. result.json is GradeResult.to_json() (the
one serialiser, "format" included) plus a "batch" entry: the grading key it was
graded under, whether it records a fault of the grader (then the next run retries it): the
grader failing on the submission, or any check that could not run (status could_not_run), and
where the hand-in lies ("submission": the instructor's report links it, `grade similarity`
reads the code from it).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from grader.catalog import Exercise
from grader.results import FORMAT, GradeResult
from grader.submission import HandIn

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
    """The stored result grades this very submission under the checks and limits in force, in
    the result format this grader writes (an older or newer layout is graded again)."""
    meta = (stored or {}).get("batch") or {}
    return (bool(stored) and stored.get("format") == FORMAT and stored.get("submission_hash") == student.hash
            and meta.get("key") == key)


def is_final(stored: dict | None, student: Student, key: str) -> bool:
    """Current, and not a fault of the grader that a rerun should retry."""
    return is_current(stored, student, key) and not (stored.get("batch") or {}).get("retry")


def student_targets(out: Path, student: str, *, key: str, formats: tuple[str, ...] = (), retry: bool = False,
                    graded_at: str = "", submission: Path | None = None) -> list:
    """A batch's outputs for one student, the same for local and cluster batches: the student's
    and the instructor's report, feedback.html (for a notebook; removed otherwise), Gradescope's
    file when asked for, and result.json last, with the batch's record."""
    from grader.report.notebook_feedback import FEEDBACK_FILE
    from grader.report.outputs import Target

    folder = student_dir(out, student)
    targets = [Target.html(folder / STUDENT_REPORT, "student"), Target.html(folder / INSTRUCTOR_REPORT, "instructor", submission),
               Target.feedback(folder / FEEDBACK_FILE)]
    if "gradescope" in formats:
        targets.append(Target.gradescope(folder / GRADESCOPE_FILE))
    batch = {"key": key, "retry": retry, "graded_at": graded_at or time.strftime("%Y-%m-%dT%H:%M:%S")}
    if submission is not None:  # where the hand-in lies: `grade similarity OUT` reads the code from there
        batch["submission"] = str(Path(submission).resolve())
    return targets + [Target.json(folder / RESULT_FILE, batch=batch)]


def save_student(out: Path, result: GradeResult, *, key: str, formats: tuple[str, ...] = (),
                 retry: bool = False, hand_in: HandIn | None = None, submission: Path | None = None) -> None:
    """Write the student's files from `result` and the hand-in it was graded from (its bytes;
    a notebook's feedback page is drawn from them). Without the `notebooks` extra that page is
    skipped with a note in result.json. `retry`: a fault of the grader, regraded next run; any
    check that could not run counts as one too. `submission`: the hand-in's path, recorded and
    linked from the instructor's report."""
    from grader.report.outputs import write_outputs

    targets = student_targets(out, result.student, key=key, formats=formats,
                              retry=retry or bool(result.grader_faults), submission=submission)
    *reports, record = targets
    problems = write_outputs(result, hand_in, reports).problems
    if "feedback" in problems:
        record.extra["batch"]["feedback_html"] = problems["feedback"]
    write_outputs(result, hand_in, [record])


def error_result(exercise: Exercise, student: Student, message: str) -> GradeResult:
    """Every check at zero with `message`: for a student the grader itself could not grade."""
    from grader.pipeline import failed_result

    result = failed_result(exercise, message, student=student.id)
    result.submission_hash = student.hash
    return result
