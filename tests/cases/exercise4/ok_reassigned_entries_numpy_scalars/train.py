# correct: assigns new arrays to the entries, keeps numpy scalars, accuracies before the loss
import numpy as np


def train_network(network, x_train, t_train, x_test, t_test, iters_num=10000, batch_size=100,
                  learning_rate=0.1, seed=None):
    np.random.seed(seed)
    train_size = len(x_train)
    iter_per_epoch = max(int(train_size / batch_size), 1)
    train_loss, train_acc, test_acc = [], [], []
    for it in range(iters_num):
        mask = np.random.choice(train_size, batch_size)
        x_batch, t_batch = x_train[mask], t_train[mask]
        grads = network.gradient(x_batch, t_batch)
        for key in grads.keys():
            network.params[key] = network.params[key] - learning_rate * grads[key]
        if it % iter_per_epoch == 0:
            train_acc.append(np.float64(network.accuracy(x_train, t_train)))
            test_acc.append(np.float64(network.accuracy(x_test, t_test)))
        train_loss.append(np.float64(network.loss(x_batch, t_batch)))
    return dict(train_loss=train_loss, train_acc=train_acc, test_acc=test_acc)
