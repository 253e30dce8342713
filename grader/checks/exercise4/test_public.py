"""Public checks of exercise 4: the mini-batch SGD loop, rule by rule, then timed on MNIST.

The rule checks run the student's `train_network` on a RecordingNetwork (recording.py)
that logs every call; the end-to-end check trains the exercise-3 reference TwoLayerNet.
"""

import time

from grader.checks.api import attach, could_not_run, fail, limit_time, public
from grader.mnist import MnistError, load_mnist
from grader.sandbox.errors import StudentRaised, StudentTimeout
from reference.exercise3.two_layer_net import TwoLayerNet as ReferenceNet
from reference.exercise4.train import train_network as reference_train_network

from grader.checks.exercise4 import endtoend as e2e
from grader.checks.exercise4.support import (Scenario, expect_accuracies, expect_batches, expect_histories,
                                              expect_losses, expect_reproducible, expect_updates, explain_raised,
                                              run)

SLOW_HINT = ("compute the accuracies only once per epoch, use network.gradient (backpropagation, not "
             "numerical_gradient), and avoid copying or shuffling the whole training set in every iteration.")
BASIC = Scenario(train_size=50, batch_size=10, iters_num=12, learning_rate=0.25, seed=3)
"""50 training rows, batches of 10: an epoch is 5 iterations, so accuracies at 0, 5 and 10."""


@public(points=1)
def test_returns_loss_and_accuracy_histories(student):
    """returns a dict of float lists: train_loss, train_acc, test_acc (also when seed is left out)"""
    expect_histories(run(student, Scenario(seed=None)))


@public(points=2)
def test_batches_are_random_training_rows(student):
    """each iteration takes the gradient on batch_size random rows of the training set only"""
    expect_batches(run(student, BASIC))


@public(points=2)
def test_update_is_learning_rate_times_gradient(student):
    """every parameter moves by exactly -learning_rate * gradient in every iteration"""
    expect_updates(run(student, BASIC))


@public(points=1)
def test_loss_is_recorded_after_each_update(student):
    """train_loss holds network.loss of each iteration's batch, computed after the update"""
    expect_losses(run(student, BASIC))


@public(points=1)
def test_accuracies_are_recorded_once_per_epoch(student):
    """train_acc and test_acc: accuracy on the full sets when i % iter_per_epoch == 0, after the update"""
    expect_accuracies(run(student, BASIC))


@public(points=1)
def test_same_seed_gives_same_batches(student):
    """two runs with the same seed draw the same batches"""
    scenario = Scenario(seed=7)
    expect_reproducible(run(student, scenario), run(student, scenario))


@public(points=2, timeout=45)
def test_trains_two_layer_net_on_mnist(student):
    """trains TwoLayerNet 784-50-10 on MNIST to test accuracy >= 0.88, at most 3x the reference's time + 1 s"""
    data = _mnist()
    ref_seconds, _, ref_accuracy = e2e.recent_reference(data, reference_train_network, ReferenceNet)
    attach(reference_seconds=round(ref_seconds, 3), reference_test_accuracy=round(ref_accuracy, 4),
           device="cpu", dataset=data.source, settings=data.settings_text())
    seconds, history, params = _student_run(student, data, ref_seconds)
    if seconds > e2e.time_limit(ref_seconds) and seconds < e2e.CLEARLY_SLOW * ref_seconds:
        # A busy machine can slow one run: time both once more and keep the student's best ratio.
        again_ref = e2e.recent_reference(data, reference_train_network, ReferenceNet, fresh=True)[0]
        again = _student_run(student, data, again_ref)[0]
        if again / again_ref < seconds / ref_seconds:
            seconds, ref_seconds = again, again_ref
    test_accuracy = _final_accuracy(params, data)
    _attach_report(history, seconds, ref_seconds, ref_accuracy, test_accuracy)
    required = e2e.required_accuracy(ref_accuracy)
    if test_accuracy < required:
        fail(f"after {data.settings_text()} the network's test accuracy is {test_accuracy:.3f} (computed by the "
             f"grader from network.params); at least {required:.3f} is needed, and the reference reaches "
             f"{ref_accuracy:.3f} from the same starting weights.",
             hint="the rule checks above name the mistake if one of them fails; if they all pass, make sure "
                  "train_network changes the network it was given (network.params), not a copy.",
             settings=data.settings_text())
    limit = e2e.time_limit(ref_seconds)
    if seconds > limit:
        fail(f"{data.settings_text()} took {seconds:.2f} s; the reference took {ref_seconds:.2f} s on this machine, "
             f"and at most {limit:.2f} s ({e2e.TIME_FACTOR:g} x + {e2e.TIME_SLACK_S:g} s) is allowed.",
             hint=SLOW_HINT, settings=data.settings_text())


def _mnist() -> e2e.Prepared:
    try:
        return e2e.Prepared.from_mnist(load_mnist())
    except MnistError as exc:
        could_not_run(f"the grader could not load MNIST, so this check could not run: {exc}",
             hint="this is about the grading machine, not your code: download the MNIST files as the message says, "
                  "or set MNIST_DATA_DIR to the folder that holds them.")


def _student_run(student, data: e2e.Prepared, ref_seconds: float):
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
        fail(f"{data.settings_text()} was stopped after {deadline:.1f} s; the reference took {ref_seconds:.2f} s "
             f"on this machine, and at most {e2e.time_limit(ref_seconds):.2f} s ({e2e.TIME_FACTOR:g} x + "
             f"{e2e.TIME_SLACK_S:g} s) is allowed.", hint=SLOW_HINT, settings=data.settings_text())
    seconds = time.perf_counter() - start
    return seconds, history, network.params


def _final_accuracy(params, data: e2e.Prepared) -> float:
    shapes = {"W1": (784, e2e.HIDDEN), "b1": (e2e.HIDDEN,), "W2": (e2e.HIDDEN, 10), "b2": (10,)}
    if not isinstance(params, dict) or any(getattr(params.get(k), "shape", None) != s for k, s in shapes.items()):
        fail(f"after {data.settings_text()}, network.params is not the dict of W1 {shapes['W1']}, b1, W2, b2 "
             f"it was at the start.", hint="update the arrays of network.params; keep its keys and shapes.")
    return e2e.accuracy(params, data.x_test, data.labels_test)


def _attach_report(history, seconds, ref_seconds, ref_accuracy, test_accuracy) -> None:
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
