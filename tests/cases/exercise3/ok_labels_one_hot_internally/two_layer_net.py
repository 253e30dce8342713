# Correct: labels are turned into one-hot rows inside every method; loss returns a 0-d array.
import numpy as np


def one_hot(t, classes):
    t = np.asarray(t)
    if t.ndim == 1:
        return np.eye(classes)[t]
    return t


class TwoLayerNet:

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = dict(
            W1=weight_init_std * np.random.randn(input_size, hidden_size),
            b1=np.zeros(hidden_size),
            W2=weight_init_std * np.random.randn(hidden_size, output_size),
            b2=np.zeros(output_size),
        )

    def predict(self, x):
        h = 1 / (1 + np.exp(-(x @ self.params['W1'] + self.params['b1'])))
        scores = h @ self.params['W2'] + self.params['b2']
        scores = scores - scores.max(axis=1, keepdims=True)
        e = np.exp(scores)
        return e / e.sum(axis=1, keepdims=True)

    def loss(self, x, t):
        y = self.predict(x)
        T = one_hot(t, y.shape[1])
        return np.array(-np.sum(T * np.log(y + 1e-7)) / x.shape[0])

    def accuracy(self, x, t):
        y = self.predict(x)
        T = one_hot(t, y.shape[1])
        return np.sum(y.argmax(axis=1) == T.argmax(axis=1)) / x.shape[0]

    def numerical_gradient(self, x, t):
        h = 1e-4
        grads = {}
        for key, param in self.params.items():
            grad = np.zeros_like(param)
            flat = param.reshape(-1)  # a view: writing into it changes param
            for i in range(flat.size):
                old = flat[i]
                flat[i] = old + h
                loss_plus = self.loss(x, t)
                flat[i] = old - h
                loss_minus = self.loss(x, t)
                flat[i] = old
                grad.reshape(-1)[i] = (loss_plus - loss_minus) / (2 * h)
            grads[key] = grad
        return grads

    def gradient(self, x, t):
        W1, b1, W2, b2 = (self.params[k] for k in ('W1', 'b1', 'W2', 'b2'))
        h = 1 / (1 + np.exp(-(x @ W1 + b1)))
        scores = h @ W2 + b2
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        y = e / e.sum(axis=1, keepdims=True)
        T = one_hot(t, y.shape[1])
        d_scores = (y - T) / x.shape[0]
        d_hidden = (d_scores @ W2.T) * h * (1 - h)
        return {'W1': x.T @ d_hidden, 'b1': d_hidden.sum(axis=0),
                'W2': h.T @ d_scores, 'b2': d_scores.sum(axis=0)}
