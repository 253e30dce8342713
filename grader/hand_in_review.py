"""What the grader notices about a hand-in as a whole, beside the checks' verdicts.

Two notes, each one sentence kept in `GradeResult.notes` (result.json, the terminal, both HTML
reports, the gradebook's status, the class summary):

- "probably exercise2": the code defines another exercise's functions and none of this one's
  (a student handed in the wrong file). The checks still run and score it as usual; the note
  tells the instructor why it scored what it did.
- an alternative that was not graded: a notebook beside the graded .py (or more .py files
  beside the notebook that was graded), so nobody wonders why the notebook's fixes did not count.

The code is read from the HandIn's bytes (`sources`), the same bytes that were graded; the
instructor's report shows them too (grader/report/code_view.py).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from functools import lru_cache

from grader.catalog import EXERCISES, Exercise
from grader.i18n import LANGUAGES, N_, _, translations
from grader.submission import HandIn

WRONG_EXERCISE_NOTE = N_("probably {other}: this code defines {other}'s functions and none of {exercise}'s "
                         "({names}); was the wrong file handed in?")
"""The wrong-exercise note, in the language of the grading; `wrong_exercise` reads the exercise
back from it in any language (the gradebook's flag is the same whichever one graded)."""


@dataclass
class Source:
    """One file of a hand-in as text: a .py file's lines, or a notebook's code cells."""

    name: str
    cells: list[str]
    """A .py file: one entry, the whole file; a notebook: its code cells in order."""
    notebook: bool = False


def sources(hand_in: HandIn | None) -> list[Source]:
    """The hand-in's .py files and notebooks as text (a zip is opened); [] when there is none."""
    if hand_in is None:
        return []
    files = dict(hand_in.files)
    if not hand_in.folder and hand_in.name.endswith(".zip"):
        from grader.submission import SubmissionError, _read_zip

        try:
            files = _read_zip(hand_in.name, files[hand_in.name])
        except (SubmissionError, KeyError):
            return []
    found = []
    for name in sorted(files):
        if name.endswith(".py"):
            found.append(Source(name, [files[name].decode("utf-8", "replace")]))
        elif name.endswith(".ipynb"):
            found.append(Source(name, notebook_code_cells(files[name]), notebook=True))
    return found


def notebook_code_cells(data: bytes) -> list[str]:
    """A notebook's code cells as text, read as plain JSON (no nbformat: a report must not cost
    seconds, and a damaged notebook just shows nothing)."""
    try:
        cells = json.loads(data.decode("utf-8", "replace")).get("cells", [])
    except (ValueError, AttributeError):
        return []
    texts = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            texts.append("".join(source) if isinstance(source, list) else str(source))
    return texts


def defined_names(code: str) -> set[str]:
    """Top-level functions and classes a piece of code defines ({} when it does not parse)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return set()
    return {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


@lru_cache(maxsize=None)
def handout_names(exercise_name: str) -> frozenset[str]:
    """The functions and classes an exercise's handout asks for (its stub's top-level names)."""
    path = EXERCISES[exercise_name].stub_path
    return frozenset(defined_names(path.read_text(encoding="utf-8"))) if path.is_file() else frozenset()


def guess_exercise(names: set[str], exercise: str) -> str:
    """The other exercise these names belong to, when they define none of `exercise`'s names and
    more of that one's than of any other; "" otherwise."""
    if not names or names & handout_names(exercise):
        return ""
    overlap = {other: len(names & handout_names(other)) for other in EXERCISES if other != exercise}
    best = max(overlap, key=lambda other: (overlap[other], other), default="")
    return best if best and overlap[best] else ""


def review_notes(hand_in: HandIn | None, exercise: Exercise, graded: str = "") -> list[str]:
    """The notes on a hand-in graded as `exercise`; `graded` is the path of the file or notebook
    that was graded (the submission's entry), "" when none could be picked."""
    found = sources(hand_in)
    notes = []
    names = set().union(*(defined_names("\n".join(s.cells)) for s in found)) if found else set()
    other = guess_exercise(names, exercise.name)
    if other:
        wanted = sorted(handout_names(exercise.name))
        mine = ", ".join(wanted[:4]) + (", …" if len(wanted) > 4 else "")
        notes.append(_(WRONG_EXERCISE_NOTE).format(other=other, exercise=exercise.name, names=mine))
    notebooks = [s.name for s in found if s.notebook]
    if graded.endswith(".py") and notebooks:  # a notebook is graded only when no .py is there
        notes.append(_("graded {graded}; the notebook {notebooks} beside it was not graded (one module or one "
                       "notebook is graded, and a .py comes first)").format(graded=graded,
                                                                           notebooks=", ".join(notebooks[:3])))
    return notes


def wrong_exercise(notes: list[str]) -> str:
    """The exercise a result's notes say it probably belongs to, or "" (a note in any language)."""
    for note in notes:
        for pattern in wrong_exercise_patterns():
            match = pattern.fullmatch(note)
            if match:
                return match.group("other")
    return ""


@lru_cache(maxsize=None)
def wrong_exercise_patterns() -> tuple[re.Pattern, ...]:
    """WRONG_EXERCISE_NOTE in each language as a pattern that captures {other}."""
    patterns = []
    for code in LANGUAGES:
        template = translations(code).gettext(WRONG_EXERCISE_NOTE)
        parts, seen = [], False
        for text, name in re.findall(r"([^{]*)(?:\{(\w+)\}|$)", template):
            parts.append(re.escape(text))
            if name == "other":
                parts.append("(?P=other)" if seen else r"(?P<other>\w+)")
                seen = True
            elif name:
                parts.append(".*?")
        patterns.append(re.compile("".join(parts), re.DOTALL))
    return tuple(patterns)


def shared_error(checks) -> str:
    """The one message every check failed with when none passed and all are errors (a module
    that does not import, a missing function everywhere): reported once, not once per check."""
    messages = {c.message for c in checks}
    if checks and len(messages) == 1 and all(c.status == "error" for c in checks):
        return messages.pop()
    return ""
