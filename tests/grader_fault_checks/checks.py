"""Checks against tests/test_attribution.py's small student module (`losses`). The `grader_*`
checks hold a bug of the grader's each and must end as could_not_run; the `student_*` checks
fail through the student's own code and must cost points."""

from pathlib import Path

import numpy as np

from grader.checks.api import expect_close, fail, public
from grader.sandbox.errors import StudentRaised

from .support import label_of


@public(points=1)
def test_grader_type_error_in_check_code(student):
    """the check's own code raises TypeError on a right result"""
    got = student.softmax(np.array([1.0, 2.0]))
    return got + "not a number"


@public(points=1)
def test_grader_raising_helper(student):
    """a support.py helper raises KeyError"""
    label_of({"softmax": student.softmax(np.array([1.0, 2.0]))})


def _broken_callback(value):
    return {}["missing"] + value


@public(points=1)
def test_grader_callback_body_raises(student):
    """the grader's callback raises in its own body"""
    expect_close(student.apply(_broken_callback, 1.0), 2.0, call="apply(f, 1.0)")


@public(points=1)
def test_grader_callback_body_raises_and_student_catches(student):
    """the callback's body raises; the student's code catches it and returns something else"""
    got = student.apply_quietly(_broken_callback, 1.0)
    if got != 2.0:
        fail(f"apply_quietly(f, 1.0) returned {got!r}; expected 2.0")


@public(points=1)
def test_grader_callback_answer_unsendable(student):
    """the callback returns what cannot be sent to the student's process"""
    student.apply(lambda value: {1, 2}, 1.0)


@public(points=1)
def test_grader_unsendable_argument(student):
    """the check passes the student's code an argument that cannot be sent"""
    student.softmax({1.0, 2.0})


@public(points=1)
def test_grader_bundle_stand_in_without_answer(student):
    """a stand-in of the students' bundle has no recorded answer"""
    from grader.course.oracle.replay import Replayer, ReplayObject, Root

    reference_softmax = ReplayObject(Replayer(Path(__file__).parent / "no-recordings"),
                                     Root("reference.exercise1.losses.softmax", pure=True), ())
    x = np.array([1.0, 2.0])
    expect_close(student.softmax(x), reference_softmax(x), call="softmax(x)")


@public(points=1)
def test_student_raises(student):
    """the student's function raises IndexError"""
    student.broken(np.array([1.0, 2.0]))


@public(points=1)
def test_student_calls_callback_wrongly(student):
    """the student's code calls the grader's one-argument function with three"""
    student.call_with_too_many(lambda value: value, 1.0)


def _reads_student_object(obj):
    return obj.value()


@public(points=1)
def test_student_object_raises_inside_callback(student):
    """the grader's callback asks an object of the student's, whose method raises"""
    student.apply_to_own_object(_reads_student_object)


@public(points=1)
def test_student_wrong_answer(student):
    """a wrong answer stays a wrong answer"""
    expect_close(student.wrong_double(1.0), 2.0, call="wrong_double(1.0)")


@public(points=1)
def test_student_raised_where_a_check_expected_another_exception(student):
    """the check expects ValueError and gets IndexError: the line that raised is kept"""
    try:
        student.broken(np.array([1.0, 2.0]))
    except StudentRaised as exc:
        if exc.type_name != "ValueError":
            fail(f"broken(x) raised {exc.type_name}; expected ValueError.", hint="raise ValueError for a bad x.")


@public(points=1)
def test_student_prints(student):
    """the student's code prints 30 lines and answers right"""
    expect_close(student.noisy(30), 30.0, call="noisy(30)")


@public(points=1)
def test_grader_library_call_on_its_own_object_fails(student):
    """the check calls a library function in the student's process that raises (math.sqrt(-1))"""
    student.import_module("math").sqrt(-1.0)


@public(points=1)
def test_grader_reads_a_missing_attribute_of_its_own_module(student):
    """the check reads an attribute the module it imported there lacks, without a default"""
    math = student.import_module("math")
    assert getattr(math, "no_such_function", None) is None  # a default still works
    math.no_such_function
