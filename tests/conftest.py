"""Shared fixtures: one warm sandbox per exercise for the whole test session, and helpers to
grade a case folder and compare the verdict with what the case table expects."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.catalog import get_exercise
from grader.pipeline import grade_submission
from grader.results import GradeResult
from grader.sandbox.launcher import Launcher

TESTS = Path(__file__).resolve().parent
CASES = TESTS / "cases"


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
        if "isolation" in options:
            return grade_submission(exercise, Path(path), **options)
        if exercise not in launchers:
            launcher = Launcher(get_exercise(exercise))
            launcher.start()
            launchers[exercise] = launcher
        return grade_submission(exercise, Path(path), launcher=launchers[exercise], **options)

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


def assert_verdict(result: GradeResult, expected) -> None:
    """A verdict-table entry: None means full marks, else (check, words) that must fail."""
    if expected is None:
        assert_full_marks(result)
    else:
        assert_caught(result, *expected)


def case_folders(exercise: str) -> set[str]:
    """The case folders on disk for an exercise, to compare with its verdict table."""
    return {p.name for p in (CASES / exercise).iterdir() if p.is_dir()}
