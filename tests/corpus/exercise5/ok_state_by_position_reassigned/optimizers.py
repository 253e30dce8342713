"""Exercise 5: state kept in lists, one entry per key in the order of params (which keeps its keys
from call to call); every parameter is replaced by a new array (params[key] = ...)."""

import numpy as np


class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key, value in list(params.items()):
            params[key] = value - self.lr * grads[key]


class Momentum:
    """PyTorch's form: v <- momentum * v + g; p <- p - lr * v."""

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr, self.momentum = lr, momentum
        self.velocities = []

    def update(self, params, grads):
        if not self.velocities:
            self.velocities = [0.0 * value for value in params.values()]
        for i, key in enumerate(params):
            self.velocities[i] = self.momentum * self.velocities[i] + grads[key]
            params[key] = params[key] - self.lr * self.velocities[i]


class AdaGrad:
    def __init__(self, lr=0.01):
        self.lr = lr
        self.sums = []

    def update(self, params, grads):
        if not self.sums:
            self.sums = [np.zeros_like(value, dtype=float) for value in params.values()]
        for i, key in enumerate(params):
            self.sums[i] = self.sums[i] + np.square(grads[key])
            params[key] = params[key] - self.lr * grads[key] / (np.sqrt(self.sums[i]) + 1e-7)


class Adam:
    """Keeps beta1**t and beta2**t as running products instead of a step count."""

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr, self.beta1, self.beta2 = lr, beta1, beta2
        self.beta1_t, self.beta2_t = 1.0, 1.0
        self.moments = []

    def update(self, params, grads):
        if not self.moments:
            self.moments = [(np.zeros(value.shape), np.zeros(value.shape)) for value in params.values()]
        self.beta1_t *= self.beta1
        self.beta2_t *= self.beta2
        for i, key in enumerate(params):
            g = grads[key]
            m, v = self.moments[i]
            m = self.beta1 * m + (1 - self.beta1) * g
            v = self.beta2 * v + (1 - self.beta2) * g ** 2
            self.moments[i] = (m, v)
            params[key] = params[key] - self.lr * (m / (1 - self.beta1_t)) / (np.sqrt(v / (1 - self.beta2_t)) + 1e-7)
