"""The checks' messages in Korean and English (issue 21, items 5 and 6): the language changes
words only, never a verdict or the key that groups a mistake in the class summary; arrays in
messages read as aligned matrices in one number format, with their shape, cut to a readable size."""

from __future__ import annotations

import re

import numpy as np
import pytest

from conftest import CORPUS
from grader.checks import translated
from grader.checks.api import MATRIX_LINE, CheckFailed, fail, show, show_block
from grader.checks.outcome import cause_of, classify
from grader.i18n import language
from grader.report import fact_label
from grader.report.terminal import render_check
from grader.results import FAILED, CheckResult, Failure, cause_key

HANGUL = re.compile("[\uac00-\ud7a3]")
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")

BUGGY = [("exercise1", "bug_softmax_squeeze"), ("exercise1", "bug_cee_one_hot_by_values"),
         ("exercise1", "bug_cee_single_label_by_size"),
         pytest.param("exercise3", "bug_softmax_without_max_shift", marks=pytest.mark.slow),
         pytest.param("exercise3", "bug_label_check_by_last_dim", marks=pytest.mark.slow)]
"""Wrong answers (exercise 1's softmax and labels, exercise 3's overflow and label detection) and
one submission whose code raises (status error)."""


def numbers(text: str) -> list[str]:
    return sorted(NUMBER.findall(text))


def graded_in(grade, code: str, exercise: str, case: str):
    with language(code):
        return grade(exercise, CORPUS / exercise / case)


@pytest.mark.parametrize("exercise, case", BUGGY)
def test_korean_changes_the_words_only(grade, exercise, case):
    """Does the same buggy submission, graded in English and in Korean, get the same statuses,
    scores, check names and class-summary keys, with Korean messages and hints that keep the
    numbers of the English ones?"""
    english, korean = graded_in(grade, "en", exercise, case), graded_in(grade, "ko", exercise, case)
    assert english.score < english.max_score
    assert [(c.name, c.status, c.score, c.max_score, cause_key(c)) for c in korean.checks] == \
        [(c.name, c.status, c.score, c.max_score, cause_key(c)) for c in english.checks]
    assert korean.score == english.score
    wrong = [(e, k) for e, k in zip(english.checks, korean.checks) if not e.passed]
    assert wrong
    for en, ko in wrong:
        assert HANGUL.search(ko.message), ko.message
        assert HANGUL.search(ko.title), ko.title
        if en.hint:
            assert HANGUL.search(ko.hint), ko.hint
        if "contract" not in en.name and en.name != "call_sequences":  # shrunk examples may differ by timing
            assert numbers(ko.message) == numbers(en.message), (en.message, ko.message)


def test_the_cause_key_is_made_from_the_english_sentences():
    """Is a wrong answer's key (a hint built from several translated sentences, a translated
    call) the English one when the check ran in Korean, and so equal in both languages?"""
    def outcome(code: str) -> CheckResult:
        with language(code):
            translated.forget()
            try:
                fail(translated._("{call} gave {got}; expected {expected}.").format(call="f(x)", got=2, expected=1),
                     call=translated._("softmax(x) for x of shape {shape}, dtype {dtype}{layout}").format(
                         shape=(2, 3), dtype="float64", layout=""),
                     hint=translated._("exp overflowed: subtract each row's maximum before np.exp.") + " "
                     + translated._("Here x has {axes} axes.").format(axes=3))
            except CheckFailed as exc:
                verdict = classify(exc)
            check = CheckResult(name="softmax", max_score=1, visibility="public", status=verdict.status,
                                message=verdict.message, hint=verdict.hint, failure=verdict.failure)
            check.cause = cause_of(check)
            return check

    english, korean = outcome("en"), outcome("ko")
    assert HANGUL.search(korean.hint) and HANGUL.search(korean.failure.call)
    assert cause_key(korean) == cause_key(english)
    assert "exp overflowed" in cause_key(english) and "softmax(x) for x of shape" in cause_key(english)


def test_a_student_code_error_has_one_key_in_both_languages(grade):
    """Is a module that does not import (status error, message from grader/sandbox/errors.py)
    keyed alike in English and Korean, and told in Korean with its file and line?"""
    case = CORPUS / "exercise1" / "bug_softmax_squeeze"
    source = (case / "losses.py").read_text() if (case / "losses.py").exists() else "import numpy as np\n"
    broken = source + "\ndef oops(:\n    pass\n"

    def graded(code, tmp):
        (tmp / "losses.py").write_text(broken)
        with language(code):
            return grade("exercise1", tmp)

    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        english, korean = graded("en", Path(folder)), graded("ko", Path(folder))
    assert {c.status for c in english.checks} == {"error"}
    assert [cause_key(c) for c in korean.checks] == [cause_key(c) for c in english.checks]
    assert "SyntaxError" in korean.checks[0].message and "번째 줄" in korean.checks[0].message
    assert HANGUL.search(korean.checks[0].message)


# -- readable numbers ---------------------------------------------------------------------------

def rows_of(block: str) -> list[str]:
    return block.splitlines()[1:]


def test_a_large_matrix_is_cut_with_its_shape_stated():
    """Is a (100, 12) array shown as its first rows and columns, aligned, one number format,
    with the shape and the cut stated in the heading?"""
    values = np.random.default_rng(0).normal(size=(100, 12))
    block = show_block(values)
    heading, rows = block.splitlines()[0], rows_of(block)
    assert "shape (100, 12)" in heading and "first 3 rows" in heading and "columns" in heading
    assert len(rows) == 3
    assert len({len(row) for row in rows}) == 1  # aligned: every row as wide
    assert all(len(row) <= MATRIX_LINE and row.endswith("…]") for row in rows)
    cells = [cell for row in rows for cell in row.strip("[] …").split()]
    assert len({len(cell.lstrip("-").split(".")[1]) for cell in cells}) == 1  # one number of decimals
    assert float(cells[0]) == pytest.approx(values[0, 0], abs=1e-5)


def test_values_of_very_different_sizes_share_one_scientific_format():
    block = show_block(np.array([[1e-7, 2.5, 4.0], [1.0, 1.0, -3.25e6]]))
    cells = [cell for row in rows_of(block) for cell in row.strip().strip("[]").split()]
    assert all(re.fullmatch(r"-?\d\.\d{3}e[-+]\d\d", cell) for cell in cells), cells
    assert block.splitlines()[0] == "array of shape (2, 3):"


def test_a_small_matrix_is_shown_whole_and_an_integer_array_as_integers():
    assert show_block(np.array([[0.1, 0.05], [0.6, 0.0]])) == "array of shape (2, 2):\n  [0.10  0.05]\n  [0.60  0.00]"
    assert show_block(np.array([[1, 20], [300, 4]])) == ("array of shape (2, 2), dtype int64:\n  [  1   20]\n"
                                                         "  [300    4]")


def test_inline_values_state_the_shape_when_cut():
    assert show(np.array([0.1, 0.05, 0.6])) == "[0.10, 0.05, 0.60]"
    long = show(np.arange(100) / 8)
    assert long.startswith("array of shape (100,): [0.000, 0.125,") and long.endswith(", …]")
    assert show(np.zeros((1, 1, 1))) == "[[[0.0]]]"


def test_the_heading_is_translated():
    with language("ko"):
        assert show_block(np.zeros((8, 3))).splitlines()[0] == "형상 (8, 3)인 배열, 앞의 3행:"


def test_the_terminal_prints_a_matrix_fact_row_by_row():
    """Does the terminal keep each matrix row of a fact on its own line (the paragraph wrapping
    never joins or breaks rows), with the fact's label translated?"""
    got = show_block(np.random.default_rng(1).normal(size=(4, 9)) * 1000)
    check = CheckResult(name="softmax", max_score=1, visibility="public", status=FAILED, message="m",
                        failure=Failure("softmax(x) differs from the expected result.", got=got))
    text = render_check(check, width=80)
    for row in rows_of(got):
        assert any(line.strip() == row.strip() for line in text.splitlines()), (row, text)
    with language("ko"):
        assert f"{fact_label('Got')}: array of shape (4, 9)" in render_check(check, width=80)
        assert HANGUL.search(fact_label("Got"))
