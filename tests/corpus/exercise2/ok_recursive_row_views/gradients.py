# Correct: recurses over the first axis with views into x, always calling f on the whole x.
import numpy as np

H = 1e-4


def numerical_diff(f, x):
    return (f(x + H) - f(x - H)) * (0.5 / H)


def _fill(f, whole, part, grad_part):
    if part.ndim == 1:
        for i in range(part.shape[0]):
            saved = part[i]
            part[i] = saved + H
            up = f(whole)
            part[i] = saved - H
            down = f(whole)
            part[i] = saved
            grad_part[i] = (up - down) / (2 * H)
    else:
        for i in range(part.shape[0]):
            _fill(f, whole, part[i], grad_part[i])


def numerical_gradient(f, x):
    grad = np.zeros(x.shape, dtype=float)
    _fill(f, x, x, grad)
    return grad


def gradient_descent(f, init_x, lr=0.01, step_num=100):
    x = init_x
    step = 0
    while step < step_num:
        x = x - lr * numerical_gradient(f, x)
        step += 1
    return x
