"""Exercise 6 — batch normalization, dropout and weight-initialisation scales (book 6.2-6.4).

Layers in this exercise follow the book's layer interface: `forward(x, train_flg=True)`
computes the output and remembers what `backward` will need; `backward(dout)` receives
dL/d(output) and returns dL/d(input). Inputs are 2-D: x of shape (N, D) — N samples in the
batch, D features.

Where to start: xavier_std and he_std (one line each), then Dropout, then
BatchNormalization.forward in training mode, its running statistics and test mode, and
last BatchNormalization.backward (draw the computational graph of figure 6-17 first).

Check your work at any time with:

    grade exercise6
"""

import numpy as np


class BatchNormalization:
    """Normalise every feature over the batch, then scale by gamma and shift by beta.

    Constructor:
    - gamma, beta: arrays of shape (D,) (the learned scale and shift).
    - momentum: weight of the OLD running average when updating it (default 0.9).
    - running_mean, running_var: the running statistics to start from; when None (the
      default), they start as zeros of shape (D,) on the first forward call.
    Keep them as self.running_mean and self.running_var.

    forward(x, train_flg=True), x of shape (N, D); returns an array of shape (N, D).
    In training (train_flg=True), per feature (column, axis=0):
        mu    = mean of x over the batch                     shape (D,)
        var   = mean of (x - mu)**2 over the batch           shape (D,)  (divide by N, not N-1)
        x_hat = (x - mu) / sqrt(var + eps)                   eps between 1e-8 and 1e-5, e.g. 1e-7
        out   = gamma * x_hat + beta
        running_mean <- momentum * running_mean + (1 - momentum) * mu
        running_var  <- momentum * running_var  + (1 - momentum) * var
    At test time (train_flg=False) use the running statistics instead of the batch ones
    (and leave them unchanged):
        out = gamma * (x - running_mean) / sqrt(running_var + eps) + beta

    backward(dout), dout of shape (N, D) — the gradient of the loss w.r.t. the output of the
    LAST training forward call. Returns dx of shape (N, D) and sets
        self.dbeta  = sum of dout over the batch             shape (D,)
        self.dgamma = sum of x_hat * dout over the batch     shape (D,)
    dx must include the paths through mu and var (every x[i] changes the batch statistics).
    Either backpropagate step by step through the graph (the book) or use the compact form
        dx = (1 / (N * std)) * (N * dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat)),
    with dx_hat = gamma * dout, std = sqrt(var + eps) and sums over axis 0. The grader compares
    all three with numerical gradients.
    """

    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        self.gamma = gamma
        self.beta = beta
        self.momentum = momentum
        self.running_mean = running_mean
        self.running_var = running_var
        self.dgamma = None
        self.dbeta = None

    def forward(self, x, train_flg=True):
        raise NotImplementedError("BatchNormalization.forward: normalise with the batch (train) or running "
                                  "(test) statistics, then gamma * x_hat + beta")

    def backward(self, dout):
        raise NotImplementedError("BatchNormalization.backward: set self.dgamma, self.dbeta and return dx")


class Dropout:
    """Randomly silence units during training (book 6.4.3).

    forward(x, train_flg=True), x of any shape:
    - in training, draw a NEW random mask of x's shape on every call, keeping each unit with
      probability 1 - dropout_ratio (e.g. mask = np.random.rand(*x.shape) > dropout_ratio),
      remember it, and return x * mask;
    - at test time return x * (1 - dropout_ratio): the expected value of the training output.
    (Inverted dropout is accepted too: return x * mask / (1 - dropout_ratio) in training and x
    unchanged at test time. What matters is that the expected training output equals the
    test output.)

    backward(dout): the gradient flows only through the units the LAST forward call kept,
    with the same scale as that forward: dout * mask (or dout * mask / (1 - dropout_ratio)).
    """

    def __init__(self, dropout_ratio=0.5):
        self.dropout_ratio = dropout_ratio
        self.mask = None

    def forward(self, x, train_flg=True):
        raise NotImplementedError("Dropout.forward: random mask in training, scale by (1 - ratio) at test time")

    def backward(self, dout):
        raise NotImplementedError("Dropout.backward: dout times the mask of the last forward")


def xavier_std(n_in):
    """Standard deviation of Xavier (Glorot) initialisation for a layer with n_in inputs:
    1 / sqrt(n_in) (suits sigmoid and tanh). Example: xavier_std(100) == 0.1."""
    raise NotImplementedError("xavier_std: 1 / sqrt(n_in)")


def he_std(n_in):
    """Standard deviation of He initialisation for a layer with n_in inputs: sqrt(2 / n_in)
    (suits ReLU). Example: he_std(50) == 0.2."""
    raise NotImplementedError("he_std: sqrt(2 / n_in)")
