"""Exercise 2 beyond its verdict tables: the contract-wide checks show the smallest failing input,
grade the same submission the same way twice, and their drawn examples reach every dimension
their docstring lists (test_hidden_contract.py)."""

import numpy as np

from conftest import CASES, CORPUS, assert_full_marks, message_of
from grader.checks import contract
from grader.checks.exercise2 import test_hidden_contract as checks

EXERCISE = "exercise2"
H = 1e-4


def test_three_axes_mistake_is_shown_on_a_one_element_cube(grade):
    """Is a numerical_gradient that loops over two axes by hand shown failing on the smallest
    3-D x, shape (1, 1, 1), with the grader's f named and the number of axes in the hint?"""
    result = grade(EXERCISE, CORPUS / EXERCISE / "bug_gradient_nested_loops")
    text = message_of(result, "numerical_gradient_contract")
    assert "x of shape (1, 1, 1)" in text and "Input: x=[[[0.0]]]" in text
    assert "sum of sin(3 x_k)" in text and "Here x has 3 axes" in text


def test_a_raising_submission_is_told_the_input_that_made_it_raise(grade):
    """Does a numerical_diff that divides by zero at x = 0 (h scaled by |x|) get an error naming
    the function and x = 0, the smallest input that raises?"""
    result = grade(EXERCISE, CORPUS / EXERCISE / "bug_diff_relative_step")
    check = next(c for c in result.checks if c.name == "numerical_diff_contract")
    assert check.status == "error"
    assert "numerical_diff(f, x) for f='f(x) = sin(10 x)', x=0` raised ZeroDivisionError" in check.message


def test_a_value_left_changed_is_given_to_all_its_digits(grade):
    """Is 'x not restored exactly' shown with the element before and after to all their digits
    (six digits would print the same number twice)?"""
    result = grade(EXERCISE, CORPUS / EXERCISE / "bug_gradient_restore_by_adding_h")
    text = message_of(result, "numerical_gradient_in_place_contract")
    before, after = (float(v) for v in
                     text.split("x[0] was ")[1].split(": x must")[0].split(" and is now "))
    assert before != after and (before - H) + H == after


def test_grading_twice_gives_the_same_result(grade):
    """Same submission, same process: the same score, messages and hints on every check."""
    case = CORPUS / EXERCISE / "bug_descent_swapped_params"
    first, second = grade(EXERCISE, case), grade(EXERCISE, case)
    assert first.score == second.score < first.max_score
    assert [(c.name, c.score, c.message, c.hint) for c in first.checks] == \
           [(c.name, c.score, c.message, c.hint) for c in second.checks]


def test_perturbing_through_reshape_stays_accepted(grade):
    """SPEC.md leaves open whether x may be a non-contiguous view; a numerical_gradient that
    perturbs x.reshape(-1) (right for every contiguous x) keeps full marks."""
    assert_full_marks(grade(EXERCISE, CASES / EXERCISE / "ok_flat_view"))


def test_diff_examples_reach_every_dimension():
    """x = 0, a Python int, an np.float64, and the sharp sin(10 x) among numerical_diff's examples."""
    examples = contract._draw(checks.st.tuples(checks.st.sampled_from(checks.ONE_VARIABLE), checks.numbers(10)),
                              checks.EXAMPLES["diff"])
    assert any(x == 0 for _, x in examples)
    assert any(type(x) is int for _, x in examples) and any(isinstance(x, np.float64) for _, x in examples)
    assert any(f is checks.sin_10x and x != 0 for f, x in examples)


def test_gradient_examples_reach_every_dimension():
    """Values: 3-D x, a size-1 side, views (offset; strided 1-D). In place: float32, and an x
    whose element does not survive (x - h) + h."""
    values = contract._draw(checks.gradient_inputs(), checks.EXAMPLES["gradient"])
    assert any(x.ndim == 3 for _, x, _ in values)
    assert any(x.ndim == 2 and 1 in x.shape for _, x, _ in values)
    assert {layout for *_, layout in values} >= {"offset", "strided"}
    in_place = contract._draw(checks.gradient_inputs(dims=(1, 2), dtypes=(np.float64, np.float32),
                                                     functions=checks.QUADRATIC), checks.EXAMPLES["in_place"])
    assert any(x.dtype == np.float32 for _, x, _ in in_place)

    def survives(x):
        moved = x - x.dtype.type(H)
        return np.array_equal(moved + x.dtype.type(H), x)

    assert any(not survives(x) for _, x, _ in in_place)


def test_descent_examples_reach_every_dimension():
    """step_num 0, lr 0, every call form, and a 2-D init_x among gradient_descent's examples."""
    examples = contract._draw(checks.descent_inputs(), checks.EXAMPLES["descent"])
    assert any(steps == 0 for *_, steps, _ in examples)
    assert {form for *_, form in examples} == {"keywords", "positional", "lr by position"}
    assert any(x.ndim == 2 for _, x, *_ in examples)
    assert any(steps > 0 and lr > 0 and form == "positional" for _, _, lr, steps, form in examples)
