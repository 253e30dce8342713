"""Check: run an exercise's pytest checks against one student process and collect results.

pytest runs in the grader's own process (the checks and the reference live here); only the
student's code runs in the sandbox, reached through the `student` fixture. Results are
collected through pytest's public hooks by a plugin object, never from pytest's output.
"""

from __future__ import annotations

import contextlib
import io
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from grader.checks import api as checking
from grader.catalog import CHECKS_ROOT, Exercise
from grader.results import ERROR, FAILED, PASSED, CheckResult
from grader.sandbox.errors import ImportFailed, StudentCodeError, StudentTimeout
from grader.sandbox.session import RemoteObject, Session


class StudentProcess:
    """Starts the student's process when a check first needs it, and again after it died.

    An import failure is remembered: every later check fails with the same message at once.
    Time the student's code spends counts against the whole submission's budget as well.
    """

    def __init__(self, exercise: Exercise, new_session: Callable[[], Session]):
        self.exercise = exercise
        self.new_session = new_session
        self.session: Session | None = None
        self.module: RemoteObject | None = None
        self.import_error: ImportFailed | None = None
        self.submission_deadline = time.monotonic() + exercise.submission_timeout
        self.outputs: list[str] = []

    def module_for_check(self, timeout: float) -> RemoteObject:
        if self.import_error is not None:
            raise self.import_error
        left = self.submission_deadline - time.monotonic()
        if left <= 0:
            raise StudentTimeout(self.exercise.submission_timeout, "", "submission")
        if self.session is None or not self.session.alive:
            self._collect_output()
            self.session = self.new_session()
            try:
                self.module = self.session.start(import_timeout=min(timeout, left))
            except ImportFailed as exc:
                self.import_error = exc
                raise
        if left < timeout:
            self.session.set_deadline(left, "submission", self.exercise.submission_timeout)
        else:
            self.session.set_deadline(timeout, "check")
        return self.module

    def _collect_output(self) -> None:
        if self.session is not None:
            self.session.close()
            text = self.session.output.text() if self.session.output else ""
            if text:
                self.outputs.append(text)

    def close(self) -> str:
        self._collect_output()
        self.session = None
        return "\n".join(self.outputs)


class CheckPlugin:
    """Gives checks their `student` fixture and turns each test outcome into a CheckResult."""

    def __init__(self, exercise: Exercise, process: StudentProcess, progress: Callable | None = None,
                 started: Callable | None = None):
        self.exercise = exercise
        self.process = process
        self.results: dict[str, CheckResult] = {}
        self.progress = progress
        self.started = started
        self.real_stdout = sys.stdout

    @pytest.fixture
    def student(self, request):
        meta = request.node.function.grader_check
        return self.process.module_for_check(meta["timeout"] or self.exercise.check_timeout)

    def pytest_collection_modifyitems(self, items):
        for item in items:
            meta = getattr(getattr(item, "function", None), "grader_check", None)
            if meta is None:
                raise pytest.UsageError(f"{item.nodeid} has no @public/@hidden marker with points")
            doc = (item.function.__doc__ or "").strip().splitlines()
            self.results[item.nodeid] = CheckResult(
                name=item.name.removeprefix("test_"), max_score=meta["points"], visibility=meta["visibility"],
                status=ERROR, message="the check did not run", title=doc[0] if doc else "")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        result = self.results[item.nodeid]
        token = checking._current_details.set(result.details)
        start = time.perf_counter()
        if self.started:
            self.started(result)
        try:
            yield
        finally:
            checking._current_details.reset(token)
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
        if call.when == "call" and report.passed:
            result.status, result.score, result.message = PASSED, result.max_score, ""
        elif report.failed and call.when in ("setup", "call"):
            self._record_failure(result, call.excinfo.value if call.excinfo else None)

    @staticmethod
    def _record_failure(result: CheckResult, exc: BaseException | None) -> None:
        result.score = 0.0
        if isinstance(exc, checking.CheckFailed):
            result.status, result.message, result.hint = FAILED, exc.message, exc.hint
            result.details.update(exc.details)
        elif isinstance(exc, checking.CheckCouldNotRun):
            result.status, result.message, result.hint = ERROR, exc.message, exc.hint
        elif isinstance(exc, StudentCodeError):
            not_impl = getattr(exc, "not_implemented", False) or getattr(getattr(exc, "cause", None),
                                                                          "not_implemented", False)
            result.status = FAILED if not_impl else ERROR
            result.message = exc.student_message()
        else:
            result.status = ERROR
            result.message = (f"the check could not use what your code returned "
                              f"({type(exc).__name__}: {str(exc)[:300]}); compare your return value with the handout.")


@contextlib.contextmanager
def _no_plugin_autoload():
    """Plugins installed on the machine (hypothesis, randomly, ...) must not change grading."""
    import os

    old = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        yield
    finally:
        if old is None:
            del os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"]
        else:
            os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = old


def check_files(exercise: Exercise, visibility: str | None = None) -> list[Path]:
    names = {"public": ["test_public.py"], "hidden": ["test_hidden.py"]}.get(visibility or "",
                                                                             ["test_public.py", "test_hidden.py"])
    return [exercise.checks_dir / n for n in names if (exercise.checks_dir / n).exists()]


def run_checks(exercise: Exercise, process: StudentProcess, *, visibility: str | None = None,
               progress: Callable | None = None, started: Callable | None = None) -> list[CheckResult]:
    files = check_files(exercise, visibility)
    if not files:
        raise FileNotFoundError(f"no checks found for {exercise.name} in {exercise.checks_dir}")
    plugin = CheckPlugin(exercise, process, progress, started)
    args = [*map(str, files), "-c", str(CHECKS_ROOT / "pytest.ini"), "--rootdir", str(CHECKS_ROOT.parent.parent),
            "-q", "--capture=no", "-p", "no:cacheprovider", "-p", "no:randomly", "-W", "ignore", "--tb=no", "--assert=plain",
            "--no-header",
            # plugins that cost time per run and add nothing here (unraisableexception runs gc.collect 5 times)
            "-p", "no:unraisableexception", "-p", "no:threadexception", "-p", "no:faulthandler",
            "-p", "no:logging", "-p", "no:junitxml", "-p", "no:doctest", "-p", "no:pastebin", "-p", "no:nose",
            "-p", "no:stepwise", "-p", "no:warnings"]
    with contextlib.redirect_stdout(io.StringIO()) as out, _no_plugin_autoload():
        code = pytest.main(args, plugins=[plugin])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise RuntimeError(f"the checks of {exercise.name} could not run (pytest exit {int(code)}):\n"
                           f"{out.getvalue()[-2000:]}")
    return list(plugin.results.values())


def list_checks(exercise: Exercise, visibility: str | None = None) -> list[tuple[str, float, str, str]]:
    """(name, points, visibility, title) of every check, without running anything."""
    import importlib

    found = []
    for path in check_files(exercise, visibility):
        module = importlib.import_module(f"grader.checks.{exercise.name}.{path.stem}")
        for name, func in vars(module).items():
            meta = getattr(func, "grader_check", None)
            if name.startswith("test_") and meta:
                doc = (func.__doc__ or "").strip().splitlines()
                found.append((name.removeprefix("test_"), meta["points"], meta["visibility"], doc[0] if doc else ""))
    return found
