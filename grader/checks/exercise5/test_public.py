"""Public checks of exercise 5: each optimizer, step by step against the reference, and the
book's comparison on f(x, y) = x²/20 + y² (figure 6-8).

The machinery (running the student's optimizer and the reference on the same gradients, the
tolerance, the grader-side optimizers that each make one classic mistake) lives in support.py.
"""

from __future__ import annotations

import numpy as np

from grader.checks.api import attach, fail, public
from grader.checks.translated import _, join
from grader.checks.exercise5.support import (ADAGRAD_HINT, ADAM_HINT, BOOK_LEARNING_RATES, DESCENT_LIMIT, DESCENT_STEPS,
                                             MOMENTUM_HINT, SGD_HINT, adagrad_mistakes, adam_mistakes, expect_steps,
                                             momentum_mistakes, reference_descent, sgd_mistakes, student_descent)


# -- the checks -------------------------------------------------------------------------------------

@public(points=1)
def test_sgd_steps(student):
    """SGD(lr=0.1): four update calls on {W (2, 3), b (3,)} match p <- p - lr·g"""
    expect_steps(student, "SGD", {"lr": 0.1}, mistakes=sgd_mistakes(0.1), hint=SGD_HINT)


@public(points=1.5)
def test_momentum_steps(student):
    """Momentum(lr=0.1, momentum=0.9): four update calls match, velocity kept per key between calls"""
    expect_steps(student, "Momentum", {"lr": 0.1, "momentum": 0.9}, mistakes=momentum_mistakes(0.1, 0.9),
                 hint=MOMENTUM_HINT)


@public(points=1.5)
def test_adagrad_steps(student):
    """AdaGrad(lr=0.1): four update calls match, h accumulated, finite where a gradient is always 0"""
    expect_steps(student, "AdaGrad", {"lr": 0.1}, mistakes=adagrad_mistakes(0.1), hint=ADAGRAD_HINT)


@public(points=2)
def test_adam_steps(student):
    """Adam(lr=0.01): four update calls match (bias correction, one step count per call)"""
    expect_steps(student, "Adam", {"lr": 0.01}, mistakes=adam_mistakes(0.01), hint=ADAM_HINT)


@public(points=1)
def test_each_optimizer_descends_on_the_books_function(student):
    """each optimizer takes f(x, y) = x²/20 + y² from (-7, 2) close to its minimum in 30 steps (book fig. 6-8)"""
    curves, failures = {}, []
    for name, lr in BOOK_LEARNING_RATES.items():
        values = student_descent(student, name, lr)
        curves[f"{name}: f(x, y)"] = values
        final = values[-1]
        if not (np.isfinite(final) and final < DESCENT_LIMIT):
            failures.append(_("{optimizer} took f from 6.45 to {final} (the reference reaches {reference})").format(
                optimizer=f"{name}(lr={lr})", final=f"{final:.4g}", reference=f"{reference_descent(name, lr)[-1]:.3g}"))
    attach(curves=curves, reference_curves={f"{name}: f(x, y)": reference_descent(name, lr) for name, lr in
                                            BOOK_LEARNING_RATES.items()})
    if failures:
        fail(_("starting at (x, y) = (-7, 2) with the gradient (x/10, 2y), after {steps} update calls f should be "
               "below {limit}: {failures}.").format(steps=DESCENT_STEPS, limit=DESCENT_LIMIT,
                                                    failures=join("; ", failures)),
             hint=_("compare that optimizer's formula with the handout; its step-by-step check above shows the "
                    "first update call that goes wrong."))
