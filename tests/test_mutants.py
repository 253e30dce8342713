"""Mutation testing of the checks (grader/course/mutants.py): does each operator make the change
it names, are equivalent mutants told apart from real differences, and do the checks of the
numpy exercises kill at least 95% of the non-equivalent mutants of their reference?"""

from __future__ import annotations

import time

import pytest

from grader.catalog import get_exercise
from grader.course.mutant_probes import classify_survivor
from grader.course.mutants import (ACCEPTED, EQUIVALENT, SURVIVED, generate_mutants, load_accepted, render_html,
                                   run_mutants, sample)

SMALL = '''import numpy as np

EPS = 1e-7


def f(x, t, n):
    """doc"""
    y = x.copy()
    y = y - 0.5
    z = np.sqrt(np.sum(y * y, axis=0, keepdims=True) + EPS)
    w = x.T @ t
    y += w.sum()
    for i in range(n):
        y[i] = y[i] + x[1:][0, 0]
    if n > 2:
        return z
    return y
'''


def changed_lines(source: str) -> list[str]:
    before, after = SMALL.splitlines(), source.splitlines()
    return [b.strip() for a, b in zip(before, after) if a != b]


def mutants_of(operator: str) -> dict[str, list[str]]:
    return {m.description: changed_lines(m.source)
            for m in generate_mutants("demo", SMALL, shapes={17: ["y", "w"]}) if m.operator == operator}


@pytest.mark.parametrize("operator, description, line", [
    ("arith", "`-` -> `+` in `y - 0.5`", "y = (y + 0.5)"),
    ("arith", "`+=` -> `-=`", "y -= w.sum()"),
    ("compare", "`>` -> `>=` in `n > 2`", "if (n >= 2):"),
    ("constant", "0.5 -> 1.0", "y = y - 1.0"),
    ("constant", "eps 1e-07 -> 0", "EPS = 0.0"),
    ("eps_position", "eps moved outside sqrt: `np.sqrt(np.sum(y * y, axis=0, keepdims=True)) + EPS`",
     "z = (np.sqrt(np.sum(y * y, axis=0, keepdims=True)) + EPS)"),
    ("range", "off by one (n -> n - 1) in `range(n)`", "for i in range(n - 1):"),
    ("range", "slice lower bound off by one: `1 + 1`", "y[i] = y[i] + x[(1 + 1):][0, 0]"),
    ("reduction", "`sum` -> `mean` in `np.sum(y * y, axis=0, keepdims=True)`",
     "z = np.sqrt(np.mean(y * y, axis=0, keepdims=True) + EPS)"),
    ("reduction", "`axis=` dropped in `np.sum(y * y, axis=0, keepdims=True)`",
     "z = np.sqrt(np.sum(y * y, keepdims=True) + EPS)"),
    ("reduction", "axis=0 -> axis=1 in `np.sum(y * y, axis=0, keepdims=True)`",
     "z = np.sqrt(np.sum(y * y, axis=1, keepdims=True) + EPS)"),
    ("reduction", "`keepdims=` dropped in `np.sum(y * y, axis=0, keepdims=True)`",
     "z = np.sqrt(np.sum(y * y, axis=0) + EPS)"),
    ("transpose", "`.T` dropped in `x.T`", "w = x @ t"),
    ("copy", "`.copy()` removed in `x.copy()`", "y = x"),
    ("inplace", "`y += w.sum()` made out of place", "y = y + w.sum()"),
    ("inplace", "`y = y - 0.5` made in place", "y -= 0.5"),
    ("delete", "`w = x.T @ t` deleted", "pass"),
    ("return_swap", "returns `w` instead of `y`", "return w"),
])
def test_each_operator_makes_the_change_it_names(operator, description, line):
    """Does each operator change exactly one line of a small module, the way its description says?"""
    made = mutants_of(operator)
    assert description in made, sorted(made)
    assert made[description] == [line]


def test_generator_skips_docstrings_and_duplicates_and_keeps_the_rest_of_the_text():
    """Are docstrings left alone, is every mutant distinct and compilable, and is every other line untouched?"""
    mutants = generate_mutants("demo", SMALL, shapes={17: ["y", "w"]})
    assert len({m.source for m in mutants}) == len(mutants)
    assert all('"""doc"""' in m.source for m in mutants)
    for m in mutants:
        compile(m.source, "<mutant>", "exec")
        assert len(changed_lines(m.source)) <= 1 or m.source.count("\n") != SMALL.count("\n")


def test_sample_is_deterministic_and_capped_per_operator():
    """Does sampling keep at most N mutants of each operator, the same ones every time?"""
    mutants = generate_mutants("demo", SMALL)
    chosen = sample(mutants, 2)
    assert chosen == sample(mutants, 2)
    operators = {m.operator for m in mutants}
    assert all(sum(m.operator == op for m in chosen) == min(2, sum(m.operator == op for m in mutants))
               for op in operators)


def reference_with(exercise: str, old: str, new: str) -> str:
    source = get_exercise(exercise).reference_path.read_text(encoding="utf-8")
    assert old in source
    return source.replace(old, new, 1)


@pytest.mark.parametrize("exercise, old, new, equivalent", [
    ("exercise1", "    x = np.asarray(x, dtype=float)\n", "    pass\n", True),
    ("exercise1", "return e / np.sum(e, axis=-1, keepdims=True)", "return e / np.sum(e, keepdims=True)", False),
    ("exercise2", "    x = init_x\n", "    x = init_x.copy()\n", True),
    ("exercise2", "x[idx] = original\n", "x[idx] = original + 1e-12\n", False),
    ("exercise5", "params[key] -= self.lr * grads[key]\n", "params[key] = params[key] - self.lr * grads[key]\n", True),
    ("exercise6", "std = np.sqrt(var + EPS)", "std = np.sqrt(var) + EPS", False),
    ("exercise6", "> self.dropout_ratio", ">= self.dropout_ratio", True),
])
def test_equivalence_is_judged_by_what_the_module_computes(exercise, old, new, equivalent):
    """Is a survivor called equivalent exactly when it agrees with the reference on every probe value
    (x restored bit for bit, eps visible on near-constant features)?"""
    same, detail = classify_survivor(exercise, reference_with(exercise, old, new))
    assert same is equivalent, detail


def test_accepted_table_is_read(tmp_path):
    """Does mutants.toml's [accepted] table give each accepted mutant its reason, and refuse other tables?"""
    folder = tmp_path / "exercise6"
    folder.mkdir()
    (folder / "mutants.toml").write_text('[accepted]\n"constant@6:6: x" = "allowed"\n')
    assert load_accepted("exercise6", tmp_path) == {"constant@6:6: x": "allowed"}
    (folder / "mutants.toml").write_text('[accepted_mutants]\n"a" = "b"\n')
    with pytest.raises(ValueError, match="accepted_mutants"):
        load_accepted("exercise6", tmp_path)


MUTANT_THRESHOLD = 0.95
PER_OPERATOR = 15
"""A deterministic sample of at most 15 mutants per operator per exercise keeps the whole test at
~2 minutes on a loaded 2-core machine; `grade check-course --mutants` runs all of them."""


@pytest.fixture(scope="module")
def mutation_reports():
    return {}


@pytest.mark.slow
@pytest.mark.parametrize("exercise", ["exercise1", "exercise2", "exercise3", "exercise5", "exercise6"])
def test_checks_kill_the_mutants_of_the_reference(exercise, mutation_reports):
    """Do the exercise's checks kill at least 95% of the non-equivalent mutants of its reference?"""
    started = time.perf_counter()
    report = run_mutants(exercise, per_operator=PER_OPERATOR)
    mutation_reports[exercise] = report
    survivors = [r.mutant.key for r in report.of(SURVIVED)]
    assert report.score is not None and report.score >= MUTANT_THRESHOLD, (report.score, survivors)
    assert all(r.detail for r in report.of(EQUIVALENT) + report.of(ACCEPTED))
    assert time.perf_counter() - started < 120
    if exercise == "exercise6":
        page = render_html(list(mutation_reports.values()))
        assert "Mutation report" in page and exercise in page
