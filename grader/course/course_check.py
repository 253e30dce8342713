"""`grade check-course`: is every exercise still consistent after an edit?

For each exercise of the catalog that has its files, in one warm sandbox per exercise:

- the stub and the reference define the same interface (`interface_differences`);
- the reference gets full marks;
- the stub, as shipped, scores zero, and grading it does not crash;
- every case in tests/cases/exerciseN/ gets its expected verdict: the verdict table of
  tests/test_exerciseN.py (a module-level dict `{case folder: None or (check, words)}`, None
  meaning full marks) when the case is listed there, else by its name: `ok_*` full marks,
  anything else must lose points.

The library returns rows; the CLI prints them as a table and exits 1 when a row is off.
"""

from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from grader.catalog import EXERCISES, PROJECT_ROOT, Exercise, get_exercise

TESTS_ROOT = PROJECT_ROOT / "tests"
CASES_ROOT = TESTS_ROOT / "cases"
REMOTE_API = {"call", "import_module", "keep", "ref"}
"""RemoteObject's own methods: `student.keep(...)` is not a name the student's module defines."""


@dataclass
class Row:
    exercise: str
    submission: str
    expected: str
    got: str
    ok: bool
    detail: str = ""


# -- the interface: names, signatures, documented parameters -----------------------------------
def _definitions(tree: ast.Module) -> dict[str, ast.AST]:
    return {node.name: node for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def _public(name: str) -> bool:
    return not name.startswith("_") or name == "__init__"


def signature_of(func: ast.FunctionDef) -> list[tuple[str, str, str]]:
    """(kind, name, default) of every parameter, annotations ignored."""
    a = func.args
    positional = a.posonlyargs + a.args
    defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    params = [("positional", p.arg, ast.unparse(d) if d is not None else "") for p, d in zip(positional, defaults)]
    if a.vararg:
        params.append(("*", a.vararg.arg, ""))
    params += [("keyword", p.arg, ast.unparse(d) if d is not None else "")
               for p, d in zip(a.kwonlyargs, a.kw_defaults)]
    if a.kwarg:
        params.append(("**", a.kwarg.arg, ""))
    return params


def _show_signature(name: str, params: list) -> str:
    star = {"*": "*", "**": "**"}
    return f"{name}(" + ", ".join(f"{star.get(k, '')}{n}" + (f"={d}" if d else "") for k, n, d in params) + ")"


SECTION = re.compile(r"^\s*(Inputs?|Args|Arguments|Parameters)\s*:(.*)$")
ENTRY = re.compile(r"(?:^\s*(?:-\s*)?|;\s*)(\w+(?:\s*,\s*\w+)*)\s*:(?!:)")


def documented_parameters(docstring: str | None) -> list[str] | None:
    """Parameter names listed in the docstring's Inputs/Args/Parameters section (entries like
    `- x: ...`, `x, t: ...` or `...; lr: ...` up to the first blank line), or None if it has none."""
    if not docstring:
        return None
    lines = docstring.splitlines()
    for index, line in enumerate(lines):
        match = SECTION.match(line)
        if not match:
            continue
        section = [match.group(2)]
        for following in lines[index + 1:]:
            if not following.strip():
                break
            section.append(following)
        names = []
        for entry_line in section:
            for group in ENTRY.findall(entry_line):
                names += [n.strip() for n in group.split(",")]
        return names
    return None


def _compare_function(label: str, stub: ast.FunctionDef, ref: ast.FunctionDef) -> list[str]:
    problems = []
    stub_sig, ref_sig = signature_of(stub), signature_of(ref)
    if stub_sig != ref_sig:
        problems.append(f"{label}: the stub says {_show_signature(stub.name, stub_sig)}, "
                        f"the reference {_show_signature(ref.name, ref_sig)}")
    params = {n for _, n, _ in stub_sig} - {"self", "cls"}
    documented = {}
    for side, node in (("stub", stub), ("reference", ref)):
        names = documented_parameters(ast.get_docstring(node))
        if names is not None:
            documented[side] = names
            unknown = [n for n in names if n not in params]
            if unknown:
                problems.append(f"{label}: the {side}'s docstring documents {', '.join(unknown)}, "
                                f"which {'is' if len(unknown) == 1 else 'are'} not a parameter")
    if len(documented) == 2 and set(documented["stub"]) != set(documented["reference"]):
        problems.append(f"{label}: the docstrings document different parameters: stub "
                        f"{documented['stub']}, reference {documented['reference']}")
    return problems


def names_checks_call(exercise: Exercise) -> set[str]:
    """Names the checks use on the student's module: `student.X` and `student.call("X", ...)`."""
    names: set[str] = set()
    for path in sorted(exercise.checks_dir.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        names |= set(re.findall(r"\bstudent\.([A-Za-z]\w*)", text)) - REMOTE_API
        names |= set(re.findall(r"\bstudent\.call\(\s*[\"']([A-Za-z]\w*)[\"']", text))
    return names


def interface_differences(exercise: Exercise) -> list[str]:
    """How the stub's interface differs from the reference's, in words; [] when in step.

    Every public function and class of the stub must exist in the reference with the same
    parameters (names, order, kinds, defaults), classes with the same public methods; where
    a docstring lists parameters (an Inputs/Args section), it lists only real ones, and where
    both do, the same ones. The reference may have extra helpers (it must be self-contained, so
    it repeats softmax and friends), but every name the checks call on the student's module
    must be in the stub.
    """
    return compare_sources(exercise.stub_path.read_text(encoding="utf-8"),
                           exercise.reference_path.read_text(encoding="utf-8"), names_checks_call(exercise))


def compare_sources(stub_source: str, reference_source: str, called: set[str] = frozenset()) -> list[str]:
    """interface_differences for two module sources; `called`: names the checks use on the student."""
    stub, ref = _definitions(ast.parse(stub_source)), _definitions(ast.parse(reference_source))
    problems = []
    for name, node in stub.items():
        if not _public(name):
            continue
        other = ref.get(name)
        if other is None:
            problems.append(f"{name}: in the stub, missing from the reference")
        elif isinstance(node, ast.ClassDef) != isinstance(other, ast.ClassDef):
            kinds = ("a class", "a function") if isinstance(node, ast.ClassDef) else ("a function", "a class")
            problems.append(f"{name}: {kinds[0]} in the stub, {kinds[1]} in the reference")
        elif isinstance(node, ast.ClassDef):
            problems += _compare_class(node, other)
        else:
            problems += _compare_function(name, node, other)
    for name in sorted(set(called) - set(stub)):
        problems.append(f"{name}: the checks call student.{name}, but the stub does not define it")
    return problems


def _compare_class(stub: ast.ClassDef, ref: ast.ClassDef) -> list[str]:
    stub_methods = {n: m for n, m in _definitions(ast.Module(body=stub.body, type_ignores=[])).items()
                    if _public(n) and not isinstance(m, ast.ClassDef)}
    ref_methods = {n: m for n, m in _definitions(ast.Module(body=ref.body, type_ignores=[])).items()
                   if _public(n) and not isinstance(m, ast.ClassDef)}
    problems = [f"{stub.name}.{n}: in the stub, missing from the reference" for n in stub_methods if n not in ref_methods]
    problems += [f"{stub.name}.{n}: a public method of the reference, missing from the stub (make it "
                 f"_{n} if it is a helper)" for n in ref_methods if n not in stub_methods]
    for name in stub_methods.keys() & ref_methods.keys():
        problems += _compare_function(f"{stub.name}.{name}", stub_methods[name], ref_methods[name])
    return problems


# -- the cases and their expected verdicts ------------------------------------------------------
def case_folders(exercise: Exercise, cases_root: Path | None = None) -> list[Path]:
    folder = (cases_root or CASES_ROOT) / exercise.name
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))) \
        if folder.is_dir() else []


def verdict_table(exercise: Exercise, tests_root: Path | None = None, cases_root: Path | None = None) -> dict:
    """{case: None (full marks) or (check, words)} from tests/test_exerciseN.py, read without running it:
    the module-level dict literal whose keys name the most case folders (check names may be
    module-level string constants, `TRAIN_SGD = "train_one_epoch_updates_like_sgd"`, and an entry
    may be a call, `Caught("predict", "add the bias b1", {...})`)."""
    path = (tests_root or TESTS_ROOT) / f"test_{exercise.name}.py"
    if not path.exists():
        return {}
    folders = {p.name for p in case_folders(exercise, cases_root)}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants = _string_constants(tree)
    best: dict = {}
    for node in tree.body:
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        if not isinstance(value, ast.Dict):
            continue
        table = {}
        for key, item in zip(value.keys, value.values):
            try:
                table[_literal(key, constants)] = _literal(item, constants)
            except (ValueError, TypeError, SyntaxError):
                continue
        if len(set(table) & folders) > len(set(best) & folders):
            best = table
    return best


def _string_constants(tree: ast.Module) -> dict[str, str]:
    """Module-level `NAME = "text"` and `A, B = "x", "y"` assignments."""
    found = {}
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            pairs = [(target, node.value)]
            if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                pairs = list(zip(target.elts, node.value.elts))
            for name, value in pairs:
                if isinstance(name, ast.Name) and isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found[name.id] = value.value
    return found


def _literal(node: ast.AST, constants: dict[str, str]):
    """A literal, with known string constants substituted; a call such as `Caught("check", "words",
    ...)` reads as its first two arguments."""
    if isinstance(node, ast.Call):
        return tuple(_literal(arg, constants) for arg in node.args[:2])

    class Substitute(ast.NodeTransformer):
        def visit_Name(self, name: ast.Name) -> ast.AST:
            return ast.Constant(constants[name.id]) if name.id in constants else name

    return ast.literal_eval(Substitute().visit(copy.deepcopy(node)))


def expected_verdict(case: str, table: dict) -> tuple | None:
    """None for full marks, else (check or "", words or "")."""
    if case in table:
        expected = table[case]
        if expected is None or expected == "full":
            return None
        if isinstance(expected, (tuple, list)):
            return (str(expected[0]) if expected else "", str(expected[1]) if len(expected) > 1 else "")
        return (str(expected), "")
    return None if case.startswith("ok_") else ("", "")


# -- running -------------------------------------------------------------------------------------
def _score(result) -> str:
    return f"{result.score:g}/{result.max_score:g}"


def _judge_full(exercise: Exercise, label: str, result) -> Row:
    bad = [c.name for c in result.checks if not c.passed]
    ok = not result.error and not bad and result.max_score > 0
    detail = result.error or (f"failed: {', '.join(bad)}" if bad else "")
    return Row(exercise.name, label, "full marks", _score(result), ok, detail)


def _judge_stub(exercise: Exercise, result) -> Row:
    crashed = [c.name for c in result.checks if c.status == "error" and "not implemented" not in c.message]
    ok = not result.error and result.score == 0 and result.max_score > 0
    detail = result.error or ("" if ok else "the untouched stub earns points")
    if crashed and ok:
        detail = f"{len(crashed)} checks end in an error, not 'not implemented yet': {', '.join(crashed)}"
    return Row(exercise.name, "stub", "zero", _score(result), ok, detail)


def _judge_case(exercise: Exercise, case: str, expected: tuple | None, result) -> Row:
    if expected is None:
        return _judge_full(exercise, case, result)
    check, words = expected
    failed = {c.name: f"{c.message} {c.hint}" for c in result.checks if not c.passed}
    wanted = f"fails {check}" if check else "loses points"
    if result.error or result.score >= result.max_score:
        return Row(exercise.name, case, wanted, _score(result), False, result.error or "full marks for a buggy case")
    if check and check not in failed:
        return Row(exercise.name, case, wanted, _score(result), False, f"failed instead: {', '.join(sorted(failed))}")
    if check and words and words.lower() not in failed[check].lower():
        return Row(exercise.name, case, wanted, _score(result), False, f"message lacks {words!r}")
    return Row(exercise.name, case, wanted, _score(result), True)


def check_exercise(exercise: Exercise, *, cases: bool = True, isolation: str = "auto", tests_root: Path | None = None,
                   cases_root: Path | None = None, progress: Callable[[Row], None] | None = None) -> list[Row]:
    """The rows of one exercise, graded in one warm sandbox."""
    from grader.pipeline import grade_submission
    from grader.sandbox.launcher import Launcher

    rows: list[Row] = []

    def add(row: Row) -> None:
        rows.append(row)
        if progress:
            progress(row)

    problems = interface_differences(exercise)
    add(Row(exercise.name, "interface", "stub = reference", "in step" if not problems else f"{len(problems)} differences",
            not problems, "; ".join(problems)))
    launcher = Launcher(exercise, isolation=isolation)
    launcher.start()
    try:
        def grade(path: Path):
            return grade_submission(exercise.name, path, launcher=launcher)

        add(_judge_full(exercise, "reference", grade(exercise.reference_path.parent)))
        add(_judge_stub(exercise, grade(exercise.stub_path.parent)))
        if cases:
            table = verdict_table(exercise, tests_root, cases_root)
            for folder in case_folders(exercise, cases_root):
                add(_judge_case(exercise, folder.name, expected_verdict(folder.name, table), grade(folder)))
    finally:
        launcher.close()
    return rows


def missing_files(exercise: Exercise) -> list[str]:
    parts = {"stub": exercise.stub_path, "reference": exercise.reference_path,
             "checks": exercise.checks_dir / "test_public.py"}
    return [name for name, path in parts.items() if not path.exists()]


def check_course(exercises: list[str] | None = None, *, cases: bool = True, isolation: str = "auto",
                 tests_root: Path | None = None, cases_root: Path | None = None,
                 progress: Callable[[Row], None] | None = None) -> list[Row]:
    """Rows for every exercise (or those named); an exercise with none of its files yet is one
    "not written yet" row (fine), one with some of them a row that is off."""
    rows: list[Row] = []
    for exercise in [get_exercise(n) for n in exercises] if exercises else EXERCISES.values():
        missing = missing_files(exercise)
        if len(missing) == 3 and not exercises:
            row = Row(exercise.name, "-", "-", "not written yet", True)
        elif missing:
            row = Row(exercise.name, "-", "stub, reference, checks", f"no {', '.join(missing)}", False)
        else:
            rows += check_exercise(exercise, cases=cases, isolation=isolation, tests_root=tests_root,
                                   cases_root=cases_root, progress=progress)
            continue
        rows.append(row)
        if progress:
            progress(row)
    return rows


def format_table(rows: list[Row], width: int = 110) -> str:
    """A plain-text table: one line per row, details of rows that are off indented below."""
    header = ("exercise", "submission", "expected", "got", "")
    columns = [max(len(str(r)) for r in [header[i], *[(x.exercise, x.submission, x.expected, x.got)[i] for x in rows]])
               for i in range(4)]
    columns = [min(c, 48) for c in columns]

    def line(values: tuple) -> str:
        return "  ".join(str(v)[:columns[i]].ljust(columns[i]) for i, v in enumerate(values[:4])) + "  " + values[4]

    out = [line(header), line(tuple("-" * c for c in columns) + ("----",))]
    for row in rows:
        out.append(line((row.exercise, row.submission, row.expected, row.got, "ok" if row.ok else "OFF")))
        if row.detail and (not row.ok or row.submission == "stub"):
            for part in row.detail.split("; "):
                out.append(" " * 4 + part[: width - 4])
    bad = sum(not r.ok for r in rows)
    out.append(f"{len(rows)} rows, {bad} off" if bad else f"{len(rows)} rows, all as expected")
    return "\n".join(out)
