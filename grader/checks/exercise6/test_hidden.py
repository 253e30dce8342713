"""Hidden checks of exercise 6: a non-default momentum, running statistics given to the
constructor, backward after two forward calls, Dropout's default ratio. Tolerances and
inputs as in the public checks (see support.py)."""

from __future__ import annotations

import numpy as np

from grader.checks.api import as_array, attach, expect_close, fail, hidden, show
from grader.checks.translated import _
from grader.checks.exercise6.support import (BETA, BN_ATOL, BN_RTOL, GAMMA, GRAD_TOL, SQRT_HINT, batch, bn_forward,
                                             column_scales, eps_problem, expect_dropped_fraction,
                                             expect_running_statistics, near_constant_backward, near_constant_batch,
                                             new_bn)
from grader.checks.gradcheck import compare
from grader.sandbox.errors import StudentRaised
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
                 hint=_("keep the running_mean and running_var passed to the constructor; create zeros only when "
                        "they are None."))


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
        fail(_("backward(dout) after forward(x1), forward(x2) returned shape {shape}; after forward(x2) alone "
               "{alone}.").format(shape=dx.shape, alone=alone.shape),
             hint=_("save what backward needs on EVERY training forward call."))
    comparison = compare("dx", dx, alone, GRAD_TOL)
    attach(gradients=[comparison.to_row()])
    if not comparison.passed:
        fail(_("backward(dout) after forward(x1), forward(x2) differs from backward(dout) on a new layer that saw "
               "only x2: {comparison}. Inputs: x2={x2}.").format(comparison=comparison.describe(), x2=show(second)),
             hint=_("backward must use only what the LAST training forward call saved (x_hat, std, batch size), not "
                    "values from earlier batches or the running statistics."))


@hidden(points=0.5)
def test_dropout_default_ratio(student):
    """Dropout() drops about half of the units (default dropout_ratio = 0.5)"""
    expect_dropped_fraction(student, 0.5, ())


@hidden(points=0.5)
def test_batchnorm_forward_near_constant_features(student):
    """forward with features whose variance is near eps (1e-4 to 1e-9): eps inside the square root, in training and at test time"""
    x = near_constant_batch()
    bn = new_bn(student)
    out = bn_forward(bn, x, True, "forward(x, train_flg=True)")
    inputs = _("x={x} (per-feature variances {variances})").format(x=show(x), variances=show(x.var(axis=0)))
    if not np.all(np.isfinite(out)):
        fail(_("forward(x, train_flg=True) returned non-finite values {out} for features with variances near eps. "
               "Input: {inputs}.").format(out=show(out), inputs=inputs),
             hint=_("{advice} An eps between 1e-8 and 1e-5 keeps it finite.").format(advice=_(SQRT_HINT)))
    centered = x - x.mean(axis=0)
    var = x.var(axis=0)
    d = column_scales(centered, (out - BETA) / GAMMA)
    if d is None:
        return  # not gamma * (x - mean) / d + beta at all: the public forward check names that mistake
    problem = eps_problem(d, var)
    if problem:
        fail(_("forward(x, train_flg=True) divided x - mean by {scales} per feature, for batch variances "
               "{variances}; with one eps in [1e-8, 1e-5] it should be np.sqrt(var + eps). Input: {inputs}.").format(
                 scales=show(d), variances=show(var), inputs=inputs),
             hint=problem)
    try:  # the student's own running statistics, so a mistake in them is not charged here again
        running_mean = np.asarray(bn.running_mean, dtype=float)
        running_var = np.asarray(bn.running_var, dtype=float)
    except (StudentRaised, TypeError, ValueError):
        return
    if running_mean.shape != (len(var),) or running_var.shape != (len(var),) or not np.all(running_var > 0):
        return
    x_test = near_constant_batch(5, seed=71)
    test = bn_forward(bn, x_test, False, "forward(x_test, train_flg=False)")
    if not np.all(np.isfinite(test)):
        fail(_("forward(x_test, train_flg=False) returned non-finite values {out} with running_var = "
               "{running_var}.").format(out=show(test), running_var=show(running_var)),
             hint=_("at test time too: {advice}").format(advice=_(SQRT_HINT)))
    d_test = column_scales(x_test - running_mean, (test - BETA) / GAMMA)
    problem = None if d_test is None else eps_problem(d_test, running_var)
    if problem:
        fail(_("forward(x_test, train_flg=False) divided x_test - running_mean by {scales} per feature, with "
               "running_var = {running_var}; it should be np.sqrt(running_var + eps).").format(
                 scales=show(d_test), running_var=show(running_var)),
             hint=_("at test time: {advice}").format(advice=problem))


@hidden(points=0.5)
def test_batchnorm_backward_near_constant_features(student):
    """backward after a forward on features whose variance is near eps: dx is the gradient of sqrt(var + eps)"""
    x = near_constant_batch(seed=72)
    dout = np.random.default_rng(73).normal(size=x.shape)
    bn = new_bn(student)
    out = bn_forward(bn, x, True, "forward(x, train_flg=True)")
    centered = x - x.mean(axis=0)
    d = column_scales(centered, (out - BETA) / GAMMA)
    if d is None:
        return  # the forward pass is wrong in another way; the forward checks charge it
    dx = as_array(bn.call("backward", dout), call="backward(dout)")
    expected = near_constant_backward(d, centered, dout, GAMMA)
    if dx.shape != expected.shape:
        return  # test_batchnorm_backward_dx names a wrong shape
    comparison = compare("dx", dx, expected, GRAD_TOL)
    attach(gradients=[comparison.to_row()])
    if comparison.passed:
        return
    hint = _("backpropagate through x_hat = (x - mu) / sqrt(var + eps) with the std forward used; do not recompute "
             "it differently in backward.")
    var = x.var(axis=0)
    eps = float(np.mean(d * d - var))
    with np.errstate(all="ignore"):
        outside = near_constant_backward(np.sqrt(var) + eps, centered, dout, GAMMA)
    if compare("dx", dx, outside, 1e-2).passed or not np.all(np.isfinite(dx)):
        hint = _("backward divides by np.sqrt(var) + eps; {advice} (the same std as forward: save it there).").format(
            advice=_(SQRT_HINT))
    fail(_("backward(dout) after forward(x) on features with variances {variances} (near eps): {comparison} "
           "(tolerance {tolerance}; the expected dx uses your forward's own eps, {eps}).").format(
             variances=show(var), comparison=comparison.describe(), tolerance=f"{GRAD_TOL:g}", eps=f"{eps:.2g}"),
         hint=hint,
         inputs=f"x={show(x)}, dout={show(dout)}", expected=show(expected), got=show(dx))
