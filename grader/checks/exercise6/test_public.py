"""Public checks of exercise 6: batch normalization (forward, running statistics, test mode,
backward), dropout (by its contract) and the two weight-initialisation scales.

Batch normalization and eps. SPEC.md lets eps be anything in [1e-8, 1e-5]; the reference uses
1e-7. Every input below has a per-column batch variance of at least 15, so eps changes
x_hat, the output and all three gradients by at most 1e-5 / 15 / 2 ≈ 3e-7 relative per
element before cancellation; measured on these very inputs, eps = 1e-8 vs eps = 1e-5 moves
no element by more than 6e-6 relative. Hence BN_RTOL = GRAD_TOL = 1e-4: 15 times that
spread, and 1000 times below the errors of the mistakes named in the hints. (The test suite
grades correct submissions with eps = 1e-8 and eps = 1e-5 to keep this true.)

Gradients are compared with the reference's analytic backward, which the test suite checks
against central differences of the reference forward (relative error < 1e-7).

Dropout and randomness. The checks never depend on which generator the student uses:
they seed numpy's global generator in the student's process (so np.random users get the
same masks on every run) and judge only statistics whose tolerance is at least 6 standard
deviations wide (a correct dropout fails once in ~1e9 runs whatever its generator), or
exact relations between a forward pass and the backward pass that follows it.
"""

from __future__ import annotations

import numpy as np

from grader.checks.api import as_array, as_float, attach, expect_close, expect_shape, fail, public, show
from grader.checks.gradcheck import compare, ratio_if_uniform
from grader.sandbox.errors import StudentRaised
from reference.exercise6 import batchnorm as ref

BN_RTOL, BN_ATOL = 1e-4, 1e-6
"""Forward outputs and running statistics: relative tolerance (see the module docstring)."""
GRAD_TOL = 1e-4
"""Largest relative error |a - b| / max(|a|, |b|) allowed in any element of dx, dgamma, dbeta."""

D = 4
LOC = np.array([5.0, -40.0, 100.0, 3.0])
SCALE = np.array([10.0, 20.0, 15.0, 30.0])
GAMMA = np.array([1.5, 0.7, 2.0, 1.2])
BETA = np.array([0.3, -1.0, 0.5, 2.0])


def batch(n: int, seed: int) -> np.ndarray:
    """n samples of D features with very different means and scales (variances 15 and up)."""
    return np.random.default_rng(seed).normal(size=(n, D)) * SCALE + LOC


def new_bn(student, gamma=GAMMA, beta=BETA, **options):
    return student.call("BatchNormalization", gamma.copy(), beta.copy(), **options)


def bn_forward(bn, x, train: bool, call: str) -> np.ndarray:
    out = as_array(bn.call("forward", x, train), call=call)
    expect_shape(out, x.shape, call=call, hint="forward returns gamma * x_hat + beta, shaped like x.")
    return out


def read_attribute(obj, name: str, shape: tuple, call: str, hint: str) -> np.ndarray:
    """A numeric array attribute of the student's object, or a failure naming what is missing."""
    try:
        value = getattr(obj, name)
    except StudentRaised as exc:
        if exc.type_name != "AttributeError":
            raise
        fail(f"{call}: the object has no attribute {name!r}.", hint=hint)
    if value is None:
        fail(f"{call}: {name} is still None.", hint=hint)
    array = as_array(value, call=f"{name} ({call})", hint=hint)
    expect_shape(array, shape, call=f"{name} ({call})", hint=hint)
    return array


# -- forward in training ---------------------------------------------------------------------------

def normalisation_hint(x: np.ndarray, out: np.ndarray) -> str:
    """Name the mistake behind an output (with gamma = 1, beta = 0) that is not standardised."""
    n = x.shape[0]
    col_var = out.var(axis=0)
    if np.allclose(out, 1.0, rtol=BN_RTOL):  # beta * x_hat + gamma with gamma = 1, beta = 0
        return "gamma and beta are swapped: return gamma * x_hat + beta (gamma multiplies, beta is added)."
    if np.allclose(out.mean(axis=1), 0, atol=1e-6) and not np.allclose(out.mean(axis=0), 0, atol=1e-6):
        return ("each ROW was normalised: take the mean and variance over the batch, axis=0, so every feature "
                "(column) is normalised across the samples.")
    if not np.allclose(out.mean(axis=0), 0, atol=1e-6):
        return "subtract the batch mean of every feature: mu = x.mean(axis=0); xc = x - mu."
    if np.allclose(col_var, (n - 1) / n, rtol=1e-3):
        return ("that is the unbiased variance (divided by N - 1): batch normalization uses the biased one, "
                "var = np.mean(xc**2, axis=0) (divide by N).")
    if np.allclose(col_var, 1 / x.var(axis=0), rtol=1e-3):
        return "divide by the standard deviation sqrt(var + eps), not by the variance."
    if np.allclose(col_var, x.var(axis=0), rtol=1e-3):
        return "divide the centred x by std = sqrt(var + eps)."
    return "x_hat = (x - mu) / sqrt(var + eps) with mu and var the mean and (biased) variance over axis 0."


@public(points=1.5)
def test_batchnorm_forward_training(student):
    """BatchNormalization.forward in training: zero mean and unit variance per feature, then gamma·x̂ + β"""
    x = batch(6, seed=1)
    out = bn_forward(new_bn(student, np.ones(D), np.zeros(D)), x, True, "forward(x, train_flg=True)")
    means, variances = out.mean(axis=0), out.var(axis=0)
    if not (np.allclose(means, 0, atol=BN_ATOL) and np.allclose(variances, 1, rtol=BN_RTOL)):
        fail(f"with gamma = 1 and beta = 0, forward(x) in training should give every column (feature) mean 0 and "
             f"variance 1; got column means {show(means)} and variances {show(variances)}. Input: x={show(x)}.",
             hint=normalisation_hint(x, out))
    got = bn_forward(new_bn(student), x, True, "forward(x, train_flg=True)")
    expected = ref.BatchNormalization(GAMMA.copy(), BETA.copy()).forward(x, True)
    x_hat = (expected - BETA) / GAMMA
    hint = "return gamma * x_hat + beta."
    if np.allclose(got, BETA * x_hat + GAMMA, rtol=BN_RTOL, atol=BN_ATOL):
        hint = "gamma and beta are swapped: gamma multiplies x_hat, beta is added."
    elif np.allclose(got, x_hat, rtol=BN_RTOL, atol=BN_ATOL):
        hint = "gamma and beta were not applied: return gamma * x_hat + beta."
    expect_close(got, expected, call="forward(x, train_flg=True)",
                 inputs={"x": x, "gamma": GAMMA, "beta": BETA}, hint=hint, rtol=BN_RTOL, atol=BN_ATOL)


# -- running statistics ------------------------------------------------------------------------------

def running_statistics(batches, momentum, *, swapped=False, unbiased=False, start_with_first=False,
                       store_std=False, no_average=False) -> list[tuple[np.ndarray, np.ndarray]]:
    """(running_mean, running_var) after each batch: the correct rule, or one classic mistake."""
    mean, var = np.zeros(D), np.zeros(D)
    history = []
    for i, x in enumerate(batches):
        mu, v = x.mean(axis=0), x.var(axis=0, ddof=1 if unbiased else 0)
        if store_std:
            v = np.sqrt(v)
        keep = (1 - momentum) if swapped else momentum
        if no_average or (start_with_first and i == 0):
            mean, var = mu, v
        else:
            mean, var = keep * mean + (1 - keep) * mu, keep * var + (1 - keep) * v
        history.append((mean, var))
    return history


def running_mistakes(momentum: float) -> list[tuple[dict, float, str]]:
    """(mistake, momentum the mistaken code uses, hint)."""
    rule = f"running_mean <- momentum * running_mean + (1 - momentum) * mu (momentum = {momentum})"
    mistakes = [
        ({"swapped": True}, momentum, f"momentum weighs the OLD running value: {rule}."),
        ({"unbiased": True}, momentum, "running_var averages the same biased batch variance used to normalise "
                                       "(divide by N, not N - 1)."),
        ({"start_with_first": True}, momentum, "the running statistics start as zeros, and the first batch is "
                                               f"averaged in like every other: {rule}."),
        ({"store_std": True}, momentum, "running_var averages the variance var, not the standard deviation."),
        ({"no_average": True}, momentum, "the running statistics were replaced by the last batch's; average "
                                         f"them: {rule}."),
    ]
    if momentum != 0.9:
        mistakes.append(({}, 0.9, "the momentum passed to the constructor was ignored (0.9 was used): store it "
                                  "(self.momentum = momentum) and use it."))
    return mistakes


def expect_running_statistics(student, momentum: float | None, seed: int) -> None:
    options = {} if momentum is None else {"momentum": momentum}
    momentum = 0.9 if momentum is None else momentum
    batches = [batch(8, seed + i) for i in range(3)]
    bn = new_bn(student, **options)
    expected = running_statistics(batches, momentum)
    for i, x in enumerate(batches):
        made = f"BatchNormalization(gamma, beta{f', momentum={momentum}' if options else ''})"
        call = f"after training forward call {i + 1} of {made}"
        bn_forward(bn, x, True, f"forward(x{i + 1}, train_flg=True)")
        hint = ("keep the running statistics as self.running_mean and self.running_var: zeros of shape (D,) "
                "before the first batch, updated by every training forward call.")
        got_mean = read_attribute(bn, "running_mean", (D,), call, hint)
        got_var = read_attribute(bn, "running_var", (D,), call, hint)
        want_mean, want_var = expected[i]
        if statistics_agree((got_mean, got_var), expected[i]):
            continue
        fail(f"{call}: running_mean = {show(got_mean)}, running_var = {show(got_var)}; expected "
             f"{show(want_mean)} and {show(want_var)} (the batch mean of x{i + 1} was {show(x.mean(axis=0))}, "
             f"its variance {show(x.var(axis=0))}).",
             hint=running_hint(got_mean, got_var, batches[:i + 1], momentum) or
             "running_mean <- momentum * running_mean + (1 - momentum) * mu, and likewise running_var with the "
             "batch variance; both start at zeros.")


def statistics_agree(got: tuple, expected: tuple) -> bool:
    return all(np.allclose(g, e, rtol=BN_RTOL, atol=BN_ATOL) for g, e in zip(got, expected))


def running_hint(got_mean, got_var, batches, momentum) -> str | None:
    if np.allclose(got_mean, 0) and np.allclose(got_var, 0):
        return "the running statistics never changed: update them in every training forward call."
    for variant, model_momentum, hint in running_mistakes(momentum):
        mean, var = running_statistics(batches, model_momentum, **variant)[-1]
        if statistics_agree((got_mean, got_var), (mean, var)):
            return hint
    return None


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
        fail("calling forward(x_test, train_flg=False) changed the running statistics (running_mean/running_var "
             "moved, or a second identical call gave a different output).",
             hint="update running_mean and running_var only when train_flg is True; test mode only reads them.")
    batch_normalised = ref.BatchNormalization(GAMMA.copy(), BETA.copy()).forward(x_test, True)
    if np.allclose(got, batch_normalised, rtol=BN_RTOL, atol=BN_ATOL):
        fail("forward(x_test, train_flg=False) normalised x_test with its own batch mean and variance.",
             hint="at test time use the running statistics: (x - self.running_mean) / sqrt(self.running_var + eps).")
    if before is not None:  # judge test mode by the student's own statistics, so one mistake costs once
        mean, var = before
        expected = GAMMA * (x_test - mean) / np.sqrt(var + ref.EPS) + BETA
    else:
        expected = reference.forward(x_test, False)
    expect_close(got, expected, call="forward(x_test, train_flg=False) after three training batches",
                 inputs={"x_test": x_test}, rtol=BN_RTOL, atol=BN_ATOL,
                 hint="at test time: gamma * (x - running_mean) / sqrt(running_var + eps) + beta.")


def own_running_statistics(bn) -> tuple[np.ndarray, np.ndarray] | None:
    """The student's running statistics when they can be read and are usable for the test-mode
    formula (variance of at least 1, where eps cannot matter); None otherwise."""
    try:
        mean, var = bn.running_mean, bn.running_var
    except StudentRaised:
        return None
    try:
        mean, var = np.asarray(mean, dtype=float), np.asarray(var, dtype=float)
    except (TypeError, ValueError):
        return None
    if mean.shape != (D,) or var.shape != (D,) or not np.all(np.isfinite(mean)) or not np.all(var >= 1.0):
        return None
    return mean, var


# -- backward ----------------------------------------------------------------------------------------

def backward_case(student, seed: int = 40, n: int = 6):
    """Train-mode forward then backward on the student's layer and the reference's."""
    x = batch(n, seed)
    dout = np.random.default_rng(seed + 1).normal(size=x.shape)
    bn = new_bn(student)
    bn_forward(bn, x, True, "forward(x, train_flg=True)")
    dx = as_array(bn.call("backward", dout), call="backward(dout)", hint="backward returns dx, shaped like x.")
    expect_shape(dx, x.shape, call="backward(dout)", hint="dx has the shape of x.")
    reference = ref.BatchNormalization(GAMMA.copy(), BETA.copy())
    reference.forward(x, True)
    return bn, x, dout, dx, reference, reference.backward(dout)


def dx_models(x, dout, gamma):
    """dx as a backward that misses one path would compute it (eps as the reference's)."""
    n = x.shape[0]
    xc = x - x.mean(axis=0)
    std = np.sqrt(xc.var(axis=0) + ref.EPS)
    dxc = gamma * dout / std
    dvar_term = -xc * np.sum(gamma * dout * xc, axis=0) / (n * std ** 3)
    yield dxc, ("dx only has the direct path gamma * dout / std: add the paths through the batch mean and "
                "variance (every x[i] changes mu and var).")
    yield dxc - dxc.mean(axis=0), "dx misses the path through the batch variance (the dvar term)."
    yield dxc + dvar_term, "dx misses the path through the batch mean: subtract the mean over axis 0 of dxc."
    full = dxc + dvar_term
    full = full - full.mean(axis=0)
    yield full / gamma, "dx must be multiplied by gamma: dx_hat = gamma * dout."


@public(points=1.5)
def test_batchnorm_backward_dx(student):
    """BatchNormalization.backward returns dx equal to the numerical gradient (all paths through mean and variance)"""
    _, x, dout, dx, _, expected = backward_case(student)
    comparison = compare("dx", dx, expected, GRAD_TOL)
    attach(gradients=[comparison.to_row()])
    if comparison.passed:
        return
    hint = "backpropagate through x_hat = (x - mu) / sqrt(var + eps), including the paths through mu and var."
    ratio = ratio_if_uniform(dx, expected)
    if ratio is not None:
        hint = f"your dx is exactly {ratio:.4g} times the right one: check where you divide or multiply by N."
    for model, model_hint in dx_models(x, dout, GAMMA):
        if compare("dx", dx, model, GRAD_TOL).passed:
            hint = model_hint
            break
    fail(f"backward(dout) after forward(x) in training: {comparison.describe()} (tolerance {GRAD_TOL:g}).",
         hint=hint, inputs=f"x={show(x)}, dout={show(dout)}", expected=show(expected), got=show(dx))


def dgamma_dbeta_hint(name, got, x, dout, expected) -> str:
    xc = x - x.mean(axis=0)
    if got.shape != expected.shape:
        return f"{name} has one value per feature: sum over the batch, axis=0."
    if name == "dgamma":
        if np.allclose(got, np.sum(x * dout, axis=0), rtol=GRAD_TOL):
            return "dgamma = sum(x_hat * dout, axis=0) uses the NORMALISED x_hat, not x."
        if np.allclose(got, np.sum(xc * dout, axis=0), rtol=GRAD_TOL):
            return "dgamma uses x_hat = xc / std: divide the centred x by the standard deviation."
        if np.allclose(got, np.sum(dout, axis=0), rtol=GRAD_TOL):
            return "dgamma and dbeta are swapped: dgamma = sum(x_hat * dout), dbeta = sum(dout)."
    else:
        if np.allclose(got, dout.mean(axis=0), rtol=GRAD_TOL):
            return "dbeta is the SUM of dout over the batch, not the mean."
        x_hat = xc / np.sqrt(xc.var(axis=0) + ref.EPS)
        if np.allclose(got, np.sum(x_hat * dout, axis=0), rtol=GRAD_TOL):
            return "dgamma and dbeta are swapped: dgamma = sum(x_hat * dout), dbeta = sum(dout)."
    return "dbeta = sum(dout, axis=0) and dgamma = sum(x_hat * dout, axis=0), set as self.dbeta and self.dgamma."


@public(points=1)
def test_batchnorm_backward_dgamma_dbeta(student):
    """backward sets self.dgamma and self.dbeta equal to the numerical gradients"""
    bn, x, dout, _, reference, _ = backward_case(student)
    hint = "in backward, set self.dgamma = np.sum(x_hat * dout, axis=0) and self.dbeta = np.sum(dout, axis=0)."
    rows, failures = [], []
    for name, expected in (("dgamma", reference.dgamma), ("dbeta", reference.dbeta)):
        try:
            value = getattr(bn, name)
        except StudentRaised as exc:
            if exc.type_name != "AttributeError":
                raise
            value = None
        if value is None:
            fail(f"after backward(dout), self.{name} was not set.", hint=hint)
        got = as_array(value, call=f"self.{name} after backward(dout)", hint=hint)
        if got.shape != expected.shape:
            fail(f"after backward(dout), self.{name} has shape {got.shape}; expected {expected.shape}.",
                 hint=dgamma_dbeta_hint(name, got, x, dout, expected))
        comparison = compare(name, got, expected, GRAD_TOL)
        rows.append(comparison.to_row())
        if not comparison.passed:
            failures.append((comparison, dgamma_dbeta_hint(name, got, x, dout, expected)))
    attach(gradients=rows)
    if failures:
        fail("backward(dout) after forward(x) in training: " + "; ".join(c.describe() for c, _ in failures)
             + f" (tolerance {GRAD_TOL:g}).", hint=failures[0][1], inputs=f"x={show(x)}, dout={show(dout)}")


# -- dropout -----------------------------------------------------------------------------------------

FRACTION_TOL = 0.03
"""Allowed |dropped fraction - dropout_ratio| over 10,000 units: the binomial standard
deviation is at most sqrt(0.25 / 10000) = 0.005, so this is 6 standard deviations."""
EXPECTATION_RTOL = 0.05
"""Allowed relative gap between the mean training output and the test output over 20,000
units: the standard error is at most 0.5% of the mean for ratios up to 0.3 (10 deviations)."""


def seed_students_generator(student, seed: int) -> None:
    """Seed numpy's global generator in the student's process, so np.random users get the same
    masks on every run (students with their own generator are judged by wide statistics)."""
    student.import_module("numpy.random").call("seed", seed)


def dropout_train(dropout, x, call="forward(x, train_flg=True)") -> np.ndarray:
    out = as_array(dropout.call("forward", x, True), call=call, hint="forward returns x times the mask.")
    expect_shape(out, x.shape, call=call, hint="the output has the shape of x.")
    return out


def expect_dropped_fraction(student, ratio, options) -> None:
    seed_students_generator(student, 100)
    dropout = student.call("Dropout", *options)
    made = f"Dropout({', '.join(map(str, options))})"
    x = np.ones((200, 50))
    first = dropout_train(dropout, x) == 0
    second = dropout_train(dropout, x, "a second forward(x, train_flg=True)") == 0
    fraction = float(first.mean())
    if fraction == 0:
        fail(f"{made}.forward(x, train_flg=True) on 10,000 ones dropped no unit.",
             hint="in training, multiply x by a random mask: mask = np.random.rand(*x.shape) > dropout_ratio.")
    if np.all(first == first[0]) or np.all(first == first[:, :1]):
        fail(f"{made}.forward on a (200, 50) x dropped the same units in every row (or every column).",
             hint="draw one random number per unit: a mask of x's full shape, np.random.rand(*x.shape).")
    if abs(fraction - ratio) > FRACTION_TOL:
        hint = "drop each unit with probability dropout_ratio: mask = np.random.rand(*x.shape) > dropout_ratio."
        if abs(fraction - (1 - ratio)) <= FRACTION_TOL:
            hint = ("you KEPT units with probability dropout_ratio: a unit is dropped when its random number is "
                    "below the ratio, so mask = np.random.rand(*x.shape) > dropout_ratio.")
        fail(f"{made}.forward(x, train_flg=True) on 10,000 ones dropped {fraction:.1%} of the units; expected "
             f"{ratio:.0%} (within ±{FRACTION_TOL:.0%}).", hint=hint)
    if np.array_equal(first, second):
        fail(f"two forward calls of {made} dropped exactly the same units.",
             hint="draw a new mask on every forward call (do not re-seed the generator inside forward).")


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
        fail("forward(x, train_flg=False) should return x times one constant (no random mask at test time); "
             f"got {show(test[:2])} for rows {show(x[:2])}.",
             hint="at test time return x * (1 - dropout_ratio) (or x itself with inverted dropout).")
    test_scale = float(test_scales.flat[0])
    if abs(train_scale - test_scale) <= EXPECTATION_RTOL * abs(test_scale):
        return
    hint = ("the expected training output must equal the test output: either multiply by (1 - dropout_ratio) at "
            "test time, or divide the kept units by (1 - dropout_ratio) in training and return x at test time.")
    if np.isclose(test_scale, 1.0) and abs(train_scale - (1 - ratio)) <= EXPECTATION_RTOL * (1 - ratio):
        hint = ("training keeps 70% of x on average, so at test time return x * (1 - dropout_ratio) "
                "(the book), or scale kept units by 1 / (1 - dropout_ratio) in training (inverted dropout).")
    elif np.isclose(test_scale, 1 - ratio) and abs(train_scale - 1) <= EXPECTATION_RTOL:
        hint = ("you already divide the kept units by (1 - dropout_ratio) in training (inverted dropout), so at "
                "test time return x unchanged.")
    elif np.isclose(test_scale, ratio):
        hint = "at test time multiply by the keep probability, 1 - dropout_ratio, not by dropout_ratio."
    fail(f"Dropout({ratio}): on average forward(x, train_flg=True) returned {train_scale:.3f} * x, but "
         f"forward(x, train_flg=False) returned {test_scale:.3f} * x; they must agree (within "
         f"{EXPECTATION_RTOL:.0%}).", hint=hint)


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
    dx = as_array(dropout.call("backward", dout), call="backward(dout)", hint="backward returns dx.")
    expect_shape(dx, x.shape, call="backward(dout)", hint="dx has the shape of dout.")
    kept = out != 0
    if not kept.any():
        fail("forward(x, train_flg=True) dropped every unit.",
             hint="keep each unit with probability 1 - dropout_ratio.")
    scales = out[kept] / x[kept]
    scale = float(np.median(scales))
    if not np.allclose(scales, scale, rtol=1e-9):
        fail("forward(x, train_flg=True) multiplied the kept units by different numbers.",
             hint="multiply x by the 0/1 mask (and, for inverted dropout, by the one constant 1 / (1 - ratio)).")
    expected = dout * kept * scale
    if np.allclose(dx, expected, rtol=1e-9, atol=1e-12):
        return
    if np.allclose(dx, dout):
        hint = "backward let dout through every unit: return dout * self.mask (the mask saved by forward)."
    elif np.count_nonzero(dx) > 0 and not np.array_equal(dx != 0, kept):
        hint = ("backward used other units than the last forward kept: save the mask in forward (self.mask = ...) "
                "on every training call, and reuse it in backward instead of drawing a new one.")
    elif np.allclose(dx, dout * kept):
        hint = (f"forward scaled the kept units by {scale:.4g}; backward must apply the same scale: "
                f"dout * mask * {scale:.4g}.")
    elif np.allclose(dx, dout * kept / (1 - ratio)):
        hint = "forward did not scale the kept units, so backward must not either: return dout * mask."
    else:
        hint = "backward returns dout times exactly the factor each unit got in forward (mask, and scale if any)."
    bad = ~np.isclose(dx, expected, rtol=1e-9, atol=1e-12)
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    fail(f"after forward(x) (which kept {kept.mean():.0%} of the units, scaling them by {scale:.4g}), backward(dout) "
         f"gave dx[{index}] = {dx[index]:.6g}; expected {expected[index]:.6g} (dout there was {dout[index]:.6g}, "
         f"the unit was {'kept' if kept[index] else 'dropped'}).", hint=hint)


# -- weight initialisation scales -------------------------------------------------------------------

def init_hint(got: float, n: int, name: str) -> str:
    """Name the formula the student's value came from, among the usual mix-ups."""
    if name == "xavier_std":
        candidates = [(np.sqrt(2 / n), "sqrt(2 / n_in) is He's scale; Xavier's is 1 / sqrt(n_in)."),
                      (1 / n, "take the square root: 1 / sqrt(n_in), not 1 / n_in."),
                      (np.sqrt(n), "the standard deviation shrinks as n_in grows: 1 / sqrt(n_in).")]
    else:
        candidates = [(1 / np.sqrt(n), "1 / sqrt(n_in) is Xavier's scale; He's is sqrt(2 / n_in)."),
                      (2 / n, "take the square root: sqrt(2 / n_in), not 2 / n_in."),
                      (2 / np.sqrt(n), "the 2 goes inside the square root: sqrt(2 / n_in)."),
                      (np.sqrt(n / 2), "sqrt(2 / n_in): n_in divides 2, not the other way round.")]
    for value, hint in candidates:
        if np.isclose(got, value, rtol=1e-6):
            return hint
    return "xavier_std(n_in) = 1 / sqrt(n_in); he_std(n_in) = sqrt(2 / n_in)."


def expect_init_scale(student, name: str) -> None:
    for n in (100, 50, 784, 1):
        got = as_float(student.call(name, n), call=f"{name}({n})")
        expect_close(got, getattr(ref, name)(n), call=f"{name}({n})", rtol=1e-9, atol=0,
                     hint=init_hint(got, n, name))


@public(points=0.5)
def test_xavier_std(student):
    """xavier_std(n_in) = 1 / sqrt(n_in) for n_in = 100, 50, 784, 1"""
    expect_init_scale(student, "xavier_std")


@public(points=0.5)
def test_he_std(student):
    """he_std(n_in) = sqrt(2 / n_in) for n_in = 100, 50, 784, 1"""
    expect_init_scale(student, "he_std")
