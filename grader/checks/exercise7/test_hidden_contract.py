"""Contract-wide hidden checks of exercise 7 (issue 17): every function judged on generated
inputs over the whole of what SPEC.md allows, not only on the fixed problems of test_public.py.

Inputs are drawn by Hypothesis through contract.for_all (a fixed seed, no example database, the
same examples for every submission, a failure shrunk to its smallest input). The torch objects
of an example are built inside the student's process by probes_hidden.py in one call, so an
example costs a few round trips; model runs are tiny (one to nine rows, one to eight epochs).

The input dimensions SPEC.md allows, function by function, and what covers each:

get_device(prefer)
  - prefer: "cpu", "auto", "cuda" (all three, enumerated: no generator needed), with
    torch.cuda.is_available() True (the machine's GPU, or simulated by the grader); without
    CUDA "auto" and "cpu" are the public check's, and "cuda" is not graded.
  - the result: a torch.device (a string costs points once, in the public check).

normalize(x_train, *others)
  - shapes: x_train (N, D) with N 1..5 (N == 1: every std is 0) and D 1..3; zero to three
    `others`, each (M, D) with M 1..3 (N, M and D coincide often).
  - dtypes: float32 and float64 (float32 judged with float32-sized tolerances).
  - layouts: C, F, transposed, strided, offset, for each array independently.
  - values: each feature of x_train is an offset (0, 3 or 200) plus a spread (0, 0.5 or 1) times
    values k/8 in [-1, 1] (a grid whose sums are exact in float32, so a column of equal values
    has its exact mean, and std 0, in any precision); spread 0 or equal values make a feature
    constant in x_train (std 0), whose value in `others` (offset + k/8) may equal it or not;
    offset 200 with a small spread is a near-constant pixel, where E[x**2] - E[x]**2 loses its
    digits in float32.
  - tolerance: float32-sized whatever the input dtype (a student may compute in float32):
    32 float32 epsilons of |x| + |mean|, divided by the std, plus 1e-5 relative.
  - several right answers (any eps in (0, 1e-5]): judged by SPEC.md's formula for SOME eps in
    that range, not against the reference's eps: every value must lie between
    (x - mean) / (std + 1e-5) and (x - mean) / std; with std 0, it must be 0 where x == mean and
    at least |x - mean| / 1e-5 in size, of the sign of x - mean, elsewhere; all finite.

build_model(input_size, hidden_sizes, num_classes)
  - input_size 1..5; hidden_sizes empty, one, two or three sizes 1..5, as a tuple or a list
    (sizes coinciding with each other, with input_size or with num_classes); num_classes 2..5.
  - judged: an nn.Module whose parameters are exactly the chain's Linear layers, and whose
    eval-mode output on a batch (one row or three) is Linear -> ReLU -> ... -> Linear with the
    model's own weights (any order of registering the layers is accepted).

make_loaders(x_train, t_train, x_val, t_val, batch_size)
  - rows: 1..7 training and validation rows, D 1..3; batch_size 1..9 (larger than the data,
    dividing it, or leaving a smaller last batch).
  - dtypes: x float32 or float64; labels int64, int32, int16 or uint8 (SPEC: integer labels).
  - layouts: every layout for x_train and x_val.
  - judged: float32 inputs and int64 labels of shapes (B, D) and (B,); batches of batch_size but
    the last; the validation loader visits every row once, in order; the training loader every
    row at most once (dropping a last partial batch is accepted, as in the public check). That
    only the training loader shuffles is the public check's (on 22 rows, where it can be seen).

train_one_epoch(model, loader, optimizer, loss_fn, device)
  - rows 1..9, batch_size 1..10 (one batch, batches dividing the rows, a last batch of one row);
    data from a seed; a model that arrives in evaluation mode.
  - judged against the reference: the weights after one epoch of SGD, the mean loss PER SAMPLE,
    and training mode during every forward pass.

evaluate(model, loader, loss_fn, device)
  - rows 1..9, batch_size 1..10, as above; a model that arrives in training mode.
  - judged against the reference: the mean loss per sample and the accuracy; evaluation mode
    and no gradient recording during every forward pass; the weights left unchanged.

fit(model, train_loader, val_loader, epochs, lr, device, patience)
  - call sequences: a seeded scenario generator (for_all over a strategy of lists of epoch kinds,
    not a RuleBasedStateMachine): the validation loss of each epoch follows a generated sequence
    of 1..8 epochs, each epoch after the first worse than the best, better by 0.1, tied with the
    best, better by only 5e-5 (below any min_delta habit), or between the best and the previous
    epoch, so sequences of every shape appear: falling, rising, plateaus, improvement after a
    plateau, a new best after worse epochs; patience None or 1..3. Epochs are the scenario's
    steps: each is one training batch, then the validation loader (batches of 4 and 2).
  - judged by SPEC.md's rule on the generated losses: the number of epochs run (stop after
    `patience` consecutive epochs not strictly below the best), one history entry per epoch run,
    and the weights the model holds at the end, those of an epoch with the lowest validation loss
    among those run (the model's weight counts the epochs it was trained for; any epoch tied with
    the best is accepted). The untrained model's loss is above every epoch's, so a fit that also
    counts the untrained model as a candidate gets the same verdict.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
from pathlib import Path

import numpy as np
import torch
from hypothesis import strategies as st

from grader.checks.api import as_array, as_float, fail, hidden, show
from grader.checks.contract import arrays, for_all, in_layout, layouts
from grader.checks.exercise7 import scenarios
from grader.checks.exercise7.remote import Remote, SimulatedCuda, local_loader, local_model, state_arrays
from grader.checks.translated import N_, _, english_of as english
from grader.checks.exercise7.support import (OUTPUT_ATOL, OUTPUT_RTOL, as_pair, device_type, layer_shapes,
                                             normalized_arrays, read_history, rounded, weights_match, worst_weight)
from grader.sandbox.errors import StudentRaised
from grader.sandbox.session import RemoteObject
from reference.exercise7 import torch_training as ref

PROBES_SOURCE = Path(__file__).with_name("probes_hidden.py").read_text()


def probes(remote: Remote):
    """probes_hidden.py's functions, defined in the student's process."""
    namespace = remote.student.keep({"__name__": "probes_hidden"})
    remote.builtins.exec(PROBES_SOURCE, namespace)
    return namespace


@contextlib.contextmanager
def calling(call: str):
    """An exception the student's code raises names the call with its (shrunk) inputs."""
    try:
        yield
    except StudentRaised as exc:
        if exc.not_implemented:
            raise
        raise type(exc)(exc.info, call, exc.memory_mb) from None


# -- get_device -----------------------------------------------------------------------------------

@hidden(points=0.5)
def test_get_device_honours_every_preference(student):
    """get_device gives the CPU for "cpu" and CUDA for "cuda" and "auto" when a GPU is available"""
    remote = Remote(student)
    real = bool(remote.torch.cuda.is_available())
    with contextlib.nullcontext() if real else SimulatedCuda(remote):
        for prefer, expected in (("cpu", "cpu"), ("cuda", "cuda"), ("auto", "cuda")):
            call = f'get_device("{prefer}")'
            try:
                value = student.get_device(prefer)
            except StudentRaised as exc:
                uses_cuda = any(w in exc.text.lower() for w in ("cuda", "nvidia"))
                if expected == "cuda" and not real and not exc.not_implemented and uses_cuda:
                    continue  # it went on to use the simulated GPU: it did pick CUDA
                raise
            got = value if isinstance(value, str) else device_type(remote, value, call)
            if got.split(":")[0] != expected:
                rationale = (_('with torch.cuda.is_available() returning True, {call} returned torch.device("{got}"); '
                               'expected torch.device("{expected}").') if real else
                             _('with torch.cuda.is_available() returning True (simulated by the grader), {call} '
                               'returned torch.device("{got}"); expected torch.device("{expected}").'))
                fail(rationale.format(call=call, got=got, expected=expected),
                     hint=_('"cpu" is always the CPU, "cuda" always the GPU (SPEC: the CUDA device), and "auto" the '
                            'GPU when torch.cuda.is_available(): e.g. return torch.device(prefer) unless prefer == '
                            '"auto".'),
                     call=call, expected=expected, got=got)


# -- normalize ------------------------------------------------------------------------------------

NORMALIZE_MAX_EPS = 1e-5
FLOAT32_EPS = float(np.finfo(np.float32).eps)


EIGHTHS = st.integers(-8, 8).map(lambda k: k / 8)
"""Values k / 8: sums of a few of them are exact in float32."""


@st.composite
def normalize_inputs(draw):
    """(x_train, others, layouts): see the module docstring for the dimensions."""
    n, d = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    dtype = draw(st.sampled_from((np.float64, np.float32)))
    offset = np.array(draw(st.lists(st.sampled_from((0.0, 3.0, 200.0)), min_size=d, max_size=d)))
    spread = np.array(draw(st.lists(st.sampled_from((1.0, 0.0, 0.5)), min_size=d, max_size=d)))
    x_train = (offset + spread * draw(arrays(np.float64, (n, d), EIGHTHS))).astype(dtype)
    others = [(offset + draw(arrays(np.float64, (m, d), EIGHTHS))).astype(dtype)
              for m in draw(st.lists(st.integers(1, 3), max_size=3))]
    arrays_layouts = draw(st.lists(layouts(), min_size=1 + len(others), max_size=1 + len(others)))
    return x_train, others, arrays_layouts


def normalize_call(x_train, others) -> str:
    names = ", ".join(["x_train"] + [f"x_{i + 1}" for i in range(len(others))])
    values = "; ".join(f"{name} = {show(a, 200)}" for name, a in zip(names.split(", "), [x_train, *others]))
    return f"normalize({names}) with {values} ({x_train.dtype})"


def normalize_bounds(x, mean, std):
    """The lowest and highest value of (x - mean) / (std + eps) for eps in (0, 1e-5] where std > 0,
    and the slack float32 arithmetic (what a student computing in float32 gets) needs."""
    diff = x - mean
    safe = np.where(std > 0, std, 1.0)
    a, b = diff / (safe + NORMALIZE_MAX_EPS), diff / safe
    span = np.abs(x) + np.abs(mean)
    slack = 32 * FLOAT32_EPS * span / (std + NORMALIZE_MAX_EPS) + 1e-5 * np.abs(b) + 1e-6
    return np.minimum(a, b) - slack, np.maximum(a, b) + slack


def normalize_mistake(arrays, got, x_train) -> str:
    """A hint naming the mistake the student's values match, if a known one does."""
    xt = np.asarray(x_train, np.float64)
    mean, std = xt.mean(0), xt.std(0)
    mean_in_dtype = x_train.mean(0)  # the shortcut's mistake shows in the input's own precision
    shortcut = np.sqrt(np.maximum((x_train ** 2).mean(0) - mean_in_dtype ** 2, 0))
    suspects = {
        _("a feature constant in x_train has std 0: divide by (std + eps) with a small eps (at most 1e-5), "
          "which keeps it finite; replacing a zero std by 1 (or flooring it) changes what SPEC.md asks."):
            [(a - mean) / np.where(std == 0, 1.0, std) for a in arrays],
        _("the variance computed as E[x**2] - E[x]**2 loses its digits when the values are far from 0 (float32 "
          "keeps about 7): compute std = sqrt(mean((x - mean)**2)), as x_train.std(axis=0) does."):
            [(a - mean_in_dtype) / (shortcut + x_train.dtype.type(1e-7)) for a in arrays],
        _("use the population standard deviation (ddof=0, numpy's default)."):
            [(a - mean) / (xt.std(0, ddof=1) + 1e-7) for a in arrays] if len(xt) > 1 else None,
    }
    for hint, variant in suspects.items():
        if variant is not None and all(np.allclose(g, v, rtol=1e-3, atol=1e-3, equal_nan=True)
                                       for g, v in zip(got, variant)):
            return hint
    if len(xt) == 1 and any(np.isnan(g).any() for g in got):
        return _("with one row in x_train the sample standard deviation (ddof=1, torch's default) is nan: use the "
                 "population standard deviation (ddof=0), which is 0 there, plus eps.")
    return _("mean = x_train.mean(axis=0) and std = x_train.std(axis=0) from x_train only, then "
             "(x - mean) / (std + eps) with 0 < eps <= 1e-5 for x_train and every other array.")


def check_normalize(student, example) -> None:
    x_train, others, arrays_layouts = example
    arrays = [x_train, *others]
    call = normalize_call(x_train, others)
    with calling(call):
        value = student.normalize(*[in_layout(a, lay) for a, lay in zip(arrays, arrays_layouts)])
    got = normalized_arrays(value, len(arrays), call)
    xt = x_train.astype(np.float64)
    mean, std = xt.mean(axis=0), xt.std(axis=0)
    names = ["x_train"] + [f"x_{i + 1}" for i in range(len(others))]
    for name, a, g in zip(names, arrays, got):
        if g.shape != a.shape:
            fail(_("{call}: the array for {name} has shape {shape}; expected {expected}.").format(
                     call=call, name=name, shape=g.shape, expected=a.shape),
                 hint=_("normalize each array as a whole: (x - mean) / (std + eps) keeps its shape."), call=call)
        x = a.astype(np.float64)
        low, high = normalize_bounds(x, mean, std)
        constant = np.broadcast_to(std == 0, x.shape)
        same = x == mean
        # Beside a feature constant in x_train, x - mean may be below float32's resolution (a student
        # computing in float32 sees 0 there): only the part of the difference above it is required.
        seen = np.maximum(np.abs(x - mean) - 32 * FLOAT32_EPS * (np.abs(x) + np.abs(mean)), 0)
        size_ok = np.abs(g) >= seen / NORMALIZE_MAX_EPS * (1 - 1e-5)
        sign_ok = (seen == 0) | (np.sign(g) == np.sign(x - mean))
        ok = np.where(constant, np.where(same, np.abs(g) <= 1e-6, size_ok & sign_ok), (g >= low) & (g <= high))
        ok &= np.isfinite(g)
        if not ok.all():
            i, j = (int(k) for k in np.argwhere(~ok)[0])
            if constant[i, j]:
                expected = ("0" if same[i, j] else
                            _("(x - mean) / (0 + eps) = {difference} / eps, at least {size} in size (eps <= 1e-5)"
                              ).format(difference=f"{x[i, j] - mean[j]:.6g}",
                                       size=f"{abs(x[i, j] - mean[j]) / NORMALIZE_MAX_EPS:.4g}"))
                why = _("feature {j} is constant in x_train (std 0, mean {mean})").format(j=j, mean=f"{mean[j]:.6g}")
            else:
                expected = _("between {low} and {high}").format(low=f"{low[i, j]:.6g}", high=f"{high[i, j]:.6g}")
                why = _("feature {j} has mean {mean} and std {std} in x_train").format(j=j, mean=f"{mean[j]:.6g}",
                                                                                      std=f"{std[j]:.6g}")
            fail(_("{call}: {why}; for {element} = {value} expected (x - mean) / (std + eps) with 0 < eps <= 1e-5, "
                   "i.e. {expected}; got {got}.").format(call=call, why=why, element=f"{name}[{i}, {j}]",
                                                         value=f"{x[i, j]:.6g}", expected=expected,
                                                         got=f"{g[i, j]:.6g}"),
                 hint=normalize_mistake(arrays, got, x_train), call=call, expected=expected, got=float(g[i, j]))


@hidden(points=1)
def test_normalize_contract(student):
    """normalize follows (x - mean) / (std + eps) for any shapes, arrays, dtype, layout and constant features"""
    for_all(normalize_inputs(), lambda example: check_normalize(student, example), examples=25)


# -- build_model ----------------------------------------------------------------------------------

@st.composite
def model_sizes(draw):
    sizes = st.integers(1, 5)
    hidden_sizes = draw(st.lists(sizes, max_size=3))
    container = draw(st.sampled_from((tuple, list)))
    return draw(sizes), container(hidden_sizes), draw(st.integers(2, 5)), draw(st.sampled_from((3, 1)))


def chain_orders(state: dict, widths: list[int]):
    """Every way to read the model's (weight, bias) pairs as the chain of Linear layers `widths`
    asks for, in order; keys pair up as 'name.weight' / 'name.bias'."""
    pairs = []
    for key, w in state.items():
        if key.endswith("weight") and np.ndim(w) == 2:
            bias = state.get(key[: -len("weight")] + "bias")
            if bias is None:
                return []
            pairs.append((np.asarray(w, np.float64), np.asarray(bias, np.float64)))
    wanted = list(zip(widths[1:], widths[:-1]))
    return [order for order in itertools.permutations(pairs)
            if [tuple(w.shape) for w, _bias in order] == wanted]


def chain_forward(x, order):
    h = x.astype(np.float64)
    for j, (w, b) in enumerate(order):
        h = h @ w.T + b
        if j < len(order) - 1:
            h = np.maximum(h, 0)
    return h


def check_build_model(student, probe, example) -> None:
    input_size, hidden_sizes, num_classes, rows = example
    call = f"build_model({input_size}, hidden_sizes={hidden_sizes!r}, num_classes={num_classes})"
    with calling(call):
        model = student.build_model(input_size, hidden_sizes, num_classes)
    if not isinstance(model, RemoteObject):
        fail(_("{call} returned {value}; expected a torch.nn.Module.").format(call=call, value=show(model, 80)),
             hint=_("return nn.Sequential(*layers)."), call=call)
    is_module, state = probe["model_state"](model)
    if not is_module:
        fail(_("{call} returned {value}; expected a torch.nn.Module.").format(call=call, value=show(model, 80)),
             hint=_("return nn.Sequential(*layers)."), call=call)
    widths = [input_size, *hidden_sizes, num_classes]
    got_shapes = sorted(tuple(np.shape(v)) for v in state.values())
    expected_shapes = sorted(layer_shapes(widths))
    if got_shapes != expected_shapes:
        linears = ", ".join(f"Linear({i}, {o})" for i, o in zip(widths, widths[1:]))
        fail(_("{call} has parameters of shapes {got}; expected {expected}, the weights and biases of {linears}."
               ).format(call=call, got=got_shapes, expected=expected_shapes, linears=linears),
             hint=_("one Linear per hidden size, from the previous width to this size (track the previous width in a "
                    "variable, or zip(widths, widths[1:])), then a final Linear to num_classes; hidden_sizes may be "
                    "empty, and sizes may repeat."), call=call, expected=expected_shapes, got=got_shapes)
    orders = chain_orders(state, widths)
    if not orders:
        return  # parameters under names that do not pair up: the public checks judge the forward pass
    x = np.random.default_rng(input_size * 100 + rows).normal(size=(rows, input_size)).astype(np.float32)
    with calling(f"model(x) with model = {call} and x of shape {x.shape}"):
        got = as_array(probe["model_output"](model, x), call=f"model(x) with model = {call}")
    if got.shape != (rows, num_classes):
        fail(_("model = {call}; model(x) for x of shape {x_shape} has shape {shape}; expected {expected}.").format(
                 call=call, x_shape=x.shape, shape=got.shape, expected=(rows, num_classes)),
             hint=_("return the final Linear's output as it is: one row of num_classes logits per input row (no "
                    "squeeze, no flattening)."), call=call)
    expected = chain_forward(x, orders[0])
    if not any(np.allclose(got, chain_forward(x, order), rtol=OUTPUT_RTOL, atol=OUTPUT_ATOL) for order in orders):
        fail(_("model = {call}; model(x) for x = {x} gave {got}; with your model's own weights, "
               "Linear -> ReLU -> ... -> Linear gives {expected}.").format(call=call, x=show(x, 160),
                                                                           got=show(got, 160),
                                                                           expected=show(expected, 160)),
             hint=_("an nn.ReLU after each hidden Linear, none after the last Linear, and nothing else."), call=call,
             expected=show(expected), got=show(got))


@hidden(points=0.5)
def test_build_model_contract(student):
    """build_model builds the Linear/ReLU chain for no, one or several hidden sizes, coinciding sizes included"""
    probe = probes(Remote(student))
    for_all(model_sizes(), lambda example: check_build_model(student, probe, example), examples=15)


# -- make_loaders -----------------------------------------------------------------------------------

LABEL_DTYPES = (np.int64, np.int32, np.int16, np.uint8)


@st.composite
def loader_inputs(draw):
    d = draw(st.integers(1, 3))
    x_dtype = draw(st.sampled_from((np.float32, np.float64)))

    def part():
        n = draw(st.integers(1, 7))
        x = draw(arrays(np.float64, (n, d), st.floats(-5, 5, allow_nan=False, width=32)))
        x[:, 0] = np.arange(n)  # column 0 numbers the rows, so their order is visible
        t = draw(arrays(draw(st.sampled_from(LABEL_DTYPES)), n, st.integers(0, 2)))
        return x.astype(x_dtype), t, draw(layouts())

    (x_train, t_train, lay_train), (x_val, t_val, lay_val) = part(), part()
    return x_train, t_train, x_val, t_val, draw(st.integers(1, 9)), lay_train, lay_val


def loader_call(x_train, t_train, x_val, t_val, batch_size) -> str:
    def arr(a):
        return f"{a.dtype} of shape {a.shape}"
    return (f"make_loaders(x_train {arr(x_train)}, t_train {show(t_train)} ({t_train.dtype}), x_val {arr(x_val)}, "
            f"t_val {show(t_val)} ({t_val.dtype}), batch_size={batch_size})")


def check_loader(batches, x, t, batch_size, name: str, call: str, *, may_drop_last: bool) -> None:
    for i, batch in enumerate(batches):
        if not (isinstance(batch, (tuple, list)) and len(batch) == 2 and all(isinstance(a, np.ndarray) for a in batch)):
            fail(_("{call}: batch {number} of the {name} loader is {batch}; expected a pair (x, t) of tensors.").format(
                     call=call, number=i, name=name, batch=show(batch, 100)),
                 hint=_("build the loader on TensorDataset(x_tensor, t_tensor)."), call=call)
        xb, tb = batch
        if xb.dtype != np.float32:
            fail(_("{call}: the {name} loader's inputs are {dtype}; expected float32.").format(
                     call=call, name=name, dtype=xb.dtype),
                 hint=_("torch.as_tensor(x, dtype=torch.float32), whatever float dtype x arrives in."), call=call)
        if tb.dtype != np.int64:
            fail(_("{call}: the {name} loader's labels are {dtype} (the labels given were {given}); expected int64."
                   ).format(call=call, name=name, dtype=tb.dtype, given=t.dtype),
                 hint=_("convert the labels whatever integer dtype they arrive in: torch.as_tensor(t, "
                        "dtype=torch.int64) or .long(); torch.from_numpy(t) keeps int32 or uint8, which "
                        "nn.CrossEntropyLoss refuses."),
                 call=call)
        if xb.ndim != 2 or xb.shape[1:] != x.shape[1:] or tb.shape != (len(xb),):
            fail(_("{call}: batch {number} of the {name} loader has x of shape {x_shape} and t of shape {t_shape}; "
                   "expected {x_expected} and {t_expected}.").format(
                     call=call, number=i, name=name, x_shape=xb.shape, t_shape=tb.shape,
                     x_expected=(len(xb), x.shape[1]), t_expected=(len(xb),)),
                 hint=_("one row of x and one label per sample, no extra dimensions."), call=call)
    sizes = [len(b[1]) for b in batches]
    if any(s != batch_size for s in sizes[:-1]) or any(s > batch_size for s in sizes):
        fail(_("{call}: the {name} loader's batches have sizes {sizes}; expected batches of {size}, the last one "
               "possibly smaller.").format(call=call, name=name, sizes=sizes, size=batch_size),
             hint=_("pass batch_size=batch_size to the DataLoader."), call=call)
    ids = np.concatenate([b[0][:, 0] for b in batches]).astype(int) if batches else np.zeros(0, int)
    n = len(x)
    if may_drop_last:  # a last partial batch dropped (drop_last=True) is accepted, as in the public check
        right = (len(set(ids.tolist())) == len(ids) and set(ids.tolist()) <= set(range(n))
                 and len(ids) >= n - n % batch_size)
        expected = _("each of the {n} rows once").format(n=n)
    else:
        right = np.array_equal(ids, np.arange(n))
        expected = _("the rows 0 to {last} in order, each once").format(last=n - 1)
    if not right:
        fail(_("{call}: one pass over the {name} loader gave the rows {ids}; expected {expected}.").format(
                 call=call, name=name, ids=show(ids, 120), expected=expected),
             hint=_("build each loader on all of its own rows; only the training loader shuffles."), call=call)
    xs = np.concatenate([b[0] for b in batches]) if batches else np.zeros((0,) + x.shape[1:])
    ts = np.concatenate([b[1] for b in batches]) if batches else np.zeros(0)
    if not (np.allclose(xs, x[ids].astype(np.float32), rtol=1e-6, atol=1e-6) and np.array_equal(ts, t[ids])):
        fail(_("{call}: the {name} loader's rows differ from the arrays given.").format(call=call, name=name),
             hint=_("pass x and t to TensorDataset unchanged (only their dtypes converted), each x with its own t."),
             call=call)


def check_make_loaders(student, example) -> None:
    x_train, t_train, x_val, t_val, batch_size, lay_train, lay_val = example
    call = loader_call(x_train, t_train, x_val, t_val, batch_size)
    with calling(call):
        value = student.make_loaders(in_layout(x_train, lay_train), t_train, in_layout(x_val, lay_val), t_val,
                                     batch_size=batch_size)
        pair = isinstance(value, (tuple, list)) and len(value) == 2
        if not (pair and all(isinstance(v, RemoteObject) for v in value)):
            fail(_("{call} returned {value}; expected (train_loader, val_loader).").format(
                     call=call, value=show(value, 120)),
                 hint=_("return two DataLoaders."), call=call)
        train_batches, val_batches = list(value[0]), list(value[1])
    check_loader(train_batches, x_train, t_train, batch_size, _("training"), call, may_drop_last=True)
    check_loader(val_batches, x_val, t_val, batch_size, _("validation"), call, may_drop_last=False)


@hidden(points=0.5)
def test_make_loaders_contract(student):
    """make_loaders gives float32 inputs and int64 labels in batches of batch_size for any sizes, dtypes and layouts"""
    Remote(student)
    for_all(loader_inputs(), lambda example: check_make_loaders(student, example), examples=15)


# -- train_one_epoch and evaluate -----------------------------------------------------------------

EPOCH_LAYERS = [("Linear", 3, 4), ("ReLU",), ("Linear", 4, 3)]
EPOCH_LR = 0.3


@functools.lru_cache(maxsize=None)
def epoch_state() -> dict:
    return state_arrays(local_model(EPOCH_LAYERS, seed=17))


def epoch_data(seed: int, rows: int):
    return scenarios.blobs(seed, rows, 3, 3)


def epoch_examples():
    """(rows, batch_size, data seed): one batch, batches dividing the rows, a last batch of one row..."""
    return st.tuples(st.integers(1, 9), st.integers(1, 10), st.integers(0, 50))


def batch_sizes(rows: int, batch_size: int) -> list[int]:
    return [min(batch_size, rows - start) for start in range(0, rows, batch_size)]


def setup_text(rows: int, batch_size: int) -> str:
    """Part of a call's description: in English, as every `call` (results.cause_key groups by it)."""
    return (f"{rows} row{'s' * (rows != 1)} in batches of {batch_size} "
            f"(batch sizes {batch_sizes(rows, batch_size)})")


def local_epoch_model():
    model = local_model(EPOCH_LAYERS, seed=0)
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in epoch_state().items()})
    return model


@functools.lru_cache(maxsize=None)
def reference_epoch(rows: int, batch_size: int, seed: int) -> dict:
    """The reference's train_one_epoch with SGD, and the mean of the batch means for the hint."""
    x, t = epoch_data(seed, rows)
    model = local_epoch_model()
    loader = local_loader(x, t, batch_size)
    with torch.no_grad():
        means = [torch.nn.functional.cross_entropy(model(xb), tb).item() for xb, tb in loader]
    loss = ref.train_one_epoch(model, loader, torch.optim.SGD(model.parameters(), lr=EPOCH_LR),
                               torch.nn.CrossEntropyLoss(), torch.device("cpu"))
    return {"loss": float(loss), "weights": state_arrays(model), "mean_of_batch_means": float(np.mean(means))}


@functools.lru_cache(maxsize=None)
def reference_evaluation(rows: int, batch_size: int, seed: int) -> dict:
    x, t = epoch_data(seed, rows)
    loader = local_loader(x, t, batch_size)
    loss, accuracy = ref.evaluate(local_epoch_model(), loader, torch.nn.CrossEntropyLoss(), torch.device("cpu"))
    return {"loss": float(loss), "accuracy": float(accuracy)}


def loss_hint(got: float, mean_of_means: float) -> str:
    if np.isclose(got, mean_of_means, rtol=1e-4):
        return _("that is the mean of the batch means: weight each batch's loss by its number of rows (loss.item() * "
                 "len(t)) and divide by the number of samples.")
    return _("sum loss.item() * len(t) over the batches and divide by the number of samples, len(loader.dataset).")


def check_train_one_epoch(student, setup, report, example) -> None:
    rows, batch_size, seed = example
    x, t = epoch_data(seed, rows)
    call = (f"train_one_epoch(model, loader, SGD(lr={EPOCH_LR}), CrossEntropyLoss(), cpu) on "
            f"{setup_text(rows, batch_size)}")
    model, loader, optimizer, loss_fn, device, log = setup(EPOCH_LAYERS, epoch_state(), x, t, batch_size, EPOCH_LR,
                                                           False)
    with calling(call):
        value = student.train_one_epoch(model, loader, optimizer, loss_fn, device)
    weights, modes = report(model, log)
    expected = reference_epoch(rows, batch_size, seed)
    if modes and not all(training for training, _grad in modes):
        fail(_("{call}, with the model in evaluation mode when it arrived: a forward pass ran in evaluation mode."
               ).format(call=call),
             hint=_("call model.train() at the start of train_one_epoch (evaluate leaves the model in eval mode)."),
             call=call)
    got = as_float(value, call=call, hint=_("return the epoch's mean loss per sample as one number."))
    if not np.isclose(got, expected["loss"], rtol=1e-4, atol=1e-6):
        fail(_("{call} returned {got}; expected the mean loss per sample {expected}.").format(
                 call=call, got=f"{got:.6g}", expected=f"{expected['loss']:.6g}"),
             hint=loss_hint(got, expected["mean_of_batch_means"]), call=call, expected=expected["loss"], got=got)
    if not weights_match(weights, expected["weights"]):
        fail(_("after {call}, the weights differ from one epoch of SGD's: {difference}.").format(
                 call=call, difference=worst_weight(weights, expected["weights"])),
             hint=_("per batch, in this order: optimizer.zero_grad(), loss = loss_fn(model(x), t), loss.backward(), "
                    "optimizer.step(); every batch, the last and smaller one too."), call=call)


@hidden(points=0.5)
def test_train_one_epoch_contract(student):
    """train_one_epoch trains in training mode and returns the mean loss per sample for any rows and batch size"""
    namespace = probes(Remote(student))
    setup, report = namespace["epoch_setup"], namespace["epoch_report"]
    for_all(epoch_examples(), lambda example: check_train_one_epoch(student, setup, report, example), examples=12)


def check_evaluate(student, setup, report, example) -> None:
    rows, batch_size, seed = example
    x, t = epoch_data(seed, rows)
    call = f"evaluate(model, loader, CrossEntropyLoss(), cpu) on {setup_text(rows, batch_size)}"
    model, loader, _optimizer, loss_fn, device, log = setup(EPOCH_LAYERS, epoch_state(), x, t, batch_size, None, True)
    with calling(call):
        value = student.evaluate(model, loader, loss_fn, device)
    weights, modes = report(model, log)
    if any(training for training, _grad in modes):
        fail(_("{call}, with the model in training mode when it arrived: a forward pass ran in training mode."
               ).format(call=call),
             hint=_("call model.eval() before the loop."), call=call)
    if any(grad for _training, grad in modes):
        fail(_("{call}: a forward pass ran with autograd recording.").format(call=call),
             hint=_("wrap the loop in `with torch.no_grad():`."), call=call)
    loss, accuracy = as_pair(value, call=call)
    expected = reference_evaluation(rows, batch_size, seed)
    if not np.isclose(loss, expected["loss"], rtol=1e-4, atol=1e-6):
        means = reference_epoch(rows, batch_size, seed)["mean_of_batch_means"]
        fail(_("{call} returned the loss {loss}; expected the mean loss per sample {expected}.").format(
                 call=call, loss=f"{loss:.6g}", expected=f"{expected['loss']:.6g}"),
             hint=loss_hint(loss, means), call=call, expected=expected["loss"], got=loss)
    if not np.isclose(accuracy, expected["accuracy"], rtol=1e-6, atol=1e-6):
        fail(_("{call} returned the accuracy {accuracy}; expected {expected} ({right} of {rows} rows predicted "
               "right).").format(call=call, accuracy=f"{accuracy:.6g}", expected=f"{expected['accuracy']:.6g}",
                                 right=round(expected["accuracy"] * rows), rows=rows),
             hint=_("count the rows whose largest logit is the label, over all batches, and divide by the number of "
                    "rows."), call=call, expected=expected["accuracy"], got=accuracy)
    if not all(np.array_equal(weights[k], v) for k, v in epoch_state().items()):
        fail(_("{call} changed the model's weights.").format(call=call),
             hint=_("evaluate only measures: no optimizer step, no backward."), call=call)


@hidden(points=0.5)
def test_evaluate_contract(student):
    """evaluate returns the mean loss per sample and the accuracy, in eval mode without gradients, for any batch size"""
    namespace = probes(Remote(student))
    setup, report = namespace["epoch_setup"], namespace["epoch_report"]
    for_all(epoch_examples(), lambda example: check_evaluate(student, setup, report, example), examples=12)


# -- fit: early stopping over generated validation losses -----------------------------------------

UNIT = 5e-5
"""Validation losses are 1 + k * UNIT for integers k, so equal losses are exactly equal and
different ones differ by at least UNIT (well above float32 rounding of a loss near 1)."""
EPOCH_KINDS = ("worse", "better", "tie", "tiny better", "between")
"""What each epoch after the first does, measured from the best loss so far: worse (by a
growing amount), better by 0.1, equal to the best, better by UNIT only (below any min_delta
habit), or between the best and the previous epoch (better than the previous, not the best)."""
UNTRAINED_LOSS = 5.0
"""Above every epoch's loss: a fit that counts the untrained model as a candidate agrees."""
MAX_EPOCHS = 8
FIT_LR = 0.01
FIT_TRAIN_ROWS, FIT_VAL_ROWS, FIT_VAL_BATCH = 3, 6, 4
"""One training batch; validation batches of 4 and 2 rows (a batch of one row is evaluate's check's)."""


def losses_after(kinds) -> list[float]:
    """The validation losses of epochs 1.., epoch 1's being 1, from the kinds of the epochs after it."""
    units = [0]
    for i, kind in enumerate(kinds):
        best, previous = min(units), units[-1]
        units.append({"worse": best + 2000 * (i + 1), "better": best - 2000, "tie": best, "tiny better": best - 1,
                      "between": (best + previous) // 2 if previous - best > 1 else best + 1}[kind])
    return [1.0 + UNIT * k for k in units]


def fit_scenarios():
    """(validation losses of epochs 1..n, patience)."""
    kinds = st.lists(st.sampled_from(EPOCH_KINDS), max_size=MAX_EPOCHS - 1)
    return st.tuples(kinds.map(losses_after), st.sampled_from((2, None, 1, 3)))


MIN_DELTA_HINT = N_("an epoch improves when its validation loss is strictly below the best so far, by any amount "
                    "(no min_delta).")
STOP_MISTAKES = {  # the first whose rule runs as many epochs as the student's names the mistake
    N_("an equal loss is not an improvement: improve only when val_loss < best, strictly."): dict(strict=False),
    N_("reset the count of epochs without improvement to 0 whenever an epoch improves: patience counts CONSECUTIVE "
       "epochs without improvement."): dict(reset=False),
    MIN_DELTA_HINT: dict(min_delta=2 * UNIT),
    N_("that compares each epoch with the previous epoch; compare with the best validation loss so far."):
        dict(against_previous=True),
    N_("that stops one epoch late: stop as soon as `patience` epochs in a row have not improved."): dict(extra_wait=1),
    N_("that stops one epoch early: stop when the count of epochs without improvement reaches patience."):
        dict(extra_wait=-1),
}


def stop_hint(losses, patience, runs) -> str:
    for hint, mistake in STOP_MISTAKES.items():
        if scenarios.early_stop(losses, patience, **mistake).epochs == runs:
            return _(hint)
    return _("keep the best loss and a counter: when val_loss < best, save the weights and set the counter to 0, else "
             "add 1; break when the counter reaches patience (with patience=None, never).")


def restore_hint(losses, patience, held) -> str:
    if held == scenarios.early_stop(losses, patience, min_delta=2 * UNIT).best + 1:
        return _("{advice} Save the weights of every epoch that improves.").format(advice=_(MIN_DELTA_HINT))
    return _("when an epoch improves, save a copy of the weights (copy.deepcopy(model.state_dict())), and after the "
             "loop, whether or not patience stopped it, load them back with model.load_state_dict.")


def check_fit(student, setup, report, example) -> None:
    losses, patience = example
    epochs = len(losses)
    call = _("{call} with validation losses scripted to be {losses} (the grader's model makes epoch k's validation "
             "loss the k-th of these)").format(
        call=f"fit(model, train_loader, val_loader, epochs={epochs}, lr={FIT_LR}, device='cpu', patience={patience})",
        losses=rounded(losses, 5))
    model, train_loader, val_loader = setup([UNTRAINED_LOSS] + losses, FIT_TRAIN_ROWS, FIT_VAL_ROWS, FIT_VAL_BATCH)
    with calling(english(call)):
        value = student.fit(model, train_loader, val_loader, epochs=epochs, lr=FIT_LR, device="cpu", patience=patience)
    history = read_history(value, call=call)
    got = history["val_loss"]
    if not np.allclose(got, losses[:len(got)], rtol=1e-5, atol=1e-6) or len(got) > epochs:
        return  # not the scripted losses: evaluate's or the loop's mistake, judged by the public checks
    rule = scenarios.early_stop(losses, patience)
    if len(got) != rule.epochs:
        best = rule.best + 1
        facts = dict(call=call, runs=len(got), expected=rule.epochs, best=best, patience=patience)
        if patience is None:
            rationale = _("{call}: ran {runs} epoch(s); expected {expected} (epoch {best} is the best: an epoch "
                          "improves when its loss is strictly below the best so far; with patience=None every epoch "
                          "runs).")
        else:
            rationale = _("{call}: ran {runs} epoch(s); expected {expected} (epoch {best} is the best: an epoch "
                          "improves when its loss is strictly below the best so far; training stops after {patience} "
                          "epoch(s) in a row without improvement).")
        fail(rationale.format(**facts),
             hint=stop_hint(losses, patience, len(got)), call=english(call), expected=rule.epochs, got=len(got))
    held = report(model)
    run = losses[:rule.epochs]
    if held is None or not 1 <= held <= rule.epochs or run[held - 1] != min(run):
        what = (_("weights the grader cannot place") if held is None or held < 0 else
                _("the untrained weights") if held == 0 else
                _("the weights of epoch {epoch} (validation loss {loss})").format(
                    epoch=held, loss=f"{losses[held - 1]:.5f}") if held <= epochs else
                _("weights trained for {epochs} epochs").format(epochs=held))
        fail(_("{call}: afterwards the model holds {what}; expected those of its best epoch, epoch {epoch} "
               "(validation loss {loss}).").format(call=call, what=what, epoch=rule.best + 1, loss=f"{min(run):.5f}"),
             hint=restore_hint(losses, patience, held), call=english(call))


@hidden(points=1)
def test_fit_early_stopping_contract(student):
    """fit stops after `patience` epochs without a strictly lower validation loss and keeps the best weights"""
    namespace = probes(Remote(student))
    setup, report = namespace["fit_setup"], namespace["fit_report"]
    for_all(fit_scenarios(), lambda example: check_fit(student, setup, report, example), examples=16)
