"""Exercise 1 beyond its verdict tables: the contract-wide checks show the smallest failing input,
grade the same submission the same way twice, and their drawn examples reach every dimension
their docstring lists (test_hidden_contract.py)."""

import re
import sys

import numpy as np

from conftest import CASES, CORPUS, message_of
from grader.checks import contract
from grader.checks.exercise1 import test_hidden_contract as checks

EXERCISE = "exercise1"


def test_overflow_is_shown_on_the_smallest_score_vector(grade):
    """Does a softmax that overflows only for 1-D x fail on one score just past exp's range (about
    709.78), shown as data with its shape, rather than on a long random vector?"""
    result = grade(EXERCISE, CORPUS / EXERCISE / "bug_softmax_1d_no_shift")
    text = message_of(result, "softmax_contract")
    assert "for x of shape (1,), dtype float64" in text
    value = float(re.search(r"Input: x=\[([-+0-9.e]+)\]", text).group(1))
    assert 709.78 < value <= 1e4
    assert "subtract each row's maximum" in text


def test_label_mistake_is_shown_on_a_two_class_example(grade):
    """Is 'labels of only 0s and 1s read as one-hot' shown on the smallest input that shows it:
    a 1-D y of two classes and the single label np.int64(1)?"""
    result = grade(EXERCISE, CORPUS / EXERCISE / "bug_cee_one_hot_by_values")
    text = message_of(result, "cross_entropy_labels_contract")
    assert "y of shape (2,)" in text and "t=np.int64(1)" in text
    assert "by its shape" in text


def test_a_raising_submission_is_told_the_input_that_made_it_raise(grade):
    """Does an exception from the student's code (status error, not a wrong answer) name the call
    and the shrunk input: the smallest 1-D x, on which softmax over axis=1 raises?"""
    result = grade(EXERCISE, CASES / EXERCISE / "bug_softmax_axis1")
    check = next(c for c in result.checks if c.name == "softmax_contract")
    assert check.status == "error"
    assert "`softmax(x) for x=[0.0]` raised AxisError" in check.message, check.message


def test_grading_twice_gives_the_same_result(grade):
    """Same submission, same process: the same score, messages and hints on every check."""
    case = CORPUS / EXERCISE / "bug_cee_scalar_label_int64_only"
    first, second = grade(EXERCISE, case), grade(EXERCISE, case)
    assert first.score == second.score < first.max_score
    assert [(c.name, c.score, c.message, c.hint) for c in first.checks] == \
           [(c.name, c.score, c.message, c.hint) for c in second.checks]


def test_examples_do_not_depend_on_the_modules_loaded(tmp_path, monkeypatch):
    """Does a newly imported module full of numbers leave the drawn examples as they were? (Left
    to itself, Hypothesis mixes the numbers of loaded modules into its draws, so `grade`, a batch
    worker and pytest drew different examples from the same seed.)"""
    before = contract._draw(checks.scores(), checks.EXAMPLES["softmax"])
    (tmp_path / "h3_numbers.py").write_text("NUMBERS = [" + ", ".join(f"{k * 0.37:.4f}" for k in range(300)) + "]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    __import__("h3_numbers")
    try:
        after = contract._draw(checks.scores(), checks.EXAMPLES["softmax"])
    finally:
        sys.modules.pop("h3_numbers", None)
    assert len(before) == len(after)
    for (x1, layout1), (x2, layout2) in zip(before, after):
        assert layout1 == layout2 and x1.dtype == x2.dtype and np.array_equal(x1, x2)


def test_softmax_examples_reach_every_dimension():
    """1-D scores past exp's range, (1, C), (N, 1), (N, C) batches, integer and float32 scores,
    non-C layouts: each among the examples the check draws."""
    examples = contract._draw(checks.scores(), checks.EXAMPLES["softmax"])
    xs = [x for x, _ in examples]
    assert any(x.ndim == 1 and np.abs(x).max() > 710 for x in xs)
    assert any(x.ndim == 2 and x.shape[0] == 1 and x.shape[1] > 1 for x in xs)
    assert any(x.ndim == 2 and x.shape[1] == 1 and x.shape[0] > 1 for x in xs)
    assert any(x.ndim == 2 and min(x.shape) > 1 for x in xs)
    assert any(x.dtype == np.int64 and x.ndim == 2 and x.shape[1] > 1 and np.ptp(x) < 50 for x in xs)
    assert any(x.dtype == np.float32 for x in xs)
    assert {layout for _, layout in examples} - {"C"}


def test_loss_examples_reach_every_dimension():
    """sum_squares_error: C == 1. Cross-entropy: integer one-hot, one label of a type other than
    np.int64, a one-row batch, labels of only 0s and 1s, a zero probability at the label."""
    sse = contract._draw(checks.outputs_and_one_hot(), checks.EXAMPLES["sse"])
    assert any(y.shape[-1] == 1 for y, *_ in sse)
    one_hot = contract._draw(checks.one_hot_targets(), checks.EXAMPLES["one_hot"])
    assert any(t.dtype == np.int64 for _, t, *_ in one_hot)
    one_label = contract._draw(checks.label_targets(("vector",)), checks.EXAMPLES["one label"])
    assert any(np.asarray(t).dtype != np.int64 for _, t, _ in one_label)
    assert any(y[int(t)] == 0 for y, t, _ in one_label)
    assert any(t <= 1 and y[int(t)] != y[1 - int(t)] for y, t, _ in one_label)
    labels = contract._draw(checks.label_targets(("one row", "batch")), checks.EXAMPLES["labels"])
    assert any(y.shape[0] == 1 for y, _, _ in labels)
    assert any(np.all(t <= 1) and y.shape[0] > 1 for y, t, _ in labels)
    assert any(y[np.arange(len(t)), t].min() == 0 for y, t, _ in labels)
    dtypes = {np.asarray(t).dtype for _, t, _ in one_label + labels}
    assert dtypes == {np.dtype(np.int64), np.dtype(np.int32), np.dtype(np.uint8)}
