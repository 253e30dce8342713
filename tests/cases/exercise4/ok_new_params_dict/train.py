# correct: replaces network.params with a new dict each iteration
import numpy as np


def train_network(network, x_train, t_train, x_test, t_test, iters_num=10000, batch_size=100,
                  learning_rate=0.1, seed=None):
    rng = np.random.RandomState(seed)
    iter_per_epoch = max(x_train.shape[0] // batch_size, 1)
    result = {"train_loss": [], "train_acc": [], "test_acc": []}
    for i in range(iters_num):
        mask = rng.randint(0, x_train.shape[0], size=batch_size)
        x_batch, t_batch = x_train[mask], t_train[mask]
        grads = network.gradient(x_batch, t_batch)
        network.params = {k: w - learning_rate * grads[k] for k, w in network.params.items()}
        result["train_loss"].append(float(network.loss(x_batch, t_batch)))
        if i % iter_per_epoch == 0:
            result["train_acc"].append(float(network.accuracy(x_train, t_train)))
            result["test_acc"].append(float(network.accuracy(x_test, t_test)))
    return result
