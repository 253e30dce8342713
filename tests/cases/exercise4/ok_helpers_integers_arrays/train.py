# correct: helper functions, rng.integers, and the histories returned as numpy arrays
import numpy as np

PARAM_KEYS = ("W1", "b1", "W2", "b2")


def sgd_step(params, grads, learning_rate):
    for key in PARAM_KEYS:
        params[key] -= learning_rate * grads[key]


def sample_batch(rng, x, t, batch_size):
    idx = rng.integers(0, x.shape[0], size=batch_size)
    return x[idx], t[idx]


def train_network(network, x_train, t_train, x_test, t_test, iters_num=10000, batch_size=100,
                  learning_rate=0.1, seed=None):
    rng = np.random.default_rng(seed)
    iter_per_epoch = max(x_train.shape[0] // batch_size, 1)
    losses, train_accs, test_accs = [], [], []
    for i in range(iters_num):
        x_batch, t_batch = sample_batch(rng, x_train, t_train, batch_size)
        sgd_step(network.params, network.gradient(x_batch, t_batch), learning_rate)
        losses.append(network.loss(x_batch, t_batch))
        if i % iter_per_epoch == 0:
            train_accs.append(network.accuracy(x_train, t_train))
            test_accs.append(network.accuracy(x_test, t_test))
    return {"train_loss": np.array(losses), "train_acc": np.array(train_accs), "test_acc": np.array(test_accs)}
