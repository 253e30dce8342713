"""Exercise 6: batch norm with keepdims statistics and the compact backward; inverted dropout."""

import numpy as np


class BatchNormalization:
    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        self.gamma, self.beta, self.momentum = gamma, beta, momentum
        self.running_mean, self.running_var = running_mean, running_var
        self.eps = 1e-5
        self.cache = None
        self.dgamma = self.dbeta = None

    def forward(self, x, train_flg=True):
        d = x.shape[1]
        if self.running_mean is None:
            self.running_mean, self.running_var = np.zeros(d), np.zeros(d)
        if not train_flg:
            return self.gamma * (x - self.running_mean) / np.sqrt(self.running_var + self.eps) + self.beta
        mu = np.mean(x, axis=0, keepdims=True)
        var = np.mean((x - mu) ** 2, axis=0, keepdims=True)
        std = np.sqrt(var + self.eps)
        x_hat = (x - mu) / std
        self.cache = (x_hat, std)
        self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu.ravel()
        self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var.ravel()
        return self.gamma * x_hat + self.beta

    def backward(self, dout):
        x_hat, std = self.cache
        n = dout.shape[0]
        self.dbeta = dout.sum(axis=0)
        self.dgamma = (x_hat * dout).sum(axis=0)
        dx_hat = self.gamma * dout
        return (n * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0)) / (n * std)


class Dropout:
    """Inverted dropout: kept units scaled up in training, x unchanged at test time."""

    def __init__(self, dropout_ratio=0.5):
        self.dropout_ratio = dropout_ratio
        self.keep = None

    def forward(self, x, train_flg=True):
        if not train_flg:
            return x
        self.keep = (np.random.random(x.shape) >= self.dropout_ratio) / (1.0 - self.dropout_ratio)
        return x * self.keep

    def backward(self, dout):
        return dout * self.keep


def xavier_std(n_in):
    return n_in ** -0.5


def he_std(n_in):
    return (2 / n_in) ** 0.5
