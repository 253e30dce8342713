"""Stubs and references in step: same names, signatures and documented parameters; every stub,
as shipped, scores zero without crashing the grader."""

import pytest

from grader.catalog import EXERCISES
from grader.course.course_check import compare_sources, documented_parameters, interface_differences

PAIRS = [e for e in EXERCISES.values() if e.stub_path.exists() and e.reference_path.exists()]


@pytest.mark.parametrize("exercise", PAIRS, ids=lambda e: e.name)
def test_stub_and_reference_define_the_same_interface(exercise):
    """Does the stub define what the reference does, with the same parameters, and everything the
    checks call?"""
    assert interface_differences(exercise) == []


@pytest.mark.parametrize("exercise", PAIRS, ids=lambda e: e.name)
def test_stub_scores_zero_without_crashing_the_grader(grade, exercise):
    """Does the untouched stub score zero on every check, each with a message, and no grading error?"""
    result = grade(exercise.name, exercise.stub_path.parent)
    assert not result.error, result.error
    assert result.max_score > 0 and result.score == 0
    assert all(c.score == 0 and not c.passed and c.message for c in result.checks)


REFERENCE = '''
def softmax(x):
    """Inputs:
    - x: scores of shape (N, C).
    """
    return x

def helper(y):
    return y

class Net:
    def __init__(self, size, std=0.01):
        self.size = size

    def predict(self, x):
        return x
'''


@pytest.mark.parametrize("stub, words", [
    (REFERENCE.replace("std=0.01", "std=0.1"), "Net.__init__: the stub says __init__(self, size, std=0.1)"),
    (REFERENCE.replace("def softmax(x):", "def softmax(x, axis=-1):"), "softmax: the stub says softmax(x, axis=-1)"),
    (REFERENCE.replace("- x: scores", "- z: scores"), "documents z, which is not a parameter"),
    (REFERENCE.replace("    def predict(self, x):\n        return x\n", ""), "Net.predict: a public method of the reference"),
    (REFERENCE + "\ndef relu(x):\n    raise NotImplementedError\n", "relu: in the stub, missing from the reference"),
    (REFERENCE.replace("class Net:", "def Net():\n    pass\nclass Unused:"), "Net: a function in the stub, a class"),
])
def test_drift_is_named(stub, words):
    """Does each kind of drift between a stub and its reference come out as a difference that says what?"""
    problems = compare_sources(stub, REFERENCE)
    assert any(words in p for p in problems), problems


def test_reference_helpers_are_allowed_but_checked_names_are_not():
    """May the reference keep its own helpers, while a name the checks call must be in the stub?"""
    stub = REFERENCE.replace("def helper(y):\n    return y\n", "")
    assert compare_sources(stub, REFERENCE) == []
    assert compare_sources(stub, REFERENCE, called={"helper"}) == [
        "helper: the checks call student.helper, but the stub does not define it"]


@pytest.mark.parametrize("docstring, names", [
    ("Inputs:\n- x: scores.\n- t: labels.\n\nReturns a number.", ["x", "t"]),
    ("Inputs:\n- f: the function; init_x: the start;\n- lr: the rate.", ["f", "init_x", "lr"]),
    ("Inputs:\n  network: an object.\n  x_test, t_test: the test set.", ["network", "x_test", "t_test"]),
    ("Inputs: x of shape (N, D); others: arrays\n(validation, test).", ["others"]),
    ("Inputs:\n- t: either\n    - integer labels: shape (N,)", ["t"]),
    ("Computes things. No parameter section.", None),
])
def test_documented_parameters(docstring, names):
    """Are the parameters a docstring lists read from the handouts' styles, and prose left alone?"""
    assert documented_parameters(docstring) == names
