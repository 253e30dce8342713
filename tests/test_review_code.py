"""The instructor's report shows the submitted code beside the verdicts (issue 20, point 2): every
file or notebook cell, the line where the student's code raised marked with the checks that name
it, the def of a function that gave a wrong answer marked too, a link to the submission; the
student's copy shows no code. Also: an error every check shares is reported once (point 3)."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

from grader.report.code_view import code_blocks, named_places
from grader.report.outputs import Target, write_outputs
from grader.results import CheckResult, Failure, GradeResult
from grader.submission import HandIn, read_hand_in

CRASHING = '''import numpy as np


def softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def sum_squares_error(y, t):
    return np.sum((y - t) ** 2)


def cross_entropy_error(y, t):
    raise ValueError("not today")
'''


class Lines(HTMLParser):
    """The code lines of a page: id -> (class, data-checks)."""

    def __init__(self, html: str):
        super().__init__()
        self.lines: dict[str, tuple[str, str]] = {}
        self.links: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "span" and "line" in (attrs.get("class") or "").split():
            self.lines[attrs["id"]] = (attrs["class"], attrs.get("data-checks", ""))
        if tag == "a":
            self.links.append(attrs.get("href", ""))


def test_instructor_copy_shows_the_code_with_the_failing_lines_marked(grade, tmp_path):
    folder = tmp_path / "zoe"
    folder.mkdir()
    (folder / "losses.py").write_text(CRASHING)
    result = grade("exercise1", folder)
    hand_in = read_hand_in(folder)
    pages = {audience: tmp_path / f"{audience}.html" for audience in ("instructor", "student")}
    write_outputs(result, hand_in, [Target.html(pages["instructor"], "instructor", folder),
                                    Target.html(pages["student"], "student", folder)])
    page = Lines(pages["instructor"].read_text())
    raised = [c.name for c in result.checks if c.status == "error"]
    wrong = [c.name for c in result.checks if c.status == "failed"]
    assert raised and wrong
    raise_line = CRASHING.splitlines().index('    raise ValueError("not today")') + 1
    cls, checks = page.lines[f"code-losses-py-L{raise_line}"]
    assert "marked" in cls.split() and set(checks.split()) == set(raised)
    def_line = CRASHING.splitlines().index("def sum_squares_error(y, t):") + 1
    cls, checks = page.lines[f"code-losses-py-L{def_line}"]
    assert "called" in cls.split() and set(wrong) <= set(checks.split())
    unmarked = [key for key, (cls, _) in page.lines.items() if cls == "line"]
    assert len(unmarked) == len(CRASHING.splitlines()) - 2
    assert f"#code-losses-py-L{raise_line}" in page.links
    assert folder.resolve().as_uri() in page.links
    assert not Lines(pages["student"].read_text()).lines, "the student's copy shows no code"


def test_notebook_cells_are_shown_and_a_cell_line_is_marked():
    notebook = {"cells": [{"cell_type": "markdown", "source": "# hi"},
                          {"cell_type": "code", "source": ["import numpy as np\n"]},
                          {"cell_type": "code", "source": ["def softmax(x):\n", "    return 1 / 0\n"]}]}
    hand_in = HandIn("ana.ipynb", False, {"ana.ipynb": json.dumps(notebook).encode()}, "h")
    check = CheckResult(name="softmax_vector", max_score=1, visibility="public", status="error",
                        message="`softmax` raised ZeroDivisionError: division by zero (<cell 2>, line 2: `return 1 / 0`).")
    result = GradeResult("exercise1", checks=[check])
    assert named_places(result) == {("<cell 2>", 2): ["softmax_vector"]}
    blocks = code_blocks(result, hand_in)
    assert [b.title for b in blocks] == ["ana.ipynb · cell 1", "ana.ipynb · cell 2"]
    assert [line.checks for line in blocks[1].lines] == [[], ["softmax_vector"]]


def test_location_field_names_the_line_too():
    hand_in = HandIn("bo", True, {"losses.py": b"a = 1\nb = 2\n"}, "h")
    check = CheckResult(name="c", max_score=1, visibility="public", status="error", message="it broke",
                        location={"file": "losses.py", "line": 2})
    [block] = code_blocks(GradeResult("exercise1", checks=[check]), hand_in)
    assert [line.checks for line in block.lines] == [[], ["c"]]


def test_an_error_every_check_shares_is_reported_once(tmp_path):
    message = "your module could not be imported: No module named 'nope' (losses.py, line 1: `import nope`)."
    checks = [CheckResult(name=f"c{i}", max_score=1, visibility="public", status="error", message=message)
              for i in range(7)]
    result = GradeResult("exercise1", checks=checks)
    hand_in = HandIn("bo", True, {"losses.py": b"import nope\n"}, "h")
    for audience in ("student", "instructor"):
        page = tmp_path / f"{audience}.html"
        write_outputs(result, hand_in, [Target.html(page, audience)])
        assert page.read_text().count("No module named &#39;nope&#39;") == 1, audience


def test_wrong_answer_links_its_function_and_failure_is_typed():
    check = CheckResult(name="sse", max_score=1, visibility="public", status="failed", message="x",
                        failure=Failure(rationale="x", call="sum_squares_error(y, t)"))
    hand_in = HandIn("bo", True, {"losses.py": b"def softmax(x):\n    pass\ndef sum_squares_error(y, t):\n    pass\n"}, "h")
    [block] = code_blocks(GradeResult("exercise1", checks=[check]), hand_in)
    assert [line.called for line in block.lines] == [[], [], ["sse"], []]


def test_no_hand_in_no_code(tmp_path):
    result = GradeResult("exercise1", checks=[])
    assert code_blocks(result, None) == []
    page = Path(tmp_path / "r.html")
    write_outputs(result, None, [Target.html(page, "instructor")])
    assert 'id="code"' not in page.read_text()


def test_terminal_says_a_shared_error_once():
    from click import unstyle

    from grader.report.terminal import render_check_once

    message = "your module could not be imported: No module named 'nope'."
    seen: set[str] = set()
    lines = [unstyle(render_check_once(CheckResult(name=f"c{i}", max_score=1, visibility="public", status="error",
                                                   message=message), seen)) for i in range(5)]
    assert sum("No module named" in text for text in lines) == 1
    assert all("the same error as above" in text for text in lines[1:])
