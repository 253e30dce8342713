"""A notebook in the students' course folder grades the student's own files, in a real kernel.

The bundle's packages stand in for `pip install dlcourse.zip` (its folder on PYTHONPATH, as
site-packages would be: `grader` and a copy of every stub as `exercises`); the student's
course folder is another copy, where exercise 1 is solved and exercise 3 imports it. The kernel
is started in the course folder's `notebooks/`, where nothing named `exercises` is found first."""

import ast
import json
import os
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from grader.catalog import PROJECT_ROOT, get_exercise
from grader.course.notebooks import build_notebook
from grader.course.release import build_release
from test_notebook_check import check_output, kernel_name, monkeypatch_module, run_in_kernel, score_of  # noqa: F401

EXERCISE1, EXERCISE3 = get_exercise("exercise1"), get_exercise("exercise3")


def exercise3_using_exercise1() -> str:
    """The reference of exercise 3 as a student writes it: softmax and cross_entropy_error imported
    from their own exercise 1, as the handout suggests, instead of defined again."""
    source = EXERCISE3.reference_path.read_text()
    tree = ast.parse(source)
    lines = source.splitlines()
    for node in reversed(tree.body):
        if isinstance(node, ast.FunctionDef) and node.name in ("softmax", "cross_entropy_error"):
            del lines[node.lineno - 1:node.end_lineno]
    code = "\n".join(lines) + "\n"
    own_exercise1 = "from exercises.exercise1.losses import cross_entropy_error, softmax\n"
    return code.replace("import numpy as np\n", f"import numpy as np\n\n{own_exercise1}", 1)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """(installed bundle folder, the student's course folder with exercise 1 solved and exercise 3
    written both as a file and as its notebook)."""
    out = tmp_path_factory.mktemp("release")
    installed = build_release(out, ["exercise1", "exercise3"], record_cases=False, verify=False,
                              archive=False).folder
    folder = tmp_path_factory.mktemp("student") / "dlcourse"
    shutil.copytree(installed, folder)
    shutil.copy(EXERCISE1.reference_path, folder / "exercises" / "exercise1" / "losses.py")
    code = exercise3_using_exercise1()
    (folder / "exercises" / "exercise3" / "two_layer_net.py").write_text(code)
    notebook = build_notebook(EXERCISE3, code)
    nbformat.write(notebook, folder / "notebooks" / "exercise3.ipynb")
    return installed, folder


def grade_in(folder, installed, *args) -> dict:
    """`grade exercise3 ARGS` run in `folder` with the bundle installed; its JSON result."""
    env = {**os.environ, "PYTHONPATH": str(installed)}
    done = subprocess.run([sys.executable, "-m", "grader.cli", "exercise3", *args, "--json", "result.json"],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]
    return json.loads((folder / "result.json").read_text())


def imported_from(cwd, module: str) -> str:
    """Where `module` is imported from by a Python started in `cwd`, with this project's `grader`
    and `exercises` (the stubs) importable as an installed bundle's would be."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run([sys.executable, "-c", f"import {module} as m; print(m.__file__)"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_exercises_are_the_course_folders_from_any_folder_inside_it(tmp_path):
    """From the course folder, its notebooks/ or deeper, is `exercises.exercise1.losses` the
    student's own file; outside any course folder, the installed stub; and does an exercise the
    course folder lacks still come from the installed copy?"""
    course = tmp_path / "dlcourse"
    own = course / "exercises" / "exercise1" / "losses.py"
    own.parent.mkdir(parents=True)
    (course / "exercises" / "__init__.py").write_text("")
    (own.parent / "__init__.py").write_text("")
    own.write_text("def softmax(x):\n    return x\n")
    (course / "notebooks" / "scratch").mkdir(parents=True)
    for where in (course, course / "notebooks", course / "notebooks" / "scratch"):
        assert imported_from(where, "exercises.exercise1.losses") == str(own)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert imported_from(elsewhere, "exercises.exercise1.losses") == str(EXERCISE1.stub_path)
    assert imported_from(course / "notebooks", "exercises.exercise2.gradients") == \
        str(get_exercise("exercise2").stub_path)


@pytest.mark.bundle
@pytest.mark.slow
def test_the_kernel_check_and_grade_agree_in_notebooks(course, kernel_name, monkeypatch):  # noqa: F811
    """With the kernel started in notebooks/, does `exercises.exercise1.losses` there resolve to
    the student's own file (not the installed stub), and do `grader.check("exercise3")`, `grade
    exercise3` and the command the notebook gives for its saved file (`grade exercise3
    --submission notebooks/exercise3.ipynb`) give the same score: every public point?"""
    installed, folder = course
    monkeypatch.setenv("PYTHONPATH", str(installed))  # the kernel's site-packages: the bundle
    notebook = nbformat.read(folder / "notebooks" / "exercise3.ipynb", as_version=4)
    notebook.cells.insert(-1, nbformat.v4.new_code_cell(
        "import exercises.exercise1.losses as losses, grader\nprint(losses.__file__)\nprint(grader.__file__)"))
    run_in_kernel(notebook, kernel_name, folder / "notebooks")
    printed = "".join(o.get("text", "") for o in notebook.cells[-2].outputs)
    own, imported_grader = printed.split()
    assert own == str(folder / "exercises" / "exercise1" / "losses.py")
    assert imported_grader.startswith(str(installed))
    kernel_score = score_of(check_output(notebook))

    from_file = grade_in(folder, installed)
    said = re.search(r"^    (grade .*)$", notebook.cells[-3].source, re.MULTILINE).group(1)  # what the notebook says
    assert said == "grade exercise3 --submission notebooks/exercise3.ipynb"
    from_notebook = grade_in(folder, installed, *said.split()[2:])
    assert kernel_score == (from_file["score"], from_file["max_score"]) == \
        (from_notebook["score"], from_notebook["max_score"])
    assert from_file["score"] == from_file["max_score"] > 0, [c["message"] for c in from_file["checks"]]
    assert [c["status"] for c in from_file["checks"]] == [c["status"] for c in from_notebook["checks"]]
    assert re.search(r"passed", check_output(notebook))
