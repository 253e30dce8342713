# OK: every optimizer assigns new arrays to the dict entries instead of changing them in place
import numpy as np


class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in list(params):
            params[key] = params[key] - self.lr * grads[key]


class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None

    def update(self, params, grads):
        if self.v is None:
            self.v = {k: 0 * params[k] for k in params}
        for k in list(params):
            self.v[k] = self.momentum * self.v[k] - self.lr * grads[k]
            params[k] = params[k] + self.v[k]


class AdaGrad:
    def __init__(self, lr=0.01):
        self.lr = lr
        self.h = None

    def update(self, params, grads):
        if self.h is None:
            self.h = {k: np.zeros(params[k].shape) for k in params}
        for k in list(params):
            self.h[k] = self.h[k] + np.square(grads[k])
            params[k] = params[k] - self.lr * grads[k] / (np.sqrt(self.h[k]) + 1e-7)


class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.iter = 0
        self.m = None
        self.v = None

    def update(self, params, grads):
        if self.m is None:
            self.m = {k: np.zeros(params[k].shape) for k in params}
            self.v = {k: np.zeros(params[k].shape) for k in params}
        self.iter += 1
        for k in list(params):
            self.m[k] = self.beta1 * self.m[k] + (1 - self.beta1) * grads[k]
            self.v[k] = self.beta2 * self.v[k] + (1 - self.beta2) * np.square(grads[k])
            m_hat = self.m[k] / (1 - self.beta1 ** self.iter)
            v_hat = self.v[k] / (1 - self.beta2 ** self.iter)
            params[k] = params[k] - self.lr * m_hat / (np.sqrt(v_hat) + 1e-8)
