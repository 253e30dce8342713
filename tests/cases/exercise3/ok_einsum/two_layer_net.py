# Correct: every product written with np.einsum, softmax through logsumexp, accuracy as a mean.
import numpy as np


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def softmax(a):
    log_norm = np.log(np.sum(np.exp(a - a.max(axis=1, keepdims=True)), axis=1, keepdims=True))
    return np.exp(a - a.max(axis=1, keepdims=True) - log_norm)


def labels_of(t):
    return np.argmax(t, axis=1) if t.ndim == 2 else t


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {
            "W1": np.random.normal(0.0, weight_init_std, size=(input_size, hidden_size)),
            "b1": np.zeros(hidden_size),
            "W2": np.random.normal(0.0, weight_init_std, size=(hidden_size, output_size)),
            "b2": np.zeros(output_size),
        }

    def _forward(self, x):
        p = self.params
        z1 = sigmoid(np.einsum("ni,ih->nh", x, p["W1"]) + p["b1"])
        y = softmax(np.einsum("nh,ho->no", z1, p["W2"]) + p["b2"])
        return z1, y

    def predict(self, x):
        return self._forward(x)[1]

    def loss(self, x, t):
        y = self.predict(x)
        picked = y[np.arange(len(y)), labels_of(t)]
        return float(np.mean(-np.log(picked + 1e-7)))

    def accuracy(self, x, t):
        return np.mean(self.predict(x).argmax(axis=1) == labels_of(t))

    def numerical_gradient(self, x, t):
        h = 1e-4
        grads = {}
        for name, w in self.params.items():
            g = np.zeros_like(w)
            for idx in np.ndindex(*w.shape):
                keep = w[idx]
                w[idx] = keep + h
                up = self.loss(x, t)
                w[idx] = keep - h
                down = self.loss(x, t)
                w[idx] = keep
                g[idx] = (up - down) / (2 * h)
            grads[name] = g
        return grads

    def gradient(self, x, t):
        p = self.params
        n = x.shape[0]
        z1, y = self._forward(x)
        dy = y.copy()
        dy[np.arange(n), labels_of(t)] -= 1
        dy /= n
        da1 = np.einsum("no,ho->nh", dy, p["W2"]) * z1 * (1 - z1)
        return {
            "W1": np.einsum("ni,nh->ih", x, da1),
            "b1": np.einsum("nh->h", da1),
            "W2": np.einsum("nh,no->ho", z1, dy),
            "b2": np.einsum("no->o", dy),
        }
