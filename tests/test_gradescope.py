"""Gradescope's autograder format: results.json that Gradescope accepts unchanged."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from grader.report.gradescope import VISIBILITIES, gradescope_json
from grader.results import CheckResult, Failure, GradeResult

TEST_FIELDS = {"name": str, "score": (int, float), "max_score": (int, float), "output": str, "visibility": str}


def validate(data: dict) -> None:
    """The fields Gradescope reads, with the types and values it accepts."""
    assert isinstance(data["score"], (int, float))
    assert isinstance(data.get("output", ""), str) and isinstance(data.get("execution_time", 0), (int, float))
    assert isinstance(data["tests"], list) and data["tests"]
    for test in data["tests"]:
        for name, kind in TEST_FIELDS.items():
            assert isinstance(test[name], kind), (name, test)
        assert test["visibility"] in VISIBILITIES
        assert 0 <= test["score"] <= test["max_score"]
        assert test.get("status", "passed") in ("passed", "failed")
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))
    json.dumps(data)


def result() -> GradeResult:
    return GradeResult(exercise="exercise1", student="ana", output="printed <b>\n", seconds=0.5, checks=[
        CheckResult(name="softmax_vector", max_score=1, visibility="public", status="passed", score=1, title="softmax"),
        CheckResult(name="cross_entropy", max_score=2, visibility="public", status="failed", title="cee batch",
                    message="gave 7.5; expected 1.2. Input: y=array([0.1]).", hint="divide by N.",
                    failure=Failure("gave 7.5; expected 1.2.", inputs="y=array([0.1])", expected="1.2", got="7.5")),
        CheckResult(name="secret", max_score=1, visibility="hidden", status="error", message="ran longer than 10 s"),
    ])


def test_result_has_the_fields_gradescope_reads():
    """Do score, tests (name, score, max_score, output, visibility) all have valid values?"""
    data = gradescope_json(result())
    validate(data)
    assert data["score"] == 1
    failed = data["tests"][1]
    assert failed["status"] == "failed" and "expected 1.2" in failed["output"] and "Hint: divide by N." in failed["output"]
    assert "Input: y=array([0.1])" in failed["output"] and failed["output"].count("7.5") == 1
    assert "printed <b>" in data["output"]


def test_hidden_checks_are_shown_after_publishing_unless_told_otherwise():
    """Are public checks visible, hidden ones `after_published` by default and `hidden` on request?"""
    assert [t["visibility"] for t in gradescope_json(result())["tests"]] == ["visible", "visible", "after_published"]
    assert gradescope_json(result(), hidden_visibility="hidden")["tests"][2]["visibility"] == "hidden"
    with pytest.raises(ValueError):
        gradescope_json(result(), hidden_visibility="sometimes")


def test_run_autograder_entry_point_writes_results_json(tmp_path):
    """Does `grade gradescope EXERCISE SUBMISSION RESULTS` grade a real submission
    (as Gradescope's run_autograder would) and write a valid results.json?"""
    from grader.catalog import get_exercise

    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "losses.py").write_text(get_exercise("exercise1").reference_path.read_text())
    results = tmp_path / "results" / "results.json"
    run = subprocess.run([sys.executable, "-c", "from grader.cli import run; run()", "gradescope", "exercise1", str(submission), str(results),
                          "--html", str(tmp_path / "report.html")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    data = json.loads(results.read_text())
    validate(data)
    assert data["score"] == data["extra_data"]["max_score"] > 0
    assert (tmp_path / "report.html").is_file()


def test_batch_writes_gradescope_json_per_student(tmp_path):
    """Does `grade batch --format gradescope` write a valid gradescope.json for each student?"""
    from grader.batch.run import run_batch
    from grader.catalog import get_exercise

    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ana.py").write_text(get_exercise("exercise1").reference_path.read_text())
    (subs / "bo.py").write_text("raise RuntimeError('oops')\n")
    run_batch(subs, "exercise1", tmp_path / "out", jobs=1, formats=("gradescope",))
    for student in ("ana", "bo"):
        validate(json.loads((tmp_path / "out" / student / "gradescope.json").read_text()))
