"""Contract-wide hidden checks of exercise 4: train_network run on the recording network
(recording.py) over generated training sets, batch sizes, iteration counts, seeds and target
forms (Hypothesis, through checks.contract.for_all: fixed seed, shrunk failures). No check here
trains on MNIST: the rules are judged on small generated data, and one larger training set.

Input dimensions SPEC.md allows for train_network(network, x_train, t_train, x_test, t_test,
iters_num, batch_size, learning_rate, seed), and what the checks below draw:

- training set size N: 1..12 rows, and one set of 10,050 rows (larger than the fixtures and
  than the 10,000 rows a shortcut might cut to)                  -> bookkeeping_contract
- batch_size: 1..N, with batch_size == N, batch_size == 1 and batch sizes that do not divide
  N among them (iter_per_epoch = max(N // batch_size, 1) then drops a remainder). Not drawn:
  batch_size > N (SPEC.md: "the grader never asks for more rows than the training set has",
  so the max(..., 1) of iter_per_epoch never matters).           -> batches_contract
- targets: one-hot-like rows (N, 2) or integer labels (N,) (SPEC.md's networks take both, so
  train_network must select rows of either)                       -> batches_contract, bookkeeping
- iters_num: 2..8 (batches, bookkeeping), 6..10 (steering), up to 31 (reachability);
  learning_rate 0.01, 0.25 or 0.5
- seed: None or 0..2**31 - 1 (0 included: Hypothesis shrinks to it)
- sampling: every row must have a chance to be drawn. Small sets (2..5 rows, batch_size from
  half the set to N - 1) and as many iterations as it takes for every sampler SPEC.md allows
  (with or without replacement, a new permutation per epoch that drops or re-draws the
  remainder) to miss a given row with probability below 1e-7; a sampler that can never reach
  a row (choice(N - 1), only the first whole batches, a window that stops short, a generator
  re-seeded every epoch) misses it always.                        -> every_row_can_be_drawn
- what the network returns: loss and accuracy values that rise, then drop (the recording
  network's values wrap around), and test rows of other content: batches and parameters must
  not change (SPEC.md: the update is exactly params -= learning_rate * grads, test data never
  influences the parameters)                                      -> values_never_steer_training
- bookkeeping on every drawn scenario: one loss per iteration computed after the update on the
  iteration's batch, accuracies on the full training and test sets after the update at
  i % iter_per_epoch == 0, every parameter moved by exactly -learning_rate * gradient.

The network always has exactly the keys W1, b1, W2, b2 (SPEC.md); it is the grader's own
RecordingNetwork, whose calls run in the grader's process and are logged. Failures are shrunk
by at most contract.MAX_SHRINK_CALLS tries, so the scenario in a message does not depend on
how busy the machine is.
"""

from __future__ import annotations

import math
from dataclasses import replace

from hypothesis import strategies as st

from grader.checks.api import fail, hidden
from grader.checks.translated import _, ngettext
from grader.checks.contract import for_all
from grader.checks.exercise4.support import (Run, Scenario, _expect_batch, expect_accuracies, expect_histories,
                                             expect_losses, expect_updates, first_batch_difference,
                                             first_param_difference, run)
from grader.sandbox.errors import StudentRaised

MISS_PROBABILITY = 1e-7
"""The largest chance that a sampler SPEC.md allows misses a given row in every_row_can_be_drawn."""
LARGE = Scenario(train_size=10_050, batch_size=100, iters_num=2, learning_rate=0.25, seed=1)
"""A training set larger than the fixtures (and than 10,000 rows, a common cut for speed)."""


# -- scenarios -----------------------------------------------------------------------------------
@st.composite
def scenarios(draw, max_rows: int = 12, min_iters: int = 2, max_iters: int = 8, seeded: bool = False) -> Scenario:
    n = draw(st.integers(1, max_rows))
    batch = draw(st.one_of(st.just(n), st.just(1), st.integers(1, n)))
    seed = draw(st.integers(0, 2**31 - 1) if seeded else st.one_of(st.none(), st.integers(0, 2**31 - 1)))
    return Scenario(train_size=n, batch_size=batch, iters_num=draw(st.integers(min_iters, max_iters)),
                    learning_rate=draw(st.sampled_from([0.25, 0.5, 0.01])), seed=seed, labels=draw(st.booleans()))


def run_judged(student, scenario: Scenario) -> Run:
    """run(), a crash failing the check with the call that crashed (so it can be shrunk)."""
    try:
        return run(student, scenario)
    except StudentRaised as exc:
        if exc.not_implemented:
            raise
        fail(_("{call} raised {error}: {text}.").format(call=scenario.call_text(), error=exc.type_name,
                                                        text=exc.text), hint=raised_hint(scenario),
             error=exc.student_message(), call=scenario.call_text())


def raised_hint(s: Scenario) -> str:
    if s.labels:
        return _("t_train may hold integer labels of shape (N,) as well as one-hot rows (N, C): select rows with "
                 "t_train[batch_mask], which works for both (t_train[batch_mask, :] fails for labels).")
    if s.batch_size == s.train_size:
        return _("batch_size may equal the number of training rows: every draw of batch_size rows from N rows must "
                 "work then too, e.g. np.random.choice(train_size, batch_size).")
    return _("train_network must work for every training set size and batch_size <= N; see the call above.")


# -- the checks -----------------------------------------------------------------------------------
@hidden(points=1)
def test_batches_contract(student):
    """every iteration passes exactly batch_size training rows and their own targets to network.gradient, for any N, batch_size <= N and labels or one-hot targets"""
    for_all(scenarios(), (lambda s: check_batches(student, s)), examples=12)


def check_batches(student, scenario: Scenario) -> None:
    r = run_judged(student, scenario)
    calls, call = r.gradient_calls, scenario.call_text()
    if len(calls) != scenario.iters_num:
        fail(_("{call} called network.gradient {count} times; expected once per iteration, {iters} times.").format(
                 call=call, count=len(calls), iters=scenario.iters_num),
             hint=_("one gradient call per iteration, iters_num iterations."), call=call)
    for i, c in enumerate(calls):
        _expect_batch(scenario, i, c, call)


@st.composite
def reach_scenarios(draw) -> Scenario:
    n = draw(st.integers(2, 5))
    batch = draw(st.integers((n + 1) // 2, n - 1))
    return Scenario(train_size=n, batch_size=batch, iters_num=iterations_to_reach(n, batch),
                    learning_rate=0.25, seed=draw(st.integers(0, 2**31 - 1)))


def iterations_to_reach(n: int, batch: int) -> int:
    """Iterations after which every sampler SPEC.md allows has drawn every one of n rows, but for
    a chance below MISS_PROBABILITY: the chance that one iteration leaves a given row out is at
    most (1 - 1/n)**batch with replacement, 1 - batch/n without, and (r/n)**(1/k) for a new
    permutation per epoch of k whole batches (r rows left over)."""
    whole, rest = divmod(n, batch)
    per_iteration = max((1 - 1 / n) ** batch, 1 - batch / n, (rest / n) ** (1 / whole))
    return math.ceil(math.log(MISS_PROBABILITY / n) / math.log(per_iteration))


@hidden(points=1)
def test_every_row_can_be_drawn(student):
    """the batches can reach every training row: over enough iterations every row is drawn (a sampler SPEC.md allows misses a row with probability below 1e-7)"""
    for_all(reach_scenarios(), (lambda s: check_reach(student, s)), examples=3)


def check_reach(student, scenario: Scenario) -> None:
    r = run_judged(student, scenario)
    drawn = {number for c in r.gradient_calls for side, number in c.rows if side == "train"}
    missing = sorted(set(range(scenario.train_size)) - drawn)
    if not missing:
        return
    rows = sum(len(c.rows) for c in r.gradient_calls)
    fail(ngettext("{call} never drew training row {missing} of {size}: its {batches} batches held {rows} rows, and "
                  "a random draw would miss a given row that often with probability below {probability}.",
                  "{call} never drew training rows {missing} of {size}: its {batches} batches held {rows} rows, "
                  "and a random draw would miss a given row that often with probability below {probability}.",
                  len(missing)).format(call=scenario.call_text(), missing=", ".join(map(str, missing)),
                                       size=scenario.train_size, batches=len(r.gradient_calls), rows=rows,
                                       probability=f"{MISS_PROBABILITY:g}"),
         hint=_("every row must have a chance in every batch: draw indices from range(train_size), e.g. "
                "np.random.choice(train_size, batch_size) (not train_size - 1), or use a new permutation of all "
                "rows each epoch; seed the generator once, before the loop (seeding it again every epoch repeats "
                "the same batches)."), call=scenario.call_text(), missing=missing)


@hidden(points=1)
def test_bookkeeping_contract(student):
    """losses, accuracies (full sets, after the update, at i % iter_per_epoch == 0) and updates follow SPEC.md for any N, batch_size, iters_num, seed and target form, and on a training set of 10,050 rows"""
    for_all(scenarios(), (lambda s: check_bookkeeping(student, s)), examples=8)
    check_bookkeeping(student, LARGE)


def check_bookkeeping(student, scenario: Scenario) -> None:
    r = run_judged(student, scenario)
    expect_histories(r)
    expect_losses(r)
    expect_accuracies(r)
    expect_updates(r)


@st.composite
def steering(draw) -> tuple:
    """A seeded scenario with several epochs, and the values the network returns in a second run:
    shifted so that they wrap around (drop) in the middle of the run, with test rows of other
    content."""
    scenario = draw(scenarios(max_rows=9, min_iters=6, max_iters=10, seeded=True))
    scenario = replace(scenario, batch_size=max(scenario.batch_size, math.ceil(scenario.train_size / 3)))
    calls = 2 * scenario.iters_num + 2 * len(scenario.accuracy_iterations)
    wrap_at = draw(st.integers(calls // 3, 2 * calls // 3))
    return scenario, 1000 - wrap_at, draw(st.sampled_from([5.0, 1.0]))


@hidden(points=1)
def test_values_never_steer_training(student):
    """batches and parameters do not depend on what network.loss and network.accuracy return, nor on the test rows (values that drop mid-run included)"""
    for_all(steering(), (lambda s: check_steering(student, *s)), examples=3)


def check_steering(student, scenario: Scenario, offset: int, test_scale: float) -> None:
    first, again = run_judged(student, scenario), run_judged(student, scenario)
    if first_batch_difference(first, again) is not None:
        return  # not reproducible with a seed: the seed checks say so, there is nothing to compare here
    other = run_judged(student, replace(scenario, value_offset=offset, test_scale=test_scale))
    i = first_batch_difference(first, other)
    if i is None:
        i = first_param_difference(first, other)
    if i is None:
        return
    fail(_("{call} trained differently when only the values network.loss and network.accuracy returned (they "
           "dropped in the middle of the second run) and the content of the test rows changed: the first "
           "difference is in iteration {i}. The batches and parameters must not depend on them.").format(
             call=scenario.call_text(), i=i),
         hint=_("the update is exactly params[key] -= learning_rate * grads[key]: do not adapt the learning rate, "
                "stop early or pick batches by the loss or the accuracies, and never let test data (or the test "
                "accuracy) influence training."), call=scenario.call_text())
