"""What the checks of exercise 6 share: the inputs, the tolerances, talking to the student's
layers, and the models of classic mistakes that name them in hints.

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

from grader.checks.api import as_array, as_float, expect_close, expect_shape, fail, show
from grader.checks.translated import N_, _, english_of as english
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
    expect_shape(out, x.shape, call=call, hint=_("forward returns gamma * x_hat + beta, shaped like x."))
    return out


def read_attribute(obj, name: str, shape: tuple, call: str, hint: str) -> np.ndarray:
    """A numeric array attribute of the student's object, or a failure naming what is missing."""
    try:
        value = getattr(obj, name)
    except StudentRaised as exc:
        if exc.type_name != "AttributeError":
            raise
        fail(_("{call}: the object has no attribute {name}.").format(call=call, name=repr(name)), hint=hint)
    if value is None:
        fail(_("{call}: {name} is still None.").format(call=call, name=name), hint=hint)
    shown = f"{name} ({english(call)})"  # a call stays in English: results.cause_key groups failures by it
    array = as_array(value, call=shown, hint=hint)
    expect_shape(array, shape, call=shown, hint=hint)
    return array


# -- forward in training ---------------------------------------------------------------------------

def normalisation_hint(x: np.ndarray, out: np.ndarray) -> str:
    """Name the mistake behind an output (with gamma = 1, beta = 0) that is not standardised."""
    n = x.shape[0]
    col_var = out.var(axis=0)
    if np.allclose(out, 1.0, rtol=BN_RTOL):  # beta * x_hat + gamma with gamma = 1, beta = 0
        return _("gamma and beta are swapped: return gamma * x_hat + beta (gamma multiplies, beta is added).")
    if np.allclose(out.mean(axis=1), 0, atol=1e-6) and not np.allclose(out.mean(axis=0), 0, atol=1e-6):
        return _("each ROW was normalised: take the mean and variance over the batch, axis=0, so every feature "
                 "(column) is normalised across the samples.")
    if not np.allclose(out.mean(axis=0), 0, atol=1e-6):
        return _("subtract the batch mean of every feature: mu = x.mean(axis=0); xc = x - mu.")
    if np.allclose(col_var, (n - 1) / n, rtol=1e-3):
        return _("that is the unbiased variance (divided by N - 1): batch normalization uses the biased one, "
                 "var = np.mean(xc**2, axis=0) (divide by N).")
    if np.allclose(col_var, 1 / x.var(axis=0), rtol=1e-3):
        return _("divide by the standard deviation sqrt(var + eps), not by the variance.")
    if np.allclose(col_var, x.var(axis=0), rtol=1e-3):
        return _("divide the centred x by std = sqrt(var + eps).")
    return _("x_hat = (x - mu) / sqrt(var + eps) with mu and var the mean and (biased) variance over axis 0.")


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
        ({"swapped": True}, momentum, _("momentum weighs the OLD running value: {rule}.").format(rule=rule)),
        ({"unbiased": True}, momentum, _("running_var averages the same biased batch variance used to normalise "
                                         "(divide by N, not N - 1).")),
        ({"start_with_first": True}, momentum, _("the running statistics start as zeros, and the first batch is "
                                                 "averaged in like every other: {rule}.").format(rule=rule)),
        ({"store_std": True}, momentum, _("running_var averages the variance var, not the standard deviation.")),
        ({"no_average": True}, momentum, _("the running statistics were replaced by the last batch's; average "
                                           "them: {rule}.").format(rule=rule)),
    ]
    if momentum != 0.9:
        mistakes.append(({}, 0.9, _("the momentum passed to the constructor was ignored (0.9 was used): store it "
                                    "(self.momentum = momentum) and use it.")))
    return mistakes


def expect_running_statistics(student, momentum: float | None, seed: int) -> None:
    options = {} if momentum is None else {"momentum": momentum}
    momentum = 0.9 if momentum is None else momentum
    batches = [batch(8, seed + i) for i in range(3)]
    bn = new_bn(student, **options)
    expected = running_statistics(batches, momentum)
    for i, x in enumerate(batches):
        made = f"BatchNormalization(gamma, beta{f', momentum={momentum}' if options else ''})"
        call = _("after training forward call {number} of {layer}").format(number=i + 1, layer=made)
        bn_forward(bn, x, True, f"forward(x{i + 1}, train_flg=True)")
        hint = _("keep the running statistics as self.running_mean and self.running_var: zeros of shape (D,) "
                 "before the first batch, updated by every training forward call.")
        got_mean = read_attribute(bn, "running_mean", (D,), call, hint)
        got_var = read_attribute(bn, "running_var", (D,), call, hint)
        want_mean, want_var = expected[i]
        if statistics_agree((got_mean, got_var), expected[i]):
            continue
        fail(_("{call}: running_mean = {got_mean}, running_var = {got_var}; expected {want_mean} and {want_var} "
               "(the batch mean of {batch} was {batch_mean}, its variance {batch_var}).").format(
                 call=call, got_mean=show(got_mean), got_var=show(got_var), want_mean=show(want_mean),
                 want_var=show(want_var), batch=f"x{i + 1}", batch_mean=show(x.mean(axis=0)),
                 batch_var=show(x.var(axis=0))),
             hint=running_hint(got_mean, got_var, batches[:i + 1], momentum) or
             _("running_mean <- momentum * running_mean + (1 - momentum) * mu, and likewise running_var with the "
               "batch variance; both start at zeros."))


def statistics_agree(got: tuple, expected: tuple) -> bool:
    return all(np.allclose(g, e, rtol=BN_RTOL, atol=BN_ATOL) for g, e in zip(got, expected))


def running_hint(got_mean, got_var, batches, momentum) -> str | None:
    if np.allclose(got_mean, 0) and np.allclose(got_var, 0):
        return _("the running statistics never changed: update them in every training forward call.")
    for variant, model_momentum, hint in running_mistakes(momentum):
        mean, var = running_statistics(batches, model_momentum, **variant)[-1]
        if statistics_agree((got_mean, got_var), (mean, var)):
            return hint
    return None


# -- test mode ---------------------------------------------------------------------------------------

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
    dx = as_array(bn.call("backward", dout), call="backward(dout)", hint=_("backward returns dx, shaped like x."))
    expect_shape(dx, x.shape, call="backward(dout)", hint=_("dx has the shape of x."))
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
    yield dxc, _("dx only has the direct path gamma * dout / std: add the paths through the batch mean and "
                 "variance (every x[i] changes mu and var).")
    yield dxc - dxc.mean(axis=0), _("dx misses the path through the batch variance (the dvar term).")
    yield dxc + dvar_term, _("dx misses the path through the batch mean: subtract the mean over axis 0 of dxc.")
    full = dxc + dvar_term
    full = full - full.mean(axis=0)
    yield full / gamma, _("dx must be multiplied by gamma: dx_hat = gamma * dout.")


def dgamma_dbeta_hint(name, got, x, dout, expected) -> str:
    xc = x - x.mean(axis=0)
    if got.shape != expected.shape:
        return _("{name} has one value per feature: sum over the batch, axis=0.").format(name=name)
    if name == "dgamma":
        if np.allclose(got, np.sum(x * dout, axis=0), rtol=GRAD_TOL):
            return _("dgamma = sum(x_hat * dout, axis=0) uses the NORMALISED x_hat, not x.")
        if np.allclose(got, np.sum(xc * dout, axis=0), rtol=GRAD_TOL):
            return _("dgamma uses x_hat = xc / std: divide the centred x by the standard deviation.")
        if np.allclose(got, np.sum(dout, axis=0), rtol=GRAD_TOL):
            return _("dgamma and dbeta are swapped: dgamma = sum(x_hat * dout), dbeta = sum(dout).")
    else:
        if np.allclose(got, dout.mean(axis=0), rtol=GRAD_TOL):
            return _("dbeta is the SUM of dout over the batch, not the mean.")
        x_hat = xc / np.sqrt(xc.var(axis=0) + ref.EPS)
        if np.allclose(got, np.sum(x_hat * dout, axis=0), rtol=GRAD_TOL):
            return _("dgamma and dbeta are swapped: dgamma = sum(x_hat * dout), dbeta = sum(dout).")
    return _("dbeta = sum(dout, axis=0) and dgamma = sum(x_hat * dout, axis=0), set as self.dbeta and self.dgamma.")


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
    out = as_array(dropout.call("forward", x, True), call=call, hint=_("forward returns x times the mask."))
    expect_shape(out, x.shape, call=call, hint=_("the output has the shape of x."))
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
        fail(_("{layer}.forward(x, train_flg=True) on 10,000 ones dropped no unit.").format(layer=made),
             hint=_("in training, multiply x by a random mask: mask = np.random.rand(*x.shape) > dropout_ratio."))
    if np.all(first == first[0]) or np.all(first == first[:, :1]):
        fail(_("{layer}.forward on a (200, 50) x dropped the same units in every row (or every column).").format(
                 layer=made),
             hint=_("draw one random number per unit: a mask of x's full shape, np.random.rand(*x.shape)."))
    if abs(fraction - ratio) > FRACTION_TOL:
        hint = _("drop each unit with probability dropout_ratio: mask = np.random.rand(*x.shape) > dropout_ratio.")
        if abs(fraction - (1 - ratio)) <= FRACTION_TOL:
            hint = _("you KEPT units with probability dropout_ratio: a unit is dropped when its random number is "
                     "below the ratio, so mask = np.random.rand(*x.shape) > dropout_ratio.")
        fail(_("{layer}.forward(x, train_flg=True) on 10,000 ones dropped {fraction} of the units; expected "
               "{ratio} (within ±{tolerance}).").format(layer=made, fraction=f"{fraction:.1%}", ratio=f"{ratio:.0%}",
                                                        tolerance=f"{FRACTION_TOL:.0%}"), hint=hint)
    if np.array_equal(first, second):
        fail(_("two forward calls of {layer} dropped exactly the same units.").format(layer=made),
             hint=_("draw a new mask on every forward call (do not re-seed the generator inside forward)."))


# -- weight initialisation scales -------------------------------------------------------------------

def init_hint(got: float, n: int, name: str) -> str:
    """Name the formula the student's value came from, among the usual mix-ups."""
    if name == "xavier_std":
        candidates = [(np.sqrt(2 / n), _("sqrt(2 / n_in) is He's scale; Xavier's is 1 / sqrt(n_in).")),
                      (1 / n, _("take the square root: 1 / sqrt(n_in), not 1 / n_in.")),
                      (np.sqrt(n), _("the standard deviation shrinks as n_in grows: 1 / sqrt(n_in)."))]
    else:
        candidates = [(1 / np.sqrt(n), _("1 / sqrt(n_in) is Xavier's scale; He's is sqrt(2 / n_in).")),
                      (2 / n, _("take the square root: sqrt(2 / n_in), not 2 / n_in.")),
                      (2 / np.sqrt(n), _("the 2 goes inside the square root: sqrt(2 / n_in).")),
                      (np.sqrt(n / 2), _("sqrt(2 / n_in): n_in divides 2, not the other way round."))]
    for value, hint in candidates:
        if np.isclose(got, value, rtol=1e-6):
            return hint
    return _("xavier_std(n_in) = 1 / sqrt(n_in); he_std(n_in) = sqrt(2 / n_in).")


def expect_init_scale(student, name: str) -> None:
    for n in (100, 50, 784, 1):
        got = as_float(student.call(name, n), call=f"{name}({n})")
        expect_close(got, getattr(ref, name)(n), call=f"{name}({n})", rtol=1e-9, atol=0,
                     hint=init_hint(got, n, name))


# -- features whose variance is near eps ------------------------------------------------------------
#
# With variances of 15 and up, eps cannot be seen, so `np.sqrt(var) + eps` passes every check
# above. NEAR_CONSTANT features have variances of 1e-4 down to 1e-9, around eps. SPEC.md lets eps
# be anything in [1e-8, 1e-5], so these checks never compare with the reference's eps: they
# measure, per feature, the scale d the student divided x - mean by (x_hat = (x - mean) / d) and
# require d**2 - var to be ONE eps for all features, within SPEC's range. With eps inside the
# square root that holds exactly (to ~1e-10 relative); with eps outside, d**2 - var =
# 2 * eps * sqrt(var) + eps**2 changes by a factor of 300 or more across these features.

NEAR_CONSTANT_STD = np.array([1e-2, 1e-3, 1e-4, 3e-5])
NEAR_CONSTANT_LOC = np.array([0.02, -0.01, 0.0, 0.03])
EPS_RANGE = (1e-8, 1e-5)
EPS_SPREAD = 1e-3
"""Largest relative spread of the implied eps across features (a correct layer: ~1e-10)."""
SQRT_HINT = N_("add eps to the variance INSIDE the square root: std = np.sqrt(var + eps), not "
               "np.sqrt(var) + eps.")


def near_constant_batch(n: int = 8, seed: int = 70) -> np.ndarray:
    """n samples of D features with standard deviations 1e-2 to 3e-5 (variances 1e-4 to 1e-9)."""
    return np.random.default_rng(seed).normal(size=(n, D)) * NEAR_CONSTANT_STD + NEAR_CONSTANT_LOC


def column_scales(centered: np.ndarray, x_hat: np.ndarray) -> np.ndarray | None:
    """Per feature, the d with x_hat = centered / d; None when x_hat is not such a scaling (a mistake
    the other checks charge) or not finite."""
    if x_hat.shape != centered.shape or not np.all(np.isfinite(x_hat)):
        return None
    with np.errstate(all="ignore"):
        d = np.sum(centered * centered, axis=0) / np.sum(centered * x_hat, axis=0)
    if not np.all(np.isfinite(d)) or np.any(d <= 0) or not np.allclose(x_hat, centered / d, rtol=1e-6, atol=1e-9):
        return None
    return d


def implied_eps(d: np.ndarray, var: np.ndarray) -> np.ndarray:
    return d * d - var


def eps_problem(d: np.ndarray, var: np.ndarray) -> str | None:
    """Why the scales d are not sqrt(var + eps) for one eps in SPEC's range; None when they are."""
    eps = implied_eps(d, var)
    low, high = EPS_RANGE
    if np.ptp(eps) <= EPS_SPREAD * np.max(np.abs(eps)) and low * (1 - EPS_SPREAD) <= eps.min() and \
            eps.max() <= high * (1 + EPS_SPREAD):
        return None
    outside = d - np.sqrt(var)
    if np.ptp(outside) <= EPS_SPREAD * np.max(np.abs(outside)):
        return _("you divided by np.sqrt(var) + {eps}: {advice}").format(eps=f"{outside.mean():.2g}",
                                                                         advice=_(SQRT_HINT))
    if np.ptp(eps) <= EPS_SPREAD * np.max(np.abs(eps)):
        return _("your eps is {eps}; SPEC.md asks for an eps between {low} and {high}, inside the square root: "
                 "np.sqrt(var + eps).").format(eps=f"{eps.mean():.2g}", low=f"{low:g}", high=f"{high:g}")
    return _("the scale per feature is not np.sqrt(var + eps) for one eps: {advice}").format(advice=_(SQRT_HINT))


def near_constant_backward(d: np.ndarray, centered: np.ndarray, dout: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """dx of gamma * (x - mean) / d + beta where d = sqrt(var + eps): the layer's own eps, d**2 - var."""
    x_hat = centered / d
    return gamma / d * (dout - dout.mean(axis=0) - x_hat * np.mean(dout * x_hat, axis=0))
