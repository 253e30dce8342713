"""What the checks of exercise 3 share: test networks, talking to the student's net, comparing
its results with the reference's (with the tolerances), and hints.

A `Case` is one network size, one set of parameters the grader puts into the student's net,
and one batch. The hint functions look at a wrong result and name the classic mistake that
produces exactly that result (forgetting the batch size, the wrong sigmoid derivative, weights
cached in __init__, ...): each candidate is computed here and compared with what came back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.checks.api import as_array, as_float, attach, expect_close, fail, show
from grader.checks.gradcheck import Comparison, compare, ratio_if_uniform
from grader.sandbox.errors import StudentRaised
from grader.checks.translated import N_, _
from grader.sandbox.session import RemoteObject
from reference.exercise3 import two_layer_net as ref

KEYS = ("W1", "b1", "W2", "b2")
SIZES = (5, 4, 3)
"""input, hidden, output: all different (and different from BATCH), so shapes name arrays."""
BATCH = 7
SEED = 20261123

# The checks' tolerances: test_public.py's docstring says why each is what it is.
GRADIENT_TOL = 1e-6
NUMERICAL_TOL = 1e-5
LOSS_RTOL = 1e-5
H = 1e-4
WEIGHT_SIZES = (400, 100, 10)
"""Large enough to measure a standard deviation: W1 holds 40,000 numbers, W2 1,000."""

STALE_HINT = N_("your network used the weights it had before the grader put new arrays into net.params. "
                 "Read self.params['W1'] etc. each time a method runs, instead of copies made in __init__ "
                 "(self.W1 = ..., or the book's Affine layers built once from self.params).")
LABELS_HINT = N_("t may be integer labels of shape (N,) instead of one-hot rows: turn them into one-hot "
                 "(np.eye(output_size)[t]) or index y[np.arange(N), t].")


@dataclass
class Case:
    sizes: tuple
    params: dict
    x: np.ndarray
    labels: np.ndarray

    def target(self, kind: str) -> np.ndarray:
        return self.labels if kind == "labels" else np.eye(self.sizes[2])[self.labels]

    def describe(self, kind: str = "") -> str:
        i, h, o = self.sizes
        if kind == "one-hot":
            return _("a {i}-{h}-{o} network ({i} inputs, {h} hidden units, {o} classes), batch of {n}, one-hot "
                     "targets").format(i=i, h=h, o=o, n=len(self.x))
        if kind == "labels":
            return _("a {i}-{h}-{o} network ({i} inputs, {h} hidden units, {o} classes), batch of {n}, "
                     "integer-label targets").format(i=i, h=h, o=o, n=len(self.x))
        return _("a {i}-{h}-{o} network ({i} inputs, {h} hidden units, {o} classes), batch of {n}").format(
            i=i, h=h, o=o, n=len(self.x))

    def shapes(self) -> dict:
        i, h, o = self.sizes
        return {"W1": (i, h), "b1": (h,), "W2": (h, o), "b2": (o,)}

    def reference(self) -> ref.TwoLayerNet:
        return ref_with(self.params)

    def expect_gradient_dict(self, got, call: str) -> dict:
        """The four gradient arrays, or a failure naming a missing key or a wrong shape."""
        if isinstance(got, RemoteObject):
            got = plain_dict(got)
        if not isinstance(got, dict):
            fail(_("{call} returned {kind} {value}; expected a dict with the keys {keys}.").format(
                     call=call, kind=type(got).__name__, value=show(got, 80), keys=", ".join(KEYS)),
                 hint=_("return grads, the dict you filled (check for a missing `return`)."))
        missing = [k for k in KEYS if k not in got]
        if missing:
            fail(_("{call} returned a dict with the keys {keys}; {missing} missing.").format(
                     call=call, keys=sorted(map(str, got)), missing=", ".join(missing)),
                 hint=_("use the same keys as self.params: 'W1', 'b1', 'W2', 'b2'."))
        grads = {k: as_array(got[k], call=f"{call}['{k}']") for k in KEYS}
        for key, shape in self.shapes().items():
            if grads[key].shape != shape:
                fail(_("{call}['{key}'] has shape {shape}; expected {expected}, the shape of params['{key}'] "
                       "({case}).").format(call=call, key=key, shape=grads[key].shape, expected=shape,
                                           case=self.describe()), hint=shape_hint(key, grads[key].shape, self))
        return grads

    def expect_params_restored(self, params: dict | None) -> None:
        if params is None:
            return
        for key in KEYS:
            after = np.asarray(params.get(key), dtype=float)
            if after.shape != self.params[key].shape or not np.allclose(after, self.params[key], rtol=0, atol=1e-12):
                fail(_("after net.numerical_gradient(x, t), params['{key}'] no longer holds the values it had "
                       "before ({case}).").format(key=key, case=self.describe()),
                     hint=_("after perturbing an element, put its saved value back: x[idx] = old_value."))


def make_case(sizes: tuple = SIZES, batch: int = BATCH, seed: int = SEED, w2_scale: float = 1.0) -> Case:
    """Weights of scale 1 (not 0.01) and non-zero biases, so that every term shows."""
    rng = np.random.default_rng(seed)
    i, h, o = sizes
    params = {"W1": rng.normal(size=(i, h)), "b1": rng.normal(scale=0.5, size=h),
              "W2": rng.normal(scale=w2_scale, size=(h, o)), "b2": rng.normal(scale=0.5, size=o)}
    x = rng.normal(size=(batch, i))
    labels = rng.integers(0, o, size=batch)
    return Case(tuple(sizes), params, x, labels)


CASES = {
    "main": {},
    "numerical": {"sizes": (4, 3, 2), "batch": 5, "w2_scale": 0.5},
    "labels": {"seed": SEED + 1},
    "single": {"sizes": (6, 10, 4), "batch": 1, "seed": SEED + 2},
    "wide": {"sizes": (3, 8, 5), "batch": 12, "seed": SEED + 3},
    "accuracy": {"seed": SEED + 4},
    "first": {"seed": SEED + 5},
}
"""Every network and batch the checks use, by name (the tests check that each is well
conditioned: no gradient entry near zero, no near-tie between classes). "numerical" is tiny
(23 parameters, sizes and batch all different) because numerical gradients are slow."""


def case_named(name: str) -> Case:
    return make_case(**CASES[name])


def accuracy_case(kind: str, right: int = 4) -> tuple[Case, int]:
    """A batch of 7 whose first `right` rows carry the reference's own predicted class."""
    case = case_named("accuracy")
    predicted = case.reference().predict(case.x).argmax(axis=1)
    labels = np.where(np.arange(len(predicted)) < right, predicted, (predicted + 1) % case.sizes[2])
    return Case(case.sizes, case.params, case.x, labels), right


# -- the student's network ---------------------------------------------------------------------
def plain_dict(remote: RemoteObject) -> dict:
    """A dict subclass (e.g. OrderedDict) stays in the sandbox; read it key by key."""
    return {key: remote[key] for key in list(remote)}


def read_params(net) -> dict | None:
    """A copy of net.params, or None when it is not a mapping the grader can read."""
    params = net.params
    if isinstance(params, RemoteObject):
        try:
            params = plain_dict(params)
        except StudentRaised:
            return None
    return params if isinstance(params, dict) else None


def assign_params(net, params: dict) -> None:
    target = net.ref("params")
    for key, value in params.items():
        target[key] = value.copy()


def student_net(student, case: Case) -> tuple:
    """The student's net holding the case's params, and the params it had before (for hints)."""
    net = student.TwoLayerNet(*case.sizes)
    initial = read_params(net)
    assign_params(net, case.params)
    return net, initial


def uses_initial(got, initial: dict | None, compute) -> bool:
    """Does `got` equal what the reference computes with the student's params from __init__?"""
    if initial is None:
        return False
    try:
        expected = compute(ref_with(initial))
        if isinstance(expected, dict):
            return all(np.allclose(np.asarray(got[k], dtype=float), expected[k], rtol=1e-6, atol=1e-12) for k in KEYS)
        return bool(np.allclose(np.asarray(got, dtype=float), expected, rtol=1e-6, atol=1e-12))
    except (ValueError, TypeError, KeyError, IndexError):
        return False


def same(a, b) -> bool:
    """Two results of the student's own code (numbers, arrays or gradient dicts): the same
    shapes and values up to rounding."""
    a, b = (plain_dict(v) if isinstance(v, RemoteObject) else v for v in (a, b))
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and all(k in a and k in b and same(a[k], b[k])
                                                                   for k in KEYS)
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return False
    a, b = (v.reshape(()) if v.size == 1 else v for v in (a, b))  # a number may come as a 0-d or 1-element array
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-9, atol=1e-15))


def ref_with(params: dict) -> ref.TwoLayerNet:
    """The reference net holding copies of these params (built without touching numpy's global RNG)."""
    net = ref.TwoLayerNet.__new__(ref.TwoLayerNet)
    net.params = {k: np.array(params[k], dtype=float) for k in KEYS}
    return net


# -- parameters ---------------------------------------------------------------------------------
def expect_param_layout(params: dict | None, sizes: tuple, *, call: str, keys: tuple = KEYS) -> None:
    """The keys, shapes and zero biases of `keys` in params."""
    i, h, o = sizes
    if params is None:
        fail(_("{call} is not a dict.").format(call=call),
             hint="self.params = {'W1': ..., 'b1': ..., 'W2': ..., 'b2': ...}")
    missing = [k for k in keys if k not in params]
    if missing:
        fail(_("{call} has the keys {keys}; {missing} missing.").format(
                 call=call, keys=sorted(map(str, params)), missing=", ".join(missing)),
             hint=_("the keys are 'W1', 'b1', 'W2', 'b2' (capital W, lower-case b)."))
    shapes = {"W1": (i, h), "b1": (h,), "W2": (h, o), "b2": (o,)}
    for key in keys:
        shape = shapes[key]
        value = as_array(params[key], call=f"{call}['{key}']")
        if value.shape != shape:
            hint = (_("a bias is 1-D: np.zeros(size).") if key[0] == "b" else
                    _("{key} maps the layer's inputs (rows) to its outputs (columns): shape {shape}.").format(
                        key=key, shape=shape))
            fail(_("{call}['{key}'] has shape {shape}; expected {expected} for TwoLayerNet{sizes}.").format(
                call=call, key=key, shape=value.shape, expected=shape, sizes=sizes), hint=hint)
        if key[0] == "b" and np.any(value != 0):
            fail(_("{call}['{key}'] = {value}; the biases start at zero.").format(call=call, key=key,
                                                                                  value=show(value)),
                 hint=f"np.zeros({shape[0]})")


def new_weights(student, sizes: tuple, **kwargs) -> tuple[dict, str]:
    """W1 and W2 of a new student net, numpy's global generator seeded first (so np.random.randn
    users get the same numbers on every run; other generators only need the margins below)."""
    student.import_module("numpy").random.seed(SEED % 2**32)
    net = student.TwoLayerNet(*sizes, **kwargs)
    call = f"TwoLayerNet({', '.join([*map(str, sizes), *(f'{k}={v}' for k, v in kwargs.items())])}).params"
    params = read_params(net)
    expect_param_layout(params, sizes, call=call, keys=("W1", "W2"))
    return {k: np.asarray(params[k], dtype=float) for k in ("W1", "W2")}, call


def check_weights(student, sizes: tuple, std: float) -> None:
    """Mean about 0 and standard deviation about `std`, measured on W1 and W2.

    W1 holds 40,000 numbers: the sample std is within 0.4% of the true one (one standard error),
    so ±10% is a 25-sigma margin; the mean must be within 0.1*std (20 standard errors). W2
    holds 1,000: ±20% on the std (9 sigma), mean within 0.2*std (6 sigma).
    """
    weights, call = new_weights(student, sizes, weight_init_std=std)
    for key, rel in (("W1", 0.1), ("W2", 0.2)):
        w = weights[key]
        mean, spread = float(w.mean()), float(w.std())
        if abs(spread - std) > rel * std or abs(mean) > rel * std:
            fail(_("{call}['{key}'] has mean {mean} and standard deviation {spread}; expected mean about 0 "
                   "and standard deviation about {std} (within {within}) for weight_init_std={std}.").format(
                     call=call, key=key, mean=f"{mean:.4g}", spread=f"{spread:.4g}", std=f"{std:g}",
                     within=f"{rel:.0%}"),
                 hint=weight_hint(w), mean=mean, std=spread)


def check_default_scale(student, sizes: tuple) -> None:
    """Without weight_init_std, W1 has the scale it has with weight_init_std=0.01. Compared with
    the student's own explicit-0.01 net, so a wrong scale is charged once, by check_weights;
    ±10% on 40,000 numbers is a 20-sigma margin for the two sample stds."""
    default, call = new_weights(student, sizes)
    explicit, _weights = new_weights(student, sizes, weight_init_std=0.01)
    got, want = float(default["W1"].std()), float(explicit["W1"].std())
    if not abs(got - want) <= 0.1 * max(want, 1e-300):
        fail(_("{call}['W1'] has standard deviation {got}, but {want} when weight_init_std=0.01 is passed.").format(
                 call=call, got=f"{got:.4g}", want=f"{want:.4g}"),
             hint=_("the default is 0.01: def __init__(self, input_size, hidden_size, output_size, "
                    "weight_init_std=0.01)."))


def weight_hint(w: np.ndarray) -> str:
    spread = float(w.std())
    if spread == 0:
        return _("every weight is {value}: weights must start random and different, or all hidden "
                 "units stay identical. Use weight_init_std * np.random.randn(rows, columns).").format(
            value=f"{w.flat[0]:g}")
    if w.min() >= 0:
        return _("all weights are >= 0: np.random.rand is uniform on [0, 1); use np.random.randn (standard normal).")
    if abs(spread - 1) < 0.1:
        return _("the weights have standard deviation 1: multiply the standard normal numbers by weight_init_std.")
    if abs(spread - 0.01) < 0.002:
        return _("the weights use 0.01 whatever weight_init_std is passed: multiply by the weight_init_std argument.")
    return "W = weight_init_std * np.random.randn(rows, columns)."


# -- hints for wrong results ----------------------------------------------------------------------
def forward(case: Case):
    """a1, z1 and y of the reference's forward pass, for the hints' what-if computations."""
    p = case.params
    a1 = case.x @ p["W1"] + p["b1"]
    z1 = ref.sigmoid(a1)
    return a1, z1, ref.softmax(z1 @ p["W2"] + p["b2"])


def close(got, expected) -> bool:
    try:
        got = np.asarray(got, dtype=float)
        return got.shape == np.shape(expected) and bool(np.allclose(got, expected, rtol=1e-6, atol=1e-12))
    except (TypeError, ValueError):
        return False


def predict_hint(got, case: Case, initial) -> str:
    shape = (len(case.x), case.sizes[2])
    if np.shape(got) != shape:
        return _("predict returns one row of probabilities per example: shape (N, output_size) = {shape}.").format(
            shape=shape)
    if uses_initial(got, initial, lambda r: r.predict(case.x)):
        return _(STALE_HINT)
    p, x = case.params, case.x
    a1, z1, _y = forward(case)
    candidates = [
        (z1 @ p["W2"] + p["b2"], N_("you returned the scores z1 @ W2 + b2: apply softmax to them.")),
        (ref.softmax(a1 @ p["W2"] + p["b2"]), N_("the hidden layer needs the sigmoid: z1 = sigmoid(x @ W1 + b1).")),
        (ref.softmax(np.maximum(a1, 0) @ p["W2"] + p["b2"]),
         N_("this network's hidden layer uses the sigmoid, not ReLU.")),
        (ref.softmax(ref.sigmoid(x @ p["W1"]) @ p["W2"] + p["b2"]), N_("add the bias b1: x @ W1 + b1.")),
        (ref.softmax(z1 @ p["W2"]), N_("add the bias b2: z1 @ W2 + b2.")),
    ]
    for value, hint in candidates:
        if close(got, value):
            return _(hint)
    if not np.allclose(np.asarray(got, dtype=float).sum(axis=1), 1.0):
        return _("each row must be probabilities summing to 1: softmax row by row (axis=1, keepdims=True).")
    return _("compute softmax(sigmoid(x @ W1 + b1) @ W2 + b2) with the arrays in self.params.")


def loss_hint(value: float, case: Case, kind: str, initial, own: float | None) -> str:
    """`own` is the cross-entropy of the student's own predict(x), when that runs."""
    t = case.target(kind)
    n = len(case.x)
    basis = own if own is not None and np.isfinite(own) else case.reference().loss(case.x, t)
    if np.isclose(value, basis * n, rtol=1e-6):
        return _("that is the sum over the batch; the loss is the mean: divide by N = {n}.").format(n=n)
    if uses_initial(value, initial, lambda r: r.loss(case.x, t)):
        return _(STALE_HINT)
    if kind == "labels":  # the checks got here only if one-hot targets give a different loss
        return _(LABELS_HINT)
    return _("the loss is -log(y[row, correct class] + 1e-7), averaged over the rows, with y = self.predict(x).")


def raised_hint(exc: StudentRaised, method: str, kind: str) -> str:
    """A hint for the errors the classic mistakes raise; "" when there is nothing to add."""
    text = exc.text.lower()
    if exc.type_name == "ValueError" and ("matmul" in text or "not aligned" in text):
        forward = _("a matrix product got arrays whose shapes do not fit. Each layer takes the previous layer's "
                    "output: the second layer multiplies the hidden activation z1 = sigmoid(x @ W1 + b1), of "
                    "shape (N, hidden_size), by W2 — not x, of shape (N, input_size).")
        if method != "gradient":
            return forward
        return forward + " " + _("In the backward pass: dW2 = z1.T @ dy, dz1 = dy @ W2.T, dW1 = x.T @ da1.")
    if kind == "labels" and ("broadcast" in text or "out of bounds" in text or exc.type_name == "IndexError"):
        return _(LABELS_HINT)
    if exc.type_name == "AttributeError" and method in ("gradient", "numerical_gradient"):
        return _("{method}(x, t) may be the first method called on a new network: run the forward pass "
                 "inside it instead of reusing values stored by an earlier predict or loss.").format(method=method)
    return ""


def shape_hint(key: str, shape: tuple, case: Case) -> str:
    i, h, o = case.sizes
    n = len(case.x)
    width = case.shapes()[key][-1]
    if key == "W2" and shape == (i, o):
        return _("dW2 = z1.T @ dy: the second layer's input is the hidden activation z1, not x.")
    if key[0] == "W" and shape == case.shapes()[key][::-1]:
        return _("d{key} has the shape of {key}.T: use (the layer's input).T @ (the gradient at its output).").format(
            key=key)
    if key[0] == "b":
        if shape == ():
            return _("you summed over every axis: sum over the batch axis only, np.sum(d, axis=0).")
        if shape == (n,):
            return _("you summed over the wrong axis (axis=1, the units): sum over the batch axis, axis=0.")
        if shape == (1, width):
            return _("drop keepdims=True: the gradient has the bias's shape ({width},).").format(width=width)
        if shape == (n, width):
            return _("sum over the batch (axis=0): every row uses the same bias, so its gradient is the sum of "
                     "theirs.")
    return _("grads['{key}'] must have the shape of params['{key}'].").format(key=key)


def first_layer_mistakes(case: Case, t) -> list[tuple[str, np.ndarray]]:
    """dW1 as the classic slips in the backward pass through the sigmoid would compute it."""
    p, x = case.params, case.x
    a1, z1, y = forward(case)
    dy = (y - np.eye(case.sizes[2])[ref.as_labels(t)]) / len(x)
    dz1 = dy @ p["W2"].T
    s = ref.sigmoid(z1)
    return [
        (_("the sigmoid's derivative takes its output: z1 * (1 - z1) with z1 = sigmoid(a1); you used the input, "
           "a1 * (1 - a1)."), x.T @ (dz1 * a1 * (1 - a1))),
        (_("you applied the sigmoid twice: its derivative is z1 * (1 - z1) with z1 = sigmoid(a1), not "
           "sigmoid(z1) * (1 - sigmoid(z1))."), x.T @ (dz1 * s * (1 - s))),
        (_("the backward pass skips the sigmoid: multiply dz1 = dy @ W2.T by z1 * (1 - z1)."), x.T @ dz1),
        (_("the sigmoid's derivative is z1 * (1 - z1); you multiplied by z1 only."), x.T @ (dz1 * z1)),
        (_("the sigmoid's derivative is z1 * (1 - z1); you multiplied by (1 - z1) only."), x.T @ (dz1 * (1 - z1))),
    ]


def gradient_hint(grads: dict, case: Case, kind: str, initial, method: str, bad: list[str]) -> str:
    t = case.target(kind)
    expected = case.reference().gradient(case.x, t)
    n = len(case.x)
    ratios = [ratio_if_uniform(grads[key], expected[key]) for key in bad]
    if None not in ratios and np.allclose(ratios, ratios[0], rtol=1e-4):
        return ratio_hint(ratios[0], n, bad, method)
    if uses_initial(grads, initial, lambda r: getattr(r, method)(case.x, t)):
        return _(STALE_HINT)
    if method == "numerical_gradient":
        return numerical_hint(grads, expected, bad)
    if set(bad) <= {"W1", "b1"}:
        for hint, d_w1 in first_layer_mistakes(case, t):
            if close(grads["W1"], d_w1):
                return hint
        return _("W2 and b2 are right, so dy is right: the mistake is in the backward pass through the sigmoid "
                 "and the first layer: da1 = (dy @ W2.T) * z1 * (1 - z1), dW1 = x.T @ da1, db1 = da1.sum(axis=0).")
    if kind == "labels":
        return _(LABELS_HINT)
    return _("all layers inherit dy, so start there: dy = (softmax output - one-hot t) / N; then follow the "
             "handout's backward formulas one by one, checking each shape (and if the predict check fails, fix "
             "the forward pass first).")


def ratio_hint(ratio: float, n: int, bad: list[str], method: str) -> str:
    which = _("every gradient") if len(bad) == 4 else ", ".join(bad)
    if method == "gradient" and np.isclose(ratio, n, rtol=1e-4):
        return _("{which} is exactly N = {n} times too large: the loss is a mean over the batch, so divide by the "
                 "batch size N = x.shape[0]: dy = (y - t) / N.").format(which=which, n=n)
    if method == "gradient" and np.isclose(ratio, 1 / n, rtol=1e-4):
        return _("{which} is exactly N = {n} times too small: you divided by the batch size twice.").format(
            which=which, n=n)
    if np.isclose(ratio, -1, rtol=1e-4):
        if method == "gradient":
            return _("{which} has the wrong sign: dy = y - t, not t - y.").format(which=which)
        return _("{which} has the wrong sign: (loss(w + h) - loss(w - h)) / (2h).").format(which=which)
    if method == "numerical_gradient" and np.isclose(ratio, 2, rtol=1e-4):
        return _("a central difference divides by 2h, not h.")
    return _("{which} is {ratio} times the right value: look for a wrong constant factor.").format(
        which=which, ratio=f"{ratio:.6g}")


def numerical_hint(grads: dict, expected: dict, bad: list[str]) -> str:
    if all(not np.any(grads[k]) for k in bad):
        return _("the loss did not change when the parameters were perturbed: perturb self.params[key] itself, in "
                 "place (not a copy), so that self.loss(x, t) sees the change.")
    if all(np.allclose(grads[k], expected[k], rtol=1e-3, atol=1e-6) for k in bad):
        return _("close, but not the central difference with h = 1e-4: (loss(w + h) - loss(w - h)) / (2h).")
    return _("each element: save w, set w + h, compute the loss, set w - h, compute the loss, put w back; "
             "grad = (loss_plus - loss_minus) / (2h) with h = 1e-4. (Your numerical gradient also differs from "
             "the central differences of your own loss.)")


# -- comparing the student's results with the reference's ----------------------------------------
def call_student(net, method: str, case: Case, *args, kind: str = ""):
    """net.method(*args); a shape error or a crash gets a hint that names the likely cause."""
    try:
        return net.call(method, *args)
    except StudentRaised as exc:
        hint = raised_hint(exc, method, kind)
        if hint:
            names = ", ".join(("x", "t")[:len(args)])
            fail(_("net.{method}({names}) raised {error}: {text} ({case}).").format(
                     method=method, names=names, error=exc.type_name, text=exc.text, case=case.describe()), hint=hint,
                 error=exc.student_message())
        raise


def check_predict(student, case: Case) -> None:
    net, initial = student_net(student, case)
    got = call_student(net, "predict", case, case.x)
    expect_close(got, case.reference().predict(case.x),
                 call=_("net.predict(x) for {case}").format(case=case.describe()),
                 hint=predict_hint(got, case, initial), rtol=1e-6, atol=1e-10)


def check_loss(student, case: Case, kind: str) -> None:
    """Right if it matches the reference, or the cross-entropy of the student's own predict(x):
    a mistake in the forward pass is charged by the predict checks, not a second time here.
    With labels, also right if it equals the student's own loss with the same targets one-hot."""
    net, initial = student_net(student, case)
    t = case.target(kind)
    value = as_float(call_student(net, "loss", case, case.x, t, kind=kind), call="net.loss(x, t)")
    expected = case.reference().loss(case.x, t)
    if np.isclose(value, expected, rtol=LOSS_RTOL, atol=1e-10) or same_as_one_hot(net, "loss", case, kind, value):
        return
    y = own_predict(net, case)
    with np.errstate(all="ignore"):
        own = ref.cross_entropy_error(y, t) if y is not None else None
    if own is not None and np.isclose(value, own, rtol=LOSS_RTOL, atol=1e-10):
        return
    fail(_("net.loss(x, t) returned {got}; expected {expected} ({case}; t = {t}).").format(
             got=f"{value:.6g}", expected=f"{expected:.6g}", case=case.describe(kind), t=show(t)),
         hint=loss_hint(value, case, kind, initial, own), expected=expected, got=value)


def check_accuracy(student, kind: str) -> None:
    """Right if it matches the reference, or the fraction of matches of the student's own predict(x)."""
    case, right = accuracy_case(kind)
    net, initial = student_net(student, case)
    t = case.target(kind)
    got = as_float(call_student(net, "accuracy", case, case.x, t, kind=kind), call="net.accuracy(x, t)")
    expected = case.reference().accuracy(case.x, t)
    n = len(case.x)
    if np.isclose(got, expected, rtol=1e-6) or same_as_one_hot(net, "accuracy", case, kind, got):
        return
    y = own_predict(net, case)
    if y is not None and np.isclose(got, np.mean(y.argmax(axis=1) == case.labels), rtol=1e-6):
        return
    if np.isclose(got, right):
        hint = _("return the fraction of rows that are right ({right} of {n} = {fraction}), not their count.").format(
            right=right, n=n, fraction=f"{expected:.4f}")
    elif uses_initial(got, initial, lambda r: r.accuracy(case.x, t)):
        hint = _(STALE_HINT)
    elif kind == "labels":
        hint = _(LABELS_HINT)
    else:
        hint = _("compare y.argmax(axis=1) with the labels (for one-hot t: t.argmax(axis=1)) and take the "
                 "mean of the matches.")
    fail(_("net.accuracy(x, t) returned {got}; expected {expected}: {right} of the {n} rows are "
           "classified correctly ({case}; t = {t}).").format(got=f"{got:.6g}", expected=f"{expected:.6g}",
                                                             right=right, n=n, case=case.describe(kind), t=show(t)),
         hint=hint, expected=expected, got=got)


def own_predict(net, case: Case) -> np.ndarray | None:
    """The student's own predict(x), if it runs and has the right shape."""
    try:
        y = np.asarray(net.predict(case.x), dtype=float)
    except (StudentRaised, TypeError, ValueError):
        return None
    return y if y.shape == (len(case.x), case.sizes[2]) else None


def same_as_one_hot(net, method: str, case: Case, kind: str, got) -> bool:
    """With labels: does the student's method give what it gives for the same targets one-hot?
    Then labels are handled right, and any other mistake is charged by the one-hot check."""
    if kind != "labels":
        return False
    try:
        return same(got, net.call(method, case.x, case.target("one-hot")))
    except StudentRaised:
        return False


def check_gradient(student, case: Case, kind: str, method: str = "gradient") -> None:
    """Compare the student's gradient dict with the reference's per parameter, and attach the table."""
    net, initial = student_net(student, case)
    t = case.target(kind)
    got = call_student(net, method, case, case.x, t, kind=kind)
    if same_as_one_hot(net, method, case, kind, got):
        return
    grads = case.expect_gradient_dict(got, f"net.{method}(x, t)")
    tol = GRADIENT_TOL if method == "gradient" else NUMERICAL_TOL
    if method == "numerical_gradient":
        case.expect_params_restored(read_params(net))
    comparisons = compare_with_reference(grads, case, t, method, tol)
    if method == "numerical_gradient" and not all(c.passed for c in comparisons):
        own = own_loss_gradient(net, case, t)
        comparisons = [better(c, compare(_("{name} (vs. your loss)").format(name=c.name), grads[c.name],
                                         own[c.name], tol))
                       for c in comparisons]
    attach(gradients=[c.to_row() for c in comparisons], tolerance=tol)
    bad = [c for c in comparisons if not c.passed]
    if bad:
        lines = "\n".join(f"  {c.describe()}" for c in bad)
        fail(_("net.{method}(x, t) disagrees with the reference for {names} ({case}; tolerance: relative error "
               "{tolerance}):").format(method=method, names=", ".join(c.name for c in bad), case=case.describe(kind),
                                      tolerance=f"{tol:g}") + "\n" + lines,
             hint=gradient_hint(grads, case, kind, initial, method, [c.name for c in bad]))


def compare_with_reference(grads: dict, case: Case, t, method: str, tol: float) -> list[Comparison]:
    """Per key: against the reference's gradient of the same kind, else of the other kind
    (backprop against numerical is SPEC.md's own criterion, so it passes too)."""
    reference = case.reference()
    kinds = ["gradient", "numerical_gradient"] if method == "gradient" else ["numerical_gradient", "gradient"]
    first = getattr(reference, kinds[0])(case.x, t)
    comparisons = [compare(key, grads[key], first[key], tol) for key in KEYS]
    if all(c.passed for c in comparisons):
        return comparisons
    second = getattr(reference, kinds[1])(case.x, t)
    return [better(c, compare(c.name, grads[c.name], second[c.name], tol)) for c in comparisons]


def own_loss_gradient(net, case: Case, t) -> dict:
    """Central differences (h = 1e-4) of the student's own net.loss, perturbing net.params from
    here: numerical_gradient is right if it matches these, since a mistake in the loss is charged
    by the loss checks. Tiny nets only: two round trips per evaluation."""
    target = net.ref("params")
    grads = {}
    for key in KEYS:
        base = case.params[key]
        grads[key] = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            losses = []
            for step in (H, -H):
                moved = base.copy()
                moved[idx] += step
                target[key] = moved
                losses.append(as_float(net.loss(case.x, t), call="net.loss(x, t)"))
            grads[key][idx] = (losses[0] - losses[1]) / (2 * H)
        target[key] = base.copy()
    return grads


def better(first: Comparison, fallback: Comparison) -> Comparison:
    """The first comparison, unless it failed and the fallback passed."""
    return fallback if fallback.passed and not first.passed else first
