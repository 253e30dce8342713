"""`grade check-course`: the reference full, the stub zero, each case its verdict, as a table."""

import shutil

from click.testing import CliRunner

from grader.catalog import get_exercise
from grader.cli import main
from grader.course.course_check import CASES_ROOT, Row, check_exercise, expected_verdict, format_table, verdict_table

EXERCISE = get_exercise("exercise1")


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
    """Is a buggy case expected to pass, or a correct one expected to fail, reported, with exit status 1?"""
    cases = tmp_path / "cases" / "exercise1"
    cases.mkdir(parents=True)
    shutil.copytree(CASES_ROOT / "exercise1" / "bug_softmax_axis1", cases / "ok_really_buggy")
    shutil.copytree(EXERCISE.reference_path.parent, cases / "bug_really_correct")
    shutil.copytree(CASES_ROOT / "exercise1" / "bug_cee_log10", cases / "listed_wrong_check")
    (tmp_path / "test_exercise1.py").write_text(
        'VERDICTS = {"listed_wrong_check": ("softmax_vector", "axis"), "bug_really_correct": ("x", "")}\n')
    rows = {r.submission: r for r in check_exercise(EXERCISE, tests_root=tmp_path, cases_root=tmp_path / "cases")}
    assert rows["reference"].ok and rows["stub"].ok and rows["interface"].ok
    assert not rows["ok_really_buggy"].ok and "failed" in rows["ok_really_buggy"].detail
    assert not rows["bug_really_correct"].ok and "full marks" in rows["bug_really_correct"].detail
    assert not rows["listed_wrong_check"].ok and "failed instead" in rows["listed_wrong_check"].detail
    table = format_table(list(rows.values()))
    assert "OFF" in table and "3 off" in table


def test_verdict_table_is_read_from_the_test_module(tmp_path):
    """Is the case table of tests/test_exerciseN.py read as the other developers write it?"""
    (tmp_path / "test_exercise1.py").write_text(
        "import pytest\nEXERCISE = 1\nOTHER = {'a': 1}\nVECTOR, BATCH = 'softmax_vector', 'softmax_batch_rows'\n"
        "VERDICTS = {\n    'bug_softmax_axis1': (VECTOR, 'axis=-1'),\n    'ok_book_style': None,\n"
        "    'bug_softmax_no_keepdims': Caught(BATCH, 'keepdims', frozenset({'x'})),\n}\n")
    table = verdict_table(EXERCISE, tests_root=tmp_path)
    assert table == {"bug_softmax_axis1": ("softmax_vector", "axis=-1"), "ok_book_style": None,
                     "bug_softmax_no_keepdims": ("softmax_batch_rows", "keepdims")}
    assert expected_verdict("ok_book_style", table) is None
    assert expected_verdict("bug_softmax_axis1", table) == ("softmax_vector", "axis=-1")
    assert expected_verdict("ok_unlisted", {}) is None
    assert expected_verdict("unlisted_mistake", {}) == ("", "")


def test_table_lists_details_of_rows_that_are_off():
    """Does the table put each problem's detail under its row?"""
    rows = [Row("exercise9", "reference", "full marks", "3/4", False, "failed: a, b"),
            Row("exercise9", "stub", "zero", "0/4", True)]
    table = format_table(rows)
    assert "failed: a, b" in table and "1 off" in table
