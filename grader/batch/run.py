"""Batch grading for the instructor: every entry of a submissions folder is one student.

    find the students -> skip the unchanged -> grade the rest in parallel workers (pool.py,
    or on a Dask cluster: cluster.py)
    -> write each student's result as they finish (store.py)
    -> rebuild gradebook.csv and summary.html from the result files

Lossless and resumable: a student's files are written atomically, result.json last, as soon
as that student is graded. A rerun skips students whose submission content hash and
grading key (course_fingerprint: the grader, the checks, every reference and the limits) are unchanged and grades
the rest; `force` regrades everyone. Killing the batch at any moment loses at most the
students being graded at that moment, and the gradebook is rebuilt from the result files
of the current submissions, so it never holds a duplicate or a stale row.

One student can never stop the batch: the sandbox turns crashes, hangs and garbage into
failed checks, and pool.py replaces a worker that dies anyway. The library prints nothing:
progress goes to a callback (progress.ProgressLine draws it for the CLI).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import signal
import time
from collections import Counter, deque
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

from grader.batch.pool import Pool, WorkersFailed, WorkerSettings
from grader.batch.progress import Progress, ProgressLine
from grader.batch.store import (INSTRUCTOR_REPORT, RESULT_FILE, STUDENT_REPORT, Student, error_result,
                                is_current, is_final, load_stored, save_student)
from grader.catalog import CHECKS_ROOT, EXERCISES, PROJECT_ROOT, Exercise, get_exercise
from grader.i18n import _, current_language, language
from grader.options import DEFAULT_OPTIONS, GradingOptions
from grader.results import GradeResult, shorten, write_atomic
from grader.submission import SKIP_DIRS, content_hash

SUBMISSION_SUFFIXES = (".py", ".ipynb", ".zip")
RESERVED = {"gradebook.csv", "summary.html"}
"""Names of the batch's own files in OUT: a student of that name gets a prefix."""
FORMATS = ("gradescope",)

__all__ = ["run_batch", "grade_batch", "Batch", "discover", "BatchError", "BatchReport", "Progress", "ProgressLine",
           "Student"]


class BatchError(RuntimeError):
    """The batch cannot run at all (nothing to grade, sandbox unavailable, folder in use)."""


@dataclass
class BatchReport:
    exercise: str
    out: Path
    students: int = 0
    graded: int = 0
    skipped: int = 0
    errors: int = 0
    incomplete: int = 0
    """Students with checks the grader or the machine could not run; the next run regrades them."""
    worker_restarts: int = 0
    interrupted: bool = False
    not_graded: list[str] = field(default_factory=list)
    """Students who could not be graded at all in this run (status error), by id."""
    other_exercise: dict[str, str] = field(default_factory=dict)
    """Student id -> the exercise their file probably belongs to (grader/hand_in_review.py)."""
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def pending(self) -> int:
        return self.students - self.graded - self.skipped


# -- finding the students -------------------------------------------------------------------
def discover(submissions: Path, out: Path | None = None) -> tuple[list[Student], list[str]]:
    """One Student per folder, .py, .ipynb or .zip; the id is the name without its suffix.

    Hidden entries, __MACOSX and the output folder are passed over; other files are left
    out with a warning; two entries with the same id keep their full names."""
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise BatchError(_("{path} is not a folder of submissions (one folder, .py, .ipynb or .zip per student)")
                         .format(path=submissions))
    warnings, found = [], []
    out_resolved = Path(out).resolve() if out else None
    for entry in sorted(submissions.iterdir()):
        if entry.name.startswith((".", "__")) or entry.name in SKIP_DIRS:
            continue
        if out_resolved is not None and entry.resolve() == out_resolved:
            continue
        if entry.is_dir():
            found.append((entry.name, entry))
        elif entry.suffix in SUBMISSION_SUFFIXES:
            found.append((entry.stem, entry))
        else:
            warnings.append(_("ignored {name}: a submission is a folder, .py, .ipynb or .zip").format(name=entry.name))
    counts = Counter(name for name, _ in found)
    students = []
    for name, entry in found:
        if counts[name] > 1:
            warnings.append(_("{entry}: another entry is also named {name}; graded as student {student}").format(
                entry=entry.name, name=repr(name), student=repr(entry.name)))
            name = entry.name
        if name in RESERVED:
            warnings.append(_("{entry}: {name} is the name of a batch file; graded as student {student}").format(
                entry=entry.name, name=name, student=repr(f"student-{name}")))
            name = f"student-{name}"
        students.append(Student(name, entry, _hash(entry)))
    return students, warnings


def _hash(path: Path) -> str:
    try:
        return content_hash(path)
    except OSError as exc:  # unreadable entry: graded (and failed) anyway, and again next time
        return f"unreadable-{type(exc).__name__}"


@lru_cache(maxsize=None)
def course_fingerprint(exercise: Exercise) -> dict[str, str]:
    """What decides a grade besides the student's code, part by part, so that a mismatch can be
    named: the grader (its version and code: the pipeline, the sandbox, checks/api.py's
    tolerances, gradcheck.py, contract.py, the runner), the exercise's checks, every reference
    (other exercises import them), and the limits (time and memory). A local batch keys its
    results by its digest (grading_key); a cluster batch compares it part by part with each
    worker's, so neither keeps a grade made under another grader."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        grader_version = version("dlgrader")
    except PackageNotFoundError:
        grader_version = "unknown"
    checks_root = CHECKS_ROOT.resolve()
    grader_files = [p for p in sorted((PROJECT_ROOT / "grader").rglob("*.py"))
                    if checks_root not in p.resolve().parents]
    check_files = sorted(CHECKS_ROOT.glob("*.py")) + sorted(exercise.checks_dir.glob("*.py"))
    references = [e.reference_path for e in EXERCISES.values()]
    return {"grader": f"{grader_version}-{_digest(grader_files, PROJECT_ROOT)}",
            "checks": _digest(check_files, CHECKS_ROOT),
            "references": _digest(references, PROJECT_ROOT),
            "limits": f"{exercise.check_timeout:g}s/{exercise.submission_timeout:g}s/{exercise.memory_limit_mb}MB"}


def _digest(paths: list[Path], root: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def grading_key(exercise: Exercise) -> str:
    """The digest of course_fingerprint: changes when anything that decides a grade changes."""
    parts = course_fingerprint(exercise)
    return hashlib.sha256("\0".join(f"{k}={parts[k]}" for k in sorted(parts)).encode()).hexdigest()[:16]


# -- the whole batch ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Batch:
    """What a batch grades and where it writes: all that a way of grading the students needs
    (the local pool here, or a Dask cluster in cluster.py) besides the students themselves."""
    exercise: Exercise
    """The exercise with the options' limits applied."""
    options: GradingOptions
    submissions: Path
    out: Path
    key: str
    """grading_key(exercise): stored with each result; a rerun skips results graded under it."""
    formats: tuple[str, ...]


GradeStudents = Callable[[Batch, "deque[Student]", BatchReport, Progress, Callable[[], None]], None]
"""Grades the students still to grade, saving each with save_student as it finishes."""


def run_batch(submissions: Path, exercise_name: str, out: Path, *, options: GradingOptions = DEFAULT_OPTIONS,
              jobs: int | None = None, force: bool = False, formats: tuple[str, ...] = (),
              progress: Callable[[Progress], None] | None = None, similarity: bool = False) -> BatchReport:
    """Grade every student in `submissions` into `out`; see the module docstring.

    Ctrl-C (or SIGTERM) stops the workers, rebuilds the gradebook of what is graded and
    returns a report with `interrupted` set; the same call later grades the rest."""

    def in_local_workers(batch: Batch, todo: deque[Student], report: BatchReport, state: Progress, tick) -> None:
        report.warnings += check_reference(batch.exercise, batch.options)
        settings = WorkerSettings(exercise=batch.exercise, options=batch.options, out=batch.out.resolve(),
                                  key=batch.key, hide=(batch.submissions.resolve(), batch.out.resolve()),
                                  formats=batch.formats)
        try:
            _grade(todo, settings, jobs or default_jobs(batch.exercise), report, state, tick)
        except WorkersFailed as exc:
            raise BatchError(str(exc)) from None

    return grade_batch(submissions, exercise_name, out, in_local_workers, options=options, force=force,
                       formats=formats, progress=progress, similarity=similarity)


def grade_batch(submissions: Path, exercise_name: str, out: Path, grade_students: GradeStudents, *,
                options: GradingOptions = DEFAULT_OPTIONS, force: bool = False, formats: tuple[str, ...] = (),
                progress: Callable[[Progress], None] | None = None, similarity: bool = False) -> BatchReport:
    """The batch around any way of grading: find the students, skip the unchanged, let
    `grade_students` grade the rest, and rebuild the gradebook whatever happens. Local and
    cluster batches share it, so they write the same OUT and resume each other's runs.
    Everything it writes and says is in `options.language` (the workers get it in `options`)."""
    with language(options.language or current_language()):
        return _grade_batch(submissions, exercise_name, out, grade_students, options=options, force=force,
                            formats=formats, progress=progress, similarity=similarity)


def _grade_batch(submissions: Path, exercise_name: str, out: Path, grade_students: GradeStudents, *,
                 options: GradingOptions, force: bool, formats: tuple[str, ...],
                 progress: Callable[[Progress], None] | None, similarity: bool) -> BatchReport:
    from grader.checks.runner import list_checks  # imports the checks here, once, before the workers fork
    from grader.pipeline import ChecksUnavailable, load_checks

    exercise = options.exercise(get_exercise(exercise_name))
    try:
        load_checks(exercise)
    except ChecksUnavailable as exc:
        raise BatchError(str(exc)) from None
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise BatchError(_("unknown format {name}; formats: {formats}").format(name=repr(bad[0]),
                                                                              formats=", ".join(FORMATS)))
    out = Path(out)
    students, warnings = discover(Path(submissions), out)
    if not students:
        raise BatchError(_("no submissions in {path}: expected one folder, .py, .ipynb or .zip per student")
                         .format(path=submissions))
    out.mkdir(parents=True, exist_ok=True)
    gone = {p.parent.name for p in out.glob(f"*/{RESULT_FILE}")} - {s.id for s in students}
    if gone:
        warnings.append(_("{out} holds results of {count} students no longer in {submissions} (e.g. {example}): "
                          "kept on disk, left out of the gradebook").format(out=out, count=len(gone),
                                                                            submissions=submissions,
                                                                            example=sorted(gone)[0]))
    report = BatchReport(exercise=exercise.name, out=out, students=len(students), warnings=warnings)
    start = time.monotonic()
    known_checks = [name for name, *_ in list_checks(exercise)]
    batch = Batch(exercise=exercise, options=options, submissions=Path(submissions), out=out,
                  key=grading_key(exercise), formats=tuple(formats))
    with _locked(out):
        todo = deque(s for s in students if force or not is_final(load_stored(out, s.id), s, batch.key))
        report.skipped = len(students) - len(todo)
        state = Progress(total=len(students), skipped=report.skipped)
        tick = (lambda: progress(state)) if progress else (lambda: None)
        tick()
        try:
            if todo:
                grade_students(batch, todo, report, state, tick)
        except KeyboardInterrupt:
            report.interrupted = True
        finally:
            finish(out, exercise.name, students, batch.key, known_checks, similarity=similarity)
            if "gradescope" in batch.formats:  # a rerun adding the format: files for the unchanged too
                from grader.report.exports import write_missing_gradescope
                write_missing_gradescope(out, students, batch.key)
    report.seconds = time.monotonic() - start
    return report


def check_reference(exercise: Exercise, options: GradingOptions) -> list[str]:
    """Grade the reference under the batch's own limits, device and data before any student: a
    reference that loses points there would mark every student down, so the batch refuses to
    start. Checks the machine cannot run even for the reference become warnings. Runs in a
    forked process, so that the batch's process never starts CUDA before forking its workers."""
    if not exercise.reference_path.is_file():
        return []
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("fork")) as executor:
        result = GradeResult.from_dict(executor.submit(_grade_reference, exercise.name, options).result())
    return judge_reference(result)


def judge_reference(result: GradeResult, where: str = "") -> list[str]:
    """The verdict on the reference's own grade, wherever it was graded: BatchError when it
    loses points, warnings for the checks that could not run. `where` names the machine."""
    lost = [c for c in result.checks if not c.passed and not c.grader_fault]
    if result.error or lost:
        why = result.error or f"{lost[0].name}: {shorten(lost[0].message, 200)}"
        raise BatchError(_("the reference solution gets {score} / {max_score} under this batch's limits and "
                           "device{where} ({why}); no student was graded — fix the machine or the options first")
                         .format(score=f"{result.score:g}", max_score=f"{result.max_score:g}", where=where, why=why))
    if result.grader_faults:
        first = result.grader_faults[0]
        return [_("{count} checks cannot run{where} even for the reference ({check}: {message}); students get "
                  "them as 'could not run', and a rerun after fixing it regrades exactly those students").format(
                      count=len(result.grader_faults), where=where or _(" on this machine"), check=first.name,
                      message=shorten(first.message, 200))]
    return []


def _grade_reference(exercise_name: str, options: GradingOptions) -> dict:
    from grader.pipeline import grade_submission

    exercise = get_exercise(exercise_name)
    return grade_submission(exercise_name, exercise.reference_path.parent, options=options).to_dict()


def count_graded(report: BatchReport, state: Progress, status: str | None, student: str = "",
                 notes: list[str] | None = None) -> None:
    """One more student graded in this run, with its result's status and notes."""
    from grader.hand_in_review import wrong_exercise

    report.graded += 1
    state.done += 1
    if wrong_exercise(notes or []):
        report.other_exercise[student] = wrong_exercise(notes or [])
    if status == "error":
        report.errors += 1
        state.errors += 1
        if student:
            report.not_graded.append(student)
    elif status == "incomplete":
        report.incomplete += 1


def _grade(todo: deque[Student], settings: WorkerSettings, jobs: int, report: BatchReport, state: Progress,
           tick: Callable[[], None]) -> None:
    def done(student: Student, summary: dict) -> None:
        count_graded(report, state, summary.get("status"), student.id, summary.get("notes"))

    def lost(student: Student, why: str) -> None:
        result = error_result(settings.exercise, student, _("{why} twice while grading this submission; it was "
                                                            "not graded — rerun the batch to try again").format(why=why))
        save_student(settings.out, result, key=settings.key, formats=settings.formats, retry=True)
        done(student, {"status": "error"})

    pool = Pool(settings, max(1, jobs), done, lost)
    state.limit = settings.exercise.submission_timeout

    def tick_with_running() -> None:
        state.running = pool.running()
        tick()

    with terminate_as_interrupt():
        try:
            pool.run(todo, tick_with_running)
        finally:
            report.worker_restarts = pool.restarts


def finish(out: Path, exercise: str, students: list[Student], key: str, known_checks: list[str],
           similarity: bool = False) -> None:
    """Rebuild gradebook.csv and summary.html from the result files of the current submissions;
    with `similarity`, compare the submissions first (grader/course/similarity.py). The summary
    shows the clusters of the last comparison (OUT/similarity.json) whenever there is one."""
    from grader.course.similarity import read_clusters
    from grader.report.gradebook import summarize, write_gradebook
    from grader.report.html import render_summary

    rows = []
    for student in students:
        stored = load_stored(out, student.id)
        rows.append((student.id, GradeResult.from_dict(stored) if is_current(stored, student, key) else None))
    write_gradebook(out / "gradebook.csv", exercise, rows, known_checks)
    if similarity:
        from grader.course.similarity import SimilarityError, write_similarity

        try:
            write_similarity(out)
        except SimilarityError:
            pass  # nothing graded yet to compare
    summary = summarize(exercise, rows)  # in the language the batch was started in
    summary["files"] = {"student": STUDENT_REPORT, "instructor": INSTRUCTOR_REPORT, "result": RESULT_FILE}
    summary["similarity"] = read_clusters(out)
    write_atomic(out / "summary.html", render_summary(summary, out=out))


def default_jobs(exercise: Exercise) -> int:
    """One worker per core; one in all for PyTorch exercises, whose training already uses
    every core (two at once would slow each other and upset the timed checks)."""
    if exercise.uses_torch:
        return 1
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


class _locked:
    """One batch at a time per output folder: two would grade the same students twice."""

    def __init__(self, out: Path):
        self.path = Path(out) / ".batch.lock"

    def __enter__(self):
        self.file = open(self.path, "a+")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.close()
            raise BatchError(_("another `grade batch` is writing to {out}; wait for it or stop it")
                             .format(out=self.path.parent)) from None
        return self

    def __exit__(self, *exc):
        self.file.close()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


class terminate_as_interrupt:
    """SIGTERM stops the batch the way Ctrl-C does: workers stopped, gradebook rebuilt."""

    def __enter__(self):
        self.old = None
        try:
            self.old = signal.signal(signal.SIGTERM, _interrupt)
        except ValueError:  # not the main thread: leave signals alone
            pass
        return self

    def __exit__(self, *exc):
        if self.old is not None:
            signal.signal(signal.SIGTERM, self.old)
