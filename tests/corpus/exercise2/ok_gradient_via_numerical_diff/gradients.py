# Correct: each partial derivative is numerical_diff of a one-variable closure that writes into x itself.
import numpy as np


def numerical_diff(f, x):
    h = 1e-4
    return (f(x + h) - f(x - h)) / (2 * h)


def numerical_gradient(f, x):
    grad = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        old = x[idx]

        def along(value):
            x[idx] = value
            return f(x)

        grad[idx] = numerical_diff(along, old)
        x[idx] = old
    return grad


def gradient_descent(f, init_x, lr=0.01, step_num=100):
    x = init_x.copy()
    for _ in range(step_num):
        x = x - lr * numerical_gradient(f, x)
    return x
