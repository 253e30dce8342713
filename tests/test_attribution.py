"""A grader bug is never the student's fault (issue 18): the deliberately broken checks of
tests/grader_fault_checks/ end as could_not_run with their origin, at every isolation level,
while the student's own mistakes beside them still cost points and name their line; a harness
that fails before the student's module is imported, a sandbox that dies, and another exercise's
stub in the students' bundle are not the student's fault either."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.catalog import Exercise, get_exercise
from grader.checks.runner import run_checks
from grader.options import DEFAULT_OPTIONS
from grader.report.terminal import render
from grader.results import COULD_NOT_RUN, ERROR, FAILED, PASSED, GradeResult
from grader.sandbox.config import child_config
from grader.sandbox.launcher import Launcher, SandboxUnavailable, linux_sandbox_works
from grader.sandbox.session import Session
from grader.sandbox.student_process import StudentProcess
from sandbox_fixtures import plainest_level, refused_here

FIXTURE = Path(__file__).resolve().parent / "grader_fault_checks"
STUDENT = FIXTURE / "student" / "losses.py"
LEVELS = ["bwrap", "process", "local"]


def usable(level: str) -> bool:
    if level != "local" and not linux_sandbox_works():
        return False
    return refused_here(level) is None


@dataclass(frozen=True)
class FixtureExercise(Exercise):
    """Exercise 1's module and limits, with the broken checks copied to `folder`."""

    folder: str = ""

    @property
    def checks_dir(self) -> Path:
        return Path(self.folder)


@pytest.fixture(scope="module")
def exercise(tmp_path_factory) -> FixtureExercise:
    """The fixture package as an exercise's checks folder: checks.py becomes test_public.py (under
    tests/ it keeps another name, so the test run itself does not collect it)."""
    package = tmp_path_factory.mktemp("checks") / "grader_fault_checks"
    package.mkdir()
    for name in ("__init__.py", "support.py"):
        shutil.copy(FIXTURE / name, package / name)
    shutil.copy(FIXTURE / "checks.py", package / "test_public.py")
    base = get_exercise("exercise1")
    return FixtureExercise(base.name, base.module, base.topic, check_timeout=20.0, folder=str(package))


def grade_with(launcher: Launcher, exercise: Exercise, student: Path = STUDENT) -> GradeResult:
    """Run the exercise's checks against `student` in `launcher`'s sandbox, as the pipeline does."""
    folder = launcher.stage({student.name: student.read_bytes()})
    config = child_config(exercise, launcher.packages, {"kind": "file", "path": student.name}, folder)
    process = StudentProcess(exercise, lambda: Session(launcher, config, memory_mb=exercise.memory_limit_mb))
    try:
        checks = run_checks(exercise, process, DEFAULT_OPTIONS)
    finally:
        output = process.close()
        shutil.rmtree(folder, ignore_errors=True)
    return GradeResult(exercise=exercise.name, checks=checks, output=output, isolation=launcher.isolation)


@pytest.fixture(scope="module", params=LEVELS)
def graded(request, exercise) -> GradeResult:
    if not usable(request.param):
        pytest.skip(f"the {request.param!r} level cannot run on this machine")
    with Launcher(exercise, isolation=request.param) as launcher:
        return grade_with(launcher, exercise)


def by_name(result: GradeResult) -> dict:
    return {c.name: c for c in result.checks}


def test_every_broken_check_is_the_graders_fault(graded):
    """At each isolation level, does every check with a bug of the grader's (check code, helper,
    callback body, unsendable value, bundle stand-in) end as could_not_run with origin "grader",
    scoring nothing, with a message that says so and a traceback kept for the instructor only?"""
    broken = [c for c in graded.checks if c.name.startswith("grader_")]
    assert len(broken) == 9
    for check in broken:
        assert (check.status, check.origin, check.score) == (COULD_NOT_RUN, "grader", 0), (check.name, check.message)
        assert "not of your code" in check.message or "not a problem of your code" in check.message \
            or "could not run here" in check.message, check.name
        assert "your code raised" not in check.message
    tracebacks = {c.name: c.traceback for c in broken}
    assert "KeyError" in tracebacks["grader_raising_helper"] and "label_of" in tracebacks["grader_raising_helper"]
    assert "_broken_callback" in tracebacks["grader_callback_body_raises"]
    assert "_broken_callback" in tracebacks["grader_callback_body_raises_and_student_catches"]


def test_the_students_own_mistakes_still_cost_points(graded):
    """Beside the broken checks, is the student's IndexError an error naming losses.py and its line,
    a wrong call of the grader's function the student's TypeError, an exception of the student's
    own object inside a callback the student's, and a wrong answer a failure?"""
    checks = by_name(graded)
    raised = checks["student_raises"]
    assert (raised.status, raised.origin) == (ERROR, "student")
    assert raised.location == {"file": "losses.py", "line": 36} and "line 36" in raised.message
    wrong_call = checks["student_calls_callback_wrongly"]
    assert (wrong_call.status, wrong_call.origin) == (ERROR, "student") and "TypeError" in wrong_call.message
    assert wrong_call.location.get("line") == 23
    own = checks["student_object_raises_inside_callback"]
    assert (own.status, own.origin) == (ERROR, "student") and "my own object refuses" in own.message
    assert checks["student_wrong_answer"].status == FAILED
    assert checks["student_prints"].status == PASSED


def test_a_check_that_expected_another_exception_keeps_the_line(graded):
    """When a check expected ValueError and the student's code raised IndexError, does the failure
    still name the file and line that raised, in the result and in the terminal?"""
    check = by_name(graded)["student_raised_where_a_check_expected_another_exception"]
    assert check.status == FAILED and check.location == {"file": "losses.py", "line": 36}
    assert "Where: losses.py, line 36" in render(graded)


def test_printed_output_is_in_the_terminal_after_the_verdicts(graded):
    """Does the terminal show what the student's code printed after the checks: the first 20 lines,
    then how many more, and no grader note among them?"""
    text = render(graded)
    shown = text[text.index("Your code printed:"):]
    assert text.index("Your code printed:") > text.index("the student's code prints 30 lines")
    assert "printed line 19" in shown and "printed line 20" not in shown
    assert "10 more lines" in shown
    assert "[grader]" not in graded.output


def test_grader_notes_are_kept_apart_from_the_output():
    """Are the grader's notes a field of their own (kept through JSON) and shown under their own
    heading, never as the student's printed output?"""
    result = GradeResult(exercise="exercise1", output="hello from the student\n",
                         notes=["only the definitions in your notebook were run"])
    again = GradeResult.from_json(result.to_json())
    assert again.notes == result.notes and again.output == result.output
    text = render(again)
    printed = text[text.index("Your code printed:"):text.index("Notes from the grader:")]
    assert "hello from the student" in printed and "only the definitions" not in printed
    assert "only the definitions" in text[text.index("Notes from the grader:"):]


def test_a_notebook_cell_that_raised_is_a_grader_note_not_the_students_output(exercise):
    """A notebook whose exploring cell raises: is that said in the grader's notes (with the cell and
    the error), not mixed into what the student's code printed, and are the other cells run?"""
    cells = ["print('exploring')\nraise ValueError('just trying')", STUDENT.read_text()]
    with Launcher(exercise, isolation=plainest_level()) as launcher:
        folder = launcher.stage({})
        config = child_config(exercise, launcher.packages, {"kind": "cells", "cells": cells, "path": "nb.ipynb"},
                              folder)
        process = StudentProcess(exercise, lambda: Session(launcher, config))
        checks = {c.name: c for c in run_checks(exercise, process, DEFAULT_OPTIONS)}
        output = process.close()
    assert checks["student_prints"].status == PASSED
    assert len(process.notes) == 1
    assert process.notes[0].startswith("code cell 1, line 2 (`raise ValueError('just trying')`) raised ValueError: "
                                       "just trying. The rest of that cell was not run (the other cells were)")
    assert "exploring" in output and "just trying" not in output and "[grader]" not in output


class BrokenHarnessLauncher(Launcher):
    """The harness in the student's process fails before the student's module is imported: the
    limits it is handed cannot be applied (as a `resource` module without setrlimit once did)."""

    def open_student(self, config: dict):
        return super().open_student({**config, "limits": {**config["limits"], "cpu_s": "not a number"}})


@pytest.mark.parametrize("level", LEVELS)
def test_a_harness_that_fails_before_import_is_not_the_students_fault(exercise, level):
    """At each level, when the harness fails before the student's module is imported, does every
    check read could_not_run (origin grader), none as the student's import failure?"""
    if not usable(level):
        pytest.skip(f"the {level!r} level cannot run on this machine")
    with BrokenHarnessLauncher(exercise, isolation=level) as launcher:
        result = grade_with(launcher, exercise)
    for check in result.checks:
        assert (check.status, check.origin) == (COULD_NOT_RUN, "grader"), (check.name, check.message)
        assert "before your code started" in check.message


def test_a_resource_module_without_setrlimit_still_grades_at_the_local_level(exercise):
    """An interpreter whose `resource` module has no setrlimit (the harness imports it before the
    student's folder is on sys.path): does the local level still run the student's code, so the
    student's right answers pass?"""
    if not usable("local"):
        pytest.skip(refused_here("local"))
    with Launcher(exercise, isolation="local") as launcher:
        (launcher.harness / "resource.py").write_text("RLIMIT_CORE = 4\n")
        result = grade_with(launcher, exercise)
    checks = by_name(result)
    assert checks["student_prints"].status == PASSED
    assert checks["student_wrong_answer"].status == FAILED


class DeadZygoteLauncher(Launcher):
    """The sandbox stops answering when the student's process is to start (a dead zygote)."""

    def open_student(self, config: dict):
        raise SandboxUnavailable("the sandbox process stopped answering")


def test_a_sandbox_that_dies_mid_grading_is_the_machines_fault(exercise):
    """When the sandbox cannot start the student's process, is every check could_not_run with
    origin machine (so batch regrades it), never an error of the student's?"""
    level = plainest_level()
    with DeadZygoteLauncher(exercise, isolation=level) as launcher:
        result = grade_with(launcher, exercise)
    assert {(c.status, c.origin) for c in result.checks} == {(COULD_NOT_RUN, "machine")}
    assert result.status == "incomplete"


def test_a_stub_of_another_exercise_in_the_bundle_is_pending_on_that_exercise():
    """In the students' bundle exercise 3 runs the student's own exercise-2 module: when that is still
    the stub, do the checks that reach it read 'pending on exercise2' with its file and line (not the
    student's exercise-3 line), cost nothing, and do the other checks still pass?"""
    exercise3 = get_exercise("exercise3")
    submission = Path(__file__).resolve().parent / "cases" / "exercise3" / "ok_imports_earlier_exercises"
    stub = get_exercise("exercise2").stub_path
    with Launcher(exercise3, isolation=plainest_level()) as launcher:
        shutil.copy(stub, launcher.packages / "exercises" / "exercise2" / stub.name)
        launcher.other_sources["exercise2"] = "student"
        result = grade_with(launcher, exercise3, submission / "two_layer_net.py")
    pending = [c for c in result.checks if c.origin == "exercise:exercise2"]
    assert pending, [(c.name, c.status, c.message) for c in result.checks if not c.passed]
    for check in pending:
        assert check.status == COULD_NOT_RUN and check.score == 0
        assert check.message.startswith("pending on exercise2") and "grade exercise2" in check.message
        assert check.location["file"] == "exercises/exercise2/gradients.py" and check.location["line"] > 0
        assert "two_layer_net.py" not in check.message
    assert not [c for c in result.checks if c.status in (FAILED, ERROR)], \
        [(c.name, c.message) for c in result.checks if c.status in (FAILED, ERROR)]
    assert "wait on exercise2" in render(result)


def test_a_wrong_earlier_exercise_in_the_bundle_is_named_in_the_failure(tmp_path):
    """In the students' bundle, when exercise 3's checks fail because the student's own exercise-1
    softmax is wrong, does each failure name exercise 1, its file and the command that checks it?"""
    exercise3 = get_exercise("exercise3")
    submission = Path(__file__).resolve().parent / "cases" / "exercise3" / "ok_imports_earlier_exercises"
    wrong = tmp_path / "losses.py"
    wrong.write_text(get_exercise("exercise1").reference_path.read_text()
                     + "\n\ndef softmax(x):\n    return np.exp(x) / 2.0\n")
    with Launcher(exercise3, isolation=plainest_level()) as launcher:
        shutil.copy(wrong, launcher.packages / "exercises" / "exercise1" / "losses.py")
        launcher.other_sources["exercise1"] = "student"
        result = grade_with(launcher, exercise3, submission / "two_layer_net.py")
    failed = [c for c in result.checks if c.status in (FAILED, ERROR)]
    assert failed, "a wrong softmax must still fail some exercise-3 check"
    for check in failed:
        assert "exercises/exercise1/losses.py" in check.message and "`grade exercise1`" in check.message, check.message


def test_an_earlier_exercise_that_does_not_compile_in_the_bundle_is_pending_on_it(tmp_path):
    """In the students' bundle, when the student's own exercise-2 file has a SyntaxError, does every
    exercise-3 check that imports it wait on exercise 2 (its file and line), not fail as this
    exercise's import error?"""
    exercise3 = get_exercise("exercise3")
    submission = Path(__file__).resolve().parent / "cases" / "exercise3" / "ok_imports_earlier_exercises"
    with Launcher(exercise3, isolation=plainest_level()) as launcher:
        (launcher.packages / "exercises" / "exercise2" / "gradients.py").write_text("def numerical_gradient(f, x)\n")
        launcher.other_sources["exercise2"] = "student"
        result = grade_with(launcher, exercise3, submission / "two_layer_net.py")
    for check in result.checks:
        assert (check.status, check.origin) == (COULD_NOT_RUN, "exercise:exercise2"), (check.name, check.message)
        assert check.location == {"file": "exercises/exercise2/gradients.py", "line": 1, "exercise": "exercise2"}
