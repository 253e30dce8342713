"""Public checks of exercise 7: each piece of the PyTorch training loop, then a timed run on MNIST.

The student's functions get models, loaders and optimizers built from torch's own classes in
their process (remote.py), with the same weights and data the reference gets here, so one
mistake costs points on the check that names it rather than on every check after it.
Whether the model was in training mode and whether autograd was recording are read during
the student's forward passes by a hook (remote.ForwardRecorder).
"""

from dataclasses import replace

import numpy as np

from grader.checks.api import as_array, as_float, expect_shape, fail, public, show
from grader.checks.exercise7 import mnist_run, scenarios
from grader.checks.exercise7.common import (WEIGHT_ATOL, WEIGHT_RTOL, as_pair, close, rounded, run_fit,
                                            validation_loss_of, weights_match, worst_weight)
from grader.checks.exercise7.remote import ForwardRecorder, Remote
from grader.sandbox.codec import Tensor
from grader.sandbox.session import RemoteObject
from reference.exercise7 import torch_training as ref

NORMALIZE_RTOL, NORMALIZE_ATOL = 1e-4, 1e-4
"""Accepts any eps up to 1e-5 and float32 arithmetic; a sample std (ddof=1) is 7% off here."""
OUTPUT_RTOL, OUTPUT_ATOL = 1e-4, 1e-5
"""float32 forward pass against numpy in float64."""
LOSS_RTOL = 1e-4


# -- get_device ---------------------------------------------------------------------------------

def device_type(remote: Remote, value, call: str) -> str:
    """The `type` ("cpu", "cuda") of the torch.device the student returned."""
    if isinstance(value, str):
        fail(f"{call} returned the string {value!r}; expected a torch.device.",
             hint=f"wrap it: return torch.device({value!r}).", call=call)
    if not isinstance(value, RemoteObject) or not remote.is_instance(value, "device"):
        fail(f"{call} returned {show(value, 80)}; expected a torch.device.",
             hint="return torch.device('cuda') or torch.device('cpu').", call=call)
    return str(value.type)


@public(points=1)
def test_get_device(student):
    """get_device("cpu") is the CPU; get_device("auto") is CUDA only when it is available"""
    remote = Remote(student)
    got = device_type(remote, student.get_device("cpu"), 'get_device("cpu")')
    if got != "cpu":
        fail(f'get_device("cpu") returned torch.device("{got}"); expected torch.device("cpu").',
             hint='prefer="cpu" must give the CPU even when a GPU is present.')
    cuda = bool(remote.torch.cuda.is_available())
    expected = "cuda" if cuda else "cpu"
    for call, value in (('get_device("auto")', student.get_device("auto")), ("get_device()", student.get_device())):
        got = device_type(remote, value, call)
        if got != expected:
            fail(f"{call} returned torch.device(\"{got}\") on a machine where torch.cuda.is_available() is {cuda}; "
                 f"expected torch.device(\"{expected}\").",
                 hint="\"auto\" (the default) means: torch.device('cuda') if torch.cuda.is_available() else "
                      "torch.device('cpu').")


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
        "use the population standard deviation (ddof=0, numpy's default); torch's x.std() is the sample "
        "standard deviation unless you pass unbiased=False (correction=0).":
            standardized(arrays, x_train.mean(0), x_train.std(0, ddof=1)),
        "each array was normalized with its own mean and std: compute mean and std from x_train only and "
        "apply those same numbers to every other array.": [(x - x.mean(0)) / (x.std(0) + ref.EPS) for x in arrays],
        "the statistics came from all the arrays together: compute them from x_train only, so nothing about the "
        "validation or test data leaks into training.": standardized(arrays, pooled.mean(0), pooled.std(0)),
        "compute one mean and std per feature (axis=0), not one number for the whole array.":
            standardized(arrays, x_train.mean(), x_train.std()),
    }
    for hint, variant in suspects.items():
        if all(g.shape == v.shape and np.allclose(g, v, rtol=NORMALIZE_RTOL, atol=NORMALIZE_ATOL)
               for g, v in zip(got, variant)):
            return hint
    return "mean = x_train.mean(axis=0), std = x_train.std(axis=0), then (x - mean) / (std + eps) for every array."


def normalized_arrays(value, count: int, call: str) -> list[np.ndarray]:
    if not isinstance(value, (tuple, list)) or len(value) != count:
        what = f"a {type(value).__name__}" + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else "")
        fail(f"{call} returned {what}; expected a tuple of {count} normalized array{'s' * (count > 1)}.",
             hint="return a tuple with one entry per argument: (x_train_n, *others_n); "
                  "normalize(x) returns the 1-tuple (x_n,).", call=call)
    return [as_array(v, call=f"{call}[{i}]") for i, v in enumerate(value)]


@public(points=1.5)
def test_normalize_uses_training_statistics(student):
    """normalize standardizes every array with the mean and population std of x_train"""
    arrays = normalize_data()
    call = "normalize(x_train, x_val, x_test)"
    got = normalized_arrays(student.normalize(*arrays), 3, call)
    for name, g, expected in zip(("x_train", "x_val", "x_test"), got, ref.normalize(*arrays)):
        expect_shape(g, expected.shape, call=f"{call} for {name}")
        if not np.allclose(g, expected, rtol=NORMALIZE_RTOL, atol=NORMALIZE_ATOL):
            fail(f"{call} gave {show(g, 160)} for {name}; expected {show(expected, 160)}. "
                 f"Input x_train: {show(arrays[0], 160)}.", hint=normalize_mistake(arrays, got), call=call,
                 expected=show(expected), got=show(g))
    normalized_arrays(student.normalize(arrays[0]), 1, "normalize(x_train)")


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
        return ("the outputs are probabilities (rows sum to 1): remove the final softmax. The model returns "
                "logits; nn.CrossEntropyLoss applies log-softmax itself.")
    if np.all(got <= 1e-6) and np.allclose(np.log(np.exp(got).sum(axis=1)), 0.0, atol=1e-4):
        return "the outputs are log-probabilities: remove the final log_softmax; return the raw logits."
    relu = lambda h: np.maximum(h, 0)  # noqa: E731
    suspects = {
        "use nn.ReLU after each hidden Linear, not a sigmoid.": numpy_forward(x, layers, lambda h: 1 / (1 + np.exp(-h))),
        "use nn.ReLU after each hidden Linear, not tanh.": numpy_forward(x, layers, np.tanh),
        "put an nn.ReLU after each hidden Linear (without it the layers collapse into one linear map).":
            numpy_forward(x, layers, lambda h: h),
        "no ReLU after the final Linear: the logits may be negative.": numpy_forward(x, layers, relu, after_last=True),
    }
    for hint, variant in suspects.items():
        if np.allclose(got, variant, rtol=OUTPUT_RTOL, atol=OUTPUT_ATOL):
            return hint
    return "Linear -> ReLU for each hidden size, in order, then a final Linear, and return its output."


def check_architecture(student, input_size: int, hidden_sizes, num_classes: int, *, forward: bool = True) -> None:
    """Parameter shapes, then (if `forward`) the forward pass with the grader's weights against
    numpy. The sizes must all differ, so each weight's shape says which layer it belongs to."""
    remote = Remote(student)
    call = f"build_model({input_size}, {hidden_sizes!r}, {num_classes})"
    model = student.build_model(input_size, hidden_sizes, num_classes)
    if not isinstance(model, RemoteObject) or not remote.is_instance(model, "nn", "Module"):
        fail(f"{call} returned {show(model, 80)}; expected a torch.nn.Module.", hint="return nn.Sequential(*layers).")
    widths = [input_size, *hidden_sizes, num_classes]
    state = remote.read_state(model)
    got_shapes = [tuple(np.shape(v)) for v in state.values()]
    expected_shapes = layer_shapes(widths)
    if sorted(got_shapes) != sorted(expected_shapes):
        linears = ", ".join(f"Linear({i}, {o})" for i, o in zip(widths, widths[1:]))
        fail(f"{call} has parameters of shapes {got_shapes}; expected {sorted(expected_shapes)}, "
             f"the weights and biases of {linears}.",
             hint="one nn.Linear per layer, each from the previous width to the next, and no other layers with "
                  "parameters.", call=call)
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
                 hint="the model returns one row of num_classes logits per input row.")
    if not np.allclose(got, expected, rtol=OUTPUT_RTOL, atol=OUTPUT_ATOL):
        fail(f"model = {call}; model(x) gave {show(got, 160)}; expected the logits {show(expected, 160)} "
             f"(the grader loaded its own weights into your layers).", hint=output_mistake(got, x, layers),
             call=call, expected=show(expected), got=show(got))


@public(points=2)
def test_build_model_layers_and_logits(student):
    """build_model is Linear + ReLU per hidden size and a final Linear that returns logits"""
    check_architecture(student, 7, (5, 4), 3)
    remote = Remote(student)
    model = student.build_model()
    if not isinstance(model, RemoteObject) or not remote.is_instance(model, "nn", "Module"):
        fail(f"build_model() returned {show(model, 80)}; expected a torch.nn.Module.")
    shapes = sorted(tuple(np.shape(v)) for v in remote.read_state(model).values())
    expected = sorted(layer_shapes([784, 256, 128, 10]))
    if shapes != expected:
        fail(f"build_model() (the defaults) has parameters of shapes {shapes}; expected {expected}.",
             hint="keep the defaults input_size=784, hidden_sizes=(256, 128), num_classes=10.")


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
        fail(f"{call} returned {show(value, 120)}; expected (train_loader, val_loader), two DataLoaders.",
             hint="return DataLoader(train_set, batch_size, shuffle=True), DataLoader(val_set, batch_size).", call=call)
    return value


def read_batches(loader, name: str, *, inputs: bool = True, labels: bool = True) -> list[tuple[np.ndarray, np.ndarray]]:
    """One pass over a loader: its batches as (x, t) arrays, after checking their form and the
    dtypes asked for (each check judges only its own question, so one mistake fails one check)."""
    batches = list(loader)
    for i, batch in enumerate(batches):
        if not (isinstance(batch, (tuple, list)) and len(batch) == 2
                and all(isinstance(a, np.ndarray) for a in batch)):
            fail(f"batch {i} of the {name} loader is {show(batch, 100)}; expected a pair (x, t) of tensors.",
                 hint="build the loader on TensorDataset(x_tensor, t_tensor) so each batch is (x, t).")
        x, t = batch
        if inputs and x.dtype != np.float32:
            fail(f"the {name} loader's inputs are {x.dtype}; expected float32 (nn.Linear's weights are float32, "
                 f"and a float64 batch makes it raise a dtype error).",
                 hint="torch.as_tensor(x, dtype=torch.float32), or .float().")
        if labels and t.dtype != np.int64:
            fail(f"the {name} loader's labels are {t.dtype}; expected int64.",
                 hint="nn.CrossEntropyLoss needs class indices of dtype torch.int64 (torch.long): use "
                      "torch.as_tensor(t, dtype=torch.int64), or .long(); float labels mean something else to it.")
        if x.ndim != 2 or t.shape != (len(x),):
            fail(f"batch {i} of the {name} loader has x of shape {x.shape} and t of shape {t.shape}; expected "
                 f"(B, D) and (B,).", hint="one row of x and one label per sample; no extra dimensions.")
    return batches


def rows_by_id(batches) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row ids in the order seen, x rows, labels) of one pass."""
    x = np.concatenate([b[0] for b in batches]) if batches else np.zeros((0, 3), np.float32)
    t = np.concatenate([b[1] for b in batches]) if batches else np.zeros(0, np.int64)
    return x[:, 0].astype(int), x, t


def check_rows(batches, x, t, name: str, *, may_drop_last: bool) -> None:
    sizes = [len(b[1]) for b in batches]
    if any(size != LOADER_BATCH for size in sizes[:-1]) or (sizes and sizes[-1] > LOADER_BATCH):
        fail(f"the {name} loader's batches have sizes {sizes}; expected batches of {LOADER_BATCH} "
             f"(batch_size={LOADER_BATCH}), the last one possibly smaller.",
             hint="pass batch_size=batch_size to both DataLoaders.")
    ids, xs, ts = rows_by_id(batches)
    full = len(x)
    enough = full - (LOADER_BATCH - 1 if may_drop_last else 0) <= len(ids) <= full
    if not enough or len(set(ids.tolist())) != len(ids) or not set(ids.tolist()) <= set(range(full)):
        fail(f"one pass over the {name} loader gave {len(ids)} rows (row numbers {show(ids, 120)}); expected each "
             f"of the {full} rows exactly once.", hint="build each loader on its own arrays, all rows, no repeats.")
    if not (np.allclose(xs, x[ids], rtol=1e-6, atol=1e-6) and np.array_equal(ts, t[ids])):
        fail(f"the {name} loader's rows differ from the arrays given to make_loaders.",
             hint="pass x and t to TensorDataset unchanged (only their dtype converted), each x with its own t.")


@public(points=1.5)
def test_make_loaders_batches_and_dtypes(student):
    """make_loaders gives batches of batch_size with float32 inputs and int64 labels, every row once"""
    x_train, t_train, x_val, t_val = arrays = loader_data()
    train_loader, val_loader = student_loaders(student, arrays)
    check_rows(read_batches(train_loader, "training"), x_train, t_train, "training", may_drop_last=True)
    check_rows(read_batches(val_loader, "validation"), x_val, t_val, "validation", may_drop_last=False)


@public(points=1)
def test_make_loaders_shuffles_only_training(student):
    """only the training loader shuffles, anew every epoch; the validation loader keeps the row order"""
    remote = Remote(student)
    remote.torch.manual_seed(0)
    train_loader, val_loader = student_loaders(student, loader_data())
    first, second = (rows_by_id(read_batches(train_loader, "training", inputs=False, labels=False))[0]
                     for _ in range(2))
    if np.array_equal(first, np.sort(first)):
        fail(f"the training loader gave the rows in their original order {show(first, 120)}.",
             hint="pass shuffle=True to the training DataLoader: without it every epoch sees the same batches.")
    if np.array_equal(first, second):
        fail(f"the training loader gave the same order {show(first, 120)} in two epochs in a row.",
             hint="let the DataLoader shuffle (shuffle=True) rather than permuting the arrays once.")
    for epoch in (1, 2):
        ids = rows_by_id(read_batches(val_loader, "validation", inputs=False, labels=False))[0]
        if not np.array_equal(ids, np.arange(len(ids))):
            fail(f"the validation loader gave the rows in the order {show(ids, 120)} (epoch {epoch}); expected "
                 f"0, 1, 2, ... in order.",
                 hint="only the training loader shuffles: give the validation DataLoader shuffle=False (the default), "
                      "so every evaluation sees the same batches.")


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


EPOCH_SETUP = (f"one epoch of SGD(lr={scenarios.SGD_LR}) and CrossEntropyLoss on {scenarios.SMALL_ROWS} rows in "
               f"batches of {scenarios.SMALL_BATCH}, 4 and 2")


@public(points=2)
def test_train_one_epoch_updates_like_sgd(student):
    """train_one_epoch sets training mode and zeroes, computes and applies the gradients of every batch"""
    _, weights, recorder = run_epoch(student, scenarios.SGD_LR)
    if recorder.calls and not recorder.all("training"):
        fail(f"during train_one_epoch the model was in evaluation mode ({EPOCH_SETUP}; the model came in after "
             f"model.eval()).", hint="call model.train() at the start of train_one_epoch: evaluate leaves the model in "
                                     "eval mode, where dropout and batch norm stop training behaviour.")
    expected = scenarios.reference_epoch().weights
    if weights_match(weights, expected):
        return
    initial = scenarios.train_problem().state
    if weights_match(weights, initial):
        hint = ("the weights did not change: call loss.backward() and then optimizer.step() for every batch, "
                "and zero the gradients before backward(), not between backward() and step().")
    elif weights_match(weights, scenarios.accumulated_epoch().weights):
        hint = ("the gradients piled up from batch to batch: call optimizer.zero_grad() at the start of every batch "
                "(PyTorch adds each backward() to .grad; it never clears it for you).")
    else:
        hint = ("per batch: optimizer.zero_grad(); loss = loss_fn(model(x), t); loss.backward(); optimizer.step(). "
                "Use the optimizer and loss_fn you are given.")
    fail(f"after {EPOCH_SETUP}, the weights differ from the reference's: {worst_weight(weights, expected)} "
         f"(tolerance rtol={WEIGHT_RTOL}, atol={WEIGHT_ATOL}).", hint=hint)


@public(points=1)
def test_train_one_epoch_returns_mean_loss_per_sample(student):
    """train_one_epoch returns the mean loss per sample, also when the last batch is smaller"""
    value, _, _ = run_epoch(student, 0.0)
    call = "train_one_epoch(...)"
    got = as_float(value, call=call, hint="return the epoch's mean loss as a number (loss.item()).")
    batches = scenarios.initial_batch_losses()
    losses, sizes = np.array([b[0] for b in batches]), np.array([b[1] for b in batches])
    expected = float(losses @ sizes / sizes.sum())
    if np.isclose(got, expected, rtol=LOSS_RTOL, atol=1e-7):
        return
    suspects = {
        "that is the mean of the batch means: weight each batch's loss by its size (loss.item() * len(t)) and divide "
        "by the number of samples, because the last batch is smaller.": losses.mean(),
        "that is the sum over the batches: divide by the number of samples.": losses.sum(),
        "that is the total over all samples: divide it by the number of samples.": float(losses @ sizes),
        "that is the last batch's loss: return the mean over the whole epoch.": losses[-1],
    }
    hint = next((h for h, v in suspects.items() if np.isclose(got, v, rtol=LOSS_RTOL)),
                "sum loss.item() * len(t) over the batches and divide by the number of samples.")
    fail(f"with lr=0 (so every batch's loss is the initial model's) and batch losses {rounded(losses.tolist())} over "
         f"batches of {sizes.tolist()} rows, {call} returned {got:.6g}; expected the mean per sample {expected:.6g}.",
         hint=hint, expected=expected, got=got)


# -- evaluate -------------------------------------------------------------------------------------

def run_evaluate(student, which: str):
    remote = Remote(student)
    problem = scenarios.eval_problem() if which == "modes" else scenarios.plain_problem()
    model = remote.model(problem.layers, problem.state)
    recorder = ForwardRecorder(remote).attach_to(model)
    loader = remote.loader(problem.x, problem.t, problem.batch_size)
    value = student.evaluate(model, loader, remote.nn.CrossEntropyLoss(), remote.torch.device("cpu"))
    return as_pair(value, call="evaluate(model, loader, loss_fn, device)"), recorder


@public(points=1.5)
def test_evaluate_in_eval_mode_without_gradients(student):
    """evaluate puts the model in eval mode and runs it without gradient tracking"""
    (loss, accuracy), recorder = run_evaluate(student, "modes")
    setup = "a model with batch norm and dropout, in training mode when it reached evaluate"
    if recorder.any("training"):
        fail(f"evaluate ran {setup} without switching it to evaluation mode.",
             hint="call model.eval() first: in training mode dropout drops units at random and batch norm uses the "
                  "batch's statistics (and updates its running ones).")
    if recorder.any("grad_enabled"):
        fail("evaluate ran the model with autograd recording (torch.is_grad_enabled() was True in the forward pass).",
             hint="wrap the loop in `with torch.no_grad():` (or torch.inference_mode()): no graph is needed to "
                  "evaluate, and building one costs time and memory.")
    if not recorder.calls:  # model.forward(x) called directly: judge eval mode by the numbers alone
        expected = scenarios.reference_evaluation("modes")
        if not np.isclose(loss, expected["loss"], rtol=LOSS_RTOL):
            fail(f"evaluate on {setup} gave loss {loss:.6g}; in eval mode it is {expected['loss']:.6g}.",
                 hint="call model.eval() before the loop, and call the model as model(x).")


@public(points=1)
def test_evaluate_returns_loss_and_accuracy(student):
    """evaluate returns the mean loss per sample and the accuracy as a fraction"""
    (loss, accuracy), _ = run_evaluate(student, "plain")
    expected = scenarios.reference_evaluation("plain")
    setup = (f"{scenarios.SMALL_ROWS} rows in batches of {scenarios.SMALL_BATCH}, 4 and 2, with "
             f"{round(expected['accuracy'] * scenarios.SMALL_ROWS)} predicted right")
    if not np.isclose(loss, expected["loss"], rtol=LOSS_RTOL, atol=1e-7):
        hint = ("that is the mean of the batch means: sum loss.item() * len(t) and divide by the number of samples "
                "(the last batch is smaller)." if np.isclose(loss, expected["mean_of_batch_losses"], rtol=LOSS_RTOL)
                else "sum loss.item() * len(t) over the batches and divide by the number of samples.")
        fail(f"evaluate on {setup} returned the loss {loss:.6g}; expected {expected['loss']:.6g}.", hint=hint)
    if not np.isclose(accuracy, expected["accuracy"], rtol=1e-6, atol=1e-9):
        if np.isclose(accuracy, 100 * expected["accuracy"]):
            hint = "return the accuracy as a fraction between 0 and 1, not a percentage."
        elif np.isclose(accuracy, expected["mean_of_batch_accuracies"]):
            hint = "that is the mean of the batch accuracies: count correct predictions and divide by the number of rows."
        else:
            hint = "accuracy = (logits.argmax(dim=1) == t).sum() over all batches / number of rows."
        fail(f"evaluate on {setup} returned the accuracy {accuracy:.6g}; expected {expected['accuracy']:.6g}.",
             hint=hint)


# -- fit ------------------------------------------------------------------------------------------

def fit_mistake(history: dict) -> str:
    """Which plausible mistake reproduces the student's history, as a hint."""
    smooth = scenarios.SMOOTH
    suspects = {
        "that is what SGD gives: use torch.optim.Adam(model.parameters(), lr=lr).": replace(smooth, optimizer="SGD"),
        "that is Adam with its default lr=1e-3: pass lr=lr to Adam.": replace(smooth, lr=1e-3),
    }
    for hint, problem in suspects.items():
        if close(history["val_loss"], scenarios.trace(problem).history["val_loss"]):
            return hint
    initial = validation_loss_of(smooth.state, smooth)
    if history["val_loss"] and np.isclose(history["val_loss"][0], initial, rtol=1e-4):
        return "the first val_loss is the untrained model's: evaluate after training in each epoch."
    return ("per epoch: train_one_epoch(model, train_loader, optimizer, loss_fn, device), then "
            "evaluate(model, val_loader, loss_fn, device), with optimizer = Adam(model.parameters(), lr=lr) and "
            "loss_fn = nn.CrossEntropyLoss(), both created once before the loop.")


@public(points=2)
def test_fit_trains_with_adam_and_cross_entropy(student):
    """fit trains with Adam(lr) and cross-entropy, evaluating after each epoch, and returns the history"""
    problem = scenarios.SMOOTH
    run = run_fit(student, problem)
    expected = scenarios.trace(problem)
    runs = len(run.history["val_loss"])
    if runs != problem.epochs:
        fail(f"{problem.describe()} returned a history of {runs} epochs; expected {problem.epochs} "
             f"(with patience=None every epoch runs).", hint="loop `for epoch in range(epochs)`; stop early only "
                                                            "when patience is an int.")
    if max(run.history["val_acc"]) > 1.0:  # a percentage: test_evaluate_returns_loss_and_accuracy names it
        run.history["val_acc"] = [v / 100 for v in run.history["val_acc"]]
    for key in ("train_loss", "val_loss", "val_acc"):
        if not close(run.history[key], expected.history[key]):
            fail(f"{problem.describe()} (validation loss falling every epoch) returned {key} "
                 f"{rounded(run.history[key])}; expected {rounded(expected.history[key])}.",
                 hint=fit_mistake(run.history), expected=rounded(expected.history[key]), got=rounded(run.history[key]))
    if not weights_match(run.state, expected.states[-1], rtol=1e-3, atol=1e-5):
        fail(f"after {problem.describe()} the history is right but the model's weights are not the last (and best) "
             f"epoch's: {worst_weight(run.state, expected.states[-1])}.",
             hint="train the model you are given, in place, and load the best epoch's weights back into it.")


def stop_mistake(val_losses: list[float], patience: int, runs: int, max_epochs: int) -> str:
    """Which classic mistake stops a run with these validation losses after `runs` epochs."""
    suspects = {
        "that stops one epoch late: stop as soon as `patience` epochs in a row have not improved "
        "(epochs_without_improvement >= patience).": dict(extra_wait=1),
        "that stops one epoch early: count only the epochs after the best, and stop when the count reaches "
        "patience.": dict(extra_wait=-1),
        "that compares each epoch with the previous epoch; compare with the best validation loss so far.":
            dict(against_previous=True),
        "an equal loss is not an improvement: improve only when val_loss < best (strictly).": dict(strict=False),
    }
    for hint, mistake in suspects.items():
        stop = scenarios.early_stop(val_losses, patience, **mistake)
        if stop.epochs == runs and (stop.early or runs == max_epochs):
            return hint
    if runs == max_epochs:
        return "patience was ignored: count the epochs without improvement and break when the count reaches patience."
    return ("keep best_loss and a counter: on val_loss < best_loss save the weights and reset the counter, else add 1; "
            "break when the counter reaches patience.")


@public(points=1.5)
def test_fit_early_stopping_patience(student):
    """with patience, fit stops after `patience` epochs in a row without a new best validation loss"""
    problem = scenarios.BUMPY
    run = run_fit(student, problem)
    losses = run.history["val_loss"]
    rule = scenarios.early_stop(losses, problem.patience)
    if rule.epochs == len(losses) and (rule.early or len(losses) == problem.epochs):
        return
    reference = scenarios.trace(problem).history["val_loss"]
    stop = scenarios.early_stop(reference, problem.patience)
    fail(f"{problem.describe()}: your run's validation losses were {rounded(losses)} and it ran {len(losses)} epochs; "
         f"with these losses the rule stops after epoch {rule.epochs} (the best is epoch {rule.best + 1}; then "
         f"{problem.patience} epochs without a lower loss). The reference's losses were {rounded(reference[:stop.epochs])}.",
         hint=stop_mistake(losses, problem.patience, len(losses), problem.epochs))


def check_restored(student, problem: scenarios.FitProblem) -> None:
    """After fit the model must hold its best epoch's weights: the grader measures them itself."""
    run = run_fit(student, problem)
    losses = run.history["val_loss"]
    if not losses:
        fail(f"{run.call} returned an empty history.", hint="run at least one epoch.")
    measured = validation_loss_of(run.state, problem)
    best = min(losses)
    trace = scenarios.trace(problem)
    reference_best = scenarios.early_stop(trace.history["val_loss"], problem.patience).best
    if np.isclose(measured, best, rtol=1e-4, atol=1e-6) or weights_match(run.state, trace.states[reference_best],
                                                                          rtol=1e-3, atol=1e-5):
        return
    best_epoch = int(np.argmin(losses)) + 1
    if np.isclose(measured, losses[-1], rtol=1e-4, atol=1e-6):
        what = f"the weights of the last epoch (epoch {len(losses)}, validation loss {losses[-1]:.4f})"
    else:
        what = f"weights with validation loss {measured:.4f}"
    fail(f"{problem.describe()}: validation losses {rounded(losses)}; afterwards the model holds {what}, not those of "
         f"its best epoch (epoch {best_epoch}, validation loss {best:.4f}).",
         hint="when an epoch improves, save a copy of the weights: best_state = copy.deepcopy(model.state_dict()) "
              "(model.state_dict() alone returns the live tensors, which keep training); after the loop, also when "
              "patience never triggered, call model.load_state_dict(best_state).")


@public(points=1.5)
def test_fit_restores_best_weights(student):
    """after early stopping, fit leaves the model with the weights of its best validation loss"""
    check_restored(student, scenarios.BUMPY)


# -- MNIST, timed -----------------------------------------------------------------------------------

@public(points=3)
def test_mnist_end_to_end(student, options):
    """your build_model and fit reach the target validation accuracy on MNIST in a time budget"""
    mnist_run.check(student, options)
