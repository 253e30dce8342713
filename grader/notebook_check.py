"""`grader.check("exercise1")` inside a notebook: grade what the kernel has defined now.

A student working in Jupyter or Colab should not have to save the notebook and run a shell
command to see the public checks. So the check reads the kernel's own namespace (the caller's
globals: IPython's user namespace in a notebook, `__main__` in a plain session):

- the stub's functions and classes, and every other function or class the cells defined
  (helpers the solution calls), each by its source: the cell it came from (IPython keeps every
  cell's text in `linecache`, so the code object points at it), else the input history `In`;
- the modules and names the cells imported (`np`, `from math import sqrt`), as import lines;
- constants that are plain literals (`EPS = 1e-7`).

Those become one module file, `<module>.py` in a temporary folder, graded by the usual pipeline
with the public checks at the strongest isolation this machine has (`auto`: the `local` level
where the Linux sandbox cannot run). What the kernel holds is graded, not the saved file, so a
cell edited but not run is not seen: the result says so. A stub name the kernel lacks is
reported for the checks that call it as not defined yet, never as a traceback.

The result shows as an HTML table in a notebook and as the terminal report elsewhere, in the
language asked for (`language="ko"`, else the locale's), an error every check shares said once.
`exercises.*` in the kernel and in the sandbox are the student's own files of the course folder
the kernel runs in, from `notebooks/` too (grader/course_folder.py, exercises/__init__.py).
"""

from __future__ import annotations

import ast
import copy
import inspect
import linecache
import sys
import tempfile
import textwrap
import types
from dataclasses import dataclass, field
from pathlib import Path

from grader.catalog import Exercise, get_exercise
from grader.i18n import _
from grader.results import PASSED, GradeResult

KERNEL_NAMES = frozenset({"In", "Out", "exit", "quit", "get_ipython", "open", "display"})
"""Names IPython and ipykernel put in the user namespace: not the student's definitions."""
NOT_COPIED_MODULES = ("grader", "IPython", "ipykernel", "google.colab")
"""Modules a notebook imports to run this check or that only the kernel has: never re-imported."""
MAX_LITERAL_CHARS = 10_000


@dataclass
class KernelModule:
    """The kernel's definitions as the source of one module, and what could not be taken over."""

    source: str
    not_found: dict[str, str] = field(default_factory=dict)
    """Stub name -> why the module lacks it (never defined, or its source could not be read)."""


def check(exercise_name: str, *, namespace: dict | None = None, options=None, language: str | None = None) -> None:
    """Grade the definitions of this kernel (or `namespace`) with the public checks and show the result.

    In a Jupyter or Colab notebook the result is an HTML table in the cell's output; in a
    terminal IPython or a plain Python session, the same text report `grade exerciseN` prints.
    `language` ("en", "ko") as `grade --lang`; by default the locale's, else English."""
    from grader.i18n import choose_language
    from grader.options import GradingOptions

    if namespace is None:
        namespace = sys._getframe(1).f_globals  # the caller's: the notebook's user namespace
    if options is None:
        options = GradingOptions(language=choose_language(language))
    result = grade_namespace(exercise_name, namespace, options=options)
    show(result)


def grade_namespace(exercise_name: str, namespace: dict, *, options=None) -> GradeResult:
    """The public checks' result for the definitions in `namespace` (a GradeResult)."""
    from grader.options import GradingOptions
    from grader.pipeline import grade_submission

    exercise = get_exercise(exercise_name)
    module = kernel_module(exercise, namespace)
    with tempfile.TemporaryDirectory(prefix="grader-check-") as folder:
        path = Path(folder) / f"{exercise.module}.py"
        path.write_text(module.source, encoding="utf-8")
        result = grade_submission(exercise.name, path, options=options or GradingOptions(), visibility="public")
    explain_missing(result, exercise, module.not_found)
    return result


# -- reading the kernel ---------------------------------------------------------------------------
def kernel_module(exercise: Exercise, namespace: dict) -> KernelModule:
    """The module the kernel's definitions make: imports, then literal constants, then definitions."""
    from grader.course.notebooks import stub_names

    imports, constants, definitions = [], [], []
    not_found: dict[str, str] = {}
    history = _history(namespace)
    own_module = namespace.get("__name__", "__main__")
    for name, value in list(namespace.items()):
        if name in KERNEL_NAMES or name.startswith("__") or name == "_" or _is_history_name(name):
            continue
        if isinstance(value, types.ModuleType):
            imports.append(_guarded_import(_import_module_line(name, value)))
        elif isinstance(value, (types.FunctionType, type)) and getattr(value, "__module__", None) == own_module:
            source = definition_source(value, history)
            if source is None:
                not_found[name] = _("`{name}` is defined, but the grader could not read its source (it was defined "
                                    "outside a notebook cell or file); define it in a code cell and run that "
                                    "cell.").format(name=name)
                continue
            definitions.append(source if value.__name__ == name else f"{source}\n\n{name} = {value.__name__}")
        elif _importable_from(value) and not name.startswith("_"):
            imports.append(_guarded_import(f"from {value.__module__} import {value.__qualname__} as {name}"))
        elif _is_literal(value) and not name.startswith("_"):
            constants.append(f"{name} = {value!r}")
    for name in stub_names(exercise):
        if name not in namespace:
            not_found[name] = _("`{name}` is not defined in this notebook's kernel yet: run the cell that "
                                "defines it (or write it), then run the check again.").format(name=name)
    header = f'"""{exercise.name}: the definitions of a notebook\'s kernel, taken by grader.check."""'
    source = "\n\n".join(part for part in [header, *imports, *constants, *definitions] if part) + "\n"
    return KernelModule(source, not_found)


def definition_source(value, history: list[str]) -> str | None:
    """The source of a function or class: from the cell (or file) its code came from, else the
    newest cell of the input history that defines its name."""
    name = value.__name__
    for filename, line in _code_locations(value):
        found = _definition_in(("".join(linecache.getlines(filename))), name, line)
        if found:
            return found
    for cell in reversed(history):
        found = _definition_in(_without_magics(cell), name, None)
        if found:
            return found
    return None


def _code_locations(value) -> list[tuple[str, int]]:
    """(file, line) of the code a function or class was compiled from."""
    if isinstance(value, types.FunctionType):
        code = inspect.unwrap(value).__code__
        return [(code.co_filename, code.co_firstlineno)]
    found = []
    for member in vars(value).values():
        member = getattr(member, "__func__", None) or getattr(member, "fget", None) or member
        if isinstance(member, types.FunctionType):
            code = inspect.unwrap(member).__code__
            found.append((code.co_filename, code.co_firstlineno))
    return found


def _definition_in(text: str, name: str, line: int | None) -> str | None:
    """The `def`/`class` called `name` in `text` (with its decorators) that spans `line`, else
    the last one; None when there is none (or the text does not parse)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    lines = text.splitlines()
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            spans.append((first, node.end_lineno))
    if not spans:
        return None
    chosen = next((s for s in spans if line is not None and s[0] <= line <= s[1]), spans[-1])
    return textwrap.dedent("\n".join(lines[chosen[0] - 1:chosen[1]]))


def _history(namespace: dict) -> list[str]:
    cells = namespace.get("In")
    return [c for c in cells if isinstance(c, str)] if isinstance(cells, list) else []


def _is_history_name(name: str) -> bool:
    """IPython's `_i`, `_ii`, `_i7`, `_7`, `_oh`, `_ih`, `_dh`: the kernel's bookkeeping."""
    return name.startswith("_") and (name.lstrip("_i").isdigit() or name.lstrip("_") in ("", "i", "ii", "iii", "oh",
                                                                                         "ih", "dh", "sh"))


def _without_magics(cell: str) -> str:
    """A history cell as Python: `%` magics and `!` shell lines become `pass` (same lines)."""
    if cell.lstrip().startswith("%%"):
        return ""
    return "\n".join(line[: len(line) - len(line.lstrip())] + "pass" if line.lstrip().startswith(("%", "!"))
                     else line for line in cell.splitlines())


def _import_module_line(name: str, module: types.ModuleType) -> str:
    return f"import {module.__name__}" if name == module.__name__ else f"import {module.__name__} as {name}"


def _guarded_import(line: str) -> str:
    """An import the notebook made; one that fails where the checks run (a plotting library the
    sandbox lacks) must not cost the definitions that never use it."""
    module = line.split()[1]
    if module.startswith(NOT_COPIED_MODULES):
        return ""
    return f"try:\n    {line}\nexcept ImportError:\n    pass"


def _importable_from(value) -> bool:
    """A function or class imported from a module (`from math import sqrt`): `module.name` is it."""
    module_name, qualname = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
    if not isinstance(module_name, str) or not isinstance(qualname, str) or "." in qualname:
        return False
    if module_name in ("builtins", "__main__") or not callable(value):
        return False
    module = sys.modules.get(module_name)
    return module is not None and getattr(module, qualname, None) is value


def _is_literal(value) -> bool:
    if type(value) not in (int, float, complex, bool, str, bytes, tuple, type(None)):
        return False
    text = repr(value)
    try:
        return len(text) <= MAX_LITERAL_CHARS and ast.literal_eval(text) == value
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return False


# -- the result --------------------------------------------------------------------------------
def explain_missing(result: GradeResult, exercise: Exercise, not_found: dict[str, str]) -> None:
    """A check that calls a name the kernel lacks says so, instead of the module's AttributeError."""
    if not not_found:
        return
    from grader.course.notebooks import stub_names, tested_names

    names = stub_names(exercise)
    for check in result.checks:
        missing = [n for n in tested_names(check, names) if n in not_found]
        if check.status != PASSED and missing:
            check.message = " ".join(not_found[n] for n in missing)
            check.hint = ""


def in_notebook() -> bool:
    """Is this a Jupyter or Colab kernel (which displays HTML), rather than a terminal?"""
    shell = _ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _ipython():
    if "IPython" not in sys.modules:
        return None
    return sys.modules["IPython"].get_ipython()


def show(result: GradeResult) -> None:
    result = said_once(result)
    if in_notebook():
        from IPython.display import HTML, display

        display(HTML(render_table(result)))
    else:
        import click

        from grader.report.terminal import render

        click.echo(render(result))  # colours on a terminal, plain text into a pipe


def said_once(result: GradeResult) -> GradeResult:
    """A copy of `result` for display in which an error already shown for an earlier check (a
    module that does not load fails every check alike) points back to it instead of repeating it."""
    shown = copy.deepcopy(result)
    seen: set[str] = set()
    for check in shown.checks:
        if check.status == "error" and check.message in seen:
            check.message, check.hint = _("(the same error as above)"), ""
        seen.add(check.message)
    return shown


def render_table(result: GradeResult) -> str:
    """The result as an HTML table for a notebook's cell output (templates/notebook_check.html)."""
    from grader.report.html import environment, feedback_notice

    return environment().get_template("notebook_check.html").render(
        result=result, checks=result.visible_checks("student"), feedback_only=feedback_notice(result.isolation))
