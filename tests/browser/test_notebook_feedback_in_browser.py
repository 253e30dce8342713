"""feedback.html as a browser sees it: the student's notebook with each check's verdict after the
cell that defines the function it tests, written by `grade batch` and `grade exerciseN --html`."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from grader.catalog import get_exercise
from grader.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from test_notebooks import filled_in  # noqa: E402
from test_report_in_browser import CHROMIUM, Dom, chromium  # noqa: E402

pytest.importorskip("nbconvert", reason="feedback.html needs the notebooks extra: pip install 'dlgrader[notebooks]'")
pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")]
EXERCISE1 = get_exercise("exercise1")


def notebook_with_log10(path: Path) -> Path:
    """Exercise 1's notebook, solved, except cross_entropy_error takes log10; plus a print that
    tries to inject a script."""
    notebook = filled_in(EXERCISE1)
    for cell in notebook.cells:
        if cell.cell_type == "code" and "def cross_entropy_error" in cell.source:
            cell.source = cell.source.replace("np.log(", "np.log10(")
    notebook.cells.insert(1, nbformat.v4.new_markdown_cell("<script>document.title='pwned'</script> notes"))
    nbformat.write(notebook, path)
    return path


def cell_of(html: str, name: str) -> int:
    """Where the highlighted `def name` sits in the page."""
    found = re.search(rf'<span class="k">def</span>(<span class="w">)? (</span>)?<span class="nf">{name}</span>', html)
    assert found, name
    return found.start()


def test_batch_writes_notebook_feedback_shown_beside_each_function(tmp_path):
    """In a batch with a notebook and a .py student, does the notebook student get feedback.html
    whose verdicts sit after the cell they test (the failed cross-entropy checks after its cell, with
    their messages), hidden checks only as a count and points, no script running, and a link from
    summary.html; and the .py student no feedback.html?"""
    subs = tmp_path / "subs"
    (subs / "bob").mkdir(parents=True)
    notebook_with_log10(subs / "ana.ipynb")
    shutil.copy(EXERCISE1.reference_path, subs / "bob" / "losses.py")
    out = tmp_path / "out"
    done = CliRunner().invoke(main, ["batch", str(subs), "--exercise", "exercise1", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert not (out / "bob" / "feedback.html").exists()
    page = out / "ana" / "feedback.html"
    html = page.read_text()
    result = (out / "ana" / "result.json").read_text()
    assert '"visibility": "hidden"' in result  # the batch ran hidden checks: they must not show by name

    dom = Dom(chromium(page, tmp_path, "--dump-dom"))
    assert "<script>document.title" in html  # the student's own markdown HTML, kept as written...
    assert "pwned" not in dom.texts["title"] and "default-src 'none'" in html  # ...and the CSP stops it
    rows = dom.with_attr("data-check")
    public = {r["data-check"]: r["data-status"] for r in rows}
    assert public
    assert {n for n, s in public.items() if s == "failed"} == {n for n in public if n.startswith("cross_entropy")}
    hidden_names = set(re.findall(r'"name": "(\w+)",\s*"max_score": [\d.]+,\s*"visibility": "hidden"', result))
    assert hidden_names and not hidden_names & set(public)
    assert re.search(r"\d+ hidden checks?: [\d.]+ / [\d.]+ points", dom.texts["hidden-checks"])
    blocks = [m.start() for m in re.finditer(r'<table class="grader-verdicts"', html)]
    softmax, sse, cee = (cell_of(html, n) for n in ("softmax", "sum_squares_error", "cross_entropy_error"))
    assert len(blocks) == 3 and softmax < blocks[0] < sse < blocks[1] < cee < blocks[2]
    failed_block = html[blocks[2]:]
    assert "log" in failed_block and 'data-status="failed"' in failed_block
    assert 'href="ana/feedback.html"' in (out / "summary.html").read_text()
    assert 'href="bob/feedback.html"' not in (out / "summary.html").read_text()


def test_grade_html_of_a_notebook_also_writes_feedback(tmp_path):
    """Does `grade exercise1 --submission X.ipynb --html R.html` also write feedback-exercise1-X.html beside R.html,
    and a .py submission not?"""
    notebook = notebook_with_log10(tmp_path / "ana.ipynb")
    runner = CliRunner()
    done = runner.invoke(main, ["exercise1", "--submission", str(notebook), "--html", str(tmp_path / "r" / "R.html")])
    assert done.exit_code == 0, done.output
    page = tmp_path / "r" / "feedback-exercise1-ana.html"
    assert page.is_file() and "Wrote" in done.output
    dom = Dom(chromium(page, tmp_path, "--dump-dom"))
    assert dom.texts["total"].split()[1] == "/"
    done = runner.invoke(main, ["exercise1", "--submission", str(EXERCISE1.reference_path),
                                "--html", str(tmp_path / "p" / "R.html")])
    assert done.exit_code == 0 and not list((tmp_path / "p").glob("feedback*.html"))
