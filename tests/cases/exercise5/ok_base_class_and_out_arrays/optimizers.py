# OK: a shared base class with one per-element step function; updates written through params[key][...]
import numpy as np


class Optimizer:
    """Keeps named state arrays per parameter and applies `step` to each parameter in place."""

    def __init__(self, lr):
        self.lr = lr
        self.state = {}

    def zeros(self, key, name, like):
        return self.state.setdefault((key, name), np.zeros_like(like, dtype=float))

    def begin(self):
        pass

    def update(self, params, grads):
        self.begin()
        for key, value in params.items():
            value[...] = value + self.step(key, value, np.asarray(grads[key], dtype=float))

    def step(self, key, value, grad):
        raise NotImplementedError


class SGD(Optimizer):
    def __init__(self, lr=0.01):
        super().__init__(lr)

    def step(self, key, value, grad):
        return -self.lr * grad


class Momentum(Optimizer):
    def __init__(self, lr=0.01, momentum=0.9):
        super().__init__(lr)
        self.momentum = momentum

    def step(self, key, value, grad):
        v = self.zeros(key, "v", value)
        v *= self.momentum
        v -= self.lr * grad
        return v


class AdaGrad(Optimizer):
    def __init__(self, lr=0.01):
        super().__init__(lr)

    def step(self, key, value, grad):
        h = self.zeros(key, "h", value)
        h += grad * grad
        return -self.lr * grad / (np.sqrt(h) + 1e-7)


class Adam(Optimizer):
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        super().__init__(lr)
        self.beta1, self.beta2 = beta1, beta2
        self.t = 0

    def begin(self):
        self.t += 1

    def step(self, key, value, grad):
        m = self.zeros(key, "m", value)
        v = self.zeros(key, "v", value)
        m[...] = self.beta1 * m + (1 - self.beta1) * grad
        v[...] = self.beta2 * v + (1 - self.beta2) * grad ** 2
        m_hat = m / (1 - self.beta1 ** self.t)
        v_hat = v / (1 - self.beta2 ** self.t)
        return -self.lr * m_hat / (np.sqrt(v_hat) + 1e-8)
