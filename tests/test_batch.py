"""Batch grading: same scores as grading one by one, resumable, lossless, robust to bad students.

A class of at least 30 submissions per exercise is generated from the reference, the stub,
the buggy case folders and hostile variants (notebook, zip, hang, crash, garbage, flood of
output). Hanging submissions cost their time limit, so these tests shorten the limits
through the batch's options (the catalog is left alone).
"""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import click
import pytest

from grader.batch import run as batch
from grader.batch import pool
from grader.options import GradingOptions, Limits
from grader.catalog import get_exercise
from grader.pipeline import grade_submission
from grader.sandbox.launcher import Launcher

TESTS = Path(__file__).resolve().parent
CASES = TESTS / "cases"
OPTIONS = GradingOptions(limits=Limits.for_check_timeout(1.5))
"""(per check, per submission) seconds while testing: a hang costs this, not the catalog's 10 s.
The submission's budget is long enough for a hanging function's later, shorter limits (1 s each:
session.HangMemory) and the restarts after each, even on a loaded machine, so no check's verdict
depends on where a budget ran out."""
CLASS_SIZE = 30
EXERCISES_UNDER_TEST = ["exercise1", "exercise2"]


# -- a generated class ---------------------------------------------------------------------------
def _functions(source: str) -> list[ast.FunctionDef]:
    return [n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")]


def without_body(source: str, func: ast.FunctionDef, body: str) -> str:
    """The module with one function's body (after its docstring) replaced by `body`."""
    lines = source.splitlines()
    statements = func.body[1:] if isinstance(func.body[0], ast.Expr) and isinstance(
        getattr(func.body[0], "value", None), ast.Constant) and len(func.body) > 1 else func.body
    first, last = statements[0].lineno - 1, func.end_lineno
    indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
    return "\n".join(lines[:first] + [indent + line for line in body.splitlines()] + lines[last:]) + "\n"


def notebook_of(source: str) -> str:
    """The module as a notebook: a markdown cell, a magic, then one code cell per top-level block."""
    import nbformat

    tree = ast.parse(source)
    lines = source.splitlines()
    starts = [(n.decorator_list[0].lineno if getattr(n, "decorator_list", None) else n.lineno) - 1
              for n in tree.body] + [len(lines)]
    cells = [nbformat.v4.new_markdown_cell("# My solution"), nbformat.v4.new_code_cell("%matplotlib inline")]
    cells += [nbformat.v4.new_code_cell("\n".join(lines[a:b]).strip()) for a, b in zip(starts, starts[1:])
              if "\n".join(lines[a:b]).strip()]
    return nbformat.writes(nbformat.v4.new_notebook(cells=cells))


def make_submissions(exercise_name: str, folder: Path, size: int = CLASS_SIZE, *, hostile: bool = True) -> dict:
    """Write a class of submissions; returns {student id: what it is}."""
    exercise = get_exercise(exercise_name)
    ref, stub = exercise.reference_path.read_text(), exercise.stub_path.read_text()
    module = f"{exercise.module}.py"
    folder.mkdir(parents=True, exist_ok=True)
    kinds: dict[str, str] = {}

    def put(name: str, text: str, what: str, where: str = "") -> None:
        target = folder / name / where / module
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        kinds[name] = what

    put("ref_folder", ref, "reference")
    put("ref_nested", ref, "reference in exerciseN/", where=exercise.name)
    (folder / "ref_nested" / "README.txt").write_text("my notes")
    (folder / "ref_file.py").write_text(ref)
    kinds["ref_file"] = "reference as .py"
    (folder / "ref_notebook.ipynb").write_text(notebook_of(ref))
    kinds["ref_notebook"] = "reference as notebook"
    with zipfile.ZipFile(folder / "ref_zip.zip", "w") as archive:
        archive.writestr(f"{exercise.name}/{module}", ref)
        archive.writestr("__MACOSX/._junk", b"\0\1")
    kinds["ref_zip"] = "reference zipped"
    put("stub", stub, "the handout stub")
    for func in _functions(ref):
        put(f"partial_{func.name}", without_body(ref, func, "raise NotImplementedError"), f"{func.name} missing")
    for case in sorted((CASES / exercise.name).glob("*")) if (CASES / exercise.name).is_dir() else []:
        if (case / module).is_file():
            shutil.copytree(case, folder / f"case_{case.name}")
            kinds[f"case_{case.name}"] = f"test case {case.name}"
    if hostile:
        first = _functions(ref)[0]
        put("hostile_print", "print(\"<script>alert('pwned')</script><img src=x onerror=alert(1)>\")\n" + ref,
            "prints HTML")
        put("flood", "for _i in range(50_000):\n    print('spam', _i)\n" + ref, "prints 50,000 lines")
        put("hang_import", "while True:\n    pass\n" + ref, "hangs at import")
        put("hang_call", without_body(ref, first, "while True:\n    pass"), f"{first.name} hangs")
        put("crash_import", "import os\nos._exit(3)\n" + ref, "exits at import")
        put("crash_call", without_body(ref, first, "import os\nos._exit(7)"), f"{first.name} exits")
        put("syntax_error", ref.replace("def ", "def def ", 1), "syntax error")
        (folder / "garbage.zip").write_bytes(b"this is not a zip file")
        kinds["garbage"] = "not a zip"
        (folder / "empty").mkdir()
        kinds["empty"] = "empty folder"
    (folder / "notes.txt").write_text("not a submission")
    copy = 0
    while len(kinds) < size:
        copy += 1
        put(f"ref_copy{copy:02d}", f"# student copy {copy}\n" + ref, "reference (another student)")
    return kinds


def _skip_unless_ready(exercise_name: str) -> None:
    exercise = get_exercise(exercise_name)
    if not (exercise.reference_path.is_file() and exercise.stub_path.is_file()
            and (exercise.checks_dir / "test_public.py").is_file()):
        pytest.skip(f"{exercise_name} has no reference, stub or checks yet")


def single_grades(exercise_name: str, folder: Path) -> dict[str, dict]:
    """Each student graded alone with grade_submission (same time limits as the batch)."""
    students, _ = batch.discover(folder)
    grades = {}
    with Launcher(get_exercise(exercise_name)) as launcher:
        for s in students:
            result = grade_submission(exercise_name, s.path, student=s.id, launcher=launcher, options=OPTIONS)
            grades[s.id] = {"score": result.score, "checks": {c.name: c.status for c in result.checks}}
    return grades


@pytest.fixture(scope="module", params=EXERCISES_UNDER_TEST)
def graded_class(request, tmp_path_factory):
    """A generated class, its single-graded scores, and one complete batch of it (jobs=2)."""
    _skip_unless_ready(request.param)
    root = tmp_path_factory.mktemp(request.param)
    kinds = make_submissions(request.param, root / "subs")
    expected = single_grades(request.param, root / "subs")
    report = batch.run_batch(root / "subs", request.param, root / "out", jobs=2, options=OPTIONS)
    return {"exercise": request.param, "root": root, "kinds": kinds, "expected": expected, "report": report}


def copy_class(graded_class, tmp_path: Path) -> tuple[Path, Path]:
    subs, out = tmp_path / "subs", tmp_path / "out"
    shutil.copytree(graded_class["root"] / "subs", subs)
    shutil.copytree(graded_class["root"] / "out", out)
    return subs, out


def read_rows(out: Path) -> list[dict]:
    with (out / "gradebook.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def stored(out: Path, student: str) -> dict:
    return json.loads((out / student / "result.json").read_text())


def assert_gradebook_matches(out: Path, expected: dict[str, dict]) -> None:
    rows = read_rows(out)
    assert sorted(r["student"] for r in rows) == sorted(expected), "one row per student, no duplicates"
    for row in rows:
        want = expected[row["student"]]
        assert float(row["score"]) == pytest.approx(want["score"]), row["student"]
        assert row["status"] != "pending", row["student"]
        got = stored(out, row["student"])
        assert {c["name"]: c["status"] for c in got["checks"]} == want["checks"], row["student"]


# -- the tests ----------------------------------------------------------------------------------
@pytest.mark.slow
def test_batch_gives_the_scores_single_grading_gives(graded_class):
    """Does a parallel batch (jobs=2) of 30+ mixed submissions score every student exactly as
    grading them one by one does, and write every output file?"""
    out, report = graded_class["root"] / "out", graded_class["report"]
    assert len(graded_class["expected"]) >= CLASS_SIZE
    assert report.graded == len(graded_class["expected"]) and report.skipped == 0 and not report.interrupted
    assert_gradebook_matches(out, graded_class["expected"])
    for student in graded_class["expected"]:
        for name in ("result.json", "report.html", "instructor.html"):
            assert (out / student / name).is_file(), f"{student}/{name}"
    assert (out / "summary.html").is_file()
    header = read_rows(out)[0].keys()
    assert list(header)[:5] == ["student", "exercise", "score", "max_score", "percent"]
    assert list(header)[-2:] == ["status", "seconds"]
    assert any("ignored notes.txt" in w for w in report.warnings)


@pytest.mark.slow
def test_bad_students_get_zero_with_a_reason(graded_class):
    """Do the hanging, crashing and garbage submissions end as failed results with messages,
    while the references next to them get full marks?"""
    out = graded_class["root"] / "out"
    full = stored(out, "ref_notebook")
    assert full["score"] == full["max_score"] > 0
    assert stored(out, "ref_zip")["score"] == full["max_score"]
    expected_words = {"hang_import": "longer than", "crash_import": "exit", "garbage": "zip",
                      "syntax_error": "SyntaxError", "empty": "could not find"}
    for student, words in expected_words.items():
        result = stored(out, student)
        assert result["score"] == 0, student
        text = result["error"] + " ".join(c["message"] for c in result["checks"])
        assert words.lower() in text.lower(), f"{student}: {text[:300]}"
    flood = stored(out, "flood")
    assert flood["score"] == full["max_score"] and len(flood["output"]) < 30_000


@pytest.mark.slow
def test_rerun_skips_every_unchanged_student(graded_class, tmp_path):
    """Does running the same batch again grade nobody and leave every result file as it was?"""
    subs, out = copy_class(graded_class, tmp_path)
    before = {p: p.read_bytes() for p in out.glob("*/result.json")}
    report = batch.run_batch(subs, graded_class["exercise"], out, jobs=2, options=OPTIONS)
    assert report.graded == 0 and report.skipped == len(graded_class["expected"])
    assert {p: p.read_bytes() for p in out.glob("*/result.json")} == before
    assert_gradebook_matches(out, graded_class["expected"])


@pytest.mark.slow
def test_changed_submission_is_regraded(graded_class, tmp_path):
    """When one student hands in again, is only that student regraded, with the new score?"""
    subs, out = copy_class(graded_class, tmp_path)
    exercise = get_exercise(graded_class["exercise"])
    (subs / "stub" / f"{exercise.module}.py").write_text(exercise.reference_path.read_text())
    report = batch.run_batch(subs, graded_class["exercise"], out, jobs=2, options=OPTIONS)
    assert report.graded == 1
    expected = dict(graded_class["expected"], stub=graded_class["expected"]["ref_folder"])
    assert_gradebook_matches(out, expected)


@pytest.mark.slow
def test_student_removed_from_the_folder_leaves_the_gradebook(graded_class, tmp_path):
    """When a submission is taken out of the folder, does the rerun drop its row (keeping its
    files on disk) and say so?"""
    subs, out = copy_class(graded_class, tmp_path)
    shutil.rmtree(subs / "stub")
    report = batch.run_batch(subs, graded_class["exercise"], out, jobs=2, options=OPTIONS)
    assert report.graded == 0 and any("no longer in" in w for w in report.warnings)
    expected = {k: v for k, v in graded_class["expected"].items() if k != "stub"}
    assert_gradebook_matches(out, expected)
    assert (out / "stub" / "result.json").is_file()


@pytest.mark.slow
def test_force_regrades_everyone(graded_class, tmp_path):
    """Does --force grade every student again (and agree with the first run)?"""
    if graded_class["exercise"] != "exercise1":
        pytest.skip("one exercise is enough")
    subs, out = copy_class(graded_class, tmp_path)
    report = batch.run_batch(subs, graded_class["exercise"], out, jobs=2, force=True, options=OPTIONS)
    assert report.graded == len(graded_class["expected"]) and report.skipped == 0
    assert_gradebook_matches(out, graded_class["expected"])


SIGNAL_AFTER = """
import os, signal, sys
from grader.batch import run as batch
from grader.cli import run

graded_before_signal, signal_name, real_run_batch = int(sys.argv[1]), sys.argv[2], batch.run_batch


def run_batch_then_signal(*args, progress, **kwargs):
    def signalling(state):
        progress(state)
        if state.done == graded_before_signal:
            os.killpg(os.getpgrp(), getattr(signal, signal_name))

    return real_run_batch(*args, progress=signalling, **kwargs)


batch.run_batch = run_batch_then_signal
sys.argv = ["grade", *sys.argv[3:]]
run()
"""
"""`grade ARGS` that sends a signal to its own process group (itself and its workers), as
Ctrl-C or `kill` would, from the batch's progress callback right after the given number of
students were graded in this run: with one worker, that worker is then idle, so exactly those
students are saved."""


def grade_batch_until_signal(arguments: list[str], graded: int, signal_name: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", SIGNAL_AFTER, str(graded), signal_name, *arguments],
                          capture_output=True, timeout=300, start_new_session=True)


def saved_students(out: Path) -> set[str]:
    return {p.parent.name for p in out.glob("*/result.json")}


@pytest.mark.slow
def test_interrupted_batch_keeps_exactly_who_was_graded_and_resumes(graded_class, tmp_path):
    """If `grade batch` gets Ctrl-C (SIGINT to its process group) after 4 students, does it save
    exactly those 4, mark the rest pending and exit 130 saying to rerun? If the rerun is killed
    (SIGKILL) after 4 more, are exactly 8 saved? Does the next rerun grade only the rest and
    end with a complete, correct gradebook?"""
    if graded_class["exercise"] != "exercise1":
        pytest.skip("one exercise is enough to test interruption")
    subs, out = tmp_path / "subs", tmp_path / "out"
    shutil.copytree(graded_class["root"] / "subs", subs)
    in_order = [s.id for s in batch.discover(subs)[0]]  # one worker grades them in this order

    def arguments(jobs: int) -> list[str]:
        return ["batch", str(subs), "--exercise", "exercise1", "--out", str(out), "--jobs", str(jobs),
                "--check-timeout", str(OPTIONS.limits.check_timeout)]

    interrupted = grade_batch_until_signal(arguments(1), 4, "SIGINT")
    assert interrupted.returncode == 130, interrupted.stderr.decode()[-2000:]
    assert b"rerun" in interrupted.stderr.lower()
    assert saved_students(out) == set(in_order[:4])
    rows = read_rows(out)
    assert {r["student"] for r in rows if r["status"] == "pending"} == set(in_order[4:])

    killed = grade_batch_until_signal(arguments(1), 4, "SIGKILL")
    assert killed.returncode == -signal.SIGKILL
    assert saved_students(out) == set(in_order[:8])

    rerun = subprocess.run([sys.executable, "-m", "grader.cli", *arguments(2)], capture_output=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr.decode()[-2000:]
    assert f"{len(in_order) - 8} graded, 8 unchanged".encode() in rerun.stdout, rerun.stdout
    assert_gradebook_matches(out, graded_class["expected"])


@pytest.mark.slow
def test_worker_that_dies_is_replaced_and_its_student_regraded(graded_class, tmp_path, monkeypatch):
    """If a worker process dies while grading, is the student graded again by a new worker,
    and one that kills its worker every time recorded as an error (retried next run)?"""
    if graded_class["exercise"] != "exercise1":
        pytest.skip("one exercise is enough")
    subs = tmp_path / "subs"
    for name in ("ref_folder", "stub", "ref_copy01", "partial_softmax"):
        if (graded_class["root"] / "subs" / name).exists():
            shutil.copytree(graded_class["root"] / "subs" / name, subs / name)
    once = tmp_path / "died-once"
    real = pool.grade_student

    def dying(student, launcher, settings):  # runs in the forked worker
        if student.id == "stub" or (student.id == "ref_folder" and not once.exists()):
            once.touch()
            os._exit(9)
        return real(student, launcher, settings)

    monkeypatch.setattr(pool, "grade_student", dying)
    out = tmp_path / "out"
    report = batch.run_batch(subs, "exercise1", out, jobs=2, options=OPTIONS)
    assert report.worker_restarts >= 2
    assert stored(out, "ref_folder")["score"] == graded_class["expected"]["ref_folder"]["score"]
    lost = stored(out, "stub")
    assert lost["status"] == "error" and "stopped unexpectedly" in lost["error"] and lost["batch"]["retry"]
    monkeypatch.setattr(pool, "grade_student", real)
    again = batch.run_batch(subs, "exercise1", out, jobs=2, options=OPTIONS)
    assert again.graded == 1, "only the student recorded as a grader error is retried"
    assert stored(out, "stub")["score"] == graded_class["expected"]["stub"]["score"]


@pytest.mark.slow
def test_gradebooks_of_several_exercises_merge_with_a_total(graded_class, tmp_path):
    """Does `grade gradebook OUT1 OUT2 --out FILE` give one row per student with a total?"""
    if graded_class["exercise"] != "exercise1":
        pytest.skip("merging is tested once")
    ex2 = tmp_path / "ex2.csv"
    ex2.write_text("student,exercise,score,max_score,percent,status,seconds\n"
                   "ref_folder,exercise2,8,8,100,complete,0.1\nnewcomer,exercise2,3,8,37.5,graded,0.1\n")
    merged_path = tmp_path / "all.csv"
    run = subprocess.run([sys.executable, "-m", "grader.cli", "gradebook", str(graded_class["root"] / "out"), str(ex2),
                          "--out", str(merged_path)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(merged_path.read_text()))}
    max1 = graded_class["report"] and float(read_rows(graded_class["root"] / "out")[0]["max_score"])
    assert rows["ref_folder"]["total"] == f"{max1 + 8:g}" and rows["ref_folder"]["max_total"] == f"{max1 + 8:g}"
    assert rows["newcomer"]["exercise1"] == "" and rows["newcomer"]["total"] == "3"
    assert rows["stub"]["exercise2"] == "" and float(rows["stub"]["total"]) == 0
    clash = subprocess.run([sys.executable, "-m", "grader.cli", "gradebook", str(ex2), str(ex2), "--out",
                            str(tmp_path / "x.csv")], capture_output=True, text=True, timeout=60)
    assert clash.returncode == 2 and "two exercise2 results" in clash.stderr


def test_discover_names_students_and_skips_what_is_not_a_submission(tmp_path):
    """Is each entry's name without its suffix the student id, are clashing names kept apart,
    and are hidden files and other files left out with a warning?"""
    for name in ("ana.py", "ana.zip", "bo.ipynb", ".DS_Store", "list.csv", "__MACOSX"):
        (tmp_path / name).write_text("x") if "." in name else (tmp_path / name).mkdir()
    (tmp_path / "carl").mkdir()
    students, warnings = batch.discover(tmp_path)
    assert sorted(s.id for s in students) == ["ana.py", "ana.zip", "bo", "carl"]
    assert any("list.csv" in w for w in warnings) and any("ana.zip" in w for w in warnings)


def test_batch_usage_errors_exit_2_with_one_line(tmp_path):
    """Do a missing submissions folder and an unknown exercise give a one-line error, exit 2?"""
    missing = subprocess.run([sys.executable, "-m", "grader.cli", "batch", str(tmp_path / "nope"), "--exercise",
                              "exercise1", "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "not a folder" in missing.stderr and "Traceback" not in missing.stderr
    unknown = subprocess.run([sys.executable, "-m", "grader.cli", "batch", str(tmp_path), "--exercise", "exercise99",
                              "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 2 and "exercise99" in unknown.stderr


def test_second_batch_on_the_same_folder_is_refused(tmp_path):
    """While one batch writes to OUT, is a second one refused instead of grading twice?"""
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "a.py").write_text("x = 1\n")
    out = tmp_path / "out"
    out.mkdir()
    with batch._locked(out):
        with pytest.raises(batch.BatchError, match="another `grade batch`"):
            batch.run_batch(tmp_path / "subs", "exercise1", out, jobs=1)


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_in_a_log_prints_a_line_per_tenth_with_counts_and_eta():
    """Not on a terminal, does the progress display print counts, rate and an ETA, one line
    each time another tenth of the class is done and never the same tenth twice?"""
    stream = io.StringIO()
    line = batch.ProgressLine(stream, label="exercise1")
    progress = batch.Progress(total=10, skipped=2)
    line(progress)
    progress.done = 4
    line(progress)
    line(progress)
    progress.done = 8
    line(progress)
    line.close()
    lines = stream.getvalue().splitlines()
    assert [text.split()[1] for text in lines] == ["2/10", "6/10", "10/10"]
    assert all(text.startswith("exercise1 ") and "2 unchanged" in text for text in lines)
    assert "ETA" in lines[1] and "/s" in lines[1] and "ETA" not in lines[2]


def test_progress_line_on_a_terminal_redraws_one_line():
    """On a terminal, is the bar redrawn in place (no new line until it is closed), ending full?"""
    terminal = FakeTerminal()
    line = batch.ProgressLine(terminal, label="exercise1")
    progress = batch.Progress(total=4)
    for done in range(5):
        progress.done = done
        line(progress)
    drawn = terminal.getvalue()
    line.close()
    assert "\n" not in drawn and drawn.count("\r") == 5
    assert "0/4" in drawn and drawn.split("\r")[-1].count("4/4") == 1 and "----" not in drawn.split("\r")[-1]
    assert terminal.getvalue().endswith("\n")


def test_eta_counts_only_the_students_still_to_grade_at_the_rate_of_those_graded():
    """With 90 of 100 students unchanged and one graded in 10 s, is the ETA about 9 × 10 s
    (the unchanged ones took no time and say nothing of the rate)?"""
    progress = batch.Progress(total=100, skipped=90, done=1, started=time.monotonic() - 10)
    stream = io.StringIO()
    batch.ProgressLine(stream)(progress)
    minutes, seconds = re.search(r"ETA (\d+):(\d\d)", stream.getvalue()).groups()
    assert 85 <= 60 * int(minutes) + int(seconds) <= 95, stream.getvalue()


def test_why_the_progress_log_is_not_a_click_progress_bar():
    """Not on a terminal, click's progress bar prints its label once and no progress at all:
    a batch's log needs its counts, hence the lines of its own."""
    log = io.StringIO()
    with click.progressbar(length=10, label="exercise1", file=log, show_pos=True) as bar:
        for _ in range(10):
            bar.update(1)
    assert log.getvalue() == "exercise1\n"


def test_the_grading_key_covers_everything_that_decides_a_grade(monkeypatch):
    """Is the local batch's key made from the one course fingerprint the cluster checks, reading
    checks/api.py (tolerances), gradcheck.py, contract.py, the exercise's checks, every reference
    (other exercises import them), and changing with the time and memory limits?"""
    import dataclasses

    from grader.batch import cluster
    from grader.catalog import CHECKS_ROOT, EXERCISES

    read: list[Path] = []
    real_digest = batch._digest

    def spying(paths, root):
        read.extend(paths)
        return real_digest(paths, root)

    monkeypatch.setattr(batch, "_digest", spying)
    exercise = get_exercise("exercise3")
    fingerprint = batch.course_fingerprint.__wrapped__(exercise)
    assert cluster.course_fingerprint is batch.course_fingerprint
    for needed in (CHECKS_ROOT / "api.py", CHECKS_ROOT / "gradcheck.py", CHECKS_ROOT / "contract.py",
                   exercise.checks_dir / "test_public.py", *(e.reference_path for e in EXERCISES.values())):
        assert needed in read, needed
    assert fingerprint == batch.course_fingerprint(exercise)
    keys = {batch.grading_key(exercise)}
    for change in ({"check_timeout": exercise.check_timeout + 1}, {"submission_timeout": exercise.submission_timeout + 1},
                   {"memory_limit_mb": exercise.memory_limit_mb + 1}):
        keys.add(batch.grading_key(dataclasses.replace(exercise, **change)))
    assert len(keys) == 4


def test_numpy_details_are_numbers_in_the_batch_result_json(tmp_path):
    """Does a batch's result.json hold a check's numpy details as numbers and lists, as --json
    does, and carry the format?"""
    import numpy as np

    from grader.batch.store import save_student
    from grader.results import FORMAT, CheckResult, GradeResult

    check = CheckResult(name="c", max_score=1, visibility="public", status="passed", score=1,
                        details={"accuracy": np.float32(0.5), "curve": np.array([0.25, 0.5])})
    result = GradeResult(exercise="exercise1", student="ana", checks=[check])
    save_student(tmp_path, result, key="k")
    data = stored(tmp_path, "ana")
    assert data["checks"][0]["details"] == {"accuracy": 0.5, "curve": [0.25, 0.5]}
    assert data["format"] == FORMAT and data["batch"]["key"] == "k"
    assert data == {**json.loads(result.to_json()), "batch": data["batch"]}


def test_a_check_file_that_fails_to_import_stops_the_batch_in_one_line(tmp_path, monkeypatch):
    """Does a batch whose check file raises on import stop before grading anyone, with one line
    naming the file and line (a BatchError), not a traceback?"""
    import grader.checks.exercise1 as package
    from grader.checks import runner

    broken = tmp_path / "test_hidden_broken_batch.py"
    broken.write_text("\n\nraise KeyError('W1')\n")
    real = runner.check_files
    monkeypatch.setattr(package, "__path__", [*package.__path__, str(tmp_path)])
    monkeypatch.setattr(runner, "check_files", lambda exercise, visibility=None: [*real(exercise, visibility), broken])
    monkeypatch.delitem(sys.modules, "grader.checks.exercise1.test_hidden_broken_batch", raising=False)
    copy = tmp_path / "subs" / "ana"
    copy.mkdir(parents=True)
    shutil.copy(get_exercise("exercise1").reference_path, copy)
    with pytest.raises(batch.BatchError, match=r"test_hidden_broken_batch\.py, line 3: KeyError") as caught:
        batch.run_batch(tmp_path / "subs", "exercise1", tmp_path / "out", options=OPTIONS, jobs=1)
    assert "\n" not in str(caught.value) and not (tmp_path / "out" / "ana").exists()
