# correct: a fresh permutation each epoch, sliced into full batches
import numpy as np


def train_network(network, x_train, t_train, x_test, t_test, iters_num=10000, batch_size=100,
                  learning_rate=0.1, seed=None):
    rng = np.random.default_rng(seed)
    train_size = x_train.shape[0]
    iter_per_epoch = max(train_size // batch_size, 1)
    losses, train_accs, test_accs = [], [], []
    order = rng.permutation(train_size)
    for i in range(iters_num):
        step = i % iter_per_epoch
        if step == 0 and i > 0:
            order = rng.permutation(train_size)
        batch = order[step * batch_size:(step + 1) * batch_size]
        grads = network.gradient(x_train[batch], t_train[batch])
        for key in grads:
            network.params[key] -= learning_rate * grads[key]
        losses.append(float(network.loss(x_train[batch], t_train[batch])))
        if step == 0:
            train_accs.append(float(network.accuracy(x_train, t_train)))
            test_accs.append(float(network.accuracy(x_test, t_test)))
    return {"train_loss": losses, "train_acc": train_accs, "test_acc": test_accs}
