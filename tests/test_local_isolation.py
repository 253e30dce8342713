"""The portable `local` isolation level (grader/sandbox/local.py) where the Linux sandbox cannot run.

A fresh interpreter plays a machine without fork, prctl, resource or fcntl (a macOS or Windows
laptop, as far as the grader can tell): os.fork is deleted, `import resource` and `import fcntl`
raise ImportError, and libc has no prctl. The student's process is started through a wrapper
that applies the same prelude, so its side is tested without them too. There `auto` must choose
`local`, grade exercise 1's reference to full marks and a hanging submission to a timeout, and
leave no process behind.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from grader.catalog import get_exercise

ROOT = Path(__file__).resolve().parent.parent
HANG = ROOT / "tests" / "hostile" / "hang_in_function"
LINUX_ONLY_MODULES = ("resource", "fcntl")

WITHOUT_LINUX = textwrap.dedent('''
    """Make this interpreter look like one without the Linux sandbox's needs."""
    import ctypes
    import importlib.abc
    import os
    import sys

    import psutil  # its own Linux backend imports resource; on macOS and Windows it has others

    BLOCKED = ("resource", "fcntl")


    class Refuse(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name in BLOCKED:
                raise ImportError(f"No module named {name!r} on this system")
            return None


    for name in BLOCKED:
        sys.modules.pop(name, None)
    sys.meta_path.insert(0, Refuse())
    for name in ("fork", "forkpty"):
        if hasattr(os, name):
            delattr(os, name)

    _lookup, _item = ctypes.CDLL.__getattr__, ctypes.CDLL.__getitem__


    def _no_prctl(lookup):
        def find(self, name):
            if name == "prctl":
                raise AttributeError("prctl: no such function in this C library")
            return lookup(self, name)
        return find


    ctypes.CDLL.__getattr__, ctypes.CDLL.__getitem__ = _no_prctl(_lookup), _no_prctl(_item)
    os.geteuid = lambda: 1000  # a laptop's user, not root: as root the `local` level is refused
''')

STUDENT_PYTHON = textwrap.dedent('''\
    #!{python}
    """sys.executable for the student's process: the same prelude, then the script it was asked to run."""
    import runpy
    import sys

    sys.path.insert(0, {prelude_dir!r})
    import without_linux  # noqa: F401

    args = [a for a in sys.argv[1:] if a != "-I"]
    sys.argv = args
    sys.path[0] = __import__("os").path.dirname(args[0])
    runpy.run_path(args[0], run_name="__main__")
''')

DRIVER = textwrap.dedent('''
    import json
    import sys

    sys.path.insert(0, {prelude_dir!r})
    import without_linux  # noqa: F401

    sys.executable = {student_python!r}
    from grader.options import GradingOptions, Limits
    from grader.pipeline import grade_submission

    hang_options = GradingOptions(limits=Limits(check_timeout=1.0, submission_timeout=3.0))
    reference = grade_submission("exercise1", {reference!r})
    hanging = grade_submission("exercise1", {hang!r}, options=hang_options)
    loaded = sorted(m.__file__ for m in list(sys.modules.values())
                    if getattr(m, "__file__", None) and "grader" in m.__name__.split(".")[0])
    print(json.dumps({{"reference": json.loads(reference.to_json()), "hanging": json.loads(hanging.to_json()),
                      "linux_only_loaded": [n for n in {blocked!r} if n in sys.modules],
                      "has_fork": hasattr(__import__("os"), "fork"), "grader_files": loaded}}))
''')


@pytest.fixture(scope="module")
def graded_without_linux(tmp_path_factory):
    """Grade the reference and a hanging submission in an interpreter without the Linux pieces;
    the parsed results, plus the processes left under its temporary folder afterwards."""
    folder = tmp_path_factory.mktemp("no-linux")
    prelude_dir = folder / "prelude"
    prelude_dir.mkdir()
    (prelude_dir / "without_linux.py").write_text(WITHOUT_LINUX)
    student_python = folder / "student-python"
    student_python.write_text(STUDENT_PYTHON.format(python=sys.executable, prelude_dir=str(prelude_dir)))
    student_python.chmod(0o755)
    temp = folder / "tmp"
    temp.mkdir()
    driver = DRIVER.format(prelude_dir=str(prelude_dir), student_python=str(student_python),
                           reference=str(get_exercise("exercise1").reference_path.parent), hang=str(HANG),
                           blocked=LINUX_ONLY_MODULES)
    env = dict(os.environ, TMPDIR=str(temp))
    run = subprocess.run([sys.executable, "-c", driver], capture_output=True, text=True, timeout=300, cwd=ROOT,
                         env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    report["left_behind"] = processes_mentioning(str(folder))
    return report


def processes_mentioning(text: str, settle_s: float = 2.0) -> list[str]:
    """Command lines of live processes that mention `text` (the launcher's folder is under it)."""
    deadline = time.monotonic() + settle_s
    while True:
        found = []
        for process in psutil.process_iter(["cmdline", "status"]):
            cmdline = " ".join(process.info["cmdline"] or [])
            if text in cmdline and process.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(cmdline[:200])
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_auto_chooses_local_and_grades_the_reference_to_full_marks(graded_without_linux):
    """Without fork, prctl, resource and fcntl, does `auto` grade at `local` and give the
    reference every point, with none of those modules ever imported?"""
    reference = graded_without_linux["reference"]
    assert graded_without_linux["has_fork"] is False
    assert reference["isolation"] == "local"
    assert reference["max_score"] > 0 and reference["score"] == reference["max_score"], \
        [(c["name"], c["message"]) for c in reference["checks"] if c["status"] != "passed"]
    assert graded_without_linux["linux_only_loaded"] == []


def test_a_hanging_submission_times_out_and_leaves_no_process(graded_without_linux):
    """Does a `softmax` that never returns fail with the timeout message, the other checks
    still graded, and is nothing of the submission still running afterwards?"""
    hanging = graded_without_linux["hanging"]
    messages = " ".join(c["message"] for c in hanging["checks"] if c["status"] != "passed")
    assert hanging["isolation"] == "local"
    assert hanging["score"] < hanging["max_score"]
    assert "ran longer than 1 s in `softmax`" in messages
    assert graded_without_linux["left_behind"] == []


class ImportTimeLinuxUse(ast.NodeVisitor):
    """Collects what a module does at import time that needs Linux: `import resource`,
    `import fcntl` or a `.prctl` lookup, anywhere but inside a function (class bodies and
    if/try blocks run at import too)."""

    def __init__(self):
        self.found: list[str] = []

    def visit_FunctionDef(self, node) -> None:
        pass  # runs only when called

    visit_AsyncFunctionDef = visit_Lambda = visit_FunctionDef

    def visit_Import(self, node: ast.Import) -> None:
        self.found += [f"line {node.lineno}: import {a.name}" for a in node.names
                       if a.name.split(".")[0] in LINUX_ONLY_MODULES]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if (node.module or "").split(".")[0] in LINUX_ONLY_MODULES:
            self.found.append(f"line {node.lineno}: from {node.module} import ...")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr == "prctl":
            self.found.append(f"line {node.lineno}: .prctl")
        self.generic_visit(node)


def top_level_linux_only(source: str) -> list[str]:
    visitor = ImportTimeLinuxUse()
    visitor.visit(ast.parse(source))
    return visitor.found


def test_no_module_on_the_local_path_needs_linux_at_import(graded_without_linux):
    """Does every grader module a local grading loaded, and every file of the student's side,
    import without resource, fcntl or prctl at its top level (they may only be used inside
    functions the local path never calls)?"""
    harness = [ROOT / "grader" / "sandbox" / name for name in ("child.py", "codec.py", "local_child.py")]
    files = {Path(f) for f in graded_without_linux["grader_files"]} | set(harness)
    assert len(files) > 10, files  # the pipeline, the sandbox, the checks, the reports were all loaded
    offending = {str(f): found for f in sorted(files) if (found := top_level_linux_only(f.read_text()))}
    assert offending == {}


def test_the_static_check_catches_a_top_level_import():
    """Would the check above notice the imports it looks for?"""
    source = "import os\ntry:\n    import fcntl\nexcept ImportError:\n    pass\ndef f():\n    import resource\n"
    assert top_level_linux_only(source) == ["line 3: import fcntl"]
    assert top_level_linux_only("import ctypes\nctypes.CDLL(None).prctl(1, 1)\n") == ["line 2: .prctl"]
    assert top_level_linux_only("class A:\n    from resource import RLIMIT_CPU\n") == ["line 2: from resource import ..."]


@pytest.mark.parametrize("isolation, says_feedback", [("local", True), ("process", False), ("bwrap", False)])
def test_reports_say_a_local_score_is_feedback(isolation, says_feedback):
    """Do the terminal and HTML reports say, for a `local` result only, that the score is
    feedback and not the instructor's grade?"""
    from grader.report.html import render_report
    from grader.report.terminal import render
    from grader.results import CheckResult, GradeResult

    check = CheckResult(name="softmax_rows", max_score=1, visibility="public", status="passed", score=1)
    result = GradeResult(exercise="exercise1", checks=[check], isolation=isolation, seconds=0.1)
    assert ("feedback for you, not your instructor's grade" in render(result)) is says_feedback
    assert ("Feedback, not a grade." in render_report(result)) is says_feedback
