"""Exercise 1 — softmax and the two loss functions of chapter 4.

A network's last layer turns scores into probabilities (softmax), and a loss function says
how far those probabilities are from the right answer. You will write three functions.
Each must work for one example (a vector of shape (C,)) and for a batch of N examples
(a matrix of shape (N, C), one example per row). Use numpy only; no loops over examples.

Check your work at any time with:

    grade exercise1

The running example of the book: the correct class is "2" and the network says

    t = [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]                       (one-hot label)
    y = [0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]  (probabilities)

for which sum_squares_error(y, t) = 0.0975 and cross_entropy_error(y, t) = 0.5108.
"""

import numpy as np


def softmax(x):
    """Turn scores into probabilities, row by row.

    Inputs:
    - x: scores, a numpy array of shape (C,) or (N, C).

    Returns an array of the same shape whose every row is non-negative and sums to 1:

        softmax(x)_k = exp(x_k) / sum_j exp(x_j)

    exp overflows for scores around 1000, and the grader tries scores as large as 1e4. Since
    softmax(x) = softmax(x - c) for any constant c, subtract each row's maximum first.
    Tip: `axis=-1, keepdims=True` makes one line work for both shapes.

    Example: softmax(np.array([0.3, 2.9, 4.0])) -> [0.01821127, 0.24519181, 0.73659691]
    """
    raise NotImplementedError("softmax: subtract the row maximum, exponentiate, divide by the row sum")


def sum_squares_error(y, t):
    """Sum of squares error (mean squared error of the book, section 4.2.1).

    Inputs:
    - y: the network's output, shape (C,) or (N, C).
    - t: one-hot labels of the same shape.

    Returns a number:
    - for one example (1-D):  0.5 * sum_k (y_k - t_k)^2
    - for a batch (2-D):      the mean over the N rows of that value.

    Example: the running example above gives 0.0975.
    """
    raise NotImplementedError("sum_squares_error: 0.5 * sum((y - t)**2), averaged over rows for a batch")


def cross_entropy_error(y, t):
    """Cross-entropy error (section 4.2.2 and 4.2.4), averaged over the batch.

    Inputs:
    - y: probabilities, shape (C,) or (N, C).
    - t: the correct classes, either
        - one-hot, of y's shape, or
        - integer labels: shape (N,) for a batch, or one integer (a numpy integer scalar)
          when y is 1-D.

    Returns the mean over the examples of  -log(y[label] + 1e-7)  as one number (a float, a
    numpy scalar or a 0-d array). The 1e-7 keeps the result finite when y[label] is 0.

    Example: the running example above gives 0.5108 (= -log(0.6)).
    Where to start: turn a one-hot t into labels with t.argmax(axis=1), then pick each row's
    probability with y[np.arange(N), labels].
    """
    raise NotImplementedError("cross_entropy_error: mean of -log(y[label] + 1e-7)")
