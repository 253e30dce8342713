"""Exercise 5: each optimizer walks the elements of every parameter with np.nditer, reading and
writing the parameter, its gradient and its state in step (whatever their memory layout)."""

import numpy as np


def _each(*arrays):
    """Iterate the arrays element by element together; the first and the state arrays are written."""
    flags = [["readwrite"]] + [["readonly"]] + [["readwrite"]] * (len(arrays) - 2)
    return np.nditer(list(arrays), op_flags=flags)


class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            with np.nditer([params[key], grads[key]], op_flags=[["readwrite"], ["readonly"]]) as it:
                for p, g in it:
                    p[...] = p - self.lr * g


class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None

    def update(self, params, grads):
        if self.v is None:
            self.v = {key: np.zeros(value.shape) for key, value in params.items()}
        for key in params:
            with _each(params[key], grads[key], self.v[key]) as it:
                for p, g, v in it:
                    v[...] = self.momentum * v - self.lr * g
                    p[...] = p + v


class AdaGrad:
    def __init__(self, lr=0.01):
        self.lr = lr
        self.h = None

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros(value.shape) for key, value in params.items()}
        for key in params:
            with _each(params[key], grads[key], self.h[key]) as it:
                for p, g, h in it:
                    h[...] = h + g * g
                    p[...] = p - self.lr * g / (np.sqrt(h) + 1e-7)


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
            self.m = {key: np.zeros(value.shape) for key, value in params.items()}
            self.v = {key: np.zeros(value.shape) for key, value in params.items()}
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2 ** self.iter) / (1.0 - self.beta1 ** self.iter)
        for key in params:
            with _each(params[key], grads[key], self.m[key], self.v[key]) as it:
                for p, g, m, v in it:
                    m[...] = m + (1 - self.beta1) * (g - m)
                    v[...] = v + (1 - self.beta2) * (g * g - v)
                    p[...] = p - lr_t * m / (np.sqrt(v) + 1e-7)
