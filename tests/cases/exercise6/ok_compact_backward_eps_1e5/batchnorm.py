# OK: the compact backward formula, eps = 1e-5 (the largest SPEC allows), np.var/np.std
import math

import numpy as np

EPS = 1e-5


class BatchNormalization:
    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        self.gamma, self.beta, self.momentum = gamma, beta, momentum
        self.running_mean, self.running_var = running_mean, running_var
        self.dgamma = self.dbeta = None

    def forward(self, x, train_flg=True):
        if self.running_mean is None:
            self.running_mean = np.zeros(x.shape[1])
            self.running_var = np.zeros(x.shape[1])
        if not train_flg:
            return self.gamma * (x - self.running_mean) / np.sqrt(self.running_var + EPS) + self.beta
        mean = np.mean(x, axis=0)
        var = np.var(x, axis=0)
        self.std = np.sqrt(var + EPS)
        self.x_hat = (x - mean) / self.std
        self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mean
        self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var
        return self.gamma * self.x_hat + self.beta

    def backward(self, dout):
        n = dout.shape[0]
        self.dbeta = np.sum(dout, axis=0)
        self.dgamma = np.sum(dout * self.x_hat, axis=0)
        dx_hat = dout * self.gamma
        return (n * dx_hat - dx_hat.sum(axis=0) - self.x_hat * np.sum(dx_hat * self.x_hat, axis=0)) / (n * self.std)


class Dropout:
    def __init__(self, dropout_ratio=0.5):
        self.dropout_ratio = dropout_ratio
        self.mask = None

    def forward(self, x, train_flg=True):
        if train_flg:
            self.mask = (np.random.random_sample(x.shape) >= self.dropout_ratio).astype(x.dtype)
            return x * self.mask
        return x * (1 - self.dropout_ratio)

    def backward(self, dout):
        return dout * self.mask


def xavier_std(n_in):
    return 1 / math.sqrt(n_in)


def he_std(n_in):
    return math.sqrt(2 / n_in)
