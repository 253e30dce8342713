# OK: state kept in defaultdicts created lazily per key; Adam counts steps per key (once per call each)
from collections import defaultdict

import numpy as np


class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in grads:
            np.subtract(params[key], self.lr * grads[key], out=params[key])


class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = defaultdict(lambda: 0.0)

    def update(self, params, grads):
        for key in params:
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


class AdaGrad:
    def __init__(self, lr=0.01):
        self.lr = lr
        self.h = defaultdict(lambda: 0.0)

    def update(self, params, grads):
        for key in params:
            self.h[key] += grads[key] ** 2
            params[key] -= self.lr * grads[key] / (self.h[key] ** 0.5 + 1e-7)


class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr, self.beta1, self.beta2 = lr, beta1, beta2
        self.state = {}

    def update(self, params, grads):
        for key in params:
            t, m, v = self.state.get(key, (0, 0.0, 0.0))
            t += 1
            g = grads[key]
            m = self.beta1 * m + (1 - self.beta1) * g
            v = self.beta2 * v + (1 - self.beta2) * g * g
            self.state[key] = (t, m, v)
            lr_t = self.lr * np.sqrt(1 - self.beta2 ** t) / (1 - self.beta1 ** t)
            params[key] -= lr_t * m / (np.sqrt(v) + 1e-7)
