"""A thread the student's code leaves running cannot change a verdict (issue 17, item 6): the
student's process copies what a call returns before any other thread of its can run
(child._returned), and the grader compares that copy.

The submissions here start a thread that overwrites whatever the student's function returned
last, over and over. Their functions return the right value, then hold the GIL in C code long
enough that the scribbling thread is waiting for it at the very moment they return: without the
copy it would overwrite the value before (or while) the reply is encoded."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest

from conftest import assert_full_marks
from grader.catalog import get_exercise
from grader.options import GradingOptions
from grader.pipeline import grade_submission
from grader.sandbox.config import child_config
from grader.sandbox.launcher import Launcher
from grader.sandbox.session import Session
from grader.submission import load_submission
from sandbox_fixtures import refused_here

LEVELS = ["bwrap", "process", "local"]

SCRIBBLER = '''
import sys as _sys
import threading as _threading

import numpy as _np

_sys.setswitchinterval(1e-4)  # the scribbler asks for the GIL every 0.1 ms
_LATEST = [None]
_LONG = list(range(300_000))  # `-1 in _LONG`: about a millisecond in C, with no thread switch


def _scribble():
    """Overwrite what the student's function returned last, for ever."""
    while True:
        value = _LATEST[0]
        if isinstance(value, _np.ndarray):
            value[...] = -7.0
        elif isinstance(value, dict):
            for key in list(value):
                value[key] = _np.full_like(value[key], -7.0)
            value["scribbled"] = _np.zeros(1)


def _returns_then_scribbled(function):
    def wrapper(*args, **kwargs):
        value = function(*args, **kwargs)
        _LATEST[0] = value
        if -1 in _LONG:  # holds the GIL: the scribbler's request for it is pending at the return
            return None
        return value
    return wrapper


_threading.Thread(target=_scribble, daemon=True).start()
'''


def usable(level: str) -> None:
    why = refused_here(level)
    if why:
        pytest.skip(why)


# -- straight through the sandbox: many calls, each reply as it was returned ----------------------
PROBE = SCRIBBLER + '''

@_returns_then_scribbled
def ones(n):
    return _np.ones(n)


@_returns_then_scribbled
def gradients(n):
    return {"W1": _np.ones((n, 3)), "b1": _np.arange(3.0), **{f"W{i}": _np.full(n, float(i)) for i in range(2, 40)}}
'''


@pytest.mark.parametrize("level", LEVELS)
def test_replies_are_what_the_call_returned(level, tmp_path):
    """At each isolation level, is every reply the value the function returned (an array, a dict
    of arrays), never one a thread of the student's changed after the return?"""
    usable(level)
    exercise = get_exercise("exercise1")
    folder = tmp_path / "probe"
    folder.mkdir()
    (folder / "losses.py").write_text(textwrap.dedent(PROBE))
    submission = load_submission(folder, exercise)
    with Launcher(exercise, isolation=level) as launcher:
        staged = launcher.stage(submission.files)
        session = Session(launcher, child_config(exercise, launcher.packages, submission.entry, staged),
                          memory_mb=exercise.memory_limit_mb)
        try:
            module = session.start(import_timeout=20)
            session.set_deadline(60, "check")
            for _ in range(15):
                assert np.array_equal(module.ones(5000), np.ones(5000))
                got = module.gradients(50)
                assert set(got) == {"W1", "b1", *(f"W{i}" for i in range(2, 40))}
                assert np.array_equal(got["W1"], np.ones((50, 3))) and np.array_equal(got["b1"], np.arange(3.0))
                assert all(np.array_equal(got[f"W{i}"], np.full(50, float(i))) for i in range(2, 40))
        finally:
            session.close()


# -- graded: the same verdict three times, full marks --------------------------------------------
def scribbling_submission(tmp_path: Path, exercise_name: str, wrap: str) -> Path:
    """The reference of `exercise_name` whose `wrap` (a function, or Class.method) returns its
    value and leaves a thread overwriting it."""
    exercise = get_exercise(exercise_name)
    folder = tmp_path / exercise_name
    shutil.copytree(exercise.reference_path.parent, folder)
    module = folder / exercise.reference_path.name
    owner, _, method = wrap.rpartition(".")
    target = f"{owner}.{method}" if owner else method
    module.write_text(module.read_text() + textwrap.dedent(SCRIBBLER)
                      + f"\n{target} = _returns_then_scribbled({target})\n")
    return folder


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("exercise, wrap", [("exercise1", "softmax"), ("exercise3", "TwoLayerNet.gradient")],
                         ids=["array", "dict"])
@pytest.mark.slow
def test_grading_with_a_scribbling_thread_is_full_marks_three_times(tmp_path, level, exercise, wrap):
    """Graded three times at each isolation level, does a right answer that leaves a thread
    overwriting what it returned (an array, a dict of gradients) get full marks every time, with
    identical results?"""
    usable(level)
    folder = scribbling_submission(tmp_path, exercise, wrap)
    options = GradingOptions(isolation=level)
    with Launcher(get_exercise(exercise), isolation=level) as launcher:
        results = [grade_submission(exercise, folder, options=options, launcher=launcher) for _ in range(3)]
    for result in results:
        assert_full_marks(result)
    verdicts = [[(c.name, c.status, c.score, c.message) for c in result.checks] for result in results]
    assert verdicts[0] == verdicts[1] == verdicts[2]
