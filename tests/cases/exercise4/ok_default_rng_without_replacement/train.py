# correct: a numpy Generator, batches without replacement, loops over network.params
import numpy as np


def train_network(network, x_train, t_train, x_test, t_test, iters_num=10000, batch_size=100,
                  learning_rate=0.1, seed=None):
    rng = np.random.default_rng(seed)
    n = len(x_train)
    iter_per_epoch = max(n // batch_size, 1)
    history = {"train_loss": [], "train_acc": [], "test_acc": []}
    for i in range(iters_num):
        idx = rng.choice(n, size=batch_size, replace=False)
        xb, tb = x_train[idx], t_train[idx]
        grads = network.gradient(xb, tb)
        for name, value in network.params.items():
            value -= learning_rate * grads[name]
        history["train_loss"].append(float(network.loss(xb, tb)))
        if i % iter_per_epoch == 0:
            history["train_acc"].append(float(network.accuracy(x_train, t_train)))
            history["test_acc"].append(float(network.accuracy(x_test, t_test)))
    return history
