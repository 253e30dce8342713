"""The small, fixed training problems the checks use, and what the reference does on them.

Every problem is seeded, so the student's process and the grader's build the same weights
and batches, and every run of a check sees the same numbers. The reference's outcomes are
computed here in the grader's process (and cached: they never change), together with the
outcomes of the classic mistakes, so a failing check can say which mistake it saw.

The reference takes torch objects (models, loaders, optimizers) that the recorder of the
students' bundle cannot file, so every question to it goes through a function decorated with
`reference_question` whose arguments and answer are plain data (numbers, names, arrays, state
dicts as arrays): the bundle answers those from the recording (grader/course/oracle/).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch

from grader.checks.exercise7.remote import Layers, local_loader, local_model, state_arrays
from grader.checks.translated import _
from grader.course.oracle.question import reference_question
from reference.exercise7 import torch_training as ref

TRAIN_LAYERS: Layers = [("Linear", 6, 8), ("ReLU",), ("Linear", 8, 3)]
EVAL_LAYERS: Layers = [("Linear", 6, 8), ("BatchNorm1d", 8), ("ReLU",), ("Dropout", 0.5), ("Linear", 8, 3)]
"""Batch norm and dropout make eval mode visible in the numbers: in training mode they use
the batch's statistics and random masks instead."""
FIT_LAYERS: Layers = [("Linear", 5, 32), ("ReLU",), ("Linear", 32, 3)]

SMALL_ROWS, SMALL_BATCH = 10, 4
"""Ten rows in batches of 4, 4 and 2: a smaller last batch tells a per-sample mean from a
mean of batch means."""
SGD_LR = 0.5
EVAL_NUMBERS_SEED = 8


def blobs(seed: int, rows: int, features: int, classes: int, label_noise: float = 0.0):
    """Gaussian clusters around fixed centres; a fraction `label_noise` of labels redrawn."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(100).normal(size=(classes, features))
    t = rng.integers(0, classes, rows)
    x = centres[t] + rng.normal(size=(rows, features))
    noisy = rng.random(rows) < label_noise
    t = np.where(noisy, rng.integers(0, classes, rows), t)
    return x.astype(np.float32), t.astype(np.int64)


# -- train_one_epoch and evaluate -------------------------------------------------------------

@dataclass(frozen=True)
class SmallProblem:
    layers: Layers
    state: dict
    x: np.ndarray
    t: np.ndarray
    batch_size: int = SMALL_BATCH


@functools.lru_cache(maxsize=None)
def train_problem() -> SmallProblem:
    x, t = blobs(2, SMALL_ROWS, 6, 3)
    return SmallProblem(TRAIN_LAYERS, state_arrays(local_model(TRAIN_LAYERS, seed=11)), x, t)


@functools.lru_cache(maxsize=None)
def eval_problem() -> SmallProblem:
    x, t = blobs(8, SMALL_ROWS, 6, 3)
    state = state_arrays(local_model(EVAL_LAYERS, seed=12))
    rng = np.random.default_rng(13)  # running statistics far from the batch's own
    state["1.running_mean"] = rng.normal(size=8).astype(np.float32)
    state["1.running_var"] = rng.uniform(0.5, 3.0, size=8).astype(np.float32)
    return SmallProblem(EVAL_LAYERS, state, x, t)


def loaded(problem: SmallProblem) -> torch.nn.Module:
    model = local_model(problem.layers, seed=0)
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in problem.state.items()})
    return model


@dataclass(frozen=True)
class EpochOutcome:
    weights: dict
    mean_loss: float
    """The mean loss per sample (the right answer)."""
    mean_of_batch_losses: float
    """The mean over batches of each batch's mean loss (the classic mistake)."""


def sgd_epoch(problem: SmallProblem, *, lr: float = SGD_LR, zero_grad: bool = True) -> EpochOutcome:
    """One epoch of plain SGD; zero_grad=False is the mistake of letting gradients pile up."""
    model = loaded(problem)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    losses, sizes = [], []
    for x, t in local_loader(problem.x, problem.t, problem.batch_size):
        if zero_grad:
            optimizer.zero_grad()
        loss = loss_fn(model(x), t)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        sizes.append(len(t))
    return EpochOutcome(state_arrays(model), float(np.dot(losses, sizes) / sum(sizes)), float(np.mean(losses)))


def reference_epoch(lr: float = SGD_LR) -> EpochOutcome:
    """The reference's epoch of SGD(lr); with lr=0 every batch's loss is the initial model's,
    so the expected mean loss does not depend on how the student's loop updates weights."""
    answer = reference_epoch_answer(float(lr))
    return EpochOutcome(answer["weights"], answer["mean_loss"], answer["mean_of_batch_losses"])


@reference_question
@functools.lru_cache(maxsize=None)
def reference_epoch_answer(lr: float) -> dict:
    """reference_epoch as plain data: {"weights": state arrays, "mean_loss", "mean_of_batch_losses"}."""
    problem = train_problem()
    model = loaded(problem)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss = ref.train_one_epoch(model, local_loader(problem.x, problem.t, problem.batch_size), optimizer,
                               torch.nn.CrossEntropyLoss(), torch.device("cpu"))
    return {"weights": state_arrays(model), "mean_loss": float(loss),
            "mean_of_batch_losses": sgd_epoch(problem, lr=lr).mean_of_batch_losses}


@functools.lru_cache(maxsize=None)
def initial_batch_losses() -> tuple[tuple[float, int], ...]:
    """(mean loss, rows) of every batch of the training problem under its initial weights."""
    model = loaded(train_problem())
    problem = train_problem()
    with torch.no_grad():
        return tuple((torch.nn.functional.cross_entropy(model(x), t).item(), len(t))
                     for x, t in local_loader(problem.x, problem.t, problem.batch_size))


@functools.lru_cache(maxsize=None)
def accumulated_epoch() -> EpochOutcome:
    return sgd_epoch(train_problem(), zero_grad=False)


@functools.lru_cache(maxsize=None)
def plain_problem() -> SmallProblem:
    """The training problem's model (no dropout or batch norm) on other data, for evaluate's numbers."""
    x, t = blobs(EVAL_NUMBERS_SEED, SMALL_ROWS, 6, 3)
    return SmallProblem(TRAIN_LAYERS, train_problem().state, x, t)


@reference_question
@functools.lru_cache(maxsize=None)
def reference_evaluation(which: str) -> dict:
    """The reference's (loss, accuracy) on eval_problem() ("modes") or plain_problem() ("plain"),
    and the means over batches, the classic mistake, for the messages."""
    problem = {"modes": eval_problem, "plain": plain_problem}[which]()
    model = loaded(problem)
    loader = local_loader(problem.x, problem.t, problem.batch_size)
    loss, acc = ref.evaluate(model, loader, torch.nn.CrossEntropyLoss(), torch.device("cpu"))
    batch_losses, batch_accs = [], []
    with torch.no_grad():
        for x, t in loader:
            logits = model(x)
            batch_losses.append(torch.nn.functional.cross_entropy(logits, t).item())
            batch_accs.append((logits.argmax(1) == t).float().mean().item())
    return {"loss": float(loss), "accuracy": float(acc), "mean_of_batch_losses": float(np.mean(batch_losses)),
            "mean_of_batch_accuracies": float(np.mean(batch_accs))}


# -- fit ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FitProblem:
    """A run of fit: data, batch sizes (that divide the data, so the per-sample-mean mistake
    of train_one_epoch and evaluate cannot change fit's numbers), lr, epochs, patience."""
    name: str
    data_seed: int
    epochs: int
    lr: float
    patience: int | None
    optimizer: str = "Adam"
    """A torch.optim class name; other values only describe mistakes, for messages."""
    train_rows: int = 24
    val_rows: int = 30
    train_batch: int = 8
    val_batch: int = 10

    @functools.cached_property
    def arrays(self):
        x, t = blobs(self.data_seed, self.train_rows, 5, 3, label_noise=0.4)
        xv, tv = blobs(self.data_seed + 1000, self.val_rows, 5, 3)
        return x, t, xv, tv

    @functools.cached_property
    def state(self) -> dict:
        return state_arrays(local_model(FIT_LAYERS, seed=self.data_seed))

    def describe(self) -> str:
        x, xv = self.arrays[0], self.arrays[2]
        return _("{call} on {rows} training rows in batches of {batch} and {val_rows} validation rows in batches of "
                 "{val_batch}").format(call=f"fit(model, train_loader, val_loader, epochs={self.epochs}, lr={self.lr}, "
                                            f"device='cpu', patience={self.patience})",
                                       rows=len(x), batch=self.train_batch, val_rows=len(xv), val_batch=self.val_batch)


SMOOTH = FitProblem("smooth", data_seed=4, epochs=3, lr=0.05, patience=None)
"""Validation loss falls every epoch: the last epoch is the best, so restoring cannot matter."""
BUMPY = FitProblem("bumpy", data_seed=9, epochs=8, lr=0.05, patience=2)
"""Validation losses ≈ 1.21, 0.985 (best), 1.032, 0.990, 0.972 (new best), 0.979, 1.10, 1.25: with
patience 2 the run stops after epoch 4; epoch 4 is worse than the best but better than epoch 3,
so comparing with the previous epoch instead of the best runs on."""
BUMPY_NO_PATIENCE = FitProblem("bumpy-all-epochs", data_seed=9, epochs=8, lr=0.05, patience=None)
FROZEN = FitProblem("frozen", data_seed=4, epochs=6, lr=0.0, patience=2)
"""lr=0: every epoch's validation loss is exactly the first one's, so no epoch after the
first improves (improvement is strictly below the best)."""


@dataclass(frozen=True)
class FitTrace:
    history: dict
    """Every epoch's train_loss / val_loss / val_acc, as if patience were None."""
    states: list
    """The weights after each epoch."""


def trace(problem: FitProblem) -> FitTrace:
    """The reference's epochs, all of them, keeping each epoch's weights (patience plays no part)."""
    answer = trace_answer(problem.data_seed, problem.epochs, float(problem.lr), problem.optimizer, problem.train_rows,
                          problem.val_rows, problem.train_batch, problem.val_batch)
    return FitTrace(answer["history"], answer["states"])


@reference_question
@functools.lru_cache(maxsize=None)
def trace_answer(data_seed: int, epochs: int, lr: float, optimizer: str, train_rows: int, val_rows: int,
                 train_batch: int, val_batch: int) -> dict:
    """trace as plain data (the problem's fields in, {"history": ..., "states": [...]} out)."""
    problem = FitProblem("", data_seed, epochs, lr, None, optimizer, train_rows, val_rows, train_batch, val_batch)
    x, t, xv, tv = problem.arrays
    model = local_model(FIT_LAYERS, seed=0)
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in problem.state.items()})
    optimizer = getattr(torch.optim, problem.optimizer)(model.parameters(), lr=problem.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    train_loader, val_loader = local_loader(x, t, problem.train_batch), local_loader(xv, tv, problem.val_batch)
    history = {"train_loss": [], "val_loss": [], "val_acc": []}
    states = []
    for _epoch in range(problem.epochs):
        history["train_loss"].append(float(ref.train_one_epoch(model, train_loader, optimizer, loss_fn, "cpu")))
        loss, acc = ref.evaluate(model, val_loader, loss_fn, "cpu")
        history["val_loss"].append(float(loss))
        history["val_acc"].append(float(acc))
        states.append(state_arrays(model))
    return {"history": history, "states": states}


def grader_evaluate(model: torch.nn.Module, loader) -> tuple[float, float]:
    """The grader's own (mean loss per sample, accuracy) of a model on a loader: the contract's
    evaluate, computed here so that measuring a student's weights needs no reference."""
    model.eval()
    total, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for x, t in loader:
            logits = model(x)
            total += torch.nn.functional.cross_entropy(logits, t).item() * len(t)
            correct += (logits.argmax(dim=1) == t).sum().item()
            count += len(t)
    return total / count, correct / count


@dataclass(frozen=True)
class Stop:
    epochs: int
    """How many epochs run."""
    best: int
    """0-based index of the epoch with the best validation loss among those run."""
    early: bool
    """True when patience ended the run (rather than running out of epochs)."""


def early_stop(val_losses: list[float], patience: int | None, *, strict: bool = True,
               against_previous: bool = False, extra_wait: int = 0, reset: bool = True,
               min_delta: float = 0.0) -> Stop:
    """What the early-stopping rule does with these validation losses.

    The keyword arguments describe the classic mistakes, to name them in messages:
    strict=False counts a tie as an improvement, against_previous compares with the previous
    epoch instead of the best, extra_wait=±1 is patience off by one, reset=False never resets
    the count of epochs without improvement, min_delta > 0 asks an improvement to beat the best
    by that much. `best` is the epoch whose weights that rule keeps (the last one it counted
    as an improvement).
    """
    best, best_index, waited, previous = float("inf"), -1, 0, float("inf")
    for epoch, loss in enumerate(val_losses):
        target = (previous if against_previous else best) - min_delta
        improved = loss < target if strict else loss <= target
        if improved if min_delta else loss < best:
            best, best_index = loss, epoch
        waited = (0 if reset else waited) if improved else waited + 1
        previous = loss
        if patience is not None and waited >= max(patience + extra_wait, 1):
            return Stop(epoch + 1, best_index, True)
    return Stop(len(val_losses), best_index, False)
