"""Public checks of exercise 3: TwoLayerNet's parameters, forward pass, loss, accuracy, gradients.

The grader builds the student's network in the sandbox, puts its own parameters into it
(`net.ref("params")[key] = value`: SPEC.md says methods read self.params at call time) and
compares each result with the reference network holding the same parameters. The sizes are
all different (input 5, hidden 4, output 3, batch 7), so a wrong shape tells which array was
used where. The test networks, the comparisons, the tolerances below and the helpers that name mistakes
live in support.py.

predict and gradient are compared with the reference only. loss, accuracy and
numerical_gradient are thin layers over predict and loss, so they are also right when they
agree with the student's own predict (loss, accuracy) or own loss (numerical_gradient): a
mistake in the forward pass costs points on the predict checks, not on every check.

Tolerances (float64 throughout; the tests measure the margins on these very inputs):
- predict, accuracy: rtol 1e-6 (rounding is ~1e-15).
- loss: rtol 1e-5. The 1e-7 inside the log moves the loss by up to ~2e-6 relative here
  (a row's correct class has probability 0.005), and leaving it out is exercise 1's business.
- gradient: relative error 1e-6 per element against the reference's backprop, which a
  correct backprop matches to rounding (~1e-12). Not against the numerical gradient first:
  that one differentiates the loss *with* its 1e-7, which moves small entries by up to 1e-3
  relative on these inputs, so SPEC.md's "1e-6 against the numerical gradient" cannot hold
  for a correct backprop; it is the fallback (a backprop of the loss with the 1e-7 passes).
- numerical_gradient: relative error 1e-5 against the reference's numerical gradient (same
  central differences and h; a loss without the 1e-7 moves it by ~1e-6; a forward
  difference is off by 3e-5 to 4e-4), else against the reference's backprop or the central
  differences of the student's own loss.
"""

from __future__ import annotations

from grader.checks.api import public
from grader.checks.exercise3.support import (WEIGHT_SIZES, case_named, check_accuracy, check_gradient, check_loss,
                                             check_predict, check_weights, expect_param_layout, read_params)


@public(points=1)
def test_params_layout(student):
    """params holds W1, b1, W2, b2 with the right shapes, biases zero"""
    net = student.TwoLayerNet(5, 4, 3)
    expect_param_layout(read_params(net), (5, 4, 3), call="TwoLayerNet(5, 4, 3).params")


@public(points=1)
def test_weights_scale_with_weight_init_std(student):
    """weights are weight_init_std times standard normal numbers (weight_init_std=0.05)"""
    check_weights(student, WEIGHT_SIZES, 0.05)


@public(points=2)
def test_predict(student):
    """predict returns softmax(sigmoid(x @ W1 + b1) @ W2 + b2), one row per example"""
    check_predict(student, case_named("main"))


@public(points=1)
def test_loss_one_hot(student):
    """loss is the cross-entropy error of predict(x), with one-hot targets"""
    check_loss(student, case_named("main"), "one-hot")


@public(points=1)
def test_accuracy_one_hot(student):
    """accuracy is the fraction of rows classified correctly, with one-hot targets"""
    check_accuracy(student, "one-hot")


@public(points=1)
def test_numerical_gradient(student):
    """numerical_gradient gives central differences (h = 1e-4) of the loss, and restores params"""
    check_gradient(student, case_named("numerical"), "one-hot", method="numerical_gradient")


@public(points=3)
def test_gradient_backprop(student):
    """gradient (backprop) agrees with the loss's gradient, 5-4-3 network, batch of 7, one-hot targets"""
    check_gradient(student, case_named("main"), "one-hot")
