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
