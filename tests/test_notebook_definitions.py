"""What the grader runs of a handed-in notebook: only what the graded definitions need.

The closure is read from the cells' code (grader/notebook_definitions.py); the graded tests hand
a notebook to the pipeline, as `grade exercise1 --submission notebook.ipynb` does."""

import nbformat
import pytest

from conftest import assert_full_marks
from grader.catalog import get_exercise
from grader.i18n import language, use_language
from grader.notebook_definitions import definitions_only, graded_names, not_run_notes
from grader.options import GradingOptions, Limits
from grader.report.terminal import render_check_once

EXERCISE = get_exercise("exercise1")
REFERENCE = EXERCISE.reference_path.read_text()
GRADED = graded_names(EXERCISE)


def notebook(*cells: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# My exercise 1"), *(nbformat.v4.new_code_cell(c) for c in cells)]
    return nbformat.writes(nb)


def run_cells(cells: list[str]) -> dict:
    namespace = {}
    for number, cell in enumerate(cells, start=1):
        exec(compile(cell, f"<cell {number}>", "exec"), namespace)
    return namespace


# -- the closure, read from the code --------------------------------------------------------------
def test_the_closure_keeps_the_helper_and_constant_a_graded_function_uses():
    """Does softmax keep its helper, the helper's constant and the import they use (in other
    cells), while an unused import, an unused constant, prints, a scratch array with the same name
    as softmax's parameter and a training loop are dropped and listed by cell and line?"""
    cells = ["import numpy as np\nimport matplotlib.pyplot as plt\nSHIFT = 0.0\nUNUSED = 3\n",
             "x = np.random.randn(20000, 20000)\nprint(x.shape)\n",
             "def _stable(x):\n    return x - np.max(x, axis=-1, keepdims=True) + SHIFT\n\n"
             "def softmax(x):\n    e = np.exp(_stable(x))\n    return e / e.sum(axis=-1, keepdims=True)\n",
             "for epoch in range(1000):\n    softmax(x)\nplt.plot([1, 2])\n",
             "import grader\n\ngrader.check(\"exercise1\")"]
    kept, not_run = definitions_only(cells, GRADED)
    assert [len(c.splitlines()) for c in kept] == [len(c.splitlines()) for c in cells]  # same line numbers
    namespace = run_cells(kept)
    assert namespace["softmax"](namespace["np"].zeros(2)).tolist() == [0.5, 0.5]
    assert "x" not in namespace and "UNUSED" not in namespace and "plt" not in namespace
    assert [(n.cell, n.line, n.code) for n in not_run] == [
        (1, 2, "import matplotlib.pyplot as plt"), (1, 4, "UNUSED = 3"),
        (2, 1, "x = np.random.randn(20000, 20000)"), (2, 2, "print(x.shape)"),
        (4, 1, "for epoch in range(1000):"), (4, 3, "plt.plot([1, 2])")]  # the check cell is not listed
    notes = not_run_notes(not_run)
    assert "6 other statements were not run" in notes[0]
    assert "code cell 2, line 1: `x = np.random.randn(20000, 20000)`" in notes


def test_a_name_changed_in_place_keeps_what_changes_it():
    """A list filled by `append`, a dict item set later, a method attached to a graded class
    after it and an optional import in try/except: all kept, since what the graded code finds
    depends on them; `np.random.seed` (a call through a module) is not?"""
    cells = ["try:\n    import numpy as np\nexcept ImportError:\n    np = None\nnp.random.seed(0)\n",
             "SIZES = []\nSIZES.append(2)\nCONFIG = {}\nCONFIG['eps'] = 1e-7\n",
             "class TwoLayerNet:\n    def size(self):\n        return int(np.int64(SIZES[0]))\n\n"
             "def eps(self):\n    return CONFIG['eps']\n\nTwoLayerNet.eps = eps\nnet = TwoLayerNet()\n"]
    cells.append("def grow():\n    SIZES.append(3)\n")  # changes SIZES only when called: not needed
    kept, not_run = definitions_only(cells, ["TwoLayerNet"])
    namespace = run_cells(kept)
    assert "grow" not in namespace
    net = namespace["TwoLayerNet"]()
    assert net.size() == 2 and net.eps() == 1e-7
    assert [(n.cell, n.code) for n in not_run] == [(1, "np.random.seed(0)"), (3, "net = TwoLayerNet()"),
                                                   (4, "def grow():")]


def test_a_star_import_is_kept_only_when_a_needed_name_comes_from_nowhere_else():
    """`from math import *` stays when softmax uses `exp`, which nothing else binds, and goes when
    every name softmax needs is bound by the cells themselves?"""
    uses_star = ["from math import *\n", "def softmax(x):\n    return exp(x)\n"]
    kept, not_run = definitions_only(uses_star, GRADED)
    assert run_cells(kept)["softmax"](0.0) == 1.0 and not not_run
    own = ["from math import *\n", "import numpy as np\n\ndef softmax(x):\n    return np.exp(x)\n"]
    _, not_run = definitions_only(own, GRADED)
    assert [n.code for n in not_run] == ["from math import *"]


def test_without_a_stub_every_function_and_class_is_graded():
    """An exercise whose stub cannot be read: are all top-level definitions (and what they need)
    kept, rather than nothing at all?"""
    cells = ["import math\nK = 2\n\ndef f(x):\n    return math.sqrt(x) * K\n\nprint(f(4))\n"]
    kept, not_run = definitions_only(cells, [])
    assert run_cells(kept)["f"](9) == 6.0 and [n.code for n in not_run] == ["print(f(4))"]


def test_a_cell_that_does_not_parse_is_run_as_it_is():
    """A cell with a SyntaxError is handed over unchanged (the student sees its error), and the
    other cells are still filtered?"""
    cells = ["def softmax(x:\n    return x\n", "print('hi')\n"]
    kept, not_run = definitions_only(cells, GRADED)
    assert kept[0] == cells[0] and kept[1].strip() == "pass" and [n.cell for n in not_run] == [2]


def test_the_notes_are_in_the_readers_language():
    """The list of what was not run: the same items in Korean, with the cell and line numbers?"""
    _, not_run = definitions_only(["print(1)\nprint(2)\n"], GRADED)
    with language("ko"):
        notes = not_run_notes(not_run)
    assert notes[0] != not_run_notes(not_run)[0] and "2" in notes[0]
    assert "`print(1)`" in notes[1] and "1" in notes[1]


# -- graded -----------------------------------------------------------------------------------------
def test_a_scratch_cell_cannot_zero_a_notebook(grade, tmp_path):
    """A correct notebook with a cell that would allocate 3 GB and one that trains forever: full
    marks, and the grader's notes list those cells (not the student's printed output)?"""
    path = tmp_path / "scratch.ipynb"
    path.write_text(notebook(REFERENCE, "X_big = np.random.randn(20000, 20000)\nprint(X_big.sum())",
                             "while True:\n    softmax(X_big)"))
    result = grade("exercise1", path)
    assert_full_marks(result)
    notes = "\n".join(result.notes)
    assert "code cell 2, line 1: `X_big = np.random.randn(20000, 20000)`" in notes
    assert "code cell 3, line 1: `while True:`" in notes and "X_big" not in result.output


def test_a_failing_kept_statement_is_reported_once_with_its_cell_and_line(grade, tmp_path):
    """A constant cross_entropy_error needs fails to load (a file that is not there): is that said
    once, in the notes, naming the code cell, the line and its code, while softmax's checks, in
    another cell, still pass?"""
    helpers = "import numpy as np\nOFFSET = float(open('offset.txt').read())\n"
    solution = REFERENCE.replace("+ 1e-7", "+ 1e-7 + OFFSET")
    assert solution != REFERENCE
    path = tmp_path / "failing.ipynb"
    path.write_text(notebook(helpers, solution))
    result = grade("exercise1", path)
    about = [n for n in result.notes if "FileNotFoundError" in n]
    assert len(about) == 1, result.notes
    assert about[0].startswith("code cell 1, line 2 (`OFFSET = float(open('offset.txt').read())`) raised "
                               "FileNotFoundError")
    assert not any("FileNotFoundError" in c.message for c in result.checks)
    softmax_checks = [c for c in result.checks if c.name.startswith("softmax")]
    assert softmax_checks and all(c.passed for c in softmax_checks)
    assert 0 < result.score < result.max_score


def test_a_slow_kept_statement_names_its_cell_with_notebook_advice(grade, tmp_path):
    """A constant softmax needs takes forever to compute: does every check say that loading the
    notebook took too long, name that statement's code cell and line, give advice for a notebook
    (not `if __name__ == "__main__":`), and does `grade` print it once?"""
    slow = "import time\nimport numpy as np\nSCALE = time.sleep(600) or 1.0\n"
    solution = REFERENCE.replace("def softmax(x):\n", "def softmax(x):\n    x = x * SCALE\n", 1)
    assert solution != REFERENCE
    path = tmp_path / "slow.ipynb"
    path.write_text(notebook(slow, solution))
    result = grade("exercise1", path, options=GradingOptions(limits=Limits.for_check_timeout(1)))
    assert result.score == 0
    messages = {c.message for c in result.checks}
    assert len(messages) == 1, messages
    message = messages.pop()
    assert message.startswith("loading your notebook took longer than 1 s")
    assert "code cell 1, line 3: `SCALE = time.sleep(600) or 1.0`" in message
    assert "In a notebook" in message and "__main__" not in message
    seen: set[str] = set()
    shown = " ".join(render_check_once(check, seen) for check in result.checks)  # as `grade` prints them
    assert " ".join(shown.split()).count("code cell 1, line 3") == 1


@pytest.mark.parametrize("code", ["en", "ko"])
def test_the_language_changes_words_not_verdicts(grade, tmp_path, code):
    """The scratch notebook graded in English and in Korean: the same statuses and score, the
    notes in the chosen language?"""
    path = tmp_path / "scratch.ipynb"
    path.write_text(notebook(REFERENCE, "print('exploring')"))
    try:
        english = grade("exercise1", path, options=GradingOptions(language="en"))
        chosen = grade("exercise1", path, options=GradingOptions(language=code))
    finally:
        use_language("en")  # grading set the process's language: back to the tests' English
    assert [(c.name, c.status, c.score) for c in chosen.checks] == [(c.name, c.status, c.score) for c in english.checks]
    assert chosen.score == english.score == english.max_score
    assert (chosen.notes == english.notes) is (code == "en")
