"""What the grader runs of a notebook: the statements the graded definitions need, nothing else.

A notebook mixes the functions and classes the checks call with experiments: a scratch cell
`X_big = np.random.randn(20000, 20000)`, prints, plots, training runs. Run whole, those cost
the student's time budget, or hang the import, before any check starts. So each top-level
statement of each code cell is read (parsed, never run, in the grader's process) and kept
only when the graded definitions need it, directly or through other kept statements:

- a statement that binds a graded name (the stub's functions and classes) is kept;
- a kept statement needs the global names it uses (a function's body counts: `symtable` tells
  a global from a local or a parameter), so any statement that binds one of them (an import,
  a constant, a helper function, a class) is kept too, and so on until nothing changes;
- a statement that changes a needed name in place (`LAYERS.append(50)`,
  `CONFIG["lr"] = 0.1`, `TwoLayerNet.gradient = gradient`) is kept as well, since what the
  name holds depends on it.

Every other statement is replaced by `pass` on the same lines, so tracebacks keep the
student's line numbers, and is listed for the student by code cell and line (the result's
notes). A cell that does not parse is run as it is: the student sees its SyntaxError.

An exercise whose checks need the notebook's top-level code to run sets
`Exercise.notebook_whole_cells`; its cells then run as they are.
"""

from __future__ import annotations

import ast
import builtins
import symtable
from dataclasses import dataclass, field

from grader.i18n import _, ngettext
from grader.sandbox.errors import ImportFailed, StudentCodeError, StudentCrashed, StudentTimeout

MAX_SNIPPET = 60
MAX_LISTED = 12
"""Statements listed by name in the notes; the rest are counted."""
DEFINITION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
GRADER_MODULE = "grader"
"""The in-kernel check's own cell (`import grader; grader.check(...)`): never run, never listed."""


@dataclass
class Statement:
    """One top-level statement of a code cell, as the closure sees it."""

    cell: int
    node: ast.stmt
    binds: set[str] = field(default_factory=set)
    """Names it assigns, defines or imports at the notebook's top level."""
    uses: set[str] = field(default_factory=set)
    """Global names it reads, including inside the functions and classes it defines."""
    changes: set[str] = field(default_factory=set)
    """Names whose value it changes in place (item or attribute assignment, a method call)."""
    always: bool = False
    """`from __future__ import ...`: must stay where it is."""
    star: bool = False
    """`from module import *`: may bind any name, so it is kept while a needed name is bound nowhere else."""


@dataclass
class NotRun:
    """One statement of a notebook the grader did not run."""

    cell: int
    line: int
    code: str

    def note(self) -> str:
        return _("code cell {cell}, line {line}: `{code}`").format(cell=self.cell, line=self.line, code=self.code)


# -- reading the cells ----------------------------------------------------------------------------
def read_statement(cell: int, node: ast.stmt) -> Statement:
    statement = Statement(cell, node)
    statement.always = isinstance(node, ast.ImportFrom) and node.module == "__future__"
    statement.star = isinstance(node, ast.ImportFrom) and any(alias.name == "*" for alias in node.names)
    try:
        table = symtable.symtable(ast.unparse(node), "<cell>", "exec")
    except (SyntaxError, ValueError, RecursionError):
        return statement
    for symbol in table.get_symbols():
        if symbol.is_assigned() or symbol.is_imported():
            statement.binds.add(symbol.get_name())
        if symbol.is_referenced():
            statement.uses.add(symbol.get_name())
    for child in table.get_children():
        statement.uses |= _globals_of(child)
    statement.changes = _changed_in_place(node)
    return statement


def _globals_of(table: symtable.SymbolTable) -> set[str]:
    """The module-level names a function or class body (and what it nests) reads or sets."""
    found = {s.get_name() for s in table.get_symbols()
             if s.is_global() and (s.is_referenced() or s.is_assigned())}
    for child in table.get_children():
        found |= _globals_of(child)
    return found


def _changed_in_place(node: ast.stmt) -> set[str]:
    """Roots of item or attribute targets (`CONFIG["lr"] = ...`, `Net.gradient = ...`, `del D[k]`)
    and of methods called as statements (`LAYERS.append(50)`), outside nested functions."""
    roots = set()
    for each in _top_scope(node):
        targets = []
        if isinstance(each, ast.Assign):
            targets = each.targets
        elif isinstance(each, (ast.AugAssign, ast.AnnAssign)):
            targets = [each.target]
        elif isinstance(each, ast.Delete):
            targets = each.targets
        elif isinstance(each, (ast.For, ast.AsyncFor)):
            targets = [each.target]
        elif isinstance(each, ast.Expr) and isinstance(each.value, ast.Call) \
                and isinstance(each.value.func, ast.Attribute):
            roots |= {r for r in (_root(each.value.func.value),) if r}
            continue
        for target in targets:
            for part in ast.walk(target):
                if isinstance(part, (ast.Attribute, ast.Subscript)) and isinstance(part.ctx, (ast.Store, ast.Del)):
                    root = _root(part)
                    if root:
                        roots.add(root)
    return roots


def _top_scope(node: ast.AST):
    """`node` and the nodes inside it that run when it runs: a class body does, a function's
    or a lambda's body does not."""
    yield node
    if isinstance(node, FUNCTIONS):
        return
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, FUNCTIONS):
            yield from _top_scope(child)


def _root(node: ast.expr) -> str:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else ""


# -- the closure ---------------------------------------------------------------------------------
def graded_names(exercise) -> list[str]:
    """The functions and classes the stub asks for: what the checks call. [] without a stub."""
    try:
        tree = ast.parse(exercise.stub_path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return []
    return [node.name for node in tree.body if isinstance(node, DEFINITION_NODES)]


def needed_statements(statements: list[Statement], graded: set[str]) -> set[int]:
    """Indexes of the statements the graded names need, directly or through other kept ones."""
    modules = {alias.asname or alias.name.split(".")[0] for s in statements for node in _top_scope(s.node)
               if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    bound = set(dir(builtins)).union(*(s.binds for s in statements))
    needed = set(graded)
    kept: set[int] = set()
    changed = True
    while changed:
        changed = False
        for index, statement in enumerate(statements):
            if index in kept:
                continue
            in_place = statement.changes - modules  # np.random.seed(0) does not change what `np` is
            from_star = statement.star and bool(needed - bound - set(graded))  # a helper from `import *`
            if statement.always or from_star or statement.binds & needed or in_place & needed:
                kept.add(index)
                needed |= statement.uses
                changed = True
    return kept


def definitions_only(cells: list[str], graded: list[str] | set[str]) -> tuple[list[str], list[NotRun]]:
    """The cells with only what the graded names need left (the rest `pass`), and what was left out."""
    parsed: list[ast.Module | None] = []
    for source in cells:
        try:
            parsed.append(ast.parse(source))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            parsed.append(None)  # run as it is: the student sees the SyntaxError
    statements = [read_statement(number, node) for number, tree in enumerate(parsed, start=1) if tree
                  for node in tree.body]
    if not graded:  # no stub to read the names from: every function and class is graded
        graded = {s.node.name for s in statements if isinstance(s.node, DEFINITION_NODES)}
    kept = needed_statements(statements, set(graded))
    dropped: dict[int, list[ast.stmt]] = {}
    for index, statement in enumerate(statements):
        if index not in kept:
            dropped.setdefault(statement.cell, []).append(statement.node)
    result, not_run = [], []
    for number, (source, tree) in enumerate(zip(cells, parsed), start=1):
        lines = source.splitlines(keepends=True)
        for node in dropped.get(number, []):
            if _worth_listing(node):
                not_run.append(NotRun(number, node.lineno, snippet(node, source)))
        for node in reversed(dropped.get(number, [])):  # from the end, so earlier positions stay valid
            lines = _replace_with_pass(lines, node)
        result.append("".join(lines) if tree else source)
    return result, not_run


def _worth_listing(node: ast.stmt) -> bool:
    """Not `pass` (the grader's own stand-ins), a docstring, or the check cell's grader lines."""
    if isinstance(node, ast.Pass) or isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return False
    if isinstance(node, ast.Import) and all(a.name.split(".")[0] == GRADER_MODULE for a in node.names):
        return False
    return not (isinstance(node, ast.Expr) and _root(node.value) == GRADER_MODULE)


def snippet(node: ast.stmt, source: str) -> str:
    """The statement's first line, shortened: `for epoch in range(100):`."""
    segment = ast.get_source_segment(source, node) or ""
    first = segment.strip().splitlines()[0] if segment.strip() else ""
    return first if len(first) <= MAX_SNIPPET else first[:MAX_SNIPPET - 1] + "…"


def _replace_with_pass(lines: list[str], statement: ast.stmt) -> list[str]:
    """The cell's lines with `statement` replaced by `pass` and as many blank lines as it spanned.
    Positions are in UTF-8 bytes (ast's col_offset); a top-level statement starts at column 0
    unless it follows another on the same line after `;`."""
    first, last = statement.lineno - 1, statement.end_lineno - 1
    start_line = lines[first].encode()
    end_line = lines[last].encode()
    head = start_line[:statement.col_offset].decode(errors="replace")
    tail = end_line[statement.end_col_offset:].decode(errors="replace")
    replaced = head + "pass" + "\n" * (last - first) + tail
    if not replaced.endswith("\n") and last + 1 < len(lines):
        replaced += "\n"
    return lines[:first] + [replaced] + lines[last + 1:]


def not_run_notes(not_run: list[NotRun]) -> list[str]:
    """For the result's notes: what the grader ran of the notebook, then each statement it did not."""
    if not not_run:
        return []
    count = len(not_run)
    header = ngettext("the grader ran only what your graded functions and classes need (the imports, constants "
                      "and helpers they use); {count} other statement was not run, so experiments cost none of "
                      "your time:",
                      "the grader ran only what your graded functions and classes need (the imports, constants "
                      "and helpers they use); {count} other statements were not run, so experiments cost none of "
                      "your time:", count).format(count=count)
    listed = [item.note() for item in not_run[:MAX_LISTED]]
    if count > MAX_LISTED:
        listed.append(_("… and {count} more").format(count=count - MAX_LISTED))
    return [header, *listed]


# -- when what was kept fails --------------------------------------------------------------------
def cell_note(note, cells: list[str]) -> str:
    """A note of the student's process on loading a notebook (child.load_student_module: a kept
    statement raised), in the reader's language, with the cell, the line and its code."""
    if not isinstance(note, dict):
        return str(note)
    cell, line = note.get("cell"), note.get("line")
    error, message = str(note.get("type", "Exception"))[:100], str(note.get("message", ""))[:300]
    code = _line_of(cells, cell, line)
    if isinstance(line, int):
        where = _("code cell {cell}, line {line} (`{code}`)").format(cell=cell, line=line, code=code) if code \
            else _("code cell {cell}, line {line}").format(cell=cell, line=line)
    else:
        where = _("code cell {cell}").format(cell=cell)
    return _("{where} raised {error}: {message}. The rest of that cell was not run (the other cells were), so "
             "what it defines after that line is missing; run the cell in your notebook to see the error.").format(
        where=where, error=error, message=message)


def _line_of(cells: list[str], cell, line) -> str:
    if not isinstance(cell, int) or not isinstance(line, int) or not 0 < cell <= len(cells):
        return ""
    lines = cells[cell - 1].splitlines()
    text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    return text if len(text) <= MAX_SNIPPET else text[:MAX_SNIPPET - 1] + "…"


def computing_statements(cells: list[str]) -> list[NotRun]:
    """The kept top-level statements that compute something when the notebook is loaded: all but
    imports, definitions and literal constants (what can make loading slow or run out of memory)."""
    found = []
    for number, source in enumerate(cells, start=1):
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in tree.body:
            if not _quick(node):
                found.append(NotRun(number, node.lineno, snippet(node, source)))
    return found


def _quick(node: ast.stmt) -> bool:
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.Pass, *DEFINITION_NODES)):
        return True
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return True
    if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
        try:
            ast.literal_eval(node.value)
            return True
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return False
    return False


def explain_loading(error, entry: dict):
    """`error` (an ImportFailed) as the student of a notebook should read it: loading the
    notebook timed out or crashed, which of the kept statements compute something (code cell and
    line), and what to do in a notebook. Any other submission's error is returned as it is."""
    cause = getattr(error, "cause", None)
    if entry.get("kind") != "cells" or not isinstance(cause, (StudentTimeout, StudentCrashed)) \
            or getattr(cause, "grader_fault", False):
        return error
    if isinstance(cause, StudentTimeout):
        what = _("loading your notebook took longer than {seconds} s, so no check could run.").format(
            seconds=f"{cause.seconds:g}")
    else:
        what = cause.student_message()
    places = computing_statements(entry.get("cells", []))
    if places:
        where = _("The grader ran only what your graded functions and classes need; of that, these statements "
                  "compute something when the notebook is loaded: {places}.").format(
            places="; ".join(p.note() for p in places[:MAX_LISTED]))
    else:
        where = _("It happened while the imports and definitions your graded code needs were run.")
    advice = _("In a notebook, keep such a statement quick (a small example rather than the full data), or "
               "compute the value inside the function that uses it. Cells your graded code does not use are "
               "never run by the grader, so your experiments can stay.")
    return NotebookLoadFailed(cause, " ".join((what, where, advice)))


class NotebookLoadFailed(ImportFailed):
    """A notebook that could not be loaded, explained for a notebook (explain_loading)."""

    def __init__(self, cause, message: str):
        self.cause = cause
        StudentCodeError.__init__(self, message)
