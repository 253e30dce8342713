"""Reference solution of exercise 3: the two-layer network of chapters 4 and 5.

Self-contained on purpose: in the grader's process `exercises.*` are the students' stubs, so
this file must not import them. Every method reads `self.params` when it is called.
"""

import numpy as np

H = 1e-4
"""Step of the central differences (SPEC.md, exercise 2)."""


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def softmax(x):
    shifted = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)


def as_labels(t):
    """Integer labels from one-hot rows or from labels."""
    t = np.asarray(t)
    return t.argmax(axis=1) if t.ndim == 2 else t.astype(int)


def cross_entropy_error(y, t):
    labels = as_labels(t)
    batch = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch), labels] + 1e-7)) / batch


def numerical_gradient(f, x):
    """Central differences, one element of x at a time, in place; x is restored exactly."""
    grad = np.zeros_like(x, dtype=float)
    for idx in np.ndindex(x.shape):
        original = x[idx]
        try:
            x[idx] = original + H
            f_plus = f(x)
            x[idx] = original - H
            f_minus = f(x)
        finally:
            x[idx] = original
        grad[idx] = (f_plus - f_minus) / (2 * H)
    return grad


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {
            "W1": weight_init_std * np.random.randn(input_size, hidden_size),
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * np.random.randn(hidden_size, output_size),
            "b2": np.zeros(output_size),
        }

    def _forward(self, x):
        p = self.params
        z1 = sigmoid(x @ p["W1"] + p["b1"])
        y = softmax(z1 @ p["W2"] + p["b2"])
        return z1, y

    def predict(self, x):
        return self._forward(x)[1]

    def loss(self, x, t):
        return cross_entropy_error(self.predict(x), t)

    def accuracy(self, x, t):
        y = self.predict(x)
        return float(np.mean(y.argmax(axis=1) == as_labels(t)))

    def numerical_gradient(self, x, t):
        def loss_w(_):
            return self.loss(x, t)

        return {key: numerical_gradient(loss_w, self.params[key]) for key in ("W1", "b1", "W2", "b2")}

    def gradient(self, x, t):
        p = self.params
        z1, y = self._forward(x)
        batch = x.shape[0]
        dy = y.copy()
        dy[np.arange(batch), as_labels(t)] -= 1.0
        dy /= batch
        dz1 = dy @ p["W2"].T
        da1 = dz1 * z1 * (1.0 - z1)
        return {"W1": x.T @ da1, "b1": da1.sum(axis=0), "W2": z1.T @ dy, "b2": dy.sum(axis=0)}
