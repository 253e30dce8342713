# Correct: uses x.flat and keeps a history list while descending.
import numpy as np


H = 1e-4


def numerical_diff(f, x):
    return (f(x + H) - f(x - H)) / (H + H)


def numerical_gradient(f, x):
    grad = np.zeros(x.size)
    for i in range(x.size):
        keep = x.flat[i]
        x.flat[i] = keep + H
        a = f(x)
        x.flat[i] = keep - H
        b = f(x)
        x.flat[i] = keep
        grad[i] = (a - b) / (2 * H)
    return grad.reshape(x.shape)


def gradient_descent(f, init_x, lr=0.01, step_num=100):
    x = init_x
    history = []
    for _ in range(step_num):
        history.append(x.copy())
        x -= lr * numerical_gradient(f, x)
    return x
