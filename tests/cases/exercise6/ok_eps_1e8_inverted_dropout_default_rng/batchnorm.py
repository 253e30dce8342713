# OK: eps = 1e-8 (the smallest SPEC allows), inverted dropout drawing from an unseeded np.random.default_rng()
import numpy as np


class BatchNormalization:
    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        self.gamma = gamma
        self.beta = beta
        self.momentum = momentum
        self.running_mean = running_mean
        self.running_var = running_var
        self.cache = None
        self.dgamma = None
        self.dbeta = None

    def forward(self, x, train_flg=True):
        eps = 1e-8
        d = x.shape[1]
        if self.running_mean is None:
            self.running_mean, self.running_var = np.zeros(d), np.zeros(d)
        if train_flg:
            mu = x.sum(axis=0) / len(x)
            var = ((x - mu) ** 2).sum(axis=0) / len(x)
            self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu
            self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var
        else:
            mu, var = self.running_mean, self.running_var
        inv_std = 1.0 / np.sqrt(var + eps)
        x_hat = (x - mu) * inv_std
        if train_flg:
            self.cache = (x_hat, inv_std)
        return x_hat * self.gamma + self.beta

    def backward(self, dout):
        x_hat, inv_std = self.cache
        n = dout.shape[0]
        self.dbeta = dout.sum(axis=0)
        self.dgamma = (dout * x_hat).sum(axis=0)
        g = dout * self.gamma
        return inv_std / n * (n * g - g.sum(axis=0) - x_hat * (g * x_hat).sum(axis=0))


class Dropout:
    def __init__(self, dropout_ratio=0.5):
        self.dropout_ratio = dropout_ratio
        self.rng = np.random.default_rng()
        self.scaled_mask = None

    def forward(self, x, train_flg=True):
        if not train_flg:
            return x
        keep = 1.0 - self.dropout_ratio
        self.scaled_mask = (self.rng.random(x.shape) < keep) / keep
        return x * self.scaled_mask

    def backward(self, dout):
        return dout * self.scaled_mask


def xavier_std(n_in):
    return n_in ** -0.5


def he_std(n_in):
    return np.sqrt(2) / np.sqrt(n_in)
