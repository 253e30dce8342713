"""A batch that says what it waits on (issue 20, point 3): a slow student is named while it runs
with the check it is in, the ETA counts the time it may still take, the end line names who could
not be graded and who handed in another exercise, and a notebook left beside a graded .py is
noted in the student's result."""

from __future__ import annotations

import copy
import io
import json
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.batch import run as batch
from grader.batch.progress import Progress, ProgressLine, Running, details
from grader.catalog import get_exercise
from grader.cli import main
from grader.options import GradingOptions, Limits

CASES = Path(__file__).resolve().parent / "cases" / "exercise1"
HANGING = "\n\ndef cross_entropy_error(y, t):\n    while True:\n        pass\n"


def test_eta_counts_a_student_slower_than_the_rest():
    """9 of 10 done at one a second, the last running for 20 s of a 60 s limit: the ETA is the
    40 s it may still take, not 0, and the line names the student and its check."""
    p = Progress(total=10, done=9, limit=60.0)
    p.started = time.monotonic() - 9.0
    p.running = [Running("hal", "cross_entropy_batch_labels", 20.0, 12.0)]
    assert 39 <= p.eta() <= 41
    text = details(p)
    assert "waiting on hal (cross_entropy_batch_labels: 12 s)" in text and "ETA 0:4" in text


def test_eta_of_a_running_student_below_the_mean_is_what_is_left_of_the_mean():
    p = Progress(total=4, done=2, limit=60.0)
    p.started = time.monotonic() - 20.0  # 10 s a student so far
    p.running = [Running("ana", "softmax_vector", 4.0, 1.0), Running("bo", "", 1.0)]
    assert 5.5 <= p.eta() <= 11, p.eta()
    assert "waiting on ana" in details(p) and "bo" not in details(p), "only students slower than 3 s are named"


def test_log_line_names_a_student_who_becomes_slow():
    stream = io.StringIO()
    line = ProgressLine(stream, label="exercise1")
    p = Progress(total=5, done=4, limit=30.0)
    line(p)
    p.running = [Running("hal", "softmax_vector", 5.0, 5.0)]
    line(p)
    line(p)  # the same slow student again: no new line in a log
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and "waiting on hal (softmax_vector: 5 s)" in lines[1]


@pytest.mark.slow
def test_a_hanging_student_is_named_while_it_runs(tmp_path):
    """In a real batch, does the progress report the hanging student with the check it hangs in?"""
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copytree(CASES / "ok_book_style", subs / "ana")
    (subs / "hal.py").write_text((CASES / "ok_book_style" / "losses.py").read_text() + HANGING)
    seen: list[Progress] = []
    options = GradingOptions(limits=Limits(check_timeout=1.0, submission_timeout=4.0))
    batch.run_batch(subs, "exercise1", tmp_path / "out", jobs=2, options=options,
                    progress=lambda p: seen.append(copy.deepcopy(p)))
    waits = [(r.student, r.check) for p in seen for r in p.running if r.seconds >= 1.0]
    assert ("hal", "cross_entropy_book_example") in waits or any(s == "hal" and "cross_entropy" in c for s, c in waits)
    assert all(s == "hal" for s, _ in waits)
    assert seen[-1].finished == 2 and not seen[-1].running


def test_end_line_names_who_could_not_be_graded_and_the_wrong_exercise(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copytree(CASES / "ok_book_style", subs / "ana")
    (subs / "empty").mkdir()
    (subs / "wrong.py").write_text(get_exercise("exercise2").reference_path.read_text())
    run = CliRunner().invoke(main, ["batch", str(subs), "--exercise", "exercise1", "--out", str(tmp_path / "out"),
                                    "--jobs", "1", "--check-timeout", "2"])
    assert run.exit_code == 0, run.output
    assert "1 could not be graded (empty)" in run.output
    assert "wrong: probably exercise2, not exercise1" in run.output


def test_many_not_graded_point_to_the_summary():
    from grader.cli import names

    assert names(["b", "a"], Path("OUT")) == "a, b"
    long = names([f"s{i}" for i in range(9)], Path("OUT"))
    assert long.startswith("s0, s1, s2, s3, s4, …") and "OUT/summary.html" in long


def test_notebook_beside_a_graded_py_is_noted(grade, tmp_path):
    folder = tmp_path / "ana"
    shutil.copytree(CASES / "ok_book_style", folder)
    (folder / "draft.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    result = grade("exercise1", folder)
    assert result.score == result.max_score
    assert any("draft.ipynb" in note and "not graded" in note for note in result.notes)
    assert not grade("exercise1", CASES / "ok_book_style").notes


def test_terminal_total_shows_the_notes():
    from click import unstyle

    from grader.report.terminal import render_total
    from grader.results import GradeResult

    result = GradeResult("exercise1", notes=["probably exercise2: this code defines exercise2's functions"])
    assert "Notes from the grader:\n  - probably exercise2" in unstyle(render_total(result))
    assert "Note:" not in unstyle(render_total(GradeResult("exercise1")))
