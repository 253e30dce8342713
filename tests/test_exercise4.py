"""Exercise 4 verdicts: reference, stub, buggy and correct-but-different submissions, the
recording network's bookkeeping, and the timed MNIST check's own pieces."""

import numpy as np
import pytest

from conftest import CASES, assert_full_marks, assert_stub_scores_zero, assert_verdict, case_folders, message_of
from grader.catalog import get_exercise
from grader.checks.exercise4 import endtoend as e2e
from grader.checks.exercise4.recording import RecordingNetwork, make_data

EXERCISE = get_exercise("exercise4")
SHARED_MNIST = EXERCISE.stub_path.parents[3] / "shared" / "data" / "mnist"

BATCHES = "batches_are_random_training_rows"
UPDATE = "update_is_learning_rate_times_gradient"
LOSS = "loss_is_recorded_after_each_update"
ACCURACY = "accuracies_are_recorded_once_per_epoch"

# case folder -> (check that must fail, words its message or hint must contain); None = full marks
VERDICTS = {
    "bug_test_rows_in_batches": (BATCHES, "rows of the test set"),
    "bug_stale_batch": (BATCHES, "draw batch_mask inside the loop"),
    "bug_lr_ignored": (UPDATE, "not a fixed 0.1"),
    "bug_full_batch": (BATCHES, "all 50 training rows"),
    "bug_accuracy_every_iteration": (ACCURACY, "at every iteration"),
    "bug_loss_before_update": (LOSS, "before iteration 0's update"),
    "bug_seed_ignored": ("same_seed_gives_same_batches", "the same seed must give the same batches"),
    "bug_seed_zero_ignored": ("seed_zero_is_a_seed_too", "if seed is not none"),
    "bug_gradient_ascent": (UPDATE, "gradient descent subtracts"),
    "bug_float_epoch_length": ("epoch_length_uses_integer_division", "use integer division"),
    "bug_targets_from_other_rows": (BATCHES, "do not belong to its rows x_batch"),
    "bug_forgot_b2": (UPDATE, "b2 did not change"),
    "bug_updates_a_copy": (UPDATE, "changing a copy"),
    "bug_loss_on_training_set": (LOSS, "computed on the full training set"),
    "bug_accuracy_end_of_epoch": (ACCURACY, "at the end of each epoch"),
    "bug_no_return": ("returns_loss_and_accuracy_histories", "returned none"),
    "bug_accuracies_swapped": (ACCURACY, "swapped"),
    "bug_sequential_batches": (BATCHES, "consecutive slices"),
    "bug_numerical_gradient": (UPDATE, "numerical_gradient"),
    "bug_renamed_learning_rate": ("returns_loss_and_accuracy_histories", "keep the handout's signature"),
    "bug_changed_default_iters": ("default_arguments_follow_the_handout", "iters_num=1000"),
    "bug_normalizes_with_test_data": ("test_data_never_influences_parameters", "test data must never"),
    "ok_book_style": None,
    "ok_default_rng_without_replacement": None,
    "ok_epoch_permutation": None,
    "ok_reassigned_entries_numpy_scalars": None,
    "ok_new_params_dict": None,
    "ok_helpers_integers_arrays": None,
}


@pytest.fixture(autouse=True)
def shared_mnist(monkeypatch):
    """Tests (and CI) train on the course's copy beside the repository."""
    monkeypatch.setenv("MNIST_DATA_DIR", str(SHARED_MNIST))


def test_reference_gets_full_marks(grade):
    """Does the reference solution get every point, the MNIST run included?"""
    result = grade("exercise4", EXERCISE.reference_path.parent)
    assert_full_marks(result)
    details = next(c.details for c in result.checks if c.name == "trains_two_layer_net_on_mnist")
    assert details["test_accuracy"] >= e2e.MIN_TEST_ACCURACY and details["device"] == "cpu"
    assert len(details["curves"]["train_loss"]) == e2e.ITERS and len(details["curves"]["test_acc"]) == 8
    assert details["seconds"] > 0 and details["reference_seconds"] > 0 and "MNIST" in details["dataset"]


def test_stub_scores_zero_with_not_implemented(grade):
    """Does the untouched handout score zero, every check saying 'not implemented yet'?"""
    assert_stub_scores_zero(grade("exercise4", EXERCISE.stub_path.parent))


@pytest.mark.parametrize("case", sorted(VERDICTS))
def test_case_verdict(grade, case):
    """Does each buggy case lose points on the check naming its mistake, and each correct one pass?"""
    assert_verdict(grade("exercise4", CASES / "exercise4" / case), VERDICTS[case])


def test_every_case_folder_is_in_the_table():
    """Is every case folder on disk listed in the verdict table (and no stale entry left)?"""
    assert case_folders("exercise4") == set(VERDICTS)


def test_does_an_untrained_network_fail_the_mnist_check_on_accuracy(grade, tmp_path):
    """Does a train_network that returns plausible curves but never touches the params fail
    on the accuracy the grader computes itself?"""
    (tmp_path / "train.py").write_text(
        "def train_network(network, x_train, t_train, x_test, t_test, iters_num=10000, batch_size=100,\n"
        "                  learning_rate=0.1, seed=None):\n"
        "    return {'train_loss': [0.1] * iters_num, 'train_acc': [0.99], 'test_acc': [0.99]}\n")
    result = grade("exercise4", tmp_path)
    assert "computed by the grader" in message_of(result, "trains_two_layer_net_on_mnist")


@pytest.mark.parametrize("squeeze, words", [
    ({"TIME_FACTOR": 0.0, "TIME_SLACK_S": 0.0, "CLEARLY_SLOW": 0.0}, "the reference took"),
    ({"hard_deadline": lambda reference_seconds: 0.05}, "was stopped after"),
])
def test_is_a_run_over_the_time_limit_failed_for_its_time(grade, monkeypatch, squeeze, words):
    """With the limits squeezed so that even the reference is too slow, does the MNIST check
    fail on time, naming the reference's time (and stop a run past the hard deadline)?"""
    for name, value in squeeze.items():
        monkeypatch.setattr(e2e, name, value)
    result = grade("exercise4", EXERCISE.reference_path.parent)
    message = message_of(result, "trains_two_layer_net_on_mnist")
    assert words in message and "the reference took" in message


def test_does_the_recording_network_compute_exact_updates_and_unique_values():
    """Are the recorded gradient rows, params and returned values what the analysis relies on?"""
    data = make_data(10)
    net = RecordingNetwork(data)
    grads = net.gradient(data.x_train[[3, 1]], data.t_train[[3, 1]])
    before = {k: v.copy() for k, v in net.params.items()}
    for key in grads:
        net.params[key] -= 0.5 * grads[key]
    loss, acc = net.loss(data.x_train[[3, 1]], data.t_train[[3, 1]]), net.accuracy(data.x_test, data.t_test)
    first, second, third = net.calls
    assert first.rows == [("train", 3), ("train", 1)] and first.targets_match
    assert np.array_equal(second.params["W2"], before["W2"] - 0.5 * grads["W2"])
    assert third.sets == {"test"} and loss != acc and net.find_value(acc) is third
    assert not RecordingNetwork(data).gradient(data.x_train[:2], data.t_train[[1, 0]]) is None
    assert not RecordingNetwork(data).calls


def test_does_the_grader_accuracy_match_the_reference_network():
    """Does the grader's own forward pass agree with the reference TwoLayerNet's accuracy?"""
    from reference.exercise3.two_layer_net import TwoLayerNet

    rng = np.random.default_rng(0)
    net = TwoLayerNet(784, 50, 10)
    net.params.update(e2e.initial_params())
    x, labels = rng.random((200, 784)), rng.integers(0, 10, 200)
    net.params["W2"] = rng.standard_normal((50, 10))
    assert e2e.accuracy(net.params, x, labels) == pytest.approx(net.accuracy(x, labels))


def test_is_blas_limited_to_one_thread_while_timing_and_restored_after():
    """Does single_threaded_blas set OpenBLAS to one thread and put the old count back?"""
    lib = e2e._openblas()
    if lib is None:
        pytest.skip("OpenBLAS's thread functions are not reachable on this machine")
    getter, _ = lib
    before = getter()
    with e2e.single_threaded_blas():
        assert getter() == 1
    assert getter() == before
