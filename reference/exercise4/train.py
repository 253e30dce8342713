"""Reference solution of exercise 4: mini-batch stochastic gradient descent (book, ch. 4.5).

Self-contained on purpose (in the grader's process `exercises.*` are the students' stubs).
It trains any object with `params`, `gradient`, `loss` and `accuracy`, as SPEC.md asks.
"""

import numpy as np


def train_network(network, x_train, t_train, x_test, t_test, iters_num=10000, batch_size=100,
                  learning_rate=0.1, seed=None):
    """Train `network` in place; return the loss per iteration and the accuracies per epoch."""
    rng = np.random.default_rng(seed)
    train_size = len(x_train)
    iter_per_epoch = max(train_size // batch_size, 1)
    history = {"train_loss": [], "train_acc": [], "test_acc": []}
    for i in range(iters_num):
        batch = rng.choice(train_size, batch_size)
        x_batch, t_batch = x_train[batch], t_train[batch]
        grads = network.gradient(x_batch, t_batch)
        for key in network.params:
            network.params[key] -= learning_rate * grads[key]
        history["train_loss"].append(float(network.loss(x_batch, t_batch)))
        if i % iter_per_epoch == 0:
            history["train_acc"].append(float(network.accuracy(x_train, t_train)))
            history["test_acc"].append(float(network.accuracy(x_test, t_test)))
    return history
