"""Contract-wide hidden checks of exercise 5: all four optimizers on generated parameter dicts and
call sequences, compared with the reference (a seeded scenario generator: `for_all` over a
Hypothesis strategy of whole scenarios — params, grads of every call, layouts, key orders,
hyper-parameters — shrunk to the smallest failing one).

Speed: a scenario costs about 3 + 3k calls into the student's process per optimizer (k update
calls): the params dict and each call's grads are kept there, and read back once after the last
call. The happy path compares only the final params (within STEP_RTOL of the sum of the
reference's step sizes); a failing scenario is replayed step by step to show the first call
that differs.

Input dimensions SPEC.md allows, function by function (what is generated here, and where the
rest is covered):

`SGD(lr=0.01)`, `Momentum(lr=0.01, momentum=0.9)`, `AdaGrad(lr=0.01)`,
`Adam(lr=0.001, beta1=0.9, beta2=0.999)` — the constructors:
- hyper-parameters by keyword or by position in SPEC's order (`Momentum(0.1, 0.5)`): generated;
- values: lr 0.003 to 1, momentum 0 to 0.99 (0: no memory), beta1 0 to 0.9, beta2 0.5 to 0.999:
  generated; defaults: test_hidden.py (test_default_hyperparameters).
  (beta2 stays at most 0.999: above it, the book's `lr_t` form, which SPEC accepts, moves eps's
  weight past the step tolerance on the first steps.)

`update(params, grads)` of each optimizer:
- params: a dict of 1 to 4 float64 arrays (SPEC: "every array of the dict"), keys of any name
  (W1, b1, gamma1, beta1, W, x, conv.weight, ...), each of 1 to 4 dimensions with sides 1 to 4
  (size-1 sides, equal sides, several keys of one shape; often every side >= 2, where Fortran and
  transposed layouts differ from C): generated. 0-d arrays are NOT
  generated: SPEC says "array", and whether a 0-d array is one a student must support is a
  reading SPEC leaves open (noted for the lead).
- memory layout of every params array and every grads array: C, Fortran, transposed view,
  strided view, offset view (codec.Layout): generated; the params views are the caller's own
  arrays, so an update that writes into a copy (reshape(-1)/ravel of a non-contiguous array)
  is seen.
- grads: the same keys as params (SPEC), in ANY order (the book's MultiLayerNetExtend builds
  params and grads in different orders): generated; element values exactly 0 or 0.1 to 3 in
  size, either sign (see TOLERANCE below).
- mutating in place or reassigning the entries: both accepted (the dict is kept in the student's
  process and read back after the last call).
- call sequences: 1 to 3 update calls on the same dict (state per key from zeros on the first
  call, kept between calls; Adam's t from 1, once per call): generated. Several objects not
  sharing state: test_hidden.py (test_each_optimizer_object_has_its_own_state, two objects in
  turn; test_state_is_kept_per_key). Gradients near eps: test_hidden.py (tiny gradients).
- grads left unchanged: update must change params only; each call's grads dict is kept in the
  student's process and read back after the LAST call (an optimizer whose state aliases an
  earlier call's grads, e.g. `self.v[key] = grads[key]` then `self.v[key] *= momentum`, changes
  it later): generated.

TOLERANCE: every element of the final params within support.STEP_RTOL (1e-4) of the distance
the reference's element travelled (the sum of its step sizes), plus STEP_ATOL; a failing scenario
is then replayed call by call and its first differing call shown with support.first_difference
(the public checks' per-call tolerance, support.py's docstring). Every gradient element is 0 or
at least 0.1 in size, and beta2 <= 0.999, so Adam's eps (1e-7 or 1e-8) and the book's lr_t form move a step by at most
3e-5 relative; the mistakes found here change steps by 10% or more, or leave them at 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from hypothesis import strategies as st

from grader.checks.api import CheckFailed, fail, hidden, show
from grader.checks.contract import arrays, for_all, in_layout, layouts, shapes, shrinking
from grader.checks.translated import N_, _, english_of as english, join
from grader.checks.exercise5.support import (STEP_ATOL, STEP_RTOL, first_difference, label, read_params,
                                             run_model)
from grader.sandbox.errors import StudentRaised
from reference.exercise5 import optimizers as ref

OPTIMIZERS = ("SGD", "Momentum", "AdaGrad", "Adam")
HYPER_VALUES = {"lr": (0.1, 0.01, 0.5, 0.003, 1.0), "momentum": (0.9, 0.0, 0.5, 0.99),
                "beta1": (0.9, 0.0, 0.5), "beta2": (0.999, 0.9, 0.5)}
SIGNATURES = {"SGD": ("lr",), "Momentum": ("lr", "momentum"), "AdaGrad": ("lr",), "Adam": ("lr", "beta1", "beta2")}
"""The constructors' parameters in SPEC.md's order (for positional calls)."""
KEY_NAMES = ("W1", "b1", "W2", "b2", "gamma1", "beta1", "W", "x", "conv.weight")
LAYOUT_WORDS = {"C": N_("C-ordered"), "F": N_("Fortran-ordered"), "transposed": N_("a transposed view"),
                "strided": N_("a strided view"), "offset": N_("a view at an offset")}
SHAPES = st.one_of(shapes(min_dims=2, max_dims=4, min_side=2, max_side=4), shapes(min_dims=1, max_dims=4, max_side=4))
"""Parameter shapes: often 2-D to 4-D with every side at least 2 (where a Fortran-ordered or
transposed array is laid out differently from a C one), else any, size-1 sides included."""
GRADIENT = st.one_of(st.just(0.0), st.floats(0.1, 3.0), st.floats(-3.0, -0.1))
"""A gradient element: exactly 0 or at least 0.1 in size (see TOLERANCE in the module docstring)."""


@dataclass(frozen=True)
class Scenario:
    """One caller's use of an optimizer: the constructor's arguments, a params dict, and the grads
    of every update call (keys in the order the caller builds them)."""
    hyper: dict
    positional: bool
    params: dict
    param_layouts: dict
    grads: list
    grad_layouts: dict
    name: str = field(default="SGD")

    def constructor(self) -> str:
        names = SIGNATURES[self.name]
        if self.positional:
            return f"{self.name}({', '.join(repr(self.hyper[p]) for p in names)})"
        return label(self.name, {p: self.hyper[p] for p in names})

    def describe(self) -> str:
        params = join(", ", [_("{key}: shape {shape} ({layout})").format(
            key=repr(k), shape=v.shape, layout=_(LAYOUT_WORDS[self.param_layouts[k]])) for k, v in self.params.items()])
        grads = join(", ", [_("{key} ({layout})").format(key=repr(k), layout=_(LAYOUT_WORDS[self.grad_layouts[k]]))
                            for k in self.grads[0]])
        return _("{constructor} on params {{{params}}}, grads keys in the order [{grads}]").format(
            constructor=self.constructor(), params=params, grads=grads)


@st.composite
def scenarios(draw) -> Scenario:
    hyper = {p: draw(st.sampled_from(values)) for p, values in HYPER_VALUES.items()}
    keys = draw(st.lists(st.sampled_from(KEY_NAMES), min_size=1, max_size=4, unique=True))
    key_shapes = {k: draw(SHAPES) for k in keys}
    params = {k: draw(arrays(np.float64, s, st.floats(-5, 5))) for k, s in key_shapes.items()}
    order = draw(st.permutations(keys))
    steps = draw(st.integers(1, 3))
    grads = [{k: draw(arrays(np.float64, key_shapes[k], GRADIENT)) for k in order} for _step in range(steps)]
    return Scenario(hyper, draw(st.booleans()), params, {k: draw(layouts()) for k in keys}, grads,
                    {k: draw(layouts()) for k in keys})


# -- running a scenario -----------------------------------------------------------------------------

@dataclass
class Run:
    """What the student's optimizer did: params after every call (or only after the last), and
    every call's grads as they were after the last call."""
    snapshots: list
    grads_after: list


def construct(student, sc: Scenario):
    names = SIGNATURES[sc.name]
    if sc.positional:
        return student.call(sc.name, *(sc.hyper[p] for p in names))
    return student.call(sc.name, **{p: sc.hyper[p] for p in names})


def student_run(student, sc: Scenario, every_step: bool = False) -> Run:
    optimizer = construct(student, sc)
    params = student.keep({k: in_layout(v, sc.param_layouts[k]) for k, v in sc.params.items()})
    key_shapes = {k: v.shape for k, v in sc.params.items()}
    snapshots, kept = [sc.params], []
    for step, grads in enumerate(sc.grads, start=1):
        kept.append(student.keep({k: in_layout(g, sc.grad_layouts[k]) for k, g in grads.items()}))
        optimizer.call("update", params, kept[-1])
        if every_step or step == len(sc.grads):
            snapshots.append(read_params(params, list(sc.params), key_shapes, _("update call {step} of {optimizer}")
                                         .format(step=step, optimizer=sc.describe())))
    return Run(snapshots, [handle.call("copy") for handle in kept])


def reference_run(sc: Scenario) -> list[dict]:
    return run_model(getattr(ref, sc.name)(**{p: sc.hyper[p] for p in SIGNATURES[sc.name]}), sc.params, sc.grads)


def final_differs(got_final: dict, expected: list[dict]) -> bool:
    """Whether the final params differ from the reference's by more than STEP_RTOL of the total
    distance each element travelled (the sum of the sizes of its steps)."""
    with np.errstate(all="ignore"):
        for key, value in got_final.items():
            travelled = sum(np.abs(after[key] - before[key]) for before, after in zip(expected, expected[1:]))
            error = np.abs(np.asarray(value, dtype=float) - expected[-1][key])
            if not np.all(error <= STEP_RTOL * travelled + STEP_ATOL):
                return True
    return False


def passes(student, sc: Scenario) -> bool:
    """Whether the student's steps are the reference's on `sc` (an exception counts as not)."""
    try:
        return not final_differs(student_run(student, sc).snapshots[-1], reference_run(sc))
    except StudentRaised:
        return False


def sorted_keys(sc: Scenario) -> Scenario:
    """The same scenario with params (and grads) listing their keys in sorted order."""
    return replace(sc, params={k: sc.params[k] for k in sorted(sc.params)},
                   grads=[{k: g[k] for k in sorted(g)} for g in sc.grads])


# -- naming the mistake: which dimension of the scenario makes the difference ------------------------

def scenario_hint(student, sc: Scenario) -> str | None:
    """Rerun the scenario with one dimension made plain at a time; the first that makes the
    student's steps right names the mistake (None when none does)."""
    c_order = {k: "C" for k in sc.params}
    in_params_order = [{k: g[k] for k in sc.params} for g in sc.grads]
    variants = [
        (sc.positional and replace(sc, positional=False),
         _("{name}(...) called with its arguments by position went wrong, by keyword it is right: keep SPEC's "
           "parameter order, def __init__(self, {parameters}).").format(
             name=sc.name, parameters=", ".join(f"{p}=..." for p in SIGNATURES[sc.name]))),
        (list(sc.grads[0]) != list(sc.params) and replace(sc, grads=in_params_order),
         _("the steps are right when grads has its keys in the order of params: pair every array with its "
           "gradient by key (grads[key]), never by position (zip(params.values(), grads.values()) or a "
           "sorted() key list) — the two dicts may list their keys in different orders.")),
        (list(sc.params) != sorted(sc.params) and sorted_keys(sc),
         _("the steps are right when params lists its keys in sorted order: your optimizer paired its state (or "
           "the gradients) with the keys by position in another order. Keep the state in a dict keyed like params "
           "(self.m[key]) and pair every array with its gradient by key, never by position.")),
        (sc.param_layouts != c_order and replace(sc, param_layouts=c_order),
         _("the steps are right when every params array is C-ordered: your update wrote into a COPY of a "
           "Fortran-ordered or view array (x.reshape(-1), np.ravel(x) and x.flatten() copy such arrays). "
           "Update the array itself: params[key] -= ..., or params[key] = params[key] - ....")),
        (sc.grad_layouts != c_order and replace(sc, grad_layouts=c_order),
         _("the steps are right when every grads array is C-ordered: you paired params and grads elements in "
           "MEMORY order (np.nditer over one array, .flat of the other) — for a Fortran-ordered or transposed "
           "grads that pairs the wrong elements. Use whole-array arithmetic, or np.nditer over both arrays "
           "together.")),
    ]
    for variant, hint in variants:
        if variant and passes(student, variant):
            return hint
    return None


GENERIC_HINT = N_("keep one state array per key, shaped like params[key] (np.zeros_like(params[key])), and update "
                  "every array whatever its shape (1-D to 4-D) and name; compare each line with SPEC's formulas.")


def expect_steps(student, sc: Scenario) -> Run:
    try:
        run = student_run(student, sc)
    except StudentRaised as exc:
        hint = None if exc.not_implemented or shrinking() else scenario_hint(student, sc)
        if hint is None:
            # the label names the call, in English like every call (results.cause_key groups by it)
            exc.label = f"{exc.label}, on {english(sc.describe())},"
            raise
        fail(_("{scenario}: {error}").format(scenario=sc.describe(), error=exc.student_message()), hint=hint, call=f"{sc.constructor()}.update",
             inputs=sc.describe())
    expected = reference_run(sc)
    if not final_differs(run.snapshots[-1], expected):
        return run
    if shrinking():  # only whether it fails counts: the call-by-call replay and the hint come after
        fail(_("{scenario}: the final params differ from the reference's.").format(scenario=sc.describe()))
    steps = student_run(student, sc, every_step=True).snapshots
    step, key, got_change, expected_change = (first_difference(steps, expected)
                                              or (len(sc.grads), *first_final_difference(steps, expected)))
    fail(_("{scenario}: update call {step} of {steps} changed params[{key}] by {got}; expected {expected}.{where} "
           "(params[{key}] started as {start}; its gradients were {gradients}.)").format(
             scenario=sc.describe(), step=step, steps=len(sc.grads), key=repr(key), got=show(got_change, 160),
             expected=show(expected_change, 160), where=first_element(got_change, expected_change),
             start=show(sc.params[key], 160), gradients=", ".join(show(g[key], 160) for g in sc.grads[:step])),
         hint=scenario_hint(student, sc) or _(GENERIC_HINT), call=f"{sc.constructor()}.update", step=step, key=key,
         inputs=sc.describe(), expected=show(expected_change), got=show(got_change))


def first_element(got: np.ndarray, expected: np.ndarray) -> str:
    """Where the two changes first differ, element by element."""
    if got.shape != expected.shape:
        return ""
    with np.errstate(all="ignore"):
        bad = np.argwhere(~np.isclose(got, expected, rtol=STEP_RTOL, atol=STEP_ATOL))
    if not len(bad):
        return ""
    index = tuple(int(i) for i in bad[0])
    return _(" First difference at index {index}: expected {expected}, got {got}.").format(
        index=index, expected=f"{expected[index]:.6g}", got=f"{got[index]:.6g}")


def first_final_difference(got: list[dict], expected: list[dict]) -> tuple:
    """(key, got total change, expected total change) of the first key whose final value differs."""
    for key in expected[0]:
        if final_differs({key: got[-1][key]}, [{key: e[key]} for e in expected]):
            return key, got[-1][key] - got[0][key], expected[-1][key] - expected[0][key]
    key = next(iter(expected[0]))
    return key, got[-1][key] - got[0][key], expected[-1][key] - expected[0][key]


def expect_grads_unchanged(sc: Scenario, run: Run) -> None:
    for step, (after, original) in enumerate(zip(run.grads_after, sc.grads), start=1):
        for key, value in original.items():
            now = np.asarray(after.get(key), dtype=float) if isinstance(after, dict) and key in after else None
            if now is not None and now.shape == value.shape and np.array_equal(now, value):
                continue
            change = ("" if now is None or now.shape != value.shape
                      else _(" (largest change {change})").format(change=f"{np.max(np.abs(now - value)):.3g}"))
            later = step < len(sc.grads)
            fail(_("{scenario}: after {calls} update call(s), the grads dict given to call {step} holds "
                   "grads[{key}] = {now}; it was {before}{change}: update changed the gradients.").format(
                     scenario=sc.describe(), calls=len(sc.grads), step=step, key=repr(key), now=show(now),
                     before=show(value), change=change),
                 hint=(_("your optimizer's state shares memory with an earlier call's gradient: "
                         "self.v[key] = grads[key] keeps the caller's array itself, and the next `*=`/`+=` on it "
                         "changes the caller's grads. Start the state from zeros (np.zeros_like) or a copy. "
                         "The caller may still need grads (logging, gradient checks, another optimizer).")
                       if later else
                       _("update must change params only: an in-place operation on grads[key] (g = grads[key]; "
                         "g /= ...) changes the caller's gradients. Compute a new array: g = grads[key] / .... "
                         "The caller may still need grads (logging, gradient checks, another optimizer).")),
                 call=f"{sc.constructor()}.update", inputs=sc.describe())


_failed = {"optimizer": OPTIMIZERS[0]}
"""The optimizer the last failing scenario failed on: while that failure is shrunk, only this
optimizer is run (a quarter of the calls a smaller input costs)."""


def expect_every_optimizer(student, sc: Scenario) -> None:
    for name in ((_failed["optimizer"],) if shrinking() else OPTIMIZERS):
        named = replace(sc, name=name)
        try:
            expect_grads_unchanged(named, expect_steps(student, named))
        except (CheckFailed, StudentRaised):
            _failed["optimizer"] = name
            raise


# -- the check ---------------------------------------------------------------------------------------

@hidden(points=1.5)
def test_optimizers_on_any_params_dict(student):
    """all four optimizers match the reference call after call on generated params dicts (any key names and
    order, 1-D to 4-D arrays in any memory layout, hyper-parameters by keyword or position), and leave grads
    unchanged"""
    for_all(scenarios(), lambda sc: expect_every_optimizer(student, sc), examples=6)
