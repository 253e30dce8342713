"""The HTML report as a browser sees it: headless Chromium loads the page, and the DOM it
builds must show the total, the failed checks and the learning-curve plot, with no element
that came from the student's output."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from grader.report.html import write_report
from grader.results import CheckResult, GradeResult

CASES = Path(__file__).resolve().parent.parent / "cases"
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (Debian: apt-get "
                                 "install -y chromium); the browser check of the HTML report is skipped")]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def chromium(page: Path, tmp_path: Path, *args: str) -> str:
    profile = tmp_path / "chromium-profile"
    run = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


class Dom(HTMLParser):
    """Elements with their attributes and the text inside each element with an id or data-total."""

    def __init__(self, html: str):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.texts: dict[str, str] = {}
        self._open: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs))
        self._open.append("total" if "data-total" in attrs else "title" if tag == "title" else attrs.get("id", ""))

    def handle_endtag(self, tag):
        if self._open:
            self._open.pop()

    def handle_data(self, data):
        for key in filter(None, self._open):
            self.texts[key] = self.texts.get(key, "") + data

    def with_attr(self, name: str, value: str | None = None) -> list[dict]:
        return [a for _, a in self.elements if name in a and (value is None or a[name] == value)]


def test_browser_shows_total_and_failed_checks_of_a_real_submission(grade, tmp_path):
    """Loaded in Chromium, does a buggy submission's report show its total and each failed check
    with its message, and no script from the student's printed output?"""
    folder = tmp_path / "student"
    shutil.copytree(CASES / "exercise1" / "bug_cee_log10", folder)
    source = folder / "losses.py"
    source.write_text("print('<script>document.title=\"pwned\"</script>')\n" + source.read_text())
    result = grade("exercise1", folder)
    page = tmp_path / "report.html"
    write_report(result, page, audience="instructor")
    dom = Dom(chromium(page, tmp_path, "--dump-dom"))
    assert dom.texts["total"].split() == [f"{result.score:g}", "/", f"{result.max_score:g}"]
    failed = {a["id"].removeprefix("check-") for a in dom.with_attr("data-status", "failed")}
    assert failed == {c.name for c in result.checks if c.status == "failed"} and failed
    for check in result.checks:
        if check.status == "failed":
            assert check.message.split(" Input: ")[0] in dom.texts[f"check-{check.name}"]
    assert not [t for t, _ in dom.elements if t == "script"]
    assert "pwned" not in dom.texts["title"] and "<script>" in dom.texts["output"]


def test_browser_draws_the_learning_curves(tmp_path):
    """Does Chromium get an SVG plot with one line per curve, and render the page at phone width?"""
    curves = {"train_loss": [2.3 / (1 + i / 40) for i in range(3000)], "train_acc": [0.1, 0.7, 0.85, 0.9],
              "test_acc": [0.1, 0.68, 0.83, 0.88]}
    result = GradeResult(exercise="exercise4", student="ana", checks=[CheckResult(
        name="training_reaches_accuracy", max_score=3, visibility="public", status="failed", score=0,
        title="train_network reaches 90% test accuracy", message="test accuracy 0.88; expected at least 0.9.",
        details={"curves": curves, "seconds": 11.0, "reference_seconds": 8.0, "device": "cpu",
                 "dataset": "MNIST t10k split"})])
    page = tmp_path / "report.html"
    write_report(result, page)
    dom = Dom(chromium(page, tmp_path, "--dump-dom"))
    assert len([t for t, _ in dom.elements if t == "svg"]) == 2
    assert len([t for t, _ in dom.elements if t == "polyline"]) == len(curves)
    shot = tmp_path / "phone.png"
    chromium(page, tmp_path, f"--screenshot={shot}", "--window-size=390,1200")
    assert shot.stat().st_size > 10_000
