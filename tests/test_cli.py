"""The `grade` command as a user meets it: exit codes, one-line errors, the JSON of SPEC.md."""

import io
import itertools
import json
import subprocess
import sys
import threading

import click

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


class Clock:
    """A clock that reads `readings` in turn, then stays at the last one; `read_times` is set
    once it has been read `times` times (the line reads it once per tick)."""

    def __init__(self, *readings: float, times: int = 4):
        self.readings = itertools.chain(readings, itertools.repeat(readings[-1]))
        self.reads, self.times = 0, times
        self.read_times = threading.Event()

    def __call__(self) -> float:
        self.reads += 1
        if self.reads >= self.times:
            self.read_times.set()
        return next(self.readings)


TRAINING = CheckResult(name="train", max_score=1, visibility="public", status="error", title="trains on MNIST")


def test_running_check_line_counts_seconds_on_a_terminal_then_clears_itself():
    """While a long check runs, does a terminal show its title and the seconds so far, and is
    the line erased once it finishes, so the check's result prints on a clean line?"""
    terminal = FakeTerminal()
    line = RunningCheck(terminal, clock=Clock(100.0, 103.2), tick=0.01)
    line.started(TRAINING)
    assert line.shown.wait(timeout=30), "the line was never drawn"
    line.finished()
    drawn = terminal.getvalue()
    assert drawn.startswith("\r\x1b[K  …   3.2 s  trains on MNIST")
    assert drawn.endswith("\r\x1b[K")


def test_running_check_line_waits_for_a_long_check():
    """Does a check that has run for less than a second leave the terminal untouched?"""
    terminal = FakeTerminal()
    clock = Clock(100.0, 100.5)
    line = RunningCheck(terminal, clock=clock, tick=0.01)
    line.started(TRAINING)
    assert clock.read_times.wait(timeout=30), "the line's timer never ticked"
    line.finished()
    assert terminal.getvalue() == "" and not line.shown.is_set()


def test_running_check_line_is_silent_in_a_pipe():
    """When the output is a pipe or a file, is nothing drawn and no timer started?"""
    pipe = io.StringIO()
    line = RunningCheck(pipe, clock=Clock(100.0, 200.0), tick=0.01)
    line.started(TRAINING)
    assert line._thread is None
    line.finished()
    assert pipe.getvalue() == ""


def test_why_the_running_check_line_is_not_a_click_progress_bar():
    """click's progress bar redraws only when told of progress (it starts no timer), and when
    done it leaves its line on screen and starts a new one: the running-check line must redraw
    on its own and vanish."""
    terminal = FakeTerminal()
    threads = threading.active_count()
    with click.progressbar(length=1, label="trains on MNIST", file=terminal) as bar:
        assert threading.active_count() == threads
        bar.update(1)
    assert "trains on MNIST" in terminal.getvalue().split("\r")[-1] and terminal.getvalue().endswith("\n")


def run_in_process(argv: list[str], monkeypatch, capsys) -> tuple[int, str, str]:
    """`grade ARGV` in this process (so a test can break a check file); (exit status, stdout, stderr)."""
    from grader import cli

    monkeypatch.setattr(sys, "argv", ["grade", *argv])
    try:
        cli.run()
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_check_file_that_fails_to_import_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    """Does a check file that raises while it is imported give one line naming the file and line,
    blaming the grader, with exit 2 and no traceback, and grade no one?"""
    import grader.checks.exercise1 as package
    from grader.checks import runner

    broken = tmp_path / "test_hidden_broken.py"
    broken.write_text("import numpy as np\n\nTOLERANCE = np.float64(1) / undefined_name\n")
    real = runner.check_files
    monkeypatch.setattr(package, "__path__", [*package.__path__, str(tmp_path)])
    monkeypatch.setattr(runner, "check_files", lambda exercise, visibility=None: [*real(exercise, visibility), broken])
    monkeypatch.delitem(sys.modules, "grader.checks.exercise1.test_hidden_broken", raising=False)
    code, out, err = run_in_process(["exercise1", "--submission", str(get_exercise("exercise1").reference_path)],
                                    monkeypatch, capsys)
    assert code == 2 and "Traceback" not in err + out, err
    assert len(err.strip().splitlines()) == 1
    assert "test_hidden_broken.py, line 3" in err and "NameError" in err and "grader's fault" in err
    assert "Total" not in out


def test_a_mistyped_data_dir_is_one_line_and_never_created(tmp_path):
    """Does `grade exerciseN --data-dir TYPO` exit 2 with one line naming the folder, create
    nothing, and grade no one?"""
    typo = tmp_path / "mnsit"
    run = grade("exercise4", "--submission", str(get_exercise("exercise4").reference_path), "--data-dir", str(typo))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and str(typo) in run.stderr and "does not exist" in run.stderr
    assert not typo.exists() and "Total" not in run.stdout
