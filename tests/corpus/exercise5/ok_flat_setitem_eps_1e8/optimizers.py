"""Exercise 5: each step computed on a copy, then written back through params[key].flat (in the
parameter's logical order); state created lazily per key; Adam with eps = 1e-8."""

import numpy as np


def _write(params, key, new_value):
    params[key].flat[:] = np.ravel(new_value)


class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in grads:
            _write(params, key, params[key] - self.lr * grads[key])


class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = {}

    def update(self, params, grads):
        for key in params:
            v = self.v.get(key, np.zeros(params[key].shape))
            self.v[key] = self.momentum * v - self.lr * np.array(grads[key])
            _write(params, key, params[key] + self.v[key])


class AdaGrad:
    def __init__(self, lr=0.01):
        self.lr = lr
        self.h = {}

    def update(self, params, grads):
        for key in params:
            g = np.array(grads[key], dtype=float)
            self.h[key] = self.h.get(key, 0.0) + g * g
            _write(params, key, params[key] - self.lr * g / (np.sqrt(self.h[key]) + 1e-7))


class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr, self.beta1, self.beta2 = lr, beta1, beta2
        self.t = 0
        self.m, self.v = {}, {}

    def update(self, params, grads):
        self.t += 1
        for key in params:
            g = grads[key]
            self.m[key] = self.beta1 * self.m.get(key, 0.0) + (1 - self.beta1) * g
            self.v[key] = self.beta2 * self.v.get(key, 0.0) + (1 - self.beta2) * g * g
            m_hat = self.m[key] / (1 - self.beta1 ** self.t)
            v_hat = self.v[key] / (1 - self.beta2 ** self.t)
            _write(params, key, params[key] - self.lr * m_hat / (np.sqrt(v_hat) + 1e-8))
