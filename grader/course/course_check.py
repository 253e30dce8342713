"""`grade check-course`: is every exercise still consistent after an edit?

For each exercise of the catalog that has its files, in one warm sandbox per exercise:

- the stub and the reference define the same interface (`interface_differences`);
- the reference gets full marks;
- the stub, as shipped, scores zero, and grading it does not crash;
- every case in tests/cases/exerciseN/ gets the verdict its verdicts.toml gives
  (grader/course/verdicts.py, the reader the tests use too); a file that cannot be read is a
  row that is off, naming the file and the entry.

The library returns rows; the CLI prints them as a table and exits 1 when a row is off.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from grader.catalog import EXERCISES, Exercise, get_exercise
from grader.i18n import _, language, ngettext
from grader.course.verdicts import Verdict, VerdictsError, case_folders, load_verdicts

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
        problems.append(_("{name}: the stub says {stub}, the reference {reference}").format(
            name=label, stub=_show_signature(stub.name, stub_sig), reference=_show_signature(ref.name, ref_sig)))
    params = {n for _, n, _ in stub_sig} - {"self", "cls"}
    documented = {}
    for side, node in (("stub", stub), ("reference", ref)):  # keys, not words
        names = documented_parameters(ast.get_docstring(node))
        if names is not None:
            documented[side] = names
            unknown = [n for n in names if n not in params]
            if unknown:
                sentence = (ngettext("{name}: the stub's docstring documents {names}, which is not a parameter",
                                     "{name}: the stub's docstring documents {names}, which are not parameters",
                                     len(unknown)) if side == "stub" else
                            ngettext("{name}: the reference's docstring documents {names}, which is not a parameter",
                                     "{name}: the reference's docstring documents {names}, which are not parameters",
                                     len(unknown)))
                problems.append(sentence.format(name=label, names=", ".join(unknown)))
    if len(documented) == 2 and set(documented["stub"]) != set(documented["reference"]):
        problems.append(_("{name}: the docstrings document different parameters: stub {stub}, reference {reference}")
                        .format(name=label, stub=documented["stub"], reference=documented["reference"]))
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
            problems.append(_("{name}: in the stub, missing from the reference").format(name=name))
        elif isinstance(node, ast.ClassDef) != isinstance(other, ast.ClassDef):
            problems.append((_("{name}: a class in the stub, a function in the reference")
                             if isinstance(node, ast.ClassDef) else
                             _("{name}: a function in the stub, a class in the reference")).format(name=name))
        elif isinstance(node, ast.ClassDef):
            problems += _compare_class(node, other)
        else:
            problems += _compare_function(name, node, other)
    for name in sorted(set(called) - set(stub)):
        problems.append(_("{name}: the checks call student.{name}, but the stub does not define it").format(name=name))
    return problems


def _compare_class(stub: ast.ClassDef, ref: ast.ClassDef) -> list[str]:
    stub_methods = {n: m for n, m in _definitions(ast.Module(body=stub.body, type_ignores=[])).items()
                    if _public(n) and not isinstance(m, ast.ClassDef)}
    ref_methods = {n: m for n, m in _definitions(ast.Module(body=ref.body, type_ignores=[])).items()
                   if _public(n) and not isinstance(m, ast.ClassDef)}
    problems = [_("{name}: in the stub, missing from the reference").format(name=f"{stub.name}.{n}")
                for n in stub_methods if n not in ref_methods]
    problems += [_("{name}: a public method of the reference, missing from the stub (make it {private} if it is a "
                   "helper)").format(name=f"{stub.name}.{n}", private=f"_{n}") for n in ref_methods if n not in stub_methods]
    for name in stub_methods.keys() & ref_methods.keys():
        problems += _compare_function(f"{stub.name}.{name}", stub_methods[name], ref_methods[name])
    return problems


# -- running -------------------------------------------------------------------------------------
def _score(result) -> str:
    return f"{result.score:g}/{result.max_score:g}"


def _judge_full(exercise: Exercise, label: str, result) -> Row:
    bad = [c.name for c in result.checks if not c.passed]
    ok = not result.error and not bad and result.max_score > 0
    detail = result.error or (_("failed: {checks}").format(checks=", ".join(bad)) if bad else "")
    return Row(exercise.name, label, _("full marks"), _score(result), ok, detail)


def _judge_stub(exercise: Exercise, result) -> Row:
    crashed = [c.name for c in result.checks if c.status == "error" and "not implemented" not in c.message]
    ok = not result.error and result.score == 0 and result.max_score > 0
    detail = result.error or ("" if ok else _("the untouched stub earns points"))
    if crashed and ok:
        detail = _("{count} checks end in an error, not 'not implemented yet': {checks}").format(
            count=len(crashed), checks=", ".join(crashed))
    return Row(exercise.name, "stub", _("zero"), _score(result), ok, detail)


def _judge_case(exercise: Exercise, verdict: Verdict, result) -> Row:
    if verdict.full_marks:
        return _judge_full(exercise, verdict.case, result)
    failed = {c.name: f"{c.message} {c.hint}" for c in result.checks if not c.passed}
    wanted = _("fails {check}").format(check=verdict.check)

    def off(detail: str) -> Row:
        return Row(exercise.name, verdict.case, wanted, _score(result), False, detail)

    if result.error or result.score >= result.max_score:
        return off(result.error or _("full marks for a buggy case"))
    if verdict.check not in failed:
        return off(_("failed instead: {checks}").format(checks=", ".join(sorted(failed))))
    if verdict.words.lower() not in failed[verdict.check].lower():
        return off(_("message lacks {words}").format(words=repr(verdict.words)))
    if verdict.also_fails is not None and set(failed) != {verdict.check, *verdict.also_fails}:
        return off(_("failed {checks}; the table says exactly {expected}").format(
            checks=", ".join(sorted(failed)), expected=", ".join(sorted({verdict.check, *verdict.also_fails}))))
    return Row(exercise.name, verdict.case, wanted, _score(result), True)


def check_exercise(exercise: Exercise, *, cases: bool = True, isolation: str = "auto", cases_root: Path | None = None,
                   progress: Callable[[Row], None] | None = None) -> list[Row]:
    """The rows of one exercise, graded in one warm sandbox."""
    from grader.pipeline import grade_submission
    from grader.sandbox.launcher import Launcher

    rows: list[Row] = []

    def add(row: Row) -> None:
        rows.append(row)
        if progress:
            progress(row)

    problems = interface_differences(exercise)
    add(Row(exercise.name, "interface", "stub = reference",
            _("in step") if not problems else ngettext("{count} difference", "{count} differences",
                                                       len(problems)).format(count=len(problems)),
            not problems, "; ".join(problems)))
    launcher = Launcher(exercise, isolation=isolation)
    launcher.start()
    try:
        def grade(path: Path):
            with language("en"):  # verdicts.toml's words are English: cases are judged on English messages
                return grade_submission(exercise.name, path, launcher=launcher)

        add(_judge_full(exercise, "reference", grade(exercise.reference_path.parent)))
        add(_judge_stub(exercise, grade(exercise.stub_path.parent)))
        if cases:
            verdicts = _readable_verdicts(exercise, cases_root, add)
            for folder in case_folders(exercise, cases_root) if verdicts else []:
                add(_judge_case(exercise, verdicts[folder.name], grade(folder)))
    finally:
        launcher.close()
    return rows


def _readable_verdicts(exercise: Exercise, cases_root: Path | None, add: Callable[[Row], None]) -> dict:
    """The exercise's verdicts; when its verdicts.toml cannot be read, one row that is off saying
    why (the reader's message names the file and the entry), and no cases graded."""
    try:
        return load_verdicts(exercise, cases_root)
    except VerdictsError as exc:
        add(Row(exercise.name, "verdicts.toml", _("a verdict per case"), _("unreadable"), False, str(exc)))
        return {}


def missing_files(exercise: Exercise) -> list[str]:
    parts = {"stub": exercise.stub_path, "reference": exercise.reference_path,
             "checks": exercise.checks_dir / "test_public.py"}
    return [name for name, path in parts.items() if not path.exists()]


def check_course(exercises: list[str] | None = None, *, cases: bool = True, isolation: str = "auto",
                 cases_root: Path | None = None, progress: Callable[[Row], None] | None = None) -> list[Row]:
    """Rows for every exercise (or those named); an exercise with none of its files yet is one
    "not written yet" row (fine), one with some of them a row that is off."""
    rows: list[Row] = []
    for exercise in [get_exercise(n) for n in exercises] if exercises else EXERCISES.values():
        missing = missing_files(exercise)
        if len(missing) == 3 and not exercises:
            row = Row(exercise.name, "-", "-", _("not written yet"), True)
        elif missing:
            row = Row(exercise.name, "-", "stub, reference, checks", _("no {files}").format(files=", ".join(missing)),
                      False)
        else:
            rows += check_exercise(exercise, cases=cases, isolation=isolation, cases_root=cases_root,
                                   progress=progress)
            continue
        rows.append(row)
        if progress:
            progress(row)
    return rows


def format_table(rows: list[Row], width: int = 110) -> str:
    """A plain-text table: one line per row, details of rows that are off indented below."""
    header = (_("exercise"), _("submission"), _("expected"), _("got"), "")
    columns = [max(len(str(r)) for r in [header[i], *[(x.exercise, x.submission, x.expected, x.got)[i] for x in rows]])
               for i in range(4)]
    columns = [min(c, 48) for c in columns]

    def line(values: tuple) -> str:
        return "  ".join(str(v)[:columns[i]].ljust(columns[i]) for i, v in enumerate(values[:4])) + "  " + values[4]

    out = [line(header), line(tuple("-" * c for c in columns) + ("----",))]
    for row in rows:
        out.append(line((row.exercise, row.submission, row.expected, row.got, _("ok") if row.ok else _("OFF"))))
        if row.detail and (not row.ok or row.submission == "stub"):
            for part in row.detail.split("; "):
                out.append(" " * 4 + part[: width - 4])
    bad = sum(not r.ok for r in rows)
    out.append(_("{rows} rows, {bad} off").format(rows=len(rows), bad=bad) if bad
               else _("{rows} rows, all as expected").format(rows=len(rows)))
    return "\n".join(out)


# -- mutation testing (`grade check-course --mutants`) ----------------------------------------------
MUTANT_EXERCISES = ("exercise1", "exercise2", "exercise3", "exercise5", "exercise6")
"""The exercises the mutation pass covers by default: the numpy ones with an equivalence probe.
Exercises 4 and 7 (timed MNIST runs) are measured by benchmarks/bench_mutants.py."""


def check_mutants(exercises: list[str] | None = None, *, per_operator: int | None = None, isolation: str = "auto",
                  html_path: Path | None = None, progress: Callable | None = None) -> tuple[list, str]:
    """The mutation reports of the exercises (default MUTANT_EXERCISES) and their text table; with
    html_path, the HTML page too (grader/course/mutants.py)."""
    from grader.course.mutants import format_reports, render_html, run_mutants

    reports = [run_mutants(name, per_operator=per_operator, isolation=isolation, progress=progress)
               for name in (exercises or MUTANT_EXERCISES)]
    if html_path is not None:
        Path(html_path).write_text(render_html(reports), encoding="utf-8")
    return reports, format_reports(reports)
