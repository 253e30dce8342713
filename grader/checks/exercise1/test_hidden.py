"""Hidden checks of exercise 1: random batches, label targets, means over the batch, y = 0."""

import numpy as np

from grader.checks.api import expect_close, fail, hidden, show
from grader.checks.exercise1.support import check_softmax, loss_hint
from grader.checks.translated import _
from reference.exercise1 import losses as ref

RNG_SEED = 20261123


def random_batch(n: int = 6, c: int = 5):
    rng = np.random.default_rng(RNG_SEED)
    y = ref.softmax(rng.normal(size=(n, c)))
    labels = rng.integers(0, c, size=n)
    return y, labels, np.eye(c)[labels]


@hidden(points=1)
def test_softmax_random_batch(student):
    """softmax of a random (6, 5) batch, and of a single row, match the reference"""
    x = np.random.default_rng(RNG_SEED).normal(scale=3.0, size=(6, 5))
    check_softmax(student, x)
    check_softmax(student, x[0], call="softmax(x[0])")


@hidden(points=1)
def test_sum_squares_error_batch_mean(student):
    """sum_squares_error of a batch is the mean over its rows"""
    y, _labels, t = random_batch()
    got = student.sum_squares_error(y, t)
    expected = ref.sum_squares_error(y, t)
    hint = loss_hint(got, expected, len(y), _("average the 1-D value over the rows: 0.5 * np.sum((y - t)**2) / N."))
    expect_close(got, expected, call="sum_squares_error(y, t)", inputs={"y": y, "t": t}, hint=hint)


@hidden(points=1)
def test_cross_entropy_batch_one_hot(student):
    """cross_entropy_error of a batch with one-hot t is the mean over the rows"""
    y, _labels, t = random_batch()
    check_batch_cee(student, y, t)


@hidden(points=1)
def test_cross_entropy_batch_labels(student):
    """cross_entropy_error accepts integer labels of shape (N,)"""
    y, labels, _one_hot = random_batch()
    check_batch_cee(student, y, labels)


def check_batch_cee(student, y, t) -> None:
    got = student.cross_entropy_error(y, t)
    expected = ref.cross_entropy_error(y, t)
    default = _("with integer labels t has shape (N,): pick y[np.arange(N), t] — t is not one-hot here, "
                "so t * np.log(y) does not work.") if t.ndim == 1 else _("average -log(y[label] + 1e-7) over the rows.")
    hint = loss_hint(got, expected, len(y), default)
    expect_close(got, expected, call="cross_entropy_error(y, t)", inputs={"y": y, "t": t}, hint=hint)


@hidden(points=1)
def test_cross_entropy_single_label(student):
    """cross_entropy_error of a 1-D y accepts a numpy integer label"""
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    label = np.int64(2)
    got = student.cross_entropy_error(y, label)
    expected = ref.cross_entropy_error(y, label)
    expect_close(got, expected, call="cross_entropy_error(y, t)", inputs={"y": y, "t": label},
                 hint=loss_hint(got, expected, 1, _("for a 1-D y, t may be one integer: reshape y to (1, C) "
                                                    "and t to (1,) first.")))


@hidden(points=1)
def test_cross_entropy_zero_probability(student):
    """cross_entropy_error stays finite when the correct class has probability 0"""
    y = np.array([[0.0, 0.3, 0.7], [0.5, 0.5, 0.0]])
    t = np.array([0, 2])
    got = student.cross_entropy_error(y, t)
    value = np.asarray(got, dtype=float) if not isinstance(got, (str, bytes)) else np.nan
    if np.size(value) == 1 and not np.isfinite(value).all():
        fail(_("cross_entropy_error(y, t) returned {got} for y={y}, t={t}.").format(got=show(got), y=show(y),
                                                                                    t=show(t)),
             hint=_("add the small delta inside the log: -np.log(y + 1e-7), so log(0) never happens."))
    expect_close(got, ref.cross_entropy_error(y, t), call="cross_entropy_error(y, t)",
                 inputs={"y": y, "t": t}, hint=_("use -log(y[label] + 1e-7) with delta = 1e-7."))
