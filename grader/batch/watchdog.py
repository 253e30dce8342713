"""A watchdog over one grading on a cluster worker.

The sandbox bounds the student's code (a deadline on every read, the submission's budget), but
nothing bounded the grading as a whole on a Dask worker: a check or callback of the grader's
own that never returns, or a sandbox that stops answering without closing, held the worker and
its student forever. A local batch kills such a worker process (pool.py); a Dask worker is not
ours to kill mid-task, so the grading runs in a thread of its own and the worker's task waits
for it at most the submission's time limit plus a margin. Past that, the student is recorded as
a fault of the machine (every check could_not_run, origin "machine": no points lost, regraded by
the next batch run) and the batch goes on.

To unstick the thread, the worker closes its warm sandboxes (the student's processes die, so a
read waiting on them returns). A thread still running after that is stuck in the grader's own
code, which cannot be stopped from outside; pytest's state in that process is then not safe to
reuse, so the worker refuses further students and restarts once the client has its result.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

from grader.batch.pool import WORKER_MARGIN_S
from grader.catalog import Exercise
from grader.results import COULD_NOT_RUN, CheckResult, GradeResult

UNSTICK_WAIT_S = 10.0
"""How long the watchdog waits for a grading to end once its sandboxes are closed."""
RESTART_WAIT_S = 60.0
"""How long a worker with a stuck grading waits for the client to fetch its last result."""


def overdue_result(exercise: Exercise, student_id: str, limit: float) -> GradeResult:
    """Every check could_not_run (the machine's fault) for a grading stopped by the watchdog."""
    from grader.checks.runner import list_checks

    message = (f"grading did not finish within {limit:g} s on its cluster worker and was stopped; this is a "
               f"problem of the grading machine, not of the submission — the next batch run grades it again")
    checks = [CheckResult(name=name, max_score=points, visibility=vis, status=COULD_NOT_RUN, message=message,
                          title=title, origin="machine")
              for name, points, vis, title in list_checks(exercise)]
    return GradeResult(exercise=exercise.name, checks=checks, student=student_id, seconds=limit)


class Overdue(Exception):
    """The grading ran past its limit; `stuck` when it still ran after its sandboxes closed."""

    def __init__(self, stuck: bool):
        super().__init__("stuck" if stuck else "overdue")
        self.stuck = stuck


def run_watched(grading: Callable[[], dict], limit: float, unstick: Callable[[], None]) -> dict:
    """grading()'s payload, or Overdue when it runs past `limit` seconds (after `unstick()` has
    been called to end it). grading() must catch its own exceptions."""
    box: dict[str, dict] = {}
    thread = threading.Thread(target=lambda: box.update(payload=grading()), name="dlgrader-grading", daemon=True)
    thread.start()
    thread.join(limit)
    if not thread.is_alive():
        return box["payload"]
    try:
        unstick()
    except Exception:  # closing a sandbox in use may fail; what matters is whether the thread ends
        pass
    thread.join(UNSTICK_WAIT_S)
    raise Overdue(stuck=thread.is_alive())


def restart_when_fetched(worker, key: str) -> None:
    """In the background: once the client has this task's result (the key is released) or after
    RESTART_WAIT_S, close the worker; its nanny starts a fresh process in its place."""

    def wait_then_close() -> None:
        deadline = time.monotonic() + RESTART_WAIT_S
        while time.monotonic() < deadline and key in worker.state.tasks:
            time.sleep(0.2)
        worker.loop.add_callback(worker.close, nanny=False, reason="dlgrader watchdog: a grading is stuck")

    threading.Thread(target=wait_then_close, name="dlgrader-restart", daemon=True).start()
