"""Hidden checks of exercise 5: defaults, non-default hyper-parameters, state per key and per
object. Same machinery and tolerance as the public checks (see support.py).

The checks of defaults, per-key state and per-object state compare the student's optimizer
with ITSELF (no arguments vs the defaults spelled out; one key alone vs all keys together;
one object alone vs two objects taking turns), so a wrong formula, already costing points in
the public step checks, does not cost them again here: each of these fails only for its own
mistake.
"""

from __future__ import annotations

import numpy as np

from grader.checks.api import fail, hidden, show
from grader.checks.translated import _
from grader.checks.exercise5.support import (ADAM_HINT, MOMENTUM_HINT, OWN_STATE_HINT, AdaGradModel, AdamModel,
                                             adam_mistakes, expect_steps, first_difference, gradient_sequence,
                                             initial_params, label, leak_hint, momentum_mistakes, read_params,
                                             run_model, run_student)

DEFAULTS = {"SGD": {"lr": 0.01}, "Momentum": {"lr": 0.01, "momentum": 0.9}, "AdaGrad": {"lr": 0.01},
            "Adam": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999}}
HYPER = {"SGD": {"lr": 0.1}, "Momentum": {"lr": 0.1, "momentum": 0.9}, "AdaGrad": {"lr": 0.1}, "Adam": {"lr": 0.01}}


def describe_difference(difference) -> str:
    step, key, got, expected = difference
    return _("update call {step} changed params[{key}] by {got} instead of {expected}").format(
        step=step, key=repr(key), got=show(got), expected=show(expected))


@hidden(points=1)
def test_default_hyperparameters(student):
    """SGD(), Momentum(), AdaGrad() and Adam() step exactly like the handout's defaults spelled out"""
    shapes = {"W": (2, 3), "b": (3,)}
    params0, grads_seq = initial_params(shapes), gradient_sequence(shapes, 3, seed=41)
    for name, defaults in DEFAULTS.items():
        implicit = run_student(student, name, {}, params0, grads_seq)[0]
        explicit = run_student(student, name, defaults, params0, grads_seq)[0]
        difference = first_difference(implicit, explicit)
        if difference:
            fail(_("{name}() and {spelled_out} should take the same steps, but with {name}() {difference}.").format(
                     name=name, spelled_out=label(name, defaults), difference=describe_difference(difference)),
                 hint=leak_hint(student, name, defaults, params0, grads_seq, explicit)
                 or _("give the constructor the handout's defaults: def __init__(self, {defaults}).").format(
                     defaults=", ".join(f"{k}={v}" for k, v in defaults.items())))


@hidden(points=1)
def test_momentum_honours_lr_and_momentum(student):
    """Momentum(lr=0.05, momentum=0.5) uses both values it was given"""
    expect_steps(student, "Momentum", {"lr": 0.05, "momentum": 0.5}, mistakes=momentum_mistakes(0.05, 0.5),
                 hint=MOMENTUM_HINT, seed=21)


@hidden(points=1)
def test_adam_honours_betas(student):
    """Adam(lr=0.02, beta1=0.7, beta2=0.9) uses all three values it was given"""
    expect_steps(student, "Adam", {"lr": 0.02, "beta1": 0.7, "beta2": 0.9},
                 mistakes=adam_mistakes(0.02, 0.7, 0.9), hint=ADAM_HINT, seed=22)


SAME_SHAPES = {"W1": (2, 3), "W2": (2, 3), "W3": (2, 3)}


@hidden(points=1)
def test_state_is_kept_per_key(student):
    """Momentum, AdaGrad and Adam move each of three same-shaped parameters as if it were alone"""
    params0 = initial_params(SAME_SHAPES)
    grads_seq = gradient_sequence(SAME_SHAPES, 3, seed=23)
    for name in ("Momentum", "AdaGrad", "Adam"):
        together = run_student(student, name, HYPER[name], params0, grads_seq)[0]
        for key in SAME_SHAPES:
            # The same call sequence, but only `key` gets its gradient; the other keys get zeros.
            alone_grads = [{k: g[k] if k == key else np.zeros_like(g[k]) for k in g} for g in grads_seq]
            alone = run_student(student, name, HYPER[name], params0, alone_grads)[0]
            difference = first_difference([{key: s[key]} for s in together], [{key: s[key]} for s in alone])
            if difference:
                fail(_("{optimizer} on params {names} (all of shape (2, 3)): params[{key}] moved differently when "
                       "the other keys had gradients than when their gradients were 0: with them, {difference}."
                       ).format(optimizer=label(name, HYPER[name]), names="{W1, W2, W3}", key=repr(key),
                                difference=describe_difference(difference)),
                     hint=leak_hint(student, name, HYPER[name], params0, grads_seq, together)
                     or _("one state array was shared by all keys: keep the state in a dict with one entry per key "
                          "(self.v[key] = np.zeros_like(params[key]) for every key on the first call)."))


@hidden(points=1)
def test_each_optimizer_object_has_its_own_state(student):
    """two Momentum objects (and two Adam objects) updating two networks in turn move each as if alone"""
    shapes = {"W": (2, 3), "b": (3,)}
    nets = [initial_params(shapes, seed=31), initial_params(shapes, seed=32)]
    grads = [gradient_sequence(shapes, 3, seed=33), gradient_sequence(shapes, 3, seed=34)]
    for name in ("Momentum", "Adam"):
        hyper = HYPER[name]
        alone = [run_student(student, name, hyper, nets[i], grads[i])[0] for i in (0, 1)]
        optimizers = [student.call(name, **hyper), student.call(name, **hyper)]
        params = [student.keep({k: v.copy() for k, v in net.items()}) for net in nets]
        in_turn = [[nets[0]], [nets[1]]]
        for step in range(3):
            for i in (0, 1):
                optimizers[i].call("update", params[i], grads[i][step])
                in_turn[i].append(read_params(params[i], list(shapes), shapes,
                                              _("update call {step} of {name} object {number}").format(
                                                  step=step + 1, name=name, number=i + 1)))
        for i in (0, 1):
            difference = first_difference(in_turn[i], alone[i])
            if difference:
                fail(_("two {optimizer} objects updated two different params dicts in turn, and object {number} "
                       "moved its params differently than a single object does alone: in turn, {difference}."
                       ).format(optimizer=label(name, hyper), number=i + 1,
                                difference=describe_difference(difference)),
                     hint=_(OWN_STATE_HINT))


def tiny_gradients(shapes: dict, steps: int = 4, seed: int = 71) -> list[dict]:
    """Gradients of size 1e-8 to 1e-6 (and an exact 0 in every bias): as small as eps, so where eps is
    added and how large it is changes each step by 10% or more, while a correct optimizer's steps
    are as exact as ever."""
    rng = np.random.default_rng(seed)
    sequence = []
    for _step in range(steps):
        grads = {}
        for key, shape in shapes.items():
            g = 10.0 ** rng.uniform(-8, -6, size=shape) * rng.choice([-1.0, 1.0], size=shape)
            if key.startswith("b"):
                g.reshape(-1)[0] = 0.0
            grads[key] = g
        sequence.append(grads)
    return sequence


class BookAdam:
    """The book's form: lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t); p -= lr_t * m / (sqrt(v) + eps)."""

    def __init__(self, lr, eps, beta1=0.9, beta2=0.999):
        self.lr, self.eps, self.beta1, self.beta2, self.t, self.m, self.v = lr, eps, beta1, beta2, 0, {}, {}

    def update(self, params, grads):
        self.t += 1
        lr_t = self.lr * np.sqrt(1 - self.beta2 ** self.t) / (1 - self.beta1 ** self.t)
        for key in params:
            g = grads[key]
            self.m[key] = self.beta1 * self.m.get(key, 0) + (1 - self.beta1) * g
            self.v[key] = self.beta2 * self.v.get(key, 0) + (1 - self.beta2) * g * g
            params[key] = params[key] - lr_t * self.m[key] / (np.sqrt(self.v[key]) + self.eps)


def expect_eps_steps(student, name: str, hyper: dict, accepted: list, what: str, hint: str) -> None:
    shapes = {"W": (2, 3), "b": (3,)}
    params0, grads_seq = initial_params(shapes, seed=72), tiny_gradients(shapes)
    got = run_student(student, name, hyper, params0, grads_seq)[0]
    differences = [first_difference(got, run_model(model, params0, grads_seq)) for model in accepted]
    if any(d is None for d in differences):
        return
    step, key = differences[0][0], differences[0][1]
    fail(_("{optimizer} with gradients as small as 1e-8 to 1e-6: {difference} (expected: {what}). Gradients of "
           "update call {step}: {gradients}.").format(optimizer=label(name, hyper),
                                                     difference=describe_difference(differences[0]), what=what,
                                                     step=step, gradients=show(grads_seq[step - 1][key])), hint=hint)


@hidden(points=0.5)
def test_adagrad_eps_with_tiny_gradients(student):
    """AdaGrad with gradients as small as eps: p -= lr * g / (sqrt(h) + 1e-7), eps 1e-7 outside the root"""
    expect_eps_steps(student, "AdaGrad", {"lr": 0.1}, [AdaGradModel(0.1)], _("eps = 1e-7 added to sqrt(h)"),
                     hint=_("AdaGrad divides by (np.sqrt(h) + 1e-7): eps is exactly 1e-7, added after the square "
                            "root (not inside it, not subtracted, not another size)."))


@hidden(points=0.5)
def test_adam_eps_with_tiny_gradients(student):
    """Adam with gradients as small as eps: eps 1e-7 or 1e-8 added to sqrt(v_hat) (or the book's lr_t form)"""
    accepted = [AdamModel(0.01, eps=1e-7), AdamModel(0.01, eps=1e-8), BookAdam(0.01, 1e-7), BookAdam(0.01, 1e-8)]
    expect_eps_steps(student, "Adam", {"lr": 0.01}, accepted,
                     _("eps of 1e-7 or 1e-8 added to sqrt(v_hat), or the book's lr_t form with that eps"),
                     hint=_("Adam divides by (np.sqrt(v_hat) + eps) with eps = 1e-7 or 1e-8, added after the square "
                            "root (not inside it, not subtracted, not larger)."))
