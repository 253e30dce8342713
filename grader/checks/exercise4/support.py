"""What the checks of exercise 4 share: the student's `train_network` run on a RecordingNetwork
(recording.py) and checked rule by rule against SPEC.md, and the pieces of the timed MNIST run.

Each `expect_*` function reads the call log of one run and fails with a message that says
the call used, what was expected, what happened, and the likely mistake. They are shared by
the public and the hidden checks, which differ only in the scenarios they run.
"""

from __future__ import annotations

import time
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader.checks.api import attach, could_not_run, fail, limit_time, show
from grader.checks.translated import N_, _, ngettext
from grader.checks.gradcheck import ratio_if_uniform
from grader.mnist import MnistError, load_mnist
from grader.sandbox.errors import StudentRaised, StudentTimeout

from grader.checks.exercise4 import endtoend as e2e
from grader.checks.exercise4.recording import KEYS, Call, RecordingNetwork, make_data

UPDATE_RTOL, UPDATE_ATOL = 1e-9, 1e-12
"""Parameters must equal `params - learning_rate * grads` to float64 rounding: every correct
way of writing the update (-=, reassignment, a loop over any key order) stays far inside."""
HISTORY_KEYS = ("train_loss", "train_acc", "test_acc")
DEFAULT_LR = 0.1


@dataclass(frozen=True)
class Scenario:
    train_size: int = 50
    batch_size: int = 10
    iters_num: int = 12
    learning_rate: float = 0.25
    seed: int | None = 3
    test_scale: float = 1.0
    value_offset: int = 0
    labels: bool = False
    """Integer-label targets of shape (N,) instead of one-hot-like rows (recording.make_data)."""

    @property
    def iter_per_epoch(self) -> int:
        return max(self.train_size // self.batch_size, 1)

    @property
    def accuracy_iterations(self) -> list[int]:
        return [i for i in range(self.iters_num) if i % self.iter_per_epoch == 0]

    def call_text(self) -> str:
        seed = "" if self.seed is None else f", seed={self.seed}"
        t_train = (_("t_train (labels of shape ({size},))").format(size=self.train_size) if self.labels
                   else "t_train")
        rows = ngettext("{n} row", "{n} rows", self.train_size).format(n=self.train_size)
        return (f"train_network(network, x_train ({rows}), {t_train}, x_test, t_test, "
                f"iters_num={self.iters_num}, batch_size={self.batch_size}, "
                f"learning_rate={self.learning_rate:g}{seed})")


@dataclass
class Run:
    scenario: Scenario
    network: RecordingNetwork
    history: Any
    histories: dict[str, list[float]] = field(default_factory=dict)

    @property
    def gradient_calls(self) -> list[Call]:
        return self.network.of("gradient")


def run(student, scenario: Scenario) -> Run:
    """Call the student's train_network once on a fresh recording network."""
    data = make_data(scenario.train_size, test_scale=scenario.test_scale, labels=scenario.labels)
    network = RecordingNetwork(data, value_offset=scenario.value_offset)
    kwargs = dict(iters_num=scenario.iters_num, batch_size=scenario.batch_size,
                  learning_rate=scenario.learning_rate)
    if scenario.seed is not None:
        kwargs["seed"] = scenario.seed
    try:
        history = student.train_network(network, data.x_train, data.t_train, data.x_test, data.t_test, **kwargs)
    except StudentRaised as exc:
        explain_raised(exc, scenario.call_text())
        raise
    return Run(scenario, network, history)


def explain_raised(exc: StudentRaised, call: str) -> None:
    """Fail with a specific hint for the exceptions whose cause is clear; else return."""
    if "object has no attribute" in exc.text and "RecordingNetwork" in exc.text:
        name = exc.text.rsplit("attribute", 1)[-1].strip(" '\"")
        fail(_("{call} used `network.{name}`, which the network passed to train_network does not have: "
               "only params, gradient, loss and accuracy may be used.").format(call=call, name=name),
             hint=_("use grads = network.gradient(x_batch, t_batch) (backpropagation); "
                    "numerical_gradient is far too slow for training and not part of the interface."), call=call)
    if exc.type_name == "TypeError" and "argument" in exc.text:
        fail(_("{call} raised TypeError: {text}.").format(call=call, text=exc.text),
             hint=_("keep the handout's signature: train_network(network, x_train, t_train, x_test, t_test, "
                    "iters_num=10000, batch_size=100, learning_rate=0.1, seed=None); the grader passes "
                    "iters_num, batch_size, learning_rate and seed by name."), call=call)


# -- the returned dict ------------------------------------------------------------------------
def expect_histories(r: Run) -> dict[str, list[float]]:
    """The returned dict as three lists of floats (lists, tuples or 1-D arrays accepted)."""
    call, h = r.scenario.call_text(), r.history
    shape_hint = 'return {"train_loss": train_loss_list, "train_acc": train_acc_list, "test_acc": test_acc_list}'
    if h is None:
        fail(_("{call} returned None; expected a dict with the lists 'train_loss', 'train_acc' and "
               "'test_acc'.").format(call=call),
             hint=_("end train_network with `{code}`.").format(code=shape_hint), call=call)
    if not isinstance(h, dict):
        fail(_("{call} returned {kind} {value}; expected a dict of three lists.").format(
                 call=call, kind=type(h).__name__, value=show(h, 80)), hint=shape_hint, call=call)
    missing = [k for k in HISTORY_KEYS if k not in h]
    if missing:
        has = ", ".join(map(repr, h))
        rationale = (_("the dict returned by {call} lacks {missing}; it has {keys}.") if has else
                     _("the dict returned by {call} lacks {missing}; it has no keys."))
        fail(rationale.format(call=call, missing=", ".join(map(repr, missing)), keys=has),
             hint=_("use exactly these keys: {code}").format(code=shape_hint), call=call)
    out = {key: _floats(h[key]) for key in HISTORY_KEYS}
    for key, values in out.items():
        if values is None:
            fail(_("history[{key}] returned by {call} is {value}; expected a list of floats.").format(
                     key=repr(key), call=call, value=show(h[key], 100)),
                 hint=_("append one float per entry, e.g. train_loss_list.append(float(loss))."), call=call)
    r.histories = out
    return out


def _floats(value: Any) -> list[float] | None:
    """A list, tuple or 1-D array of numbers (each a float, numpy scalar or size-1 array)."""
    if isinstance(value, np.ndarray):
        value = list(value) if value.ndim == 1 else None
    if not isinstance(value, (list, tuple)):
        return None
    out = []
    for item in value:
        try:
            arr = np.asarray(item, dtype=float)
        except (TypeError, ValueError):
            return None
        if arr.size != 1:
            return None
        out.append(float(arr.reshape(())))
    return out


# -- mini-batches -----------------------------------------------------------------------------
def expect_batches(r: Run) -> None:
    s, calls, call = r.scenario, r.gradient_calls, r.scenario.call_text()
    if len(calls) != s.iters_num:
        fail(_("{call} called network.gradient {count} times; expected once per iteration, {iters} times.").format(
                 call=call, count=len(calls), iters=s.iters_num),
             hint=_("each iteration computes grads = network.gradient(x_batch, t_batch) exactly once."), call=call)
    for i, c in enumerate(calls):
        _expect_batch(s, i, c, call)
    batches = [tuple(c.row_numbers()) for c in calls]
    if s.iters_num > 1 and len(set(batches)) == 1:
        fail(_("{call} passed the same rows {rows} to network.gradient in all {iters} iterations; expected a new "
               "random batch each iteration.").format(call=call, rows=list(batches[0]), iters=s.iters_num),
             hint=_("draw batch_mask inside the loop, not once before it."), call=call)
    if all(b == tuple((i * s.batch_size + k) % s.train_size for k in range(s.batch_size))
           for i, b in enumerate(batches)):
        fail(_("{call} used consecutive slices of x_train in order (rows 0-{last}, {size}-{next_last}, ...); "
               "expected {size} random rows each iteration.").format(
                 call=call, last=s.batch_size - 1, size=s.batch_size, next_last=2 * s.batch_size - 1),
             hint=_("pick random indices, e.g. batch_mask = np.random.choice(train_size, batch_size), "
                    "or slice a new random permutation each epoch."), call=call)


def _expect_batch(s: Scenario, i: int, c: Call, call: str) -> None:
    if "test" in c.sets:
        fail(_("{call}: in iteration {i}, network.gradient got rows of the test set (x_test). Test data must never "
               "influence the parameters.").format(call=call, i=i),
             hint=_("draw every batch from x_train/t_train only; use x_test/t_test only in network.accuracy."),
             call=call)
    if "unknown" in c.sets:
        fail(_("{call}: in iteration {i}, network.gradient got rows that are not rows of x_train (changed, "
               "reordered within a row, or of a different shape).").format(call=call, i=i),
             hint=_("pass the selected rows unchanged: x_batch = x_train[batch_mask]."), call=call)
    n = len(c.rows)
    if n == s.train_size and n != s.batch_size and sorted(c.row_numbers()) == list(range(s.train_size)):
        fail(_("{call}: in iteration {i}, network.gradient got all {n} training rows; expected a mini-batch of "
               "batch_size={size} random rows.").format(call=call, i=i, n=n, size=s.batch_size),
             hint=_("select batch_mask = np.random.choice(train_size, batch_size) each iteration and pass "
                    "x_train[batch_mask], t_train[batch_mask]."), call=call)
    if n != s.batch_size:
        fail(_("{call}: in iteration {i}, network.gradient got {n} rows; expected batch_size={size}.").format(
                 call=call, i=i, n=n, size=s.batch_size),
             hint=_("every batch holds exactly batch_size rows (SPEC.md); with a shuffled order, "
                    "start a new permutation when fewer than batch_size rows are left."), call=call)
    if not c.targets_match:
        fail(_("{call}: in iteration {i}, network.gradient got target rows t_batch that do not belong to its rows "
               "x_batch.").format(call=call, i=i),
             hint=_("index x_train and t_train with the same indices: x_train[batch_mask], t_train[batch_mask]."),
             call=call)


# -- the update -------------------------------------------------------------------------------
def expect_updates(r: Run) -> None:
    s, calls, call = r.scenario, r.gradient_calls, r.scenario.call_text()
    if len(calls) < 2:
        fail(_("{call} called network.gradient {count} times; the update cannot be checked.").format(
                 call=call, count=len(calls)),
             hint=_("each iteration computes grads = network.gradient(x_batch, t_batch)."), call=call)
    for i in range(len(calls) - 1):
        before, after, grads = calls[i].params, calls[i + 1].params, calls[i].returned
        missing = [k for k in KEYS if k not in after]
        if missing:
            fail(_("{call}: after iteration {i}, network.params lacks {missing}.").format(
                     call=call, i=i, missing=", ".join(missing)),
                 hint=_("update the entries of network.params; keep all four keys."), call=call)
        wrong = [k for k in KEYS if not _updated(before[k], after[k], grads[k], s.learning_rate)]
        if wrong:
            _explain_update(s, i, before, after, grads, wrong, call)


def _updated(before, after, grad, lr) -> bool:
    after = np.asarray(after, dtype=float)
    return after.shape == before.shape and np.allclose(after, before - lr * grad,
                                                       rtol=UPDATE_RTOL, atol=UPDATE_ATOL)


def _flat(values: np.ndarray) -> str:
    """The first few values on one line, for a message."""
    head = ", ".join(f"{v:.6g}" for v in values.ravel()[:4])
    return _("[{values}] (shape {shape})").format(values=head + (", ..." if values.size > 4 else ""),
                                                 shape=values.shape)


def _explain_update(s: Scenario, i: int, before, after, grads, wrong: list[str], call: str) -> None:
    lr = s.learning_rate
    rule = f"params[key] -= learning_rate * grads[key] with learning_rate={lr:g}"
    unchanged = [k for k in KEYS if np.shape(after[k]) == before[k].shape and np.array_equal(after[k], before[k])]
    if len(unchanged) == len(KEYS):
        fail(_("{call}: network.params did not change in iteration {i}; expected {rule}.").format(
                 call=call, i=i, rule=rule),
             hint=_("update network.params itself (in place, or by assigning network.params[key] = ...); "
                    "changing a copy of the dict or of its arrays leaves the network as it was."), call=call)
    if unchanged:
        fail(_("{call}: {unchanged} did not change in iteration {i}, while {changed} did; expected {rule} for every "
               "key.").format(call=call, unchanged=", ".join(unchanged), i=i,
                              changed=", ".join(k for k in KEYS if k not in unchanged), rule=rule),
             hint=_("loop over all four keys ('W1', 'b1', 'W2', 'b2')."), call=call)
    key = wrong[0]
    if np.shape(after[key]) != before[key].shape:
        fail(_("{call}: after iteration {i}, network.params[{key}] has shape {shape}; expected {expected}.").format(
                 call=call, i=i, key=repr(key), shape=np.shape(after[key]), expected=before[key].shape),
             hint=_("the update must keep each array's shape."), call=call)
    step = before[key] - np.asarray(after[key], dtype=float)
    factor = ratio_if_uniform(step, grads[key])
    expected = before[key] - lr * grads[key]
    detail = _("expected {rule}, i.e. {expected}, got {got}").format(
        rule=rule, expected=_flat(expected), got=_flat(np.asarray(after[key], dtype=float)))
    if factor is not None and np.isclose(factor, -lr):
        fail(_("{call}: in iteration {i} {key} moved by +learning_rate * grad, uphill; {detail}.").format(
                 call=call, i=i, key=key, detail=detail),
             hint=_("gradient descent subtracts: params[key] -= learning_rate * grads[key]."), call=call)
    if factor is not None and np.isclose(factor, 1.0) and not np.isclose(lr, 1.0):
        fail(_("{call}: in iteration {i} {key} moved by the whole gradient, without learning_rate; "
               "{detail}.").format(call=call, i=i, key=key, detail=detail),
             hint=_("multiply the gradient by learning_rate before subtracting it."), call=call)
    if factor is not None and np.isclose(factor, DEFAULT_LR) and not np.isclose(lr, DEFAULT_LR):
        fail(_("{call}: in iteration {i} {key} moved by 0.1 * grad although learning_rate={lr} was passed; "
               "{detail}.").format(call=call, i=i, key=key, lr=f"{lr:g}", detail=detail),
             hint=_("use the learning_rate argument, not a fixed 0.1."), call=call)
    if factor is not None:
        fail(_("{call}: in iteration {i} {key} moved by {factor} * grad; {detail}.").format(
                 call=call, i=i, key=key, factor=f"{factor:.4g}", detail=detail),
             hint=_("the step is exactly learning_rate * grads[key], nothing else (no extra scaling)."),
             call=call)
    fail(_("{call}: in iteration {i} {key} was not updated as expected: {detail}.").format(
             call=call, i=i, key=key, detail=detail),
         hint=_("subtract learning_rate * grads[key] of this iteration's gradient, once per iteration."),
         call=call)


# -- the loss history -------------------------------------------------------------------------
def expect_losses(r: Run) -> None:
    s, calls, call = r.scenario, r.gradient_calls, r.scenario.call_text()
    losses = expect_histories(r)["train_loss"]
    if len(losses) != s.iters_num:
        per_epoch = len(losses) == len(s.accuracy_iterations) and len(losses) != s.iters_num
        fail(_("{call} returned {count} entries in train_loss; expected {iters}, one per iteration.").format(
                 call=call, count=len(losses), iters=s.iters_num)
             + (" " + _("It looks like one per epoch.") if per_epoch else ""),
             hint=_("append network.loss(x_batch, t_batch) in every iteration, after the update."), call=call)
    for j, value in enumerate(losses):
        c = r.network.find_value(value)
        if c is None or c.method != "loss":
            if c is not None:
                rationale = _("{call}: train_loss[{j}] = {value} is a value of network.accuracy; expected the loss "
                              "network.loss(x_batch, t_batch) of iteration {j}.")
            else:
                rationale = _("{call}: train_loss[{j}] = {value} is not a value network.loss returned; expected the "
                              "loss network.loss(x_batch, t_batch) of iteration {j}.")
            fail(rationale.format(call=call, j=j, value=f"{value:g}"),
                 hint=_("append exactly what network.loss returns (as a float) once per iteration."), call=call)
        if j < len(calls) and c.row_numbers() != calls[j].row_numbers():
            on = (_("the full training set") if c.sets == {"train"} and len(c.rows) == s.train_size
                  else _("the test set") if "test" in c.sets else _("rows that are not this iteration's batch"))
            fail(_("{call}: train_loss[{j}] was computed on {on}; expected on iteration {j}'s mini-batch "
                   "(the rows passed to network.gradient).").format(call=call, j=j, on=on),
                 hint=_("compute loss = network.loss(x_batch, t_batch) with the same batch as the gradient."),
                 call=call)
        if _changed_by_update(r, j) and _same_params(c.params, calls[j].params):
            fail(_("{call}: train_loss[{j}] was computed before iteration {j}'s update; expected after it.").format(
                     call=call, j=j),
                 hint=_("call network.loss(x_batch, t_batch) after updating network.params."), call=call)
        if c.iteration != j:
            fail(_("{call}: train_loss[{j}] was computed in iteration {iteration}; expected in iteration "
                   "{j}.").format(call=call, j=j, iteration=c.iteration),
                 hint=_("append one loss per iteration, after that iteration's update."), call=call)


def _changed_by_update(r: Run, i: int) -> bool:
    """Whether iteration i's update visibly changed the params (else "before the update" is
    undecidable, and the update check already names the mistake)."""
    calls = r.gradient_calls
    return 0 <= i < len(calls) - 1 and not _same_params(calls[i + 1].params, calls[i].params)


def _same_params(a: dict, b: dict) -> bool:
    return all(k in a and np.shape(a[k]) == np.shape(b[k]) and np.array_equal(a[k], b[k]) for k in b)


# -- the accuracy histories -------------------------------------------------------------------
def expect_accuracies(r: Run) -> None:
    call = r.scenario.call_text()
    histories = expect_histories(r)
    data = r.network.data
    for name, side, other in (("train_acc", "train", "test"), ("test_acc", "test", "train")):
        size = {"train": data.train_size, "test": len(data.x_test)}
        for k, value in enumerate(histories[name]):
            c = r.network.find_value(value)
            if c is None or c.method != "accuracy":
                fail(_("{call}: {name}[{k}] = {value} is not a value network.accuracy returned.").format(
                         call=call, name=name, k=k, value=f"{value:g}"),
                     hint=_("append network.accuracy(x_{side}, t_{side}) as it is returned.").format(side=side),
                     call=call)
            if c.sets == {other} and len(c.rows) == size[other]:
                fail(_("{call}: {name}[{k}] is the accuracy on the {other} set; expected on the {side} set "
                       "(train_acc and test_acc swapped?).").format(call=call, name=name, k=k, other=other,
                                                                    side=side),
                     hint=_("{name} gets network.accuracy(x_{side}, t_{side}).").format(name=name, side=side),
                     call=call)
            if "unknown" in c.sets:
                fail(_("{call}: {name}[{k}] was computed on rows that are not the rows of x_{side} as given "
                       "(changed or normalized?).").format(call=call, name=name, k=k, side=side),
                     hint=_("pass x_{side} and t_{side} to network.accuracy unchanged.").format(side=side),
                     call=call)
            if c.sets != {side} or sorted(c.row_numbers()) != list(range(size[side])):
                fail(_("{call}: {name}[{k}] was computed on {n} rows that are not the full {side} set; expected "
                       "network.accuracy on all of x_{side}.").format(call=call, name=name, k=k, n=len(c.rows),
                                                                      side=side),
                     hint=_("pass the whole x_{side}, t_{side} to network.accuracy, not a mini-batch.").format(
                         side=side),
                     call=call)
        _expect_epoch_iterations(r, name, [r.network.find_value(v) for v in histories[name]], call)


def _expect_epoch_iterations(r: Run, name: str, calls: list[Call], call: str) -> None:
    s = r.scenario
    got = [c.iteration for c in calls]
    expected = s.accuracy_iterations
    rule = _("once per epoch, at the iterations i with i % iter_per_epoch == 0, where iter_per_epoch = "
             "max({train} // {batch}, 1) = {per_epoch}: {expected}").format(
        train=s.train_size, batch=s.batch_size, per_epoch=s.iter_per_epoch, expected=expected)
    if got != expected:
        float_epoch = max(s.train_size / s.batch_size, 1)
        if len(got) == s.iters_num and len(expected) != s.iters_num:
            why, hint = _("at every iteration"), _("compute the accuracies only when i % iter_per_epoch == 0.")
        elif got == [i for i in range(s.iters_num) if (i + 1) % s.iter_per_epoch == 0]:
            why, hint = (_("at the end of each epoch"), _("test i % iter_per_epoch == 0 (iteration 0 included), "
                                                          "not (i + 1) % iter_per_epoch == 0."))
        elif float_epoch != s.iter_per_epoch and got == [i for i in range(s.iters_num) if i % float_epoch == 0]:
            why, hint = (_("with an epoch of {length} iterations").format(length=f"{float_epoch:g}"),
                         _("use integer division: iter_per_epoch = max(len(x_train) // batch_size, 1); "
                           "with / the epoch length is fractional when batch_size does not divide the "
                           "training set size, and i % iter_per_epoch is rarely 0."))
        else:
            why, hint = (_("at iterations {iterations}").format(iterations=got),
                         _("record both accuracies once per epoch, right after that iteration's update."))
        fail(_("{call}: {name} was recorded {why}; expected {rule}.").format(call=call, name=name, why=why, rule=rule),
             hint=hint, call=call)
    grads = r.gradient_calls
    for k, c in enumerate(calls):
        if _changed_by_update(r, c.iteration) and _same_params(c.params, grads[c.iteration].params):
            fail(_("{call}: {name}[{k}] was computed before iteration {iteration}'s update; expected after "
                   "it.").format(call=call, name=name, k=k, iteration=c.iteration),
                 hint=_("compute the accuracies after updating network.params."), call=call)


# -- runs compared ------------------------------------------------------------------------------
def first_batch_difference(a: Run, b: Run) -> int | None:
    rows_a = [c.row_numbers() for c in a.gradient_calls]
    rows_b = [c.row_numbers() for c in b.gradient_calls]
    for i, (x, y) in enumerate(zip(rows_a, rows_b)):
        if x != y:
            return i
    return None if len(rows_a) == len(rows_b) else min(len(rows_a), len(rows_b))


def expect_reproducible(a: Run, b: Run) -> None:
    i = first_batch_difference(a, b)
    if i is not None:
        s = a.scenario
        got_a = a.gradient_calls[i].row_numbers() if i < len(a.gradient_calls) else "none"
        got_b = b.gradient_calls[i].row_numbers() if i < len(b.gradient_calls) else "none"
        fail(_("two calls of {call} drew different batches: in iteration {i}, rows {first} the first time and "
               "{second} the second. The same seed must give the same batches.").format(
                 call=s.call_text(), i=i, first=got_a, second=got_b),
             hint=(_("seed=0 is a seed too: test `if seed is not None:`, not `if seed:`.") if s.seed == 0 else
                   _("use the seed argument: rng = np.random.default_rng(seed) at the start of train_network "
                     "(draw every batch from rng), or np.random.seed(seed) there.")), call=s.call_text())


def first_param_difference(a: Run, b: Run) -> int | None:
    for i, (x, y) in enumerate(zip(a.gradient_calls, b.gradient_calls)):
        if not _same_params(x.params, y.params):
            return i
    return None


# -- the timed MNIST run (endtoend.py holds its settings, data and timing) ------------------------
SLOW_HINT = N_("compute the accuracies only once per epoch, use network.gradient (backpropagation, not "
                "numerical_gradient), and avoid copying or shuffling the whole training set in every iteration.")


def prepared_mnist(data_dir: Path | None) -> e2e.Prepared:
    """The MNIST split the timed run uses (data_dir: --data-dir); a missing data set blames the
    machine, not the student."""
    try:
        return e2e.Prepared.from_mnist(load_mnist(data_dir))
    except MnistError as exc:
        could_not_run(_("the grader could not load MNIST, so this check could not run: {error}").format(error=exc),
                      hint=_("this is about the grading machine, not your code: download the MNIST files as the "
                             "message says, or pass --data-dir with the folder that holds them."))


def time_student_training(student, data: e2e.Prepared, ref_seconds: float):
    """(seconds, returned history, final params) of the student's train_network in the sandbox;
    a run far over the time limit is stopped at e2e.hard_deadline and fails for its time."""
    module = student.import_module("exercises.exercise3.two_layer_net")
    network = module.TwoLayerNet(784, e2e.HIDDEN, 10)
    params = network.ref("params")
    for key, value in e2e.initial_params().items():
        params[key] = value
    arrays = [student.keep(a) for a in (data.x_train, data.t_train, data.x_test, data.t_test)]
    deadline = e2e.hard_deadline(ref_seconds)
    limit_time(student, deadline)
    start = time.perf_counter()
    try:
        history = student.train_network(network, *arrays, iters_num=e2e.ITERS, batch_size=e2e.BATCH,
                                        learning_rate=e2e.LEARNING_RATE, seed=e2e.SEED)
    except StudentRaised as exc:
        explain_raised(exc, data.settings_text())
        raise
    except StudentTimeout:
        fail(_("{run} was stopped after {seconds} s; the reference took {reference} s on this machine, and at most "
               "{limit} s ({factor} x + {slack} s) is allowed.").format(
                 run=data.settings_text(), seconds=f"{deadline:.1f}", reference=f"{ref_seconds:.2f}",
                 limit=f"{e2e.time_limit(ref_seconds):.2f}", factor=f"{e2e.TIME_FACTOR:g}",
                 slack=f"{e2e.TIME_SLACK_S:g}"), hint=_(SLOW_HINT), settings=data.settings_text())
    seconds = time.perf_counter() - start
    return seconds, history, network.params


def accuracy_from_params(params, data: e2e.Prepared) -> float:
    """Test accuracy of the final params by the grader's own forward pass, so it cannot be faked."""
    shapes = {"W1": (784, e2e.HIDDEN), "b1": (e2e.HIDDEN,), "W2": (e2e.HIDDEN, 10), "b2": (10,)}
    if not isinstance(params, dict) or any(getattr(params.get(k), "shape", None) != s for k, s in shapes.items()):
        fail(_("after {run}, network.params is not the dict of W1 {shape}, b1, W2, b2 it was at the start.").format(
                 run=data.settings_text(), shape=shapes["W1"]),
             hint=_("update the arrays of network.params; keep its keys and shapes."))
    return e2e.accuracy(params, data.x_test, data.labels_test)


def attach_mnist_report(history, seconds, ref_seconds, ref_accuracy, test_accuracy) -> None:
    """Curves, times and accuracies for the report, whatever the check's verdict."""
    curves = {}
    if isinstance(history, dict):
        for key in ("train_loss", "train_acc", "test_acc"):
            try:
                curves[key] = [float(v) for v in history.get(key, [])]
            except (TypeError, ValueError):
                pass
    attach(curves=curves, seconds=round(seconds, 3), reference_seconds=round(ref_seconds, 3),
           time_ratio=round(seconds / ref_seconds, 2), time_limit_seconds=round(e2e.time_limit(ref_seconds), 3),
           test_accuracy=round(test_accuracy, 4), reference_test_accuracy=round(ref_accuracy, 4),
           min_test_accuracy=round(e2e.required_accuracy(ref_accuracy), 4))
