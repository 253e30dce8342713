"""Reference solution of exercise 2: numerical differentiation and gradient descent (ch. 4)."""

import numpy as np

H = 1e-4


def numerical_diff(f, x):
    return (f(x + H) - f(x - H)) / (2 * H)


def numerical_gradient(f, x):
    grad = np.zeros_like(x, dtype=float)
    for idx in np.ndindex(x.shape):
        original = x[idx]
        x[idx] = original + H
        f_plus = f(x)
        x[idx] = original - H
        f_minus = f(x)
        x[idx] = original
        grad[idx] = (f_plus - f_minus) / (2 * H)
    return grad


def gradient_descent(f, init_x, lr=0.01, step_num=100):
    x = init_x
    for _ in range(step_num):
        x -= lr * numerical_gradient(f, x)
    return x
