"""Runs inside the student's process for test_hidden_contract.py, sent there as source (as
move_recorder.py is): each generated example's torch objects are built there in one call and
what the checks judge is read back in one call, so an example costs three round trips rather
than a dozen. It imports torch and numpy only: the grader's packages are not importable there.

ScriptedLosses is the model of fit's early-stopping scenarios: its validation loss follows a
list the grader generates, epoch by epoch, and its one weight counts the epochs it trained, so
the weights fit leaves in it say which epoch they come from.
"""

import math

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def loader(x, t, batch_size):
    """Batches in the rows' order (no shuffling), float32 inputs and int64 labels."""
    dataset = TensorDataset(torch.as_tensor(np.asarray(x, np.float32)), torch.as_tensor(np.asarray(t, np.int64)))
    return DataLoader(dataset, batch_size=batch_size, shuffle=False)


class ModeLog:
    """A forward pre-hook that notes, for every forward pass, whether the model was in training
    mode and whether autograd was recording. model.forward(x) called directly skips hooks, so an
    empty log means "not observed"."""

    def __init__(self, model):
        self.calls = []
        model.register_forward_pre_hook(self)

    def __call__(self, module, args):
        self.calls.append([bool(module.training), bool(torch.is_grad_enabled())])


def epoch_setup(layers, state, x, t, batch_size, lr, training):
    """(model, loader, optimizer or None, loss_fn, device, log) for train_one_epoch or evaluate:
    a torch Sequential holding `state`, in training mode or not as asked."""
    model = nn.Sequential(*[getattr(nn, name)(*args) for name, *args in layers])
    model.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in state.items()})
    model.train(training)
    log = ModeLog(model)
    optimizer = None if lr is None else torch.optim.SGD(model.parameters(), lr=lr)
    return model, loader(x, t, batch_size), optimizer, nn.CrossEntropyLoss(), torch.device("cpu"), log


def epoch_report(model, log):
    """The model's weights as arrays and the log of its forward passes."""
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}, list(log.calls)


def model_state(model):
    """(is it an nn.Module, its state as arrays, in its own order)."""
    if not isinstance(model, nn.Module):
        return False, {}
    return True, {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


def model_output(model, x):
    """The model's output on x in evaluation mode, without gradients."""
    model.eval()
    with torch.no_grad():
        return model(torch.as_tensor(np.asarray(x, np.float32)))


TRAINING_ROW = -1.0
"""The input of every training row; validation rows hold their row number (>= 0)."""


class ScriptedLosses(nn.Module):
    """One weight w, 0 before training. Training rows get the logits [0, 0] (label 0), plus
    w - w.detach() along [-1, 1]: a loss of log 2 whose gradient with respect to w is 1 whatever
    w is, so every optimizer step moves w by the same amount and w / (w after one step) counts
    the epochs trained. Validation rows (label 1) get the logits [a, 0] with
    log(1 + e^a) = val_losses[epochs trained]: each row's cross-entropy, hence the mean loss per
    sample, is exactly the scripted loss. val_losses[0] is the untrained model's."""

    def __init__(self, val_losses):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))
        self.val_losses = [float(v) for v in val_losses]
        self.step = None

    def epochs_trained(self):
        w = float(self.w.detach().cpu()[0])
        if w == 0.0:
            return 0
        if self.step is None:  # the first trained weight seen is one step's: fit evaluates after each epoch
            self.step = w
        return int(round(w / self.step))

    def forward(self, x):
        n = x.shape[0]
        direction = torch.tensor([-1.0, 1.0], device=x.device)
        train_logits = torch.zeros(n, 2, device=x.device) + (self.w - self.w.detach()) * direction
        epoch = min(max(self.epochs_trained(), 0), len(self.val_losses) - 1)
        a = math.log(math.expm1(self.val_losses[epoch]))
        val_logits = torch.tensor([a, 0.0], device=x.device).expand(n, 2)
        return torch.where((x[:, 0] < 0).unsqueeze(1), train_logits, val_logits)


def fit_setup(val_losses, train_rows, val_rows, batch_size):
    """(model, train_loader, val_loader): one training batch per epoch; validation in batches."""
    x_train = np.full((train_rows, 1), TRAINING_ROW)
    x_val = np.arange(val_rows, dtype=float).reshape(-1, 1)
    return (ScriptedLosses(val_losses), loader(x_train, np.zeros(train_rows), train_rows),
            loader(x_val, np.ones(val_rows), batch_size))


def fit_report(model):
    """How many epochs the weights the model holds were trained for (0: untrained), or None when
    that cannot be told (trained, but never evaluated afterwards)."""
    if float(model.w.detach().cpu()[0]) == 0.0:
        return 0
    return None if model.step is None else model.epochs_trained()
