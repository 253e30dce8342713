"""Hidden checks of exercise 7: a simulated GPU, constant features, other layer sizes, float64
inputs, ties in the validation loss, restoring the best weights without patience, and the
handout's default arguments."""

from dataclasses import replace

import numpy as np

from grader.checks.api import fail, hidden, show
from grader.checks.translated import _, join
from grader.checks.exercise7 import scenarios
from grader.checks.exercise7.remote import Remote, SimulatedCuda
from grader.checks.exercise7.support import (SPEC_SIGNATURES, check_architecture, check_restored, device_type,
                                             loader_data, normalize_data, normalized_arrays, read_batches, run_fit,
                                             signature_mistake, spec_call, student_loaders)
from grader.sandbox.errors import StudentRaised


@hidden(points=0.5)
def test_get_device_auto_prefers_cuda(student):
    """get_device("auto") picks CUDA when torch.cuda.is_available() says there is a GPU"""
    remote = Remote(student)
    simulated = not bool(remote.torch.cuda.is_available())
    try:
        if simulated:
            with SimulatedCuda(remote):
                value = student.get_device("auto")
        else:
            value = student.get_device("auto")
    except StudentRaised as exc:
        if simulated and not exc.not_implemented and ("cuda" in exc.text.lower() or "nvidia" in exc.text.lower()):
            return  # it went on to use the simulated GPU (e.g. get_device_name): it did pick CUDA
        raise
    # A string instead of a torch.device costs points in the public check; here only the choice counts.
    got = value if isinstance(value, str) else device_type(remote, value, 'get_device("auto")')
    if not got.startswith("cuda"):
        rationale = (_('with torch.cuda.is_available() returning True (simulated by the grader), get_device("auto") '
                       'returned torch.device("{got}"); expected torch.device("cuda").') if simulated else
                     _('with torch.cuda.is_available() returning True, get_device("auto") returned '
                       'torch.device("{got}"); expected torch.device("cuda").'))
        fail(rationale.format(got=got),
             hint=_("call torch.cuda.is_available() inside get_device, each time it is called, and return "
                    "torch.device('cuda') when it is True."))


@hidden(points=0.5)
def test_normalize_constant_features_stay_finite(student):
    """normalize keeps a feature that is constant in x_train finite (std 0, like MNIST's border pixels) and on the right side of the mean"""
    x_train, x_val = normalize_data()[:2]
    x_train[:, 2] = 0.0
    x_val[:, 2] = 0.0
    x_val[1, 2] = 1.0
    call = "normalize(x_train, x_val) with column 2 of x_train all zeros"
    got = normalized_arrays(student.normalize(x_train, x_val), 2, call)
    # Finite, and the sign of x_val[1, 2] = 1 / eps, is all this check asks: the other values are the
    # public check's business, and the size of 1 / eps depends on the eps chosen.
    if not all(np.all(np.isfinite(g)) for g in got):
        fail(_("{call} gave non-finite values: {first} and {second}.").format(call=call, first=show(got[0], 160),
                                                                              second=show(got[1], 160)),
             hint=_("add a small eps (at most 1e-5) to the standard deviation: (x - mean) / (std + eps)."))
    # Whatever eps in (0, 1e-5] was chosen, x_val[1, 2] = (1 - 0) / (0 + eps) is at least 1e5.
    if not got[1][1, 2] > 0:
        fail(_("{call} gave x_val[1, 2] = {got} for x_val[1, 2] = 1 above the training mean 0; expected "
               "(1 - 0) / (0 + eps), a large positive number.").format(call=call, got=f"{got[1][1, 2]:.4g}"),
             hint=_("add the small eps to the standard deviation, (x - mean) / (std + eps) with eps > 0; "
                    "subtracting it flips the sign of every constant feature."))


@hidden(points=0.5)
def test_build_model_honours_other_sizes(student):
    """build_model builds one hidden layer, or three, from hidden_sizes given as a tuple or a list"""
    check_architecture(student, 6, (9,), 2, forward=False)  # the layers' order and activations: the public check
    check_architecture(student, 6, [9, 8, 7], 2, forward=False)


@hidden(points=0.5)
def test_make_loaders_converts_float64_inputs(student):
    """make_loaders gives float32 batches even when x arrives as float64 (numpy's default)"""
    arrays = loader_data(np.float64)
    for loader, name in zip(student_loaders(student, arrays), (_("training"), _("validation"))):
        batches = read_batches(loader, name, labels=False)
        if not batches:
            fail(_("the {name} loader gave no batches.").format(name=name),
                 hint=_("build each loader on all its rows."))


@hidden(points=0.5)
def test_fit_improvement_is_strict(student):
    """an epoch whose validation loss only equals the best is not an improvement"""
    problem = scenarios.FROZEN
    run = run_fit(student, problem)
    losses = run.history["val_loss"]
    if len(set(losses)) > 1 or len(losses) < problem.epochs:
        return  # no ties to judge (lr not honoured: the Adam check), or it stopped (when: the patience check)
    hint = _("a tie is not an improvement: count an epoch as better only when val_loss < best_loss (strictly), "
             "otherwise add 1 to the epochs without improvement. (If your fit never stops early at all, the patience "
             "check says more.)")
    fail(_("{problem}: with lr=0 every epoch's validation loss is the same ({loss}), so only epoch 1 improves and "
           "training stops after epoch {stop}; yours ran {runs} epochs.").format(
             problem=problem.describe(), loss=f"{losses[0]:.4f}", stop=1 + problem.patience, runs=len(losses)),
         hint=hint)


@hidden(points=0.5)
def test_fit_restores_best_without_patience(student):
    """with patience=None, fit still leaves the model with its best epoch's weights"""
    check_restored(student, scenarios.BUMPY_NO_PATIENCE)


@hidden(points=0.5)
def test_default_arguments_follow_the_handout(student):
    """get_device, build_model, make_loaders and fit have the handout's parameters and defaults (prefer="auto"; 784, (256, 128), 10; batch_size=32; epochs=10, lr=1e-3, device="cpu", patience=None)"""
    # The signatures earn their points once the functions run (the handout's stub has them right).
    student.get_device("cpu")
    check_architecture(student, 6, (9,), 2, forward=False)
    student_loaders(student, loader_data())
    run_fit(student, replace(scenarios.SMOOTH, epochs=1))
    inspect = student.import_module("inspect")
    mistakes = {name: mistake for name in SPEC_SIGNATURES
                if (mistake := signature_mistake(name, inspect.getfullargspec(getattr(student, name))))}
    if mistakes:
        fail(_("{mistakes}.").format(mistakes=join("; ", list(mistakes.values()))),
             hint=_("keep the handout's signature(s): {signatures}. Pass other values when you call it instead of "
                    "changing the defaults.").format(signatures=", ".join(spec_call(n) for n in mistakes)))
