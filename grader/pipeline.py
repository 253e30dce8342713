"""The pipeline for one submission: find it -> run it isolated -> check -> score.

`grade_submission` is what the CLI, the batch grader and the tests call. A `Launcher` may be
passed in so a batch worker reuses one warm zygote for many students.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Callable

from grader.catalog import Exercise, get_exercise
from grader.checks.runner import list_checks, run_checks
from grader.options import DEFAULT_OPTIONS, GradingOptions
from grader.results import ERROR, CheckResult, GradeResult
from grader.sandbox.config import child_config
from grader.sandbox.launcher import Launcher
from grader.sandbox.session import Session
from grader.sandbox.student_process import StudentProcess
from grader.submission import Submission, SubmissionError, load_submission


def failed_result(exercise: Exercise, message: str, *, student: str = "", visibility: str | None = None) -> GradeResult:
    """A submission that could not be graded at all still gets every check, each at zero."""
    checks = [CheckResult(name=name, max_score=points, visibility=vis, status=ERROR, message=message, title=title)
              for name, points, vis, title in list_checks(exercise, visibility)]
    return GradeResult(exercise=exercise.name, checks=checks, student=student, error=message)


def grade_submission(exercise_name: str, path: Path, *, options: GradingOptions = DEFAULT_OPTIONS,
                     student: str = "", launcher: Launcher | None = None, visibility: str | None = None,
                     progress: Callable | None = None, started: Callable | None = None) -> GradeResult:
    """Grade one submission. `progress(check)` is called as each check finishes and
    `started(check)` as it begins. A `launcher` passed in must have been started for the same
    exercise and limits (batch workers); without one, a sandbox is started for this call."""
    exercise = options.exercise(get_exercise(exercise_name))
    start = time.perf_counter()
    try:
        submission = load_submission(Path(path), exercise)
    except SubmissionError as exc:
        result = failed_result(exercise, str(exc), student=student, visibility=visibility)
        result.seconds = time.perf_counter() - start
        return result
    own_launcher = launcher is None
    if own_launcher:
        launcher = Launcher(exercise, isolation=options.isolation)
        launcher.start()
    try:
        checks, output, notes = _check_in_sandbox(exercise, submission, launcher, options, visibility, progress,
                                                   started)
    finally:
        if own_launcher:
            launcher.close()
    return GradeResult(exercise=exercise.name, checks=checks, student=student, output=output,
                       notes=[*submission.notes, *notes],
                       isolation=launcher.isolation, seconds=time.perf_counter() - start,
                       submission_hash=submission.content_hash)


def _check_in_sandbox(exercise: Exercise, submission: Submission, launcher: Launcher, options: GradingOptions,
                      visibility: str | None, progress: Callable | None,
                      started: Callable | None) -> tuple[list[CheckResult], str, list[str]]:
    """Run the checks against the submission staged in the launcher's sandbox; (results, output,
    the sandbox's notes on loading it)."""
    folder = launcher.stage(submission.files)
    try:
        config = child_config(exercise, launcher.packages, submission.entry, folder)
        process = StudentProcess(exercise, lambda: Session(launcher, config, memory_mb=exercise.memory_limit_mb))
        try:
            checks = run_checks(exercise, process, options, visibility=visibility, progress=progress,
                                started=started)
        finally:
            output = process.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return checks, output, process.notes
