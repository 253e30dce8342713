"""Contract-wide hidden checks of exercise 3: TwoLayerNet judged on generated networks, batches
and targets (Hypothesis, through checks.contract.for_all: fixed seed, shrunk failures), and on
generated sequences of calls to one network.

Input dimensions SPEC.md allows, method by method, and what the checks below draw. Every
generated network case holds three batches on one net: N == 1, N == output_size and N of any
size 1..5 (so the degenerate and coincident batch sizes are in every case, not left to chance);
a call judged wrong on that shared net is judged again on a new net, so only a mistake of the
single call fails these checks (history is call_sequences' business).

TwoLayerNet(input_size, hidden_size, output_size, weight_init_std=0.01)   -> init_contract
  - sizes: each of input_size and hidden_size 1..4, output_size 2..4, with coincidences
    (input == hidden == output, input == output, ...); called positionally and by keyword
    (SPEC.md names the parameters), weight_init_std given or left out.
  - result: params has exactly the shapes of SPEC.md and zero biases. (The weights' scale is
    the public and hidden weight checks' business: it needs large nets.)
  Not drawn: output_size 1 (a one-class classifier, whose labels-vs-one-hot test t.size ==
  y.size in the book's own code cannot tell apart; SPEC.md does not say it is supported).

predict(x)                                                              -> predict_contract
  - shapes: N == 1, N == output_size and N in 1..5 on every net; sizes as above.
  - dtypes: x float64 or float32 (MNIST arrives as float32); params float64.
  - layouts: x C-contiguous, Fortran, a transposed view, strided or offset (codec.Layout).
  - values: x in [-5, 5]; params of scale 1, and scores up to ±1000 (W2, b2 of scale 1000):
    SPEC.md's softmax is exercise 1's, finite for scores as large as ±1e4, so it subtracts the
    row maximum.
  - params are the grader's, assigned into net.params after __init__ (SPEC.md).

loss(x, t), accuracy(x, t)                                  -> loss_contract, accuracy_contract
  - as predict for x (values of scale 1); targets as integer labels (N,) in int64, int32 or
    uint8, and one-hot rows (N, output_size) in float64, int64 or float32 (one dtype of each per
    case): one-hot for the batch of one (a (1, C) t that np.squeeze would turn into labels),
    labels for N == C (labels (C,) have as many entries as y has columns, which a test of the
    last dimension mistakes for one-hot), both for the batch of any size.
  - accuracy: rows whose top two probabilities tie (Hypothesis likes zero weights) may count
    either way: np.argmax picks the first, and SPEC.md's "argmax" does not decide a tie.

gradient(x, t)                                                          -> gradient_contract
  - as loss: sizes, N, layouts, x dtypes, target forms; compared with the reference's
    backprop, else with its numerical gradient (SPEC.md's own criterion).
  Not drawn for any method: x of other dtypes than float32/float64, params other than float64
  C-contiguous arrays (SPEC.md: the grader assigns its own arrays), output_size 1.

numerical_gradient(x, t)                                      -> numerical_gradient_contract
  - tiny nets (input and hidden sizes 1..2, output 2..3: it is slow by nature), batches of
    N == C with labels (int64, int32 or uint8) and N == 1 one-hot; compared with the
    reference's central differences (h = 1e-4), else its backprop, else the central
    differences of the student's own loss (a loss mistake is charged by the loss checks);
    params hold exactly their old values afterwards.

Sequences of calls on one network                                          -> call_sequences
  - a seeded scenario generator (for_all over a strategy of call sequences, the equivalent of
    a RuleBasedStateMachine without its extra cost): one net (sizes 1..3, output 2..3) and
        op1(A); [new params]; gradient(B); [new params]; op2(C); gradient(D)
    with op1, op2 any of predict, loss, accuracy, gradient, numerical_gradient; B of A's batch
    size (1..3) but other rows, C and D of another size; new params assigned into net.params
    before or after gradient(B) or not at all; labels or one-hot targets.
    Every result must equal the reference's for the params the net holds at that moment:
    nothing may carry over from an earlier call (cached activations, a remembered batch size,
    weights read once). A call that is also wrong on a new net is left to the checks above.

loss and accuracy are also right when they agree with the student's own predict (a forward
mistake is charged by predict_contract once), as in the public checks.

Tolerances (float64 unless said): predict rtol 1e-6 (rounding is ~1e-15); loss rtol 1e-5 (as
the public checks: the 1e-7 inside the log); accuracy exact up to tied rows; gradients
rtol 1e-6 with an absolute floor of 1e-9 x max(1, the largest entry of that array) (entries
that cancel to ~0 carry only rounding); numerical gradients rtol 1e-5, floor 1e-7 the same
way (central differences of the same loss agree to ~1e-10).

Shrinking: each check's failure is shrunk by at most contract.MAX_SHRINK_CALLS tries, so the
example in the message is the same on a busy machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

from grader.checks.api import CheckFailed, as_float, fail, hidden, show
from grader.checks.contract import arrays, built_once, for_all, in_layout, layouts
from grader.checks.exercise3.support import KEYS, own_loss_gradient, plain_dict, read_params, ref_with
from grader.checks.translated import _
from grader.sandbox.errors import StudentRaised
from grader.sandbox.session import RemoteObject

LABEL_FORMS = (("labels", np.int64), ("labels", np.int32), ("labels", np.uint8))
ONE_HOT_FORMS = (("one-hot", np.float64), ("one-hot", np.int64), ("one-hot", np.float32))
TARGET_FORMS = LABEL_FORMS + ONE_HOT_FORMS
"""Every form of t SPEC.md allows: integer labels (N,) or one-hot rows (N, C), in the dtypes
students meet (MNIST labels are uint8; np.eye gives float64; a one-hot built with int works too)."""

PREDICT_RTOL = 1e-6
LOSS_RTOL = 1e-5
GRADIENT_RTOL, GRADIENT_FLOOR = 1e-6, 1e-9
NUMERICAL_RTOL, NUMERICAL_FLOOR = 1e-5, 1e-7


# -- the examples -------------------------------------------------------------------------------
@dataclass
class Example:
    """One network's params and one batch; `layout` and the dtype of x are how x reaches the
    student's code."""

    sizes: tuple
    params: dict
    x: np.ndarray
    labels: np.ndarray
    layout: str = "C"

    def target(self, form: tuple) -> np.ndarray:
        kind, dtype = form
        if kind == "labels":
            return self.labels.astype(dtype)
        return np.eye(self.sizes[2], dtype=dtype)[self.labels]

    def x_arg(self):
        return in_layout(self.x, self.layout)

    def reference(self):
        return ref_with(self.params)

    def describe(self, form: tuple | None = None) -> str:
        i, h, o = self.sizes
        layout = "" if self.layout == "C" else _(", {layout} layout").format(layout=self.layout)
        text = _("a {i}-{h}-{o} network (input_size={i}, hidden_size={h}, output_size={o}), "
                 "x of shape {shape} ({dtype}{layout}) = {x}").format(i=i, h=h, o=o, shape=self.x.shape,
                                                                     dtype=self.x.dtype, layout=layout,
                                                                     x=compact(self.x))
        if form is not None:
            text += f", {describe_target(self.target(form), form)}"
        return _("{network}; params {params}").format(network=text, params=show_params(self.params))


@dataclass
class Described:
    """The example as text for a message, written only when a message needs it (formatting
    arrays costs more than asking the student's code)."""

    example: Example
    form: tuple | None = None

    def __str__(self) -> str:
        return self.example.describe(self.form)


def describe_target(t: np.ndarray, form: tuple) -> str:
    if form[0] == "labels":
        return _("t = integer labels of shape {shape}, dtype {dtype}: {t}").format(shape=t.shape, dtype=t.dtype,
                                                                                  t=compact(t))
    return _("t = one-hot targets of shape {shape}, dtype {dtype}: {t}").format(shape=t.shape, dtype=t.dtype,
                                                                               t=compact(t))


def show_params(params: dict) -> str:
    return ", ".join(f"{k} = {compact(params[k])}" for k in KEYS)


def compact(a: np.ndarray, limit: int = 120) -> str:
    """An array on one line, e.g. [[0, 0.5], [1, -2]]: short enough to read in a message."""
    text = np.array2string(np.asarray(a), separator=", ", max_line_width=10**6, precision=4, threshold=24,
                           edgeitems=2, suppress_small=True, floatmode="maxprec").replace("\n", "")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


@built_once
def sizes_strategy(max_side: int = 4, max_classes: int = 4) -> st.SearchStrategy[tuple]:
    """(input, hidden, output), with coincident sizes drawn on purpose as often as distinct ones."""
    return st.integers(2, max_classes).flatmap(lambda o: sizes_with_classes(o, max_side))


@built_once
def sizes_with_classes(o: int, max_side: int) -> st.SearchStrategy[tuple]:
    side = st.one_of(st.just(o), st.integers(1, max_side))
    return st.tuples(side, side, st.just(o))


@built_once
def param_arrays(sizes: tuple, scale: float, out_scale: float) -> st.SearchStrategy[dict]:
    i, h, o = sizes

    def array(shape, bound):
        return arrays_in(shape, bound)
    return st.fixed_dictionaries({"W1": array((i, h), scale), "b1": array((h,), scale),
                                  "W2": array((h, o), out_scale), "b2": array((o,), out_scale)})


@built_once
def arrays_in(shape: tuple, bound: float, dtype=np.float64) -> st.SearchStrategy[np.ndarray]:
    """Float arrays in [-bound, bound]: drawn as numbers in [-1, 1] times bound (Hypothesis
    shrinks them to 0 and to small round values)."""
    unit = arrays(np.float64, shape, st.floats(-1, 1, allow_nan=False, allow_infinity=False))
    return unit.map(lambda a: (a * bound).astype(dtype))


@st.composite
def examples(draw, *, max_side: int = 4, max_classes: int = 4, max_batch: int = 5, large: bool = False,
             any_layout: bool = True) -> Example:
    sizes = draw(sizes_strategy(max_side, max_classes))
    i, _hidden, o = sizes
    n = draw(st.one_of(st.just(1), st.just(o), st.just(i), st.integers(1, max_batch)))
    out_scale = draw(st.sampled_from([3.0, 1000.0])) if large else 3.0
    params = draw(param_arrays(sizes, 3.0, out_scale))
    x_dtype = draw(st.sampled_from([np.float64, np.float32]))
    x = draw(arrays_in((n, i), 5.0, x_dtype))
    labels = draw(arrays(np.int64, (n,), st.integers(0, o - 1)))
    layout = draw(layouts()) if any_layout else "C"
    return Example(sizes, params, x, labels, layout)


@dataclass
class NetCase:
    """One network (sizes, params) and several batches for it: N == 1, N == output_size, and a
    batch of any size, so every case holds the degenerate and the coincident batch sizes."""

    examples: list

    def describe(self) -> str:
        return self.examples[0].describe()


@st.composite
def net_cases(draw, *, max_side: int = 4, max_classes: int = 4, max_batch: int = 5, large: bool = False,
              any_layout: bool = True, batches: tuple = ("one", "classes", "any")) -> NetCase:
    sizes = draw(sizes_strategy(max_side, max_classes))
    i, _hidden, o = sizes
    out_scale = draw(st.sampled_from([3.0, 1000.0])) if large else 3.0
    params = draw(param_arrays(sizes, 3.0, out_scale))
    found = []
    for kind in batches:
        n = {"one": 1, "classes": o}.get(kind) or draw(st.integers(1, max_batch))
        x_dtype = draw(st.sampled_from([np.float64, np.float32]))
        x = draw(arrays_in((n, i), 5.0, x_dtype))
        labels = draw(arrays(np.int64, (n,), st.integers(0, o - 1)))
        layout = draw(layouts()) if any_layout else "C"
        found.append(Example(sizes, params, x, labels, layout))
    return NetCase(found)


def on_one_net(student, case: NetCase, judge) -> None:
    """judge(example, net) for every batch of the case on one net; a call judged wrong is judged
    again on a new net, so that only a mistake of the single call fails here (what an earlier
    call left behind is call_sequences' business)."""
    net = new_net(student, case.examples[0])
    for example in case.examples:
        try:
            judge(example, net)
        except CheckFailed:
            judge(example, new_net(student, example))


# -- talking to the student's net ------------------------------------------------------------------
def new_net(student, example: Example):
    """The student's net holding the example's params (assigned into net.params, as SPEC.md says)."""
    net = student.call("TwoLayerNet", *example.sizes)  # one round trip (student.TwoLayerNet(...) takes two)
    assign(net, example.params)
    return net


def assign(net, params: dict) -> None:
    """net.params[key] = array for every key, in one round trip (dict.update)."""
    net.ref("params").call("update", {key: np.array(params[key], dtype=float) for key in KEYS})


def ask(net, method: str, args: tuple, what: Described, hint: str = ""):
    """net.method(*args); a crash fails the check naming the input (so it can be shrunk)."""
    call = f"net.{method}({', '.join(('x', 't')[:len(args)])})"
    try:
        return net.call(method, *args)
    except StudentRaised as exc:
        if exc.not_implemented:
            raise
        fail(_("{call} raised {error}: {text} for {what}.").format(call=call, error=exc.type_name, text=exc.text,
                                                                   what=what),
             hint=hint or _("every method must accept every input SPEC.md allows; see the input above."),
             error=exc.student_message())


def target_hint(form: tuple) -> str:
    if form[0] == "labels":
        return _("t may be integer labels of shape (N,), of any integer dtype (int64, int32, uint8), also when N "
                 "equals the number of classes: test t.ndim == 1 (not the dtype or the last dimension), then "
                 "index y[np.arange(N), t] or build np.eye(output_size)[t].")
    return _("t may be one-hot rows of shape (N, output_size) in any dtype (float or int), also for a batch of "
             "one, shape (1, C): test t.ndim == 2 (not the dtype, and do not np.squeeze t), then "
             "t.argmax(axis=1) gives the labels.")


def gradient_dict(got, call: str, example: Example) -> dict:
    if isinstance(got, RemoteObject):
        got = plain_dict(got)
    if not isinstance(got, dict) or any(k not in got for k in KEYS):
        fail(_("{call} returned {got}; expected a dict with the keys W1, b1, W2, b2 for {what}.").format(
                 call=call, got=show(got, 100), what=example.describe()),
             hint=_("return a dict with one array per key of self.params."))
    grads = {}
    for key in KEYS:
        value = np.asarray(got[key], dtype=float)
        if value.shape != example.params[key].shape:
            fail(_("{call}['{key}'] has shape {shape}; expected {expected} for {what}.").format(
                     call=call, key=key, shape=value.shape, expected=example.params[key].shape,
                     what=example.describe()),
                 hint=_("grads['{key}'] has the shape of params['{key}'].").format(key=key))
        grads[key] = value
    return grads


def close(got: np.ndarray, expected: np.ndarray, rtol: float, floor: float) -> bool:
    """Within rtol, or within `floor` times the array's largest entry (at least 1): entries that
    cancel to ~0 carry only rounding, which must not fail a right answer."""
    scale = float(np.max(np.abs(expected), initial=0.0))
    return bool(np.allclose(got, expected, rtol=rtol, atol=floor * max(scale, 1.0)))


def worst(got: np.ndarray, expected: np.ndarray) -> str:
    idx = np.unravel_index(int(np.argmax(np.abs(got - expected))), expected.shape) if expected.size else ()
    return _("at index {index}: expected {expected}, got {got}").format(
        index=tuple(int(i) for i in idx), expected=f"{expected[idx]:.6g}", got=f"{got[idx]:.6g}")


# -- the checks -----------------------------------------------------------------------------------
@hidden(points=0.5)
def test_init_contract(student):
    """__init__ gives params of SPEC.md's shapes and zero biases for any sizes (coincident ones too), called by position or by keyword"""
    for_all(init_calls(), (lambda c: check_init(student, *c)), examples=3)


def init_calls() -> st.SearchStrategy[tuple]:
    """(sizes, by keyword?, weight_init_std or None for the default)."""
    return st.tuples(sizes_strategy(), st.booleans(), st.sampled_from([None, 0.1]))


def check_init(student, sizes: tuple, by_keyword: bool, std: float | None) -> None:
    i, h, o = sizes
    kwargs = {} if std is None else {"weight_init_std": std}
    if by_keyword:
        kwargs.update(input_size=i, hidden_size=h, output_size=o)
        args = ()
    else:
        args = sizes
    text = ", ".join([*map(str, args), *(f"{k}={v}" for k, v in kwargs.items())])
    call = f"TwoLayerNet({text})"
    try:
        net = student.call("TwoLayerNet", *args, **kwargs)
    except StudentRaised as exc:
        if exc.not_implemented:
            raise
        hint = (_("keep the parameter names of SPEC.md: TwoLayerNet(input_size, hidden_size, output_size, "
                  "weight_init_std=0.01); the grader may pass them by keyword.") if by_keyword else "")
        fail(_("{call} raised {error}: {text}.").format(call=call, error=exc.type_name, text=exc.text),
             hint=hint or _("see the sizes above."),
             error=exc.student_message())
    params = read_params(net)
    shapes = {"W1": (i, h), "b1": (h,), "W2": (h, o), "b2": (o,)}
    if params is None or any(k not in params for k in KEYS):
        fail(_("{call}.params is {params}; expected a dict with W1, b1, W2, b2.").format(call=call,
                                                                                         params=show(params, 120)),
             hint="self.params = {'W1': ..., 'b1': ..., 'W2': ..., 'b2': ...}")
    for key, shape in shapes.items():
        value = np.asarray(params[key], dtype=float)
        if value.shape != shape:
            fail(_("{call}.params['{key}'] has shape {shape}; expected {expected}.").format(
                     call=call, key=key, shape=value.shape, expected=shape),
                 hint=_("W1 is (input_size, hidden_size), b1 (hidden_size,), W2 (hidden_size, output_size), "
                        "b2 (output_size,): take each size from its own argument."))
        if key[0] == "b" and np.any(value != 0):
            fail(_("{call}.params['{key}'] = {value}; the biases start at zero.").format(call=call, key=key,
                                                                                        value=show(value)),
                 hint=f"np.zeros({shape[0]})")


@hidden(points=1)
def test_predict_contract(student):
    """predict matches the reference for any sizes and batch (N == 1, N == C), x float32 or float64 in any memory layout, and scores up to ±1000"""
    for_all(net_cases(large=True), (lambda c: on_one_net(
        student, c, lambda e, net: check_predict(student, e, net))), examples=3)


def check_predict(student, example: Example, net=None) -> None:
    net = net if net is not None else new_net(student, example)
    what = Described(example)
    got = ask(net, "predict", (example.x_arg(),), what)
    expected = example.reference().predict(example.x)
    got = np.asarray(got, dtype=float) if not isinstance(got, RemoteObject) else got
    if not isinstance(got, np.ndarray) or got.shape != expected.shape:
        fail(_("net.predict(x) returned {got}; expected shape {shape} for {what}.").format(
                 got=show(got, 100), shape=expected.shape, what=what),
             hint=_("one row of output_size probabilities per row of x."))
    if np.allclose(got, expected, rtol=PREDICT_RTOL, atol=1e-12):
        return
    hint = _("compute softmax(sigmoid(x @ W1 + b1) @ W2 + b2) from self.params, row by row.")
    if not np.all(np.isfinite(got)):
        hint = _("the probabilities must stay finite for large scores: subtract each row's maximum score before "
                 "np.exp (softmax(a) = softmax(a - max(a)), so the result is the same).")
    fail(_("net.predict(x) differs from the expected probabilities {where}, for {what}.").format(
             where=worst(got, expected), what=what),
         hint=hint, expected=show(expected), got=show(got))


def with_forms() -> st.SearchStrategy[tuple]:
    """A case and the forms of its targets: one-hot for N == 1, labels for N == C (the coincident
    shapes each form's mistakes trip on), both for the batch of any size; labels in one integer
    dtype and one-hot in one dtype per case."""
    forms = st.tuples(st.sampled_from(LABEL_FORMS), st.sampled_from(ONE_HOT_FORMS))
    return st.tuples(net_cases(), forms)


def forms_for(example: Example, forms: tuple) -> tuple:
    labels, one_hot = forms
    n, classes = len(example.x), example.sizes[2]
    return (one_hot,) if n == 1 else (labels,) if n == classes else (labels, one_hot)


@hidden(points=1)
def test_loss_contract(student):
    """loss matches the reference for every target form (labels int64/int32/uint8, one-hot float/int), N == 1 and N == C, any x layout"""
    for_all(with_forms(), (lambda c: on_one_net(
        student, c[0], lambda e, net: check_loss(student, e, forms_for(e, c[1]), net))), examples=3)


def check_loss(student, example: Example, forms: tuple = TARGET_FORMS, net=None) -> None:
    net = net if net is not None else new_net(student, example)
    reference = example.reference()
    for form in forms:
        t = example.target(form)
        what = Described(example, form)
        value = as_float(ask(net, "loss", (example.x_arg(), t), what, target_hint(form)), call="net.loss(x, t)")
        expected = reference.loss(example.x, t)
        if np.isclose(value, expected, rtol=LOSS_RTOL, atol=1e-10) or same_as_own_forward(net, example, value, t):
            continue
        fail(_("net.loss(x, t) returned {got}; expected {expected} for {what}.").format(
                 got=f"{value:.6g}", expected=f"{expected:.6g}", what=what),
             hint=target_hint(form) + " " + _("The loss is the mean over rows of -log(y[row, label] + 1e-7)."),
             expected=expected, got=value)


def same_as_own_forward(net, example: Example, value: float, t) -> bool:
    """Is the loss the cross-entropy of the student's own predict(x)? Then a forward mistake is
    charged by the predict checks, not here too."""
    try:
        y = np.asarray(net.call("predict", example.x_arg()), dtype=float)
    except (StudentRaised, TypeError, ValueError):
        return False
    if y.shape != (len(example.x), example.sizes[2]):
        return False
    with np.errstate(all="ignore"):
        own = -np.mean(np.log(y[np.arange(len(y)), example.labels] + 1e-7))
    return bool(np.isclose(value, own, rtol=LOSS_RTOL, atol=1e-10))


@hidden(points=0.5)
def test_accuracy_contract(student):
    """accuracy matches the reference for every target form, N == 1 and N == C, any x layout"""
    for_all(with_forms(), (lambda c: on_one_net(
        student, c[0], lambda e, net: check_accuracy(student, e, forms_for(e, c[1]), net))), examples=3)


def check_accuracy(student, example: Example, forms: tuple = TARGET_FORMS, net=None) -> None:
    net = net if net is not None else new_net(student, example)
    y = example.reference().predict(example.x)
    n = len(y)
    top = np.sort(y, axis=1)
    tied = int(np.sum(top[:, -1] - top[:, -2] <= 1e-12 * np.maximum(top[:, -1], 1e-300)))
    expected = float(np.mean(y.argmax(axis=1) == example.labels))
    for form in forms:
        t = example.target(form)
        what = Described(example, form)
        got = as_float(ask(net, "accuracy", (example.x_arg(), t), what, target_hint(form)), call="net.accuracy(x, t)")
        if abs(got - expected) <= tied / n + 1e-9 or same_as_own_argmax(net, example, got):
            continue
        fail(_("net.accuracy(x, t) returned {got}; expected {expected} for {what}.").format(
                 got=f"{got:.6g}", expected=f"{expected:.6g}", what=what),
             hint=target_hint(form) + " " + _("The accuracy is the fraction of rows whose argmax matches the label."),
             expected=expected, got=got)


def same_as_own_argmax(net, example: Example, got: float) -> bool:
    """Is the accuracy the one of the student's own predict(x)? Then a forward mistake is charged
    by the predict checks, not here too."""
    try:
        y = np.asarray(net.call("predict", example.x_arg()), dtype=float)
    except (StudentRaised, TypeError, ValueError):
        return False
    if y.shape != (len(example.x), example.sizes[2]):
        return False
    return bool(np.isclose(got, np.mean(y.argmax(axis=1) == example.labels), rtol=0, atol=1e-9))


@hidden(points=1)
def test_gradient_contract(student):
    """gradient (backprop) matches the reference for any sizes, batch, target form and x layout or dtype"""
    for_all(with_forms(), (lambda c: on_one_net(student, c[0], lambda e, net: [
        check_gradient(student, e, form, net) for form in forms_for(e, c[1])])), examples=3)


def check_gradient(student, example: Example, form: tuple, net=None) -> None:
    net = net if net is not None else new_net(student, example)
    t = example.target(form)
    what = Described(example, form)
    grads = gradient_dict(ask(net, "gradient", (example.x_arg(), t), what, target_hint(form)),
                          "net.gradient(x, t)", example)
    reference = example.reference()
    expected = reference.gradient(example.x, t)
    bad = [k for k in KEYS if not close(grads[k], expected[k], GRADIENT_RTOL, GRADIENT_FLOOR)]
    if not bad:
        return
    numerical = reference.numerical_gradient(example.x, t)
    if all(close(grads[k], numerical[k], NUMERICAL_RTOL, NUMERICAL_FLOOR) for k in KEYS):
        return
    details = "; ".join(f"{k} {worst(grads[k], expected[k])}" for k in bad)
    fail(_("net.gradient(x, t) disagrees with the reference for {names} ({details}) for {what}.").format(
             names=", ".join(bad), details=details, what=what),
         hint=(target_hint(form) if form[0] == "labels" or form[1] != np.float64 else "")
         + " " + _("Backward: dy = (y - T) / N, dW2 = z1.T @ dy, db2 = dy.sum(axis=0), da1 = (dy @ W2.T) * z1 * "
                   "(1 - z1), dW1 = x.T @ da1, db1 = da1.sum(axis=0), with N = x.shape[0] of this call."))


@hidden(points=0.5)
def test_numerical_gradient_contract(student):
    """numerical_gradient gives central differences for tiny nets of any sizes, labels or one-hot, and restores params"""
    strategy = st.tuples(net_cases(max_side=2, max_classes=3, any_layout=False, batches=("classes", "one")),
                         st.tuples(st.sampled_from(LABEL_FORMS), st.just(ONE_HOT_FORMS[0])))
    for_all(strategy, (lambda c: on_one_net(student, c[0], lambda e, net: [
        check_numerical(student, e, form, net) for form in forms_for(e, c[1])])), examples=2)


def check_numerical(student, example: Example, form: tuple, net=None) -> None:
    net = net if net is not None else new_net(student, example)
    t = example.target(form)
    what = Described(example, form)
    grads = gradient_dict(ask(net, "numerical_gradient", (example.x_arg(), t), what, target_hint(form)),
                          "net.numerical_gradient(x, t)", example)
    params = read_params(net)
    for key in KEYS:
        if params is None or not np.array_equal(np.asarray(params.get(key), dtype=float), example.params[key]):
            fail(_("after net.numerical_gradient(x, t), params['{key}'] no longer holds its old values, for "
                   "{what}.").format(key=key, what=what),
                 hint=_("after perturbing an element, put its saved value back: W[idx] = old_value."))
    reference = example.reference()
    expected = reference.numerical_gradient(example.x, t)
    bad = [k for k in KEYS if not close(grads[k], expected[k], NUMERICAL_RTOL, NUMERICAL_FLOOR)]
    if not bad or numerical_of_own_loss(net, example, t, grads):
        return
    details = "; ".join(f"{k} {worst(grads[k], expected[k])}" for k in bad)
    fail(_("net.numerical_gradient(x, t) disagrees with the central differences (h = 1e-4) of the loss "
           "for {names} ({details}) for {what}.").format(names=", ".join(bad), details=details, what=what),
         hint=target_hint(form) + " " + _("Perturb each element of self.params[key] by +h and -h, call "
                                          "self.loss(x, t) with t exactly as given, and put the element back."))


def numerical_of_own_loss(net, example: Example, t, grads: dict) -> bool:
    """Are the gradients the central differences of the student's own loss (a mistake in loss is
    charged by the loss checks), or else the reference's backprop (SPEC.md's criterion)?"""
    backprop = example.reference().gradient(example.x, t)
    if all(close(grads[k], backprop[k], 1e-3, 1e-5) for k in KEYS):
        return True
    try:
        own = own_loss_gradient(net, example, t)
    except (CheckFailed, StudentRaised):
        return False
    return all(close(grads[k], own[k], NUMERICAL_RTOL, NUMERICAL_FLOOR) for k in KEYS)


# -- sequences of calls -----------------------------------------------------------------------------
@dataclass
class Scenario:
    """One network and the operations called on it in order."""

    sizes: tuple
    params: dict
    steps: list = field(default_factory=list)
    """("params", dict) or (method, Example, form)."""

    def describe(self, upto: int) -> str:
        lines = [f"net = TwoLayerNet{self.sizes}; net.params[...] = {show_params(self.params)}"]
        for step in self.steps[:upto + 1]:
            if step[0] == "params":
                lines.append(_("net.params[...] = new arrays: {params}").format(params=show_params(step[1])))
            else:
                method, example, form = step
                args = "x" if method == "predict" else "x, t"
                t = "" if method == "predict" else f", {describe_target(example.target(form), form)}"
                lines.append(_("net.{method}({args}) with x of shape {shape} = {x}{t}").format(
                    method=method, args=args, shape=example.x.shape, x=compact(example.x), t=t))
        return "\n  ".join(lines)


@st.composite
def scenarios(draw) -> Scenario:
    """A skeleton whose calls, batches, targets and params are drawn:

        op1(A); [new params]; gradient(B); [new params]; op2(C); gradient(D)

    op1 and op2 are any method; B has A's batch size and other rows (what a cache keyed on the
    batch size mixes up); C and D share another batch size (what a batch size remembered from
    the first call gets wrong); new params come before or after gradient(B), or not at all."""
    sizes = draw(sizes_strategy(max_side=3, max_classes=3))
    i, _hidden, o = sizes
    params = draw(param_arrays(sizes, 3.0, 3.0))
    first_n = draw(st.integers(1, 3))
    other_n = first_n + draw(st.integers(1, 2))

    def batch(n: int, unlike: Example | None = None) -> Example:
        x = draw(arrays_in((n, i), 5.0))
        if unlike is not None and np.array_equal(x, unlike.x):
            x = x + 1.0  # other rows than the batch before
        labels = draw(arrays(np.int64, (n,), st.integers(0, o - 1)))
        return Example(sizes, params, x, labels)

    def form() -> tuple:
        return draw(st.sampled_from([ONE_HOT_FORMS[0], LABEL_FORMS[0]]))

    a = batch(first_n)
    c = batch(other_n)
    calls = [(draw(st.sampled_from(METHODS)), a, form()), ("gradient", batch(first_n, a), form()),
             (draw(st.sampled_from(METHODS)), c, form()), ("gradient", batch(other_n, c), form())]
    where = draw(st.sampled_from([None, 1, 2]))
    if where is not None:
        calls.insert(where, ("params", draw(param_arrays(sizes, 3.0, 3.0))))
    return Scenario(sizes, params, calls)


METHODS = ("predict", "loss", "accuracy", "gradient", "numerical_gradient")




@hidden(points=1)
def test_call_sequences(student):
    """any sequence of predict, loss, accuracy, gradient, numerical_gradient and new params on one net gives each call the reference's result for the params and batch of that call"""
    for_all(scenarios(), (lambda s: check_sequence(student, s)), examples=3)


def check_sequence(student, scenario: Scenario) -> None:
    net = student.call("TwoLayerNet", *scenario.sizes)
    assign(net, scenario.params)
    current = scenario.params
    for k, step in enumerate(scenario.steps):
        if step[0] == "params":
            current = step[1]
            assign(net, current)
            continue
        method, batch, form = step
        example = Example(scenario.sizes, current, batch.x, batch.labels)
        try:
            run_step(student, net, method, example, form)
        except CheckFailed as error:
            if fails_alone(student, method, example, form):
                return  # wrong on a new net too: the single-call checks charge it, once
            fail(_("after this sequence of calls on one network, the last call went wrong (the same call on a new "
                   "network holding the same params is right):") + f"\n  {scenario.describe(k)}\n{error.message}",
                 hint=_("every call must compute from its own x and t and from self.params as they are now: do not "
                        "reuse activations, a batch size or weights kept from an earlier call."))


def fails_alone(student, method: str, example: Example, form: tuple) -> bool:
    try:
        run_step(student, new_net(student, example), method, example, form)
    except CheckFailed:
        return True
    return False


def run_step(student, net, method: str, example: Example, form: tuple) -> None:
    """One call of the sequence, judged as the single-call checks judge it."""
    if method == "predict":
        check_predict(student, example, net)
    elif method == "loss":
        check_loss(student, example, (form,), net)
    elif method == "accuracy":
        check_accuracy(student, example, (form,), net)
    elif method == "gradient":
        check_gradient(student, example, form, net)
    else:
        check_numerical(student, example, form, net)
