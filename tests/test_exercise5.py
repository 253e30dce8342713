"""Exercise 5 verdicts: reference, stub, buggy and correct-but-different submissions."""

import pytest

from conftest import CASES, assert_full_marks, assert_stub_scores_zero, assert_verdict, case_folders
from grader.catalog import get_exercise

EXERCISE = get_exercise("exercise5")

# case folder -> (check that must fail, words its message or hint must contain); None = full marks
VERDICTS = {
    "bug_sgd_updates_copy": ("sgd_steps", "you updated a copy"),
    "bug_sgd_plus_sign": ("sgd_steps", "uphill"),
    "bug_momentum_velocity_reset": ("momentum_steps", "velocity was not kept between calls"),
    "bug_momentum_moves_before_velocity": ("momentum_steps", "old velocity"),
    "bug_momentum_hardcoded_coefficient": ("momentum_honours_lr_and_momentum",
                                           "momentum passed to the constructor was ignored"),
    "bug_adagrad_no_eps": ("adagrad_steps", "1e-7 is missing"),
    "bug_adagrad_h_not_accumulated": ("adagrad_steps", "h must keep growing across calls"),
    "bug_adagrad_no_sqrt": ("adagrad_steps", "square root"),
    "bug_adam_no_bias_correction": ("adam_steps", "bias correction is missing"),
    "bug_adam_step_count_per_key": ("adam_steps", "once per update call"),
    "bug_adam_t_from_zero": ("adam_steps", "t counts from 1"),
    "bug_adam_ignores_betas": ("adam_honours_betas", "beta1/beta2 passed to the constructor were ignored"),
    "bug_class_level_state": ("each_optimizer_object_has_its_own_state", "its own state"),
    "bug_shared_state_across_keys": ("state_is_kept_per_key", "shared by all keys"),
    "ok_book_style": None,
    "ok_pytorch_momentum_adam_eps_1e8": None,
    "ok_reassign_entries": None,
    "ok_lazy_per_key_state": None,
    "ok_base_class_and_out_arrays": None,
}


def test_reference_gets_full_marks(grade):
    """Does the reference solution get every point?"""
    assert_full_marks(grade("exercise5", EXERCISE.reference_path.parent))


def test_stub_scores_zero_with_not_implemented(grade):
    """Does the untouched handout score zero, every check saying 'not implemented yet'?"""
    assert_stub_scores_zero(grade("exercise5", EXERCISE.stub_path.parent))


@pytest.mark.parametrize("case", sorted(VERDICTS))
def test_case_verdict(grade, case):
    """Does each buggy case lose points on the check naming its mistake, and each correct one pass?"""
    assert_verdict(grade("exercise5", CASES / "exercise5" / case), VERDICTS[case])


def test_every_case_folder_is_in_the_table():
    """Is every case folder on disk listed in the verdict table (and no stale entry left)?"""
    assert case_folders("exercise5") == set(VERDICTS)
