# Correct: weights from a np.random.default_rng generator, params an OrderedDict, np.nditer numerical gradient.
from collections import OrderedDict

import numpy as np

rng = np.random.default_rng()


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x):
    c = np.max(x, axis=1, keepdims=True)
    exp_x = np.exp(x - c)
    return exp_x / np.sum(exp_x, axis=1, keepdims=True)


def numerical_gradient(f, x):
    h = 1e-4
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=['multi_index'], op_flags=['readwrite'])
    while not it.finished:
        idx = it.multi_index
        tmp_val = x[idx]
        x[idx] = tmp_val + h
        fxh1 = f(x)
        x[idx] = tmp_val - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp_val
        it.iternext()
    return grad


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = OrderedDict()
        self.params['W1'] = weight_init_std * rng.standard_normal((input_size, hidden_size))
        self.params['b1'] = np.zeros(hidden_size)
        self.params['W2'] = weight_init_std * rng.standard_normal((hidden_size, output_size))
        self.params['b2'] = np.zeros(output_size)

    def predict(self, x):
        z1 = sigmoid(np.dot(x, self.params['W1']) + self.params['b1'])
        return softmax(np.dot(z1, self.params['W2']) + self.params['b2'])

    def loss(self, x, t):
        y = self.predict(x)
        if t.ndim == 2:
            t = np.argmax(t, axis=1)
        return -np.mean(np.log(y[np.arange(y.shape[0]), t] + 1e-7))

    def accuracy(self, x, t):
        y = np.argmax(self.predict(x), axis=1)
        if t.ndim == 2:
            t = np.argmax(t, axis=1)
        return float(np.sum(y == t)) / len(t)

    def numerical_gradient(self, x, t):
        f = lambda _: self.loss(x, t)
        return OrderedDict((key, numerical_gradient(f, self.params[key])) for key in self.params)

    def gradient(self, x, t):
        W1, b1 = self.params['W1'], self.params['b1']
        W2, b2 = self.params['W2'], self.params['b2']
        n = x.shape[0]
        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)
        y = softmax(np.dot(z1, W2) + b2)
        if t.ndim == 2:
            t = np.argmax(t, axis=1)
        dy = y.copy()
        dy[np.arange(n), t] -= 1
        dy /= n
        grads = OrderedDict()
        grads['W1'] = None  # filled below, keeps the key order of params
        grads['b1'] = None
        grads['W2'] = np.dot(z1.T, dy)
        grads['b2'] = np.sum(dy, axis=0)
        da1 = np.dot(dy, W2.T) * sigmoid(a1) * (1 - sigmoid(a1))
        grads['W1'] = np.dot(x.T, da1)
        grads['b1'] = np.sum(da1, axis=0)
        return grads
