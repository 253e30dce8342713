"""Definitions only: what the grader runs of a notebook's code cells.

A notebook mixes the definitions the checks call with experiments: training runs, plots, loops
over hyper-parameters. Run whole, those experiments cost the student's time budget, or hang
the import, before any check starts. So each top-level statement of each code cell is read
(parsed, never run, in the grader's process) and kept only if it defines something: an import,
a `def`, a `class`, or an assignment of a literal or of a simple expression of names already
kept (`EPS = 1e-7`, `LAYERS = (784, 50, 10)`, `dtype = np.float32`). An `if`/`try` is kept
when everything inside it would be (`try: import torch / except ImportError: torch = None`).
Every other statement is replaced by `pass` on the same lines, so tracebacks keep the
student's line numbers, and is listed for the student by cell and line.

An exercise whose checks need the notebook's top-level code to run sets
`Exercise.notebook_whole_cells`; its cells then run as they are.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass

SAFE_BUILTIN_CALLS = frozenset({"int", "float", "complex", "str", "bool", "bytes", "tuple", "list", "dict", "set",
                                "frozenset", "slice", "range", "abs", "round", "min", "max", "len"})
"""Built-ins an assignment may call on simple arguments (`EPS = float("1e-7")`): they return at once."""
SIMPLE_OPERATORS = (ast.Constant, ast.Name, ast.Attribute, ast.Subscript, ast.Slice, ast.Tuple, ast.List,
                    ast.Set, ast.Dict, ast.UnaryOp, ast.BinOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Starred,
                    ast.JoinedStr, ast.FormattedValue, ast.Call, ast.Lambda, ast.keyword, ast.arguments, ast.arg,
                    ast.Load, ast.Store, ast.operator, ast.unaryop, ast.boolop, ast.cmpop, ast.expr_context)
"""Expression nodes an assignment's value may be made of; anything else (a comprehension, a
`yield`, a walrus) is an experiment, not a definition."""
DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Pass,
               ast.Global, ast.Nonlocal)
MAX_SNIPPET = 60


@dataclass
class NotRun:
    """One statement of a notebook the grader did not run."""

    cell: int
    line: int
    what: str

    def note(self) -> str:
        return f"code cell {self.cell}, line {self.line}: {self.what}: not run by the grader"


class DefinitionFilter:
    """Keeps the definitions of a notebook's cells, one cell after another: a name assigned or
    defined in an earlier cell counts as known in the later ones."""

    def __init__(self):
        self.known: set[str] = set(dir(builtins))
        self.modules: set[str] = set()
        """Names bound by imports: calling through them (np.zeros, torch.device) is allowed."""
        self.not_run: list[NotRun] = []

    def cell(self, number: int, source: str) -> str:
        """The cell with every statement that is not a definition replaced by `pass`."""
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return source  # run as it is: the student sees the SyntaxError in the output
        lines = source.splitlines(keepends=True)
        skipped = []
        for statement in tree.body:
            if self._keeps(statement):
                self._learn(statement)
            else:
                skipped.append(statement)
                self.not_run.append(NotRun(number, statement.lineno, describe(statement, lines)))
        for statement in reversed(skipped):  # from the end, so earlier positions stay valid
            lines = _replace_with_pass(lines, statement)
        return "".join(lines)

    # -- what is kept ----------------------------------------------------------------------
    def _keeps(self, statement: ast.stmt) -> bool:
        if isinstance(statement, DEFINITIONS):
            return True
        if isinstance(statement, ast.Expr):
            return isinstance(statement.value, ast.Constant)  # a docstring or a bare literal
        if isinstance(statement, ast.Assign):
            return all(self._target(t) for t in statement.targets) and self._simple(statement.value)
        if isinstance(statement, ast.AugAssign):
            return isinstance(statement.target, ast.Name) and statement.target.id in self.known \
                and self._simple(statement.value)
        if isinstance(statement, ast.AnnAssign):
            return (self._target(statement.target) and self._simple(statement.annotation)
                    and (statement.value is None or self._simple(statement.value)))
        if isinstance(statement, ast.If):
            return self._simple(statement.test) and self._all_kept(statement.body + statement.orelse)
        if isinstance(statement, ast.Try):
            handlers = [h.type for h in statement.handlers if h.type is not None]
            inner = statement.body + statement.orelse + statement.finalbody
            inner += [s for h in statement.handlers for s in h.body]
            return all(self._simple(h) for h in handlers) and self._all_kept(inner)
        return False

    def _all_kept(self, statements: list[ast.stmt]) -> bool:
        """Each statement kept, names bound by one known to the next (undone if any is not)."""
        before = (set(self.known), set(self.modules))
        for statement in statements:
            if not self._keeps(statement):
                self.known, self.modules = before
                return False
            self._learn(statement)
        self.known, self.modules = before  # _learn on the whole statement records them for good
        return True

    def _target(self, target: ast.expr) -> bool:
        if isinstance(target, ast.Name):
            return True
        if isinstance(target, (ast.Tuple, ast.List)):
            return all(self._target(t) for t in target.elts)
        if isinstance(target, (ast.Attribute, ast.Subscript)):  # CONFIG["lr"] = 0.1 on a known CONFIG
            return self._simple(target)
        return isinstance(target, ast.Starred) and self._target(target.value)

    def _simple(self, expression: ast.expr) -> bool:
        """Literals and known names combined by operators, indexing and attributes; calls only
        through an imported module (np.float32(1e-7)) or of a quick built-in."""
        for node in ast.walk(expression):
            if not isinstance(node, SIMPLE_OPERATORS):
                return False
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in self.known:
                if not _inside_lambda(node, expression):
                    return False
            if isinstance(node, ast.Call) and not self._quick_call(node.func):
                return False
        return True

    def _quick_call(self, func: ast.expr) -> bool:
        if isinstance(func, ast.Name):
            return func.id in SAFE_BUILTIN_CALLS
        root = func
        while isinstance(root, ast.Attribute):
            root = root.value
        return isinstance(func, ast.Attribute) and isinstance(root, ast.Name) and root.id in self.modules

    # -- what a kept statement defines -----------------------------------------------------
    def _learn(self, statement: ast.stmt) -> None:
        """Record the names a kept statement binds at the module's top level."""
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            for alias in statement.names:
                name = alias.asname or alias.name.split(".")[0]
                self.known.add(name)
                self.modules.add(name)
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.known.add(statement.name)
        elif isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            self.known.update(node.id for t in targets for node in ast.walk(t)
                              if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store))
        elif isinstance(statement, (ast.If, ast.Try)):
            inner = statement.body + statement.orelse + getattr(statement, "finalbody", [])
            inner += [s for h in getattr(statement, "handlers", []) for s in h.body]
            for each in inner:
                self._learn(each)


def _inside_lambda(name: ast.Name, expression: ast.expr) -> bool:
    """A name in a lambda's body is looked up only when it is called, not when it is defined."""
    return any(isinstance(node, ast.Lambda) and any(n is name for n in ast.walk(node.body))
               for node in ast.walk(expression))


KINDS = {ast.For: "a `for` loop", ast.AsyncFor: "a `for` loop", ast.While: "a `while` loop",
         ast.With: "a `with` block", ast.AsyncWith: "a `with` block", ast.If: "an `if` block that runs code",
         ast.Try: "a `try` block that runs code", ast.Assert: "an `assert`", ast.Delete: "a `del`",
         ast.Raise: "a `raise`", ast.Return: "a `return`"}


def describe(statement: ast.stmt, lines: list[str]) -> str:
    """`a \\`for\\` loop (\\`for epoch in range(100):\\`)`: what the statement is, and its first line."""
    segment = ast.get_source_segment("".join(lines), statement) or ""
    first = segment.strip().splitlines()[0] if segment.strip() else ""
    snippet = first if len(first) <= MAX_SNIPPET else first[:MAX_SNIPPET - 1] + "…"
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        kind = "a call"
    elif isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        kind = "an assignment that runs code"
    else:
        kind = next((text for cls, text in KINDS.items() if isinstance(statement, cls)), "a statement")
    return f"{kind} (`{snippet}`)"


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


def definitions_only(cells: list[str]) -> tuple[list[str], list[NotRun]]:
    """The cells with only their definitions left, and what was left out."""
    keeper = DefinitionFilter()
    kept = [keeper.cell(number, source) for number, source in enumerate(cells, start=1)]
    return kept, keeper.not_run


def not_run_notes(not_run: list[NotRun]) -> list[str]:
    """For the result's output: what the grader ran of the notebook, then each statement it did not."""
    if not not_run:
        return []
    return [f"only the definitions in your notebook were run (imports, def, class, simple assignments); "
            f"{len(not_run)} other statement{'s' if len(not_run) != 1 else ''} {'were' if len(not_run) != 1 else 'was'} "
            f"left out, so experiments and training runs cost none of your time:",
            *(item.note() for item in not_run)]
