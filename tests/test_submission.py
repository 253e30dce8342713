"""Finding the submission: every form SPEC.md accepts grades the same; bad input says why."""

import json
import shutil
import zipfile

import nbformat
import pytest

from grader.catalog import get_exercise
from grader.submission import SubmissionError, load_submission

EXERCISE = get_exercise("exercise1")
REFERENCE = EXERCISE.reference_path


def notebook_of(source: str, extra_cells=()) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# My exercise 1"), *extra_cells,
                nbformat.v4.new_code_cell(source)]
    return nbformat.writes(nb)


@pytest.fixture
def forms(tmp_path):
    """The reference handed in in every accepted form."""
    source = REFERENCE.read_text()
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "losses.py").write_text(source)
    nested = tmp_path / "nested" / "exercise1"
    nested.mkdir(parents=True)
    (nested / "losses.py").write_text(source)
    single = tmp_path / "single" / "losses.py"
    single.parent.mkdir()
    single.write_text(source)
    notebook = tmp_path / "work.ipynb"
    notebook.write_text(notebook_of(source, [nbformat.v4.new_code_cell("%timeit 1 + 1\n!pip install nothing")]))
    archive = tmp_path / "submission.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(nested / "losses.py", "student/exercise1/losses.py")
    notebook_zip = tmp_path / "notebook.zip"
    with zipfile.ZipFile(notebook_zip, "w") as zf:
        zf.write(notebook, "work.ipynb")
    return {"folder": folder, "nested": tmp_path / "nested", "file": single, "notebook": notebook,
            "zip": archive, "zipped notebook": notebook_zip}


def test_every_form_grades_like_the_folder(grade, forms):
    """Do the module file, a nested exerciseN/ folder, a notebook and zips all score like the folder?"""
    scores = {name: grade("exercise1", path).score for name, path in forms.items()}
    full = grade("exercise1", REFERENCE.parent).max_score
    assert scores == {name: full for name in forms}, scores


def test_notebook_magics_are_skipped(forms):
    """Are IPython magics and shell escapes turned off instead of breaking the module?"""
    cells = load_submission(forms["notebook"], EXERCISE).entry["cells"]
    assert any("IPython-only line skipped" in c for c in cells)
    assert not any(line.lstrip().startswith(("%", "!")) for c in cells for line in c.splitlines())


def test_notebook_cell_that_raises_does_not_hide_the_others(grade, tmp_path):
    """Does a broken exploratory cell leave the definitions of the other cells in place?"""
    path = tmp_path / "nb.ipynb"
    path.write_text(notebook_of(REFERENCE.read_text(), [nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\n1/0")]))
    result = grade("exercise1", path)
    assert result.score == result.max_score, [c.message for c in result.checks if not c.passed]
    assert "code cell 1, line 1: `import matplotlib.pyplot as plt`" in result.notes  # not needed: not run
    assert "matplotlib" not in result.output  # a note of the grader's, not the student's output


@pytest.mark.parametrize("content, words", [
    (b"PK\x03\x04 this is not really a zip", "not a readable zip"),
    (b"", "not a readable zip"),
])
def test_corrupt_zip_is_a_clear_error(tmp_path, content, words):
    """Does a damaged zip give a one-line error that says what to do?"""
    path = tmp_path / "broken.zip"
    path.write_bytes(content)
    with pytest.raises(SubmissionError, match=words) as info:
        load_submission(path, EXERCISE)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("content", ["{not json", json.dumps({"cells": "nope"}), ""])
def test_corrupt_notebook_is_a_clear_error(tmp_path, content):
    """Does a damaged notebook give a one-line error naming the file?"""
    path = tmp_path / "broken.ipynb"
    path.write_text(content)
    with pytest.raises(SubmissionError, match="not a readable Jupyter notebook") as info:
        load_submission(path, EXERCISE)
    assert "\n" not in str(info.value)


def test_folder_without_the_module_names_what_it_found(tmp_path):
    """Does a folder missing losses.py say which file it looked for and what it found?"""
    (tmp_path / "notes.py").write_text("x = 1\n")
    (tmp_path / "other.py").write_text("y = 2\n")
    with pytest.raises(SubmissionError, match="could not find losses.py.*notes.py"):
        load_submission(tmp_path, EXERCISE)


def test_zip_cannot_write_outside_its_folder(tmp_path):
    """Are absolute paths and '..' entries of a zip ignored instead of unpacked?"""
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("../../escape.py", "print('x')")
        zf.writestr("exercise1/losses.py", REFERENCE.read_text())
    submission = load_submission(path, EXERCISE)
    assert set(submission.files) == {"losses.py"}


def test_ungradable_submission_still_lists_every_check(grade, tmp_path):
    """Does a submission that cannot be read get every check at zero with the reason?"""
    (tmp_path / "readme.txt").write_text("nothing here")
    result = grade("exercise1", tmp_path)
    assert result.score == 0 and result.max_score > 0 and result.error
    assert all(c.message == result.error for c in result.checks)


def test_content_hash_changes_with_the_code(tmp_path):
    """Does the hash used to skip unchanged students change when the code changes?"""
    folder = tmp_path / "s"
    shutil.copytree(REFERENCE.parent, folder)
    before = load_submission(folder, EXERCISE).content_hash
    (folder / "losses.py").write_text(REFERENCE.read_text() + "\n# edited\n")
    assert load_submission(folder, EXERCISE).content_hash != before


EXPERIMENT_CELLS = [
    "import time\nfor _ in range(10**9):\n    pass\n",
    "LEARNING_RATE = 0.1\nSHAPE = (LEARNING_RATE, 3)\ntime.sleep(60)\nhistory = run_experiment(SHAPE)\n",
]


def test_notebook_experiments_are_not_run_and_are_listed(grade, tmp_path):
    """A notebook with correct exercise-1 definitions and cells running a billion-step loop and
    a one-minute sleep: full marks within the check timeouts, and the grader's notes name each
    statement that was not run by its code cell and line?"""
    path = tmp_path / "experiments.ipynb"
    path.write_text(notebook_of(REFERENCE.read_text(), [nbformat.v4.new_code_cell(c) for c in EXPERIMENT_CELLS]))
    result = grade("exercise1", path)
    assert result.score == result.max_score, [c.message for c in result.checks if not c.passed]
    notes = "\n".join(result.notes)  # the grader's notes, never mixed into what the student's code printed
    assert "code cell 1, line 2: `for _ in range(10**9):`" in notes
    assert "code cell 2, line 3: `time.sleep(60)`" in notes
    assert "code cell 2, line 4: `history = run_experiment(SHAPE)`" in notes
    assert "6 other statements were not run" in notes and "not run" not in result.output


def test_an_exercise_can_run_whole_cells(tmp_path):
    """With the catalog's notebook_whole_cells flag, does every cell run as written, with no note?"""
    import dataclasses

    path = tmp_path / "whole.ipynb"
    path.write_text(notebook_of(REFERENCE.read_text(), [nbformat.v4.new_code_cell(EXPERIMENT_CELLS[1])]))
    whole = load_submission(path, dataclasses.replace(EXERCISE, notebook_whole_cells=True))
    assert EXPERIMENT_CELLS[1] in whole.entry["cells"] and whole.notes == []
    filtered = load_submission(path, EXERCISE)
    assert EXPERIMENT_CELLS[1] not in filtered.entry["cells"] and len(filtered.notes) == 1 + 4  # a header, 4 lines
