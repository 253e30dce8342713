"""HTML feedback reports: what a student and an instructor see, and that nothing a student
wrote can run in the page."""

from __future__ import annotations

import math
import os
import re
from html import unescape
from html.parser import HTMLParser

from grader.report import charts
from grader.report import html as report_html
from grader.results import CheckResult, Failure, GradeResult
from grader.results import OUTPUT_CUT_MARKER

HOSTILE = "<script>alert('pwned')</script><img src=x onerror=alert(1)>"


MEAN_FAILURE = Failure("cross_entropy_error(y, t) is not the mean over the batch.", call="cross_entropy_error(y, t)",
                       inputs="y=array([0.1, 0.9])", expected="1.26", got="7.53")


def sample_result(**changes) -> GradeResult:
    checks = [
        CheckResult(name="softmax_vector", max_score=1, visibility="public", status="passed", score=1,
                    title="softmax of one vector"),
        CheckResult(name="cross_entropy_batch", max_score=2, visibility="public", status="failed",
                    title="cross_entropy_error of a batch is the mean",
                    message=MEAN_FAILURE.sentence(), failure=MEAN_FAILURE, hint="divide by the batch size N."),
        CheckResult(name="gradient_matches", max_score=2, visibility="public", status="failed",
                    title="gradient agrees with the numerical gradient", message="b1 is off.",
                    details={"gradients": [
                        {"name": "W1", "max_rel_error": 1e-9, "worst_index": [0, 1], "got": 0.5, "expected": 0.5,
                         "passed": True},
                        {"name": "b1", "max_rel_error": 0.5, "worst_index": [2], "got": 0.2, "expected": 0.4,
                         "passed": False}]}),
        CheckResult(name="training_curves", max_score=3, visibility="public", status="passed", score=3,
                    title="training reaches 90% accuracy",
                    details={"curves": {"train_loss": [2.3 / (1 + i / 50) for i in range(5000)],
                                        "train_acc": [0.1, 0.6, 0.8, 0.9], "test_acc": [0.1, 0.58, 0.79, float("nan")]},
                             "seconds": 12.5, "reference_seconds": 8.0, "device": "cpu",
                             "dataset": "MNIST t10k: 8,000 train / 2,000 test"}),
        CheckResult(name="secret_edge_case", max_score=1, visibility="hidden", status="failed",
                    title="SECRET TITLE of a hidden check", message="SECRET MESSAGE of a hidden check"),
        CheckResult(name="secret_other", max_score=2, visibility="hidden", status="passed", score=2,
                    title="another hidden check"),
    ]
    result = GradeResult(exercise="exercise1", checks=checks, student="ana", output="hello\n",
                         isolation="bwrap", seconds=0.4, submission_hash="abc123")
    for key, value in changes.items():
        setattr(result, key, value)
    return result


class Elements(HTMLParser):
    """Tags and attributes as a browser's parser would see them."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_student_copy_shows_hidden_checks_only_as_count_and_points():
    """Does the student's copy show how many hidden checks there were and their points, but
    not their names or messages, while the instructor's copy shows them in full?"""
    student = report_html.render_report(sample_result(), audience="student")
    instructor = report_html.render_report(sample_result(), audience="instructor")
    assert "2 hidden checks" in student and "2/3" in student
    assert "SECRET" not in student and "secret_edge_case" not in student
    assert "SECRET TITLE" in instructor and "SECRET MESSAGE" in instructor


def test_total_and_a_bar_per_check():
    """Is the total shown, and does every visible check get its points and a bar?"""
    html = report_html.render_report(sample_result(), audience="instructor")
    assert re.search(r"data-total>6<small> / 11</small>", html)
    assert html.count('class="check ') == 6
    assert len(re.findall(r'<div class="bar[^"]*" role="img"', html)) >= 7  # the total's bar and one per check


def test_failed_check_shows_message_input_expected_got_and_hint():
    """Does a failed check show what was called, with which input, expected vs got, and the hint,
    with the input quoted once (not also inside the message)?"""
    html = report_html.render_report(sample_result())
    block = html[html.index('id="check-cross_entropy_batch"'):html.index('id="check-gradient_matches"')]
    for text in ("is not the mean over the batch.", "cross_entropy_error(y, t)", "y=array([0.1, 0.9])", "Expected",
                 "1.26", "Got", "7.53", "divide by the batch size N."):
        assert text in block, text
    assert block.count("y=array([0.1, 0.9])") == 1 and block.count("7.53") == 1


def test_gradient_table_marks_each_parameter():
    """Is there a row per parameter, coloured by whether it is within tolerance?"""
    html = report_html.render_report(sample_result())
    rows = re.findall(r'<tr class="(ok|bad)">\s*<td class="mono">(\w+)</td>', html)
    assert ("ok", "W1") in rows and ("bad", "b1") in rows


def test_learning_curves_are_inline_svg_with_time_device_and_data():
    """Are the curves drawn as inline SVG (long series thinned, NaN skipped), next to the time,
    the reference's time, the device and the dataset?"""
    html = report_html.render_report(sample_result())
    assert html.count("<svg") == 2  # a loss chart and an accuracy chart
    polylines = re.findall(r'<polyline[^>]*points="([^"]+)"', html)
    assert len(polylines) == 3
    assert max(len(p.split()) for p in polylines) <= charts.MAX_POINTS
    assert "iteration" in html and "epoch" in html
    assert "1 value not finite" in html
    for text in ("12.5 s", "8 s", "1.6× the reference", ">cpu<", "8,000 train / 2,000 test"):
        assert text in html, text


def test_chart_geometry_stays_inside_the_plot():
    """Do all plotted points fall inside the chart's plot area, whatever the values?"""
    chart = charts.line_chart("Loss", [("loss", [5.0, -2.0, 1e6, 0.0], False)], "epoch")
    points = [point for line in chart.lines for segment in line.segments for point in segment]
    assert len(points) == 4
    for x, y in points:
        assert chart.left <= x <= chart.right and chart.top <= y <= chart.bottom
    flat = charts.line_chart("Acc", [("acc", [0.5, 0.5], False)], "epoch", unit_interval=True)
    assert flat.y_ticks[0][1] == 0 and flat.y_ticks[-1][1] == 1


def test_chart_breaks_the_line_at_values_that_are_not_finite():
    """Does a NaN split a series into segments, a lone point between two NaNs become a dot,
    and the legend learn how many values were left out and the last finite one?"""
    curves = charts.learning_curves({"loss": [3.0, 2.0, float("nan"), 1.5, float("inf"), 1.0, 0.5]})
    (line,) = curves[0].lines
    assert [len(segment) for segment in line.segments] == [2, 1, 2]
    assert line.dots == [line.segments[1][0]]
    assert line.dropped == 2 and line.last == 0.5


def test_losses_and_accuracies_get_a_chart_each_with_the_reference_dashed():
    """Are losses and accuracies drawn on separate charts, a per-iteration loss counted in
    iterations, and the reference's curves added dashed to the chart of their kind?"""
    curves = {"train_loss": [1.0] * 50, "train_acc": [0.5, 0.7], "test_acc": [0.4, 0.6]}
    loss, accuracy = charts.learning_curves(curves, {"test_acc": [0.5, 0.8]})
    assert (loss.title, loss.x_label, [l.name for l in loss.lines]) == ("Loss", "iteration", ["train_loss"])
    assert accuracy.x_label == "epoch"
    assert [(l.name, l.dashed) for l in accuracy.lines] == [
        ("train_acc", False), ("test_acc", False), ("reference test_acc", True)]
    assert charts.learning_curves("not a mapping") == []


def test_histogram_bars_grow_with_their_count():
    """Does every score range get a bar on the same base, taller for more students, with room
    above the tallest for its count?"""
    chart = charts.histogram([{"label": "0-10", "count": 0}, {"label": "10-20", "count": 3},
                              {"label": "90-100", "count": 6}])
    empty, some, most = chart.bars
    assert empty.h == 0 and 0 < some.h < most.h
    assert all(abs(bar.y + bar.h - chart.base) <= 0.1 for bar in chart.bars)  # each rounded to 0.1
    assert most.y > chart.top and [bar.label for bar in chart.bars] == ["0-10", "10-20", "90-100"]


def test_student_output_is_cut_to_a_readable_length():
    """Is a flood of output cut, saying how much was left out?"""
    flood = "\n".join(f"line {i}" for i in range(10_000))
    html = report_html.render_report(sample_result(output=flood))
    assert "line 199" in html and "line 200\n" not in html and "line 9999" not in html
    assert "9800 more lines" in html and "the first 200 lines" in html


def output_as_the_sandbox_keeps_it(printed: str) -> str:
    """What the sandbox's OutputCollector makes of `printed`: the first OUTPUT_LIMIT bytes and,
    if there was more, its notice saying so."""
    from grader.sandbox.session import OutputCollector

    read_end, write_end = os.pipe()
    collector = OutputCollector(read_end)
    collector.start()
    with os.fdopen(write_end, "wb") as pipe:
        pipe.write(printed.encode())
    collector.join(timeout=30)
    assert not collector.is_alive()
    return collector.text()


def shown_output(html: str) -> tuple[str, str]:
    """(the output block's summary line, the text of its <pre>) as the page shows them."""
    block = html[html.index('id="output"'):]
    summary = block[block.index("<summary>") + 9:block.index("</summary>")]
    return summary, unescape(block[block.index("<pre>") + 5:block.index("</pre>")])


def test_output_the_sandbox_cut_ends_with_its_notice():
    """When the sandbox kept only the first part of the output, does the report say the rest
    was cut and end the output with the sandbox's notice of how much?"""
    line = "→" * 50  # 150 bytes a line: the sandbox's byte limit bites before the report's limits
    output = output_as_the_sandbox_keeps_it("\n".join([line] * 200))
    summary, text = shown_output(report_html.render_report(sample_result(output=output)))
    printed_lines = output.splitlines()[:-1]
    assert 0 < len(printed_lines) < 200 and len(output) < report_html.OUTPUT_MAX_CHARS
    assert summary == f"the first {len(printed_lines)} lines (the rest was cut)"
    assert text.splitlines()[-1] == output.splitlines()[-1] and OUTPUT_CUT_MARKER in text.splitlines()[-1]


def test_notice_of_the_sandbox_stays_in_view_when_the_report_cuts_more():
    """When the report shows less than the sandbox kept, is the sandbox's notice still the last
    line, after the report's own note of what it left out?"""
    output = output_as_the_sandbox_keeps_it("".join(f"line {i}\n" for i in range(50_000)))
    html = report_html.render_report(sample_result(output=output))
    summary, text = shown_output(html)
    assert summary == "the first 200 lines"
    assert text.splitlines()[:200] == output.splitlines()[:200]
    assert text.splitlines()[-1] == output.splitlines()[-1] and OUTPUT_CUT_MARKER in text
    assert "more lines" in html and "not shown" in html


def test_nothing_from_the_student_can_inject_markup():
    """Does hostile text in the output, messages, student id and details arrive as text, with no
    script, no event handler and no element the student wrote?"""
    result = sample_result(output=HOSTILE, student=HOSTILE)
    result.checks[1].message = HOSTILE
    result.checks[1].hint = HOSTILE
    result.checks[1].failure.got = HOSTILE
    result.checks[3].details["curves"] = {HOSTILE: [1.0, 2.0]}
    result.checks[3].details["dataset"] = HOSTILE
    for audience in report_html.AUDIENCES:
        html = report_html.render_report(result, audience=audience)
        tags = Elements(html).tags
        assert not [t for t, _ in tags if t in ("script", "img", "iframe", "object")]
        assert not [a for _, attrs in tags for a in attrs if a.startswith("on")]
        assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in html


def test_page_is_self_contained_and_forbids_scripts():
    """Does the page load nothing from the network and carry a policy that blocks scripts?"""
    html = report_html.render_report(sample_result())
    tags = Elements(html).tags
    assert not [t for t, a in tags if t in ("link", "script") or "src" in a]
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", html)
    csp = [a for t, a in tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0]["content"]
    assert any(t == "meta" and a.get("name") == "viewport" for t, a in tags)


def test_submission_that_could_not_be_graded_says_why():
    """Does a result with an error lead with the reason instead of repeating it under every check?"""
    result = sample_result(error="broken.zip is not a readable zip file")
    for check in result.checks:
        check.status, check.score, check.message = "error", 0, result.error
    html = report_html.render_report(result)
    assert "could not be graded" in html and html.count("broken.zip is not a readable zip file") == 1


def test_report_of_a_real_submission_that_prints_html(grade, tmp_path):
    """Graded for real, does a submission that prints a <script> tag get a report where it is text?"""
    from grader.catalog import get_exercise

    exercise = get_exercise("exercise1")
    folder = tmp_path / "hostile"
    folder.mkdir()
    (folder / "losses.py").write_text(f"print({HOSTILE!r})\n" + exercise.reference_path.read_text())
    result = grade("exercise1", folder)
    assert HOSTILE in result.output
    path = tmp_path / "report.html"
    report_html.write_report(result, path, audience="student")
    html = path.read_text()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert not [t for t, _ in Elements(html).tags if t in ("script", "img")]


def test_summary_page_has_histogram_pass_rates_and_links():
    """Does the class summary show the score histogram, the hardest checks with their commonest
    messages, the slowest submissions and a link to every report?"""
    from grader.report.gradebook import summarize

    students = [("ana", sample_result()), (HOSTILE, sample_result(student=HOSTILE)), ("bo", None)]
    summary = summarize("exercise1", students)
    summary["files"] = {"student": "report.html", "instructor": "instructor.html", "result": "result.json"}
    html = report_html.render_summary(summary)
    assert 'class="histbar"' in html
    assert html.index("SECRET TITLE") < html.index("softmax of one vector"), "hardest checks first"
    assert "2×" in html and "not graded yet" in html
    links = [a["href"] for t, a in Elements(html).tags if t == "a"]
    assert "ana/report.html" in links and "ana/instructor.html" in links
    assert not [t for t, _ in Elements(html).tags if t == "script"]
    assert math.isclose(summary["mean"], 6.0)
