"""Exercise 3, TwoLayerNet. softmax straight from the formula."""

import numpy as np


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def softmax(a):
    e = np.exp(a)
    return e / np.sum(e, axis=1, keepdims=True)


def to_labels(t):
    t = np.asarray(t)
    if t.ndim == 2:
        return np.argmax(t, axis=1)
    return t


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {}
        self.params["W1"] = weight_init_std * np.random.randn(input_size, hidden_size)
        self.params["b1"] = np.zeros(hidden_size)
        self.params["W2"] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params["b2"] = np.zeros(output_size)

    def predict(self, x):
        W1, b1, W2, b2 = self.params["W1"], self.params["b1"], self.params["W2"], self.params["b2"]
        z1 = sigmoid(np.dot(x, W1) + b1)
        return softmax(np.dot(z1, W2) + b2)

    def loss(self, x, t):
        y = self.predict(x)
        labels = to_labels(t)
        n = y.shape[0]
        return -np.sum(np.log(y[np.arange(n), labels] + 1e-7)) / n

    def accuracy(self, x, t):
        y = np.argmax(self.predict(x), axis=1)
        labels = to_labels(t)
        return np.sum(y == labels) / float(x.shape[0])

    def numerical_gradient(self, x, t):
        h = 1e-4
        grads = {}
        for key in ("W1", "b1", "W2", "b2"):
            W = self.params[key]
            g = np.zeros_like(W)
            it = np.nditer(W, flags=["multi_index"], op_flags=["readwrite"])
            while not it.finished:
                idx = it.multi_index
                old = W[idx]
                W[idx] = old + h
                f1 = self.loss(x, t)
                W[idx] = old - h
                f2 = self.loss(x, t)
                W[idx] = old
                g[idx] = (f1 - f2) / (2 * h)
                it.iternext()
            grads[key] = g
        return grads

    def gradient(self, x, t):
        W1, b1, W2, b2 = self.params["W1"], self.params["b1"], self.params["W2"], self.params["b2"]
        n = x.shape[0]
        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)
        y = softmax(np.dot(z1, W2) + b2)
        labels = to_labels(t)
        dy = y.copy()
        dy[np.arange(n), labels] -= 1
        dy = dy / n
        grads = {}
        grads["W2"] = np.dot(z1.T, dy)
        grads["b2"] = np.sum(dy, axis=0)
        dz1 = np.dot(dy, W2.T)
        da1 = dz1 * z1 * (1 - z1)
        grads["W1"] = np.dot(x.T, da1)
        grads["b1"] = np.sum(da1, axis=0)
        return grads
