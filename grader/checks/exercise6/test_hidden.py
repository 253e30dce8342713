"""Hidden checks of exercise 6: a non-default momentum, running statistics given to the
constructor, backward after two forward calls, Dropout's default ratio. Tolerances and
inputs as in the public checks (see support.py)."""

from __future__ import annotations

import numpy as np

from grader.checks.api import as_array, attach, expect_close, fail, hidden, show
from grader.checks.exercise6.support import (BETA, BN_ATOL, BN_RTOL, GAMMA, GRAD_TOL, batch, bn_forward,
                                             expect_dropped_fraction, expect_running_statistics, new_bn)
from grader.checks.gradcheck import compare
from reference.exercise6 import batchnorm as ref

LOC_GIVEN = np.array([4.0, -38.0, 97.0, 5.0])
VAR_GIVEN = np.array([90.0, 420.0, 200.0, 880.0])


@hidden(points=1)
def test_batchnorm_honours_momentum(student):
    """BatchNormalization(gamma, beta, momentum=0.6): running statistics after three batches"""
    expect_running_statistics(student, 0.6, seed=60)


@hidden(points=0.5)
def test_batchnorm_starts_from_given_running_statistics(student):
    """BatchNormalization(..., running_mean=m, running_var=v) uses m and v in test mode from the start"""
    mean, var = LOC_GIVEN, VAR_GIVEN
    bn = new_bn(student, running_mean=mean.copy(), running_var=var.copy())
    x = batch(5, 61)
    got = bn_forward(bn, x, False, "forward(x, train_flg=False)")
    expected = ref.BatchNormalization(GAMMA.copy(), BETA.copy(), running_mean=mean.copy(),
                                      running_var=var.copy()).forward(x, False)
    expect_close(got, expected, call="forward(x, train_flg=False) on a new layer given running_mean and running_var",
                 inputs={"x": x, "running_mean": mean, "running_var": var}, rtol=BN_RTOL, atol=BN_ATOL,
                 hint="keep the running_mean and running_var passed to the constructor; create zeros only when "
                      "they are None.")


@hidden(points=0.5)
def test_batchnorm_backward_follows_the_latest_forward(student):
    """after two training forward calls (N = 10), backward gives the dx of the second batch alone"""
    first, second = batch(10, 62), batch(10, 63)
    dout = np.random.default_rng(64).normal(size=second.shape)
    bn = new_bn(student)
    bn_forward(bn, first, True, "forward(x1, train_flg=True)")
    bn_forward(bn, second, True, "forward(x2, train_flg=True)")
    dx = as_array(bn.call("backward", dout), call="backward(dout) after forward(x1), forward(x2)")
    # Compared with the student's own backward on a fresh layer that saw only x2, so a backward
    # formula that is wrong (already costing points publicly) does not fail this check again.
    fresh = new_bn(student)
    bn_forward(fresh, second, True, "forward(x2, train_flg=True) on a new layer")
    alone = as_array(fresh.call("backward", dout), call="backward(dout) after forward(x2) alone")
    if dx.shape != alone.shape:
        fail(f"backward(dout) after forward(x1), forward(x2) returned shape {dx.shape}; after forward(x2) alone "
             f"{alone.shape}.", hint="save what backward needs on EVERY training forward call.")
    comparison = compare("dx", dx, alone, GRAD_TOL)
    attach(gradients=[comparison.to_row()])
    if not comparison.passed:
        fail(f"backward(dout) after forward(x1), forward(x2) differs from backward(dout) on a new layer that saw only "
             f"x2: {comparison.describe()}. Inputs: x2={show(second)}.",
             hint="backward must use only what the LAST training forward call saved (x_hat, std, batch size), not "
                  "values from earlier batches or the running statistics.")


@hidden(points=0.5)
def test_dropout_default_ratio(student):
    """Dropout() drops about half of the units (default dropout_ratio = 0.5)"""
    expect_dropped_fraction(student, 0.5, ())
