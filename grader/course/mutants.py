"""Mutation testing of the checks: how many small, plausible mistakes in a reference solution do
the exercise's checks (public + hidden) catch? (`grade check-course --mutants`)

Generation. Each mutant is the reference module with ONE small change a student could make:
an operator swapped, a constant nudged, eps moved into or out of a sqrt/log, a range or slice off
by one, a reduction changed, a transpose or `.copy()` dropped, an update made in place or out of
place, a statement deleted, a returned value swapped for another local of the same shape.
The operators are written on the stdlib `ast`: every node carries its exact source span
(lineno/col_offset/end_*), so a mutant is the reference's text with one span replaced by
`ast.unparse` of the changed node. Diffs against the reference are therefore one-line changes
and comments survive, which is what libcst would have given us, without a new dependency for
the grader. (mutmut and cosmic-ray run a test command per mutant in a fresh process; here every
mutant is graded in one warm sandbox per exercise, ~0.1-0.5 s each.)

Classification. A mutant is graded like a student's submission with short limits; it is
*killed* when it loses any point (a failed check, a raise, a crash), *timeout* when it loses
points by running out of time. A surviving mutant is then compared with the reference in the
grader's process (the mutant is our code, so importing it is fine): when it agrees on every
public function, called with the inputs of grader/course/mutant_probes.py, within the checks'
tolerances, it is *equivalent*. A survivor that differs is *accepted* when tests/cases/
exerciseN/mutants.toml explains why SPEC.md allows the difference, else it *survived*: work
for the checks. score = (killed + timeout) / (mutants - equivalent - accepted).
"""

from __future__ import annotations

import ast
import copy
import difflib
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from grader.catalog import PROJECT_ROOT, Exercise, get_exercise

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

KILLED, TIMEOUT, SURVIVED, EQUIVALENT, ACCEPTED = "killed", "timeout", "survived", "equivalent", "accepted"
OUTCOMES = (KILLED, TIMEOUT, SURVIVED, EQUIVALENT, ACCEPTED)
ACCEPTED_FILE = "mutants.toml"
CASES_ROOT = PROJECT_ROOT / "tests" / "cases"


@dataclass(frozen=True)
class Mutant:
    exercise: str
    operator: str
    line: int
    description: str
    source: str
    """The whole mutated module."""
    column: int = 0

    @property
    def key(self) -> str:
        """What mutants.toml names a mutant by: operator, line, column and description."""
        return f"{self.operator}@{self.line}:{self.column}: {self.description}"

    def diff(self, reference: str, name: str = "reference") -> str:
        return "".join(difflib.unified_diff(reference.splitlines(True), self.source.splitlines(True),
                                            f"{name} (reference)", f"{name} (mutant)", n=2))


@dataclass
class MutantResult:
    mutant: Mutant
    outcome: str
    detail: str = ""
    """Killed: the checks that lost points; equivalent: what was compared; accepted: why."""


@dataclass
class ExerciseReport:
    exercise: str
    results: list[MutantResult] = field(default_factory=list)
    generated: int = 0
    """Mutants generated before sampling (cap per operator)."""
    seconds: float = 0.0
    reference_source: str = ""

    def count(self, outcome: str) -> int:
        return sum(r.outcome == outcome for r in self.results)

    @property
    def score(self) -> float | None:
        judged = len(self.results) - self.count(EQUIVALENT) - self.count(ACCEPTED)
        return (self.count(KILLED) + self.count(TIMEOUT)) / judged if judged else None

    def of(self, outcome: str) -> list[MutantResult]:
        return [r for r in self.results if r.outcome == outcome]


# -- generation -----------------------------------------------------------------------------------

ARITH = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.Pow: ast.Mult,
         ast.MatMult: ast.Mult, ast.FloorDiv: ast.Div, ast.Mod: ast.FloorDiv}
COMPARE = {ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Eq: ast.NotEq,
           ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
REDUCTIONS = {"sum": "mean", "mean": "sum", "max": "min", "min": "max", "argmax": "argmin", "argmin": "argmax"}
EPS_FUNCTIONS = {"sqrt", "log"}
ATOMS = (ast.Name, ast.Attribute, ast.Call, ast.Subscript)


@dataclass(frozen=True)
class Edit:
    node: ast.AST
    """The node whose source span is replaced."""
    replacement: ast.AST
    operator: str
    description: str


def _sym(op: ast.AST) -> str:
    return ast.unparse(ast.BinOp(ast.Name("a"), op, ast.Name("b")))[2:-2] if isinstance(op, ast.operator) else \
        ast.unparse(ast.Compare(ast.Name("a"), [op], [ast.Name("b")]))[2:-2]


def _func_name(call: ast.Call) -> str | None:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None


def _is_eps(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, float):
        return 0 < abs(node.value) < 1e-3
    name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""
    return "eps" in name.lower()


def _replace(node: ast.AST, **changes) -> ast.AST:
    new = copy.deepcopy(node)
    for key, value in changes.items():
        setattr(new, key, value)
    return new


def _offset(n: ast.AST, by: int) -> ast.AST:
    return ast.BinOp(copy.deepcopy(n), ast.Add() if by > 0 else ast.Sub(), ast.Constant(abs(by)))


class _Collector(ast.NodeVisitor):
    """Every Edit the operators make on one module; `shapes` (from `traced_return_shapes`) says which
    locals have the shape of each returned value."""

    def __init__(self, shapes: dict[int, list[str]] | None):
        self.edits: list[Edit] = []
        self.shapes = shapes
        self.function: ast.FunctionDef | None = None
        self.skip: set[int] = set()

    def add(self, node, replacement, operator, description):
        self.edits.append(Edit(node, replacement, operator, description))

    def visit_FunctionDef(self, node):
        outer, self.function = self.function, node
        for index, statement in enumerate(node.body):
            docstring = index == 0 and isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
            if docstring:
                self.skip.add(id(statement.value))
            elif isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Return)):
                self.add(statement, ast.Pass(), "delete", f"`{ast.unparse(statement)}` deleted")
        self._delete_nested(node.body)
        self.generic_visit(node)
        self.function = outer

    def _delete_nested(self, body):
        for statement in body:
            for inner in (getattr(statement, "body", []), getattr(statement, "orelse", []),
                          getattr(statement, "finalbody", [])):
                if isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
                    continue
                for s in inner:
                    if isinstance(s, (ast.Assign, ast.AugAssign, ast.Expr, ast.Return)) and len(inner) > 1:
                        self.add(s, ast.Pass(), "delete", f"`{ast.unparse(s)}` deleted")
                self._delete_nested(inner)

    def visit_BinOp(self, node):
        swap = ARITH.get(type(node.op))
        if swap:
            self.add(node, _replace(node, op=swap()), "arith", f"`{_sym(node.op)}` -> `{_sym(swap())}` in "
                                                               f"`{ast.unparse(node)}`")
        if isinstance(node.op, ast.Add) and isinstance(node.left, ast.Call) and _func_name(node.left) in EPS_FUNCTIONS \
                and len(node.left.args) == 1 and _is_eps(node.right):
            inner = ast.BinOp(node.left.args[0], ast.Add(), node.right)
            self.add(node, _replace(node.left, args=[inner]), "eps_position", "eps moved inside "
                                                                              f"{_func_name(node.left)}")
        self.generic_visit(node)

    def visit_UnaryOp(self, node):
        if isinstance(node.op, ast.USub) and not isinstance(node.operand, ast.Constant):
            self.add(node, node.operand, "arith", f"minus dropped in `{ast.unparse(node)}`")
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        swap = ARITH.get(type(node.op))
        if swap:
            self.add(node, _replace(node, op=swap()), "arith", f"`{_sym(node.op)}=` -> `{_sym(swap())}=`")
        out = ast.Assign([copy.deepcopy(node.target)], ast.BinOp(_load(node.target), node.op, node.value), lineno=0)
        self.add(node, out, "inplace", f"`{ast.unparse(node)}` made out of place")
        self.generic_visit(node)

    def visit_Assign(self, node):
        value = node.value
        if len(node.targets) == 1 and isinstance(value, ast.BinOp) and \
                ast.unparse(value.left) == ast.unparse(node.targets[0]):
            self.add(node, ast.AugAssign(node.targets[0], value.op, value.right), "inplace",
                     f"`{ast.unparse(node)}` made in place")
        self.generic_visit(node)

    def visit_Compare(self, node):
        swap = COMPARE.get(type(node.ops[0]))
        if swap:
            self.add(node, _replace(node, ops=[swap()] + node.ops[1:]), "compare",
                     f"`{_sym(node.ops[0])}` -> `{_sym(swap())}` in `{ast.unparse(node)}`")
        self.generic_visit(node)

    def visit_Constant(self, node):
        value = node.value
        if id(node) in self.skip or isinstance(value, bool) or not isinstance(value, (int, float)):
            return
        if isinstance(value, float) and 0 < abs(value) < 1e-3:
            self.add(node, ast.Constant(0.0), "constant", f"eps {value!r} -> 0")
            self.add(node, ast.Constant(value * 10), "constant", f"eps {value!r} -> {value * 10!r}")
        elif value == 0.5:
            self.add(node, ast.Constant(1.0), "constant", "0.5 -> 1.0")
        elif isinstance(value, float):
            self.add(node, ast.Constant(value + 1.0), "constant", f"{value!r} -> {value + 1.0!r}")
        else:
            self.add(node, ast.Constant(value + 1), "constant", f"{value!r} -> {value + 1!r}")

    def visit_Call(self, node):
        name = _func_name(node)
        text = ast.unparse(node)
        if name in EPS_FUNCTIONS and len(node.args) == 1 and isinstance(node.args[0], ast.BinOp) \
                and isinstance(node.args[0].op, ast.Add) and _is_eps(node.args[0].right):
            moved = ast.BinOp(_replace(node, args=[node.args[0].left]), ast.Add(), node.args[0].right)
            self.add(node, moved, "eps_position", f"eps moved outside {name}: `{ast.unparse(moved)}`")
        if name in REDUCTIONS and isinstance(node.func, ast.Attribute):
            other = _replace(node, func=_replace(node.func, attr=REDUCTIONS[name]))
            self.add(node, other, "reduction", f"`{name}` -> `{REDUCTIONS[name]}` in `{text}`")
        for keyword in node.keywords:
            if keyword.arg in ("axis", "keepdims"):
                dropped = _replace(node, keywords=[k for k in node.keywords if k is not keyword])
                self.add(node, dropped, "reduction", f"`{keyword.arg}=` dropped in `{text}`")
            if keyword.arg == "axis" and isinstance(keyword.value, (ast.Constant, ast.UnaryOp)):
                axis = ast.literal_eval(keyword.value)
                new_axis = 1 if axis == 0 else 0
                changed = [ast.keyword("axis", ast.Constant(new_axis)) if k is keyword else k for k in node.keywords]
                self.add(node, _replace(node, keywords=changed), "reduction",
                         f"axis={axis} -> axis={new_axis} in `{text}`")
                self.skip.update(id(n) for n in ast.walk(keyword.value))
        if name in ("range", "arange") and node.args:
            self._ranges(node, text)
        if name == "copy" and isinstance(node.func, ast.Attribute) and not node.args:
            self.add(node, node.func.value, "copy", f"`.copy()` removed in `{text}`")
        if name in ("copy", "transpose") and isinstance(node.func, ast.Attribute) and len(node.args) == 1 \
                and isinstance(node.func.value, ast.Name) and node.func.value.id in ("np", "numpy"):
            self.add(node, node.args[0], "copy" if name == "copy" else "transpose", f"`{text}` -> its argument")
        self.generic_visit(node)

    def _ranges(self, node, text):
        args = node.args
        changes = [([_offset(args[0], -1)], "n -> n - 1"), ([_offset(args[0], +1)], "n -> n + 1")] if len(args) == 1 \
            else [([_offset(args[0], +1), *args[1:]], "start + 1"), ([args[0], _offset(args[1], -1), *args[2:]],
                                                                     "stop - 1")]
        for new_args, what in changes:
            self.add(node, _replace(node, args=new_args), "range", f"off by one ({what}) in `{text}`")

    def visit_Slice(self, node):
        for part, by in (("lower", +1), ("upper", -1)):
            bound = getattr(node, part)
            if bound is not None:
                self.add(bound, _offset(bound, by), "range", f"slice {part} bound off by one: "
                                                             f"`{ast.unparse(_offset(bound, by))}`")
        self.generic_visit(node)

    def visit_Attribute(self, node):
        if node.attr == "T":
            self.add(node, node.value, "transpose", f"`.T` dropped in `{ast.unparse(node)}`")
        self.generic_visit(node)

    def visit_Return(self, node):
        if node.value is not None and self.shapes is not None:
            returned = ast.unparse(node.value)
            for name in self.shapes.get(node.lineno, []):
                if name != returned:
                    self.add(node.value, ast.Name(name), "return_swap", f"returns `{name}` instead of `{returned}`")
        self.generic_visit(node)


def _load(target: ast.AST) -> ast.AST:
    new = copy.deepcopy(target)
    for n in ast.walk(new):
        if hasattr(n, "ctx"):
            n.ctx = ast.Load()
    return new


def _line_offsets(data: bytes) -> list[int]:
    offsets, position = [0], 0
    for line in data.splitlines(True):
        position += len(line)
        offsets.append(position)
    return offsets


def apply_edit(source: str, edit: Edit) -> str:
    """The source with the edited node's span replaced (col offsets are UTF-8 bytes)."""
    data = source.encode("utf-8")
    lines = _line_offsets(data)
    node = edit.node
    start = lines[node.lineno - 1] + node.col_offset
    end = lines[node.end_lineno - 1] + node.end_col_offset
    text = ast.unparse(ast.fix_missing_locations(edit.replacement))
    if isinstance(edit.replacement, ast.expr) and not isinstance(edit.replacement, ATOMS) and not (
            isinstance(edit.replacement, ast.Constant) and not str(edit.replacement.value).startswith("-")):
        text = f"({text})"
    return (data[:start] + text.encode("utf-8") + data[end:]).decode("utf-8")


def generate_mutants(exercise: str, source: str, *, shapes: dict[int, list[str]] | None = None) -> list[Mutant]:
    """Every distinct mutant of `source` that still compiles, in source order."""
    tree = ast.parse(source)
    collector = _Collector(shapes)
    collector.visit(tree)
    seen, mutants = {ast.dump(tree)}, []
    for edit in sorted(collector.edits, key=lambda e: (e.node.lineno, e.node.col_offset)):
        mutated = apply_edit(source, edit)
        try:
            dumped = ast.dump(ast.parse(mutated))
            compile(mutated, "<mutant>", "exec")
        except SyntaxError:
            continue
        if dumped in seen:
            continue
        seen.add(dumped)
        mutants.append(Mutant(exercise, edit.operator, edit.node.lineno, edit.description, mutated,
                              edit.node.col_offset))
    return mutants


def sample(mutants: list[Mutant], per_operator: int | None) -> list[Mutant]:
    """At most `per_operator` mutants of each operator, spread evenly over the module (deterministic:
    every k-th one in source order)."""
    if not per_operator:
        return mutants
    chosen = []
    for operator in dict.fromkeys(m.operator for m in mutants):
        group = [m for m in mutants if m.operator == operator]
        step = max(len(group) / per_operator, 1.0)
        chosen += [group[int(i * step)] for i in range(min(per_operator, len(group)))]
    return sorted(chosen, key=lambda m: (m.line, mutants.index(m)))


# -- accepted differences -------------------------------------------------------------------------

def load_accepted(exercise: str, cases_root: Path | None = None) -> dict[str, str]:
    """{mutant key: why SPEC.md allows it} from tests/cases/exerciseN/mutants.toml:

        [accepted]
        "constant@25: eps 1e-07 -> 1e-06" = "SPEC.md allows eps between 1e-8 and 1e-5"
    """
    path = (cases_root or CASES_ROOT) / exercise / ACCEPTED_FILE
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    unknown = set(data) - {"accepted"}
    if unknown:
        raise ValueError(f"{path}: unknown table(s) {sorted(unknown)}; only [accepted]")
    return {str(k): str(v) for k, v in data.get("accepted", {}).items()}


# -- running --------------------------------------------------------------------------------------

def _timed_out(result) -> bool:
    return any("ran longer than" in c.message or "used up the" in c.message or "took longer than" in c.message
               for c in result.checks if not c.passed)


def run_mutants(exercise_name: str, *, per_operator: int | None = None, isolation: str = "auto",
                check_timeout: float | None = 3.0, submission_timeout: float | None = 20.0,
                cases_root: Path | None = None, progress: Callable[[MutantResult], None] | None = None) -> ExerciseReport:
    """Generate, grade and classify the mutants of one exercise's reference, in one warm sandbox.
    Short limits make a hanging mutant cheap; None keeps the catalog's (exercises 4 and 7 train on
    MNIST). The reference is graded first under the same limits and must keep full marks.
    One sandbox, no parallel workers: on a shared 2-core machine the grader's and the child's
    processes already keep both cores busy."""
    import tempfile

    from grader.course.mutant_probes import traced_return_shapes
    from grader.options import GradingOptions, Limits
    from grader.pipeline import grade_submission
    from grader.sandbox.launcher import Launcher

    exercise = get_exercise(exercise_name)
    started = time.perf_counter()
    source = exercise.reference_path.read_text(encoding="utf-8")
    mutants = generate_mutants(exercise.name, source, shapes=traced_return_shapes(exercise.name))
    report = ExerciseReport(exercise.name, generated=len(mutants), reference_source=source)
    accepted = load_accepted(exercise.name, cases_root)
    options = GradingOptions(isolation=isolation, limits=Limits(check_timeout=check_timeout,
                                                                 submission_timeout=submission_timeout))
    launcher = Launcher(options.exercise(exercise), isolation=isolation)
    launcher.start()
    try:
        with tempfile.TemporaryDirectory(prefix=f"mutants-{exercise.name}-") as folder:
            def grade(text: str):
                path = Path(folder) / f"{exercise.module}.py"
                path.write_text(text, encoding="utf-8")
                return grade_submission(exercise.name, path, options=options, launcher=launcher)

            baseline = grade(source)
            if baseline.score < baseline.max_score:
                lost = [f"{c.name}: {c.message}" for c in baseline.checks if not c.passed]
                raise RuntimeError(f"{exercise.name}: the reference loses points under the mutation run's limits "
                                   f"(check {check_timeout} s, submission {submission_timeout} s): {lost}")
            for mutant in sample(mutants, per_operator):
                result = _classify(exercise, mutant, grade, accepted)
                report.results.append(result)
                if progress:
                    progress(result)
    finally:
        launcher.close()
    report.seconds = time.perf_counter() - started
    return report


def _classify(exercise: Exercise, mutant: Mutant, grade, accepted: dict[str, str]) -> MutantResult:
    from grader.course.mutant_probes import classify_survivor

    result = grade(mutant.source)
    if result.score < result.max_score and any(c.grader_fault for c in result.checks):
        result = grade(mutant.source)  # the machine's fault, not the mutant's: once more
    lost = [c.name for c in result.checks if not c.passed and not c.grader_fault]
    if lost:
        return MutantResult(mutant, TIMEOUT if _timed_out(result) else KILLED, ", ".join(lost))
    same, detail = classify_survivor(exercise.name, mutant.source)
    if same:
        return MutantResult(mutant, EQUIVALENT, detail)
    if mutant.key in accepted:
        return MutantResult(mutant, ACCEPTED, accepted[mutant.key])
    return MutantResult(mutant, SURVIVED, detail)


# -- reporting ------------------------------------------------------------------------------------

def format_reports(reports: list[ExerciseReport], width: int = 110) -> str:
    """One line per exercise, then every survivor and equivalent mutant by key."""
    out = [f"{'exercise':<10} {'mutants':>7} {'killed':>6} {'timeout':>7} {'survived':>8} {'equivalent':>10} "
           f"{'accepted':>8} {'score':>6} {'seconds':>7}"]
    for r in reports:
        score = f"{r.score:.0%}" if r.score is not None else "-"
        out.append(f"{r.exercise:<10} {len(r.results):>7} {r.count(KILLED):>6} {r.count(TIMEOUT):>7} "
                   f"{r.count(SURVIVED):>8} {r.count(EQUIVALENT):>10} {r.count(ACCEPTED):>8} {score:>6} "
                   f"{r.seconds:>7.0f}")
        if len(r.results) < r.generated:
            out.append(f"    (a deterministic sample of {len(r.results)} of {r.generated} mutants)")
    for r in reports:
        for outcome in (SURVIVED, EQUIVALENT, ACCEPTED):
            for item in r.of(outcome):
                out.append(f"  {r.exercise} {outcome}: {item.mutant.key}"[:width])
                if item.detail:
                    out.append(f"      {item.detail}"[:width])
    return "\n".join(out)


def render_html(reports: list[ExerciseReport]) -> str:
    from grader.report.html import environment

    views = []
    for r in reports:
        name = get_exercise(r.exercise).module + ".py"
        views.append({"report": r, "score": r.score,
                      "survivors": [(i, i.mutant.diff(r.reference_source, name)) for i in r.of(SURVIVED)],
                      "equivalent": [(i, i.mutant.diff(r.reference_source, name)) for i in r.of(EQUIVALENT)],
                      "accepted": [(i, i.mutant.diff(r.reference_source, name)) for i in r.of(ACCEPTED)]})
    return environment().get_template("mutants.html").render(exercises=views, outcomes=OUTCOMES)
