"""The student's code as the instructor's report shows it beside the verdicts: each file (or
each notebook cell) with numbered lines, and the lines a check names marked with those checks.

The code is the HandIn's bytes, the very bytes that were graded (grader/hand_in_review.sources).
A check names a line through `CheckResult.location` ({"file", "line"}, set by the runner's
attribution) or, until that is set everywhere, through its message, which says
"(losses.py, line 17: `...`)" or "(<cell 3>, line 2)" where the student's code raised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from grader.hand_in_review import sources
from grader.i18n import _
from grader.results import GradeResult
from grader.submission import HandIn

CALL = re.compile(r"\s*(?:\w+\.)*(\w+)\s*\(")
DEF = re.compile(r"\s*def\s+(\w+)\s*\(")
PLACE = re.compile(r"\(?(<cell \d+>|[\w.\-/]+\.py), line (\d+)")
MAX_LINES = 3000
"""Lines shown in all: a student who pasted a dataset into a cell does not make a 50 MB page."""


@dataclass
class CodeLine:
    number: int
    text: str
    checks: list[str] = field(default_factory=list)
    """Names of the checks that point at this line (the student's code raised there)."""
    called: list[str] = field(default_factory=list)
    """Names of the checks whose wrong answer came from the function defined on this line."""


@dataclass
class CodeBlock:
    title: str
    anchor: str
    lines: list[CodeLine]


def named_places(result: GradeResult) -> dict[tuple[str, int], list[str]]:
    """(file or "<cell N>", line) -> the checks that name it, from locations and messages."""
    places: dict[tuple[str, int], list[str]] = {}
    for check in result.checks:
        if check.passed:
            continue
        found = []
        if check.location.get("file") and check.location.get("line"):
            found.append((PurePosixPath(str(check.location["file"])).name, int(check.location["line"])))
        found += [(PurePosixPath(name).name if name.endswith(".py") else name, int(line))
                  for name, line in PLACE.findall(check.message)]
        for place in dict.fromkeys(found):
            places.setdefault(place, []).append(check.name)
    return places


def called_functions(result: GradeResult) -> dict[str, list[str]]:
    """Function name -> the checks whose wrong answer came from calling it (the failure's call)."""
    called: dict[str, list[str]] = {}
    for check in result.checks:
        if check.failure and check.status == "failed" and (match := CALL.match(check.failure.call)):
            called.setdefault(match.group(1), []).append(check.name)
    return called


def code_blocks(result: GradeResult, hand_in: HandIn | None) -> list[CodeBlock]:
    """The hand-in's files (a notebook: its code cells) with the named lines marked; [] without code."""
    places, called = named_places(result), called_functions(result)
    blocks, budget = [], MAX_LINES
    found = sources(hand_in)
    for source in found:
        # (title shown, the title's English for an anchor that is the same in every language, key, code)
        parts = ([(_("{file} · cell {number}").format(file=source.name, number=i), f"{source.name} · cell {i}",
                   f"<cell {i}>", text) for i, text in enumerate(source.cells, start=1)]
                 if source.notebook else [(source.name, source.name,
                                           graded_name(source.name, result.exercise, len(found)), source.cells[0])])
        for title, anchored, key, text in parts:
            lines = text.splitlines()[:max(budget, 0)]
            budget -= len(lines)
            blocks.append(CodeBlock(title, anchor(anchored), [
                CodeLine(n, line, places.get((key, n), []), defined_here(line, called))
                for n, line in enumerate(lines, start=1)]))
    return blocks


def graded_name(name: str, exercise: str, files: int) -> str:
    """The name a file was graded under, as messages name it: a lone .py handed in under
    another name (ana.py) is graded as the exercise's module (losses.py)."""
    from grader.catalog import EXERCISES

    if files == 1 and exercise in EXERCISES:
        return f"{EXERCISES[exercise].module}.py"
    return PurePosixPath(name).name


def defined_here(line: str, called: dict[str, list[str]]) -> list[str]:
    match = DEF.match(line)
    return list(called.get(match.group(1), [])) if match else []


def anchor(title: str) -> str:
    return "code-" + re.sub(r"[^\w-]+", "-", title).strip("-")


def line_link(result_blocks: list[CodeBlock], check_name: str) -> list[tuple[str, str]]:
    """(href, label) for each line of the code a check names: "#code-losses-py-L17", "losses.py, line 17"."""
    links = []
    for block in result_blocks:
        for line in block.lines:
            if check_name in line.checks:
                links.append((f"#{block.anchor}-L{line.number}",
                              _("{file}, line {line}").format(file=block.title, line=line.number)))
            elif check_name in line.called:
                place = _("{file}, line {line}").format(file=block.title, line=line.number)
                links.append((f"#{block.anchor}-L{line.number}", f"{line.text.strip().rstrip(':')} ({place})"))
    return links
