"""Exercise 3 — a two-layer network: forward pass, loss, accuracy, and two ways to get gradients.

This is the network of the book's sections 4.5 and 5.7:

    x ──(W1, b1)──> a1 = x @ W1 + b1 ──sigmoid──> z1 ──(W2, b2)──> a2 = z1 @ W2 + b2 ──softmax──> y

Shapes, for a batch of N examples:

    x  (N, input_size)        W1 (input_size, hidden_size)    b1 (hidden_size,)
    a1, z1 (N, hidden_size)   W2 (hidden_size, output_size)   b2 (output_size,)
    a2, y  (N, output_size)

The formulas you need:

    sigmoid(a) = 1 / (1 + exp(-a))               its derivative: sigmoid(a) * (1 - sigmoid(a))
    softmax(a)_k = exp(a_k) / sum_j exp(a_j)      (row by row; subtract each row's max first)
    cross-entropy = mean over the rows of  -log(y[row, correct class] + 1e-7)

Targets `t` come in two forms, and every method taking `t` must accept both:
    - one-hot rows, shape (N, output_size), e.g. [[0, 0, 1], [1, 0, 0]]
    - integer labels, shape (N,), e.g. [2, 0]          (one-hot -> labels: t.argmax(axis=1))

You may reuse your earlier exercises (when you are graded they are replaced by the model
solutions, so a mistake there does not cost you points twice):

    from exercises.exercise1.losses import softmax, cross_entropy_error
    from exercises.exercise2.gradients import numerical_gradient

Where to start: __init__ and predict, then loss and accuracy, then numerical_gradient (slow
but simple), and last gradient (backpropagation), which must agree with numerical_gradient.

One rule for every method: read the weights from self.params every time the method runs.
The grader puts new arrays into net.params["W1"] etc. between calls, so weights kept elsewhere
since __init__ (self.W1 = ..., or the book's Affine layers built once from self.params) would
still be the old arrays. If you use the book's layers, build them from self.params inside the
methods.

Check your work at any time with:

    grade exercise3
"""

import numpy as np


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        """Create the parameters in the dict self.params.

        self.params must hold exactly these numpy arrays:
        - "W1": shape (input_size, hidden_size), weight_init_std * standard normal numbers
                (np.random.randn(...), or a np.random.default_rng() generator's .standard_normal)
        - "b1": shape (hidden_size,), zeros
        - "W2": shape (hidden_size, output_size), weight_init_std * standard normal numbers
        - "b2": shape (output_size,), zeros

        The grader checks the shapes, that biases are zero, and that the weights have mean
        about 0 and standard deviation about weight_init_std.
        """
        raise NotImplementedError("__init__: fill self.params with W1, b1, W2, b2")

    def predict(self, x):
        """The network's output probabilities for a batch.

        Inputs:
        - x: shape (N, input_size).

        Returns y of shape (N, output_size), each row non-negative and summing to 1:

            z1 = sigmoid(x @ W1 + b1)        (N, hidden_size)
            y  = softmax(z1 @ W2 + b2)       (N, output_size)

        Note that the second layer takes z1, not x.
        """
        raise NotImplementedError("predict: softmax(sigmoid(x @ W1 + b1) @ W2 + b2)")

    def loss(self, x, t):
        """The cross-entropy error of predict(x) against the targets t.

        Inputs:
        - x: shape (N, input_size).
        - t: one-hot of shape (N, output_size), or integer labels of shape (N,).

        Returns one number: the mean over the N rows of -log(y[row, correct class] + 1e-7).
        """
        raise NotImplementedError("loss: cross_entropy_error(self.predict(x), t)")

    def accuracy(self, x, t):
        """The fraction of rows that predict(x) classifies correctly.

        Inputs:
        - x: shape (N, input_size).
        - t: one-hot of shape (N, output_size), or integer labels of shape (N,).

        Returns a number between 0 and 1: (number of rows whose argmax of y equals the correct
        class) / N. Example: 3 of 4 rows right -> 0.75.
        """
        raise NotImplementedError("accuracy: mean of (y.argmax(axis=1) == labels)")

    def numerical_gradient(self, x, t):
        """The gradient of self.loss(x, t) with respect to every parameter, numerically.

        Returns a dict with the keys "W1", "b1", "W2", "b2", each an array of the same shape
        as the parameter, computed by central differences with h = 1e-4 (as in exercise 2):

            grads["W1"][i, j] = (loss with W1[i, j] + h  -  loss with W1[i, j] - h) / (2h)

        Change self.params[key] in place one element at a time and put every element back
        afterwards. With exercise 2's numerical_gradient(f, x) this is:

            loss_w = lambda W: self.loss(x, t)     # ignores W: it reads self.params
            grads["W1"] = numerical_gradient(loss_w, self.params["W1"])
        """
        raise NotImplementedError("numerical_gradient: central differences on each params array")

    def gradient(self, x, t):
        """The same gradients as numerical_gradient, by backpropagation (book, section 5.7).

        Returns a dict with the keys "W1", "b1", "W2", "b2", arrays shaped like the params.
        The grader compares it with the model solution's backpropagation: every element must
        agree within a relative error of 1e-6 (|yours - expected| / max(|yours|, |expected|),
        float64), which a correct backprop meets easily (~1e-12). Compared with your own
        numerical_gradient, small entries may differ by up to ~1e-3 relative even when both are
        right: numerical_gradient differentiates the loss with the 1e-7 inside its log, which
        backpropagation leaves out. So check your backprop against numerical_gradient with a
        looser tolerance (1e-3), or on a batch where no probability is tiny.

        Forward pass first (gradient may be called without predict or loss before it):
            a1 = x @ W1 + b1;  z1 = sigmoid(a1);  y = softmax(z1 @ W2 + b2)

        Then backward, with N = x.shape[0] and T the one-hot targets:
            dy  = (y - T) / N                    (N, output_size)  softmax + cross-entropy
            dW2 = z1.T @ dy                      (hidden_size, output_size)
            db2 = dy summed over the batch axis (axis=0)   (output_size,)
            dz1 = dy @ W2.T                      (N, hidden_size)
            da1 = dz1 * z1 * (1 - z1)            (N, hidden_size)  the sigmoid's derivative
            dW1 = x.T @ da1                      (input_size, hidden_size)
            db1 = da1 summed over axis=0         (hidden_size,)

        The division by N is there because the loss is a mean over the batch.
        """
        raise NotImplementedError("gradient: forward pass, then backward from dy = (y - T) / N")
