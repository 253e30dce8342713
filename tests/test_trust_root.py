"""A root grader never runs a student's code as root, and never silently.

On these machines the grader runs as root and Python lives in /root/.pyenv, which the sandbox's
unprivileged user cannot reach. There the `process` level cannot switch users and the `local`
level never does: both are refused with one line saying how to fix it, and `auto` picks a level
whose student code runs unprivileged. Each result records the user id the code ran as.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.catalog import get_exercise
from grader.options import GradingOptions
from grader.pipeline import grade_submission
from grader.results import GradeResult
from grader.sandbox.launcher import Launcher, SandboxUnavailable, bwrap_works, choose_isolation

EXERCISE = get_exercise("exercise1")
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="what a root grader does: run the tests as root")


def reporting_uid(folder: Path) -> Path:
    """The reference, printing the user id it runs as when imported."""
    folder.mkdir()
    (folder / "losses.py").write_text('import os\nprint("RUNS AS", os.getuid(), os.geteuid())\n'
                                      + EXERCISE.reference_path.read_text())
    return folder


def printed_uids(result: GradeResult) -> set[tuple[int, int]]:
    return {tuple(int(n) for n in line.split()[2:4]) for line in result.output.splitlines()
            if line.startswith("RUNS AS")}


def level_runs(level: str) -> bool:
    """Does this level start on this machine (else it was refused, which the other test checks)?"""
    try:
        with Launcher(EXERCISE, isolation=level):
            return True
    except SandboxUnavailable:
        return False


@pytest.mark.parametrize("level", ["auto", "bwrap", "process", "local"])
def test_student_code_never_runs_as_root_and_the_result_says_as_whom(level, tmp_path):
    """At each level that starts here, is the user id the student's code ran as recorded in the
    result, equal to what the code itself saw, and not 0?"""
    if level == "bwrap" and not bwrap_works():
        pytest.skip("bubblewrap is not usable on this machine")
    try:
        result = grade_submission("exercise1", reporting_uid(tmp_path / "student"),
                                  options=GradingOptions(isolation=level))
    except SandboxUnavailable as exc:
        assert "as root" in str(exc) and os.geteuid() == 0, exc
        pytest.skip(f"refused here: {exc}")
    assert result.score == result.max_score, result.output
    assert printed_uids(result) == {(result.student_uid, result.student_uid)}
    if os.geteuid() == 0:
        assert result.student_uid != 0
    assert GradeResult.from_json(result.to_json()).student_uid == result.student_uid


@ROOT_ONLY
@pytest.mark.parametrize("level", ["process", "local"])
def test_a_level_that_would_run_code_as_root_is_refused_with_how_to_fix_it(level):
    """As root, is `local` (which cannot switch users) refused, and `process` refused wherever
    the sandbox user cannot reach Python, each with one line naming the fix?"""
    if level == "process" and level_runs("process"):
        pytest.skip("the sandbox user reaches Python here, so the process level runs code unprivileged")
    with pytest.raises(SandboxUnavailable) as refused:
        with Launcher(EXERCISE, isolation=level):
            pass
    message = str(refused.value)
    assert "\n" not in message and "as root" in message
    assert ("ordinary user" in message) if level == "local" else ("outside root's home" in message)
    assert "bwrap" in message


@ROOT_ONLY
def test_auto_picks_a_level_that_runs_code_unprivileged_or_refuses():
    """Does `auto`, as root, pick a level whose student code runs unprivileged, never one that
    runs it as root?"""
    level = choose_isolation("auto")
    assert level != "local"
    try:
        with Launcher(EXERCISE, isolation="auto") as launcher:
            assert launcher.student_uid != 0 and launcher.isolation == level
    except SandboxUnavailable as exc:
        assert "as root" in str(exc)


def test_a_result_written_before_records_no_uid():
    """Does a result without the field read back as 'not recorded', not as root?"""
    old = GradeResult(exercise="exercise1").to_dict()
    del old["student_uid"]
    assert GradeResult.from_dict(old).student_uid is None
