"""A check the grader or the machine could not run is never the student's fault (SPEC.md):
its own status everywhere (result, JSON, terminal, HTML, gradebook summary), batch regrades
exactly the students it touched, and a batch refuses to start when the reference itself
loses points under the batch's options."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import click
import pytest

from grader.batch.run import BatchError, run_batch
from grader.catalog import get_exercise
from grader.options import GradingOptions, Limits
from grader.report.html import render_report
from grader.report.terminal import render
from grader.results import COULD_NOT_RUN, GradeResult

EXERCISE4 = get_exercise("exercise4")
SHARED_MNIST = EXERCISE4.stub_path.parents[3] / "shared" / "data" / "mnist"
if not any(SHARED_MNIST.glob("t10k-*")) and os.environ.get("MNIST_DATA_DIR"):  # a checkout elsewhere: the documented default
    SHARED_MNIST = Path(os.environ["MNIST_DATA_DIR"])
MNIST_CHECK = "trains_two_layer_net_on_mnist"
CASES = Path(__file__).resolve().parent / "cases"

pytestmark = pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason="the course's MNIST copy is not beside the repo")


@pytest.fixture
def no_mnist(tmp_path) -> GradingOptions:
    """Options naming an MNIST folder that does not exist: the machine's problem, not the student's."""
    return GradingOptions(data_dir=tmp_path / "no-mnist-here")


@pytest.mark.mnist
def test_missing_data_is_could_not_run_not_a_wrong_answer(grade, no_mnist):
    """Does the reference graded without MNIST get 'could not run' (not failed or error) on the MNIST
    check only, a result marked incomplete, and words in every report that it is not the student's fault?"""
    result = grade("exercise4", EXERCISE4.reference_path.parent, options=no_mnist)
    by_name = {c.name: c for c in result.checks}
    assert by_name[MNIST_CHECK].status == COULD_NOT_RUN and by_name[MNIST_CHECK].score == 0
    assert by_name[MNIST_CHECK].origin == "data" and not by_name[MNIST_CHECK].traceback
    assert all(c.passed for c in result.checks if c.name != MNIST_CHECK)
    assert result.status == "incomplete" and [c.name for c in result.grader_faults] == [MNIST_CHECK]
    again = GradeResult.from_json(result.to_json())
    assert again.status == "incomplete" and again.grader_faults[0].name == MNIST_CHECK
    assert "not graded: the grader's fault" in click.unstyle(render(result))
    page = render_report(result, audience="student")
    assert "not graded (the grader's fault)" in page
    assert "To fix first" not in page  # nothing for the student to fix: the machine lacked the data


@pytest.mark.mnist
@pytest.mark.slow
def test_batch_regrades_exactly_the_students_the_machine_failed(tmp_path, no_mnist):
    """Without MNIST, are the affected students counted as incomplete (in the report and summary.html)
    and, rerun with --data-dir, regraded (and only they), the reference copy then getting full marks?"""
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    shutil.copytree(EXERCISE4.reference_path.parent, subs / "alice")
    shutil.copytree(CASES / "exercise4" / "bug_accuracies_swapped", subs / "bob")
    (subs / "carol.py").write_text("this is not python\n")  # fails to import: the student's own error

    first = run_batch(subs, "exercise4", out, options=no_mnist, jobs=1)
    assert first.warnings and "cannot run on this machine even for the reference" in " ".join(first.warnings)
    assert first.incomplete == 2 and first.graded == 3
    summary = (out / "summary.html").read_text()
    assert "could not run" in summary
    assert json.loads((out / "alice" / "result.json").read_text())["status"] == "incomplete"

    second = run_batch(subs, "exercise4", out, options=GradingOptions(data_dir=SHARED_MNIST), jobs=1)
    assert (second.graded, second.skipped, second.incomplete) == (2, 1, 0)
    alice = GradeResult.from_dict(json.loads((out / "alice" / "result.json").read_text()))
    assert alice.status == "complete" and alice.score == alice.max_score

    third = run_batch(subs, "exercise4", out, options=GradingOptions(data_dir=SHARED_MNIST), jobs=1)
    assert (third.graded, third.skipped) == (0, 3)


def test_batch_refuses_to_start_when_the_reference_loses_points(tmp_path):
    """With a check timeout too short for the reference's own timed run, does the batch stop before
    grading anyone, with one line that says the reference loses points and what to fix?"""
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    shutil.copytree(EXERCISE4.reference_path.parent, subs / "alice")
    too_short = GradingOptions(data_dir=SHARED_MNIST, limits=Limits(check_timeout=0.05, submission_timeout=0.2))
    with pytest.raises(BatchError, match="reference solution gets .* no student was graded") as caught:
        run_batch(subs, "exercise4", out, options=too_short, jobs=1)
    assert "\n" not in str(caught.value)
    assert not (out / "alice" / "result.json").exists()


def test_a_sandbox_that_refused_to_run_the_code_is_the_machines_fault():
    """When the sandbox refuses to run the student's code (its protections failed: exit
    SANDBOX_REFUSED), is the check 'could not run' rather than an error of the student's code,
    also when that happened while importing the module, while a real crash stays an error?"""
    from grader.checks.runner import CheckPlugin
    from grader.results import ERROR, CheckResult
    from grader.sandbox.errors import HARNESS_BEFORE_STUDENT, IMPORTING, SANDBOX_REFUSED, ImportFailed, StudentCrashed

    def outcome(exc) -> str:
        check = CheckResult(name="softmax_vector", max_score=1, visibility="public", status=ERROR)
        CheckPlugin._record_failure(check, exc)
        return check.status

    refused = StudentCrashed({"state": "exited", "code": SANDBOX_REFUSED}, IMPORTING)
    assert outcome(refused) == outcome(ImportFailed(refused)) == COULD_NOT_RUN
    harness = StudentCrashed({"state": "exited", "code": HARNESS_BEFORE_STUDENT}, IMPORTING)
    assert outcome(ImportFailed(harness)) == COULD_NOT_RUN
    assert outcome(StudentCrashed({"state": "exited", "code": 3}, "softmax")) == ERROR
