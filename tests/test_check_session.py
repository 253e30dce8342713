"""pytest collects an exercise's checks once per grading process and runs them for every student
(grader/checks/runner.py, CollectedChecks): one student's results, fixtures or failures must
never reach the next student's verdict."""

from __future__ import annotations

import itertools
import sys
import threading
import types
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.catalog import Exercise, get_exercise
from grader.checks import runner
from grader.options import DEFAULT_OPTIONS
from grader.results import FAILED, PASSED

CHECKS = '''
import threading

import pytest

from grader.checks.api import expect_close, public

EVENTS = []
RELEASE = threading.Event()
ENTERED = threading.Event()


@pytest.fixture(scope="module")
def module_resource():
    EVENTS.append("set up")
    yield "resource"
    EVENTS.append("torn down")


@public(points=1)
def test_value(student, module_resource):
    """value() returns 1"""
    expect_close(student.value(), 1.0, call="value()")


@public(points=2)
def test_waits_when_asked(student):
    """a check that can be made to wait, to grade two students at once"""
    if getattr(student, "wait", False):
        ENTERED.set()
        assert RELEASE.wait(10)
    if getattr(student, "interrupt", False):
        raise KeyboardInterrupt
'''

_packages = itertools.count()


@dataclass(frozen=True)
class FolderExercise(Exercise):
    folder: str = ""

    @property
    def checks_dir(self) -> Path:
        return Path(self.folder)


class FakeProcess:
    """What the runner asks of a StudentProcess, with the student's module a plain object."""

    def __init__(self, **module):
        self.module = types.SimpleNamespace(**module)

    def module_for_check(self, timeout):
        return self.module

    def take_fault(self):
        return None

    def other_exercises_in_use(self):
        return []


@pytest.fixture
def exercise(tmp_path) -> FolderExercise:
    package = tmp_path / f"session_checks_{next(_packages)}"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "test_public.py").write_text(CHECKS)
    base = get_exercise("exercise1")
    return FolderExercise(base.name, base.module, base.topic, folder=str(package))


def check_module(exercise: FolderExercise):
    return sys.modules[f"{Path(exercise.folder).name}.test_public"]


def verdicts(exercise: Exercise, process: FakeProcess) -> dict[str, tuple[str, float]]:
    return {r.name: (r.status, r.score) for r in runner.run_checks(exercise, process, DEFAULT_OPTIONS)}


def test_students_graded_one_after_another_keep_their_own_verdicts(exercise):
    right, wrong = FakeProcess(value=lambda: 1.0), FakeProcess(value=lambda: 2.0)
    first = verdicts(exercise, right)
    collected = [c for (files, _), c in runner._collected.items() if files[0].startswith(exercise.folder)]
    assert len(collected) == 1, "the checks are collected once and kept"
    assert verdicts(exercise, wrong) == {"value": (FAILED, 0.0), "waits_when_asked": (PASSED, 2.0)}
    assert verdicts(exercise, right) == first == {"value": (PASSED, 1.0), "waits_when_asked": (PASSED, 2.0)}
    assert [c for c in runner._collected.values() if c is collected[0]], "reused for every student"


def test_fixtures_are_torn_down_after_each_student(exercise):
    for value in (1.0, 2.0):
        verdicts(exercise, FakeProcess(value=lambda v=value: v))
    assert check_module(exercise).EVENTS == ["set up", "torn down", "set up", "torn down"]


def test_two_threads_grading_at_once_each_get_their_own_results(exercise):
    verdicts(exercise, FakeProcess(value=lambda: 1.0))  # collected and kept
    module = check_module(exercise)
    slow_result = {}
    slow = threading.Thread(target=lambda: slow_result.update(
        verdicts(exercise, FakeProcess(value=lambda: 2.0, wait=True))))
    slow.start()
    try:
        assert module.ENTERED.wait(10)
        assert verdicts(exercise, FakeProcess(value=lambda: 1.0)) == {
            "value": (PASSED, 1.0), "waits_when_asked": (PASSED, 2.0)}
    finally:
        module.RELEASE.set()
        slow.join(10)
    assert slow_result == {"value": (FAILED, 0.0), "waits_when_asked": (PASSED, 2.0)}


def test_an_interrupted_run_is_not_reused(exercise):
    verdicts(exercise, FakeProcess(value=lambda: 1.0))
    before = set(map(id, runner._collected.values()))
    with pytest.raises(KeyboardInterrupt):
        verdicts(exercise, FakeProcess(value=lambda: 1.0, interrupt=True))
    assert verdicts(exercise, FakeProcess(value=lambda: 2.0)) == {
        "value": (FAILED, 0.0), "waits_when_asked": (PASSED, 2.0)}
    assert check_module(exercise).EVENTS == ["set up", "torn down"] * 3, "the interrupted run's fixtures too"
    assert not set(map(id, runner._collected.values())) <= before, "collected again after the interruption"


def test_a_selection_of_checks_is_collected_apart(exercise):
    everything = FakeProcess(value=lambda: 2.0)
    only = {r.name for r in runner.run_checks(exercise, everything, DEFAULT_OPTIONS, checks=["value"])}
    assert only == {"value"}
    assert set(verdicts(exercise, everything)) == {"value", "waits_when_asked"}
    with pytest.raises(ValueError, match="no check named nonsense"):
        runner.run_checks(exercise, everything, DEFAULT_OPTIONS, checks=["nonsense"])
