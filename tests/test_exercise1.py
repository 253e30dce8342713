"""Exercise 1 verdicts: reference, stub, buggy and correct-but-different submissions."""

import pytest

from conftest import CASES, assert_full_marks, assert_stub_scores_zero, assert_verdict, case_folders
from grader.catalog import get_exercise

EXERCISE = get_exercise("exercise1")

# case folder -> (check that must fail, words its message or hint must contain); None = full marks
VERDICTS = {
    "bug_softmax_no_max_shift": ("softmax_large_scores", "maximum"),
    "bug_softmax_whole_array_sum": ("softmax_batch_rows", "each row must sum to 1"),
    "bug_softmax_axis1": ("softmax_vector", "axis=-1"),
    "bug_softmax_no_keepdims": ("softmax_batch_rows", "keepdims"),
    "bug_sse_no_half": ("sum_squares_error_book_example", "factor 0.5"),
    "bug_sse_batch_sum": ("sum_squares_error_batch_mean", "divide by the batch size"),
    "bug_cee_no_delta": ("cross_entropy_zero_probability", "1e-7"),
    "bug_cee_batch_sum": ("cross_entropy_batch_one_hot", "divide by the batch size"),
    "bug_cee_one_hot_only": ("cross_entropy_single_label", "one integer"),
    "bug_cee_log10": ("cross_entropy_book_example", "natural logarithm"),
    "bug_cee_missing_return": ("cross_entropy_book_example", "forget `return`"),
    "ok_book_style": None,
    "ok_one_hot_sum_and_take_along_axis": None,
    "ok_loops_and_lists": None,
    "ok_logsumexp_and_mean": None,
    "ok_imports_and_helpers": None,
}


def test_reference_gets_full_marks(grade):
    """Does the reference solution get every point?"""
    assert_full_marks(grade("exercise1", EXERCISE.reference_path.parent))


def test_stub_scores_zero_with_not_implemented(grade):
    """Does the untouched handout score zero, every check saying 'not implemented yet'?"""
    assert_stub_scores_zero(grade("exercise1", EXERCISE.stub_path.parent))


@pytest.mark.parametrize("case", sorted(VERDICTS))
def test_case_verdict(grade, case):
    """Does each buggy case lose points on the check naming its mistake, and each correct one pass?"""
    assert_verdict(grade("exercise1", CASES / "exercise1" / case), VERDICTS[case])


def test_every_case_folder_is_in_the_table():
    """Is every case folder on disk listed in the verdict table (and no stale entry left)?"""
    assert case_folders("exercise1") == set(VERDICTS)
