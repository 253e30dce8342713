"""Exercise 4: mini-batch SGD; batches drawn with a seeded Generator's integers(), rows taken
with np.take along axis 0 (works for one-hot and label targets alike), numbers stored with .item()."""

import numpy as np


def _record_accuracies(network, sets, lists):
    for (x, t), values in zip(sets, lists):
        values.append(np.asarray(network.accuracy(x, t)).item())


def train_network(network, x_train, t_train, x_test, t_test, iters_num=10000, batch_size=100,
                  learning_rate=0.1, seed=None):
    generator = np.random.Generator(np.random.PCG64(seed))
    train_loss, train_acc, test_acc = [], [], []
    iter_per_epoch = max(x_train.shape[0] // batch_size, 1)
    for it in range(iters_num):
        rows = generator.integers(0, x_train.shape[0], size=batch_size)
        x_batch = np.take(x_train, rows, axis=0)
        t_batch = np.take(t_train, rows, axis=0)
        grads = network.gradient(x_batch, t_batch)
        params = network.params
        params["W1"] = params["W1"] - learning_rate * grads["W1"]
        params["b1"] = params["b1"] - learning_rate * grads["b1"]
        params["W2"] = params["W2"] - learning_rate * grads["W2"]
        params["b2"] = params["b2"] - learning_rate * grads["b2"]
        train_loss.append(np.asarray(network.loss(x_batch, t_batch)).item())
        if it % iter_per_epoch == 0:
            _record_accuracies(network, [(x_train, t_train), (x_test, t_test)], [train_acc, test_acc])
    return dict(train_loss=train_loss, train_acc=train_acc, test_acc=test_acc)
