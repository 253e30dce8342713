# Bug: gradient_descent declares (f, init_x, step_num, lr), so a positional call gradient_descent(f, x, 0.1, 20) mixes them up.
import numpy as np


def numerical_diff(f, x):
    h = 1e-4
    return (f(x + h) - f(x - h)) / (2 * h)


def numerical_gradient(f, x):
    h = 1e-4
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        tmp = x[idx]
        x[idx] = tmp + h
        fxh1 = f(x)
        x[idx] = tmp - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp
    return grad


def gradient_descent(f, init_x, step_num=100, lr=0.01):
    x = init_x
    for i in range(int(step_num)):
        x -= lr * numerical_gradient(f, x)
    return x
