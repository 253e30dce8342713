"""Exercise 5 — the optimizers of chapter 6.1: SGD, Momentum, AdaGrad and Adam.

Training repeats two things: compute the gradients `grads` of the loss, then change the
parameters a little against them. An optimizer is the object that does the second part:

    optimizer = Momentum(lr=0.01)
    for i in range(iters):
        grads = network.gradient(x_batch, t_batch)
        optimizer.update(network.params, grads)

`params` and `grads` are dicts with the same keys (for example "W1", "b1", "W2", "b2"),
each value a float numpy array; grads[key] has the shape of params[key].

What every `update(params, grads)` must do:
- change EVERY array of `params` — either in place (`params[key] -= ...`) or by assigning
  the entry (`params[key] = params[key] - ...`). Changing a local copy is not enough: the
  network reads its own dict, and the caller ignores anything update returns.
- keep its state (velocity v, sums h, moments m and v) PER KEY, in a dict created with
  zeros of each parameter's shape on the first call, and keep it from one call to the next.
- use the hyper-parameters given to the constructor, not fixed numbers.

Where to start: SGD is two lines. Then Momentum (the book's `if self.v is None:` pattern
creates the state once), AdaGrad, and last Adam.

Check your work at any time with:

    grade exercise5
"""

import numpy as np


class SGD:
    """Stochastic gradient descent: for every key,

        p <- p - lr * g

    Example: with lr=0.1, params={"w": np.array([1.0, 2.0])} and grads={"w": np.array([0.5, -1.0])},
    one update leaves params["w"] == [0.95, 2.1].
    """

    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        raise NotImplementedError("SGD.update: params[key] -= self.lr * grads[key] for every key")


class Momentum:
    """SGD with a velocity that remembers past steps (a ball rolling downhill):

        v <- momentum * v - lr * g
        p <- p + v

    v starts as zeros (one array per key, shaped like params[key]) on the first call and is
    kept between calls. The equivalent PyTorch form `v <- momentum*v + g; p <- p - lr*v`
    is also accepted.

    Example: lr=0.1, momentum=0.9 and the same gradient g=1.0 twice: the first update moves
    p by -0.1, the second by 0.9 * (-0.1) - 0.1 = -0.19.
    """

    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None

    def update(self, params, grads):
        raise NotImplementedError("Momentum.update: create self.v once, then v = momentum*v - lr*g; p += v")


class AdaGrad:
    """A learning rate per element that shrinks where gradients have been large:

        h <- h + g * g
        p <- p - lr * g / (sqrt(h) + 1e-7)

    h starts as zeros (one array per key) on the first call and keeps growing across calls.
    The 1e-7 keeps the division finite where h is still 0 (a gradient that has always been 0).

    Example: lr=1.0 and g=2.0 on the first call: h = 4, and p moves by -2 / (2 + 1e-7) ≈ -1.
    """

    def __init__(self, lr=0.01):
        self.lr = lr
        self.h = None

    def update(self, params, grads):
        raise NotImplementedError("AdaGrad.update: h += g*g; p -= lr * g / (np.sqrt(h) + 1e-7)")


class Adam:
    """Momentum and AdaGrad combined, with bias correction. On every update call:

        t <- t + 1                              (once per CALL, not once per key; t starts at 0,
                                                 so the first update uses t = 1)
        for every key:
            m <- beta1 * m + (1 - beta1) * g
            v <- beta2 * v + (1 - beta2) * g * g
            m_hat = m / (1 - beta1 ** t)
            v_hat = v / (1 - beta2 ** t)
            p <- p - lr * m_hat / (sqrt(v_hat) + eps)       eps = 1e-7 (or 1e-8)

    m and v start as zeros (per key) on the first call and are kept between calls. The
    book's form, `lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t)` and
    `p <- p - lr_t * m / (sqrt(v) + 1e-7)`, is also accepted.

    Example: on the first call m_hat = g and v_hat = g*g, so every element moves by about
    lr against the sign of its gradient: -lr * g / |g|.
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.t = 0
        self.m = None
        self.v = None

    def update(self, params, grads):
        raise NotImplementedError("Adam.update: t += 1 once, then per key update m, v, m_hat, v_hat and p")
