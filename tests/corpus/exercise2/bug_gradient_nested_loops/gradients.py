# Bug: numerical_gradient handles 1-D and 2-D x with hand-written loops, so a 3-D x perturbs whole rows.
import numpy as np


def numerical_diff(f, x):
    h = 1e-4
    return (f(x + h) - f(x - h)) / (2 * h)


def _partial(f, x, idx, h=1e-4):
    tmp = x[idx]
    x[idx] = tmp + h
    fxh1 = f(x)
    x[idx] = tmp - h
    fxh2 = f(x)
    x[idx] = tmp
    return (fxh1 - fxh2) / (2 * h)


def numerical_gradient(f, x):
    grad = np.zeros_like(x)
    if x.ndim == 1:
        for i in range(x.shape[0]):
            grad[i] = _partial(f, x, i)
    else:
        for i in range(x.shape[0]):
            for j in range(x.shape[1]):
                grad[i, j] = _partial(f, x, (i, j))
    return grad


def gradient_descent(f, init_x, lr=0.01, step_num=100):
    x = init_x
    for i in range(step_num):
        grad = numerical_gradient(f, x)
        x -= lr * grad
    return x
