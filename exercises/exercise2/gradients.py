"""Exercise 2 — numerical differentiation, the numerical gradient, and gradient descent.

Before backpropagation (chapter 5) the book computes derivatives numerically: nudge the input
a little each way and see how much the output moves. You will write three functions.

Check your work at any time with:

    grade exercise2
"""

import numpy as np


def numerical_diff(f, x):
    """The derivative of a one-variable function f at the number x, by central difference.

        f'(x) ≈ (f(x + h) - f(x - h)) / (2h)      with h = 1e-4

    Use exactly this h: a much smaller one (say 1e-50) is lost to rounding (1e-50 + 1.0 == 1.0).

    Example (book, 4.3.2): for f(x) = 0.01 x^2 + 0.1 x, numerical_diff(f, 5) ≈ 0.2
    (the true derivative is 0.02 x + 0.1 = 0.2).
    """
    raise NotImplementedError("numerical_diff: (f(x + h) - f(x - h)) / (2 * h) with h = 1e-4")


def numerical_gradient(f, x):
    """The gradient of f at x: one central difference per element of x.

    Inputs:
    - f: a function taking an array shaped like x and returning a number.
    - x: a float numpy array of ANY shape: (D,), (N, D), ...

    Returns an array `grad` of x's shape with
        grad[i] = (f(x with x[i] + h) - f(x with x[i] - h)) / (2h),   h = 1e-4.

    Rules the grader checks:
    - Change x IN PLACE, one element at a time, and call f(x). Later, f is often a function
      that ignores its argument and reads x through a closure, e.g. `lambda W: net.loss(x, t)`,
      so working on a copy of x would leave f's result unchanged.
    - Afterwards x must hold exactly its old values: save x[i] and put it back
      (`x[i] = old`), rather than subtracting h again (floating-point rounding may not return
      the same number).
    - Work for 2-D x as well: iterate with np.nditer(x, flags=["multi_index"]) or
      np.ndindex(x.shape) instead of range(len(x)).

    Example (book, 4.4): for f(x) = x0^2 + x1^2, numerical_gradient(f, np.array([3.0, 4.0]))
    ≈ [6., 8.].
    """
    raise NotImplementedError("numerical_gradient: central difference per element, restoring x")


def gradient_descent(f, init_x, lr=0.01, step_num=100):
    """Minimise f by repeating  x <- x - lr * numerical_gradient(f, x)  step_num times.

    Inputs:
    - f: the function to minimise; init_x: the starting point (a float array);
    - lr: the learning rate; step_num: the number of steps.

    Returns the final x. (Updating init_x in place, as the book does, is fine.)

    Example (book, 4.4.1): for f(x) = x0^2 + x1^2 from init_x = [-3.0, 4.0] with lr=0.1 and
    step_num=100 the result is very close to [0, 0] (about [-6.1e-10, 8.1e-10]).
    """
    raise NotImplementedError("gradient_descent: repeat x -= lr * numerical_gradient(f, x)")
