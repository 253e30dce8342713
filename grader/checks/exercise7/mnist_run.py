"""The timed end-to-end check: the student's build_model() trained by the student's fit on MNIST.

- Data: grader.mnist.load_mnist (the official split, or the fixed 8,000/2,000 split of the
  test set on machines that only have it), at most TRAIN_LIMIT training rows so grading stays
  quick when the full set is present, standardized per pixel with the training rows' mean and
  a floored standard deviation (standardize): the run's curves are on one scale.
- The loaders are built here, inside the student's process, from torch's own classes, and
  torch is seeded there first, so the run is the same every time.
- Device: CUDA when --device (options.device) allows it AND a tensor can actually be put on
  the GPU inside the sandbox (bubblewrap may hide the GPU, a memory limit may stop CUDA from
  starting); otherwise the CPU. The reference always runs on the same device as the student,
  with the same number of CPU threads, right after the student, so the times compare. A
  grading process keeps the reference's run for its later students and times it again
  whenever a student's run would otherwise fail on time.
- The accuracy is never taken from the student's history: the trained weights are copied
  out of the student's process and measured here, by the grader's own evaluation of the
  contract's architecture (scenarios.grader_evaluate).
- In the students' bundle (and while release records it) `reference.*` is a stand-in whose
  answers take no time, so the run cannot be timed against the reference: there the check
  judges the accuracy only, against the reference's accuracy recorded at release for the same
  data (reference_accuracy, a plain-data question), and reports the student's time without a
  limit. A recorded time from the instructor's machine, even scaled by a calibration run,
  says little about a student's laptop under load, and a right answer must never fail on it;
  the instructor's grading keeps the timed check as it is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from grader.checks.api import CheckFailed, attach, could_not_run, fail
from grader.checks.exercise7.support import read_history, rounded
from grader.checks.exercise7.remote import Remote, local_model, state_arrays
from grader.checks.exercise7.scenarios import grader_evaluate
from grader.checks.translated import N_, _
from grader.course.oracle import ReferenceUnavailable
from grader.course.oracle.question import reference_question, standing_in
from grader.mnist import MnistError, load_mnist
from grader.options import GradingOptions
from grader.sandbox.codec import Tensor
from grader.sandbox.errors import StudentRaised
from reference.exercise7 import torch_training as ref

SEED = 0
EPOCHS = 2
BATCH_SIZE = 64
VAL_BATCH_SIZE = 1000
LR = 1e-3
TRAIN_LIMIT = 10_000
"""Rows of the training set used; the 8,000-row fallback split uses all of its rows."""
TARGET_ACCURACY = 0.92
"""The reference reaches about 0.94 after 2 epochs on the 8,000-row split (0.95+ on more data)."""
REFERENCE_MARGIN = 0.02
"""On other data (e.g. Fashion-MNIST in MNIST_DATA_DIR) the target becomes the reference's
accuracy minus this margin, so a right answer never fails because the data is harder."""
TIME_FACTOR, TIME_SLACK = 5.0, 10.0


def time_budget(reference_seconds: float) -> float:
    """max(TIME_FACTOR x the reference's time, the reference's time + TIME_SLACK seconds). Both
    are wall-clock times on a machine that may be busy; the slack absorbs short bursts."""
    return max(TIME_FACTOR * reference_seconds, reference_seconds + TIME_SLACK)


@dataclass(frozen=True)
class Task:
    x_train: np.ndarray
    t_train: np.ndarray
    x_val: np.ndarray
    t_val: np.ndarray
    source: str


@dataclass
class Run:
    seconds: float
    accuracy: float | None
    history: dict | None


STD_FLOOR_FRACTION = 0.1
"""No pixel's standard deviation is taken below this fraction of the average pixel's."""


def standardize(x_train: np.ndarray, x_val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel, (x - mean) / max(std, STD_FLOOR_FRACTION * mean std), both from x_train.

    Not SPEC.md's normalize (std + 1e-7), which the students write and the normalize checks
    judge: border pixels that are 0 in every training row but not in every validation row
    would be divided by 1e-7, so validation inputs reach millions and the reference's
    validation loss is ~200 against a training loss of ~0.2 (measured on the 8,000/2,000
    split), which makes the curves in the report meaningless. The floor keeps those pixels
    within a few tens and leaves every other pixel as normalize has it."""
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std = np.maximum(std, STD_FLOOR_FRACTION * std.mean())
    return (x_train - mean) / std, (x_val - mean) / std


def load_task(data_dir: Path | None) -> Task:
    try:
        data = load_mnist(data_dir)
    except MnistError as exc:
        could_not_run(_("the grader could not load MNIST, so this check could not run (not a problem with your "
                        "code): {error}").format(error=exc),
                      hint=_("the instructor can pass --data-dir with a folder that holds the MNIST files."))
    x_train, x_val = standardize(data.x_train[:TRAIN_LIMIT], data.x_test)
    return Task(x_train.astype(np.float32), data.t_train[:TRAIN_LIMIT].astype(np.int64), x_val.astype(np.float32),
                data.t_test.astype(np.int64), data.source)


def choose_device(remote: Remote, requested: str) -> tuple[str, str]:
    """(device for both runs, a sentence for the report); `requested` is --device."""
    if requested == "cpu":
        return "cpu", "CPU (--device cpu)"
    if not bool(remote.torch.cuda.is_available()):
        return "cpu", (_("CPU (CUDA was requested but is not visible in the sandbox)") if requested == "cuda"
                       else "CPU")
    try:
        remote.torch.zeros(1, device="cuda")  # starts CUDA in the student's process before the clock does
    except StudentRaised as exc:
        return "cpu", _("CPU (CUDA is present but could not start in the sandbox: {error})").format(
            error=exc.text[:120])
    if not torch.cuda.is_available():
        return "cpu", _("CPU (the grader's own process cannot use CUDA, so both run on the CPU to compare times)")
    return "cuda", f"CUDA ({torch.cuda.get_device_name(0)})"


MODEL_LAYERS = [("Linear", 784, 256), ("ReLU",), ("Linear", 256, 128), ("ReLU",), ("Linear", 128, 10)]
"""The contract's build_model() with its defaults."""


def accuracy_of(state: dict, task: Task) -> float | None:
    """The weights' validation accuracy, measured here: mapped by shape onto the contract's
    build_model(), or None when they do not fit it (then the student's forward is used)."""
    model = local_model(MODEL_LAYERS, seed=0)
    by_shape = {tuple(v.shape): k for k, v in model.state_dict().items()}
    shapes = [tuple(np.shape(v)) for v in state.values()]
    if len(state) != len(by_shape) or sorted(shapes) != sorted(by_shape):
        return None
    model.load_state_dict({by_shape[tuple(np.shape(v))]: torch.as_tensor(np.asarray(v, np.float32))
                           for v in state.values()})
    loader = DataLoader(TensorDataset(torch.from_numpy(task.x_val), torch.from_numpy(task.t_val)),
                        batch_size=VAL_BATCH_SIZE)
    return float(grader_evaluate(model, loader)[1])


def forward_accuracy(model, task: Task) -> float:
    """Fallback for models whose weights do not map onto the reference's: run the student's
    own forward pass on the validation set, in eval mode on the CPU."""
    model.to("cpu")
    model.eval()
    logits = np.asarray(model(Tensor(task.x_val)))
    return float(np.mean(logits.argmax(axis=1) == task.t_val))


def train_student(student, remote: Remote, task: Task, device: str) -> Run:
    remote.torch.manual_seed(SEED)
    train_set = remote.data.TensorDataset(Tensor(task.x_train), Tensor(task.t_train))
    val_set = remote.data.TensorDataset(Tensor(task.x_val), Tensor(task.t_val))
    train_loader = remote.data.DataLoader(train_set, batch_size=BATCH_SIZE, shuffle=True)
    val_loader = remote.data.DataLoader(val_set, batch_size=VAL_BATCH_SIZE)
    model = student.build_model()
    start = time.perf_counter()
    value = student.fit(model, train_loader, val_loader, epochs=EPOCHS, lr=LR, device=device)
    seconds = time.perf_counter() - start
    try:
        history = read_history(value, call="fit(...)")
    except CheckFailed:  # the fit checks say what is wrong with it; here it only draws the curves
        history = None
    accuracy = accuracy_of(remote.read_state(model), task)
    if accuracy is None:
        accuracy = forward_accuracy(model, task)
    return Run(seconds, accuracy, history)


def train_reference(task: Task, device: str, threads: int) -> Run:
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(SEED)
            train_loader = DataLoader(TensorDataset(torch.from_numpy(task.x_train), torch.from_numpy(task.t_train)),
                                      batch_size=BATCH_SIZE, shuffle=True)
            val_loader = DataLoader(TensorDataset(torch.from_numpy(task.x_val), torch.from_numpy(task.t_val)),
                                    batch_size=VAL_BATCH_SIZE)
            model = ref.build_model()
            if device == "cuda":
                torch.zeros(1, device="cuda")
                torch.cuda.synchronize()
            start = time.perf_counter()
            history = ref.fit(model, train_loader, val_loader, epochs=EPOCHS, lr=LR, device=device)
            if device == "cuda":
                torch.cuda.synchronize()
            seconds = time.perf_counter() - start
    finally:
        torch.set_num_threads(previous)
    return Run(seconds, accuracy_of(state_arrays(model), task), history)


_reference_runs: dict[tuple, Run] = {}
"""The reference's run per (device, threads, data), kept for the grading process's lifetime: its
accuracy never changes (seeded), and its time is measured again whenever a student's run looks
too slow, so a batch does not pay for it once per student."""


def reference_run(task: Task, device: str, threads: int, *, fresh: bool = False) -> tuple[Run, bool]:
    """(the reference's run, whether it was measured just now)."""
    key = (device, threads, task.source, len(task.x_train), len(task.x_val))
    cached = _reference_runs.get(key)
    if cached is not None and not fresh:
        return cached, False
    run = train_reference(task, device, threads)
    _reference_runs[key] = run
    return run, True


@reference_question
def reference_accuracy(x_train: np.ndarray, t_train: np.ndarray, x_val: np.ndarray, t_val: np.ndarray) -> float:
    """The reference's validation accuracy after the run on these data, on the CPU with one thread
    (seeded: the same every time), as plain data, for the untimed check of the bundle."""
    return float(train_reference(Task(x_train, t_train, x_val, t_val, ""), "cpu", 1).accuracy)


def setting_of(task: Task, device: str) -> str:
    return _("{model} trained by {fit} on {rows} MNIST images in batches of {batch}").format(
        model="build_model()", fit=f"fit(model, train_loader, val_loader, epochs={EPOCHS}, lr={LR}, device='{device}')",
        rows=len(task.x_train), batch=BATCH_SIZE)


def check_untimed(student, remote: Remote, task: Task, device: str, device_note: str, threads: int) -> None:
    """The bundle's check: the student's accuracy against the recorded reference's; no time limit."""
    mine = train_student(student, remote, task, device)
    try:
        reference_acc = reference_accuracy(task.x_train, task.t_train, task.x_val, task.t_val)
    except ReferenceUnavailable:  # other data than the release machine's (e.g. the full MNIST)
        reference_acc = None
    target = TARGET_ACCURACY if reference_acc is None else min(TARGET_ACCURACY, reference_acc - REFERENCE_MARGIN)
    attach(device=device, device_note=device_note, dataset=task.source, threads=threads, epochs=EPOCHS,
           batch_size=BATCH_SIZE, lr=LR, train_rows=len(task.x_train), val_rows=len(task.x_val),
           seconds=round(mine.seconds, 3), timed=False,
           time_note=_("untimed here: the time limit applies when your instructor grades"), accuracy=mine.accuracy,
           reference_accuracy=reference_acc,
           target_accuracy=target, curves=mine.history)
    if mine.accuracy >= target:
        return
    measured = reached(task, device, mine)
    if reference_acc is None:
        could_not_run(_("{measured}, below {target}; this bundle has no reference result for this data ({source}), so "
                        "it cannot tell whether that is too low. This check runs in full when your instructor grades."
                        ).format(measured=measured, target=f"{target:.1%}", source=task.source))
    fail(_("{measured}; the target is {target}. The reference reached {reference} in the same setting. (Here your run "
           "took {seconds} s; the time limit applies when your instructor grades.)").format(
             measured=measured, target=f"{target:.1%}", reference=f"{reference_acc:.1%}",
             seconds=f"{mine.seconds:.2f}"),
         hint=_(LIKELY_CAUSES))


LIKELY_CAUSES = N_("the checks above name the likely cause; the usual ones are a missing optimizer.zero_grad(), a "
                   "softmax at the end of the model, Adam without lr=lr, or best weights not loaded back.")


def reached(task: Task, device: str, mine) -> str:
    """The sentence saying what accuracy the student's run reached, with its curve when there is one."""
    facts = dict(setting=setting_of(task, device), accuracy=f"{mine.accuracy:.1%}", images=len(task.x_val))
    if mine.history:
        return _("{setting} reached {accuracy} accuracy on the {images} validation images (measured by the grader "
                 "from your model's final weights) (your history's val_acc: {curve})").format(
            curve=rounded(mine.history["val_acc"]), **facts)
    return _("{setting} reached {accuracy} accuracy on the {images} validation images (measured by the grader from "
             "your model's final weights)").format(**facts)


def check(student, options: GradingOptions) -> None:
    task = load_task(options.data_dir)
    remote = Remote(student)
    device, device_note = choose_device(remote, options.device)
    threads = int(remote.torch.get_num_threads())
    if standing_in():
        check_untimed(student, remote, task, device, device_note, threads)
        return
    mine = train_student(student, remote, task, device)
    reference, measured_now = reference_run(task, device, threads)
    budget = time_budget(reference.seconds)
    if mine.seconds > budget and not measured_now:  # the machine may be busier now: time the reference again
        reference, measured_now = reference_run(task, device, threads, fresh=True)
        budget = time_budget(reference.seconds)
    target = min(TARGET_ACCURACY, reference.accuracy - REFERENCE_MARGIN)
    ratio = mine.seconds / max(reference.seconds, 1e-9)
    attach(device=device, device_note=device_note, dataset=task.source, threads=threads, epochs=EPOCHS,
           batch_size=BATCH_SIZE, lr=LR, train_rows=len(task.x_train), val_rows=len(task.x_val),
           seconds=round(mine.seconds, 3), reference_seconds=round(reference.seconds, 3), ratio=round(ratio, 2),
           budget_seconds=round(budget, 3), accuracy=mine.accuracy, reference_accuracy=reference.accuracy,
           target_accuracy=target, curves=mine.history, reference_curves=reference.history,
           reference_timed=_("in this check") if measured_now else _("earlier in this grading process"))
    setting = setting_of(task, device)
    if mine.accuracy < target:
        fail(_("{measured}; the target is {target}. The reference reached {reference} in the same setting.").format(
                 measured=reached(task, device, mine), target=f"{target:.1%}", reference=f"{reference.accuracy:.1%}"),
             hint=_(LIKELY_CAUSES))
    if mine.seconds > budget:
        fail(_("{setting} took {seconds} s on the {device}: {ratio} times the reference's {reference} s (allowed: "
               "{budget} s).").format(setting=setting, seconds=f"{mine.seconds:.2f}", device=device_note,
                                      ratio=f"{ratio:.1f}", reference=f"{reference.seconds:.2f}",
                                      budget=f"{budget:.1f}"),
             hint=_("look for per-sample Python loops, moving or converting the whole dataset inside the batch loop, "
                    "evaluating without torch.no_grad(), or printing every batch."))
