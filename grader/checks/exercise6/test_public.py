"""Public checks of exercise 6: batch normalization (forward, running statistics, test mode,
backward), dropout (by its contract) and the two weight-initialisation scales.

The inputs, tolerances and helpers the checks use live in support.py, whose docstring says
why each tolerance is what it is.
"""

from __future__ import annotations

import numpy as np

from grader.checks.api import as_array, attach, expect_close, expect_shape, fail, public, show
from grader.checks.translated import _, join
from grader.checks.exercise6.support import (BETA, BN_ATOL, BN_RTOL, D, EXPECTATION_RTOL, GAMMA, GRAD_TOL,
                                             backward_case, batch, bn_forward, dgamma_dbeta_hint, dropout_train,
                                             dx_models, expect_dropped_fraction, expect_init_scale,
                                             expect_running_statistics, new_bn, normalisation_hint,
                                             own_running_statistics, seed_students_generator)
from grader.checks.gradcheck import compare, ratio_if_uniform
from grader.sandbox.errors import StudentRaised
from reference.exercise6 import batchnorm as ref


# -- forward in training ---------------------------------------------------------------------------

@public(points=1.5)
def test_batchnorm_forward_training(student):
    """BatchNormalization.forward in training: zero mean and unit variance per feature, then gamma·x̂ + β"""
    x = batch(6, seed=1)
    out = bn_forward(new_bn(student, np.ones(D), np.zeros(D)), x, True, "forward(x, train_flg=True)")
    means, variances = out.mean(axis=0), out.var(axis=0)
    if not (np.allclose(means, 0, atol=BN_ATOL) and np.allclose(variances, 1, rtol=BN_RTOL)):
        fail(_("with gamma = 1 and beta = 0, forward(x) in training should give every column (feature) mean 0 and "
               "variance 1; got column means {means} and variances {variances}. Input: x={x}.").format(
                 means=show(means), variances=show(variances), x=show(x)),
             hint=normalisation_hint(x, out))
    got = bn_forward(new_bn(student), x, True, "forward(x, train_flg=True)")
    expected = ref.BatchNormalization(GAMMA.copy(), BETA.copy()).forward(x, True)
    x_hat = (expected - BETA) / GAMMA
    hint = _("return gamma * x_hat + beta.")
    if np.allclose(got, BETA * x_hat + GAMMA, rtol=BN_RTOL, atol=BN_ATOL):
        hint = _("gamma and beta are swapped: gamma multiplies x_hat, beta is added.")
    elif np.allclose(got, x_hat, rtol=BN_RTOL, atol=BN_ATOL):
        hint = _("gamma and beta were not applied: return gamma * x_hat + beta.")
    expect_close(got, expected, call="forward(x, train_flg=True)",
                 inputs={"x": x, "gamma": GAMMA, "beta": BETA}, hint=hint, rtol=BN_RTOL, atol=BN_ATOL)


# -- running statistics ------------------------------------------------------------------------------

@public(points=1.5)
def test_batchnorm_running_statistics(student):
    """running_mean and running_var after each of three training batches (default momentum 0.9, from zeros)"""
    expect_running_statistics(student, None, seed=10)


# -- test mode ---------------------------------------------------------------------------------------

@public(points=1)
def test_batchnorm_test_mode(student):
    """forward(x, train_flg=False) normalises with the running statistics and leaves them unchanged"""
    bn = new_bn(student)
    reference = ref.BatchNormalization(GAMMA.copy(), BETA.copy())
    for i in range(3):
        x = batch(8, 20 + i)
        bn_forward(bn, x, True, f"forward(x{i + 1}, train_flg=True)")
        reference.forward(x, True)
    x_test = batch(5, 30)
    before = own_running_statistics(bn)
    got = bn_forward(bn, x_test, False, "forward(x_test, train_flg=False)")
    again = bn_forward(bn, x_test, False, "forward(x_test, train_flg=False), called a second time")
    after = own_running_statistics(bn)
    moved = before is not None and after is not None and not (np.array_equal(before[0], after[0])
                                                                and np.array_equal(before[1], after[1]))
    if moved or not np.array_equal(again, got):
        fail(_("calling forward(x_test, train_flg=False) changed the running statistics (running_mean/running_var "
               "moved, or a second identical call gave a different output)."),
             hint=_("update running_mean and running_var only when train_flg is True; test mode only reads them."))
    batch_normalised = ref.BatchNormalization(GAMMA.copy(), BETA.copy()).forward(x_test, True)
    if np.allclose(got, batch_normalised, rtol=BN_RTOL, atol=BN_ATOL):
        fail(_("forward(x_test, train_flg=False) normalised x_test with its own batch mean and variance."),
             hint=_("at test time use the running statistics: (x - self.running_mean) / sqrt(self.running_var + eps)."))
    if before is not None:  # judge test mode by the student's own statistics, so one mistake costs once
        mean, var = before
        expected = GAMMA * (x_test - mean) / np.sqrt(var + ref.EPS) + BETA
    else:
        expected = reference.forward(x_test, False)
    expect_close(got, expected, call="forward(x_test, train_flg=False) after three training batches",
                 inputs={"x_test": x_test}, rtol=BN_RTOL, atol=BN_ATOL,
                 hint=_("at test time: gamma * (x - running_mean) / sqrt(running_var + eps) + beta."))


# -- backward ----------------------------------------------------------------------------------------

@public(points=1.5)
def test_batchnorm_backward_dx(student):
    """BatchNormalization.backward returns dx equal to the numerical gradient (all paths through mean and variance)"""
    _bn, x, dout, dx, _reference, expected = backward_case(student)
    comparison = compare("dx", dx, expected, GRAD_TOL)
    attach(gradients=[comparison.to_row()])
    if comparison.passed:
        return
    hint = _("backpropagate through x_hat = (x - mu) / sqrt(var + eps), including the paths through mu and var.")
    ratio = ratio_if_uniform(dx, expected)
    if ratio is not None:
        hint = _("your dx is exactly {ratio} times the right one: check where you divide or multiply by N.").format(
            ratio=f"{ratio:.4g}")
    for model, model_hint in dx_models(x, dout, GAMMA):
        if compare("dx", dx, model, GRAD_TOL).passed:
            hint = model_hint
            break
    fail(_("backward(dout) after forward(x) in training: {comparison} (tolerance {tolerance}).").format(
             comparison=comparison.describe(), tolerance=f"{GRAD_TOL:g}"),
         hint=hint, inputs=f"x={show(x)}, dout={show(dout)}", expected=show(expected), got=show(dx))


@public(points=1)
def test_batchnorm_backward_dgamma_dbeta(student):
    """backward sets self.dgamma and self.dbeta equal to the numerical gradients"""
    bn, x, dout, _dx, reference, _expected = backward_case(student)
    hint = _("in backward, set self.dgamma = np.sum(x_hat * dout, axis=0) and self.dbeta = np.sum(dout, axis=0).")
    rows, failures = [], []
    for name, expected in (("dgamma", reference.dgamma), ("dbeta", reference.dbeta)):
        try:
            value = getattr(bn, name)
        except StudentRaised as exc:
            if exc.type_name != "AttributeError":
                raise
            value = None
        if value is None:
            fail(_("after backward(dout), self.{name} was not set.").format(name=name), hint=hint)
        got = as_array(value, call=f"self.{name} after backward(dout)", hint=hint)
        if got.shape != expected.shape:
            fail(_("after backward(dout), self.{name} has shape {shape}; expected {expected}.").format(
                     name=name, shape=got.shape, expected=expected.shape),
                 hint=dgamma_dbeta_hint(name, got, x, dout, expected))
        comparison = compare(name, got, expected, GRAD_TOL)
        rows.append(comparison.to_row())
        if not comparison.passed:
            failures.append((comparison, dgamma_dbeta_hint(name, got, x, dout, expected)))
    attach(gradients=rows)
    if failures:
        fail(_("backward(dout) after forward(x) in training: {comparison} (tolerance {tolerance}).").format(
                 comparison="; ".join(c.describe() for c, _hint in failures), tolerance=f"{GRAD_TOL:g}"),
             hint=failures[0][1], inputs=f"x={show(x)}, dout={show(dout)}")


# -- dropout -----------------------------------------------------------------------------------------

@public(points=1)
def test_dropout_drops_the_right_fraction(student):
    """Dropout(0.3) in training drops about 30% of the units, a new random mask on every call"""
    expect_dropped_fraction(student, 0.3, (0.3,))


@public(points=1)
def test_dropout_expected_training_output_equals_test_output(student):
    """Dropout(0.3): the mean training output equals the test output (the book's or inverted convention)"""
    ratio = 0.3
    seed_students_generator(student, 101)
    dropout = student.call("Dropout", ratio)
    x = np.tile(np.array([0.5, 1.0, 2.0, 3.0, 4.0]), (4000, 1))
    train_scale = float(np.mean(dropout_train(dropout, x) / x))
    test = as_array(dropout.call("forward", x, False), call="forward(x, train_flg=False)")
    expect_shape(test, x.shape, call="forward(x, train_flg=False)")
    test_scales = test / x
    if not np.allclose(test_scales, test_scales.flat[0], rtol=1e-9):
        fail(_("forward(x, train_flg=False) should return x times one constant (no random mask at test time); "
               "got {got} for rows {rows}.").format(got=show(test[:2]), rows=show(x[:2])),
             hint=_("at test time return x * (1 - dropout_ratio) (or x itself with inverted dropout)."))
    test_scale = float(test_scales.flat[0])
    if abs(train_scale - test_scale) <= EXPECTATION_RTOL * abs(test_scale):
        return
    hint = _("the expected training output must equal the test output: either multiply by (1 - dropout_ratio) at "
             "test time, or divide the kept units by (1 - dropout_ratio) in training and return x at test time.")
    if np.isclose(test_scale, 1.0) and abs(train_scale - (1 - ratio)) <= EXPECTATION_RTOL * (1 - ratio):
        hint = _("training keeps 70 percent of x on average, so at test time return x * (1 - dropout_ratio) "
                 "(the book), or scale kept units by 1 / (1 - dropout_ratio) in training (inverted dropout).")
    elif np.isclose(test_scale, 1 - ratio) and abs(train_scale - 1) <= EXPECTATION_RTOL:
        hint = _("you already divide the kept units by (1 - dropout_ratio) in training (inverted dropout), so at "
                 "test time return x unchanged.")
    elif np.isclose(test_scale, ratio):
        hint = _("at test time multiply by the keep probability, 1 - dropout_ratio, not by dropout_ratio.")
    fail(_("Dropout({ratio}): on average forward(x, train_flg=True) returned {train} * x, but "
           "forward(x, train_flg=False) returned {test} * x; they must agree (within {tolerance}).").format(
             ratio=ratio, train=f"{train_scale:.3f}", test=f"{test_scale:.3f}", tolerance=f"{EXPECTATION_RTOL:.0%}"),
         hint=hint)


@public(points=1.5)
def test_dropout_backward_uses_the_forward_mask(student):
    """Dropout.backward lets dout through exactly the units the last forward kept, with the same scale"""
    ratio = 0.4
    seed_students_generator(student, 102)
    dropout = student.call("Dropout", ratio)
    rng = np.random.default_rng(7)
    x = rng.uniform(0.5, 1.5, size=(60, 50))
    dout = rng.uniform(0.1, 1.0, size=x.shape) * rng.choice([-1.0, 1.0], size=x.shape)
    dropout_train(dropout, x, "a first forward(x, train_flg=True)")
    out = dropout_train(dropout, x, "a second forward(x, train_flg=True)")
    dx = as_array(dropout.call("backward", dout), call="backward(dout)", hint=_("backward returns dx."))
    expect_shape(dx, x.shape, call="backward(dout)", hint=_("dx has the shape of dout."))
    kept = out != 0
    if not kept.any():
        fail(_("forward(x, train_flg=True) dropped every unit."),
             hint=_("keep each unit with probability 1 - dropout_ratio."))
    scales = out[kept] / x[kept]
    scale = float(np.median(scales))
    if not np.allclose(scales, scale, rtol=1e-9):
        fail(_("forward(x, train_flg=True) multiplied the kept units by different numbers."),
             hint=_("multiply x by the 0/1 mask (and, for inverted dropout, by the one constant 1 / (1 - ratio))."))
    expected = dout * kept * scale
    if np.allclose(dx, expected, rtol=1e-9, atol=1e-12):
        return
    if np.allclose(dx, dout):
        hint = _("backward let dout through every unit: multiply it by the mask that forward saved, so the "
                 "units forward dropped pass nothing back.")
    elif np.count_nonzero(dx) > 0 and not np.array_equal(dx != 0, kept):
        hint = _("backward used other units than the last forward kept: save the mask in forward (self.mask = ...) "
                 "on every training call, and reuse it in backward instead of drawing a new one.")
    elif np.allclose(dx, dout * kept):
        hint = _("forward scaled the kept units by {scale}; backward must apply the same scale: "
                 "dout * mask * {scale}.").format(scale=f"{scale:.4g}")
    elif np.allclose(dx, dout * kept / (1 - ratio)):
        hint = _("forward did not scale the kept units, so backward must not either: return dout * mask.")
    else:
        hint = _("backward returns dout times exactly the factor each unit got in forward (mask, and scale if any).")
    bad = ~np.isclose(dx, expected, rtol=1e-9, atol=1e-12)
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    facts = dict(kept=f"{kept.mean():.0%}", scale=f"{scale:.4g}", index=index, got=f"{dx[index]:.6g}",
                 expected=f"{expected[index]:.6g}", dout=f"{dout[index]:.6g}")
    if kept[index]:
        rationale = _("after forward(x) (which kept {kept} of the units, scaling them by {scale}), backward(dout) "
                      "gave dx[{index}] = {got}; expected {expected} (dout there was {dout}, the unit was kept).")
    else:
        rationale = _("after forward(x) (which kept {kept} of the units, scaling them by {scale}), backward(dout) "
                      "gave dx[{index}] = {got}; expected {expected} (dout there was {dout}, the unit was dropped).")
    fail(rationale.format(**facts), hint=hint)


# -- weight initialisation scales -------------------------------------------------------------------

@public(points=0.5)
def test_xavier_std(student):
    """xavier_std(n_in) = 1 / sqrt(n_in) for n_in = 100, 50, 784, 1"""
    expect_init_scale(student, "xavier_std")


@public(points=0.5)
def test_he_std(student):
    """he_std(n_in) = sqrt(2 / n_in) for n_in = 100, 50, 784, 1"""
    expect_init_scale(student, "he_std")
