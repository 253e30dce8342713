"""The instructor's review of a class (issue 20, point 1): each check's mistakes grouped by their
cause with the students who made them, the submissions that cannot be graded check by check
counted once apart, a "needs help" list, and a student table in three orders.

A small class is graded by a real batch: seeded mistakes from tests/cases/exercise1 (two
students with the same log10 mistake), a file of another exercise, the untouched handout and a
module that does not import."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from grader.batch import run as batch
from grader.catalog import get_exercise
from grader.options import GradingOptions, Limits
from grader.report.gradebook import apart_reason, check_stats, needs_help, summarize
from grader.results import CheckResult, Failure, GradeResult, cause_key

CASES = Path(__file__).resolve().parent / "cases" / "exercise1"
OPTIONS = GradingOptions(limits=Limits(check_timeout=3.0, submission_timeout=10.0))
CLASS = {"ana": "bug_cee_log10", "ben": "bug_cee_log10", "cy": "bug_cee_batch_sum", "dee": "bug_sse_no_half",
         "eve": "ok_book_style", "flo": "bug_cee_missing_return"}


@pytest.fixture(scope="module")
def review_class(tmp_path_factory) -> dict:
    """A graded class: OUT and the results by student."""
    root = tmp_path_factory.mktemp("review")
    subs = root / "subs"
    subs.mkdir()
    for student, case in CLASS.items():
        shutil.copytree(CASES / case, subs / student)
    (subs / "wrong.py").write_text(get_exercise("exercise2").reference_path.read_text())
    (subs / "stub.py").write_text(get_exercise("exercise1").stub_path.read_text())
    (subs / "noimport.py").write_text("import no_such_module_here\n\ndef softmax(x):\n    return x\n")
    out = root / "out"
    batch.run_batch(subs, "exercise1", out, jobs=1, options=OPTIONS)
    results = {p.parent.name: GradeResult.from_dict(json.loads(p.read_text())) for p in out.glob("*/result.json")}
    return {"out": out, "subs": subs, "results": results}


def failed(name: str, rationale: str, hint: str = "", call: str = "f(x)", cause: str = "") -> CheckResult:
    return CheckResult(name=name, max_score=1, visibility="public", status="failed", message=rationale, hint=hint,
                       failure=Failure(rationale=rationale, call=call, cause=cause))


def test_cause_key_ignores_the_numbers_and_separates_the_diagnoses():
    """Do the same mistake with other values share a key, and one message from different mistakes
    (the hint differs) not? An explicit cause wins over the hint; a pass has no key."""
    log10_a = failed("c", "f(x) gave -16.1181; expected 2.3.", hint="that is log base 10: use np.log.")
    log10_b = failed("c", "f(x) gave -7.25; expected 3.1.", hint="that is log base 10: use np.log.")
    batch_sum = failed("c", "f(x) gave -16.1181; expected 2.3.", hint="divide by the batch size N = 4.")
    batch_sum_8 = failed("c", "f(x) gave 9.1; expected 1.2.", hint="divide by the batch size N = 8.")
    named = failed("c", "f(x) gave 9.1; expected 1.2.", hint="divide by the batch size N = 8.", cause="batch-sum")
    assert cause_key(log10_a) == cause_key(log10_b) != cause_key(batch_sum) == cause_key(batch_sum_8)
    assert cause_key(named) not in (cause_key(batch_sum), "") and "batch-sum" in cause_key(named)
    passed = CheckResult(name="c", max_score=1, visibility="public", status="passed", score=1)
    assert cause_key(passed) == ""


def test_groups_name_their_students():
    """Does check_stats give each cause its own group with exactly its students, commonest first?"""
    hint = "that is log base 10: use np.log."
    graded = [(name, GradeResult("exercise1", checks=[check])) for name, check in [
        ("ana", failed("c", "f(x) gave -16.1; expected 2.3.", hint=hint)),
        ("ben", failed("c", "f(x) gave -7.2; expected 3.1.", hint=hint)),
        ("cy", failed("c", "f(x) gave -16.1; expected 2.3.", hint="divide by the batch size N = 4.")),
        ("dee", CheckResult(name="c", max_score=1, visibility="public", status="passed", score=1))]]
    [row] = check_stats(graded, top=6)
    assert row["passed"] == 1 and row["total"] == 4
    assert [(g["count"], g["students"]) for g in row["messages"]] == [(2, ["ana", "ben"]), (1, ["cy"])]
    assert row["messages"][0]["hint"] == hint


def test_seeded_mistakes_are_grouped_under_their_cause_with_the_right_names(review_class):
    """In a real batch, do the two log10 students share one group of the check that catches it,
    apart from the batch-sum student, and is the group's hint the log10 diagnosis?"""
    summary = summarize("exercise1", sorted(review_class["results"].items()))
    checks = {c["name"]: c for c in summary["checks"]}
    groups = {tuple(g["students"]): g for g in checks["cross_entropy_book_example"]["messages"]}
    assert ("ana", "ben") in groups and "natural logarithm" in groups["ana", "ben"]["hint"]
    batch_groups = {tuple(g["students"]): g for g in checks["cross_entropy_batch_one_hot"]["messages"]}
    assert "cy" in {s for students in batch_groups for s in students}
    assert not any("cy" in students and "ana" in students for students in batch_groups)


def test_unimportable_empty_and_wrong_exercise_are_counted_once_apart(review_class):
    """Are the wrong exercise, the stub and the module that does not import listed once, with why,
    and absent from every per-check group?"""
    summary = summarize("exercise1", sorted(review_class["results"].items()))
    apart = {row["student"]: row["why"] for row in summary["apart"]}
    assert set(apart) == {"wrong", "stub", "noimport"}
    assert apart["wrong"].startswith("probably exercise2")
    assert "nothing implemented" in apart["stub"]
    assert "could not be imported" in apart["noimport"]
    in_groups = {s for c in summary["checks"] for g in c["messages"] for s in g["students"]}
    assert not in_groups & set(apart)
    assert summary["counts"]["apart"] == 3


def test_needs_help_lists_lowest_scores_and_repeated_concepts(review_class):
    """Are the lowest scores listed lowest first, and is a student who made the same mistake in
    several checks named with those checks?"""
    results = review_class["results"]
    summary = summarize("exercise1", sorted(results.items()))
    lowest = summary["needs_help"]["lowest"]
    assert [row["percent"] for row in lowest] == sorted(row["percent"] for row in lowest)
    assert lowest[0]["student"] in {"wrong", "stub", "noimport"} and "eve" not in {r["student"] for r in lowest}
    repeated = {row["student"]: row for row in summary["needs_help"]["repeated"]}
    # log10 shows in every cross-entropy check; the same hint in two or more checks is one concept
    assert "ana" in repeated and len(repeated["ana"]["checks"]) >= 2
    assert "natural logarithm" in repeated["ana"]["concept"]
    assert "eve" not in repeated


def test_repeated_concept_needs_two_checks():
    hint = "did you forget `return`?"
    once = GradeResult("exercise1", checks=[failed("a", "x", hint=hint), failed("b", "y", hint="other")])
    twice = GradeResult("exercise1", checks=[failed("a", "x", hint=hint, call="f(1)"),
                                             failed("b", "y", hint=hint, call="g(2)")])
    helped = needs_help([("once", once), ("twice", twice)], {}, lowest=0)
    assert [row["student"] for row in helped["repeated"]] == ["twice"]
    assert apart_reason(once) == ""


def test_summary_page_groups_links_and_sorts(review_class):
    """Does summary.html name each group's students with links to their reports, link the apart
    list and the needs-help list, and hold the student table by score, name and status?"""
    html = (review_class["out"] / "summary.html").read_text()
    assert 'href="ana/instructor.html"' in html and 'href="ben/instructor.html"' in html
    assert 'id="apart"' in html and 'id="needs-help"' in html
    for order in ("score", "name", "status"):
        assert f'id="by-{order}"' in html
    by_name = html.split('id="by-name"')[1].split("</details>")[0]
    names = [part.split('"')[0] for part in by_name.split('data-student="')[1:]]
    assert names == sorted(names, key=str.casefold)
    by_score = html.split('id="by-score"')[1].split("</details>")[0]
    first = by_score.split('data-student="')[1].split('"')[0]
    assert first in {"wrong", "stub", "noimport"}
    assert "<script" not in html


def test_wrong_exercise_flag_in_result_gradebook_and_summary(review_class):
    """Is the file of another exercise flagged "probably exercise2" in result.json, the
    gradebook's status and the summary, and the right files not?"""
    out = review_class["out"]
    stored = json.loads((out / "wrong" / "result.json").read_text())
    assert any(note.startswith("probably exercise2") for note in stored["notes"]), stored["notes"]
    rows = {row["student"]: row for row in csv.DictReader((out / "gradebook.csv").open())}
    assert rows["wrong"]["status"].endswith("(probably exercise2)")
    assert "probably" not in rows["eve"]["status"] and "probably" not in rows["stub"]["status"]
    assert "probably exercise2" in (out / "summary.html").read_text()
