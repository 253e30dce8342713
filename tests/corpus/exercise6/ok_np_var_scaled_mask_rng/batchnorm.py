"""Exercise 6: batch norm with np.var and a step-by-step backward; inverted dropout drawing from
its own generator and keeping the scaled mask."""

import numpy as np


class BatchNormalization:
    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        self.gamma = gamma
        self.beta = beta
        self.momentum = momentum
        self.running_mean = running_mean
        self.running_var = running_var
        self.dgamma = None
        self.dbeta = None

    def forward(self, x, train_flg=True):
        if self.running_mean is None:
            self.running_mean = np.zeros(x.shape[1])
            self.running_var = np.zeros(x.shape[1])
        if train_flg:
            mean = np.mean(x, axis=0)
            var = np.var(x, axis=0)
            self.x, self.mean, self.var = x.copy(), mean, var
            self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mean
            self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var
        else:
            mean, var = self.running_mean, self.running_var
        return self.gamma * (x - mean) / np.sqrt(var + 1e-6) + self.beta

    def backward(self, dout):
        n = dout.shape[0]
        xc = self.x - self.mean
        std = np.sqrt(self.var + 1e-6)
        x_hat = xc / std
        self.dbeta = np.sum(dout, axis=0)
        self.dgamma = np.sum(dout * x_hat, axis=0)
        dx_hat = dout * self.gamma
        dvar = np.sum(dx_hat * xc, axis=0) * -0.5 * std ** -3
        dmean = -np.sum(dx_hat, axis=0) / std + dvar * np.mean(-2.0 * xc, axis=0)
        return dx_hat / std + dvar * 2.0 * xc / n + dmean / n


class Dropout:
    def __init__(self, dropout_ratio=0.5):
        self.dropout_ratio = dropout_ratio
        self.rng = np.random.default_rng()
        self.scaled_mask = None

    def forward(self, x, train_flg=True):
        if train_flg:
            keep = 1.0 - self.dropout_ratio
            self.scaled_mask = (self.rng.random(x.shape) < keep) / keep
            return x * self.scaled_mask
        return x.copy()

    def backward(self, dout):
        return dout * self.scaled_mask


def xavier_std(n_in):
    return np.sqrt(1.0 / n_in)


def he_std(n_in):
    return np.sqrt(2.0 / n_in)
