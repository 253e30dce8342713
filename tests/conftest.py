"""Shared fixtures: one warm sandbox per exercise for the whole test session, the reference graded
once per exercise, and helpers to compare a grading result with the verdict a case must get."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.catalog import get_exercise
from grader.pipeline import grade_submission
from grader.results import GradeResult
from grader.sandbox.launcher import Launcher

TESTS = Path(__file__).resolve().parent
CASES = TESTS / "cases"
CORPUS = TESTS / "corpus"


@pytest.fixture(scope="session")
def launchers():
    cache: dict[str, Launcher] = {}
    yield cache
    for launcher in cache.values():
        launcher.close()


@pytest.fixture
def grade(launchers):
    """grade(exercise, path, **options) -> GradeResult, reusing a warm sandbox per exercise."""

    def run(exercise: str, path, **options) -> GradeResult:
        return _grade_warm(launchers, exercise, path, **options)

    return run


@pytest.fixture(scope="session")
def graded(launchers):
    """graded(exercise, path, checks=None, **options) -> GradeResult, each submission graded once per
    session for the same options: the verdict tables and the exercises' own tests that read a
    case's result share one run. Callers must not change the result. `checks` (names) grades only
    those checks. Tests that must grade afresh (determinism, timing) use `grade`."""
    cache: dict[tuple, GradeResult] = {}

    def run(exercise: str, path, checks=None, **options) -> GradeResult:
        key = (exercise, str(Path(path).resolve()), frozenset(checks) if checks is not None else None,
               repr(sorted(options.items())))
        if key not in cache:
            cache[key] = _grade_warm(launchers, exercise, path, checks=checks, **options)
        return cache[key]

    return run


def _grade_warm(launchers: dict, exercise: str, path, **options) -> GradeResult:
    """Grade with the warm sandbox of `exercise` (started at first use), unless `isolation` is asked."""
    if "isolation" in options:
        return grade_submission(exercise, Path(path), **options)
    if exercise not in launchers:
        launcher = Launcher(get_exercise(exercise))
        launcher.start()
        launchers[exercise] = launcher
    return grade_submission(exercise, Path(path), launcher=launchers[exercise], **options)


@pytest.fixture
def grade_reference(graded):
    """grade_reference(exercise) -> the reference's GradeResult, graded once per session: the verdict
    test and an exercise's tests of its report read the same run (for exercises 4 and 7 a timed
    MNIST run; the caller sets MNIST_DATA_DIR as for any grading of those)."""

    def run(exercise: str) -> GradeResult:
        return graded(exercise, get_exercise(exercise).reference_path.parent)

    return run


def failed_checks(result: GradeResult) -> set[str]:
    return {c.name for c in result.checks if not c.passed}


def message_of(result: GradeResult, check: str) -> str:
    for c in result.checks:
        if c.name == check:
            return f"{c.message} {c.hint}"
    raise KeyError(f"no check named {check!r}; checks: {[c.name for c in result.checks]}")


def assert_full_marks(result: GradeResult) -> None:
    bad = {c.name: c.message for c in result.checks if not c.passed}
    assert not bad and result.score == result.max_score > 0, f"expected full marks, failed: {bad}"


def assert_caught(result: GradeResult, check: str, words: str = "") -> None:
    """The case loses points on `check`, and that check's message/hint mentions `words`."""
    assert result.score < result.max_score, "expected a score below full marks"
    assert check in failed_checks(result), f"{check} should fail; failed: {sorted(failed_checks(result))}"
    if words:
        text = message_of(result, check).lower()
        assert words.lower() in text, f"message of {check} lacks {words!r}: {text}"


def assert_stub_scores_zero(result: GradeResult) -> None:
    """The untouched handout: zero points, every check saying 'not implemented yet'."""
    assert result.score == 0 and result.max_score > 0
    assert all("not implemented yet" in c.message for c in result.checks), [c.message for c in result.checks]
