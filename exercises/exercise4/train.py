"""Exercise 4 -- training a network with mini-batch stochastic gradient descent.

"Deep Learning from Scratch", section 4.5: the training loop of `train_neuralnet.py`, written
as one function that trains *any* network object with this interface:

    network.params              dict of parameter arrays ("W1", "b1", "W2", "b2")
    network.gradient(x, t)      dict of gradients with the same keys (backpropagation)
    network.loss(x, t)          a number: the loss on the rows x with targets t
    network.accuracy(x, t)      a number: the fraction of rows classified correctly

To try it on MNIST with your exercise-3 network (the grader does the same, timed):

    from exercises.exercise3.two_layer_net import TwoLayerNet
    from grader.mnist import load_mnist, one_hot
    data = load_mnist()
    net = TwoLayerNet(784, 50, 10)
    history = train_network(net, data.x_train, one_hot(data.t_train), data.x_test,
                            one_hot(data.t_test), iters_num=600, learning_rate=0.5, seed=0)
    print(history["test_acc"])          # should climb above 0.9
"""

import numpy as np


def train_network(network, x_train, t_train, x_test, t_test, iters_num=10000, batch_size=100,
                  learning_rate=0.1, seed=None):
    """Train `network` in place by mini-batch SGD and return its learning curves.

    Inputs:
      network: an object with params, gradient, loss and accuracy (see the module docstring).
      x_train of shape (N, D), t_train of shape (N, C) one-hot or (N,) labels: training set.
      x_test, t_test: the test set, used ONLY to measure accuracy -- never to update params.
      iters_num: number of iterations (parameter updates).
      batch_size: rows per mini-batch (never more than N).
      learning_rate: step size of each update.
      seed: if not None, the same seed must give the same batches, e.g. by creating
            `rng = np.random.default_rng(seed)` and drawing every batch from it
            (calling np.random.seed(seed) is also fine).

    Each iteration i = 0, 1, ..., iters_num - 1:
      1. draw batch_size random row indices of the training set (with or without replacement)
         and take x_batch = x_train[batch_mask], t_batch = t_train[batch_mask];
      2. grads = network.gradient(x_batch, t_batch);
      3. update every parameter: network.params[key] -= learning_rate * grads[key];
      4. append network.loss(x_batch, t_batch) -- computed after the update -- to train_loss;
      5. with iter_per_epoch = max(N // batch_size, 1) (integer division), when
         i % iter_per_epoch == 0 (so also at i = 0), append network.accuracy(x_train, t_train)
         to train_acc and network.accuracy(x_test, t_test) to test_acc, after the update.

    Returns:
      {"train_loss": [...], "train_acc": [...], "test_acc": [...]}: lists of floats,
      iters_num losses and one pair of accuracies per epoch.

    Worked example: with N = 50 rows, batch_size = 10 and iters_num = 12, iter_per_epoch is 5;
    train_loss gets 12 entries and train_acc/test_acc get 3 (iterations 0, 5 and 10).
    """
    raise NotImplementedError("exercise 4: write train_network")
