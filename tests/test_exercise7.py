"""Exercise 7 beyond its verdict table (tests/test_verdicts.py): the reference's MNIST report,
repeatable verdicts for unseeded shuffling, the timed MNIST check's own pieces (accuracy measured
from the weights, the time budget, the choice of device) and the claims the fixed problems rest on."""

import types

import numpy as np
import pytest
import torch

from conftest import CASES, assert_full_marks, message_of
from grader.catalog import get_exercise
from grader.checks.exercise7 import mnist_run, scenarios
from grader.checks.exercise7.remote import state_arrays
from grader.sandbox.errors import StudentRaised
from reference.exercise7 import torch_training as ref

EXERCISE = get_exercise("exercise7")
SHARED_MNIST = EXERCISE.stub_path.parents[3] / "shared" / "data" / "mnist"
E2E = "mnist_end_to_end"
UNSEEDED = "ok_custom_module_and_dataset"
"""Its training loader shuffles with a generator seeded from os.urandom: a new order every run."""
REGRADES = 20


@pytest.fixture(autouse=True)
def shared_mnist(monkeypatch):
    """Tests (and CI) train on the course's copy beside the repository, on the CPU."""
    monkeypatch.setenv("MNIST_DATA_DIR", str(SHARED_MNIST))


@pytest.fixture
def without_mnist_run(monkeypatch):
    """The timed MNIST check passes at once: for runs that are about another check's verdict."""
    monkeypatch.setattr(mnist_run, "check", lambda student, options: None)


@pytest.mark.mnist
@pytest.mark.slow
def test_reference_mnist_run_is_reported(grade_reference):
    """Does the reference's timed MNIST run report its device, data set, accuracy, times and curves?"""
    result = grade_reference("exercise7")
    details = next(c.details for c in result.checks if c.name == E2E)
    assert details["device"] == "cpu" and "MNIST" in details["dataset"]
    assert details["accuracy"] >= details["target_accuracy"] >= 0.9
    assert details["seconds"] > 0 and details["reference_seconds"] > 0 and details["ratio"] > 0
    assert {k: len(v) for k, v in details["curves"].items()} == dict.fromkeys(
        ("train_loss", "val_loss", "val_acc"), mnist_run.EPOCHS)


@pytest.mark.slow
def test_unseeded_shuffling_gets_the_same_verdict_every_run(grade, without_mnist_run):
    """Does a training loader that shuffles with its own unseeded generator pass every check on every run?"""
    verdicts = set()
    for _ in range(REGRADES):
        result = grade("exercise7", CASES / "exercise7" / UNSEEDED, visibility="public")
        verdicts.add((result.score, tuple(sorted(c.name for c in result.checks if not c.passed))))
    assert len(verdicts) == 1 and not next(iter(verdicts))[1], verdicts


@pytest.mark.mnist
@pytest.mark.slow
def test_mnist_run_gives_the_same_accuracy_every_run(grade):
    """Is the timed MNIST run seeded: the same accuracy from the same submission, run after run?"""
    accuracies = set()
    for _ in range(3):
        result = grade("exercise7", CASES / "exercise7" / UNSEEDED, visibility="public")
        assert_full_marks(result)
        accuracies.add(next(c.details["accuracy"] for c in result.checks if c.name == E2E))
    assert len(accuracies) == 1, accuracies


@pytest.mark.mnist
@pytest.mark.slow
def test_does_an_untrained_model_fail_the_mnist_check_on_accuracy(grade, tmp_path):
    """Does a fit that reports a perfect history without training fail on the accuracy the grader
    measures from the weights itself?"""
    source = (EXERCISE.reference_path.read_text()
              + "\n\ndef fit(model, train_loader, val_loader, epochs=10, lr=1e-3, device='cpu', patience=None):\n"
                "    return {'train_loss': [0.01] * epochs, 'val_loss': [0.01] * epochs, 'val_acc': [0.99] * epochs}\n")
    (tmp_path / "torch_training.py").write_text(source)
    message = message_of(grade("exercise7", tmp_path, visibility="public"), E2E)
    assert "measured by the grader from your model's final weights" in message and "0.99" in message


@pytest.mark.mnist
@pytest.mark.slow
def test_is_a_run_over_the_time_budget_failed_for_its_time(grade, monkeypatch):
    """With the budget squeezed to nothing, does the MNIST check fail on time, naming both times?"""
    monkeypatch.setattr(mnist_run, "time_budget", lambda reference_seconds: 0.0)
    message = message_of(grade("exercise7", EXERCISE.reference_path.parent, visibility="public"), E2E)
    assert "times the reference's" in message and "allowed: 0.0 s" in message


class FakeRemote:
    """Just enough of remote.Remote for choose_device: torch in a 'student process' whose CUDA
    availability and first CUDA allocation the test decides."""

    def __init__(self, cuda: bool, starts: bool = True):
        def zeros(*args, **kwargs):
            if not starts:
                raise StudentRaised({"type": "RuntimeError", "message": "CUDA error: out of memory"}, "zeros")

        self.torch = types.SimpleNamespace(cuda=types.SimpleNamespace(is_available=lambda: cuda), zeros=zeros)


@pytest.mark.parametrize("requested, remote, grader_cuda, device, words", [
    ("cpu", FakeRemote(cuda=True), True, "cpu", "--device cpu"),
    ("auto", FakeRemote(cuda=False), True, "cpu", "CPU"),
    ("cuda", FakeRemote(cuda=False), True, "cpu", "not visible in the sandbox"),
    ("auto", FakeRemote(cuda=True, starts=False), True, "cpu", "could not start in the sandbox"),
    ("auto", FakeRemote(cuda=True), False, "cpu", "both run on the CPU"),
    ("auto", FakeRemote(cuda=True), True, "cuda", "CUDA (Fake GPU)"),
])
def test_is_cuda_used_only_when_both_processes_can_use_it(monkeypatch, requested, remote, grader_cuda, device,
                                                         words):
    """Does the MNIST check train on CUDA only when asked or allowed, visible in the sandbox, able to
    start there, and usable by the grader's reference too, and else fall back to the CPU?"""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: grader_cuda)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: "Fake GPU")
    chosen, note = mnist_run.choose_device(remote, requested)
    assert chosen == device and words in note


@pytest.mark.mnist
@pytest.mark.slow
def test_are_the_reference_curves_of_the_timed_run_on_one_scale():
    """Does the reference, in the timed run's setting, end with a validation loss within 3x of its
    training loss (pixels constant in the training rows no longer blow up the validation inputs)?"""
    run = mnist_run.train_reference(mnist_run.load_task(SHARED_MNIST), "cpu", threads=1)
    train_loss, val_loss = run.history["train_loss"][-1], run.history["val_loss"][-1]
    assert train_loss / 3 <= val_loss <= 3 * train_loss, run.history
    assert run.accuracy >= mnist_run.TARGET_ACCURACY


def test_does_the_timed_runs_standardization_floor_only_near_constant_pixels():
    """Are pixels with an ordinary spread standardized exactly as normalize does, and a pixel constant
    in the training rows kept finite and small in the validation rows?"""
    rng = np.random.default_rng(0)
    x_train, x_val = rng.uniform(size=(50, 4)), rng.uniform(size=(20, 4))
    x_train[:, 3], x_val[:, 3] = 0.0, rng.uniform(size=20)
    got_train, got_val = mnist_run.standardize(x_train, x_val)
    expected_train, expected_val = ref.normalize(x_train, x_val)
    assert np.allclose(got_train[:, :3], expected_train[:, :3], rtol=1e-5)
    assert np.allclose(got_val[:, :3], expected_val[:, :3], rtol=1e-5)
    floor = mnist_run.STD_FLOOR_FRACTION * x_train.std(axis=0).mean()
    assert np.allclose(got_val[:, 3], x_val[:, 3] / floor) and np.abs(got_val[:, 3]).max() < 100
    assert np.abs(expected_val[:, 3]).max() > 1e5  # what normalize's eps alone would give


def test_is_the_accuracy_measured_from_weights_whatever_their_names():
    """Do weights under a custom module's names map onto the reference model by shape (and are
    weights of other shapes refused, so the student's own forward pass is used instead)?"""
    task = mnist_run.load_task(SHARED_MNIST)
    model = ref.build_model()
    state = state_arrays(model)
    renamed = {f"hidden.{i}.{k.split('.')[1]}": v for i, (k, v) in enumerate(state.items())}
    expected = mnist_run.accuracy_of(state, task)
    assert mnist_run.accuracy_of(dict(reversed(list(renamed.items()))), task) == expected
    assert mnist_run.accuracy_of({**renamed, "extra.weight": np.zeros((3, 3))}, task) is None


def test_do_the_fixed_problems_tell_the_mistakes_apart():
    """Do the fixed problems give each classic mistake a result of its own, far beyond the tolerances?"""
    losses = scenarios.trace(scenarios.BUMPY).history["val_loss"]
    runs = {name: scenarios.early_stop(losses, 2, **mistake).epochs for name, mistake in {
        "right": {}, "late": {"extra_wait": 1}, "early": {"extra_wait": -1},
        "previous": {"against_previous": True}}.items()}
    assert runs["right"] == 4 and len(set(runs.values())) == 4, runs
    assert scenarios.early_stop(scenarios.trace(scenarios.BUMPY_NO_PATIENCE).history["val_loss"], None).best == 4
    frozen = scenarios.trace(scenarios.FROZEN).history["val_loss"]
    assert len(set(frozen)) == 1 and scenarios.early_stop(frozen, 2).epochs == 3
    assert scenarios.early_stop(frozen, 2, strict=False).epochs == 6
    smooth = scenarios.trace(scenarios.SMOOTH).history["val_loss"]
    assert smooth == sorted(smooth, reverse=True)
    epoch = scenarios.reference_epoch()
    assert abs(epoch.mean_loss / epoch.mean_of_batch_losses - 1) > 100 * 1e-4
    frozen_batches = scenarios.initial_batch_losses()
    per_sample = sum(l * n for l, n in frozen_batches) / sum(n for _, n in frozen_batches)
    assert abs(per_sample / np.mean([l for l, _ in frozen_batches]) - 1) > 10 * 1e-4
    accumulated = scenarios.accumulated_epoch().weights
    assert max(np.abs(accumulated[k] - epoch.weights[k]).max() for k in accumulated) > 0.1


def test_are_the_questions_to_the_reference_plain_data_that_leave_the_random_state_alone():
    """Do the checks' questions to the reference (reference_question: what the bundle answers from
    the recording) take and give plain data the recorder can file, and leave torch's and numpy's
    global random state as they found it (a DataLoader draws a seed from it even unshuffled), so a
    recorded answer holds whatever state the asking check is in?"""
    from grader.course.oracle.data import is_plain

    smooth = scenarios.SMOOTH
    questions = [(scenarios.reference_epoch_answer, (scenarios.SGD_LR,)),
                 (scenarios.reference_evaluation, ("plain",)),
                 (scenarios.trace_answer, (smooth.data_seed, smooth.epochs, smooth.lr, smooth.optimizer,
                                           smooth.train_rows, smooth.val_rows, smooth.train_batch, smooth.val_batch))]
    for question, args in questions:
        question.__wrapped__.cache_clear()
        torch.manual_seed(1)
        np.random.seed(1)
        torch_before, numpy_before = torch.get_rng_state(), np.random.get_state()[1].copy()
        answer = question(*args)
        assert torch.equal(torch.get_rng_state(), torch_before), question.__name__
        assert np.array_equal(np.random.get_state()[1], numpy_before), question.__name__
        assert is_plain(args) and is_plain(answer), question.__name__
    assert scenarios.trace(smooth).history == scenarios.trace_answer(*questions[2][1])["history"]


@pytest.mark.mnist
@pytest.mark.slow
def test_does_the_bundles_mnist_check_judge_accuracy_and_never_time(grade, monkeypatch):
    """Where `reference.*` is a stand-in (the bundle, or release recording it), does the MNIST check
    pass the reference even with no time allowed at all, reporting the run as untimed against the
    reference's accuracy, and still fail a fit that does not train?"""
    monkeypatch.setattr(mnist_run, "standing_in", lambda: True)
    monkeypatch.setattr(mnist_run, "time_budget", lambda reference_seconds: 0.0)
    result = grade("exercise7", EXERCISE.reference_path.parent, visibility="public")
    check = next(c for c in result.checks if c.name == E2E)
    assert check.passed and check.details["timed"] is False, check.message
    assert check.details["reference_accuracy"] == check.details["accuracy"] > mnist_run.TARGET_ACCURACY


@pytest.mark.mnist
@pytest.mark.slow
def test_does_the_bundles_mnist_check_fail_an_untrained_model(grade, monkeypatch, tmp_path):
    """In the bundle's untimed check, does a fit that reports a perfect history without training still
    fail, on the accuracy measured from its weights, saying the time limit applies when graded?"""
    monkeypatch.setattr(mnist_run, "standing_in", lambda: True)
    source = (EXERCISE.reference_path.read_text()
              + "\n\ndef fit(model, train_loader, val_loader, epochs=10, lr=1e-3, device='cpu', patience=None):\n"
                "    return {'train_loss': [0.01] * epochs, 'val_loss': [0.01] * epochs, 'val_acc': [0.99] * epochs}\n")
    (tmp_path / "torch_training.py").write_text(source)
    check = next(c for c in grade("exercise7", tmp_path, visibility="public").checks if c.name == E2E)
    assert check.status == "failed" and "the time limit applies when your instructor grades" in check.message


# -- the contract-wide hidden checks (test_hidden_contract.py) ------------------------------------

from grader.checks.api import CheckFailed  # noqa: E402
from grader.checks.contract import _draw  # noqa: E402
from grader.checks.exercise7 import test_hidden_contract as contract_checks  # noqa: E402
from grader.sandbox.codec import Layout, with_layout  # noqa: E402

CORPUS7 = CASES.parent / "corpus" / "exercise7"


@pytest.fixture
def hidden_only(monkeypatch):
    """Grading options that run the hidden checks only, with the timed MNIST run stubbed out."""
    monkeypatch.setattr(mnist_run, "check", lambda student, options: None)
    return {"visibility": "hidden"}


@pytest.mark.parametrize("case, check, shrunk", [
    ("bug_std_zero_replaced_by_one", "normalize_contract", "x_train = [[0.0]]; x_1 = [[0.125]]"),
    ("bug_empty_hidden_sizes", "build_model_contract", "build_model(1, hidden_sizes=(), num_classes=2)"),
    ("bug_squeeze_logits", "evaluate_contract", "on 1 row in batches of 1"),
    ("bug_patience_counter_not_reset", "fit_early_stopping_contract", "patience=2"),
])
def test_does_a_contract_check_show_the_smallest_failing_input(grade, hidden_only, case, check, shrunk):
    """Does the message of a contract check name the call with Hypothesis's smallest failing input
    (one row, one feature, the smallest values), not the first random one it met?"""
    result = grade("exercise7", CORPUS7 / case, **hidden_only)
    assert shrunk in message_of(result, check)


def test_is_grading_with_the_contract_checks_deterministic(grade, hidden_only):
    """Does the same submission get the same verdict, messages included, when graded twice?"""
    runs = [grade("exercise7", CORPUS7 / "bug_patience_counter_not_reset", **hidden_only) for _ in range(2)]
    assert [(c.name, c.score, c.message) for c in runs[0].checks] == [(c.name, c.score, c.message)
                                                                      for c in runs[1].checks]


class LocalStudent:
    """A `student` whose normalize runs here: each array arrives in its memory layout."""

    def __init__(self, normalize):
        self._normalize = normalize

    def normalize(self, *arrays):
        return self._normalize(*[with_layout(a.array, a.layout) if isinstance(a, Layout) else a for a in arrays])


def normalize_with(eps, *, dtype=None, std_floor_one=False, shortcut=False):
    def normalize(x_train, *others):
        x_train = x_train if dtype is None else x_train.astype(dtype)
        mean = x_train.mean(axis=0)
        std = (np.sqrt(np.maximum((x_train ** 2).mean(axis=0) - mean ** 2, 0)) if shortcut else x_train.std(axis=0))
        if std_floor_one:
            std = np.where(std == 0, 1.0, std)
        return tuple((np.asarray(x, x_train.dtype) - mean) / (std + eps) for x in (x_train, *others))
    return normalize


def normalize_verdicts(normalize) -> list[bool]:
    """Whether check_normalize accepts `normalize` on each generated example."""
    student = LocalStudent(normalize)
    verdicts = []
    for example in _draw(contract_checks.normalize_inputs(), 25):
        try:
            contract_checks.check_normalize(student, example)
            verdicts.append(True)
        except CheckFailed:
            verdicts.append(False)
    return verdicts


@pytest.mark.parametrize("eps, dtype", [(1e-5, None), (1e-7, None), (1e-12, None), (np.finfo(float).eps, None),
                                        (1e-5, np.float32), (1e-8, np.float32), (1e-7, np.float64)])
def test_does_the_normalize_contract_accept_every_eps_and_precision_spec_allows(eps, dtype):
    """Does every (x - mean) / (std + eps) with 0 < eps <= 1e-5, computed in float32 or float64,
    pass on every generated example (constant features, one row and values near 200 included)?"""
    assert all(normalize_verdicts(normalize_with(eps, dtype=dtype)))


@pytest.mark.parametrize("mistake", [dict(std_floor_one=True), dict(shortcut=True), dict(eps=1e-3)])
def test_does_the_normalize_contract_refuse_what_spec_forbids(mistake):
    """Is a zero std replaced by 1, the E[x**2] - E[x]**2 variance, or an eps above 1e-5 refused on
    at least one generated example?"""
    options = dict(eps=1e-7, **mistake) if "eps" not in mistake else mistake
    assert not all(normalize_verdicts(normalize_with(**options)))


def test_does_the_scripted_model_make_fit_see_exactly_the_scripted_losses():
    """Does the reference's fit, on the early-stopping scenario's model, report exactly the scripted
    validation losses, stop where the rule says, and leave weights the model maps back to the best
    epoch (the claims the fit contract check rests on)?"""
    namespace = {"__name__": "probes_hidden"}
    exec(contract_checks.PROBES_SOURCE, namespace)  # noqa: S102 - the grader's own file
    losses = [1.0, 1.1, 0.9, 0.9, 0.89995, 1.2, 1.3, 1.4]
    for patience in (None, 1, 2, 3):
        model, train_loader, val_loader = namespace["fit_setup"]([contract_checks.UNTRAINED_LOSS] + losses, 3, 6, 4)
        history = ref.fit(model, train_loader, val_loader, epochs=len(losses), lr=contract_checks.FIT_LR,
                          patience=patience)
        rule = scenarios.early_stop(losses, patience)
        assert np.allclose(history["val_loss"], losses[:rule.epochs], rtol=1e-6)
        assert namespace["fit_report"](model) == rule.best + 1


def test_do_the_generated_loss_sequences_tell_every_early_stopping_mistake_apart():
    """Among the fit check's generated sequences, is there one for each classic early-stopping
    mistake on which that mistake runs another number of epochs, or keeps other weights?"""
    examples = _draw(contract_checks.fit_scenarios(), 16)
    for mistake in ({"extra_wait": 1}, {"extra_wait": -1}, {"strict": False}, {"reset": False},
                    {"min_delta": 1e-4}):
        assert any(scenarios.early_stop(losses, patience, **mistake) != scenarios.early_stop(losses, patience)
                   for losses, patience in examples), mistake
