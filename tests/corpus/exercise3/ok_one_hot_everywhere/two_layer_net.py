"""Exercise 3, TwoLayerNet: targets always turned into one-hot rows, einsum-free matrix code,
a default_rng generator, and a numerical gradient over flat indices."""

import numpy as np


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        rng = np.random.default_rng()
        self.params = dict(
            W1=rng.standard_normal((input_size, hidden_size)) * weight_init_std,
            b1=np.zeros(hidden_size),
            W2=rng.standard_normal((hidden_size, output_size)) * weight_init_std,
            b2=np.zeros(output_size),
        )

    def _one_hot(self, t):
        t = np.asarray(t)
        classes = self.params["b2"].shape[0]
        if t.ndim == 1:
            return np.eye(classes)[t.astype(np.intp)]
        return t.astype(float)

    def _forward(self, x):
        p = self.params
        hidden = 1.0 / (1.0 + np.exp(-(x @ p["W1"] + p["b1"])))
        scores = hidden @ p["W2"] + p["b2"]
        scores = scores - scores.max(axis=1)[:, np.newaxis]
        expd = np.exp(scores)
        return hidden, expd / expd.sum(axis=1)[:, np.newaxis]

    def predict(self, x):
        return self._forward(x)[1]

    def loss(self, x, t):
        y = self.predict(x)
        T = self._one_hot(t)
        return float(-np.sum(T * np.log(y + 1e-7)) / y.shape[0])

    def accuracy(self, x, t):
        T = self._one_hot(t)
        hits = self.predict(x).argmax(axis=1) == T.argmax(axis=1)
        return float(hits.mean())

    def numerical_gradient(self, x, t):
        h = 1e-4
        out = {}
        for name in ["W1", "b1", "W2", "b2"]:
            arr = self.params[name]
            grad = np.empty(arr.shape)
            for flat in range(arr.size):
                idx = np.unravel_index(flat, arr.shape)
                keep = arr[idx]
                arr[idx] = keep + h
                up = self.loss(x, t)
                arr[idx] = keep - h
                down = self.loss(x, t)
                arr[idx] = keep
                grad[idx] = (up - down) / (2 * h)
            out[name] = grad
        return out

    def gradient(self, x, t):
        p = self.params
        hidden, y = self._forward(x)
        dscores = (y - self._one_hot(t)) / x.shape[0]
        dhidden = (dscores @ p["W2"].T) * hidden * (1.0 - hidden)
        return {
            "W1": x.T @ dhidden,
            "b1": dhidden.sum(axis=0),
            "W2": hidden.T @ dscores,
            "b2": dscores.sum(axis=0),
        }
