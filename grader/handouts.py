"""The stubs' instructions in the reader's language.

A stub (exercises/exerciseN/<module>.py) is the first thing a student reads: its module,
class and function docstrings are the handout. The English stubs stay the source of truth
(the tests compare them with the reference's interface); their docstrings are the message
ids of the `handouts` catalog, and `localised_source` swaps each docstring for its
translation while every other byte of the file stays as it was, so the Korean stub is the
same code. A docstring with no translation yet stays in English.

    from grader.handouts import localised_source
    korean = localised_source(english, "ko")

The message id of a docstring is its text as `inspect.cleandoc` gives it (no indentation),
so re-indenting a stub never changes its ids; tools/catalogs.py extracts them with
`instructions`.
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass
from pathlib import Path

from grader import i18n


@dataclass(frozen=True)
class Docstring:
    """One docstring of a stub: where its literal is (1-based lines, byte columns, as `ast`
    gives them) and its text as a message id."""

    text: str
    raw: str
    line: int
    column: int
    end_line: int
    end_column: int


def docstrings(source: str) -> list[Docstring]:
    """The docstrings of the module and of every class and function in it, in file order."""
    tree = ast.parse(source)
    found = []
    for node in [tree, *ast.walk(tree)]:
        if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        first = node.body[0] if node.body else None
        if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)):
            literal = first.value
            found.append(Docstring(inspect.cleandoc(literal.value), literal.value, literal.lineno,
                                   literal.col_offset, literal.end_lineno, literal.end_col_offset))
    unique = {(d.line, d.column): d for d in found}  # the module is seen twice (tree and walk)
    return sorted(unique.values(), key=lambda d: (d.line, d.column))


def instructions(source: str) -> list[str]:
    """The message ids of a stub's instructions (its docstrings' texts), for the catalog."""
    return [d.text for d in docstrings(source) if d.text]


def localised_source(source: str, language: str | None = None) -> str:
    """`source` with every docstring in `language` (default: the current one); the code,
    comments and layout outside the docstrings are unchanged byte for byte."""
    language = i18n.normalise(language) or (i18n.current_language() if language is None else i18n.DEFAULT_LANGUAGE)
    if language == i18n.DEFAULT_LANGUAGE:
        return source
    catalog = i18n.translations(language)
    lines = source.encode("utf-8").splitlines(keepends=True)
    for doc in reversed(docstrings(source)):  # from the end, so earlier positions stay valid
        translated = catalog.gettext(doc.text) if doc.text else doc.text
        if translated == doc.text:
            continue
        start = sum(len(line) for line in lines[:doc.line - 1]) + doc.column
        end = sum(len(line) for line in lines[:doc.end_line - 1]) + doc.end_column
        text = b"".join(lines)
        literal = _literal(translated, doc).encode("utf-8")
        lines = (text[:start] + literal + text[end:]).splitlines(keepends=True)
    return b"".join(lines).decode("utf-8")


def _literal(translated: str, doc: Docstring) -> str:
    """A triple-quoted literal holding `translated` laid out as the original docstring was:
    continuation lines indented like the original's, the closing quotes where they were."""
    margin = _margin(doc.raw) or " " * doc.column
    body = [line if index == 0 or not line else margin + line
            for index, line in enumerate(translated.splitlines())]
    value = "\n".join(body)
    if doc.raw.startswith("\n"):
        value = "\n" + margin + value
    last = doc.raw.rsplit("\n", 1)
    if len(last) == 2 and not last[1].strip():
        value += "\n" + last[1]
    escaped = value.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    if escaped.endswith('"'):
        escaped = escaped[:-1] + '\\"'
    return f'"""{escaped}"""'


def _margin(raw: str) -> str:
    """The common indentation of a docstring's continuation lines (what cleandoc removes)."""
    indents = [len(line) - len(line.lstrip(" ")) for line in raw.splitlines()[1:] if line.strip()]
    return " " * min(indents) if indents else ""


def localise_file(path: Path, language: str | None = None) -> None:
    """Rewrite the stub at `path` in `language` (default: the current one); the release's use."""
    source = path.read_text(encoding="utf-8")
    localised = localised_source(source, language)
    if localised != source:
        path.write_text(localised, encoding="utf-8")
