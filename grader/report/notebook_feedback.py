"""feedback.html: the student's own notebook, with each check's verdict beside the code it tests.

A student who handed in a notebook reads feedback best where they wrote the code. So the
notebook is rendered by nbconvert (the `notebooks` extra) and, after the code cell that defines
each function or class, a small block lists the checks about it (mark, points, title, message,
hint). Which function a check is about is read from the check's own result
(grader.course.notebooks.tested_names); a check about none, or about a name no cell defines,
goes at the end. Hidden checks appear as in the student's copy of the report: a count and
points, never their names or messages.

nbconvert's full templates ("lab", "classic") load require.js and MathJax from a CDN; this page
uses its "basic" template (the cells' HTML and nothing else) inside templates/notebook_feedback.html,
which carries the same Content-Security-Policy as the other reports (no script at all, images
only as data: URIs) and its own CSS, so it renders offline and from a file:// link. Formulas in
markdown cells stay as the student typed them ($...$), since MathJax would be a remote script.
"""

from __future__ import annotations

import ast
import io
import re
import secrets
import zipfile
from pathlib import Path, PurePath

from grader.i18n import _
from grader.results import GradeResult, shorten, write_atomic
from grader.submission import HandIn

FEEDBACK_FILE = "feedback.html"
"""Its name in a batch's OUT/<student>/ folder, where the folder names the student."""
INSTALL_HINT = "pip install 'dlgrader[notebooks]'"


class NotebooksExtraMissing(RuntimeError):
    """nbconvert is not installed: the one line says how to install it."""


def feedback_file_name(exercise: str, hand_in: HandIn) -> str:
    """The name `grade exerciseN --html` gives the notebook's feedback page beside the report:
    after the exercise and the notebook (feedback-exercise3-two_layer_net.html), so grading
    another notebook, or another exercise, never overwrites it with a page of another result."""
    notebooks = [n for n in hand_in.files if n.endswith(".ipynb") and ".ipynb_checkpoints" not in n]
    source = notebooks[0] if hand_in.folder and len(notebooks) == 1 else hand_in.name
    stem = re.sub(r"[^\w.-]+", "_", PurePath(source).name.rsplit(".", 1)[0]).strip("._") or "submission"
    return f"feedback-{exercise}-{stem}.html"


def notebook_in(hand_in: HandIn) -> bytes | None:
    """The notebook a hand-in is, or holds as its only notebook (with no .py module); else None.
    Read from the bytes grading read, never from the disk again."""
    names = [n for n in hand_in.files if ".ipynb_checkpoints" not in n and "__MACOSX" not in n]
    if not hand_in.folder and hand_in.name.endswith(".zip"):
        try:
            with zipfile.ZipFile(io.BytesIO(hand_in.files[hand_in.name])) as archive:
                inside = [n for n in archive.namelist() if ".ipynb_checkpoints" not in n and "__MACOSX" not in n]
                notebooks = [n for n in inside if n.endswith(".ipynb")]
                if len(notebooks) == 1 and not any(n.endswith(".py") for n in inside):
                    return archive.read(notebooks[0])
        except (zipfile.BadZipFile, OSError, KeyError):
            return None
        return None
    notebooks = [n for n in names if n.endswith(".ipynb")]
    if len(notebooks) == 1 and not any(n.endswith(".py") for n in names):
        return hand_in.files[notebooks[0]]
    return None


def write_notebook_feedback(result: GradeResult, hand_in: HandIn, path: Path) -> bool:
    """Write feedback.html for a notebook hand-in; False (nothing written) for other forms."""
    data = notebook_in(hand_in)
    if data is None:
        return False
    write_atomic(Path(path), render_notebook_feedback(result, data))
    return True


def render_notebook_feedback(result: GradeResult, notebook_bytes: bytes) -> str:
    import nbformat

    from grader.report import made_at
    from grader.report.html import environment, feedback_notice

    notebook = nbformat.reads(notebook_bytes.decode("utf-8"), as_version=4)
    notebook.cells = [cell for cell in notebook.cells if cell.cell_type != "raw"]  # no raw HTML of theirs
    placed, unplaced = place_checks(result, notebook)
    # nbconvert sanitises raw HTML cells (styles, captions, data- attributes go), so each block is a
    # token in a raw cell, replaced by the block after export; the nonce keeps a student's text from
    # posing as a token.
    nonce = secrets.token_hex(8)
    for index in sorted(placed, reverse=True):
        notebook.cells.insert(index + 1, nbformat.v4.new_raw_cell(f"grader-verdicts-{nonce}-{index}",
                                                                  metadata={"raw_mimetype": "text/html"}))
    cells_html = _export(notebook)
    block = environment().get_template("verdicts.html").module
    for index, checks in placed.items():
        cells_html = cells_html.replace(f"grader-verdicts-{nonce}-{index}",
                                        str(block.verdict_table(checks, caption=_("Checks of the code above"))))
    hidden = [c for c in result.checks if c.visibility != "public"]
    return environment().get_template("notebook_feedback.html").render(
        result=result, cells_html=cells_html, unplaced=unplaced, pygments_css=_pygments_css(),
        hidden={"count": len(hidden), "score": sum(c.score for c in hidden), "max_score": sum(c.max_score for c in hidden)},
        feedback_only=feedback_notice(result.isolation), made=made_at())


def place_checks(result: GradeResult, notebook) -> tuple[dict[int, list], list]:
    """({index of a code cell: the public checks about what it defines}, the checks placed nowhere)."""
    from grader.catalog import EXERCISES
    from grader.course.notebooks import stub_names, tested_names

    exercise = EXERCISES.get(result.exercise)
    names = stub_names(exercise) if exercise else []
    defining = defining_cells(notebook)
    placed: dict[int, list] = {}
    unplaced = []
    for check in result.visible_checks("student"):
        cells = [defining[name] for name in tested_names(check, names) if name in defining]
        if cells:
            placed.setdefault(min(cells), []).append(check)
        else:
            unplaced.append(check)
    return placed, unplaced


def defining_cells(notebook) -> dict[str, int]:
    """name -> index of the last code cell with a top-level `def`/`class` of that name (the one a
    top-to-bottom run keeps)."""
    found = {}
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(_without_magics(cell.source))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found[node.name] = index
    return found


def _without_magics(source: str) -> str:
    if source.lstrip().startswith("%%"):
        return ""
    return "\n".join("pass" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _export(notebook) -> str:
    """The cells as HTML by nbconvert's "basic" template: no page, no script, no remote file.

    Not sanitize_html: in nbconvert 7 it escapes the markdown cells' own headings and paragraphs.
    HTML a student typed into markdown shows as they wrote it; the page's CSP stops any script."""
    try:
        from nbconvert import HTMLExporter
    except ImportError:
        raise NotebooksExtraMissing(_("feedback inside the notebook needs nbconvert: {install}")
                                    .format(install=INSTALL_HINT)) from None
    body, _resources = HTMLExporter(template_name="basic").from_notebook_node(notebook)
    return body


def _pygments_css() -> str:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter().get_style_defs(".highlight")


def write_feedback_quietly(result: GradeResult, hand_in: HandIn | None, path: Path) -> str:
    """write_notebook_feedback for callers that grade on regardless: "" on success or when the
    hand-in is no notebook, else the one line saying why feedback.html was not written."""
    if hand_in is None:
        return ""
    try:
        write_notebook_feedback(result, hand_in, path)
    except NotebooksExtraMissing as exc:
        return str(exc)
    except Exception as exc:  # nbformat raises many types for a broken file, which was already graded 0
        error = f"{type(exc).__name__}: {shorten(exc, 160)}"
        return _("{file} not written: {error}").format(file=Path(path).name, error=error)
    return ""
