"""What exercise 7's checks share, public and hidden alike: the inputs they give the student's
functions, reading and judging what comes back, and the hints that name a classic mistake.

The check files hold only checks (test_hidden.py never imports test_public.py), so the students'
bundle, which ships the public checks and this module but no file named *hidden*, runs as is.
Sections follow the order of the checks: get_device, normalize, build_model, make_loaders,
train_one_epoch, evaluate, fit."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np
import torch

from grader.checks.api import as_array, as_float, expect_shape, fail, show
from grader.checks.translated import N_, _, english_of as english, join
from grader.checks.exercise7 import scenarios
from grader.checks.exercise7.remote import DeviceMoves, ForwardRecorder, Remote, local_loader, local_model
from grader.sandbox.codec import Tensor
from grader.sandbox.errors import StudentRaised
from grader.sandbox.session import RemoteObject
from reference.exercise7 import torch_training as ref

HISTORY_KEYS = ("train_loss", "val_loss", "val_acc")
WEIGHT_RTOL, WEIGHT_ATOL = 1e-4, 1e-6
"""float32 weights after a few identical steps agree to rounding (~1e-7); 1e-4 leaves room for
sums taken in another order."""
HISTORY_RTOL, HISTORY_ATOL = 1e-3, 1e-5
"""A few epochs of Adam amplify rounding differences a little; real mistakes move the numbers
by percent."""
NORMALIZE_RTOL, NORMALIZE_ATOL = 1e-4, 1e-4
"""Accepts any eps up to 1e-5 and float32 arithmetic; a sample std (ddof=1) is 7% off here."""
OUTPUT_RTOL, OUTPUT_ATOL = 1e-4, 1e-5
"""float32 forward pass against numpy in float64."""
LOSS_RTOL = 1e-4


def as_pair(value, *, call: str) -> tuple[float, float]:
    """evaluate's (loss, accuracy): a tuple or list of two numbers (tensors arrive as 0-d arrays)."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        fail(_("{call} returned {value}; expected a tuple (mean_loss_per_sample, accuracy).").format(
                 call=call, value=show(value, 120)),
             hint=_("end evaluate with `return total_loss / n, correct / n`."), call=english(call))
    return (as_float(value[0], call=f"{english(call)}[0] (the loss)"),
            as_float(value[1], call=f"{english(call)}[1] (the accuracy)"))


def read_history(value, *, call: str) -> dict[str, list[float]]:
    """fit's history: a dict of three equally long sequences of numbers."""
    hint = _('return {"train_loss": [...], "val_loss": [...], "val_acc": [...]}, one float per epoch.')
    if not isinstance(value, dict):
        fail(_("{call} returned {value}; expected a dict with the keys {keys}.").format(
                 call=call, value=show(value, 120), keys=", ".join(HISTORY_KEYS)),
             hint=hint, call=english(call))
    missing = [k for k in HISTORY_KEYS if k not in value]
    if missing:
        fail(_("{call} returned a dict without {missing} (its keys: {keys}).").format(
                 call=call, missing=", ".join(map(repr, missing)), keys=sorted(map(str, value))),
             hint=hint, call=english(call))
    history = {}
    for key in HISTORY_KEYS:
        seq = value[key]
        if isinstance(seq, np.ndarray) and seq.ndim == 1:
            seq = list(seq)
        if not isinstance(seq, (list, tuple)):
            fail(_("{call}[{key}] is {value}; expected a list with one number per epoch.").format(
                     call=call, key=repr(key), value=show(seq, 80)), hint=hint, call=english(call))
        history[key] = [as_float(v, call=f"{english(call)}[{key!r}][{i}]") for i, v in enumerate(seq)]
    lengths = {k: len(v) for k, v in history.items()}
    if len(set(lengths.values())) != 1:
        fail(_("{call} returned lists of different lengths {lengths}; each needs one entry per epoch run.").format(
                 call=call, lengths=lengths),
             hint=_("append to all three lists once per epoch, after evaluating."), call=english(call))
    return history


def weights_match(got: dict, expected: dict, rtol: float = WEIGHT_RTOL, atol: float = WEIGHT_ATOL) -> bool:
    if set(got) != set(expected):
        return False
    return all(np.shape(got[k]) == np.shape(expected[k]) and np.allclose(got[k], expected[k], rtol=rtol, atol=atol)
               for k in expected)


def worst_weight(got: dict, expected: dict) -> str:
    """Where two sets of weights differ most, for a message."""
    worst = max(expected, key=lambda k: float(np.max(np.abs(np.asarray(got[k], float) - expected[k]))))
    diff = np.abs(np.asarray(got[worst], float) - expected[worst])
    index = np.unravel_index(int(np.argmax(diff)), diff.shape)
    return _("{weight} is {got}, expected {expected}").format(
        weight=f"{worst}[{', '.join(map(str, index))}]", got=f"{float(np.asarray(got[worst])[index]):.6g}",
        expected=f"{float(expected[worst][index]):.6g}")


def close(a: list[float], b: list[float], rtol: float = HISTORY_RTOL, atol: float = HISTORY_ATOL) -> bool:
    return len(a) == len(b) and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def rounded(values: list[float], digits: int = 4) -> list[float]:
    return [round(float(v), digits) for v in values]


@dataclass
class FitRun:
    history: dict[str, list[float]]
    state: dict[str, np.ndarray]
    call: str


def run_fit(student, problem: scenarios.FitProblem) -> FitRun:
    """The student's fit on a torch Sequential and fixed, unshuffled loaders in their process."""
    remote = Remote(student)
    x, t, xv, tv = problem.arrays
    model = remote.model(scenarios.FIT_LAYERS, problem.state)
    train_loader = remote.loader(x, t, problem.train_batch)
    val_loader = remote.loader(xv, tv, problem.val_batch)
    call = f"fit(..., epochs={problem.epochs}, lr={problem.lr}, patience={problem.patience})"
    value = student.fit(model, train_loader, val_loader, epochs=problem.epochs, lr=problem.lr, device="cpu",
                        patience=problem.patience)
    return FitRun(read_history(value, call=english(call)), remote.read_state(model), call)


def validation_loss_of(state: dict, problem: scenarios.FitProblem) -> float:
    """The grader's own measurement of weights on the problem's validation data."""
    model = local_model(scenarios.FIT_LAYERS, seed=0)
    model.load_state_dict({k: torch.from_numpy(np.asarray(v, np.float32).copy()) for k, v in state.items()})
    xv, tv = problem.arrays[2:]
    loss = scenarios.grader_evaluate(model, local_loader(xv, tv, problem.val_batch))[0]
    return float(loss)


# -- get_device ---------------------------------------------------------------------------------

def device_type(remote: Remote, value, call: str) -> str:
    """The `type` ("cpu", "cuda") of the torch.device the student returned."""
    if isinstance(value, str):
        fail(_("{call} returned the string {value}; expected a torch.device.").format(call=call, value=repr(value)),
             hint=_("wrap it: return torch.device({value}).").format(value=repr(value)), call=english(call))
    if not isinstance(value, RemoteObject) or not remote.is_instance(value, "device"):
        fail(_("{call} returned {value}; expected a torch.device.").format(call=call, value=show(value, 80)),
             hint=_("return torch.device('cuda') or torch.device('cpu')."), call=english(call))
    return str(value.type)


# -- normalize ------------------------------------------------------------------------------------

def normalize_data():
    """Four features on very different scales; validation and test drawn from shifted distributions."""
    rng = np.random.default_rng(21)
    scale, shift = np.array([1.0, 10.0, 0.1, 3.0]), np.array([0.0, 50.0, -2.0, 5.0])
    x_train = rng.normal(size=(8, 4)) * scale + shift
    x_val = rng.normal(size=(5, 4)) * scale * 2 + shift + 3 * scale
    x_test = rng.normal(size=(3, 4)) * scale + shift - 2 * scale
    return x_train, x_val, x_test


def standardized(arrays, mean, std):
    return [(x - mean) / (std + ref.EPS) for x in arrays]


def normalize_mistake(arrays, got) -> str:
    """The classic mistake whose output matches the student's, as a hint."""
    x_train = arrays[0]
    pooled = np.concatenate(arrays)
    suspects = {
        _("use the population standard deviation (ddof=0, numpy's default); torch's x.std() is the sample "
          "standard deviation unless you pass unbiased=False (correction=0)."):
            standardized(arrays, x_train.mean(0), x_train.std(0, ddof=1)),
        _("each array was normalized with its own mean and std: compute mean and std from x_train only and "
          "apply those same numbers to every other array."): [(x - x.mean(0)) / (x.std(0) + ref.EPS) for x in arrays],
        _("the statistics came from all the arrays together: compute them from x_train only, so nothing about the "
          "validation or test data leaks into training."): standardized(arrays, pooled.mean(0), pooled.std(0)),
        _("compute one mean and std per feature (axis=0), not one number for the whole array."):
            standardized(arrays, x_train.mean(), x_train.std()),
    }
    for hint, variant in suspects.items():
        if all(g.shape == v.shape and np.allclose(g, v, rtol=NORMALIZE_RTOL, atol=NORMALIZE_ATOL)
               for g, v in zip(got, variant)):
            return hint
    return _("mean = x_train.mean(axis=0), std = x_train.std(axis=0), then (x - mean) / (std + eps) for every array.")


def normalized_arrays(value, count: int, call: str) -> list[np.ndarray]:
    if not isinstance(value, (tuple, list)) or len(value) != count:
        what = (_("a {type} of length {length}").format(type=type(value).__name__, length=len(value))
                if isinstance(value, (tuple, list)) else _("a {type}").format(type=type(value).__name__))
        fail(_("{call} returned {what}; expected a tuple of {count} normalized array(s).").format(
                 call=call, what=what, count=count),
             hint=_("return a tuple with one entry per argument: (x_train_n, *others_n); "
                    "normalize(x) returns the 1-tuple (x_n,)."), call=english(call))
    return [as_array(v, call=f"{english(call)}[{i}]") for i, v in enumerate(value)]


# -- build_model ----------------------------------------------------------------------------------

def layer_shapes(widths: list[int]) -> list[tuple]:
    return [(o, i) for i, o in zip(widths, widths[1:])] + [(o,) for o in widths[1:]]


def numpy_forward(x, layers, activation, *, after_last=False):
    h = x.astype(float)
    for j, (w, b) in enumerate(layers):
        h = h @ w.T.astype(float) + b
        if j < len(layers) - 1 or after_last:
            h = activation(h)
    return h


def output_mistake(got, x, layers) -> str:
    if np.all(got >= 0) and np.allclose(got.sum(axis=1), 1.0, atol=1e-4):
        return _("the outputs are probabilities (rows sum to 1): remove the final softmax. The model returns "
                 "logits; nn.CrossEntropyLoss applies log-softmax itself.")
    if np.all(got <= 1e-6) and np.allclose(np.log(np.exp(got).sum(axis=1)), 0.0, atol=1e-4):
        return _("the outputs are log-probabilities: remove the final log_softmax; return the raw logits.")
    relu = lambda h: np.maximum(h, 0)  # noqa: E731
    suspects = {
        _("use nn.ReLU after each hidden Linear, not a sigmoid."):
            numpy_forward(x, layers, lambda h: 1 / (1 + np.exp(-h))),
        _("use nn.ReLU after each hidden Linear, not tanh."): numpy_forward(x, layers, np.tanh),
        _("put an nn.ReLU after each hidden Linear (without it the layers collapse into one linear map)."):
            numpy_forward(x, layers, lambda h: h),
        _("no ReLU after the final Linear: the logits may be negative."):
            numpy_forward(x, layers, relu, after_last=True),
    }
    for hint, variant in suspects.items():
        if np.allclose(got, variant, rtol=OUTPUT_RTOL, atol=OUTPUT_ATOL):
            return hint
    return _("Linear -> ReLU for each hidden size, in order, then a final Linear, and return its output.")


def check_architecture(student, input_size: int, hidden_sizes, num_classes: int, *, forward: bool = True) -> None:
    """Parameter shapes, then (if `forward`) the forward pass with the grader's weights against
    numpy. The sizes must all differ, so each weight's shape says which layer it belongs to."""
    remote = Remote(student)
    call = f"build_model({input_size}, {hidden_sizes!r}, {num_classes})"
    model = student.build_model(input_size, hidden_sizes, num_classes)
    if not isinstance(model, RemoteObject) or not remote.is_instance(model, "nn", "Module"):
        fail(_("{call} returned {value}; expected a torch.nn.Module.").format(call=call, value=show(model, 80)),
             hint=_("return nn.Sequential(*layers)."))
    widths = [input_size, *hidden_sizes, num_classes]
    state = remote.read_state(model)
    got_shapes = [tuple(np.shape(v)) for v in state.values()]
    expected_shapes = layer_shapes(widths)
    if sorted(got_shapes) != sorted(expected_shapes):
        linears = ", ".join(f"Linear({i}, {o})" for i, o in zip(widths, widths[1:]))
        fail(_("{call} has parameters of shapes {got}; expected {expected}, the weights and biases of {linears}."
               ).format(call=call, got=got_shapes, expected=sorted(expected_shapes), linears=linears),
             hint=_("one nn.Linear per layer, each from the previous width to the next, and no other layers with "
                    "parameters."), call=english(call))
    if not forward:
        return
    rng = np.random.default_rng(31)
    new = {k: rng.normal(scale=0.7, size=np.shape(v)).astype(np.float32) for k, v in state.items()}
    key_of = {tuple(np.shape(v)): k for k, v in state.items()}
    layers = [(new[key_of[(o, i)]], new[key_of[(o,)]]) for i, o in zip(widths, widths[1:])]
    remote.load_state(model, new)
    model.eval()
    x = rng.normal(size=(6, input_size)).astype(np.float32)
    got = as_array(model(Tensor(x)), call=f"{call}(x)")
    expected = numpy_forward(x, layers, lambda h: np.maximum(h, 0))
    expect_shape(got, expected.shape, call=f"model(x) with x of shape {x.shape}",
                 hint=_("the model returns one row of num_classes logits per input row."))
    if not np.allclose(got, expected, rtol=OUTPUT_RTOL, atol=OUTPUT_ATOL):
        fail(_("model = {call}; model(x) gave {got}; expected the logits {expected} (the grader loaded its own "
               "weights into your layers).").format(call=call, got=show(got, 160), expected=show(expected, 160)),
             hint=output_mistake(got, x, layers),
             call=english(call), expected=show(expected), got=show(got))


# -- make_loaders -----------------------------------------------------------------------------------

LOADER_BATCH = 4


def loader_data(x_dtype=np.float32):
    """22 training rows and 13 validation rows; column 0 numbers the rows so order is visible."""
    rng = np.random.default_rng(41)
    x_train = rng.normal(size=(22, 3)).astype(x_dtype)
    x_val = rng.normal(size=(13, 3)).astype(x_dtype)
    x_train[:, 0], x_val[:, 0] = np.arange(22), np.arange(13)
    return x_train, rng.integers(0, 3, 22).astype(np.int64), x_val, rng.integers(0, 3, 13).astype(np.int64)


def student_loaders(student, arrays, batch_size=LOADER_BATCH):
    call = f"make_loaders(x_train, t_train, x_val, t_val, batch_size={batch_size})"
    value = student.make_loaders(*arrays, batch_size=batch_size)
    if not (isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, RemoteObject) for v in value)):
        fail(_("{call} returned {value}; expected (train_loader, val_loader), two DataLoaders.").format(
                 call=call, value=show(value, 120)),
             hint=_("return DataLoader(train_set, batch_size, shuffle=True), DataLoader(val_set, batch_size)."),
             call=english(call))
    return value


def read_batches(loader, name: str, *, inputs: bool = True, labels: bool = True) -> list[tuple[np.ndarray, np.ndarray]]:
    """One pass over a loader: its batches as (x, t) arrays, after checking their form and the
    dtypes asked for (each check judges only its own question, so one mistake fails one check)."""
    batches = list(loader)
    for i, batch in enumerate(batches):
        if not (isinstance(batch, (tuple, list)) and len(batch) == 2
                and all(isinstance(a, np.ndarray) for a in batch)):
            fail(_("batch {number} of the {name} loader is {batch}; expected a pair (x, t) of tensors.").format(
                     number=i, name=name, batch=show(batch, 100)),
                 hint=_("build the loader on TensorDataset(x_tensor, t_tensor) so each batch is (x, t)."))
        x, t = batch
        if inputs and x.dtype != np.float32:
            fail(_("the {name} loader's inputs are {dtype}; expected float32 (nn.Linear's weights are float32, and a "
                   "float64 batch makes it raise a dtype error).").format(name=name, dtype=x.dtype),
                 hint=_("torch.as_tensor(x, dtype=torch.float32), or .float()."))
        if labels and t.dtype != np.int64:
            fail(_("the {name} loader's labels are {dtype}; expected int64.").format(name=name, dtype=t.dtype),
                 hint=_("nn.CrossEntropyLoss needs class indices of dtype torch.int64 (torch.long): use "
                        "torch.as_tensor(t, dtype=torch.int64), or .long(); float labels mean something else to it."))
        if x.ndim != 2 or t.shape != (len(x),):
            fail(_("batch {number} of the {name} loader has x of shape {x_shape} and t of shape {t_shape}; expected "
                   "(B, D) and (B,).").format(number=i, name=name, x_shape=x.shape, t_shape=t.shape),
                 hint=_("one row of x and one label per sample; no extra dimensions."))
    return batches


def rows_by_id(batches) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row ids in the order seen, x rows, labels) of one pass."""
    x = np.concatenate([b[0] for b in batches]) if batches else np.zeros((0, 3), np.float32)
    t = np.concatenate([b[1] for b in batches]) if batches else np.zeros(0, np.int64)
    return x[:, 0].astype(int), x, t


def check_rows(batches, x, t, name: str, *, may_drop_last: bool) -> None:
    sizes = [len(b[1]) for b in batches]
    if any(size != LOADER_BATCH for size in sizes[:-1]) or (sizes and sizes[-1] > LOADER_BATCH):
        fail(_("the {name} loader's batches have sizes {sizes}; expected batches of {size} (batch_size={size}), the "
               "last one possibly smaller.").format(name=name, sizes=sizes, size=LOADER_BATCH),
             hint=_("pass batch_size=batch_size to both DataLoaders."))
    ids, xs, ts = rows_by_id(batches)
    full = len(x)
    enough = full - (LOADER_BATCH - 1 if may_drop_last else 0) <= len(ids) <= full
    if not enough or len(set(ids.tolist())) != len(ids) or not set(ids.tolist()) <= set(range(full)):
        fail(_("one pass over the {name} loader gave {count} rows (row numbers {ids}); expected each of the {full} "
               "rows exactly once.").format(name=name, count=len(ids), ids=show(ids, 120), full=full),
             hint=_("build each loader on its own arrays, all rows, no repeats."))
    if not (np.allclose(xs, x[ids], rtol=1e-6, atol=1e-6) and np.array_equal(ts, t[ids])):
        fail(_("the {name} loader's rows differ from the arrays given to make_loaders.").format(name=name),
             hint=_("pass x and t to TensorDataset unchanged (only their dtype converted), each x with its own t."))


# -- train_one_epoch --------------------------------------------------------------------------------

def run_epoch(student, lr: float):
    """The student's train_one_epoch with SGD(lr) on the training problem; the model starts in eval
    mode so only the student's model.train() can switch training on."""
    remote = Remote(student)
    problem = scenarios.train_problem()
    model = remote.model(problem.layers, problem.state)
    model.eval()
    recorder = ForwardRecorder(remote).attach_to(model)
    optimizer = remote.torch.optim.SGD(model.parameters(), lr=lr)
    loader = remote.loader(problem.x, problem.t, problem.batch_size)
    value = student.train_one_epoch(model, loader, optimizer, remote.nn.CrossEntropyLoss(), remote.torch.device("cpu"))
    return value, remote.read_state(model), recorder


EPOCH_SETUP = N_("one epoch of SGD(lr={lr}) and CrossEntropyLoss on {rows} rows in batches of {batch}, 4 and 2")


def epoch_setup() -> str:
    """What the train_one_epoch checks ran, for their messages."""
    return _(EPOCH_SETUP).format(lr=scenarios.SGD_LR, rows=scenarios.SMALL_ROWS, batch=scenarios.SMALL_BATCH)


# -- evaluate -------------------------------------------------------------------------------------

def run_evaluate(student, which: str):
    remote = Remote(student)
    problem = scenarios.eval_problem() if which == "modes" else scenarios.plain_problem()
    model = remote.model(problem.layers, problem.state)
    recorder = ForwardRecorder(remote).attach_to(model)
    loader = remote.loader(problem.x, problem.t, problem.batch_size)
    value = student.evaluate(model, loader, remote.nn.CrossEntropyLoss(), remote.torch.device("cpu"))
    return as_pair(value, call="evaluate(model, loader, loss_fn, device)"), recorder


# -- fit ------------------------------------------------------------------------------------------

def fit_mistake(history: dict) -> str:
    """Which plausible mistake reproduces the student's history, as a hint."""
    smooth = scenarios.SMOOTH
    suspects = {
        _("that is what SGD gives: use torch.optim.Adam(model.parameters(), lr=lr)."): replace(smooth, optimizer="SGD"),
        _("that is Adam with its default lr=1e-3: pass lr=lr to Adam."): replace(smooth, lr=1e-3),
    }
    for hint, problem in suspects.items():
        if close(history["val_loss"], scenarios.trace(problem).history["val_loss"]):
            return hint
    initial = validation_loss_of(smooth.state, smooth)
    if history["val_loss"] and np.isclose(history["val_loss"][0], initial, rtol=1e-4):
        return _("the first val_loss is the untrained model's: evaluate after training in each epoch.")
    return _("per epoch: train_one_epoch(model, train_loader, optimizer, loss_fn, device), then "
             "evaluate(model, val_loader, loss_fn, device), with optimizer = Adam(model.parameters(), lr=lr) and "
             "loss_fn = nn.CrossEntropyLoss(), both created once before the loop.")


def stop_mistake(val_losses: list[float], patience: int, runs: int, max_epochs: int) -> str:
    """Which classic mistake stops a run with these validation losses after `runs` epochs."""
    suspects = {
        _("that stops one epoch late: stop as soon as `patience` epochs in a row have not improved "
          "(epochs_without_improvement >= patience)."): dict(extra_wait=1),
        _("that stops one epoch early: count only the epochs after the best, and stop when the count reaches "
          "patience."): dict(extra_wait=-1),
        _("that compares each epoch with the previous epoch; compare with the best validation loss so far."):
            dict(against_previous=True),
        _("an equal loss is not an improvement: improve only when val_loss < best (strictly)."): dict(strict=False),
    }
    for hint, mistake in suspects.items():
        stop = scenarios.early_stop(val_losses, patience, **mistake)
        if stop.epochs == runs and (stop.early or runs == max_epochs):
            return hint
    if runs == max_epochs:
        return _("patience was ignored: count the epochs without improvement and break when the count reaches "
                 "patience.")
    return _("keep best_loss and a counter: on val_loss < best_loss save the weights and reset the counter, else add "
             "1; break when the counter reaches patience.")


def check_restored(student, problem: scenarios.FitProblem) -> None:
    """After fit the model must hold its best epoch's weights: the grader measures them itself."""
    run = run_fit(student, problem)
    losses = run.history["val_loss"]
    if not losses:
        fail(_("{call} returned an empty history.").format(call=run.call), hint=_("run at least one epoch."))
    measured = validation_loss_of(run.state, problem)
    best = min(losses)
    trace = scenarios.trace(problem)
    reference_best = scenarios.early_stop(trace.history["val_loss"], problem.patience).best
    if np.isclose(measured, best, rtol=1e-4, atol=1e-6) or weights_match(run.state, trace.states[reference_best],
                                                                          rtol=1e-3, atol=1e-5):
        return
    best_epoch = int(np.argmin(losses)) + 1
    if np.isclose(measured, losses[-1], rtol=1e-4, atol=1e-6):
        what = _("the weights of the last epoch (epoch {epoch}, validation loss {loss})").format(
            epoch=len(losses), loss=f"{losses[-1]:.4f}")
    else:
        what = _("weights with validation loss {loss}").format(loss=f"{measured:.4f}")
    fail(_("{problem}: validation losses {losses}; afterwards the model holds {what}, not those of its best epoch "
           "(epoch {epoch}, validation loss {loss}).").format(problem=problem.describe(), losses=rounded(losses),
                                                              what=what, epoch=best_epoch, loss=f"{best:.4f}"),
         hint=_("when an epoch improves, save a copy of the weights: best_state = copy.deepcopy(model.state_dict()) "
                "(model.state_dict() alone returns the live tensors, which keep training); after the loop, also when "
                "patience never triggered, call model.load_state_dict(best_state)."))


# -- moving to the device ---------------------------------------------------------------------------

CUDA_WORDS = ("cuda", "nvidia")
"""Words of the errors torch raises when code really uses CUDA where it cannot start
("Torch not compiled with CUDA enabled", "Found no NVIDIA driver", "... devices, cuda:0 and cpu!")."""
MOVE_NOTE = N_("(the grader records every .to(...) and carries moves to CUDA out on the CPU, so this is checked on "
               "machines without a GPU too)")


def moves_on_cuda(student, call: Callable[[Remote], Any]) -> DeviceMoves | None:
    """Run `call(remote)`, a call of the student's function with a CUDA device, while every move
    to a device is recorded (remote.DeviceMoves). None when the student's code raised because it
    really tried to use the GPU (a CUDA tensor made with torch.zeros(..., device=device), say):
    that code does use the device, which is all the device checks ask."""
    remote = Remote(student)
    try:
        with DeviceMoves(remote) as moves:
            call(remote)
    except StudentRaised as exc:
        if not exc.not_implemented and any(word in exc.text.lower() for word in CUDA_WORDS):
            return None
        raise
    return moves


def batch_shapes(rows: int, batch_size: int, features: int | None) -> set[tuple]:
    """The shapes of a loader's batches: (batch_size, features) and the last, smaller one; labels without features."""
    sizes = {batch_size, rows % batch_size or batch_size}
    return {(n, features) if features else (n,) for n in sizes}


def check_batches_moved(moves: DeviceMoves | None, problem, call: str) -> None:
    """Fails unless the inputs of some batch of `problem` were moved to a device."""
    if moves is None:
        return
    rows, features = problem.x.shape
    if moves.of_tensors(batch_shapes(rows, problem.batch_size, features)):
        return
    labels_moved = bool(moves.of_tensors(batch_shapes(rows, problem.batch_size, None)))
    seen = _("only the labels t were moved") if labels_moved else _("no .to(device) was called on the batches")
    fail(_("{call} with device=torch.device('cuda') never moved a batch's inputs x to the device: {seen} {note}."
           ).format(call=call, seen=seen, note=_(MOVE_NOTE)),
         hint=_("at the start of each batch: x, t = x.to(device), t.to(device). The model is on `device` (fit puts "
                "it there), and on a GPU a batch left on the CPU makes the model raise \"Expected all tensors to be on "
                "the same device\"."), call=english(call))


# -- the handout's signatures ---------------------------------------------------------------------

SPEC_SIGNATURES = {
    "get_device": (["prefer"], {"prefer": "auto"}),
    "build_model": (["input_size", "hidden_sizes", "num_classes"],
                    {"input_size": 784, "hidden_sizes": (256, 128), "num_classes": 10}),
    "make_loaders": (["x_train", "t_train", "x_val", "t_val", "batch_size"], {"batch_size": 32}),
    "fit": (["model", "train_loader", "val_loader", "epochs", "lr", "device", "patience"],
            {"epochs": 10, "lr": 1e-3, "device": "cpu", "patience": None}),
}
"""SPEC.md's parameters and defaults of the functions that have defaults."""


def spec_call(name: str) -> str:
    names, defaults = SPEC_SIGNATURES[name]
    return f"{name}({', '.join(f'{p}={defaults[p]!r}' if p in defaults else p for p in names)})"


def same_default(got, expected) -> bool:
    """A default equal to the handout's, of a type that behaves the same (a list for the tuple of
    hidden sizes; an int where the handout has an int, never a bool or a float)."""
    if isinstance(expected, tuple):
        return isinstance(got, (tuple, list)) and all(same_default(g, e) for g, e in zip(got, expected)) \
            and len(got) == len(expected)
    if expected is None or isinstance(expected, str):
        return got == expected and type(got) is type(expected)
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return False
    return got == expected and (not isinstance(expected, int) or isinstance(got, int))


def signature_mistake(name: str, spec) -> str | None:
    """What differs between the student's `inspect.getfullargspec` of `name` and the handout.
    Extra parameters after the handout's are accepted when they have defaults (calls written for
    the handout still work)."""
    expected_names, expected_defaults = SPEC_SIGNATURES[name]
    names, defaults = list(spec[0]), list(spec[3] or ())
    if names[:len(expected_names)] != expected_names:
        return _("{name}'s parameters are ({names}); expected ({expected})").format(
            name=name, names=", ".join(names), expected=", ".join(expected_names))
    got = dict(zip(names[len(names) - len(defaults):], defaults))
    extra = [p for p in names[len(expected_names):] if p not in got]
    if extra:
        return _("{name} has the extra parameter(s) {extra} without a default").format(name=name,
                                                                                        extra=", ".join(extra))
    wrong = [_("{parameter}={got} (expected {expected})").format(parameter=p, got=repr(got[p]), expected=repr(v))
             if p in got else _("{parameter} has no default (expected {expected})").format(parameter=p,
                                                                                             expected=repr(v))
             for p, v in expected_defaults.items() if p not in got or not same_default(got[p], v)]
    if wrong:
        return _("{name}'s defaults differ from the handout: {wrong}").format(name=name, wrong=join(", ", wrong))
    return None
