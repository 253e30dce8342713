"""One route from a graded hand-in to every output, and each renderer composing its own text
from a wrong answer's typed fields."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click
import pytest

from grader import pipeline
from grader.batch import store
from grader.catalog import get_exercise
from grader.report import outputs
from grader.report.gradescope import check_text
from grader.report.html import render_report
from grader.report.terminal import render_check
from grader.results import COULD_NOT_RUN, FAILED, PASSED, CheckResult, Failure, GradeResult
from grader.submission import read_hand_in
from test_batch import notebook_of

WRONG = Failure("softmax(x) does not sum to 1 along each row.", call="softmax(x)", inputs="x=array([[1., 2.]])",
                expected="array([[0.269, 0.731]])", got="array([[0.5, 1.0]])")


def sample() -> GradeResult:
    return GradeResult(exercise="exercise1", student="ana", isolation="bwrap", checks=[
        CheckResult(name="softmax_batch_rows", max_score=2, visibility="public", status=FAILED,
                    message=WRONG.sentence(), failure=WRONG, hint="use axis=-1 with keepdims=True",
                    title="softmax of a batch normalises each row"),
        CheckResult(name="cross_entropy_finite", max_score=1, visibility="public", status=COULD_NOT_RUN,
                    message="the grader's helper raised KeyError", origin="grader",
                    traceback="Traceback (most recent call last): KeyError: 'W1'"),
        CheckResult(name="softmax_vector", max_score=1, visibility="public", status=PASSED, score=1),
    ])


def rendered_texts(result: GradeResult) -> dict[str, str]:
    from grader.report.html import environment

    verdicts = environment().get_template("verdicts.html").module
    return {
        "terminal": click.unstyle("\n".join(render_check(c) for c in result.checks)),
        "html": render_report(result, "student"),
        "gradescope": "\n".join(check_text(c) for c in result.checks),
        "notebook": str(verdicts.verdict_table(result.checks)),
    }


@pytest.mark.parametrize("renderer", ["terminal", "html", "gradescope", "notebook"])
def test_each_renderer_shows_the_rationale_facts_and_hint_once(renderer):
    """Does every renderer show the rationale, the input, expected and got values and the hint,
    each once, composed from the typed fields?"""
    text = rendered_texts(sample())[renderer]
    for part in (WRONG.rationale, WRONG.inputs, WRONG.expected, WRONG.got, "use axis=-1 with keepdims=True"):
        assert text.count(part.replace("'", "&#39;") if renderer in ("html", "notebook") else part) == 1, part


@pytest.mark.parametrize("renderer", ["terminal", "html", "gradescope", "notebook"])
def test_each_renderer_calls_a_check_the_grader_could_not_run_not_graded(renderer):
    """Does every renderer say a check the grader could not run is not graded and the grader's
    fault, and keep its traceback from the student?"""
    text = rendered_texts(sample())[renderer].replace("&#39;", "'")
    assert "not graded" in text.lower() and "grader's fault" in text
    assert "Traceback" not in text


def test_only_the_instructor_sees_the_traceback_of_a_grader_fault():
    assert "KeyError: &#39;W1&#39;" in render_report(sample(), "instructor")
    assert "KeyError: &#39;W1&#39;" not in render_report(sample(), "student")


def test_a_student_error_names_the_file_and_line_in_the_reports():
    """Does a failure the student's code raised name the file and line where it was raised?"""
    result = sample()
    result.checks[0] = CheckResult(name="softmax_batch_rows", max_score=2, visibility="public", status="error",
                                   message="softmax raised IndexError: index 2 is out of bounds",
                                   location={"file": "losses.py", "line": 17})
    texts = rendered_texts(result)
    assert "losses.py, line 17" in texts["html"] and "losses.py, line 17" in texts["gradescope"]
    assert "losses.py, line 17" in texts["notebook"]


# -- one writer -----------------------------------------------------------------------------------
@pytest.fixture
def recorded(monkeypatch):
    """Every target write_outputs writes, as (kind, path)."""
    seen = []
    real = outputs._write

    def record(result, hand_in, target):
        seen.append((target.kind, target.path))
        return real(result, hand_in, target)

    monkeypatch.setattr(outputs, "_write", record)
    return seen


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def test_every_file_of_a_batch_student_comes_from_a_declared_target(recorded, tmp_path):
    """Does the batch write each of a student's files through the one writer, result.json last,
    and feedback.html from the hand-in's bytes alone (the notebook deleted before writing)?"""
    notebook = tmp_path / "subs" / "ana.ipynb"
    notebook.parent.mkdir()
    notebook.write_text(notebook_of(get_exercise("exercise1").reference_path.read_text()))
    hand_in = read_hand_in(notebook)
    notebook.unlink()  # the writer must not read the disk again
    result = sample()
    store.save_student(tmp_path / "out", result, key="k", formats=("gradescope",), hand_in=hand_in)
    written = {path for _, path in recorded}
    assert files_under(tmp_path / "out") == written
    assert {p.name for p in written} == {"report.html", "instructor.html", "feedback.html", "gradescope.json",
                                         "result.json"}
    assert recorded[-1][1].name == "result.json"


def test_grade_command_writes_through_the_one_writer(recorded, tmp_path, monkeypatch):
    """Do `grade exerciseN --json --html` and `grade gradescope` write only declared targets,
    and a notebook graded with --html get its feedback page beside the report, named after the
    exercise and the notebook?"""
    from grader import cli

    notebook = tmp_path / "ana.ipynb"
    notebook.write_text(notebook_of(get_exercise("exercise1").reference_path.read_text()))
    out = tmp_path / "out"
    out.mkdir()
    for argv in (["exercise1", "--submission", str(notebook), "--json", str(out / "r.json"), "--html",
                  str(out / "r.html")],
                 ["gradescope", "exercise1", str(notebook), str(out / "results.json")]):
        monkeypatch.setattr(sys, "argv", ["grade", *argv])
        cli.run()  # returns when grading ran; exits only on an error
    assert files_under(out) == {path for _, path in recorded if path is not None}
    assert {p.name for p in files_under(out)} == {"r.json", "r.html", "feedback-exercise1-ana.html", "results.json"}


def test_unknown_output_is_refused():
    with pytest.raises(ValueError, match="unknown output"):
        outputs.Target("pdf", Path("x.pdf"))


# -- a sandbox that fails to start -------------------------------------------------------------------
def test_a_sandbox_that_fails_to_start_leaves_no_temporary_folder(tmp_path, monkeypatch):
    """When the pipeline's own sandbox fails to start, is its temporary root removed all the same?"""
    from grader.sandbox.launcher import Launcher, SandboxUnavailable

    def refuse(self):
        raise SandboxUnavailable("no sandbox on this machine")

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(Launcher, "start", refuse)
    with pytest.raises(SandboxUnavailable):
        pipeline.grade("exercise1", get_exercise("exercise1").reference_path)
    assert not list(tmp_path.glob("grader-sandbox-*"))


def test_a_failure_caused_by_another_exercise_says_where_to_fix_it():
    """When another exercise's code made a check fail, do the reports say which exercise, and
    that fixing it there fixes this check?"""
    result = sample()
    result.checks[0] = CheckResult(name="loss_matches", max_score=2, visibility="public", status="error",
                                   message="numerical_gradient raises NotImplementedError", origin="exercise:exercise2",
                                   location={"file": "gradients.py", "line": 35, "exercise": "exercise2"})
    for renderer, text in rendered_texts(result).items():
        if renderer != "terminal":  # the terminal draws location and origin in its own lines, tested with attribution
            assert "code of exercise2" in text and "fixing it there fixes this check" in text, renderer
            assert "gradients.py, line 35" in text, renderer
