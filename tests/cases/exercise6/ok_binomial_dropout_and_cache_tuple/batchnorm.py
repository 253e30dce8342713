# OK: inverted dropout with np.random.binomial; batch norm caching a tuple, std via np.std, x kept unmodified
import numpy as np


class BatchNormalization:
    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        self.gamma = np.asarray(gamma, dtype=float)
        self.beta = np.asarray(beta, dtype=float)
        self.momentum = momentum
        self.running_mean = None if running_mean is None else np.array(running_mean, dtype=float)
        self.running_var = None if running_var is None else np.array(running_var, dtype=float)
        self.dgamma = None
        self.dbeta = None
        self._saved = None

    def _ensure_running(self, d):
        if self.running_mean is None:
            self.running_mean = np.zeros(d)
        if self.running_var is None:
            self.running_var = np.zeros(d)

    def forward(self, x, train_flg=True):
        self._ensure_running(x.shape[1])
        if train_flg:
            mean = x.mean(axis=0)
            var = x.var(axis=0)
            std = np.sqrt(var + 1e-7)
            x_hat = (x - mean) / std
            self._saved = (x_hat, std)
            m = self.momentum
            self.running_mean *= m
            self.running_mean += (1 - m) * mean
            self.running_var *= m
            self.running_var += (1 - m) * var
        else:
            x_hat = (x - self.running_mean) / np.sqrt(self.running_var + 1e-7)
        return self.gamma * x_hat + self.beta

    def backward(self, dout):
        x_hat, std = self._saved
        n = len(dout)
        self.dbeta = dout.sum(0)
        self.dgamma = (x_hat * dout).sum(0)
        dx_hat = dout * self.gamma
        dvar_part = x_hat * (dx_hat * x_hat).mean(0)
        return (dx_hat - dx_hat.mean(0) - dvar_part) / std


class Dropout:
    def __init__(self, dropout_ratio=0.5):
        self.dropout_ratio = dropout_ratio
        self.mask = None

    def forward(self, x, train_flg=True):
        if train_flg:
            p_keep = 1 - self.dropout_ratio
            self.mask = np.random.binomial(1, p_keep, size=x.shape) / p_keep
            return x * self.mask
        return x.copy()

    def backward(self, dout):
        return dout * self.mask


def xavier_std(n_in):
    return 1.0 / n_in ** 0.5


def he_std(n_in):
    return (2.0 / n_in) ** 0.5
