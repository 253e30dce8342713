"""What exercise 7's checks share: reading the student's results, comparing weights, and
running the student's fit on one of the fixed problems of scenarios.py."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from grader.checks.api import as_float, fail, show
from grader.checks.exercise7 import scenarios
from grader.checks.exercise7.remote import Remote, local_loader, local_model
from reference.exercise7 import torch_training as ref

HISTORY_KEYS = ("train_loss", "val_loss", "val_acc")
WEIGHT_RTOL, WEIGHT_ATOL = 1e-4, 1e-6
"""float32 weights after a few identical steps agree to rounding (~1e-7); 1e-4 leaves room for
sums taken in another order."""
HISTORY_RTOL, HISTORY_ATOL = 1e-3, 1e-5
"""A few epochs of Adam amplify rounding differences a little; real mistakes move the numbers
by percent."""


def as_pair(value, *, call: str) -> tuple[float, float]:
    """evaluate's (loss, accuracy): a tuple or list of two numbers (tensors arrive as 0-d arrays)."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        fail(f"{call} returned {show(value, 120)}; expected a tuple (mean_loss_per_sample, accuracy).",
             hint="end evaluate with `return total_loss / n, correct / n`.", call=call)
    return (as_float(value[0], call=f"{call}[0] (the loss)"), as_float(value[1], call=f"{call}[1] (the accuracy)"))


def read_history(value, *, call: str) -> dict[str, list[float]]:
    """fit's history: a dict of three equally long sequences of numbers."""
    hint = 'return {"train_loss": [...], "val_loss": [...], "val_acc": [...]}, one float per epoch.'
    if not isinstance(value, dict):
        fail(f"{call} returned {show(value, 120)}; expected a dict with the keys {', '.join(HISTORY_KEYS)}.",
             hint=hint, call=call)
    missing = [k for k in HISTORY_KEYS if k not in value]
    if missing:
        fail(f"{call} returned a dict without {', '.join(map(repr, missing))} (its keys: {sorted(map(str, value))}).",
             hint=hint, call=call)
    history = {}
    for key in HISTORY_KEYS:
        seq = value[key]
        if isinstance(seq, np.ndarray) and seq.ndim == 1:
            seq = list(seq)
        if not isinstance(seq, (list, tuple)):
            fail(f"{call}[{key!r}] is {show(seq, 80)}; expected a list with one number per epoch.", hint=hint, call=call)
        history[key] = [as_float(v, call=f"{call}[{key!r}][{i}]") for i, v in enumerate(seq)]
    lengths = {k: len(v) for k, v in history.items()}
    if len(set(lengths.values())) != 1:
        fail(f"{call} returned lists of different lengths {lengths}; each needs one entry per epoch run.",
             hint="append to all three lists once per epoch, after evaluating.", call=call)
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
    return (f"{worst}[{', '.join(map(str, index))}] is {float(np.asarray(got[worst])[index]):.6g}, "
            f"expected {float(expected[worst][index]):.6g}")


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
    return FitRun(read_history(value, call=call), remote.read_state(model), call)


def validation_loss_of(state: dict, problem: scenarios.FitProblem) -> float:
    """The grader's own measurement of weights on the problem's validation data."""
    model = local_model(scenarios.FIT_LAYERS, seed=0)
    model.load_state_dict({k: torch.from_numpy(np.asarray(v, np.float32).copy()) for k, v in state.items()})
    _, _, xv, tv = problem.arrays
    loss, _ = ref.evaluate(model, local_loader(xv, tv, problem.val_batch), torch.nn.CrossEntropyLoss(), "cpu")
    return float(loss)

