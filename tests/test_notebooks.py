"""Notebooks generated from the stubs: the same exercise, and a valid submission once filled in."""

import ast

import nbformat
import pytest

from conftest import assert_full_marks
from grader.catalog import EXERCISES
from grader.course.notebooks import build_notebook, check_cell_source, code_of, notebook_text, same_code, split_stub

WITH_STUB = [e for e in EXERCISES.values() if e.stub_path.exists()]
WITH_REFERENCE = [e for e in WITH_STUB if e.reference_path.exists()]
QUICK = [e for e in WITH_REFERENCE if e.check_timeout <= 10]
"""Exercises whose checks do not train on MNIST: graded in full here in a second or two each."""


def code_cells(notebook) -> list[str]:
    return [c.source for c in notebook.cells if c.cell_type == "code"]


@pytest.mark.parametrize("exercise", WITH_STUB, ids=lambda e: e.name)
def test_notebook_holds_exactly_the_stubs_code(exercise):
    """Does the notebook's code, run the way the grader runs it, define exactly what the stub does
    (apart from its last cell, which checks the work)?"""
    notebook = build_notebook(exercise)
    notebook.cells = notebook.cells[:-1]
    assert same_code(exercise.stub_path.read_text(), code_of(nbformat.writes(notebook).encode()))


@pytest.mark.parametrize("exercise", WITH_STUB, ids=lambda e: e.name)
def test_notebook_is_regenerated_identically(exercise):
    """Does generating the notebook twice give the same file (stable cell ids), so a rebuilt bundle
    only changes where a stub changed?"""
    assert notebook_text(exercise) == notebook_text(exercise)


@pytest.mark.parametrize("exercise", WITH_STUB, ids=lambda e: e.name)
def test_notebook_layout(exercise):
    """Handout first, one code cell per function or class, the check command last?"""
    notebook = build_notebook(exercise)
    nbformat.validate(notebook)
    docstring, chunks = split_stub(exercise.stub_path.read_text())
    definitions = [c.name for c in chunks if c.kind in ("function", "class")]
    stub_tree = ast.parse(exercise.stub_path.read_text())
    top_level = [n.name for n in stub_tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    assert definitions == top_level
    assert notebook.cells[0].cell_type == "markdown" and docstring.splitlines()[0].rstrip(".") in notebook.cells[0].source
    cells = code_cells(notebook)
    assert cells[-1] == check_cell_source(exercise) and f'grader.check("{exercise.name}")' in cells[-1]
    cells = cells[:-1]
    for name in top_level:
        defining = [c for c in cells if any(isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == name
                                            for n in ast.parse(c).body)]
        assert len(defining) == 1, f"{name} should have exactly one code cell"


def test_a_changed_stub_changes_the_notebook():
    """Does an edit to the stub show up in the notebook (nothing cached or hand-kept)?"""
    exercise = WITH_STUB[0]
    source = exercise.stub_path.read_text()
    edited = source.replace("raise NotImplementedError", "raise NotImplementedError  # edited", 1)
    assert "# edited" in "".join(code_cells(build_notebook(exercise, edited)))
    notebook = build_notebook(exercise)
    notebook.cells = notebook.cells[:-1]
    assert not same_code(source + "\n\nEXTRA = 1\n", code_of(nbformat.writes(notebook).encode()))


def filled_in(exercise) -> nbformat.NotebookNode:
    """The exercise's notebook with the reference pasted in, as a student would: each stub cell
    replaced by the reference's definition of that name, the reference's imports and helpers in
    a cell of their own after the setup cell."""
    notebook = build_notebook(exercise)
    reference = exercise.reference_path.read_text()
    tree = ast.parse(reference)
    definitions = {n.name: ast.get_source_segment(reference, n, padded=False) for n in tree.body
                   if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    stub_names = {c.name for c in split_stub(exercise.stub_path.read_text())[1] if c.name}
    helpers = "\n\n".join(ast.get_source_segment(reference, n) for n in tree.body
                          if not (isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name in stub_names)
                          and not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)))
    for cell in notebook.cells[:-1]:
        if cell.cell_type == "code":
            names = [n.name for n in ast.parse(cell.source).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
            if names:
                cell.source = "\n\n".join(definitions[n] for n in names)
    notebook.cells.insert(2, nbformat.v4.new_code_cell(helpers))
    return notebook


EXPLORATION = [
    "print('trying things out')\nx_demo = [1.0, 2.0, 3.0]\nprint(x_demo)",
    "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()",
    "!pip install matplotlib\n%matplotlib inline",
    "%timeit sum(range(10))\nresult = 1 + 1",
    "%%time\nfor i in range(3):\n    print(i)",
    "raise RuntimeError('an experiment that went wrong')",
    "len?",
]


@pytest.mark.parametrize("exercise", QUICK, ids=lambda e: e.name)
def test_filled_in_notebook_gets_full_marks(grade, tmp_path, exercise):
    """Does the notebook with the reference pasted in get every point, public and hidden?"""
    path = tmp_path / f"{exercise.name}.ipynb"
    nbformat.write(filled_in(exercise), path)
    assert_full_marks(grade(exercise.name, path))


@pytest.mark.parametrize("exercise", QUICK[:2], ids=lambda e: e.name)
def test_exploratory_cells_do_not_cost_points(grade, tmp_path, exercise):
    """Do prints, a matplotlib plot (not installed where the code runs), `!pip`, `%timeit`, `%%time`,
    `?` help and a cell that raises, between the solution's cells, leave full marks?"""
    notebook = filled_in(exercise)
    extra = [nbformat.v4.new_code_cell(source) for source in EXPLORATION]
    notebook.cells = notebook.cells[:3] + extra[:4] + notebook.cells[3:-1] + extra[4:] + notebook.cells[-1:]
    path = tmp_path / f"{exercise.name}.ipynb"
    nbformat.write(notebook, path)
    assert_full_marks(grade(exercise.name, path))
