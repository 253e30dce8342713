"""Public checks of exercise 4: the mini-batch SGD loop, rule by rule, then timed on MNIST.

The rule checks run the student's `train_network` on a RecordingNetwork (recording.py)
that logs every call; the end-to-end check trains the exercise-3 reference TwoLayerNet. The
helpers of both live in support.py.
"""

from grader.checks.api import attach, fail, public
from grader.checks.translated import _
from reference.exercise3.two_layer_net import TwoLayerNet as ReferenceNet
from reference.exercise4.train import train_network as reference_train_network

from grader.checks.exercise4 import endtoend as e2e
from grader.checks.exercise4.support import (SLOW_HINT, Scenario, accuracy_from_params, attach_mnist_report,
                                             expect_accuracies, expect_batches, expect_histories, expect_losses,
                                             expect_reproducible, expect_updates, prepared_mnist, run,
                                             time_student_training)

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
def test_trains_two_layer_net_on_mnist(student, options):
    """trains TwoLayerNet 784-50-10 on MNIST to test accuracy >= 0.88, at most 3x the reference's time + 1 s"""
    data = prepared_mnist(options.data_dir)
    ref_seconds, _curve, ref_accuracy = e2e.recent_reference(data, reference_train_network, ReferenceNet)
    attach(reference_seconds=round(ref_seconds, 3), reference_test_accuracy=round(ref_accuracy, 4),
           device="cpu", dataset=data.source, settings=data.settings_text())
    seconds, history, params = time_student_training(student, data, ref_seconds)
    if seconds > e2e.time_limit(ref_seconds) and seconds < e2e.CLEARLY_SLOW * ref_seconds:
        # A busy machine can slow one run: time both once more and keep the student's best ratio.
        again_ref = e2e.recent_reference(data, reference_train_network, ReferenceNet, fresh=True)[0]
        again = time_student_training(student, data, again_ref)[0]
        if again / again_ref < seconds / ref_seconds:
            seconds, ref_seconds = again, again_ref
    test_accuracy = accuracy_from_params(params, data)
    attach_mnist_report(history, seconds, ref_seconds, ref_accuracy, test_accuracy)
    required = e2e.required_accuracy(ref_accuracy)
    if test_accuracy < required:
        fail(_("after {run} the network's test accuracy is {accuracy} (computed by the grader from "
               "network.params); at least {required} is needed, and the reference reaches {reference} from the "
               "same starting weights.").format(run=data.settings_text(), accuracy=f"{test_accuracy:.3f}",
                                                required=f"{required:.3f}", reference=f"{ref_accuracy:.3f}"),
             hint=_("the rule checks above name the mistake if one of them fails; if they all pass, make sure "
                    "train_network changes the network it was given (network.params), not a copy."),
             settings=data.settings_text())
    limit = e2e.time_limit(ref_seconds)
    if seconds > limit:
        fail(_("{run} took {seconds} s; the reference took {reference} s on this machine, and at most {limit} s "
               "({factor} x + {slack} s) is allowed.").format(
                 run=data.settings_text(), seconds=f"{seconds:.2f}", reference=f"{ref_seconds:.2f}",
                 limit=f"{limit:.2f}", factor=f"{e2e.TIME_FACTOR:g}", slack=f"{e2e.TIME_SLACK_S:g}"),
             hint=_(SLOW_HINT), settings=data.settings_text())
