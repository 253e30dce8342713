"""Exercise 4 beyond its verdict table (tests/test_verdicts.py): the reference's MNIST report, the
recording network's bookkeeping, and the timed MNIST check's own pieces."""

import re

import numpy as np
import pytest

from conftest import message_of
from grader.catalog import get_exercise
from grader.checks.exercise4 import endtoend as e2e
from grader.checks.exercise4.recording import RecordingNetwork, make_data

EXERCISE = get_exercise("exercise4")
SHARED_MNIST = EXERCISE.stub_path.parents[3] / "shared" / "data" / "mnist"


@pytest.fixture(autouse=True)
def shared_mnist(monkeypatch):
    """Tests (and CI) train on the course's copy beside the repository."""
    monkeypatch.setenv("MNIST_DATA_DIR", str(SHARED_MNIST))


@pytest.mark.mnist
@pytest.mark.slow
def test_reference_mnist_run_is_reported(grade_reference):
    """Does the reference's MNIST run report its accuracy, curves, times and data set?"""
    result = grade_reference("exercise4")
    details = next(c.details for c in result.checks if c.name == "trains_two_layer_net_on_mnist")
    assert details["test_accuracy"] >= e2e.MIN_TEST_ACCURACY and details["device"] == "cpu"
    assert len(details["curves"]["train_loss"]) == e2e.ITERS and len(details["curves"]["test_acc"]) == 8
    assert details["seconds"] > 0 and details["reference_seconds"] > 0 and "MNIST" in details["dataset"]


@pytest.mark.mnist
@pytest.mark.slow
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
@pytest.mark.mnist
@pytest.mark.slow
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


# -- the contract-wide hidden checks (test_hidden_contract.py) ----------------------------------------
from conftest import CORPUS  # noqa: E402
from grader.checks.contract import _draw  # noqa: E402
from grader.checks.exercise4 import test_hidden_contract as contract  # noqa: E402
from grader.checks.exercise4.support import Scenario  # noqa: E402
from reference.exercise4.train import train_network as reference_train_network  # noqa: E402


def test_contract_failure_shows_the_smallest_failing_scenario(grade):
    """Does a pass over a shuffled order that ends in a short batch fail batches_contract on a
    small scenario that shows it (at most 6 rows, 2 iterations, the second pass's short batch),
    with what it got?"""
    result = grade("exercise4", CORPUS / "exercise4" / "bug_short_last_batch", visibility="hidden")
    message = message_of(result, "batches_contract")
    found = re.search(r"x_train \((\d) rows\).*iters_num=2, batch_size=(\d).*in iteration 1, network.gradient got "
                      r"(\d) rows; expected batch_size=(\d)", message)
    assert found, message
    rows, batch, got, expected = map(int, found.groups())
    assert rows <= 6 and batch == expected and got == rows % batch, message


def test_unreachable_row_is_named(grade):
    """Does np.random.choice(train_size - 1, ...) fail every_row_can_be_drawn naming the row it never drew?"""
    result = grade("exercise4", CORPUS / "exercise4" / "bug_choice_excludes_last_row", visibility="hidden")
    assert "never drew training row 1 of 2" in message_of(result, "every_row_can_be_drawn")


def test_contract_checks_grade_the_same_twice(grade):
    """Is a submission that fails contract checks graded identically twice (scores and messages)?"""
    path = CORPUS / "exercise4" / "bug_random_window_batches"
    first, second = (grade("exercise4", path, visibility="hidden") for _ in range(2))
    assert [(c.name, c.score, c.message) for c in first.checks] == [(c.name, c.score, c.message)
                                                                    for c in second.checks]
    assert first.score < first.max_score


@pytest.mark.parametrize("scenario", _draw(contract.reach_scenarios(), 3), ids=str)
def test_reach_scenarios_leave_a_right_sampler_no_chance_to_miss_a_row(scenario):
    """Is every reachability scenario long enough that each sampler SPEC.md allows misses a row
    with probability below 1e-7, short enough to stay cheap, and does the reference draw every row?"""
    n, b, t = scenario.train_size, scenario.batch_size, scenario.iters_num
    whole, rest = divmod(n, b)
    for per_iteration in ((1 - 1 / n) ** b, 1 - b / n, (rest / n) ** (1 / whole)):
        assert n * per_iteration ** t <= contract.MISS_PROBABILITY
    assert t <= 40
    data = make_data(n)
    net = RecordingNetwork(data)
    reference_train_network(net, data.x_train, data.t_train, data.x_test, data.t_test, iters_num=t,
                            batch_size=b, seed=scenario.seed)
    assert {number for c in net.of("gradient") for _, number in c.rows} == set(range(n))


def test_recording_network_knows_label_targets():
    """With integer-label targets, does the recording network pair rows and labels (train: the
    row's number, test: -(number + 1)) and notice labels of other rows?"""
    data = make_data(6, labels=True)
    assert data.t_train.shape == (6,) and list(data.t_test[:2]) == [-1, -2]
    net = RecordingNetwork(data)
    net.gradient(data.x_train[[4, 1]], data.t_train[[4, 1]])
    net.accuracy(data.x_test, data.t_test)
    net.loss(data.x_train[[4, 1]], data.t_train[[1, 4]])
    assert [c.targets_match for c in net.calls] == [True, True, False]


def test_steering_runs_make_the_values_drop_mid_run():
    """Does each drawn steering scenario shift the network's values so that they wrap around
    (drop) inside the second run, with accuracies recorded before and after the drop?"""
    for scenario, offset, _ in _draw(contract.steering(), 3):
        calls = 2 * scenario.iters_num + 2 * len(scenario.accuracy_iterations)
        assert 0 < 1000 - offset < calls and len(scenario.accuracy_iterations) >= 2
        assert isinstance(scenario, Scenario) and scenario.seed is not None
