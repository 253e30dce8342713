"""The instructor's review pages as a browser shows them (issue 20): headless Chromium loads the
class summary, a student's instructor.html and similarity.html of a real batch; the DOM it builds
must hold the cause groups with their students' links, the three orders of the student table,
the code beside the verdicts with the failing line marked, and the pairs side by side; each
page is also screenshot at desktop width (and the instructor's page at phone width) and the
screenshot must not be blank."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader.batch import run as batch
from grader.options import GradingOptions, Limits

from test_report_in_browser import CHROMIUM, Dom, chromium

CASES = Path(__file__).resolve().parent.parent / "cases" / "exercise1"
pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")]
CRASH = '\n\ndef cross_entropy_error(y, t):\n    raise ValueError("not today")\n'


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("review-browser")
    subs = root / "subs"
    subs.mkdir()
    for student, case in {"ana": "bug_cee_log10", "ben": "bug_cee_log10", "cy": "bug_cee_batch_sum",
                          "eve": "ok_loops_and_lists"}.items():
        shutil.copytree(CASES / case, subs / student)
    (subs / "copy.py").write_text((CASES / "ok_loops_and_lists" / "losses.py").read_text().replace("total", "acc"))
    (subs / "zed.py").write_text((CASES / "ok_book_style" / "losses.py").read_text() + CRASH)
    batch.run_batch(subs, "exercise1", root / "out", jobs=1, similarity=True,
                    options=GradingOptions(limits=Limits(check_timeout=3.0, submission_timeout=10.0)))
    return root / "out"


def screenshot(page: Path, tmp_path: Path, width: int, height: int) -> Path:
    shot = tmp_path / f"{page.stem}-{width}.png"
    chromium(page, tmp_path, f"--screenshot={shot}", f"--window-size={width},{height}")
    return shot


def not_blank(shot: Path) -> bool:
    """A PNG of a drawn page is tens of kB; a blank one compresses to a few."""
    return shot.stat().st_size > 20_000


def test_summary_in_the_browser(out, tmp_path):
    dom = Dom(chromium(out / "summary.html", tmp_path, "--dump-dom"))
    links = {a.get("href") for a in dom.with_attr("href")}
    assert {"ana/instructor.html", "ben/instructor.html", "similarity.html"} <= links
    assert {a["id"] for a in dom.with_attr("id") if a["id"].startswith("by-")} == {"by-score", "by-name", "by-status"}
    assert [t for t, a in dom.elements if t == "li" and a.get("class") == "cause"]
    assert not [t for t, _ in dom.elements if t == "script"]
    assert not_blank(screenshot(out / "summary.html", tmp_path, 1280, 2400))


def test_instructor_page_shows_the_code_beside_the_verdicts(out, tmp_path):
    page = out / "zed" / "instructor.html"
    dom = Dom(chromium(page, tmp_path, "--dump-dom"))
    marked = [a for t, a in dom.elements if t == "span" and "marked" in (a.get("class") or "").split()]
    assert marked and all("cross_entropy" in a.get("data-checks", "") for a in marked)
    assert dom.with_attr("id", "code") and dom.with_attr("id", "submission-link")
    assert not_blank(screenshot(page, tmp_path, 1400, 1100))
    assert screenshot(page, tmp_path, 390, 1400).stat().st_size > 10_000


def test_similarity_page_in_the_browser(out, tmp_path):
    page = out / "similarity.html"
    dom = Dom(chromium(page, tmp_path, "--dump-dom"))
    matched = [a for t, a in dom.elements if t == "span" and "match" in (a.get("class") or "").split()]
    assert matched
    assert {"copy/instructor.html", "eve/instructor.html"} <= {a.get("href") for a in dom.with_attr("href")}
    assert not_blank(screenshot(page, tmp_path, 1280, 1000))
