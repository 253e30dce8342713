"""Batch grading for the instructor: every entry of a submissions folder is one student.

    find the students -> skip the unchanged -> grade the rest in parallel workers
    -> write each student's result as they finish -> rebuild gradebook.csv and summary.html

Workers are forked from this process after the grader (pytest, numpy, the checks) is
imported, and each starts one warm sandbox (a Launcher) that it reuses for every student
it grades: forking a student's process from a warm zygote costs milliseconds where a fresh
Python costs a third of a second. The launcher hides the submissions folder and the
output folder, so under bubblewrap one student's code cannot read another's work or grade.

Lossless and resumable: a student's files are written atomically, result.json last, as
soon as that student is graded. A rerun skips students whose submission content hash and
grading key (the check files, the reference and the time limits) are unchanged and grades
the rest; `force` regrades everyone. Killing the batch at any moment loses at most the
students being graded at that moment, and the gradebook is rebuilt from the result files,
so it never holds a duplicate or a stale row.

One student can never stop the batch: the sandbox turns crashes, hangs and garbage into
failed checks; a worker that dies anyway (or runs past the submission's time limit plus a
margin) is replaced, its student is graded once more, and a second failure is recorded
as an error result that the next run retries.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import os
import signal
import shutil
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from multiprocessing import connection, get_context
from pathlib import Path
from typing import Callable, TextIO

from grader.catalog import EXERCISES, Exercise, get_exercise
from grader.results import GradeResult, write_atomic
from grader.submission import SKIP_DIRS, content_hash

SUBMISSION_SUFFIXES = (".py", ".ipynb", ".zip")
RESULT_FILE, STUDENT_REPORT, INSTRUCTOR_REPORT, GRADESCOPE_FILE = (
    "result.json", "report.html", "instructor.html", "gradescope.json")
FORMATS = ("gradescope",)
WORKER_MARGIN_S = 60.0
"""A worker may spend this much longer than the submission's own time limit before it is
presumed stuck and replaced (process start-ups, pytest's own time, writing the reports)."""
ATTEMPTS = 2
"""A student whose worker dies is graded this many times before an error is recorded."""


class BatchError(RuntimeError):
    """The batch cannot run at all (nothing to grade, sandbox unavailable, folder in use)."""


@dataclass(frozen=True)
class Student:
    id: str
    path: Path
    hash: str


@dataclass
class Progress:
    """What a progress display needs; `done` counts students graded in this run."""
    total: int
    skipped: int = 0
    done: int = 0
    errors: int = 0
    started: float = field(default_factory=time.monotonic)
    first_done: float | None = None

    def eta(self) -> float | None:
        left = self.total - self.skipped - self.done
        if not self.done or self.first_done is None:
            return None
        rate = self.done / max(time.monotonic() - self.started, 1e-6)
        return left / rate


@dataclass
class BatchReport:
    exercise: str
    out: Path
    students: int = 0
    graded: int = 0
    skipped: int = 0
    errors: int = 0
    worker_restarts: int = 0
    interrupted: bool = False
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def pending(self) -> int:
        return self.students - self.graded - self.skipped


# -- finding the students -------------------------------------------------------------------
def discover(submissions: Path, out: Path | None = None) -> tuple[list[Student], list[str]]:
    """One Student per folder, .py, .ipynb or .zip; the id is the name without its suffix."""
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise BatchError(f"{submissions} is not a folder of submissions (one folder, .py, .ipynb or .zip per student)")
    warnings, found = [], []
    out_resolved = Path(out).resolve() if out else None
    for entry in sorted(submissions.iterdir()):
        if entry.name.startswith(".") or entry.name in SKIP_DIRS or entry.name.startswith("__"):
            continue
        if out_resolved is not None and entry.resolve() == out_resolved:
            continue
        if entry.is_dir():
            found.append((entry.name, entry))
        elif entry.suffix in SUBMISSION_SUFFIXES:
            found.append((entry.stem, entry))
        else:
            warnings.append(f"ignored {entry.name}: a submission is a folder, .py, .ipynb or .zip")
    counts = Counter(name for name, _ in found)
    students = []
    for name, entry in found:
        if counts[name] > 1:
            warnings.append(f"{entry.name}: another entry is also named {name!r}; graded as student {entry.name!r}")
            name = entry.name
        students.append(Student(name, entry, _hash(entry)))
    return students, warnings


def _hash(path: Path) -> str:
    try:
        return content_hash(path)
    except OSError as exc:  # unreadable entry: graded (and failed) anyway, regraded next time
        return f"unreadable-{type(exc).__name__}"


def grading_key(exercise: Exercise) -> str:
    """Changes when anything that decides a grade changes: checks, reference, time limits."""
    digest = hashlib.sha256(f"{exercise.check_timeout}/{exercise.submission_timeout}".encode())
    files = sorted(exercise.checks_dir.glob("*.py")) + [exercise.reference_path]
    for path in files:
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def with_timeouts(exercise: Exercise, timeouts: tuple[float, float] | None) -> Exercise:
    """The exercise with other (check, submission) time limits; used by tests to keep hangs short."""
    if not timeouts:
        return exercise
    check, submission = timeouts
    return dataclasses.replace(exercise, check_timeout=float(check), submission_timeout=float(submission))


# -- one student's files ----------------------------------------------------------------------
def student_dir(out: Path, student: str) -> Path:
    return Path(out) / student


def load_stored(out: Path, student: str) -> dict | None:
    try:
        return json.loads((student_dir(out, student) / RESULT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def is_current(stored: dict | None, student: Student, key: str) -> bool:
    meta = (stored or {}).get("batch") or {}
    return bool(stored) and stored.get("submission_hash") == student.hash and meta.get("key") == key


def save_student(out: Path, result: GradeResult, *, key: str, formats: tuple[str, ...] = (),
                 retry: bool = False) -> None:
    """Reports first, result.json last: a result on disk always comes with its reports."""
    from grader.report_html import write_report

    folder = student_dir(out, result.student)
    write_report(result, folder / STUDENT_REPORT, audience="student")
    write_report(result, folder / INSTRUCTOR_REPORT, audience="instructor")
    if "gradescope" in formats:
        from grader.gradescope import write_gradescope

        write_gradescope(result, folder / GRADESCOPE_FILE)
    data = result.to_dict()
    data["batch"] = {"key": key, "retry": retry, "graded_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
    write_atomic(folder / RESULT_FILE, json.dumps(data, indent=2, default=str))


def error_result(exercise: Exercise, student: Student, message: str) -> GradeResult:
    from grader.grading import failed_result

    result = failed_result(exercise, message, student=student.id)
    result.submission_hash = student.hash
    return result


# -- the workers -----------------------------------------------------------------------------
@dataclass(frozen=True)
class WorkerSettings:
    exercise: Exercise
    out: Path
    key: str
    isolation: str
    hide: tuple[Path, ...]
    formats: tuple[str, ...]


_stopping = False
"""Set in a worker told to stop: what it was grading is not saved (it may be cut short)."""


def _stop(signum, frame):
    global _stopping
    _stopping = True
    raise SystemExit(128 + signum)  # pytest records it as a failed check, hence the flag


def worker_main(conn, settings: WorkerSettings) -> None:
    """Start a warm sandbox, then grade the students the parent sends until it sends None."""
    from grader.sandbox.launcher import Launcher

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the parent decides
    signal.signal(signal.SIGTERM, _stop)  # so `finally` closes the sandbox
    parent = os.getppid()
    EXERCISES[settings.exercise.name] = settings.exercise  # this process only: the time limits in force
    launcher = None
    try:
        launcher = Launcher(settings.exercise, isolation=settings.isolation, hide=settings.hide)
        launcher.start()
    except Exception as exc:  # the sandbox cannot start: the parent stops the batch with this message
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        if launcher is not None:
            launcher.close()
        return
    try:
        conn.send(("ready", str(launcher.root), launcher.isolation))
        while True:
            if not conn.poll(1.0):
                if os.getppid() != parent:
                    return  # the batch was killed: do not linger
                continue
            student = conn.recv()
            if student is None:
                return
            summary = grade_student(student, launcher, settings)
            if _stopping:
                return
            conn.send(("done", student.id, summary))
    except (EOFError, OSError):
        return
    finally:
        launcher.close()


def grade_student(student: Student, launcher, settings: WorkerSettings) -> dict:
    from grader.grading import grade_submission

    retry = False
    try:
        result = grade_submission(settings.exercise.name, student.path, student=student.id, launcher=launcher)
    except Exception as exc:  # a fault of the grader, not of the student: recorded, retried next run
        result = error_result(settings.exercise, student, f"the grader failed on this submission "
                              f"({type(exc).__name__}: {str(exc)[:300]}); rerun the batch to try again")
        retry = True
    result.student = student.id
    result.submission_hash = result.submission_hash or student.hash
    if _stopping:  # interrupted: a check may have been cut short; the next run grades this student
        return {}
    save_student(settings.out, result, key=settings.key, formats=settings.formats, retry=retry)
    return {"status": result.status, "score": result.score, "seconds": result.seconds}


class Worker:
    def __init__(self, context, settings: WorkerSettings):
        parent_end, child_end = context.Pipe()
        self.process = context.Process(target=worker_main, args=(child_end, settings), daemon=True)
        self.process.start()
        child_end.close()
        self.conn = parent_end
        self.ready = False
        self.root: str | None = None
        self.job: Student | None = None
        self.since = 0.0

    @property
    def idle(self) -> bool:
        return self.ready and self.job is None

    def assign(self, student: Student) -> None:
        self.job, self.since = student, time.monotonic()
        self.conn.send(student)

    def stop(self) -> None:
        """Ask an idle worker to finish; stop a busy one (its student is regraded next run)."""
        if self.process.is_alive():
            try:
                if self.job is None and self.ready:
                    self.conn.send(None)
                else:
                    self.process.terminate()
            except OSError:
                self.process.terminate()

    def reap(self, timeout: float = 5.0) -> None:
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()
        if self.root:  # a killed worker could not remove its sandbox folder
            shutil.rmtree(self.root, ignore_errors=True)


class Pool:
    """Hands students to workers one at a time and replaces any worker that dies or hangs."""

    def __init__(self, settings: WorkerSettings, jobs: int, on_done: Callable[[str, dict], None],
                 on_lost: Callable[[Student, str], None]):
        self.settings = settings
        self.jobs = jobs
        self.context = get_context("fork")
        self.on_done, self.on_lost = on_done, on_lost
        self.workers: list[Worker] = []
        self.attempts: Counter = Counter()
        self.restarts = 0
        self.ever_ready = False
        self.start_failures: list[str] = []
        self.time_limit = settings.exercise.submission_timeout + WORKER_MARGIN_S

    def run(self, queue: deque[Student], tick: Callable[[], None]) -> None:
        self.workers = [Worker(self.context, self.settings) for _ in range(min(self.jobs, len(queue)))]
        try:
            while queue or any(w.job for w in self.workers):
                for worker in self.workers:
                    if worker.idle and queue:
                        worker.assign(queue.popleft())
                self._wait(queue)
                self._stop_overdue()
                if not self.workers:
                    raise BatchError(self._why_no_workers())
                tick()
        finally:
            for worker in self.workers:
                worker.stop()
            for worker in self.workers:
                worker.reap()

    def _why_no_workers(self) -> str:
        if self.start_failures and not self.ever_ready:
            return f"the grading workers could not start their sandbox: {self.start_failures[-1]}"
        return (f"the grading workers stopped {self.restarts} times; the students graded so far are saved — "
                "rerun the batch to continue")

    def _wait(self, queue: deque[Student]) -> None:
        handles = {w.conn: w for w in self.workers} | {w.process.sentinel: w for w in self.workers}
        for handle in connection.wait(list(handles), timeout=0.25):
            worker = handles[handle]
            if worker in self.workers:
                self._read(worker, queue)

    def _read(self, worker: Worker, queue: deque[Student]) -> None:
        try:
            while worker.conn.poll():
                self._message(worker, worker.conn.recv())
        except (EOFError, OSError):
            pass
        if not worker.process.is_alive() or worker.conn.closed:
            self._replace(worker, queue, "the grading worker stopped unexpectedly")

    def _message(self, worker: Worker, message: tuple) -> None:
        kind = message[0]
        if kind == "ready":
            worker.ready, worker.root = True, message[1]
            self.ever_ready = True
        elif kind == "failed":
            self.start_failures.append(message[1])
        elif kind == "done" and worker.job is not None:
            student, worker.job = worker.job, None
            self.on_done(student.id, message[2])

    def _replace(self, worker: Worker, queue: deque[Student], why: str) -> None:
        worker.reap(timeout=1.0)
        self.workers.remove(worker)
        if worker.job is not None:
            student = worker.job
            self.attempts[student.id] += 1
            if self.attempts[student.id] < ATTEMPTS:
                queue.appendleft(student)
            else:
                self.on_lost(student, why)
        if self.start_failures and not self.ever_ready and len(self.start_failures) >= self.jobs:
            return  # the sandbox cannot start at all: run() reports it once no worker is left
        if queue or any(w.job for w in self.workers):
            self.restarts += 1
            if self.restarts <= 3 * self.jobs + len(queue) + 3:
                self.workers.append(Worker(self.context, self.settings))

    def _stop_overdue(self) -> None:
        now = time.monotonic()
        for worker in self.workers:
            if worker.job is not None and now - worker.since > self.time_limit:
                worker.process.kill()  # reported as a death on the next wait


# -- the whole batch ---------------------------------------------------------------------------
def run_batch(submissions: Path, exercise_name: str, out: Path, *, jobs: int | None = None, force: bool = False,
              formats: tuple[str, ...] = (), isolation: str = "auto",
              timeouts: tuple[float, float] | None = None,
              progress: Callable[[Progress], None] | None = None) -> BatchReport:
    """Grade every student in `submissions` into `out`; see the module docstring."""
    from grader.runner import list_checks  # imports the checks here, once, before the workers fork

    exercise = with_timeouts(get_exercise(exercise_name), timeouts)
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise BatchError(f"unknown format {bad[0]!r}; formats: {', '.join(FORMATS)}")
    out = Path(out)
    students, warnings = discover(Path(submissions), out)
    if not students:
        raise BatchError(f"no submissions in {submissions}: expected one folder, .py, .ipynb or .zip per student")
    out.mkdir(parents=True, exist_ok=True)
    report = BatchReport(exercise=exercise.name, out=out, students=len(students), warnings=warnings)
    start = time.monotonic()
    known_checks = [name for name, *_ in list_checks(exercise)]
    key = grading_key(exercise)
    with _locked(out):
        todo = deque(s for s in students if force or not _skippable(load_stored(out, s.id), s, key))
        report.skipped = len(students) - len(todo)
        state = Progress(total=len(students), skipped=report.skipped)
        tick = (lambda: progress(state)) if progress else (lambda: None)
        tick()
        try:
            if todo:
                _grade(todo, exercise, out, key, jobs or default_jobs(), formats, isolation, Path(submissions),
                       report, state, tick)
        except KeyboardInterrupt:
            report.interrupted = True
        finally:
            finish(out, exercise.name, students, key, known_checks)
    report.seconds = time.monotonic() - start
    return report


def _skippable(stored: dict | None, student: Student, key: str) -> bool:
    return is_current(stored, student, key) and not (stored.get("batch") or {}).get("retry")


def _grade(todo: deque[Student], exercise: Exercise, out: Path, key: str, jobs: int, formats: tuple[str, ...],
           isolation: str, submissions: Path, report: BatchReport, state: Progress, tick: Callable) -> None:
    settings = WorkerSettings(exercise=exercise, out=out.resolve(), key=key, isolation=isolation,
                              hide=(submissions.resolve(), out.resolve()), formats=tuple(formats))

    def done(student: str, summary: dict) -> None:
        report.graded += 1
        state.done += 1
        state.first_done = state.first_done or time.monotonic()
        if summary.get("status") == "error":
            report.errors += 1
            state.errors += 1

    def lost(student: Student, why: str) -> None:
        result = error_result(exercise, student, f"{why} twice while grading this submission; "
                                                 "it was not graded — rerun the batch to try again")
        save_student(out, result, key=key, formats=formats, retry=True)
        done(student.id, {"status": "error"})

    pool = Pool(settings, max(1, jobs), done, lost)
    with _terminate_as_interrupt():
        try:
            pool.run(todo, tick)
        finally:
            report.worker_restarts = pool.restarts


def finish(out: Path, exercise: str, students: list[Student], key: str, known_checks: list[str]) -> None:
    """Rebuild gradebook.csv and summary.html from the result files of the current submissions."""
    from grader.gradebook import summarize, write_gradebook
    from grader.report_html import render_summary

    rows = []
    for student in students:
        stored = load_stored(out, student.id)
        rows.append((student.id, GradeResult.from_dict(stored) if is_current(stored, student, key) else None))
    write_gradebook(out / "gradebook.csv", exercise, rows, known_checks)
    summary = summarize(exercise, rows)
    summary["files"] = {"student": STUDENT_REPORT, "instructor": INSTRUCTOR_REPORT, "result": RESULT_FILE}
    write_atomic(out / "summary.html", render_summary(summary))


def default_jobs() -> int:
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
            raise BatchError(f"another `grade batch` is writing to {self.path.parent}; wait for it or stop it") from None
        return self

    def __exit__(self, *exc):
        self.file.close()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


class _terminate_as_interrupt:
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


# -- progress on the terminal -----------------------------------------------------------------
class ProgressLine:
    """A one-line progress bar with counts and an ETA; on a non-terminal, a line per 10 %."""

    def __init__(self, stream: TextIO = sys.stderr, label: str = "", width: int = 24):
        self.stream, self.label, self.width = stream, label, width
        self.tty = stream.isatty()
        self.last_draw = 0.0
        self.last_decile = -1

    def __call__(self, p: Progress) -> None:
        finished = p.skipped + p.done
        fraction = finished / p.total if p.total else 1.0
        now = time.monotonic()
        if self.tty:
            if now - self.last_draw < 0.1 and finished < p.total:
                return
            self.last_draw = now
            self.stream.write("\r" + self.line(p, fraction) + "\033[K")
        else:
            decile = int(fraction * 10)
            if decile == self.last_decile:
                return
            self.last_decile = decile
            self.stream.write(self.line(p, fraction) + "\n")
        self.stream.flush()

    def line(self, p: Progress, fraction: float) -> str:
        filled = int(round(fraction * self.width))
        bar = "#" * filled + "-" * (self.width - filled)
        parts = [f"{self.label} [{bar}] {p.skipped + p.done}/{p.total}".strip()]
        if p.skipped:
            parts.append(f"{p.skipped} unchanged")
        if p.errors:
            parts.append(f"{p.errors} error{'s' if p.errors != 1 else ''}")
        elapsed = time.monotonic() - p.started
        if p.done and elapsed > 0:
            parts.append(f"{p.done / elapsed:.1f}/s")
        eta = p.eta()
        if p.skipped + p.done < p.total:
            parts.append(f"ETA {int(eta) // 60}:{int(eta) % 60:02d}" if eta is not None else "ETA --:--")
        return "  ".join(parts)

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
