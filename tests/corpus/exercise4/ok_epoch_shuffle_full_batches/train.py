"""Exercise 4: mini-batch SGD over a new random order of the training rows each pass; a pass
starts over when fewer than batch_size rows are left, so every batch is full and every row
can be drawn."""

import numpy as np


def train_network(network, x_train, t_train, x_test, t_test, iters_num=10000, batch_size=100,
                  learning_rate=0.1, seed=None):
    rng = np.random.default_rng(seed)
    n = len(x_train)
    iter_per_epoch = max(n // batch_size, 1)
    history = {"train_loss": [], "train_acc": [], "test_acc": []}
    order, used = rng.permutation(n), 0
    for i in range(iters_num):
        if used + batch_size > n:
            order, used = rng.permutation(n), 0
        idx = order[used:used + batch_size]
        used += batch_size
        xb, tb = x_train[idx], t_train[idx]
        grads = network.gradient(xb, tb)
        for name, g in grads.items():
            network.params[name] -= learning_rate * g
        history["train_loss"].append(float(network.loss(xb, tb)))
        if i % iter_per_epoch == 0:
            history["train_acc"].append(float(network.accuracy(x_train, t_train)))
            history["test_acc"].append(float(network.accuracy(x_test, t_test)))
    return history
