"""The `grade` command as a user meets it: exit codes, one-line errors, the JSON of SPEC.md."""

import io
import json
import subprocess
import sys
import time

from grader.catalog import EXERCISES, get_exercise
from grader.report.terminal import RunningCheck
from grader.results import CheckResult

GRADE = [sys.executable, "-c", "from grader.cli import run; run()"]


def grade(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([*GRADE, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_list_names_every_exercise_with_points():
    """Does `grade list` show each exercise with its points and topic?"""
    run = grade("list")
    assert run.returncode == 0
    for name, exercise in EXERCISES.items():
        line = next(line for line in run.stdout.splitlines() if line.startswith(name))
        assert "pts" in line and exercise.topic[:20] in line


def test_unknown_exercise_is_one_line_and_exit_2():
    """Does an unknown exercise name exit 2 with one line that lists the valid names?"""
    run = grade("exercise9")
    assert run.returncode == 2
    assert len(run.stderr.strip().splitlines()) == 1
    assert "exercise9" in run.stderr and "exercise1" in run.stderr


def test_missing_submission_is_one_line_and_exit_2(tmp_path):
    """Does a missing path exit 2 with one line saying what to do, and no traceback?"""
    run = grade("exercise1", "--submission", str(tmp_path / "nope"))
    assert run.returncode == 2
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
    assert "does not exist" in run.stderr


def test_default_submission_is_the_students_own_folder(tmp_path):
    """Without --submission, is exercises/exerciseN/ in the current folder graded (exit 0 even at 0 points)?"""
    folder = tmp_path / "exercises" / "exercise1"
    folder.mkdir(parents=True)
    folder.joinpath("losses.py").write_text(get_exercise("exercise1").stub_path.read_text())
    run = grade("exercise1", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "Total: 0 / " in run.stdout and "not implemented yet" in run.stdout


def test_json_has_the_fields_spec_names(tmp_path):
    """Does --json write exercise, score, max_score and per-check name/score/max_score/passed/visibility/message?"""
    out = tmp_path / "r.json"
    run = grade("exercise1", "--submission", str(get_exercise("exercise1").reference_path.parent), "--json", str(out))
    assert run.returncode == 0, run.stderr
    data = json.loads(out.read_text())
    assert data["exercise"] == "exercise1" and data["score"] == data["max_score"] > 0
    for check in data["checks"]:
        assert {"name", "score", "max_score", "passed", "visibility", "message"} <= set(check)
        assert check["visibility"] in ("public", "hidden") and check["passed"] is True
    assert sum(c["score"] for c in data["checks"]) == data["score"]


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_running_check_line_shows_on_a_terminal_only():
    """Does a long check show a live 'seconds so far' line on a terminal, and nothing in a pipe?"""
    check = CheckResult(name="train", max_score=1, visibility="public", status="error", title="trains on MNIST")
    terminal, pipe = FakeTerminal(), io.StringIO()
    for stream in (terminal, pipe):
        line = RunningCheck(stream)
        line.DELAY = 0.0
        line.started(check)
        time.sleep(0.6)
        line.finished()
    assert "trains on MNIST" in terminal.getvalue() and terminal.getvalue().endswith("\r\x1b[K")
    assert pipe.getvalue() == ""
