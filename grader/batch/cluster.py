"""Batch grading on a Dask cluster: `grade batch SUBS --exercise EX --out OUT --cluster tcp://HOST:8786`.

Only the grading moves; everything else is run.py's own batch (grade_batch): the same
discovery, skipping of unchanged students, per-student atomic results, gradebook and summary,
so a cluster run and a local run write the same OUT and resume each other.

    client (this process)                      scheduler            each `dask worker`
    read a student's hand-in once     ->   a task per student  ->  WarmLaunchers plugin:
    save_student(result, hand-in) <- result dict + fingerprint  <-  one warm Launcher per exercise

Nothing is shared but the scheduler: a submission travels as the bytes the client read of it
(submission.HandIn, read once: the worker grades from those bytes, and the client draws the
notebook's feedback page from the same bytes), a result comes back as GradeResult.to_dict(),
and the client is the only writer of OUT, through the same targets as a local batch. Each result carries the fingerprint of the course that graded it (run.course_fingerprint, the
one definition of what decides a grade, whose digest is also the local batch's grading key);
the client refuses results from a worker whose course differs from its own and grades those
students on the other workers. A worker that dies mid-task has its tasks rescheduled by Dask,
and the client writes each student once, when its task's one result arrives. Losing the
scheduler, or Ctrl-C, stops the batch with what is saved; the same command continues it.

Workers grade one student at a time (pytest, which runs the checks, is not thread-safe), so
start one worker process per core: `dask worker tcp://HOST:8786 --nworkers N --nthreads 1`.
`distributed` is an optional extra (`pip install -e .[cluster]`), imported only here.
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from concurrent.futures import CancelledError
from pathlib import Path
from typing import Callable

from grader.batch import watchdog
from grader.batch.progress import Progress
from grader.batch.run import (Batch, BatchError, BatchReport, count_graded, course_fingerprint, grade_batch,
                              judge_reference, terminate_as_interrupt)
from grader.batch.store import Student, error_result, save_student
from grader.catalog import Exercise, get_exercise
from grader.cluster_security import ClusterAccess, check_scheduler
from grader.options import DEFAULT_OPTIONS, GradingOptions
from grader.results import GradeResult, shorten
from grader.submission import HandIn, SubmissionError, read_hand_in

PLUGIN_NAME = "dlgrader-warm-launchers"
CONNECT_TIMEOUT_S = 20.0
"""How long the client tries to reach the scheduler, at the start or after losing it, before it
stops with a message (Dask's client timeout: a short network blip does not stop a batch)."""
POLL_S = 0.5
"""How often the client looks at the cluster (workers, stranded tasks) while it waits for results."""
TEARDOWN_WAIT_S = 10.0
"""How long a closing worker waits for the student it is grading before closing its sandboxes."""
MISSING_EXTRA = ("--cluster needs the optional package 'distributed', which is not installed: "
                 "pip install -e .[cluster]  (or pip install 'dlgrader[cluster]')")


def require_distributed():
    """The `distributed` module, or BatchError naming the extra to install."""
    try:
        import distributed
    except ImportError:
        raise BatchError(MISSING_EXTRA) from None
    return distributed


# -- which course graded it -------------------------------------------------------------------
def fingerprint_mismatch(worker: str, theirs: dict, ours: dict) -> str | None:
    """None when the worker's course is this client's; else why its results are refused."""
    differ = [part for part in ours if theirs.get(part) != ours[part]]
    if not differ:
        return None
    shown = "; ".join(f"{part}: worker {theirs.get(part)} vs client {ours[part]}" for part in differ)
    return (f"refused the results of worker {worker}: its course differs from this client's ({shown}); "
            f"install the same dlgrader version as this client on that worker and restart it")


# -- on a worker ------------------------------------------------------------------------------
try:
    from distributed.diagnostics.plugin import WorkerPlugin as _PluginBase
except ImportError:  # the extra is missing: the class is defined anyway, require_distributed() says why
    _PluginBase = object


class WarmLaunchers(_PluginBase):
    """Keeps one started Launcher per exercise on a worker, so each student costs what it
    costs in a local batch worker; closed when the worker closes. Gradings on one worker run
    one at a time (the lock): pytest and the sandbox's session are per-process state."""

    name = PLUGIN_NAME
    idempotent = True
    """A second client keeps the worker's warm launchers rather than replacing them mid-task."""

    def setup(self, worker) -> None:
        self.launchers: dict[str, tuple[tuple, object]] = {}
        self.lock = threading.Lock()
        self.stuck = False

    def teardown(self, worker) -> None:
        # Waits a little for a grading in progress; a worker that closes loses that task anyway
        # (the scheduler gives it to another worker), so it does not wait for the whole time limit.
        locked = self.lock.acquire(timeout=TEARDOWN_WAIT_S)
        try:
            for name in list(self.launchers):
                self._drop_launcher(name)
        finally:
            if locked:
                self.lock.release()

    def _drop_launcher(self, exercise_name: str) -> None:
        kept = self.launchers.pop(exercise_name, None)
        if kept:
            kept[1].close()

    def _launcher(self, exercise: Exercise, options: GradingOptions):
        """The warm launcher for this exercise and these limits, started on first use."""
        from grader.sandbox.launcher import Launcher

        wanted = (exercise, options.isolation)
        kept = self.launchers.get(exercise.name)
        if kept and kept[0] == wanted:
            return kept[1]
        self._drop_launcher(exercise.name)  # started for other limits or isolation
        launcher = Launcher(exercise, isolation=options.isolation)
        launcher.start()
        self.launchers[exercise.name] = (wanted, launcher)
        return launcher

    def grade(self, exercise_name: str, student_id: str, hand_in: HandIn, options: GradingOptions,
              on_stuck: Callable[[], None] = lambda: None) -> dict:
        """{"result": GradeResult dict, "retry": grader fault?}, or {"worker_problem": why} when
        this worker cannot grade at all (its sandbox does not start, or a grading is stuck in it).
        The grading runs under the watchdog (watchdog.py): past the submission's limit plus a
        margin, its sandboxes are closed and the student is recorded as the machine's fault;
        `on_stuck` is called when the grading does not end even then."""
        exercise = options.exercise(get_exercise(exercise_name))
        limit = exercise.submission_timeout + watchdog.WORKER_MARGIN_S
        with self.lock:
            if self.stuck:
                return {"worker_problem": "a grading is stuck in it; it restarts once its last result is fetched"}
            try:
                return watchdog.run_watched(lambda: self._grade_now(exercise, student_id, hand_in, options), limit,
                                            unstick=lambda: self._drop_launcher(exercise.name))
            except watchdog.Overdue as overdue:
                if overdue.stuck:
                    self.stuck = True
                    on_stuck()
                else:
                    self._drop_launcher(exercise.name)  # started afresh for the next student
                return {"result": watchdog.overdue_result(exercise, student_id, limit).to_dict(), "retry": True}

    def _grade_now(self, exercise: Exercise, student_id: str, hand_in: HandIn, options: GradingOptions) -> dict:
        from grader.pipeline import grade

        try:
            launcher = self._launcher(exercise, options)
        except Exception as exc:
            return {"worker_problem": f"its sandbox does not start ({type(exc).__name__}: {shorten(exc, 300)})"}
        try:
            result = grade(exercise.name, hand_in, student=student_id, launcher=launcher, options=options).result
            return {"result": result.to_dict(), "retry": False}
        except Exception as exc:  # the grader's fault, as in pool.grade_student: recorded, retried next run
            self._drop_launcher(exercise.name)  # in case the sandbox broke: a fresh one for the next student
            student = Student(student_id, Path(hand_in.name), hand_in.hash)
            result = error_result(exercise, student, f"the grader failed on this submission "
                                  f"({type(exc).__name__}: {shorten(exc, 300)}); rerun the batch to try again")
            return {"result": result.to_dict(), "retry": True}


def grade_on_worker(exercise_name: str, student_id: str, hand_in: HandIn, options: GradingOptions) -> dict:
    """The task: grade one hand-in (its bytes) with this worker's warm launcher."""
    from distributed import get_worker

    worker = get_worker()
    plugin = worker.plugins.get(PLUGIN_NAME)
    if plugin is None:
        raise RuntimeError(f"worker {worker.address} has no {PLUGIN_NAME} plugin; the client registers it")
    key = worker.get_current_task()
    payload = plugin.grade(exercise_name, student_id, hand_in, options,
                           on_stuck=lambda: watchdog.restart_when_fetched(worker, key))
    payload["worker"] = worker.address
    payload["fingerprint"] = worker_fingerprint(exercise_name, options)
    return payload


def worker_fingerprint(exercise_name: str, options: GradingOptions) -> dict[str, str]:
    """The course fingerprint as this worker sees it (the client asks every worker at the start)."""
    return course_fingerprint(options.exercise(get_exercise(exercise_name)))


def needs_gpu(exercise: Exercise, options: GradingOptions) -> bool:
    """PyTorch graded on CUDA runs only where a worker was started with a GPU resource."""
    return exercise.uses_torch and options.device == "cuda"


# -- in the client ----------------------------------------------------------------------------
def run_cluster_batch(submissions: Path, exercise_name: str, out: Path, *, scheduler: str | ClusterAccess,
                      options: GradingOptions = DEFAULT_OPTIONS, force: bool = False,
                      formats: tuple[str, ...] = (), progress: Callable[[Progress], None] | None = None,
                      similarity: bool = False) -> BatchReport:
    """run_batch's batch, graded on the Dask scheduler at `scheduler` (a ClusterAccess from
    cluster_security.cluster_access, or a plain address string on loopback, as in the tests).
    Raises ClusterSetupError, before anything is written, when no scheduler answers there."""
    require_distributed()
    access = scheduler if isinstance(scheduler, ClusterAccess) else ClusterAccess(scheduler)
    check_scheduler(access)
    if options.data_dir is not None:  # the workers read it at the same path, not relative to their own folder
        options = options.replace(data_dir=options.data_dir.resolve())

    def on_cluster(batch: Batch, todo: deque[Student], report: BatchReport, state: Progress, tick) -> None:
        with connect(access) as client, client.as_current(), terminate_as_interrupt():
            client.register_plugin(WarmLaunchers(), name=PLUGIN_NAME)
            ClusterGrading(client, batch, report, state, tick).run(todo)

    return grade_batch(submissions, exercise_name, out, on_cluster, options=options, force=force,
                       formats=formats, progress=progress, similarity=similarity)


def connect(access: ClusterAccess):
    distributed = require_distributed()
    try:
        return distributed.Client(access.address, security=access.security(), timeout=CONNECT_TIMEOUT_S,
                                  set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise BatchError(f"cannot reach the Dask scheduler at {access.address} ({shorten(exc, 200)}); start it with "
                         f"`dask scheduler` and workers with `dask worker {access.address}` (docs/cluster.md)") from None


class SchedulerLost(Exception):
    """The client lost its scheduler; the batch stops with what it saved."""


class Task:
    """One student on the cluster: the hand-in sent (kept to write its reports from), and the
    workers it may run on (None: any; a list once some worker was refused)."""

    def __init__(self, student: Student, hand_in: HandIn, allowed: frozenset[str] | None):
        self.student, self.hand_in, self.allowed = student, hand_in, allowed


class ClusterGrading:
    """Hands students to the cluster a window at a time and saves each result once, here."""

    def __init__(self, client, batch: Batch, report: BatchReport, state: Progress, tick: Callable[[], None]):
        self.client, self.batch, self.report, self.state, self.tick = client, batch, report, state, tick
        self.ours = course_fingerprint(batch.exercise)
        self.gpu = needs_gpu(batch.exercise, batch.options)
        self.pending: dict[object, Task] = {}
        self.refused: dict[str, str] = {}
        """worker address -> why its results are refused (another course; its sandbox does not start)."""
        self.levels: dict[str, set[str]] = {}
        """isolation level -> workers that graded at it, to warn when they differ."""
        self.threads_warned: set[str] = set()
        self.reference = Student("reference", batch.exercise.reference_path.parent, "")
        self.workers: dict[str, dict] = {}

    def run(self, todo: deque[Student]) -> None:
        try:
            self._check_courses()
            if self.batch.exercise.reference_path.is_file():
                self._drain(deque([self.reference]))
            self._drain(todo)
        except SchedulerLost as exc:
            raise BatchError(f"lost the Dask scheduler ({exc}); the {self.report.graded} students graded in this "
                             f"run are saved — rerun the same command to grade the other {self.report.pending}") from None
        finally:
            self._cancel_pending()
        if len(self.levels) > 1:
            shown = ", ".join(f"{level} on {len(workers)} workers" for level, workers in sorted(self.levels.items()))
            self.report.warnings.append(f"students were graded at different isolation levels ({shown}); pass "
                                        f"--isolation bwrap to require the strongest on every worker")

    def _drain(self, todo: deque[Student]) -> None:
        """Grade `todo` to the end, keeping about two tasks per connected worker in flight."""
        from distributed import wait

        while todo or self.pending:
            self._look_at_workers(todo)
            while todo and len(self.pending) < max(4, 2 * len(self.workers)):
                self._submit(todo.popleft())
            try:
                done, _ = wait(list(self.pending), timeout=POLL_S, return_when="FIRST_COMPLETED")
            except TimeoutError:
                done = ()
            except CancelledError:  # Dask cancels every future of a client that could not reconnect
                raise SchedulerLost(f"the connection closed and did not come back within {CONNECT_TIMEOUT_S:g} s") from None
            except OSError as exc:
                raise SchedulerLost(f"{type(exc).__name__}: {shorten(exc, 200)}") from None
            for future in done:
                self._collect(future, todo)
            self.tick()

    # -- the workers --------------------------------------------------------------------------
    def _look_at_workers(self, todo: deque[Student]) -> None:
        try:
            self.workers = self.client.scheduler_info()["workers"]
        except (OSError, TimeoutError) as exc:
            raise SchedulerLost(f"{type(exc).__name__}: {shorten(exc, 200)}") from None
        self.state.workers = len(self.workers)
        if self.refused and not self._allowed():
            raise BatchError("no connected worker can grade this batch: " + "; ".join(self.refused.values()))
        if self.gpu and self.workers and not self._allowed():
            raise BatchError(f"{self.batch.exercise.name} on --device cuda runs only on workers with a GPU resource, "
                             f"and none of the {len(self.workers)} connected has one: start them with "
                             f"`dask worker ADDRESS --resources GPU=1` (docs/cluster.md)")
        for address, info in self.workers.items():
            if info.get("nthreads", 1) > 1 and address not in self.threads_warned:
                self.threads_warned.add(address)
                self.report.warnings.append(
                    f"worker {address} has {info['nthreads']} threads but grades one student at a time; start "
                    f"workers with --nworkers N --nthreads 1 to use N cores")
        for future, task in list(self.pending.items()):
            if task.allowed is not None and not task.allowed & self.workers.keys():  # its workers are gone
                del self.pending[future]
                future.cancel()
                todo.appendleft(task.student)

    def _check_courses(self) -> None:
        """Refuse, before any student, the connected workers whose course differs from ours; a
        worker that joins later is checked on its first result instead."""
        try:
            theirs = self.client.run(worker_fingerprint, self.batch.exercise.name, self.batch.options,
                                     on_error="return")
        except (OSError, TimeoutError) as exc:
            raise SchedulerLost(f"{type(exc).__name__}: {shorten(exc, 200)}") from None
        for worker, fingerprint in sorted(theirs.items()):
            why = (fingerprint_mismatch(worker, fingerprint, self.ours) if isinstance(fingerprint, dict) else
                   f"refused worker {worker}: it cannot tell which course it has ({type(fingerprint).__name__}: "
                   f"{shorten(fingerprint, 200)}); install this client's dlgrader version on it and restart it")
            if why:
                self._refuse(worker, why)

    def _allowed(self) -> list[str]:
        """Workers this batch may use now: not refused, and with a GPU when it needs one."""
        return [address for address, info in self.workers.items() if address not in self.refused
                and (not self.gpu or (info.get("resources") or {}).get("GPU", 0) >= 1)]

    def _refuse(self, worker: str, why: str) -> None:
        if worker not in self.refused:
            self.refused[worker] = why
            self.report.warnings.append(why)

    # -- the students -------------------------------------------------------------------------
    def _submit(self, student: Student) -> None:
        try:
            hand_in = read_hand_in(student.path)
        except (OSError, SubmissionError) as exc:  # unreadable or gone: the grader's fault, retried next run
            self._save_error(student, f"the grader could not read this submission ({type(exc).__name__}: {exc}); "
                                      f"rerun the batch to try again")
            return
        allowed = frozenset(self._allowed()) if self.refused else None
        future = self.client.submit(
            grade_on_worker, self.batch.exercise.name, student.id, hand_in, self.batch.options,
            key=f"dlgrader-{self.batch.exercise.name}-{student.id}-{uuid.uuid4().hex[:8]}", pure=False,
            resources={"GPU": 1} if self.gpu else None, workers=sorted(allowed) if allowed is not None else None)
        self.pending[future] = Task(student, hand_in, allowed)

    def _collect(self, future, todo: deque[Student]) -> None:
        from distributed import KilledWorker

        task = self.pending.pop(future, None)
        if task is None:
            return
        if future.status == "cancelled":
            raise SchedulerLost("the client's tasks were cancelled: it lost its connection")
        if future.status == "error":
            exc = future.exception()
            why = ("the workers grading it died" if isinstance(exc, KilledWorker)
                   else f"the grader failed on this submission ({type(exc).__name__}: {shorten(exc, 300)})")
            self._save_error(task.student, f"{why}; it was not graded — rerun the batch to try again")
            return
        payload = future.result()
        future.release()
        worker = payload.get("worker", "?")
        why = (f"refused worker {worker}: {payload['worker_problem']}" if payload.get("worker_problem")
               else fingerprint_mismatch(worker, payload.get("fingerprint") or {}, self.ours))
        if why:
            self._refuse(worker, why)
            todo.appendleft(task.student)  # graded again on another worker
        elif task.student is self.reference:
            self.report.warnings += judge_reference(GradeResult.from_dict(payload["result"]), f" on worker {worker}")
        else:
            self._save(task, payload)

    def _save(self, task: Task, payload: dict) -> None:
        result = GradeResult.from_dict(payload["result"])
        result.student = task.student.id
        result.submission_hash = task.hand_in.hash
        if result.isolation:  # empty for a submission that could not even be read
            self.levels.setdefault(result.isolation, set()).add(payload["worker"])
        save_student(self.batch.out, result, key=self.batch.key, formats=self.batch.formats, retry=payload["retry"],
                     hand_in=task.hand_in, submission=task.student.path)
        count_graded(self.report, self.state, result.status, result.student, result.notes)

    def _save_error(self, student: Student, message: str) -> None:
        if student is self.reference:
            raise BatchError(f"the reference solution could not be graded on the cluster: {message}")
        save_student(self.batch.out, error_result(self.batch.exercise, student, message), key=self.batch.key,
                     formats=self.batch.formats, retry=True)
        count_graded(self.report, self.state, "error", student.id)

    def _cancel_pending(self) -> None:
        """Stop the tasks of a batch that ends early (Ctrl-C, an error): their students are graded next run."""
        if self.pending:
            try:
                self.client.cancel(list(self.pending))
            except Exception:  # the scheduler is gone: nothing left to cancel
                pass
            self.pending.clear()
