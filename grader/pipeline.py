"""The pipeline for one submission: find it -> run it isolated -> check -> score.

`grade_submission` is what the CLI, the batch grader and the tests call. A `Launcher` may be
passed in so a batch worker reuses one warm zygote for many students.
"""

from __future__ import annotations

import shutil
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Collection

from grader.catalog import Exercise, get_exercise
from grader.checks.runner import list_checks, run_checks
from grader.hand_in_review import review_notes
from grader.i18n import _, use_language
from grader.options import DEFAULT_OPTIONS, GradingOptions
from grader.results import ERROR, CheckResult, GradeResult, shorten
from grader.sandbox.config import child_config
from grader.sandbox.launcher import Launcher
from grader.sandbox.session import Session
from grader.sandbox.student_process import StudentProcess
from grader.submission import HandIn, Submission, SubmissionError, load_submission, read_hand_in


class ChecksUnavailable(RuntimeError):
    """The exercise's check files could not be loaded: the grader's fault, for every student
    alike. The message is one line naming the file and line; no student is graded."""


def load_checks(exercise: Exercise, visibility: str | None = None) -> None:
    """Import the exercise's check files, or ChecksUnavailable naming where they broke."""
    try:
        list_checks(exercise, visibility)
    except Exception as exc:  # noqa: BLE001 - any error in a check file is the grader's, said in one line
        raise ChecksUnavailable(_("the checks of {exercise} could not be loaded ({where}{error}); this is the "
                                  "grader's fault, not the submission's: fix the check file or tell your instructor")
                                .format(exercise=exercise.name, where=_where(exc),
                                        error=f"{type(exc).__name__}: {shorten(exc, 200)}")) from None


def _where(exc: Exception) -> str:
    """"test_public.py, line 3: " for the innermost frame of Python source (a check file or what
    it imports; not importlib's own frames), else ""."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return _("{file}, line {line}").format(file=Path(exc.filename).name, line=exc.lineno) + ": "
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<")]
    return _("{file}, line {line}").format(file=Path(frames[-1].filename).name, line=frames[-1].lineno) + ": " \
        if frames else ""


def failed_result(exercise: Exercise, message: str, *, student: str = "", visibility: str | None = None) -> GradeResult:
    """A submission that could not be graded at all still gets every check, each at zero."""
    checks = [CheckResult(name=name, max_score=points, visibility=vis, status=ERROR, message=message, title=title)
              for name, points, vis, title in list_checks(exercise, visibility)]
    return GradeResult(exercise=exercise.name, checks=checks, student=student, error=message)


@dataclass
class Graded:
    """What grading gives every output: the result, and the hand-in it read (bytes, read once),
    from which the reports draw (a notebook's feedback page) without reading the disk again.
    `hand_in` is None only when the path could not be read at all."""

    result: GradeResult
    hand_in: HandIn | None


def grade_submission(exercise_name: str, path: Path | HandIn, *, options: GradingOptions = DEFAULT_OPTIONS,
                     student: str = "", launcher: Launcher | None = None, visibility: str | None = None,
                     progress: Callable | None = None, started: Callable | None = None,
                     checks: Collection[str] | None = None) -> GradeResult:
    """Grade one submission; `grade` without the hand-in, for callers that need only the result."""
    return grade(exercise_name, path, options=options, student=student, launcher=launcher, visibility=visibility,
                 progress=progress, started=started, checks=checks).result


def grade(exercise_name: str, path: Path | HandIn, *, options: GradingOptions = DEFAULT_OPTIONS,
          student: str = "", launcher: Launcher | None = None, visibility: str | None = None,
          progress: Callable | None = None, started: Callable | None = None,
          checks: Collection[str] | None = None) -> Graded:
    """Grade one submission, a path or a hand-in already read. `progress(check)` is called as
    each check finishes and `started(check)` as it begins; `checks` (names), when given, runs
    only those checks. A `launcher` passed in must have been started for the same exercise and
    limits (batch workers); without one, a sandbox is started for this call and closed after
    it, even when it fails to start."""
    if options.language:
        use_language(options.language)
    exercise = options.exercise(get_exercise(exercise_name))
    load_checks(exercise, visibility)
    start = time.perf_counter()
    hand_in = path if isinstance(path, HandIn) else None
    try:
        hand_in = hand_in or read_hand_in(Path(path))
        submission = load_submission(hand_in, exercise)
    except SubmissionError as exc:
        result = failed_result(exercise, str(exc), student=student, visibility=visibility)
        result.notes = review_notes(hand_in, exercise)
        result.seconds = time.perf_counter() - start
        result.submission_hash = hand_in.hash if hand_in else ""
        return Graded(result, hand_in)
    own_launcher = launcher is None
    if own_launcher:
        launcher = Launcher(exercise, isolation=options.isolation)
    try:
        if own_launcher:
            launcher.start()
        results, output, sandbox_notes = _check_in_sandbox(exercise, submission, launcher, options, visibility,
                                                           progress, started, checks)
    finally:
        if own_launcher:
            launcher.close()
    notes = [*submission.notes, *sandbox_notes,
             *review_notes(hand_in, exercise, submission.entry.get("path", ""))]
    result = GradeResult(exercise=exercise.name, checks=results, student=student, output=output,
                         isolation=launcher.isolation, seconds=time.perf_counter() - start,
                         submission_hash=submission.content_hash, notes=notes,
                         student_uid=launcher.student_uid)
    return Graded(result, hand_in)


def _check_in_sandbox(exercise: Exercise, submission: Submission, launcher: Launcher, options: GradingOptions,
                      visibility: str | None, progress: Callable | None,
                      started: Callable | None, selected: Collection[str] | None
                      ) -> tuple[list[CheckResult], str, list[str]]:
    """Run the checks against the submission staged in the launcher's sandbox; (results, output,
    the sandbox's notes on loading it)."""
    folder = launcher.stage(submission.files)
    try:
        config = child_config(exercise, launcher.packages, submission.entry, folder)
        process = StudentProcess(exercise, lambda: Session(launcher, config, memory_mb=exercise.memory_limit_mb))
        try:
            checks = run_checks(exercise, process, options, visibility=visibility, progress=progress,
                                started=started, checks=selected)
        finally:
            output = process.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return checks, output, process.notes
