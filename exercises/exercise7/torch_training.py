"""Exercise 7 — training a network with PyTorch: loaders, the training loop, evaluation,
early stopping, and a timed run on MNIST.

Chapters 4–6 built every piece by hand. PyTorch gives you the same pieces ready-made:
`nn.Linear` holds W and b, `loss.backward()` is backpropagation, `torch.optim.Adam` is the
optimizer of exercise 5, and a `DataLoader` draws the mini-batches. Your job is to wire them
together the idiomatic way. Work top to bottom; each function uses the ones above it.

A typical run, once everything works:

    x_train, x_val = normalize(x_train, x_val)
    train_loader, val_loader = make_loaders(x_train, t_train, x_val, t_val, batch_size=64)
    model = build_model()
    history = fit(model, train_loader, val_loader, epochs=5, device=get_device(), patience=2)

Check your work at any time with:

    grade exercise7

The last check trains your `build_model()` with your `fit` on MNIST and times it next to
the reference solution (on the GPU when there is one, else on the CPU).
"""

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def get_device(prefer="auto"):
    """The torch.device to train on.

    - prefer="auto": torch.device("cuda") when torch.cuda.is_available(), else
      torch.device("cpu"). Ask torch.cuda.is_available() each time the function is called.
    - prefer="cpu": torch.device("cpu");  prefer="cuda": torch.device("cuda").

    Returns a torch.device (not a string).
    """
    raise NotImplementedError("get_device: torch.device('cuda' if torch.cuda.is_available() else 'cpu')")


def normalize(x_train, *others):
    """Standardize every feature (column) with statistics of the TRAINING data only.

    Inputs: x_train of shape (N, D); others: any number of arrays of shape (M, D)
    (validation, test). All are numpy arrays.

    With mean = x_train.mean(axis=0) and std = x_train.std(axis=0) (the population standard
    deviation, ddof=0, numpy's default), return the TUPLE

        ((x_train - mean) / (std + eps), (other_1 - mean) / (std + eps), ...)

    with a small eps (at most 1e-5, e.g. 1e-7) so a feature that is constant in x_train
    (std 0, like MNIST's border pixels) stays finite. normalize(x) returns a 1-tuple (x_n,).

    Never compute the statistics from the validation or test data: the model must not learn
    anything from them, not even their mean.

    Example: normalize(np.array([[0.], [2.]]), np.array([[4.]])) ≈ (array([[-1.], [1.]]),
    array([[3.]])).
    """
    raise NotImplementedError("normalize: mean and std (ddof=0) of x_train, applied to every array")


def build_model(input_size=784, hidden_sizes=(256, 128), num_classes=10):
    """An nn.Module: for each size in hidden_sizes an nn.Linear followed by nn.ReLU, then a
    final nn.Linear to num_classes.

    Inputs: x of shape (N, input_size). The model returns LOGITS of shape (N, num_classes):
    do not end with a softmax, nn.CrossEntropyLoss applies log-softmax itself.

    Example: build_model(784, (256, 128), 10) is
    Linear(784, 256) -> ReLU -> Linear(256, 128) -> ReLU -> Linear(128, 10).
    Start with layers = [] and nn.Sequential(*layers).
    """
    raise NotImplementedError("build_model: Linear + ReLU per hidden size, then a final Linear")


def make_loaders(x_train, t_train, x_val, t_val, batch_size=32):
    """Two DataLoaders: (train_loader, val_loader).

    Inputs: numpy arrays x_* of shape (N, D) (of any float dtype) and integer labels t_* of
    shape (N,).

    Each loader yields batches (x, t) with x a float32 tensor of shape (B, D) and t an int64
    tensor of shape (B,) (nn.CrossEntropyLoss needs int64 class labels), B = batch_size
    except possibly for the last batch.

    Only the training loader shuffles (shuffle=True): the validation loader visits the rows
    in order, every row once. Start with TensorDataset(torch.as_tensor(x, dtype=...), ...).
    """
    raise NotImplementedError("make_loaders: TensorDataset + DataLoader, shuffle only the training set")


def train_one_epoch(model, loader, optimizer, loss_fn, device):
    """One pass over `loader`, updating the model. Returns the mean loss PER SAMPLE.

    Put the model in training mode (model.train()), then for every batch (x, t):
    move x and t to `device`, zero the gradients (optimizer.zero_grad()), compute the
    logits and loss_fn(logits, t), call loss.backward(), then optimizer.step().

    loss_fn returns the MEAN loss of its batch, and the last batch may be smaller than the
    others, so sum loss.item() * len(t) over the batches and divide by the number of
    samples (not by the number of batches).
    """
    raise NotImplementedError("train_one_epoch: train(), then zero_grad / forward / loss / backward / step")


def evaluate(model, loader, loss_fn, device):
    """The model's (mean loss per sample, accuracy) on `loader`, without changing it.

    Put the model in evaluation mode (model.eval(): dropout off, batch norm uses its running
    statistics) and compute under torch.no_grad() (no graph is built, which saves time and
    memory). accuracy = (number of rows whose largest logit is the label) / (number of rows),
    a fraction between 0 and 1. The mean loss is per sample, as in train_one_epoch.
    """
    raise NotImplementedError("evaluate: eval() and torch.no_grad(), then loss and accuracy per sample")


def fit(model, train_loader, val_loader, epochs=10, lr=1e-3, device="cpu", patience=None):
    """Train with Adam(lr) and nn.CrossEntropyLoss(), with optional early stopping.

    Each epoch: train_one_epoch on train_loader, then evaluate on val_loader; append the
    epoch's train loss, validation loss and validation accuracy to the history.

    Early stopping: an epoch IMPROVES when its validation loss is strictly below the best
    so far. With patience (an int >= 1), stop after `patience` consecutive epochs without
    improvement. Example, patience=2 and val losses 0.9, 0.7, 0.8, 0.75, ...: epoch 2 is the
    best; epochs 3 and 4 do not improve, so training stops after epoch 4. With
    patience=None run all `epochs`.

    At the end (with or without patience) the model must hold the weights of its best epoch:
    save a COPY of them when an epoch improves (copy.deepcopy(model.state_dict());
    state_dict() alone returns the live tensors, which keep changing) and load it back with
    model.load_state_dict(...) before returning.

    Returns {"train_loss": [...], "val_loss": [...], "val_acc": [...]}, one float per epoch run.
    """
    raise NotImplementedError("fit: Adam + CrossEntropyLoss, train/evaluate per epoch, keep the best weights")
