"""Check: run an exercise's pytest checks against one student process and collect results.

pytest runs in the grader's own process (the checks and the reference live here); only the
student's code runs in the sandbox, reached through the `student` fixture. Results are
collected through pytest's public hooks by a plugin object, never from pytest's output.

pytest configures itself and collects an exercise's checks once per grading process
(`CollectedChecks`), then runs the same collected checks for every submission that process
grades: a batch worker pays pytest's start-up (about 25 ms, as much as the checks of
exercise 1 themselves) once, not once a student. Every fixture is torn down after each
submission's last check, as a fresh pytest run would.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
import time
import types
from pathlib import Path
from typing import Callable, Collection

import pytest

from grader.catalog import CHECKS_ROOT, Exercise
from grader.checks import api
from grader.checks.outcome import cause_of, classify
from grader.checks.translated import _
from grader.options import GradingOptions
from grader.results import COULD_NOT_RUN, PASSED, CheckResult
from grader.sandbox.errors import GRADER
from grader.sandbox.student_process import StudentProcess


class CheckPlugin:
    """Gives checks their `student` and `options` fixtures and turns each test outcome into a CheckResult."""

    def __init__(self, only: Collection[str] | None = None):
        self.only = only
        self.unknown: set[str] = set()
        self.collect_errors: list[str] = []
        self.checks: list[tuple[str, dict, str]] = []  # (nodeid, marker, title line) of each collected check
        self.results: dict[str, CheckResult] = {}
        self.exercise: Exercise | None = None
        self.process: StudentProcess | None = None
        self.grading_options: GradingOptions | None = None
        self.progress: Callable | None = None
        self.started: Callable | None = None
        self.real_stdout = sys.stdout

    def begin(self, exercise: Exercise, process: StudentProcess, options: GradingOptions,
              progress: Callable | None, started: Callable | None) -> None:
        """Ready for one submission: every check starts as not run, which is the grader's fault
        until it runs (titles in the language of this grading)."""
        self.exercise, self.process, self.grading_options = exercise, process, options
        self.progress, self.started, self.real_stdout = progress, started, sys.stdout
        self.results = {}
        for nodeid, meta, title in self.checks:
            unrun = CheckResult(
                name=nodeid.rsplit("::", 1)[-1].removeprefix("test_"), max_score=meta["points"],
                visibility=meta["visibility"], status=COULD_NOT_RUN, origin=GRADER,
                message=_("the check did not run (a problem of the grader, not of your code)"),
                title=_(title) if title else "")
            unrun.cause = cause_of(unrun)
            self.results[nodeid] = unrun

    @pytest.fixture
    def student(self, request):
        meta = request.node.function.grader_check
        return self.process.module_for_check(meta["timeout"] or self.exercise.check_timeout)

    @pytest.fixture
    def options(self) -> GradingOptions:
        """How the user asked to grade: device, data folder, isolation, limits (grader/options.py)."""
        return self.grading_options

    def pytest_collection_modifyitems(self, config, items):
        if self.only is not None:
            self.unknown = _select(config, items, self.only)
        for item in items:
            meta = getattr(getattr(item, "function", None), "grader_check", None)
            if meta is None:
                raise pytest.UsageError(f"{item.nodeid} has no @public/@hidden marker with points")
            doc = (item.function.__doc__ or "").strip().splitlines()
            self.checks.append((item.nodeid, meta, doc[0] if doc else ""))

    def pytest_collectreport(self, report):
        if report.failed:
            self.collect_errors.append(report.longreprtext)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        result = self.results[item.nodeid]
        start = time.perf_counter()
        if self.started:
            self.started(result)
        self.process.take_fault()  # a fault of an earlier check is not this one's
        try:
            with api.running_check(result.name, result.details):
                yield
        finally:
            result.seconds = round(time.perf_counter() - start, 4)
            if self.progress:
                try:
                    with contextlib.redirect_stdout(self.real_stdout):  # pytest's own output is muted
                        self.progress(result)
                except OSError:  # e.g. the terminal's pipe closed: stop reporting, keep grading
                    self.progress = None

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        result = self.results[item.nodeid]
        if call.when not in ("setup", "call"):
            return
        fault = self.process.take_fault()
        if fault is not None or report.failed:
            exc = call.excinfo.value if call.excinfo else None
            self._record_failure(result, exc, fault)
            if result.origin == "student" or _no_recorded_answer(exc):
                result.message += _earlier_exercises_note(self.process.other_exercises_in_use())
            result.cause = cause_of(result)
        elif call.when == "call" and report.passed:
            result.status, result.score, result.message, result.origin = PASSED, result.max_score, "", ""
            result.cause = ""

    @staticmethod
    def _record_failure(result: CheckResult, exc: BaseException | None, fault=None) -> None:
        """The verdict of grader/checks/outcome.py: the student's only when proven to be."""
        verdict = classify(exc, fault)
        result.score = 0.0
        result.status, result.origin, result.message = verdict.status, verdict.origin, verdict.message
        result.hint, result.location, result.traceback = verdict.hint, verdict.location, verdict.traceback
        result.details.update(verdict.details)
        result.failure = verdict.failure


def _no_recorded_answer(exc: BaseException | None) -> bool:
    """The bundle's stand-in of the reference had no answer for values the student's code gave."""
    from grader.course.oracle import ReferenceUnavailable

    return isinstance(exc, ReferenceUnavailable)


def _earlier_exercises_note(names: list[str]) -> str:
    """Points a failure to the other exercises whose code of the student's own ran in it (the
    students' bundle): a mistake there shows up here too."""
    from grader.catalog import get_exercise

    if not names:
        return ""
    files = ", ".join(f"exercises/{name}/{get_exercise(name).module}.py" for name in names)
    commands = ", ".join(f"`grade {name}`" for name in names)
    return " " + _("This check also ran your own code from {exercises} ({files}): if {commands} reports a "
                   "mistake, fix it there first; that may fix this check too.").format(
        exercises=", ".join(names), files=files, commands=commands)


def _select(config, items: list, names: Collection[str]) -> set[str]:
    """Keep only the checks named (a caller that needs a few checks, e.g. a test of one case's
    verdict, skips the others, MNIST runs included); returns the names that are no check, and
    then keeps none."""
    unknown = set(names) - {item.name.removeprefix("test_") for item in items}
    kept = [] if unknown else [item for item in items if item.name.removeprefix("test_") in names]
    config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = kept
    return unknown


def check_files(exercise: Exercise, visibility: str | None = None) -> list[Path]:
    """test_public.py, then test_hidden.py and any test_hidden_*.py (e.g. the contract-wide
    checks, test_hidden_contract.py); the release leaves out every file named *hidden*."""
    public = [exercise.checks_dir / "test_public.py"]
    hidden = sorted(exercise.checks_dir.glob("test_hidden*.py"))
    chosen = {"public": public, "hidden": hidden}.get(visibility or "", public + hidden)
    return [path for path in chosen if path.exists()]


def run_checks(exercise: Exercise, process: StudentProcess, options: GradingOptions, *,
               visibility: str | None = None, progress: Callable | None = None,
               started: Callable | None = None, checks: Collection[str] | None = None) -> list[CheckResult]:
    """Run the exercise's checks (only those named in `checks`, when given) against `process`."""
    files = check_files(exercise, visibility)
    if not files:
        raise FileNotFoundError(f"no checks found for {exercise.name} in {exercise.checks_dir}")
    if threading.current_thread() is not threading.main_thread():  # a watchdog's or a Dask worker's thread
        collected = CollectedChecks(exercise.name, files, checks)
        try:
            return collected.run(exercise, process, options, progress, started)
        finally:
            collected.close()
    key = (tuple(map(str, files)), None if checks is None else frozenset(checks))
    if key not in _collected:
        _remember(key, CollectedChecks(exercise.name, files, checks))
    return _collected[key].run(exercise, process, options, progress, started)


_collected: dict[tuple, "CollectedChecks"] = {}
"""The checks pytest has collected in this process's main thread (where batch workers grade),
by (check files, checks selected); other threads collect afresh each time. A check
module is imported once per process either way (as with pytest.main), so an edited check file
takes effect in the next grading process."""
KEEP_COLLECTED = 16

def _remember(key: tuple, collected: "CollectedChecks") -> None:
    while len(_collected) >= KEEP_COLLECTED:
        _collected.pop(next(iter(_collected))).close()
    _collected[key] = collected


class _Discard(io.TextIOBase):
    """pytest's terminal reporter writes here: the results come through the plugin's hooks."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)


class CollectedChecks:
    """pytest configured and an exercise's checks collected, once; `run` runs them against one
    student's process, as many times as there are students. pytest offers no public call for
    this: it is built from the steps of pytest.main (pytest's main.wrap_session and
    runtestloop) and the rerun protocol that pytest-rerunfailures relies on
    (runner.runtestprotocol sets up a check again after it ran)."""

    def __init__(self, exercise_name: str, files: list[Path], only: Collection[str] | None):
        from _pytest.config import _prepareconfig

        self.plugin = CheckPlugin(only)
        self.config = _prepareconfig(_pytest_args(files), plugins=[self.plugin])
        try:
            with contextlib.redirect_stdout(_Discard()):  # the terminal reporter keeps the stdout it starts with
                self.config._do_configure()
                self.session = pytest.Session.from_config(self.config)
                self.config.hook.pytest_sessionstart(session=self.session)
                self.config.hook.pytest_collection(session=self.session)
        except BaseException:
            self.close()
            raise
        if self.plugin.unknown:
            self.close()
            raise ValueError(f"{exercise_name} has no check named {', '.join(sorted(self.plugin.unknown))}")
        if self.plugin.collect_errors:
            self.close()
            raise RuntimeError(f"the checks of {exercise_name} could not be collected:\n"
                               f"{''.join(self.plugin.collect_errors)[-2000:]}")

    def run(self, exercise: Exercise, process: StudentProcess, options: GradingOptions,
            progress: Callable | None, started: Callable | None) -> list[CheckResult]:
        """Every check once, in order; after the last one every fixture is torn down."""
        self.plugin.begin(exercise, process, options, progress, started)
        items = self.session.items
        start_dir = os.getcwd()
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                for index, item in enumerate(items):
                    nextitem = items[index + 1] if index + 1 < len(items) else None
                    self.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
        except BaseException:  # Ctrl+C, or pytest's own failure: half set up, so never used again
            self.forget()
            raise
        finally:
            os.chdir(start_dir)
        return list(self.plugin.results.values())

    def forget(self) -> None:
        with contextlib.suppress(Exception):  # close what the interrupted check had set up
            self.session._setupstate.teardown_exact(None)
        for key, collected in list(_collected.items()):
            if collected is self:
                del _collected[key]
        self.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.config._ensure_unconfigure()


def _pytest_args(files: list[Path]) -> list[str]:
    return [*map(str, files), "-c", str(CHECKS_ROOT / "pytest.ini"), "--rootdir", str(CHECKS_ROOT.parent.parent),
            "-q", "--capture=no", "-p", "no:cacheprovider", "-p", "no:randomly", "-W", "ignore", "--tb=no", "--assert=plain",
            "--no-header",
            # plugins installed on the machine (hypothesis, randomly, ...) must not change grading
            "--disable-plugin-autoload",
            # nor may a conftest.py beside the checks (e.g. one a student put in the course folder)
            "--noconftest",
            # plugins that cost time per run and add nothing here (unraisableexception runs gc.collect 5 times)
            "-p", "no:unraisableexception", "-p", "no:threadexception", "-p", "no:faulthandler",
            "-p", "no:logging", "-p", "no:junitxml", "-p", "no:doctest", "-p", "no:pastebin",
            "-p", "no:stepwise", "-p", "no:warnings"]


def list_checks(exercise: Exercise, visibility: str | None = None) -> list[tuple[str, float, str, str]]:
    """(name, points, visibility, title) of every check, without running anything."""
    import importlib

    found = []
    for path in check_files(exercise, visibility):
        module = importlib.import_module(f"grader.checks.{exercise.name}.{path.stem}")
        for name, func in vars(module).items():
            meta = _check_marker(name, func)
            if meta:
                doc = (func.__doc__ or "").strip().splitlines()
                title = _(doc[0]) if doc else ""  # tools/catalogs.py puts it in the titles catalogs
                found.append((name.removeprefix("test_"), meta["points"], meta["visibility"], title))
    return found


def _check_marker(name: str, value: object) -> dict | None:
    """The @public/@hidden marker of a check function, else None. Only plain functions named
    test_* are asked: a module also holds other objects, e.g. in the students' bundle the
    reference's stand-ins (grader/course/oracle/replay.py), which answer any attribute they
    were not recorded with by raising ReferenceUnavailable."""
    if not name.startswith("test_") or not isinstance(value, types.FunctionType):
        return None
    return getattr(value, "grader_check", None)
