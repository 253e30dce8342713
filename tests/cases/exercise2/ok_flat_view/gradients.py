# Correct: perturbs elements through a flat view (x.reshape(-1) shares memory).
import numpy as np


def numerical_diff(f, x):
    h = 1e-4
    return (f(x + h) - f(x - h)) / (2 * h)


def numerical_gradient(f, x):
    h = 1e-4
    flat = x.reshape(-1)
    grad = np.empty_like(flat, dtype=float)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + h
        f_plus = f(x)
        flat[i] = saved - h
        f_minus = f(x)
        flat[i] = saved
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad.reshape(x.shape)


def gradient_descent(f, init_x, lr=0.01, step_num=100):
    x = init_x
    for i in range(step_num):
        grad = numerical_gradient(f, x)
        x -= lr * grad
    return x
