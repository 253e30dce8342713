"""The generated notebooks end with the in-kernel check, say how to grade the saved file, and
speak the reader's language (the `notebooks` catalog) with the same code in every language."""

import ast
import re

import pytest

from grader.catalog import EXERCISES
from grader.course.notebooks import build_notebook, check_cell_source, terminal_command
from grader.i18n import current_language, language

WITH_STUB = [e for e in EXERCISES.values() if e.stub_path.exists()]
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def markdown(notebook) -> list[str]:
    return [c.source for c in notebook.cells if c.cell_type == "markdown"]


def code(notebook) -> list[str]:
    return [c.source for c in notebook.cells if c.cell_type == "code"]


def without_docstrings(source: str) -> str:
    """The code as its syntax tree, docstrings left out: the stubs' instructions may be translated
    (grader/handouts.py), the code never is."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


@pytest.mark.parametrize("exercise", WITH_STUB, ids=lambda e: e.name)
def test_the_notebook_ends_with_the_check_and_names_the_terminal_command(exercise):
    """Is the last cell `grader.check("exerciseN")`, and does the markdown just before it give the
    command that grades the saved notebook from the course folder?"""
    notebook = build_notebook(exercise, language="en")
    assert notebook.cells[-1].cell_type == "code"
    assert notebook.cells[-1].source == f'import grader\n\ngrader.check("{exercise.name}")'
    before = notebook.cells[-2]
    assert before.cell_type == "markdown"
    assert f"    grade {exercise.name} --submission notebooks/{exercise.name}.ipynb" in before.source.splitlines()
    assert terminal_command(exercise) in before.source


@pytest.mark.parametrize("exercise", WITH_STUB, ids=lambda e: e.name)
def test_no_command_in_the_notebook_grades_the_py_file_instead(exercise):
    """The stub's handout says `grade exerciseN` (which grades exercises/exerciseN/): does every
    command the notebook's markdown gives grade the notebook itself?"""
    commands = [line.strip() for cell in markdown(build_notebook(exercise, language="en"))
                for line in cell.splitlines() if line.strip().startswith("grade ")]
    assert commands and set(commands) == {terminal_command(exercise)}


@pytest.mark.parametrize("exercise", WITH_STUB[:2], ids=lambda e: e.name)
def test_korean_notebooks_change_the_words_not_the_code(exercise):
    """In Korean, is the notebook's own markdown (how to work, checking) in Hangul, with the same
    command and the same code cells, the check cell asking for Korean results?"""
    english, korean = build_notebook(exercise, language="en"), build_notebook(exercise, language="ko")
    assert current_language() == "en"  # building in Korean leaves the caller's language as it was
    assert len(english.cells) == len(korean.cells)
    assert [without_docstrings(c) for c in code(english)[:-1]] == [without_docstrings(c) for c in code(korean)[:-1]]
    assert code(korean)[-1] == f'import grader\n\ngrader.check("{exercise.name}", language="ko")'
    for cell in (0, -1):  # the handout's "how to work" paragraph, and the checking cell
        assert HANGUL.search(markdown(korean)[cell]) and not HANGUL.search(markdown(english)[cell])
    assert terminal_command(exercise) in markdown(korean)[-1]
    assert f"exercises/{exercise.name}/{exercise.module}.py" in markdown(korean)[0]


def test_the_check_cell_follows_the_current_language():
    """check_cell_source (what the layout test compares with) gives the language argument only
    when the notebook is not in English?"""
    exercise = WITH_STUB[0]
    assert "language" not in check_cell_source(exercise)
    with language("ko"):
        assert check_cell_source(exercise).endswith(', language="ko")')
