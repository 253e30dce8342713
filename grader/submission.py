"""Find the submission: turn whatever a student handed in into the files of one module.

Accepted forms (SPEC.md): a folder holding the module file (directly, or in an
`exerciseN/` subfolder), the module file itself, a Jupyter notebook whose code cells define
the names, or a `.zip` of any of these.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.catalog import Exercise
from grader.notebook_definitions import definitions_only, graded_names, not_run_notes
from grader.results import shorten

MAX_FILES = 200
MAX_TOTAL_BYTES = 20 << 20
SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", ".git", "__MACOSX"}


class SubmissionError(ValueError):
    """The submission cannot be read; the message says what to hand in instead."""


@dataclass(frozen=True)
class HandIn:
    """A hand-in read once into bytes: everything grading and its reports read of it. A batch
    on a cluster ships this value to a worker; the notebook feedback page is drawn from it."""

    name: str
    """The entry's own name: a folder's, or a file's with its suffix."""
    folder: bool
    files: dict[str, bytes]
    """A file: {its name: its bytes}; a folder: its .py and .ipynb files by relative path, read up
    to one past the size limits (loading then refuses it)."""
    hash: str
    """content_hash: of these bytes and names, to skip an unchanged student in batch grading."""


@dataclass
class Submission:
    files: dict[str, bytes]
    """The student's files to stage beside the module (relative path -> content)."""
    entry: dict
    """How to load the module: {"kind": "file", "path": rel} or {"kind": "cells", "cells": [...]}."""
    origin: str
    content_hash: str = ""
    notes: list[str] = field(default_factory=list)
    hand_in: HandIn | None = None
    """The bytes this submission was loaded from."""


def read_hand_in(path: Path) -> HandIn:
    """Read a hand-in once: a file whole, a folder's .py and .ipynb files (nothing else is
    graded). SubmissionError when it does not exist; OSError when it cannot be read."""
    path = Path(path)
    if not path.exists():
        raise SubmissionError(f"no such file or folder: {path}")
    if path.is_dir():
        files = _read_folder(path)
    elif path.suffix in (".py", ".ipynb", ".zip"):
        files = {path.name: path.read_bytes()}
    else:
        files = {}  # not a form of hand-in: loading says what to hand in instead
    return HandIn(path.name, path.is_dir(), files, _digest(files))


def _digest(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name] + b"\0")
    return digest.hexdigest()[:16]


def content_hash(path: Path) -> str:
    """A hash of what grading reads of the submission, to skip unchanged students in batch grading."""
    return read_hand_in(path).hash


def load_submission(path: Path | HandIn, exercise: Exercise) -> Submission:
    """The module to grade, from a path or from a hand-in already read (bytes, no disk)."""
    hand_in = path if isinstance(path, HandIn) else read_hand_in(Path(path))
    name = hand_in.name
    if hand_in.folder:
        tree = hand_in.files
        if len(tree) > MAX_FILES or sum(map(len, tree.values())) > MAX_TOTAL_BYTES:
            raise SubmissionError(f"{name}: too many or too large files (limit {MAX_FILES} files, "
                                  f"{MAX_TOTAL_BYTES >> 20} MB of .py/.ipynb)")
    elif name.endswith(".zip"):
        tree = _read_zip(name, hand_in.files[name])
    elif name.endswith((".py", ".ipynb")):
        tree = dict(hand_in.files)
    else:
        raise SubmissionError(f"{name}: hand in a folder, {exercise.module}.py, a .ipynb notebook or a .zip")
    submission = _from_tree(tree, exercise, name)
    submission.content_hash = hand_in.hash
    submission.hand_in = hand_in
    return submission


def _read_folder(folder: Path) -> dict[str, bytes]:
    """The folder's .py and .ipynb files, read up to one past the size limits."""
    tree, total = {}, 0
    for item in sorted(folder.rglob("*")):
        rel = item.relative_to(folder)
        if not item.is_file() or SKIP_DIRS & set(rel.parts) or item.suffix not in (".py", ".ipynb"):
            continue
        tree[rel.as_posix()] = item.read_bytes()
        total += len(tree[rel.as_posix()])
        if len(tree) > MAX_FILES or total > MAX_TOTAL_BYTES:
            break
    return tree


def _read_zip(name: str, data: bytes) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(f"{name} is not a readable zip file ({exc}); zip the folder again") from None
    tree, total = {}, 0
    with archive:
        for info in archive.infolist():
            name = PurePosixPath(info.filename)
            if info.is_dir() or name.is_absolute() or ".." in name.parts or SKIP_DIRS & set(name.parts):
                continue
            if name.suffix not in (".py", ".ipynb"):
                continue
            total += info.file_size
            if len(tree) >= MAX_FILES or total > MAX_TOTAL_BYTES:
                raise SubmissionError(f"{name}: too many or too large files inside the zip")
            try:
                tree[str(name)] = archive.read(info)
            except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as exc:
                raise SubmissionError(f"{name} is damaged ({exc}); zip the folder again") from None
    return tree


def _from_tree(tree: dict[str, bytes], exercise: Exercise, origin: str) -> Submission:
    """Pick the module inside a tree of files and keep its folder's other files beside it."""
    target = f"{exercise.module}.py"
    candidates = [p for p in tree if PurePosixPath(p).name == target]
    preferred = [p for p in candidates if exercise.name in PurePosixPath(p).parts] or candidates
    if preferred:
        chosen = min(preferred, key=lambda p: len(PurePosixPath(p).parts))
        base = PurePosixPath(chosen).parent
        files = {str(PurePosixPath(p).relative_to(base)): data for p, data in tree.items()
                 if p.endswith(".py") and PurePosixPath(p).is_relative_to(base)}
        return Submission(files, {"kind": "file", "path": target}, origin)
    python_files = [p for p in tree if p.endswith(".py")]
    notebooks = [p for p in tree if p.endswith(".ipynb")]
    if len(notebooks) == 1 and not python_files or len(notebooks) == 1 and len(tree) == 1:
        cells = notebook_cells(tree[notebooks[0]], notebooks[0])
        notes = []
        if not exercise.notebook_whole_cells:
            cells, not_run = definitions_only(cells, graded_names(exercise))
            notes = not_run_notes(not_run)
        return Submission({}, {"kind": "cells", "cells": cells, "path": notebooks[0]}, origin, notes=notes)
    if len(tree) == 1 and python_files:
        name = python_files[0]
        return Submission({target: tree[name]}, {"kind": "file", "path": target}, origin,
                          notes=[f"graded {name} as {target}"])
    found = ", ".join(sorted(tree)[:5]) or "no .py or .ipynb files"
    raise SubmissionError(f"{origin}: could not find {target} (or a single notebook) for {exercise.name}; "
                          f"found {found}")


def notebook_cells(data: bytes, name: str) -> list[str]:
    """The code cells of a notebook, with IPython-only lines (magics, shell escapes) turned off."""
    import nbformat  # imported here: it costs seconds, and only notebooks need it

    try:
        notebook = nbformat.read(io.StringIO(data.decode("utf-8")), as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types for broken files
        raise SubmissionError(f"{name} is not a readable Jupyter notebook ({type(exc).__name__}: "
                              f"{shorten(exc, 120)}); save it again from Jupyter") from None
    return [CELL_MAGIC_SKIPPED if cell.source.lstrip().startswith("%%") else _plain_python(cell.source)
            for cell in notebook.cells if cell.cell_type == "code"]


CELL_MAGIC_SKIPPED = "pass  # IPython cell magic (%%) skipped by the grader\n"
"""Stands in for a cell the grader cannot run, so cells keep the numbers the student sees."""


def _plain_python(source: str) -> str:
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")) or stripped.endswith("?") and not stripped.startswith("#"):
            indent = line[: len(line) - len(stripped)]
            lines.append(f"{indent}pass  # IPython-only line skipped by the grader")
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"
