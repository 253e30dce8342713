"""`grader.check("exerciseN")` inside a notebook: what the kernel holds, graded with the public checks.

The kernel tests execute generated notebooks in a real IPython kernel (nbclient + ipykernel, the
`notebooks` extra), with a kernel spec written for this interpreter in a temporary folder."""

import os
import re
import subprocess
import sys

import nbformat
import pytest

from grader.catalog import get_exercise
from grader.course.notebooks import build_notebook
from grader.notebook_check import grade_namespace, kernel_module, render_table
from test_notebooks import filled_in

KERNEL_EXERCISES = ["exercise1", "exercise5"]
"""Quick exercises whose checks train nothing: a kernel run takes a few seconds each."""


def namespace_of(source: str) -> dict:
    """A plain session's globals after running `source` from a file, as `python file.py` would."""
    namespace = {"__name__": "__main__"}
    exec(compile(source, "<cells>", "exec"), namespace)
    return namespace


# -- without a kernel ---------------------------------------------------------------------------------
def test_a_missing_definition_is_named_for_the_checks_that_call_it(tmp_path):
    """With softmax defined in a file and the others not at all, do softmax's checks pass and the
    others say the name is not defined yet, with no traceback?"""
    cells = tmp_path / "cells.py"
    cells.write_text("import numpy as np\n\ndef softmax(x):\n    e = np.exp(x - np.max(x, axis=-1, keepdims=True))\n"
                     "    return e / np.sum(e, axis=-1, keepdims=True)\n")
    namespace = {"__name__": "__main__"}
    exec(compile(cells.read_text(), str(cells), "exec"), namespace)
    result = grade_namespace("exercise1", namespace)
    assert {c.visibility for c in result.checks} == {"public"}
    for check in result.checks:
        if check.name.startswith("softmax"):
            assert check.passed, check.message
        else:
            assert not check.passed and "is not defined in this notebook's kernel yet" in check.message
            assert "Traceback" not in check.message
    assert 0 < result.score < result.max_score


def test_kernel_module_keeps_imports_helpers_and_constants(tmp_path):
    """Does the module built from a namespace carry its imports (modules and names), literal
    constants and helper functions, and leave out objects it cannot rebuild?"""
    cells = tmp_path / "cells.py"
    cells.write_text("import numpy as np\nfrom math import sqrt\nEPS = 1e-7\nnet = object()\n\n"
                     "def _scale(x):\n    return x * sqrt(4.0) / 2\n\n"
                     "def softmax(x):\n    e = np.exp(_scale(x) - np.max(x, axis=-1, keepdims=True))\n"
                     "    return e / (np.sum(e, axis=-1, keepdims=True) + EPS * 0)\n")
    namespace = {"__name__": "__main__"}
    exec(compile(cells.read_text(), str(cells), "exec"), namespace)
    module = kernel_module(get_exercise("exercise1"), namespace)
    rebuilt = {"__name__": "rebuilt"}
    exec(module.source, rebuilt)
    assert rebuilt["softmax"](rebuilt["np"].array([0.0, 0.0])).tolist() == [0.5, 0.5]
    assert rebuilt["EPS"] == 1e-7 and "net" not in rebuilt
    assert set(module.not_found) == {"sum_squares_error", "cross_entropy_error"}


def test_table_shows_marks_points_titles_and_messages(tmp_path):
    """Does the HTML table have one row per check with its mark, points, title and message, and
    escape what a student's code returned?"""
    from grader.results import CheckResult, GradeResult

    result = GradeResult("exercise1", checks=[
        CheckResult("a", 1, "public", "passed", score=1, title="softmax sums to one"),
        CheckResult("b", 2, "public", "failed", title="cross entropy", message="got <b>nan</b>", hint="add 1e-7")])
    html = render_table(result)
    assert html.count('class="verdict"') == 2 and "✓" in html and "✗" in html
    assert "1/1" in html and "0/2" in html and "softmax sums to one" in html and "Hint: add 1e-7" in html
    assert "&lt;b&gt;nan&lt;/b&gt;" in html


# -- in a real kernel ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory, monkeypatch_module):
    """A Jupyter kernel spec for this interpreter in a temporary prefix, found through JUPYTER_PATH."""
    try:
        import nbclient  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            raise  # CI installs the extra: these tests must run there
        pytest.skip("needs the notebooks extra: pip install 'dlgrader[notebooks]'")
    prefix = tmp_path_factory.mktemp("jupyter")
    name = "dlgrader-test"
    done = subprocess.run([sys.executable, "-m", "ipykernel", "install", "--prefix", str(prefix), "--name", name],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    monkeypatch_module.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
    return name


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def run_in_kernel(notebook, kernel: str, folder) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    NotebookClient(notebook, kernel_name=kernel, timeout=300, resources={"metadata": {"path": str(folder)}}).execute()
    return notebook


def check_output(notebook) -> str:
    """The HTML the last cell (the check) displayed."""
    outputs = notebook.cells[-1].outputs
    html = [o["data"]["text/html"] for o in outputs if o.get("output_type") == "display_data"
            and "text/html" in o.get("data", {})]
    assert len(html) == 1, outputs
    return html[0]


def score_of(html: str) -> tuple[float, float]:
    found = re.search(r'data-score="([\d.]+)" data-max-score="([\d.]+)"', html)
    return float(found.group(1)), float(found.group(2))


@pytest.mark.slow
@pytest.mark.parametrize("name", KERNEL_EXERCISES)
def test_stub_notebook_checks_zero_in_a_kernel(kernel_name, tmp_path, name):
    """Run as handed out, does the notebook's check cell show 0 points, each check 'not implemented'?"""
    notebook = run_in_kernel(build_notebook(get_exercise(name)), kernel_name, tmp_path)
    html = check_output(notebook)
    score, max_score = score_of(html)
    assert score == 0 and max_score > 0
    rows = re.findall(r'<tr class="verdict".*?</tr>', html, re.S)
    assert rows and all("not implemented yet" in row for row in rows)


@pytest.mark.slow
@pytest.mark.parametrize("name", KERNEL_EXERCISES)
def test_filled_in_notebook_checks_full_marks_in_a_kernel(kernel_name, tmp_path, name):
    """With the reference pasted into its cells and run, unsaved, does the check cell show every
    public point, with no check failing?"""
    notebook = run_in_kernel(filled_in(get_exercise(name)), kernel_name, tmp_path)
    html = check_output(notebook)
    score, max_score = score_of(html)
    assert score == max_score > 0, html
    assert 'data-status="passed"' in html and 'data-status="failed"' not in html and 'data-status="error"' not in html
    assert not list(tmp_path.glob("*.ipynb"))  # nothing was saved: the kernel's definitions were graded


def test_an_error_every_check_shares_is_shown_once():
    """A module that does not load fails every check with the same message: does the kernel's
    display say it once (later checks point back to it), leaving the result itself unchanged?"""
    from grader.notebook_check import said_once
    from grader.results import CheckResult, GradeResult

    message = "loading your notebook took longer than 10 s, so no check could run."
    result = GradeResult("exercise1", checks=[CheckResult(name, 1, "public", "error", message=message)
                                              for name in ("a", "b", "c")])
    shown = said_once(result)
    assert [c.message for c in shown.checks] == [message, "(the same error as above)", "(the same error as above)"]
    assert [c.message for c in result.checks] == [message] * 3
    assert render_table(shown).count(message) == 1
