"""Exercise 3, TwoLayerNet in the book's layer style (section 5.7), the layers built from
self.params inside every method, so they always hold the current arrays."""

from collections import OrderedDict

import numpy as np

from exercises.exercise1.losses import cross_entropy_error, softmax
from exercises.exercise2.gradients import numerical_gradient


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return np.dot(dout, self.W.T)


class Sigmoid:
    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        return cross_entropy_error(self.y, t)

    def backward(self):
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:
            return (self.y - self.t) / batch_size
        dx = self.y.copy()
        dx[np.arange(batch_size), self.t] -= 1
        return dx / batch_size


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {"W1": weight_init_std * np.random.randn(input_size, hidden_size),
                       "b1": np.zeros(hidden_size),
                       "W2": weight_init_std * np.random.randn(hidden_size, output_size),
                       "b2": np.zeros(output_size)}

    def _layers(self):
        layers = OrderedDict()
        layers["Affine1"] = Affine(self.params["W1"], self.params["b1"])
        layers["Sigmoid1"] = Sigmoid()
        layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])
        return layers

    def _scores(self, x, layers):
        for layer in layers.values():
            x = layer.forward(x)
        return x

    def predict(self, x):
        return softmax(self._scores(x, self._layers()))

    def loss(self, x, t):
        return SoftmaxWithLoss().forward(self._scores(x, self._layers()), t)

    def accuracy(self, x, t):
        y = np.argmax(self.predict(x), axis=1)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        return np.sum(y == t) / float(x.shape[0])

    def numerical_gradient(self, x, t):
        loss_W = lambda W: self.loss(x, t)
        return {key: numerical_gradient(loss_W, self.params[key]) for key in ("W1", "b1", "W2", "b2")}

    def gradient(self, x, t):
        layers = self._layers()
        last = SoftmaxWithLoss()
        last.forward(self._scores(x, layers), t)
        dout = last.backward()
        for layer in reversed(list(layers.values())):
            dout = layer.backward(dout)
        return {"W1": layers["Affine1"].dW, "b1": layers["Affine1"].db,
                "W2": layers["Affine2"].dW, "b2": layers["Affine2"].db}
