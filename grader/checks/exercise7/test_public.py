"""Public checks of exercise 7: each piece of the PyTorch training loop, then a timed run on MNIST.

The student's functions get models, loaders and optimizers built from torch's own classes in
their process (remote.py), with the same weights and data the reference gets here, so one
mistake costs points on the check that names it rather than on every check after it.
Whether the model was in training mode and whether autograd was recording are read during
the student's forward passes by a hook (remote.ForwardRecorder). The helpers the checks share with
test_hidden.py live in support.py; this file holds the checks.
"""

import numpy as np

from grader.checks.api import as_float, expect_shape, fail, public, show
from grader.checks.translated import _
from grader.checks.exercise7 import mnist_run, scenarios
from grader.checks.exercise7.remote import Remote
from grader.checks.exercise7.support import (LOSS_RTOL, MOVE_NOTE, NORMALIZE_ATOL, NORMALIZE_RTOL,
                                             WEIGHT_ATOL, WEIGHT_RTOL, check_architecture, check_batches_moved,
                                             check_restored, check_rows, close, device_type, epoch_setup, fit_mistake,
                                             layer_shapes,
                                             loader_data, moves_on_cuda, normalize_data, normalize_mistake,
                                             normalized_arrays, read_batches, rounded, rows_by_id, run_epoch,
                                             run_evaluate, run_fit, stop_mistake, student_loaders, weights_match,
                                             worst_weight)
from grader.sandbox.session import RemoteObject
from reference.exercise7 import torch_training as ref


# -- get_device ---------------------------------------------------------------------------------

@public(points=1)
def test_get_device(student):
    """get_device("cpu") is the CPU; get_device("auto") is CUDA only when it is available"""
    remote = Remote(student)
    got = device_type(remote, student.get_device("cpu"), 'get_device("cpu")')
    if got != "cpu":
        fail(_('get_device("cpu") returned torch.device("{got}"); expected torch.device("cpu").').format(got=got),
             hint=_('prefer="cpu" must give the CPU even when a GPU is present.'))
    cuda = bool(remote.torch.cuda.is_available())
    expected = "cuda" if cuda else "cpu"
    for call, value in (('get_device("auto")', student.get_device("auto")), ("get_device()", student.get_device())):
        got = device_type(remote, value, call)
        if got != expected:
            fail(_('{call} returned torch.device("{got}") on a machine where torch.cuda.is_available() is {cuda}; '
                   'expected torch.device("{expected}").').format(call=call, got=got, cuda=cuda, expected=expected),
                 hint=_("\"auto\" (the default) means: torch.device('cuda') if torch.cuda.is_available() else "
                        "torch.device('cpu')."))



# -- normalize ------------------------------------------------------------------------------------

@public(points=1.5)
def test_normalize_uses_training_statistics(student):
    """normalize standardizes every array with the mean and population std of x_train"""
    arrays = normalize_data()
    call = "normalize(x_train, x_val, x_test)"
    got = normalized_arrays(student.normalize(*arrays), 3, call)
    for name, g, expected in zip(("x_train", "x_val", "x_test"), got, ref.normalize(*arrays)):
        expect_shape(g, expected.shape, call=f"{call} for {name}")
        if not np.allclose(g, expected, rtol=NORMALIZE_RTOL, atol=NORMALIZE_ATOL):
            fail(_("{call} gave {got} for {name}; expected {expected}. Input x_train: {x_train}.").format(
                     call=call, got=show(g, 160), name=name, expected=show(expected, 160),
                     x_train=show(arrays[0], 160)),
                 hint=normalize_mistake(arrays, got), call=call,
                 expected=show(expected), got=show(g))
    normalized_arrays(student.normalize(arrays[0]), 1, "normalize(x_train)")



# -- build_model ----------------------------------------------------------------------------------

@public(points=2)
def test_build_model_layers_and_logits(student):
    """build_model is Linear + ReLU per hidden size and a final Linear that returns logits"""
    check_architecture(student, 7, (5, 4), 3)
    remote = Remote(student)
    model = student.build_model()
    if not isinstance(model, RemoteObject) or not remote.is_instance(model, "nn", "Module"):
        fail(_("{call} returned {value}; expected a torch.nn.Module.").format(call="build_model()",
                                                                             value=show(model, 80)))
    shapes = sorted(tuple(np.shape(v)) for v in remote.read_state(model).values())
    expected = sorted(layer_shapes([784, 256, 128, 10]))
    if shapes != expected:
        fail(_("build_model() (the defaults) has parameters of shapes {shapes}; expected {expected}.").format(
                 shapes=shapes, expected=expected),
             hint=_("keep the defaults input_size=784, hidden_sizes=(256, 128), num_classes=10."))



# -- make_loaders -----------------------------------------------------------------------------------

@public(points=1.5)
def test_make_loaders_batches_and_dtypes(student):
    """make_loaders gives batches of batch_size with float32 inputs and int64 labels, every row once"""
    x_train, t_train, x_val, t_val = arrays = loader_data()
    train_loader, val_loader = student_loaders(student, arrays)
    training, validation = _("training"), _("validation")
    check_rows(read_batches(train_loader, training), x_train, t_train, training, may_drop_last=True)
    check_rows(read_batches(val_loader, validation), x_val, t_val, validation, may_drop_last=False)


@public(points=1)
def test_make_loaders_shuffles_only_training(student):
    """only the training loader shuffles, anew every epoch; the validation loader keeps the row order"""
    remote = Remote(student)
    remote.torch.manual_seed(0)
    train_loader, val_loader = student_loaders(student, loader_data())
    first, second = (rows_by_id(read_batches(train_loader, _("training"), inputs=False, labels=False))[0]
                     for _epoch in range(2))
    if np.array_equal(first, np.sort(first)):
        fail(_("the training loader gave the rows in their original order {order}.").format(order=show(first, 120)),
             hint=_("pass shuffle=True to the training DataLoader: without it every epoch sees the same batches."))
    if np.array_equal(first, second):
        fail(_("the training loader gave the same order {order} in two epochs in a row.").format(
                 order=show(first, 120)),
             hint=_("let the DataLoader shuffle (shuffle=True) rather than permuting the arrays once."))
    for epoch in (1, 2):
        ids = rows_by_id(read_batches(val_loader, _("validation"), inputs=False, labels=False))[0]
        if not np.array_equal(ids, np.arange(len(ids))):
            fail(_("the validation loader gave the rows in the order {order} (epoch {epoch}); expected 0, 1, 2, ... in "
                   "order.").format(order=show(ids, 120), epoch=epoch),
                 hint=_("only the training loader shuffles: give the validation DataLoader shuffle=False (the "
                        "default), so every evaluation sees the same batches."))



# -- train_one_epoch --------------------------------------------------------------------------------

@public(points=2)
def test_train_one_epoch_updates_like_sgd(student):
    """train_one_epoch sets training mode and zeroes, computes and applies the gradients of every batch"""
    _returned, weights, recorder = run_epoch(student, scenarios.SGD_LR)
    if recorder.calls and not recorder.all("training"):
        fail(_("during train_one_epoch the model was in evaluation mode ({setup}; the model came in after "
               "model.eval()).").format(setup=epoch_setup()),
             hint=_("call model.train() at the start of train_one_epoch: evaluate leaves the model in eval mode, where "
                    "dropout and batch norm stop training behaviour."))
    expected = scenarios.reference_epoch().weights
    if weights_match(weights, expected):
        return
    initial = scenarios.train_problem().state
    if weights_match(weights, initial):
        hint = _("the weights did not change: call loss.backward() and then optimizer.step() for every batch, "
                 "and zero the gradients before backward(), not between backward() and step().")
    elif weights_match(weights, scenarios.accumulated_epoch().weights):
        hint = _("the gradients piled up from batch to batch: call optimizer.zero_grad() at the start of every batch "
                 "(PyTorch adds each backward() to .grad; it never clears it for you).")
    else:
        hint = _("per batch: optimizer.zero_grad(); loss = loss_fn(model(x), t); loss.backward(); optimizer.step(). "
                 "Use the optimizer and loss_fn you are given.")
    fail(_("after {setup}, the weights differ from the reference's: {difference} (tolerance rtol={rtol}, "
           "atol={atol}).").format(setup=epoch_setup(), difference=worst_weight(weights, expected), rtol=WEIGHT_RTOL,
                                   atol=WEIGHT_ATOL), hint=hint)


@public(points=1)
def test_train_one_epoch_returns_mean_loss_per_sample(student):
    """train_one_epoch returns the mean loss per sample, also when the last batch is smaller"""
    value = run_epoch(student, 0.0)[0]
    call = "train_one_epoch(...)"
    got = as_float(value, call=call, hint=_("return the epoch's mean loss as a number (loss.item())."))
    batches = scenarios.initial_batch_losses()
    losses, sizes = np.array([b[0] for b in batches]), np.array([b[1] for b in batches])
    expected = float(losses @ sizes / sizes.sum())
    if np.isclose(got, expected, rtol=LOSS_RTOL, atol=1e-7):
        return
    suspects = {
        _("that is the mean of the batch means: weight each batch's loss by its size (loss.item() * len(t)) and "
          "divide by the number of samples, because the last batch is smaller."): losses.mean(),
        _("that is the sum over the batches: divide by the number of samples."): losses.sum(),
        _("that is the total over all samples: divide it by the number of samples."): float(losses @ sizes),
        _("that is the last batch's loss: return the mean over the whole epoch."): losses[-1],
    }
    hint = next((h for h, v in suspects.items() if np.isclose(got, v, rtol=LOSS_RTOL)),
                _("sum loss.item() * len(t) over the batches and divide by the number of samples."))
    fail(_("with lr=0 (so every batch's loss is the initial model's) and batch losses {losses} over batches of "
           "{sizes} rows, {call} returned {got}; expected the mean per sample {expected}.").format(
             losses=rounded(losses.tolist()), sizes=sizes.tolist(), call=call, got=f"{got:.6g}",
             expected=f"{expected:.6g}"),
         hint=hint, expected=expected, got=got)



@public(points=1)
def test_train_one_epoch_moves_batches_to_device(student):
    """train_one_epoch moves every batch to the device it is given (checked without a GPU too)"""
    problem = scenarios.train_problem()

    def run(remote):
        model = remote.model(problem.layers, problem.state)
        optimizer = remote.torch.optim.SGD(model.parameters(), lr=scenarios.SGD_LR)
        loader = remote.loader(problem.x, problem.t, problem.batch_size)
        student.train_one_epoch(model, loader, optimizer, remote.nn.CrossEntropyLoss(), remote.torch.device("cuda"))

    check_batches_moved(moves_on_cuda(student, run), problem,
                        "train_one_epoch(model, loader, optimizer, loss_fn, device)")


# -- evaluate -------------------------------------------------------------------------------------

@public(points=1.5)
def test_evaluate_in_eval_mode_without_gradients(student):
    """evaluate puts the model in eval mode and runs it without gradient tracking"""
    (loss, accuracy), recorder = run_evaluate(student, "modes")
    setup = _("a model with batch norm and dropout, in training mode when it reached evaluate")
    if recorder.any("training"):
        fail(_("evaluate ran {setup} without switching it to evaluation mode.").format(setup=setup),
             hint=_("call model.eval() first: in training mode dropout drops units at random and batch norm uses the "
                    "batch's statistics (and updates its running ones)."))
    if recorder.any("grad_enabled"):
        fail(_("evaluate ran the model with autograd recording (torch.is_grad_enabled() was True in the forward "
               "pass)."),
             hint=_("wrap the loop in `with torch.no_grad():` (or torch.inference_mode()): no graph is needed to "
                    "evaluate, and building one costs time and memory."))
    if not recorder.calls:  # model.forward(x) called directly: judge eval mode by the numbers alone
        expected = scenarios.reference_evaluation("modes")
        if not np.isclose(loss, expected["loss"], rtol=LOSS_RTOL):
            fail(_("evaluate on {setup} gave loss {loss}; in eval mode it is {expected}.").format(
                     setup=setup, loss=f"{loss:.6g}", expected=f"{expected['loss']:.6g}"),
                 hint=_("call model.eval() before the loop, and call the model as model(x)."))


@public(points=1)
def test_evaluate_returns_loss_and_accuracy(student):
    """evaluate returns the mean loss per sample and the accuracy as a fraction"""
    loss, accuracy = run_evaluate(student, "plain")[0]
    expected = scenarios.reference_evaluation("plain")
    setup = _("{rows} rows in batches of {batch}, 4 and 2, with {right} predicted right").format(
        rows=scenarios.SMALL_ROWS, batch=scenarios.SMALL_BATCH,
        right=round(expected["accuracy"] * scenarios.SMALL_ROWS))
    if not np.isclose(loss, expected["loss"], rtol=LOSS_RTOL, atol=1e-7):
        hint = (_("that is the mean of the batch means: sum loss.item() * len(t) and divide by the number of samples "
                  "(the last batch is smaller).") if np.isclose(loss, expected["mean_of_batch_losses"], rtol=LOSS_RTOL)
                else _("sum loss.item() * len(t) over the batches and divide by the number of samples."))
        fail(_("evaluate on {setup} returned the loss {loss}; expected {expected}.").format(
                 setup=setup, loss=f"{loss:.6g}", expected=f"{expected['loss']:.6g}"), hint=hint)
    if not np.isclose(accuracy, expected["accuracy"], rtol=1e-6, atol=1e-9):
        if np.isclose(accuracy, 100 * expected["accuracy"]):
            hint = _("return the accuracy as a fraction between 0 and 1, not a percentage.")
        elif np.isclose(accuracy, expected["mean_of_batch_accuracies"]):
            hint = _("that is the mean of the batch accuracies: count correct predictions and divide by the number "
                     "of rows.")
        else:
            hint = _("accuracy = (logits.argmax(dim=1) == t).sum() over all batches / number of rows.")
        fail(_("evaluate on {setup} returned the accuracy {accuracy}; expected {expected}.").format(
                 setup=setup, accuracy=f"{accuracy:.6g}", expected=f"{expected['accuracy']:.6g}"),
             hint=hint)



@public(points=0.5)
def test_evaluate_moves_batches_to_device(student):
    """evaluate moves every batch to the device it is given (checked without a GPU too)"""
    problem = scenarios.plain_problem()

    def run(remote):
        model = remote.model(problem.layers, problem.state)
        loader = remote.loader(problem.x, problem.t, problem.batch_size)
        student.evaluate(model, loader, remote.nn.CrossEntropyLoss(), remote.torch.device("cuda"))

    check_batches_moved(moves_on_cuda(student, run), problem, "evaluate(model, loader, loss_fn, device)")


# -- fit ------------------------------------------------------------------------------------------

@public(points=2)
def test_fit_trains_with_adam_and_cross_entropy(student):
    """fit trains with Adam(lr) and cross-entropy, evaluating after each epoch, and returns the history"""
    problem = scenarios.SMOOTH
    run = run_fit(student, problem)
    expected = scenarios.trace(problem)
    runs = len(run.history["val_loss"])
    if runs != problem.epochs:
        fail(_("{problem} returned a history of {runs} epochs; expected {epochs} (with patience=None every epoch "
               "runs).").format(problem=problem.describe(), runs=runs, epochs=problem.epochs),
             hint=_("loop `for epoch in range(epochs)`; stop early only when patience is an int."))
    if max(run.history["val_acc"]) > 1.0:  # a percentage: test_evaluate_returns_loss_and_accuracy names it
        run.history["val_acc"] = [v / 100 for v in run.history["val_acc"]]
    for key in ("train_loss", "val_loss", "val_acc"):
        if not close(run.history[key], expected.history[key]):
            fail(_("{problem} (validation loss falling every epoch) returned {key} {got}; expected {expected}.").format(
                     problem=problem.describe(), key=key, got=rounded(run.history[key]),
                     expected=rounded(expected.history[key])),
                 hint=fit_mistake(run.history), expected=rounded(expected.history[key]), got=rounded(run.history[key]))
    if not weights_match(run.state, expected.states[-1], rtol=1e-3, atol=1e-5):
        fail(_("after {problem} the history is right but the model's weights are not the last (and best) epoch's: "
               "{difference}.").format(problem=problem.describe(),
                                       difference=worst_weight(run.state, expected.states[-1])),
             hint=_("train the model you are given, in place, and load the best epoch's weights back into it."))


@public(points=1.5)
def test_fit_early_stopping_patience(student):
    """with patience, fit stops after `patience` epochs in a row without a new best validation loss"""
    problem = scenarios.BUMPY
    run = run_fit(student, problem)
    losses = run.history["val_loss"]
    rule = scenarios.early_stop(losses, problem.patience)
    if rule.epochs == len(losses) and (rule.early or len(losses) == problem.epochs):
        return
    reference = scenarios.trace(problem).history["val_loss"]
    stop = scenarios.early_stop(reference, problem.patience)
    fail(_("{problem}: your run's validation losses were {losses} and it ran {runs} epochs; with these losses the "
           "rule stops after epoch {stop} (the best is epoch {best}; then {patience} epochs without a lower loss). The "
           "reference's losses were {reference}.").format(problem=problem.describe(), losses=rounded(losses),
                                                          runs=len(losses), stop=rule.epochs, best=rule.best + 1,
                                                          patience=problem.patience,
                                                          reference=rounded(reference[:stop.epochs])),
         hint=stop_mistake(losses, problem.patience, len(losses), problem.epochs))


@public(points=1.5)
def test_fit_restores_best_weights(student):
    """after early stopping, fit leaves the model with the weights of its best validation loss"""
    check_restored(student, scenarios.BUMPY)


@public(points=1)
def test_fit_moves_model_to_device(student):
    """fit moves the model to the device it is given (checked without a GPU too)"""
    problem = scenarios.SMOOTH
    x, t, xv, tv = problem.arrays
    call = f"fit(model, train_loader, val_loader, epochs=1, lr={problem.lr}, device='cuda')"

    def run(remote):
        model = remote.model(scenarios.FIT_LAYERS, problem.state)
        student.fit(model, remote.loader(x, t, problem.train_batch), remote.loader(xv, tv, problem.val_batch),
                    epochs=1, lr=problem.lr, device="cuda")

    moves = moves_on_cuda(student, run)
    if moves is None or any(m["device"].startswith("cuda") for m in moves.of_modules()):
        return
    elsewhere = sorted({m["device"] for m in moves.of_modules()})
    seen = (_("it moved the model to {devices} instead").format(devices=" and ".join(elsewhere)) if elsewhere
            else _("neither fit nor the functions it calls called model.to(device)"))
    fail(_("{call} never moved the model to the device: {seen} {note}.").format(call=call, seen=seen,
                                                                               note=_(MOVE_NOTE)),
         hint=_("call model.to(device) at the start of fit, before the first epoch: on a GPU the batches go to the "
                "device, and a model left on the CPU cannot take them."), call=call)


# -- MNIST, timed -----------------------------------------------------------------------------------

@public(points=3)
def test_mnist_end_to_end(student, options):
    """your build_model and fit reach the target validation accuracy on MNIST in a time budget"""
    mnist_run.check(student, options)
