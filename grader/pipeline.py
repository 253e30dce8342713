"""The pipeline for one submission: find it -> run it isolated -> check -> score.

`grade_submission` is what the CLI, the batch grader and the tests call. A `Launcher` may be
passed in so a batch worker reuses one warm zygote for many students.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path
from typing import Callable

from grader.catalog import Exercise, get_exercise
from grader.results import ERROR, CheckResult, GradeResult
from grader.checks.runner import StudentProcess, run_checks
from grader.sandbox.launcher import NUMPY_THREADS, SANDBOX_ENV, Launcher
from grader.sandbox.session import Session
from grader.submission import Submission, SubmissionError, load_submission


NPROC_LIMIT = 1024
"""Processes and threads of the student's code, counted per user: applied only when the code
runs as the sandbox's own user (the grader started as root), see child.apply_limits."""

LIMIT_OVERRIDES = {"check_timeout": "check_timeout", "submission_timeout": "submission_timeout",
                   "memory_mb": "memory_limit_mb"}


def limits_for(exercise: Exercise) -> dict:
    return {"memory_mb": exercise.memory_limit_mb, "cpu_s": exercise.submission_timeout + 10, "nofile": 256,
            "fsize_mb": 64, "nproc": NPROC_LIMIT}


def with_limits(exercise: Exercise, limits: dict | None) -> Exercise:
    """The exercise with some of its catalog limits replaced, e.g. by tests that need a hang
    to cost 1 s rather than 10: `{"check_timeout": 1, "submission_timeout": 5, "memory_mb": 300}`.
    `check_timeout` replaces the default of checks that set no `timeout=` of their own."""
    unknown = set(limits or {}) - set(LIMIT_OVERRIDES)
    if unknown:
        raise ValueError(f"unknown limits {sorted(unknown)}; known: {sorted(LIMIT_OVERRIDES)}")
    return dataclasses.replace(exercise, **{LIMIT_OVERRIDES[k]: v for k, v in (limits or {}).items()})


def child_config(exercise: Exercise, launcher: Launcher, submission: Submission, folder: Path) -> dict:
    entry = dict(submission.entry)
    if entry["kind"] == "file":
        entry["path"] = str(folder / "student" / entry["path"])
    env = dict(SANDBOX_ENV, HOME=str(folder / "work"))
    if not exercise.uses_torch:
        env.update(NUMPY_THREADS)
    return {"workdir": str(folder / "work"), "student_dir": str(folder / "student"),
            "pkgs_dir": str(launcher.packages), "module": exercise.module, "import_name": exercise.import_name,
            "entry": entry, "limits": limits_for(exercise), "env": env}


def failed_result(exercise: Exercise, message: str, *, student: str = "", visibility: str | None = None) -> GradeResult:
    """A submission that could not be graded at all still gets every check, each at zero."""
    from grader.checks.runner import list_checks

    checks = [CheckResult(name=name, max_score=points, visibility=vis, status=ERROR, message=message, title=title)
              for name, points, vis, title in list_checks(exercise, visibility)]
    return GradeResult(exercise=exercise.name, checks=checks, student=student, error=message)


def grade_submission(exercise_name: str, path: Path, *, student: str = "", launcher: Launcher | None = None,
                     isolation: str = "auto", visibility: str | None = None,
                     progress: Callable | None = None, started: Callable | None = None,
                     limits: dict | None = None) -> GradeResult:
    """Grade one submission. `progress(check)` is called as each check finishes and
    `started(check)` as it begins. `limits` overrides the catalog's time and memory limits for
    this call only (see with_limits); the CLI never passes it."""
    exercise = with_limits(get_exercise(exercise_name), limits)
    start = time.perf_counter()
    try:
        submission = load_submission(Path(path), exercise)
    except SubmissionError as exc:
        result = failed_result(exercise, str(exc), student=student, visibility=visibility)
        result.seconds = time.perf_counter() - start
        return result
    own = launcher is None
    if own:
        launcher = Launcher(exercise, isolation=isolation)
        launcher.start()
    folder = launcher.stage(submission.files)
    try:
        config = child_config(exercise, launcher, submission, folder)
        process = StudentProcess(exercise, lambda: Session(launcher, config, memory_mb=exercise.memory_limit_mb))
        try:
            checks = run_checks(exercise, process, visibility=visibility, progress=progress, started=started)
        finally:
            output = process.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if own:
            launcher.close()
    notes = "".join(f"[grader] {n}\n" for n in submission.notes)
    return GradeResult(exercise=exercise.name, checks=checks, student=student, output=notes + output,
                       isolation=launcher.isolation, seconds=time.perf_counter() - start,
                       submission_hash=submission.content_hash)

