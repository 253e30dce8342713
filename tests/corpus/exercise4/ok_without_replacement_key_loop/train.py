"""Exercise 4: mini-batch SGD; each batch drawn without replacement by a RandomState seeded from
the seed argument; the update loops over the gradient's keys in sorted order."""

import numpy as np


def train_network(network, x_train, t_train, x_test, t_test, iters_num=10000, batch_size=100,
                  learning_rate=0.1, seed=None):
    random = np.random.RandomState(seed)
    train_size = len(x_train)
    iter_per_epoch = train_size // batch_size if train_size >= batch_size else 1
    losses, train_accs, test_accs = [], [], []
    i = 0
    while i < iters_num:
        mask = random.choice(train_size, size=batch_size, replace=False)
        grads = network.gradient(x_train[mask], t_train[mask])
        for key in sorted(grads):
            network.params[key] -= learning_rate * grads[key]
        losses.append(float(network.loss(x_train[mask], t_train[mask])))
        if not i % iter_per_epoch:
            train_accs.append(float(network.accuracy(x_train, t_train)))
            test_accs.append(float(network.accuracy(x_test, t_test)))
        i += 1
    return {"train_loss": losses, "train_acc": train_accs, "test_acc": test_accs}
