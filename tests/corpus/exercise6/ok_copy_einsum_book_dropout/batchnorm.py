"""Exercise 6: batch norm that works on its own copy of x (in place), dgamma with einsum; the
book's dropout with a float mask."""

import math

import numpy as np

EPS = 1e-8


class BatchNormalization:
    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        self.gamma = gamma
        self.beta = beta
        self.momentum = momentum
        self.running_mean = running_mean
        self.running_var = running_var
        self.saved = {}
        self.dgamma = None
        self.dbeta = None

    def _ensure_running(self, d):
        if self.running_mean is None:
            self.running_mean = np.zeros(d)
        if self.running_var is None:
            self.running_var = np.zeros(d)

    def forward(self, x, train_flg=True):
        self._ensure_running(x.shape[1])
        z = np.array(x, dtype=float)          # my own copy: free to change in place
        if train_flg:
            mu = z.mean(axis=0)
            z -= mu
            var = np.einsum("nd,nd->d", z, z) / z.shape[0]
            inv_std = 1.0 / np.sqrt(var + EPS)
            self.saved = {"xc": z.copy(), "inv_std": inv_std, "n": z.shape[0]}
            z *= inv_std
            self.saved["x_hat"] = z.copy()
            self.running_mean = self.running_mean * self.momentum + mu * (1 - self.momentum)
            self.running_var = self.running_var * self.momentum + var * (1 - self.momentum)
        else:
            z -= self.running_mean
            z /= np.sqrt(self.running_var + EPS)
        return z * self.gamma + self.beta

    def backward(self, dout):
        s = self.saved
        self.dbeta = np.sum(dout, axis=0)
        self.dgamma = np.einsum("nd,nd->d", s["x_hat"], dout)
        dxc = self.gamma * dout * s["inv_std"]
        dvar = -0.5 * np.sum(self.gamma * dout * s["xc"], axis=0) * s["inv_std"] ** 3
        dxc = dxc + 2.0 * s["xc"] * dvar / s["n"]
        return dxc - dxc.mean(axis=0)


class Dropout:
    def __init__(self, dropout_ratio=0.5):
        self.dropout_ratio = dropout_ratio
        self.mask = None

    def forward(self, x, train_flg=True):
        if train_flg:
            self.mask = (np.random.rand(*x.shape) > self.dropout_ratio).astype(float)
            return np.multiply(x, self.mask)
        return np.multiply(x, 1.0 - self.dropout_ratio)

    def backward(self, dout):
        return np.multiply(dout, self.mask)


def xavier_std(n_in):
    return 1 / math.sqrt(n_in)


def he_std(n_in):
    return math.sqrt(2) / math.sqrt(n_in)
