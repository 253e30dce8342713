"""Exercise 2 verdicts: reference, stub, buggy and correct-but-different submissions."""

import pytest

from conftest import CASES, assert_full_marks, assert_stub_scores_zero, assert_verdict, case_folders
from grader.catalog import get_exercise

EXERCISE = get_exercise("exercise2")

# case folder -> (check that must fail, words its message or hint must contain); None = full marks
VERDICTS = {
    "bug_forward_difference": ("numerical_diff_book_example", "central difference"),
    "bug_tiny_h": ("numerical_diff_book_example", "rounding"),
    "bug_divide_by_h": ("numerical_diff_book_example", "divides by 2h"),
    "bug_gradient_on_copy": ("numerical_gradient_through_closure", "not a copy"),
    "bug_restore_by_arithmetic": ("numerical_gradient_restores_x", "x[i] = old"),
    "bug_no_restore": ("numerical_gradient_restores_x", "put it back"),
    "bug_one_dimensional_only": ("numerical_gradient_matrix", "np.nditer"),
    "bug_fixed_learning_rate": ("gradient_descent_uses_lr_and_steps", "use the lr and step_num"),
    "bug_returns_start": ("gradient_descent_book_example", "return the final x"),
    "bug_gradient_ascent": ("gradient_descent_book_example", "x -= lr"),
    "ok_ndindex_and_copy": None,
    "ok_flat_view": None,
    "ok_x_flat_and_history": None,
    "ok_vectorised_diff_and_while": None,
}


def test_reference_gets_full_marks(grade):
    """Does the reference solution get every point?"""
    assert_full_marks(grade("exercise2", EXERCISE.reference_path.parent))


def test_stub_scores_zero_with_not_implemented(grade):
    """Does the untouched handout score zero, every check saying 'not implemented yet'?"""
    assert_stub_scores_zero(grade("exercise2", EXERCISE.stub_path.parent))


@pytest.mark.parametrize("case", sorted(VERDICTS))
def test_case_verdict(grade, case):
    """Does each buggy case lose points on the check naming its mistake, and each correct one pass?"""
    assert_verdict(grade("exercise2", CASES / "exercise2" / case), VERDICTS[case])


def test_every_case_folder_is_in_the_table():
    """Is every case folder on disk listed in the verdict table (and no stale entry left)?"""
    assert case_folders("exercise2") == set(VERDICTS)
