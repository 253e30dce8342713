"""Hidden checks of exercise 4: test data cannot steer training, seed 0, epoch length with integer
division, and the handout's default arguments."""

from grader.checks.api import fail, hidden
from grader.checks.translated import _
from grader.checks.exercise4.support import (Scenario, expect_accuracies, expect_batches, expect_histories,
                                             expect_reproducible, first_batch_difference, first_param_difference,
                                             run)

SPEC_SIGNATURE = ["network", "x_train", "t_train", "x_test", "t_test", "iters_num", "batch_size",
                  "learning_rate", "seed"]
SPEC_DEFAULTS = {"iters_num": 10000, "batch_size": 100, "learning_rate": 0.1, "seed": None}


@hidden(points=1)
def test_test_data_never_influences_parameters(student):
    """changing only the test set (its values and the accuracies it gives) changes no batch and no parameter"""
    base = Scenario(seed=11)
    first, again = run(student, base), run(student, base)
    other = run(student, Scenario(seed=11, test_scale=5.0, value_offset=500))
    for r in (first, other):
        if any("test" in c.sets for c in r.gradient_calls):
            expect_batches(r)  # names the iteration that used test rows
    if first_batch_difference(first, again) is not None:
        return  # not reproducible with a seed (the public seed check says so): nothing to compare
    i = first_batch_difference(first, other)
    if i is None:
        i = first_param_difference(first, other)
    if i is not None:
        fail(_("{call} trained differently when only x_test/t_test (and the accuracies measured on them) changed: "
               "the first difference is in iteration {i}. Test data must never influence the batches or the "
               "parameters.").format(call=base.call_text(), i=i),
             hint=_("use x_test/t_test only to append network.accuracy(x_test, t_test) to test_acc; do not "
                    "use them (or the test accuracy) to choose batches, rescale data or adapt the learning rate."),
             call=base.call_text())


@hidden(points=1)
def test_seed_zero_is_a_seed_too(student):
    """seed=0 makes the run reproducible like any other seed (`if seed:` would skip it)"""
    scenario = Scenario(seed=0)
    expect_reproducible(run(student, scenario), run(student, scenario))


@hidden(points=1)
def test_epoch_length_uses_integer_division(student):
    """accuracies at i % iter_per_epoch == 0 with iter_per_epoch = max(N // batch_size, 1), also when batch_size does not divide N"""
    for scenario in (Scenario(train_size=53, batch_size=10, iters_num=12, seed=5),
                     Scenario(train_size=50, batch_size=30, iters_num=4, seed=5)):
        r = run(student, scenario)
        expect_histories(r)
        expect_accuracies(r)


@hidden(points=1)
def test_default_arguments_follow_the_handout(student):
    """train_network has the handout's parameters and defaults (iters_num=10000, batch_size=100, learning_rate=0.1, seed=None)"""
    run(student, Scenario(iters_num=2))  # the signature earns its point once the function runs
    spec = student.import_module("inspect").getfullargspec(student.train_network)
    names, defaults = list(spec[0]), list(spec[3] or ())
    if names != SPEC_SIGNATURE:
        fail(_("train_network's parameters are ({names}); expected ({expected}).").format(
                 names=", ".join(names), expected=", ".join(SPEC_SIGNATURE)),
             hint=_("keep the signature of the handout: train_network(network, x_train, t_train, x_test, t_test, "
                    "iters_num=10000, batch_size=100, learning_rate=0.1, seed=None)."))
    got = dict(zip(names[len(names) - len(defaults):], defaults))
    wrong = [_("{name}={value} (expected {expected})").format(name=k, value=repr(got.get(k, "(none)")),
                                                              expected=repr(v))
             for k, v in SPEC_DEFAULTS.items() if k not in got or got[k] != v or type(got[k]) is bool]
    if wrong:
        fail(_("train_network's defaults differ from the handout: {defaults}.").format(defaults=", ".join(wrong)),
             hint=_("keep iters_num=10000, batch_size=100, learning_rate=0.1, seed=None as defaults; "
                    "pass other values when you call it instead of changing the defaults."))
