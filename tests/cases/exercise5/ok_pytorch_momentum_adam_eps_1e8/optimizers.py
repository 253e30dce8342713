# OK: Momentum in PyTorch's form (v = m*v + g; p -= lr*v), Adam in the paper's form with eps = 1e-8
import numpy as np


class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for name, p in params.items():
            p -= self.lr * grads[name]


class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.buf = {}

    def update(self, params, grads):
        for name, p in params.items():
            g = grads[name]
            if name not in self.buf:
                self.buf[name] = np.zeros_like(p)
            self.buf[name] = self.momentum * self.buf[name] + g
            p -= self.lr * self.buf[name]


class AdaGrad:
    def __init__(self, lr=0.01):
        self.lr = lr
        self.sum_sq = {}

    def update(self, params, grads):
        for name, p in params.items():
            g = grads[name]
            self.sum_sq[name] = self.sum_sq.get(name, 0.0) + g ** 2
            p -= self.lr * g / (np.sqrt(self.sum_sq[name]) + 1e-7)


class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.step = 0
        self.exp_avg = {}
        self.exp_avg_sq = {}

    def update(self, params, grads):
        self.step += 1
        bias1 = 1 - self.beta1 ** self.step
        bias2 = 1 - self.beta2 ** self.step
        for name, p in params.items():
            g = grads[name]
            m = self.exp_avg.get(name, np.zeros_like(p))
            v = self.exp_avg_sq.get(name, np.zeros_like(p))
            m = self.beta1 * m + (1 - self.beta1) * g
            v = self.beta2 * v + (1 - self.beta2) * g * g
            self.exp_avg[name], self.exp_avg_sq[name] = m, v
            p -= self.lr * (m / bias1) / (np.sqrt(v / bias2) + self.eps)
