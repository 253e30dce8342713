"""A check's result can never be mistaken for a pass unless it passed."""

import pytest

from grader.results import FAILED, PASSED, CheckResult, GradeResult


def test_a_check_result_must_say_its_status():
    """Is a CheckResult built without a status refused, instead of defaulting to a pass?"""
    with pytest.raises(TypeError, match="status"):
        CheckResult(name="softmax_vector", max_score=1, visibility="public")


@pytest.mark.parametrize("passed, status", [(False, FAILED), (True, PASSED)])
def test_spec_only_json_reads_back_with_the_status_of_passed(passed, status):
    """Does a result written with only SPEC.md's check fields (no `status`) read back as what
    `passed` says, so a failed check does not come back as a pass?"""
    data = {"exercise": "exercise1", "checks": [{"name": "softmax_vector", "score": float(passed), "max_score": 1,
                                                 "passed": passed, "visibility": "public", "message": ""}]}
    check = GradeResult.from_dict(data).checks[0]
    assert check.status == status and check.passed is passed


def typed_result() -> GradeResult:
    import numpy as np

    from grader.results import COULD_NOT_RUN, Failure

    wrong = Failure("softmax(x) differs from the expected result.", call="softmax(x)", inputs="x=array([1, 2])",
                    expected="array([0.27, 0.73])", got="array([0.5, 0.5])")
    return GradeResult(exercise="exercise1", student="ana", checks=[
        CheckResult(name="softmax_rows", max_score=2, visibility="public", status=FAILED, message=wrong.sentence(),
                    failure=wrong, hint="divide by the row sums", details={"tolerance": np.float64(1e-6),
                                                                         "rows": np.arange(3)}),
        CheckResult(name="mnist_run", max_score=3, visibility="hidden", status=COULD_NOT_RUN, origin="data",
                    message="MNIST is missing", traceback="Traceback ..."),
        CheckResult(name="softmax_vector", max_score=1, visibility="public", status=PASSED, score=1),
    ])


def test_result_json_carries_its_format_and_reads_back_the_same():
    """Does the result JSON say its format, and does every field, the typed failure included,
    read back equal to what was written?"""
    import json

    from grader.results import FORMAT

    result = typed_result()
    data = json.loads(result.to_json())
    assert data["format"] == FORMAT >= 2
    assert {"exercise", "score", "max_score", "checks"} <= data.keys()
    assert {"name", "score", "max_score", "passed", "visibility", "message"} <= data["checks"][0].keys()
    back = GradeResult.from_json(result.to_json())
    assert back.to_dict() == result.to_dict() and back.checks[0].failure == result.checks[0].failure


def test_numpy_values_are_numbers_in_the_json_whoever_writes_it():
    """Are a check's numpy details plain numbers and lists in the JSON (not their text), with
    the batch's own record added by the same serialiser?"""
    import json

    data = json.loads(typed_result().to_json(batch={"key": "k"}))
    assert data["checks"][0]["details"] == {"tolerance": 1e-6, "rows": [0, 1, 2]}
    assert data["batch"] == {"key": "k"}


def test_message_is_one_readable_sentence_composed_from_the_fields():
    """Is a failed check's SPEC `message` the rationale with its input and expected/got values,
    each said once?"""
    message = typed_result().to_dict()["checks"][0]["message"]
    assert message == ("softmax(x) differs from the expected result. Input: x=array([1, 2]). "
                       "Expected array([0.27, 0.73]); got array([0.5, 0.5]).")


def test_a_format_1_result_reads_its_facts_from_details():
    """Does a result written before the format field (facts in `details`) read back with a typed failure?"""
    data = {"exercise": "exercise1", "checks": [{
        "name": "softmax_rows", "score": 0, "max_score": 1, "passed": False, "visibility": "public",
        "status": "failed", "message": "softmax(x) gave 1; expected 2.",
        "details": {"call": "softmax(x)", "expected": "2", "got": "1", "tolerance": 1e-6}}]}
    check = GradeResult.from_dict(data).checks[0]
    assert check.failure.call == "softmax(x)" and check.failure.got == "1"
    assert check.details == {"tolerance": 1e-6}


def test_a_result_of_a_newer_format_is_refused_by_name():
    """Is a result JSON from a newer grader refused with a message, not half read?"""
    from grader.results import FORMAT, ResultFormatError

    with pytest.raises(ResultFormatError, match=f"format {FORMAT + 1}"):
        GradeResult.from_dict({"format": FORMAT + 1, "exercise": "exercise1", "checks": []})


def test_checks_the_grader_could_not_run_are_pending_not_lost():
    """Are the points of a check the grader could not run left out of the points lost?"""
    result = typed_result()
    assert (result.score, result.lost_points, result.pending_points) == (1, 2, 3)


def test_typed_attachments_read_back_as_the_same_records():
    """Does a gradient table, curves and a timing attached as typed records come back from the
    result's details as the same records, whatever else was attached beside them?"""
    from grader.checks import api
    from grader.results import Curves, GradientRow, GradientTable, OtherDetail, Timing, attachments_of

    records = [GradientTable([GradientRow("W1", 1e-9, [0, 1], 0.5, 0.5, True)]),
               Curves({"train_loss": [2.3, 1.1]}, {"train_loss": [2.2, 1.0]}),
               Timing(seconds=12.5, reference_seconds=8.0, device="cpu", dataset="MNIST")]
    details: dict = {}
    with api.running_check("c", details):
        api.attach(*records, tolerance=1e-6)
    back = attachments_of(GradeResult.from_json(GradeResult("exercise1", [CheckResult(
        "c", 1, "public", PASSED, details=details)]).to_json()).checks[0].details)
    assert back == records + [OtherDetail("tolerance", "1e-06")]
