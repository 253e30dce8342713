"""Each exercise as a Jupyter notebook, generated from its stub so the two never drift apart.

The stub `exercises/exerciseN/<module>.py` is the one source: the notebook is rebuilt from it
at every release (and a test rebuilds and compares). Layout, top to bottom:

- the handout (the stub's module docstring) as a markdown cell, with how to use the notebook;
  the notebook's own words come from the `notebooks` catalog, in the language asked for, and
  the stub's instructions from the handouts catalog where it has them (`localised_stub`);
- the stub's imports and module-level setup as one code cell;
- for each top-level function or class: a short markdown heading, then one code cell holding
  exactly the stub's code (signature, docstring, `raise NotImplementedError`) to complete;
- module-level code after the last definition (e.g. an `if __name__ == "__main__":` demo);
- a markdown cell on checking: in the kernel, and from a terminal on the saved file
  (`grade exerciseN --submission notebooks/exerciseN.ipynb`, run in the course folder);
- last, a cell that runs the public checks on what the kernel has defined, no save needed:
  `import grader; grader.check("exerciseN")` (grader/notebook_check.py). When the notebook is
  handed in, the grader runs neither line (grader/notebook_definitions.py keeps only what the
  graded definitions need).

Joining the code cells gives back the stub's code without its docstring, statement for statement.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from grader import i18n
from grader.catalog import Exercise
from grader.i18n import _

KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}


@dataclass
class Chunk:
    """A piece of the stub that becomes one code cell; `name` is empty for setup code."""

    name: str
    kind: str  # "setup" | "function" | "class" | "code"
    source: str
    summary: str = ""


def split_stub(source: str) -> tuple[str, list[Chunk]]:
    """(module docstring, code chunks): one chunk per top-level def/class, setup code before them.

    Statements between two definitions go with the definition that follows them (a constant a
    class uses stays above it); comments directly above a definition stay with it.
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    docstring = ast.get_docstring(tree, clean=True) or ""
    body = tree.body[1:] if docstring and isinstance(tree.body[0], ast.Expr) else tree.body
    start = tree.body[0].end_lineno if docstring and isinstance(tree.body[0], ast.Expr) else 0
    chunks: list[Chunk] = []
    definitions = [node for node in body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    for node in definitions:
        first = _first_line(node, lines)
        before = _text(lines, start, first - 1)
        if before and not chunks:
            chunks.append(Chunk("", "setup", before))
            before = ""
        text = _text(lines, first - 1, node.end_lineno)
        kind = "class" if isinstance(node, ast.ClassDef) else "function"
        summary = (ast.get_docstring(node) or "").strip().split("\n\n")[0].replace("\n", " ")
        summary = summary if summary.endswith(".") else ""  # a sentence, not the start of a formula
        chunks.append(Chunk(node.name, kind, f"{before}\n\n\n{text}" if before else text, summary))
        start = node.end_lineno
    rest = _text(lines, start, len(lines))
    if rest:
        chunks.append(Chunk("", "setup" if not chunks else "code", rest))
    return docstring, chunks


def _first_line(node: ast.AST, lines: list[str]) -> int:
    """1-based first line of a definition, counting its decorators and the comments just above."""
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    while first > 1 and lines[first - 2].lstrip().startswith("#"):
        first -= 1
    return first


def _text(lines: list[str], begin: int, end: int) -> str:
    """Lines begin+1 .. end (1-based, inclusive), without surrounding blank lines."""
    return "\n".join(lines[begin:end]).strip("\n")


def _signature(chunk: Chunk) -> str:
    """`softmax(x)`, or for a class how it is built: `class SGD(lr=0.01)`."""
    node = ast.parse(chunk.source).body[-1]
    if isinstance(node, ast.ClassDef):
        init = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
        if init is None:
            return f"class {chunk.name}"
        args = init.args
        args.args = args.args[1:]  # without self
        return f"class {chunk.name}({ast.unparse(args)})"
    return f"{chunk.name}({ast.unparse(node.args)})"


def _intro(exercise: Exercise, docstring: str) -> str:
    """The handout: the docstring's first line as the title when it names the exercise."""
    first, _sep, rest = docstring.partition("\n")
    if first.lower().startswith("exercise") or first.startswith("연습"):
        title, body = first.rstrip("."), rest.strip("\n")
    else:
        title = _("Exercise {number}: {topic}").format(number=exercise.name.removeprefix("exercise"),
                                                        topic=_(exercise.topic))
        body = docstring
    how = _("**How to work in this notebook.** Complete each code cell below that raises `NotImplementedError`, "
            "keeping the names and parameters as they are. Add your own cells to try things out: printing, "
            "plotting and `%timeit` are fine. When your notebook is graded, only what your functions and classes "
            "need is run (the imports, constants and helpers they use); every other cell is listed in the "
            "grader's notes, not run. This notebook is the same exercise as `{path}`: hand in either one.").format(
        path=f"exercises/{exercise.name}/{exercise.module}.py")
    return f"# {title}\n\n{for_the_notebook(body, exercise)}\n\n---\n\n{how}"


def for_the_notebook(handout: str, exercise: Exercise) -> str:
    """The stub's handout with its `grade exerciseN` command lines (which grade the .py file)
    turned into the command that grades this notebook."""
    plain = re.compile(rf"^(\s*)grade {exercise.name}\s*$", re.MULTILINE)
    return plain.sub(lambda found: found.group(1) + terminal_command(exercise), handout)


def _check_cell_text(exercise: Exercise) -> str:
    """The markdown above the check cell: how to check in the kernel, and from a terminal."""
    heading = _("Check your work")
    in_kernel = _("Run the cell below: it runs the public checks on the functions this notebook has defined so far "
                  "(run your edited cells first; no need to save).")
    terminal = _("To grade the saved notebook file instead, as your instructor's grader reads it, save it and run "
                 "this in a terminal, in your course folder:")
    hidden = _("Hidden checks run when your instructor grades, so passing every public check does not guarantee "
               "full marks.")
    return f"## {heading}\n\n{in_kernel}\n\n{terminal}\n\n    {terminal_command(exercise)}\n\n{hidden}"


def terminal_command(exercise: Exercise) -> str:
    """The command that grades this notebook's saved file, run in the course folder."""
    return f"grade {exercise.name} --submission notebooks/{exercise.name}.ipynb"


def check_cell_source(exercise: Exercise) -> str:
    """The last code cell: the public checks of what the kernel holds (grader.check), in the
    notebook's language."""
    code = i18n.current_language()
    language = f', language="{code}"' if code != i18n.DEFAULT_LANGUAGE else ""
    return f'import grader\n\ngrader.check("{exercise.name}"{language})'


def build_notebook(exercise: Exercise, stub_source: str | None = None, *, language: str | None = None):
    """The notebook of `exercise` (an nbformat NotebookNode), from its stub's source, with its
    markdown in `language` (default: the current one)."""
    import nbformat

    with i18n.language(language or i18n.current_language()):
        source = stub_source if stub_source is not None else localised_stub(exercise)
        docstring, chunks = split_stub(source)
        cells = [nbformat.v4.new_markdown_cell(_intro(exercise, docstring))]
        for chunk in chunks:
            if chunk.kind in ("function", "class"):
                heading = f"## `{_signature(chunk)}`" + (f"\n\n{chunk.summary}" if chunk.summary else "")
                cells.append(nbformat.v4.new_markdown_cell(heading))
            cells.append(nbformat.v4.new_code_cell(chunk.source))
        cells.append(nbformat.v4.new_markdown_cell(_check_cell_text(exercise)))
        cells.append(nbformat.v4.new_code_cell(check_cell_source(exercise)))
    for index, cell in enumerate(cells):
        cell["id"] = f"{exercise.name}-{index:02d}"  # stable ids: the same stub gives the same file
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": KERNEL, "language_info": {"name": "python"}})
    nbformat.validate(notebook)
    return notebook


def localised_stub(exercise: Exercise) -> str:
    """The stub's source with its instructions in the current language, where the handouts
    catalog (grader/handouts.py) has them; the English stub otherwise."""
    source = exercise.stub_path.read_text(encoding="utf-8")
    if i18n.current_language() == i18n.DEFAULT_LANGUAGE:
        return source
    try:
        from grader.handouts import localised_source
    except ImportError:  # no handouts catalog in this copy of the grader: the English instructions
        return source
    return localised_source(source, i18n.current_language())


def notebook_text(exercise: Exercise, stub_source: str | None = None, *, language: str | None = None) -> str:
    import nbformat

    return nbformat.writes(build_notebook(exercise, stub_source, language=language)) + "\n"


def write_notebook(exercise: Exercise, path: Path, stub_source: str | None = None, *,
                   language: str | None = None) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(notebook_text(exercise, stub_source, language=language), encoding="utf-8")
    return path


def code_of(notebook_bytes: bytes, name: str = "notebook.ipynb") -> str:
    """The notebook's code as the grader runs it (magics and `!` lines turned off), as one module."""
    from grader.submission import notebook_cells

    return "\n\n".join(cell.rstrip("\n") for cell in notebook_cells(notebook_bytes, name)) + "\n"


def same_code(module_source: str, notebook_code: str) -> bool:
    """Do the two define the same statements (ignoring docstring of the module, comments, layout)?"""
    def statements(text: str) -> list[str]:
        tree = ast.parse(text)
        body = tree.body
        if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:]
        return [ast.dump(node) for node in body
                if not (isinstance(node, ast.Pass))]  # the grader's stand-in for a skipped `!` line

    return statements(module_source) == statements(notebook_code)


def stub_names(exercise: Exercise, stub_source: str | None = None) -> list[str]:
    """The functions and classes the stub asks for, in the stub's order: what the checks call."""
    source = stub_source if stub_source is not None else exercise.stub_path.read_text(encoding="utf-8")
    return [chunk.name for chunk in split_stub(source)[1] if chunk.kind in ("function", "class")]


def tested_names(check, names: list[str]) -> list[str]:
    """Which of the stub's `names` a check's result is about, so feedback can sit beside the code.

    Read from what the check itself says, most specific first: its title ("softmax of a batch
    ..."), its name (`sgd_steps` -> SGD), the call its failure reports (`failure.call`), its
    message, the first word of its name, and the stub's only name if it has one. The first of
    these that names any of `names` decides; [] when none does (e.g. a check of all optimizers)."""
    def named_in(text: str) -> list[str]:
        words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text or ""))
        return [name for name in names if name in words]

    in_check_name = [name for name in names if f"_{name.lower()}_" in f"_{check.name.lower()}_"]
    call = check.failure.call if getattr(check, "failure", None) else ""
    first_word = check.name.split("_")[0].lower()  # `batchnorm_test_mode` -> BatchNormalization
    by_prefix = [name for name in names if len(first_word) >= 4 and name.lower().startswith(first_word)]
    only = names if len(names) == 1 else []  # a stub of one class: every check is about it
    for found in (named_in(check.title), in_check_name, named_in(str(call or "")), named_in(check.message),
                  by_prefix, only):
        if found:
            return found
    return []
