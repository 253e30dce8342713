"""`grade check-course`: the reference full, the stub zero, each case its verdict, as a table."""

import shutil

import pytest
from click.testing import CliRunner

from grader.catalog import get_exercise
from grader.cli import main
from grader.course.course_check import Row, check_exercise, format_table
from grader.course.verdicts import CASES_ROOT

EXERCISE = get_exercise("exercise1")


@pytest.mark.slow
def test_exercise1_is_consistent():
    """Does check-course find exercise 1 in order: interface, reference, stub and every case?"""
    result = CliRunner().invoke(main, ["check-course", "--exercise", "exercise1"])
    assert result.exit_code == 0, result.output
    cases = sorted(p.name for p in (CASES_ROOT / "exercise1").iterdir() if p.is_dir())
    lines = result.stdout.splitlines()
    for name in ["interface", "reference", "stub", *cases]:
        assert any(f" {name} " in f" {line} " and line.rstrip().endswith("ok") for line in lines), name
    assert "all as expected" in result.stdout


def test_mislabelled_cases_are_reported(tmp_path):
    """Is a buggy case expected to pass, a correct one expected to fail, a wrong check, or failures
    other than the table's also_fails, reported, with exit status 1?"""
    cases = tmp_path / "exercise1"
    cases.mkdir()
    shutil.copytree(CASES_ROOT / "exercise1" / "bug_softmax_axis1", cases / "ok_really_buggy")
    shutil.copytree(EXERCISE.reference_path.parent, cases / "bug_really_correct")
    shutil.copytree(CASES_ROOT / "exercise1" / "bug_cee_log10", cases / "listed_wrong_check")
    shutil.copytree(CASES_ROOT / "exercise1" / "bug_softmax_axis1", cases / "bug_costs_other_checks")
    (cases / "verdicts.toml").write_text(
        '[ok_really_buggy]\nfull_marks = true\n\n[bug_really_correct]\ncheck = "softmax_vector"\nwords = "axis"\n\n'
        '[listed_wrong_check]\ncheck = "softmax_vector"\nwords = "axis"\n\n'
        '[bug_costs_other_checks]\ncheck = "softmax_vector"\nwords = "axis=-1"\nalso_fails = ["softmax_large_scores"]\n')
    rows = {r.submission: r for r in check_exercise(EXERCISE, cases_root=tmp_path)}
    assert rows["reference"].ok and rows["stub"].ok and rows["interface"].ok
    assert not rows["ok_really_buggy"].ok and "failed" in rows["ok_really_buggy"].detail
    assert not rows["bug_really_correct"].ok and "full marks" in rows["bug_really_correct"].detail
    assert not rows["listed_wrong_check"].ok and "failed instead" in rows["listed_wrong_check"].detail
    assert not rows["bug_costs_other_checks"].ok and "the table says exactly" in rows["bug_costs_other_checks"].detail
    table = format_table(list(rows.values()))
    assert "OFF" in table and "4 off" in table


def test_unreadable_verdicts_are_a_row_that_is_off(tmp_path):
    """Does a case folder without an entry in verdicts.toml give one row that is off, naming the file
    and the folder, rather than a case graded by guesswork or skipped?"""
    cases = tmp_path / "exercise1"
    shutil.copytree(CASES_ROOT / "exercise1" / "bug_softmax_axis1", cases / "bug_softmax_axis1")
    shutil.copytree(CASES_ROOT / "exercise1" / "ok_book_style", cases / "ok_unlisted")
    (cases / "verdicts.toml").write_text('[bug_softmax_axis1]\ncheck = "softmax_vector"\nwords = "axis=-1"\n')
    rows = check_exercise(EXERCISE, cases_root=tmp_path)
    assert [r.submission for r in rows] == ["interface", "reference", "stub", "verdicts.toml"]
    off = rows[-1]
    assert not off.ok and str(cases / "verdicts.toml") in off.detail and "ok_unlisted" in off.detail


def test_table_lists_details_of_rows_that_are_off():
    """Does the table put each problem's detail under its row?"""
    rows = [Row("exercise9", "reference", "full marks", "3/4", False, "failed: a, b"),
            Row("exercise9", "stub", "zero", "0/4", True)]
    table = format_table(rows)
    assert "failed: a, b" in table and "1 off" in table
