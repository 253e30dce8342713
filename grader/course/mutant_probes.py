"""Is a surviving mutant equivalent to the reference? Call every public function of both modules
with the same inputs, in the grader's process, and compare (grader/course/mutants.py).

A probe per exercise calls each public function and method of SPEC.md with the checks' own
inputs where they are module constants (the book's examples, exercise 6's batches) and with
seeded random inputs of the documented shapes, including the corners SPEC.md names (1-D and
2-D inputs, labels and one-hot targets, scores of ±1e4, probabilities of 0, several optimizer
steps with non-default hyperparameters, features whose variance is near eps, both dropout
phases). Everything it records is compared with the checks' tolerances (TOLERANCES), except
what SPEC.md requires exactly (x restored by numerical_gradient). Both modules run with
numpy's global generator seeded the same way, so random draws match when the code draws the
same numbers.

The same probe, run on the reference under `sys.settrace`, tells the generator which locals
have the shape of each returned value (`traced_return_shapes`).
"""

from __future__ import annotations

import signal
import sys
import threading
import types
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from grader.catalog import get_exercise

TOLERANCES = {"exercise1": (1e-6, 1e-10), "exercise2": (1e-6, 1e-8), "exercise3": (1e-6, 1e-10),
              "exercise4": (1e-6, 1e-8), "exercise5": (1e-4, 1e-12), "exercise6": (1e-4, 1e-6),
              "exercise7": (1e-5, 1e-6)}
"""(rtol, atol) per exercise: the checks' own (exercise 5 compares the change of each step)."""
PROBE_SECONDS = 20


@dataclass(frozen=True)
class Raised:
    type_name: str


class Exact:
    """A value SPEC.md requires bit for bit."""

    def __init__(self, value):
        self.value = np.array(value, copy=True)


class Recorder:
    def __init__(self):
        self.values: list[tuple[str, Any]] = []

    def call(self, label: str, function: Callable, *args, convert: Callable | None = None, **kwargs):
        try:
            value = function(*args, **kwargs)
            value = convert(value) if convert else value
        except Exception as exc:  # a mutant may raise anything; that is a difference, recorded
            value = Raised(type(exc).__name__)
        self.values.append((label, _snapshot(value)))
        return None if isinstance(value, Raised) else value

    def record(self, label: str, value) -> None:
        self.values.append((label, _snapshot(value)))

    def get(self, label: str, obj, name: str):
        return self.call(label, lambda: getattr(obj, name))


@dataclass(frozen=True)
class Opaque:
    """An object the probe does not compare by value (an optimizer, a layer): only its class name."""
    type_name: str


def _snapshot(value):
    if value is None or isinstance(value, (Raised, Exact, str, bytes, bool, int, float, complex, np.generic)):
        return value
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, dict):
        return {k: _snapshot(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_snapshot(v) for v in value)
    return Opaque(type(value).__name__)


def same(a, b, rtol: float, atol: float) -> bool:
    if isinstance(a, Exact) or isinstance(b, Exact):
        return isinstance(a, Exact) and isinstance(b, Exact) and a.value.shape == b.value.shape \
            and bool(np.array_equal(a.value, b.value, equal_nan=True))
    if isinstance(a, (Raised, Opaque)) or isinstance(b, (Raised, Opaque)) or a is None or b is None:
        return a == b
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys() and \
            all(same(a[k], b[k], rtol, atol) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and not (np.ndim(a) and np.ndim(b)):
        return len(a) == len(b) and all(same(x, y, rtol, atol) for x, y in zip(a, b))
    try:
        x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return bool(a == b)
    return x.shape == y.shape and bool(np.allclose(x, y, rtol=rtol, atol=atol, equal_nan=True))


# -- the probes --------------------------------------------------------------------------------------

def _probe_exercise1(m, out: Recorder) -> None:
    from grader.checks.exercise1.test_public import BOOK_T, BOOK_Y

    rng = np.random.default_rng(1)
    inputs = [np.array([0.3, 2.9, 4.0]), np.array([[0.3, 2.9, 4.0], [1.0, 1.0, 1.0], [-2.0, 0.0, 2.0]]),
              np.array([[1e4, 1e4 - 1.0, -1e4], [-1e4, -1e4, -1e4 + 2.0]]), rng.normal(scale=3, size=(6, 5)),
              rng.normal(size=4), rng.normal(size=(1, 7)), np.array([1.0, 1.0])]
    for i, x in enumerate(inputs):
        out.call(f"softmax(x{i})", m.softmax, x.copy())
    out.call("sum_squares_error(book)", m.sum_squares_error, BOOK_Y.copy(), BOOK_T.copy(), convert=float)
    out.call("cross_entropy_error(book)", m.cross_entropy_error, BOOK_Y.copy(), BOOK_T.copy(), convert=float)
    for shape in [(10,), (6, 5), (1, 3), (4, 2)]:
        scores = rng.normal(size=shape)
        y = np.exp(scores) / np.exp(scores).sum(axis=-1, keepdims=True)
        labels = rng.integers(0, shape[-1], size=shape[:-1])
        t = np.eye(shape[-1])[labels]
        out.call(f"sum_squares_error{shape}", m.sum_squares_error, y.copy(), t.copy(), convert=float)
        out.call(f"cross_entropy_error{shape} one-hot", m.cross_entropy_error, y.copy(), t.copy(), convert=float)
        given = np.int64(labels) if len(shape) == 1 else labels.copy()
        out.call(f"cross_entropy_error{shape} labels", m.cross_entropy_error, y.copy(), given, convert=float)
    y = np.array([[0.0, 0.3, 0.7], [0.5, 0.5, 0.0]])
    out.call("cross_entropy_error(p=0)", m.cross_entropy_error, y, np.array([0, 2]), convert=float)
    out.call("cross_entropy_error(p=0, 1-D)", m.cross_entropy_error, np.array([0.0, 1.0]), np.int64(0), convert=float)


def _probe_exercise2(m, out: Recorder) -> None:
    rng = np.random.default_rng(2)
    for x0 in (1.5, -0.7, 3.0):
        out.call(f"numerical_diff(cubic, {x0})", m.numerical_diff, lambda x: x ** 3 - 2 * x, x0, convert=float)
        out.call(f"numerical_diff(exp, {x0})", m.numerical_diff, np.exp, x0, convert=float)
    for shape in [(3,), (2, 3), (2, 2, 2), (1,)]:
        x = rng.normal(size=shape)
        weights = rng.normal(size=shape)
        out.call(f"numerical_gradient{shape}", m.numerical_gradient, lambda w: float(np.sum(weights * w ** 3)), x)
        out.record(f"x after numerical_gradient{shape}", Exact(x))
        state = rng.normal(size=shape)
        out.call(f"numerical_gradient{shape} via closure", m.numerical_gradient,
                 lambda _: float(np.sum(np.sin(state) * weights)), state)
        out.record(f"state after numerical_gradient{shape}", Exact(state))
    bowl = lambda w: float(np.sum((w - 1.0) ** 2 * np.arange(1, w.size + 1).reshape(w.shape)))  # noqa: E731
    for shape, kwargs in [((2,), {"lr": 0.1, "step_num": 20}), ((2, 2), {"lr": 0.05, "step_num": 7}), ((3,), {})]:
        out.call(f"gradient_descent{shape} {kwargs}", m.gradient_descent, bowl, rng.normal(size=shape), **kwargs)


def _probe_exercise3(m, out: Recorder) -> None:
    rng = np.random.default_rng(3)
    np.random.seed(30)
    net = out.call("TwoLayerNet(4, 5, 3)", m.TwoLayerNet, 4, 5, 3)
    if net is None:
        return
    out.get("params of TwoLayerNet(4, 5, 3)", net, "params")
    np.random.seed(31)
    other = out.call("TwoLayerNet(6, 2, 4, weight_init_std=0.5)", m.TwoLayerNet, 6, 2, 4, weight_init_std=0.5)
    if other is not None:
        out.get("params of TwoLayerNet(6, 2, 4, 0.5)", other, "params")
    params = {"W1": rng.normal(scale=0.8, size=(4, 5)), "b1": rng.normal(scale=0.3, size=5),
              "W2": rng.normal(scale=0.8, size=(5, 3)), "b2": rng.normal(scale=0.3, size=3)}
    for key, value in params.items():
        net.params[key] = value.copy()
    x = rng.normal(size=(20, 4))
    labels = rng.integers(0, 3, size=20)
    t = np.eye(3)[labels]
    out.call("predict(x)", net.predict, x.copy())
    out.call("predict(x[:1])", net.predict, x[:1].copy())
    for kind, target in (("one-hot", t), ("labels", labels)):
        out.call(f"loss(x, t {kind})", net.loss, x.copy(), target.copy(), convert=float)
        out.call(f"accuracy(x, t {kind})", net.accuracy, x.copy(), target.copy(), convert=float)
        out.call(f"gradient(x, t {kind})", net.gradient, x.copy(), target.copy())
    out.call("numerical_gradient(x, t)", net.numerical_gradient, x.copy(), labels.copy())
    out.record("params after numerical_gradient", {k: Exact(v) for k, v in net.params.items()})


def _probe_exercise5(m, out: Recorder) -> None:
    rng = np.random.default_rng(5)
    runs = [("SGD", {}), ("SGD", {"lr": 0.3}), ("Momentum", {}), ("Momentum", {"lr": 0.1, "momentum": 0.5}),
            ("AdaGrad", {}), ("AdaGrad", {"lr": 0.5}), ("Adam", {}), ("Adam", {"lr": 0.05, "beta1": 0.7, "beta2": 0.8})]
    for name, kwargs in runs:
        params = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
        grads = [{k: rng.normal(size=v.shape) * rng.choice([0.0, 1e-3, 1.0, 5.0], size=v.shape)
                  for k, v in params.items()} for _ in range(4)]
        optimizer = out.call(f"{name}({kwargs})", getattr(m, name), **kwargs)
        if optimizer is None:
            continue
        for step, g in enumerate(grads):
            before = {k: np.array(v, dtype=float) for k, v in params.items()}
            out.call(f"{name}({kwargs}).update #{step + 1}", optimizer.update, params, g)
            out.record(f"{name}({kwargs}) change #{step + 1}",
                       {k: np.asarray(params[k], dtype=float) - before[k] for k in params})


def _probe_exercise6(m, out: Recorder) -> None:
    from grader.checks.exercise6.support import BETA, GAMMA, batch

    rng = np.random.default_rng(6)
    near_constant = rng.normal(size=(8, 4)) * np.array([1e-2, 1e-3, 1e-4, 3e-5]) + np.array([0.0, 0.5, -1.0, 2.0])
    for label, x, kwargs in [("batch(6, 1)", batch(6, 1), {}), ("near-constant", near_constant, {}),
                             ("batch(10, 2), momentum 0.6", batch(10, 2), {"momentum": 0.6})]:
        bn = out.call(f"BatchNormalization {label}", m.BatchNormalization, GAMMA.copy(), BETA.copy(), **kwargs)
        if bn is None:
            continue
        dout = rng.normal(size=x.shape)
        out.call(f"forward({label})", bn.forward, x.copy(), True)
        out.call(f"backward({label})", bn.backward, dout.copy())
        out.get(f"dgamma ({label})", bn, "dgamma")
        out.get(f"dbeta ({label})", bn, "dbeta")
        out.call(f"forward({label}, False) right after", bn.forward, x[:3] * 1.5, False)
        for i in range(2):
            out.call(f"forward(batch {i}) after {label}", bn.forward, batch(7, 20 + i), True)
        out.get(f"running_mean ({label})", bn, "running_mean")
        out.get(f"running_var ({label})", bn, "running_var")
        test = batch(5, 30)
        out.call(f"forward(test, False) after {label}", bn.forward, test.copy(), False)
        out.call(f"backward again ({label})", bn.backward, rng.normal(size=(7, 4)))
    given = out.call("BatchNormalization(running stats given)", m.BatchNormalization, GAMMA.copy(), BETA.copy(),
                     running_mean=np.array([4.0, -38.0, 97.0, 5.0]), running_var=np.array([90.0, 420.0, 200.0, 880.0]))
    if given is not None:
        out.call("forward(x, False) with given statistics", given.forward, batch(5, 61), False)
    x = rng.uniform(0.5, 1.5, size=(50, 20))
    for ratio in (0.3, None):
        np.random.seed(60)
        dropout = out.call(f"Dropout({ratio})", m.Dropout, *(() if ratio is None else (ratio,)))
        if dropout is None:
            continue
        for i in range(2):
            out.call(f"Dropout({ratio}).forward #{i}", dropout.forward, x.copy(), True)
        out.call(f"Dropout({ratio}).backward", dropout.backward, rng.normal(size=x.shape))
        out.call(f"Dropout({ratio}).forward(test)", dropout.forward, x.copy(), False)
    for n in (1, 2, 50, 100, 784):
        out.call(f"xavier_std({n})", m.xavier_std, n, convert=float)
        out.call(f"he_std({n})", m.he_std, n, convert=float)


PROBES: dict[str, Callable[[types.ModuleType, Recorder], None]] = {
    "exercise1": _probe_exercise1, "exercise2": _probe_exercise2, "exercise3": _probe_exercise3,
    "exercise5": _probe_exercise5, "exercise6": _probe_exercise6}


# -- running a probe -----------------------------------------------------------------------------

def load_source(source: str, tag: str) -> types.ModuleType:
    """Import module text under a made-up name (frames report `tag` as their file)."""
    module = types.ModuleType(tag.strip("<>").replace(" ", "_"))
    exec(compile(source, tag, "exec"), module.__dict__)  # noqa: S102 - our own reference or a mutant of it
    return module


class _ProbeTimeout(Exception):
    pass


def run_probe(exercise: str, source: str, tag: str = "<mutant>") -> list[tuple[str, Any]]:
    """What the probe records on a module's source; a module that does not import, or a probe that
    runs longer than PROBE_SECONDS (where a timer is available), is one Raised entry."""
    probe = PROBES[exercise]
    out = Recorder()
    use_alarm = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")

    def expire(*_):
        raise _ProbeTimeout()

    previous = signal.signal(signal.SIGALRM, expire) if use_alarm else None
    state = np.random.get_state()
    try:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, PROBE_SECONDS)
        with np.errstate(all="ignore"):
            np.random.seed(0)
            probe(load_source(source, tag), out)
    except _ProbeTimeout:
        out.values.append(("probe", Raised("timeout")))
    except Exception as exc:  # the module failed to import, or the probe itself on a broken mutant
        out.values.append(("probe", Raised(type(exc).__name__)))
    finally:
        if use_alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        np.random.set_state(state)
    return out.values


_REFERENCE: dict[str, list] = {}


def reference_values(exercise: str) -> list[tuple[str, Any]]:
    if exercise not in _REFERENCE:
        _REFERENCE[exercise] = run_probe(exercise, get_exercise(exercise).reference_path.read_text(encoding="utf-8"),
                                         f"<reference {exercise}>")
    return _REFERENCE[exercise]


def compare_values(exercise: str, expected: list, got: list) -> tuple[bool, str]:
    rtol, atol = TOLERANCES[exercise]
    for (label, want), (other, value) in zip(expected, got):
        if label != other or not same(want, value, rtol, atol):
            return False, f"differs at {other}: reference {_show(want)}, mutant {_show(value)}"
    if len(expected) != len(got):
        return False, f"the probe recorded {len(got)} values, the reference's run {len(expected)}"
    return True, f"agrees on all {len(expected)} probe values (rtol {rtol:g}, atol {atol:g})"


def classify_survivor(exercise: str, source: str) -> tuple[bool, str]:
    """(equivalent, why): does the mutant agree with the reference on every probe value?
    An exercise without a probe is never called equivalent."""
    if exercise not in PROBES:
        return False, "no equivalence probe for this exercise: every survivor counts"
    return compare_values(exercise, reference_values(exercise), run_probe(exercise, source))


def _show(value) -> str:
    if isinstance(value, Exact):
        value = value.value
    text = np.array2string(value, precision=6, threshold=8) if isinstance(value, np.ndarray) else repr(value)
    return text.replace("\n", " ")[:160]


# -- shapes of returned values, for the return-swap operator --------------------------------------

def _kind(value):
    if isinstance(value, np.ndarray):
        return ("array", value.shape, value.dtype.kind)
    if isinstance(value, (float, int, np.number)) and not isinstance(value, (bool, np.bool_)):
        return ("scalar",)
    return None


def traced_return_shapes(exercise: str) -> dict[int, list[str]] | None:
    """{line of a return statement: locals that had the returned value's shape at every return
    from that line during the probe}, from the reference run under sys.settrace; None without a probe."""
    if exercise not in PROBES:
        return None
    tag = f"<traced {exercise}>"
    found: dict[int, set[str]] = {}

    def tracer(frame, event, arg):
        if frame.f_code.co_filename != tag:
            return None
        if event == "return" and arg is not None:
            kind = _kind(arg)
            names = {n for n, v in frame.f_locals.items() if n != "self" and kind and _kind(v) == kind}
            line = frame.f_lineno
            found[line] = names if line not in found else found[line] & names
        return tracer

    source = get_exercise(exercise).reference_path.read_text(encoding="utf-8")
    old = sys.gettrace()
    sys.settrace(tracer)
    try:
        run_probe(exercise, source, tag)
    finally:
        sys.settrace(old)
    return {line: sorted(names) for line, names in found.items()}
