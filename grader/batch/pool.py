"""The workers of a batch: forked processes, each with one warm sandbox reused for every student.

Workers are forked from the batch's process after the grader (pytest, numpy, the checks) is
imported, so they start in milliseconds; each then starts one Launcher (a zygote that forks
every student's process) that hides the submissions and output folders from the students.

The parent hands out one student at a time. A worker that dies, or stays on one student
longer than the submission's own time limit plus a margin (then it is killed), is replaced
and its student graded again; a student that loses its worker twice is recorded as an error
(the next run retries it). Ctrl-C reaches the whole process group: workers ignore it and
the parent stops them; a worker told to stop saves nothing it was grading.

On a machine with GPUs (and --device other than cpu), the workers are spread over them: worker
slot k grades on GPU k mod (number of GPUs), which it alone of its process tree sees
(CUDA_VISIBLE_DEVICES), and each student's process may fill only its share of that GPU's memory
(sandbox/config.GpuShare). A worker that replaces another takes over its slot, so the GPUs stay
evenly loaded. With no GPU nothing changes.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections import Counter, deque
from dataclasses import dataclass
from multiprocessing import connection, get_context
from pathlib import Path
from typing import Callable

from grader.batch.progress import Running
from grader.batch.store import Student, error_result, save_student
from grader.catalog import Exercise
from grader.i18n import _, use_language
from grader.options import GradingOptions
from grader.sandbox.config import GpuShare, use_gpu_share
from grader.results import shorten

WORKER_MARGIN_S = 60.0
"""A worker may spend this much longer than the submission's own time limit before it is
presumed stuck and replaced (process start-ups, pytest's own time, writing the reports)."""
ATTEMPTS = 2
"""A student whose worker dies is graded this many times before an error is recorded."""


class WorkersFailed(RuntimeError):
    """No worker can run: the sandbox does not start, or workers keep dying."""


@dataclass(frozen=True)
class WorkerSettings:
    exercise: Exercise
    """The exercise with the options' limits applied."""
    options: GradingOptions
    out: Path
    key: str
    hide: tuple[Path, ...]
    formats: tuple[str, ...]


# -- GPUs -------------------------------------------------------------------------------------
def visible_gpus(environ: dict[str, str] | None = None) -> list[str]:
    """The GPUs this machine lets the batch use, as CUDA_VISIBLE_DEVICES would name them.

    Read without starting CUDA in this process (the workers are forked from it, and CUDA does
    not survive a fork): the instructor's own CUDA_VISIBLE_DEVICES when set, else the GPUs
    `nvidia-smi -L` lists; none when neither says anything (no driver, no GPU)."""
    environ = os.environ if environ is None else environ
    chosen = environ.get("CUDA_VISIBLE_DEVICES")
    if chosen is not None:
        names = [name.strip() for name in chosen.split(",") if name.strip()]
        return [] if not names or names[0].startswith("-") else names
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if listing.returncode != 0:
        return []
    return [str(index) for index, _ in enumerate(line for line in listing.stdout.splitlines()
                                                 if line.startswith("GPU "))]


def gpu_shares(gpus: list[str], jobs: int) -> list[GpuShare | None]:
    """Each worker slot's GPU and how many workers share it: slot k on gpus[k % len(gpus)].
    No GPUs: None for every slot."""
    if not gpus:
        return [None] * jobs
    return [GpuShare(gpus[slot % len(gpus)], workers=len(range(slot % len(gpus), jobs, len(gpus))))
            for slot in range(jobs)]


# -- inside a worker ---------------------------------------------------------------------------
_stopping = False
"""Set in a worker told to stop: what it was grading is not saved (it may be cut short)."""
_check_started = None
"""In a worker: tells the parent which check a student's grading has reached (the progress
line names the check a slow student is in)."""


def _stop(signum, frame):
    global _stopping
    _stopping = True
    raise SystemExit(128 + signum)  # pytest records it as a failed check, hence the flag


def worker_main(conn, settings: WorkerSettings, gpu: GpuShare | None = None) -> None:
    """Start a warm sandbox (on `gpu`, when given), then grade the students the parent sends
    until it sends None."""
    from grader.sandbox.launcher import Launcher

    if settings.options.language:  # a spawned worker does not inherit the parent's language
        use_language(settings.options.language)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the parent decides
    signal.signal(signal.SIGTERM, _stop)  # so `finally` closes the sandbox
    use_gpu_share(gpu)
    global _check_started
    _check_started = lambda check: conn.send(("check", check.name))  # noqa: E731
    parent = os.getppid()
    launcher = None
    try:
        launcher = Launcher(settings.exercise, isolation=settings.options.isolation, hide=settings.hide)
        launcher.start()
    except Exception as exc:  # the sandbox cannot start: the parent stops the batch with this message
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        if launcher is not None:
            launcher.close()
        return
    try:
        conn.send(("ready", str(launcher.root)))
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
            conn.send(("done", summary))
    except (EOFError, OSError):
        return
    finally:
        launcher.close()


def grade_student(student: Student, launcher, settings: WorkerSettings) -> dict:
    """Grade and save one student, telling the parent as each check begins (_check_started)."""
    from grader.pipeline import grade

    retry, hand_in = False, None
    try:
        graded = grade(settings.exercise.name, student.path, student=student.id, launcher=launcher,
                       options=settings.options, started=_check_started)
        result, hand_in = graded.result, graded.hand_in
    except Exception as exc:  # a fault of the grader, not of the student: recorded, retried next run
        result = error_result(settings.exercise, student, _("the grader failed on this submission ({error}); rerun "
                                                            "the batch to try again").format(
                                                                error=f"{type(exc).__name__}: {shorten(exc, 300)}"))
        retry = True
    result.student = student.id
    result.submission_hash = result.submission_hash or student.hash
    if _stopping:  # interrupted: a check may have been cut short; the next run grades this student
        return {}
    save_student(settings.out, result, key=settings.key, formats=settings.formats, retry=retry, hand_in=hand_in,
                 submission=student.path)
    return {"status": result.status, "score": result.score, "seconds": result.seconds, "notes": result.notes}


# -- in the parent ----------------------------------------------------------------------------
class Worker:
    def __init__(self, context, settings: WorkerSettings, slot: int = 0, gpu: GpuShare | None = None):
        parent_end, child_end = context.Pipe()
        self.slot, self.gpu = slot, gpu
        self.process = context.Process(target=worker_main, args=(child_end, settings, gpu), daemon=True)
        self.process.start()
        child_end.close()
        self.conn = parent_end
        self.ready = False
        self.overdue = False
        self.root: str | None = None
        self.job: Student | None = None
        self.since = 0.0
        self.check = ""
        self.check_since = 0.0

    @property
    def idle(self) -> bool:
        return self.ready and self.job is None

    def assign(self, student: Student) -> None:
        self.job, self.since = student, time.monotonic()
        self.check, self.check_since = "", self.since
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

    def __init__(self, settings: WorkerSettings, jobs: int, on_done: Callable[[Student, dict], None],
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
        self.gpus: list[GpuShare | None] = [None] * jobs

    def _gpus_for(self, workers: int) -> list[GpuShare | None]:
        """A GPU per worker slot when this exercise trains with PyTorch and may use CUDA."""
        if not self.settings.exercise.uses_torch or self.settings.options.device == "cpu":
            return [None] * workers
        return gpu_shares(visible_gpus(), workers)

    def run(self, queue: deque[Student], tick: Callable[[], None]) -> None:
        count = min(self.jobs, len(queue))
        self.gpus = self._gpus_for(count)
        self.workers = [Worker(self.context, self.settings, slot, self.gpus[slot]) for slot in range(count)]
        try:
            while queue or any(w.job for w in self.workers):
                for worker in self.workers:
                    if worker.idle and queue:
                        worker.assign(queue.popleft())
                self._wait(queue)
                self._stop_overdue()
                if not self.workers:
                    raise WorkersFailed(self._why_no_workers())
                tick()
        finally:
            for worker in self.workers:
                worker.stop()
            for worker in self.workers:
                worker.reap()

    def _why_no_workers(self) -> str:
        if self.start_failures and not self.ever_ready:
            return _("the grading workers could not start their sandbox: {error}").format(error=self.start_failures[-1])
        return _("the grading workers stopped {count} times; the students graded so far are saved — rerun the batch "
                 "to continue").format(count=self.restarts)

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
        if not worker.process.is_alive():
            why = (_("grading it took longer than {seconds} s").format(seconds=f"{self.time_limit:g}") if worker.overdue
                   else _("the grading worker stopped unexpectedly"))
            self._replace(worker, queue, why)

    def _message(self, worker: Worker, message: tuple) -> None:
        kind = message[0]
        if kind == "ready":
            worker.ready, worker.root = True, message[1]
            self.ever_ready = True
        elif kind == "failed":
            self.start_failures.append(message[1])
        elif kind == "check":
            worker.check, worker.check_since = message[1], time.monotonic()
        elif kind == "done" and worker.job is not None:
            student, worker.job = worker.job, None
            self.on_done(student, message[1])

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
        if (queue or any(w.job for w in self.workers)) and self.restarts < 3 * self.jobs + len(queue) + 3:
            self.restarts += 1
            self.workers.append(Worker(self.context, self.settings, worker.slot, worker.gpu))

    def running(self) -> list[Running]:
        """Who is being graded now, in which check, for how long."""
        now = time.monotonic()
        return [Running(w.job.id, w.check, now - w.since, now - w.check_since) for w in self.workers if w.job]

    def _stop_overdue(self) -> None:
        now = time.monotonic()
        for worker in self.workers:
            if worker.job is not None and now - worker.since > self.time_limit:
                worker.overdue = True
                worker.process.kill()  # reported as a death on the next wait
