# OK: backward node by node through the graph of figure 6-17 (one step per line); dropout with a generator seeded in __init__
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
        eps = 1e-6
        if self.running_mean is None:
            self.running_mean = np.zeros_like(x[0])
            self.running_var = np.zeros_like(x[0])
        if not train_flg:
            return self.gamma * ((x - self.running_mean) / np.sqrt(self.running_var + eps)) + self.beta
        n = x.shape[0]
        mu = 1.0 / n * np.sum(x, axis=0)            # node 1: mean
        xmu = x - mu                                # node 2: centre
        sq = xmu ** 2                               # node 3: square
        var = 1.0 / n * np.sum(sq, axis=0)          # node 4: variance
        sqrtvar = np.sqrt(var + eps)                # node 5: std
        ivar = 1.0 / sqrtvar                        # node 6: inverse
        xhat = xmu * ivar                           # node 7: normalise
        out = self.gamma * xhat + self.beta         # nodes 8-9: scale and shift
        self.cache = (xhat, xmu, ivar, sqrtvar, var, eps)
        self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu
        self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var
        return out

    def backward(self, dout):
        xhat, xmu, ivar, sqrtvar, var, eps = self.cache
        n = dout.shape[0]
        self.dbeta = np.sum(dout, axis=0)
        self.dgamma = np.sum(dout * xhat, axis=0)
        dxhat = dout * self.gamma
        divar = np.sum(dxhat * xmu, axis=0)
        dxmu1 = dxhat * ivar
        dsqrtvar = -1.0 / (sqrtvar ** 2) * divar
        dvar = 0.5 * 1.0 / np.sqrt(var + eps) * dsqrtvar
        dsq = 1.0 / n * np.ones_like(dout) * dvar
        dxmu2 = 2 * xmu * dsq
        dx1 = dxmu1 + dxmu2
        dmu = -1 * np.sum(dxmu1 + dxmu2, axis=0)
        dx2 = 1.0 / n * np.ones_like(dout) * dmu
        return dx1 + dx2


class Dropout:
    def __init__(self, dropout_ratio=0.5):
        self.dropout_ratio = dropout_ratio
        self.rng = np.random.default_rng(12345)
        self.mask = None

    def forward(self, x, train_flg=True):
        if train_flg:
            self.mask = self.rng.uniform(size=x.shape) > self.dropout_ratio
            return np.where(self.mask, x, 0.0)
        return (1.0 - self.dropout_ratio) * x

    def backward(self, dout):
        return np.where(self.mask, dout, 0.0)


def xavier_std(n_in):
    return float(np.sqrt(1.0 / n_in))


def he_std(n_in):
    return float(np.sqrt(2.0 / n_in))
