"""A `dask worker --preload` for tests/test_trust_cluster.py: gradings that hang, a short watchdog.

Students named `watchdog_stuck*` hang in the grader's own code (a sleep nothing can end);
students named `watchdog_sandbox*` hang until their sandbox is closed (as a grading blocked on a
sandbox that stopped answering). Every other student is graded as usual. The watchdog's margin
is cut to a second so a hang costs the test seconds, not a minute.
"""

import time

import grader.pipeline
from grader.batch import watchdog

watchdog.WORKER_MARGIN_S = 1.0
watchdog.UNSTICK_WAIT_S = 2.0
_grade = getattr(grader.pipeline.grade, "unpatched", grader.pipeline.grade)  # the preload may run twice


def _hanging_grade(exercise_name, path, *, student="", launcher=None, **kwargs):
    if student.startswith("watchdog_stuck"):
        time.sleep(3600)
    if student.startswith("watchdog_sandbox"):
        while launcher.root.exists():  # until the watchdog closes the sandbox (close() removes its folder)
            time.sleep(0.1)
        raise RuntimeError("the sandbox went away")
    return _grade(exercise_name, path, student=student, launcher=launcher, **kwargs)


_hanging_grade.unpatched = _grade
grader.pipeline.grade = _hanging_grade
