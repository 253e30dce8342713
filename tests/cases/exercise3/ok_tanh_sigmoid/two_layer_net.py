# Correct: sigmoid written as 0.5 * (1 + tanh(a / 2)), loss via log-softmax, backprop that caches the forward pass.
import numpy as np


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {}
        self.params["W1"] = np.random.randn(input_size, hidden_size) * weight_init_std
        self.params["W2"] = np.random.randn(hidden_size, output_size) * weight_init_std
        self.params["b1"] = np.zeros((hidden_size,))
        self.params["b2"] = np.zeros((output_size,))
        self.cache = {}

    @staticmethod
    def sigmoid(a):
        return 0.5 * (1.0 + np.tanh(0.5 * a))

    def forward(self, x):
        a1 = x @ self.params["W1"] + self.params["b1"]
        z1 = self.sigmoid(a1)
        a2 = z1 @ self.params["W2"] + self.params["b2"]
        a2 = a2 - a2.max(axis=1, keepdims=True)
        log_y = a2 - np.log(np.exp(a2).sum(axis=1, keepdims=True))
        self.cache = {"x": x, "z1": z1, "y": np.exp(log_y)}
        return log_y

    def predict(self, x):
        return np.exp(self.forward(x))

    def loss(self, x, t):
        y = self.predict(x)
        labels = t.argmax(axis=1) if t.ndim == 2 else t
        return -np.log(y[np.arange(len(labels)), labels] + 1e-7).mean()

    def accuracy(self, x, t):
        labels = t.argmax(axis=1) if t.ndim == 2 else t
        return (self.predict(x).argmax(axis=1) == labels).mean()

    def numerical_gradient(self, x, t):
        h = 1e-4
        out = {}
        for key in ["W1", "b1", "W2", "b2"]:
            w = self.params[key]
            g = np.empty_like(w)
            for i in np.ndindex(w.shape):
                saved = w[i]
                w[i] = saved + h
                lp = self.loss(x, t)
                w[i] = saved - h
                lm = self.loss(x, t)
                w[i] = saved
                g[i] = (lp - lm) / (2 * h)
            out[key] = g
        return out

    def gradient(self, x, t):
        self.forward(x)
        z1, y = self.cache["z1"], self.cache["y"]
        labels = t.argmax(axis=1) if t.ndim == 2 else t
        n = len(x)
        dy = y.copy()
        dy[np.arange(n), labels] -= 1.0
        dy = dy / n
        dz1 = dy @ self.params["W2"].T
        da1 = dz1 * z1 * (1.0 - z1)
        return {"W1": x.T @ da1, "b1": da1.sum(axis=0), "W2": z1.T @ dy, "b2": dy.sum(axis=0)}
