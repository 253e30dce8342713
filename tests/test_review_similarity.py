"""The similarity report (issue 20, point 4): renamed and recommented copies are flagged,
independent solutions and untouched handouts are not, the matching lines are marked side by
side, `grade similarity OUT` and `grade batch --similarity` write similarity.html and .csv, the
summary links to them, and 1,000 submissions take well under a minute."""

from __future__ import annotations

import csv
import re
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.catalog import get_exercise
from grader.cli import main
from grader.course.similarity import compare, handout_text, normalise

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases" / "exercise1"
INDEPENDENT = sorted(p.name for p in CASES.iterdir() if p.name.startswith("ok_"))


def disguised(text: str) -> str:
    """The copy a student hides: every local name renamed, comments rewritten, a docstring added."""
    renames = {"x": "scores", "y": "probs", "t": "target", "e": "expd", "m": "biggest", "labels": "idx",
               "total": "acc", "losses": "terms", "row_y": "ry", "row_t": "rt", "a": "u", "b": "w", "k": "lab"}
    text = re.sub(r"\b(" + "|".join(renames) + r")\b(?!\s*=\s*\w+\))",
                  lambda m: renames[m.group(1)], text)
    text = re.sub(r"#.*", "# my own work, written from scratch", text)
    return text.replace("def softmax(scores):", 'def softmax(scores):\n    """Probabilities per row."""')


def test_normalising_hides_names_comments_and_docstrings():
    original = "def f(x):\n    # add one\n    return np.sum(x + 1, axis=-1)\n"
    copy = 'def f(values):\n    """doc"""\n    # plus 1\n    return np.sum(values + 1, axis=-1)\n'
    assert normalise(original)[0] == normalise(copy)[0]
    assert normalise(original)[0] != normalise(original.replace("np.sum", "np.max"))[0]


def test_renamed_copy_is_flagged_and_independent_solutions_are_not():
    texts = {name: (CASES / name / "losses.py").read_text() for name in INDEPENDENT}
    texts["copycat"] = disguised(texts["ok_loops_and_lists"])
    assert texts["copycat"] != texts["ok_loops_and_lists"] and "scores" in texts["copycat"]
    report = compare(texts, handout_text("exercise1"))
    assert [(p.a, p.b) for p in report.pairs] == [("copycat", "ok_loops_and_lists")]
    assert report.pairs[0].similarity >= 0.9
    assert report.clusters == [["copycat", "ok_loops_and_lists"]]
    lines = report.codes["copycat"].lines
    marked = {n for first, last in report.pairs[0].lines_a for n in range(first, last + 1)}
    assert any("def cross_entropy_error" in lines[n - 1] for n in marked)


def test_the_handout_and_the_books_code_are_discounted():
    """Students who handed in the handout untouched, or the book's own code with a change of
    their own, share only what every student may share: no pair. Without the discount they would."""
    exercise = get_exercise("exercise1")
    stub, book = exercise.stub_path.read_text(), exercise.reference_path.read_text()
    texts = {f"stub{i}": stub for i in range(3)}
    texts |= {f"book{i}": book + f"\n\ndef helper_{i}(v):\n    return v * {i} + {i}\n" for i in range(4)}
    texts["solved"] = (CASES / "ok_loops_and_lists" / "losses.py").read_text()
    assert compare(texts, handout_text("exercise1")).pairs == []
    undiscounted = {(p.a, p.b) for p in compare(texts, "").pairs}
    assert ("book0", "book1") in undiscounted


@pytest.mark.slow
def test_thousand_submissions_in_under_a_minute():
    """The figure for the README: 1,000 disguised submissions from the course's independent
    solutions; every disguised copy of one file found, no two different solutions paired."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from bench_similarity import synthetic_class
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    texts, origin, handout = synthetic_class(1000)
    report = compare(texts, handout)
    assert report.seconds < 60, report.seconds
    found = {(p.a, p.b) for p in report.pairs}
    assert all(origin[a] == origin[b] for a, b in found)
    students = sorted(texts)
    copies = {(a, b) for i, a in enumerate(students) for b in students[i + 1:] if origin[a] == origin[b]}
    assert copies <= found


def test_similarity_command_and_batch_flag_write_the_report(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in INDEPENDENT[:3]:
        shutil.copytree(CASES / name, subs / name)
    (subs / "copycat.py").write_text(disguised((CASES / INDEPENDENT[0] / "losses.py").read_text()))
    out = tmp_path / "out"
    run = CliRunner().invoke(main, ["batch", str(subs), "--exercise", "exercise1", "--out", str(out), "--jobs", "1",
                                    "--check-timeout", "3", "--similarity"])
    assert run.exit_code == 0, run.output
    rows = list(csv.DictReader((out / "similarity.csv").open()))
    assert [(r["student_a"], r["student_b"]) for r in rows] == [("copycat", INDEPENDENT[0])]
    page = (out / "similarity.html").read_text()
    assert 'class="line match"' in page and "copycat/instructor.html" in page and "<script" not in page
    summary = (out / "summary.html").read_text()
    assert 'href="similarity.html"' in summary and 'href="copycat/instructor.html"' in summary
    (out / "similarity.csv").unlink()
    again = CliRunner().invoke(main, ["similarity", str(out)])
    assert again.exit_code == 0, again.output
    assert "1 pairs in 1 clusters" in again.output and (out / "similarity.csv").is_file()


def test_similarity_of_a_folder_without_results_says_so(tmp_path):
    run = CliRunner().invoke(main, ["similarity", str(tmp_path)])
    assert run.exit_code != 0 and "run the batch first" in run.output
