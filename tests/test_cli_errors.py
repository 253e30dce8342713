"""Issue 21: what a student meets when something is off. Each mistake below is one line on
stderr and exit 2, never a traceback nor a page of zeros; `grade` finds the course folder from
any folder inside it; `grade list` and `--help` load neither torch nor nbformat; the bundle's
`grade --help` lists the student's commands only."""

import json
import re
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.catalog import EXERCISES, PROJECT_ROOT, find_course_folder, get_exercise, summarise_checks
from sandbox_fixtures import plainest_level

EXERCISE1 = get_exercise("exercise1")
INSTRUCTOR_COMMANDS = ("batch", "gradebook", "gradescope", "release", "check-course", "feedback", "similarity")


def grade(*args: str, cwd: Path, pythonpath: Path = PROJECT_ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    return subprocess.run([sys.executable, "-m", "grader.cli", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd, env=env)


def assert_one_line_exit_2(run: subprocess.CompletedProcess, *words: str) -> None:
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("grade: "), run.stderr
    assert "Total" not in run.stdout, run.stdout
    for word in words:
        assert word in lines[0], lines[0]


def test_a_folder_without_the_module_is_one_line(tmp_path):
    """A folder whose module has the wrong name (loss.py beside __init__.py): one line naming
    the file wanted and the files found, not every check at zero."""
    folder = tmp_path / "exercise1"
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "loss.py").write_text(EXERCISE1.reference_path.read_text())
    assert_one_line_exit_2(grade("exercise1", "--submission", str(folder), cwd=tmp_path), "losses.py", "loss.py")


def test_a_missing_file_is_one_line(tmp_path):
    assert_one_line_exit_2(grade("exercise1", "--submission", "losse.py", cwd=tmp_path), "losse.py")


@pytest.mark.parametrize("content", ["this is not json\n", json.dumps({"cells": "no", "metadata": 3})],
                         ids=["not-json", "json-not-nbformat"])
def test_a_notebook_that_is_not_a_notebook_is_one_line(tmp_path, content):
    notebook = tmp_path / "exercise1.ipynb"
    notebook.write_text(content)
    assert_one_line_exit_2(grade("exercise1", "--submission", str(notebook), cwd=tmp_path),
                           "exercise1.ipynb", "not a readable Jupyter notebook")


def test_html_to_a_folder_is_one_line_before_grading(tmp_path):
    run = grade("exercise1", "--submission", str(EXERCISE1.reference_path), "--html", str(tmp_path), cwd=tmp_path)
    assert_one_line_exit_2(run, "--html", "is a folder")


def test_json_under_a_file_is_one_line_before_grading(tmp_path):
    (tmp_path / "notes.txt").write_text("")
    run = grade("exercise1", "--submission", str(EXERCISE1.reference_path), "--json", "notes.txt/r.json",
                cwd=tmp_path)
    assert_one_line_exit_2(run, "--json", "not a folder")


def test_outside_a_course_folder_is_one_line(tmp_path):
    assert find_course_folder(tmp_path) is None
    assert_one_line_exit_2(grade("exercise1", cwd=tmp_path), "course folder", "--submission")


def course_folder(root: Path) -> Path:
    (root / "exercises" / "exercise1").mkdir(parents=True)
    (root / "exercises" / "exercise1" / "losses.py").write_text(EXERCISE1.stub_path.read_text())
    (root / "notebooks").mkdir()
    return root


@pytest.mark.parametrize("inside", ["notebooks", "exercises/exercise1", "."])
def test_the_course_folder_is_found_from_any_folder_inside_it(tmp_path, inside):
    """`grade exercise1` in notebooks/ or exercises/exercise1/ grades the course's exercises/exercise1/."""
    course = course_folder(tmp_path / "course")
    assert find_course_folder(course / inside) == course.resolve()
    run = grade("exercise1", "--isolation", plainest_level(), cwd=course / inside)
    assert run.returncode == 0, run.stderr
    assert str(course.resolve() / "exercises" / "exercise1") in run.stdout
    assert "Total: 0 / " in run.stdout and "not implemented yet" in run.stdout


def test_a_module_that_does_not_import_is_said_once_with_its_file_and_line(tmp_path):
    """A syntax error: its message, with file and line, is printed once; the other checks refer to it."""
    folder = tmp_path / "exercise1"
    folder.mkdir()
    (folder / "losses.py").write_text("import numpy as np\n\ndef softmax(x:\n    return x\n")
    run = grade("exercise1", "--isolation", plainest_level(), "--submission", str(folder), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("SyntaxError") == 1 and "losses.py, line 3" in run.stdout, run.stdout


PROBE = ("import sys\nsys.argv = ['grade', *sys.argv[1:]]\nfrom grader import cli\ntry:\n    cli.run()\n"
         "except SystemExit:\n    pass\nprint('HEAVY', sorted(m for m in ('torch', 'nbformat') if m in sys.modules))")


@pytest.mark.parametrize("command", [["list"], ["--help"], ["exercise7", "--help"]])
def test_list_and_help_import_neither_torch_nor_nbformat(tmp_path, command):
    run = subprocess.run([sys.executable, "-c", PROBE, *command], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    assert run.returncode == 0, run.stderr
    assert "HEAVY []" in run.stdout, run.stdout[-500:]


def test_list_counts_the_checks_the_runner_collects():
    """`grade list` reads the check files' source; the runner imports them: the same checks and points."""
    from grader.checks.runner import list_checks

    for exercise in EXERCISES.values():
        checks = list_checks(exercise)
        summary = summarise_checks(exercise)
        assert (summary.count, summary.points) == (len(checks), sum(c[1] for c in checks)), exercise.name


@pytest.mark.slow
@pytest.mark.bundle
def test_the_bundles_help_lists_the_students_commands_only(tmp_path):
    """In the students' bundle, `grade --help` lists `list` and the exercises and no instructor
    command, its exercise help names no document the bundle lacks, and its hints name no
    package that does not exist for a student."""
    from grader.course.release import build_release

    bundle = build_release(tmp_path, ["exercise1"], record=False, archive=False).folder
    helped = grade("--help", cwd=bundle, pythonpath=bundle)
    assert helped.returncode == 0, helped.stderr
    commands = helped.stdout.split("Commands:")[1].split()
    assert "list" in commands and "exercise1" in commands and "exercise2" not in commands  # not released
    assert not set(INSTRUCTOR_COMMANDS) & set(commands), helped.stdout
    exercise_help = grade("exercise1", "--help", cwd=bundle, pythonpath=bundle).stdout
    assert "docs/" not in exercise_help and "README.md" in exercise_help, exercise_help
    for path in (bundle / "grader").rglob("*.py"):
        assert "dlgrader[" not in path.read_text(encoding="utf-8"), path
    unknown = grade("exercise9", cwd=bundle, pythonpath=bundle)
    assert unknown.returncode == 2 and "batch" not in unknown.stderr, unknown.stderr


def test_the_same_errors_and_points_in_korean(tmp_path):
    """--lang ko changes the words only: the same exit status, one line, in Hangul; `grade list`
    the same points and checks; the help in Korean, with --lang given to the group or the command."""
    notebook = tmp_path / "exercise1.ipynb"
    notebook.write_text("not json")
    for args in (["exercise1", "--lang", "ko"], ["--lang", "ko", "exercise1"]):
        run = grade(*args, "--submission", str(notebook), cwd=tmp_path)
        assert_one_line_exit_2(run, "exercise1.ipynb", "Jupyter 노트북이 아닙니다")
    english = grade("list", cwd=tmp_path).stdout.splitlines()
    korean = grade("list", "--lang", "ko", cwd=tmp_path).stdout.splitlines()
    numbers = [re.findall(r"\d+(?:\.\d+)?", line) for line in english]
    assert numbers == [re.findall(r"\d+(?:\.\d+)?", line.split("검사")[0]) for line in korean], korean
    assert "오차제곱합" in korean[0] and "점" in korean[0]
    assert "과제를 채점합니다" in grade("exercise1", "--lang", "ko", "--help", cwd=tmp_path).stdout
