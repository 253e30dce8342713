"""A check's title is the first line of its docstring (runner.py): this Babel extraction method
finds those titles for the message catalogs, besides the module's `_()` calls, so a title is
written once, as the docstring, and shown translated (`_(title)` in the runner).

tools/babel.cfg maps an exercise's check files to it:
    [extractors]
    check_titles = grader.checks.titles:extract
    [check_titles: grader/checks/exercise1/test_*.py]
"""

from __future__ import annotations

import ast
from typing import IO, Any, Iterator

CHECK_DECORATORS = ("public", "hidden")


def extract(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any) -> Iterator[tuple]:
    """Babel's Python extraction, then the title of every @public/@hidden check."""
    from babel.messages.extract import extract_python

    source = fileobj.read()
    fileobj.seek(0)
    yield from extract_python(fileobj, keywords, comment_tags, options)
    for line, title in check_titles(source.decode("utf-8")):
        yield line, None, title, []


def check_titles(source: str) -> list[tuple[int, str]]:
    """(line, title) of each function decorated with @public(...) or @hidden(...)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and any(_is_check_marker(d) for d in node.decorator_list):
            doc = (ast.get_docstring(node) or "").strip().splitlines()
            if doc:
                found.append((node.lineno, doc[0]))
    return found


def _is_check_marker(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(target, ast.Name) and target.id in CHECK_DECORATORS
