"""A real course, graded: `grade batch --course`, `grade gradebook --format`, `grade feedback`.

An exercise 1 class comes as a Canvas bulk download, as a Moodle download and as a Gradescope
export, with correct and buggy hand-ins from the course's own cases, a resubmission, a LATE
tag, a .pdf hand-in, a missing student and an entry that belongs to no one. Every roster
student must get one row, the late policy and overrides must be applied and explained, and
overrides must survive --force.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

import pytest

from grader.catalog import get_exercise

TESTS = Path(__file__).resolve().parent
CORRECT = (get_exercise("exercise1").reference_path).read_text()
BUGGY = (TESTS / "cases" / "exercise1" / "bug_softmax_no_max_shift" / "losses.py").read_text()
GRADE = [sys.executable, "-c", "from grader.cli import run; run()"]
JOSE = "José García"
ROSTER = f"""id,name,email,lms_id,sis_id,section
jose,{JOSE},jose@uni.example,1001,S-1,A
Kim,Kim Minji,kim@uni.example,1002,S-2,A
dana,Dana Scully,dana@uni.example,1003,S-3,B
lee,Lee Jun,lee@uni.example,1004,S-4,B
omar,Omar Haddad,omar@uni.example,1005,S-5,B
"""
COURSE = """roster = "roster.csv"
[exercises.exercise1]
deadline = "2026-12-01T23:59:00+09:00"
late_penalty_per_day = 0.10
last_day = "2026-12-08T23:59:00+09:00"
[extensions]
lee = { exercise1 = "2026-12-05T23:59:00+09:00" }
"""

pytestmark = pytest.mark.slow  # real Canvas, Moodle and Gradescope classes graded end to end


def grade(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    run = subprocess.run([*GRADE, *args], capture_output=True, text=True, timeout=600, cwd=cwd)
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def rows(path: Path) -> dict[str, dict]:
    return {r["student"]: r for r in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")))}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    write(root / "roster.csv", ROSTER)
    write(root / "course.toml", COURSE)
    write(root / "times.csv", "student,submitted_at\njose,2026-12-03T08:00:00+09:00\n"
                              "lee,2026-12-04T08:00:00+09:00\n")
    canvas = root / "canvas"
    write(canvas / "garciajose_1001_5001_losses.py", CORRECT)
    write(canvas / "minjikim_LATE_1002_5002_losses.py", BUGGY)
    write(canvas / "minjikim_LATE_1002_5002_notes.py", "NOTE = 'helpers are fine'\n")
    write(canvas / "scullydana_1003_5003_losses.pdf", "%PDF-1.4 not code")
    write(canvas / "junlee_1004_5004_losses.py", BUGGY)
    write(canvas / "junlee_1004_5004_losses-1.py", CORRECT)
    write(canvas / "strangerdanger_9999_5009_losses.py", CORRECT)
    return root


def batch(course: Path, download: str, out: str, *extra: str) -> subprocess.CompletedProcess:
    return grade("batch", download, "--exercise", "exercise1", "--out", out, "--check-timeout", "3", *extra,
                 cwd=course)


@pytest.fixture(scope="module")
def graded(course):
    run = batch(course, "canvas", "out", "--submitted-at", "times.csv")
    return course, run


def test_canvas_class_one_row_per_roster_student(graded):
    """Resubmission graded, LATE flagged, .pdf unreadable, missing student 0, stranger listed."""
    course, run = graded
    book = rows(course / "out" / "gradebook.csv")
    assert list(book) == ["jose", "Kim", "dana", "lee", "omar"]
    full = book["jose"]["max_score"]
    assert book["lee"]["raw"] == full and book["lee"]["penalty"] == "0"  # resubmission, within extension
    assert book["jose"]["raw"] == full and book["jose"]["days_late"] == "2"
    assert float(book["jose"]["score"]) == pytest.approx(0.8 * float(full))
    assert float(book["Kim"]["raw"]) < float(full) and book["Kim"]["days_late"] == "unknown"
    assert book["dana"]["status"] == "unreadable" and book["omar"]["status"] == "missing"
    assert book["omar"]["score"] == "0"
    assert "strangerdanger_9999_5009_losses.py matches no roster student" in run.stderr
    assert "strangerdanger" in (course / "out" / "summary.html").read_text(encoding="utf-8")
    assert "2 started days" in (course / "out" / "jose" / "report.html").read_text(encoding="utf-8")


def test_overrides_survive_force_and_show_in_both_reports(graded):
    course, _ = graded
    write(course / "overrides.csv", "student,exercise,check,points,reason\n"
                                    "kim,exercise1,,7,late-day waiver after office hours\n")
    try:
        batch(course, "canvas", "out", "--submitted-at", "times.csv", "--force")
        book = rows(course / "out" / "gradebook.csv")
        assert book["Kim"]["score"] == "7" and "waiver" in book["Kim"]["override"]
        for report in ("report.html", "instructor.html"):
            assert "late-day waiver" in (course / "out" / "Kim" / report).read_text(encoding="utf-8")
    finally:
        (course / "overrides.csv").unlink()


def test_canvas_and_moodle_exports(graded):
    course, _ = graded
    grade("gradebook", "out", "--out", "canvas.csv", "--format", "canvas", cwd=course)
    text = (course / "canvas.csv").read_text(encoding="utf-8")
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text[1:])))
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "exercise1"]
    assert table[1][0].strip() == "Points Possible"
    assert [t[1] for t in table[2:]] == ["1001", "1002", "1003", "1004", "1005"]
    grade("gradebook", "out", "--out", "moodle.csv", "--format", "moodle", cwd=course)
    moodle = list(csv.reader(io.StringIO((course / "moodle.csv").read_text(encoding="utf-8-sig"))))
    assert moodle[0] == ["Full name", "ID number", "Email address", "exercise1"] and len(moodle) == 6


def test_feedback_folders_and_moodle_zip_hold_no_hidden_details(graded):
    from grader.checks.runner import list_checks

    course, _ = graded
    grade("feedback", "out", "--out", "handback", cwd=course)
    folders = sorted(p.name for p in (course / "handback").iterdir() if p.is_dir())
    assert folders == sorted(["jose", "Kim", "dana", "lee", "omar"])
    hidden = [name for name, _, visibility, _ in list_checks(get_exercise("exercise1")) if visibility == "hidden"]
    assert hidden
    for folder in folders:
        assert sorted(p.name for p in (course / "handback" / folder).iterdir()) == ["feedback.html", "report.html"]
        page = (course / "handback" / folder / "report.html").read_text(encoding="utf-8")
        assert not any(name in page for name in hidden)
    with zipfile.ZipFile(course / "handback" / "moodle-feedback.zip") as archive:
        names = archive.namelist()
    assert f"{JOSE}_1001_assignfeedback_file_report.html" in names and len(names) == 10


def test_gradescope_format_on_a_rerun_writes_the_files_without_regrading(graded):
    course, _ = graded
    run = batch(course, "canvas", "out", "--submitted-at", "times.csv", "--format", "gradescope")
    assert "0 graded" in run.stdout
    for student in ("jose", "Kim", "lee"):
        assert json.loads((course / "out" / student / "gradescope.json").read_text())["tests"]


def test_moodle_and_gradescope_classes(course):
    """A Moodle download (decomposed name) and a Gradescope export (created_at) give one row each."""
    nfd = unicodedata.normalize("NFD", JOSE)
    write(course / "moodle" / f"{nfd}_1001_assignsubmission_file_" / "losses.py", CORRECT)
    write(course / "moodle" / "Kim Minji_1002_assignsubmission_file_" / "exercise1" / "losses.py", BUGGY)
    write(course / "moodle" / "Dana Scully_1003_assignsubmission_file_losses.rar", "Rar!")
    write(course / "moodle" / "Lee Jun_1004_assignsubmission_file_losses.zip", "PK not really a zip")
    batch(course, "moodle", "out-moodle")
    book = rows(course / "out-moodle" / "gradebook.csv")
    assert [book[s]["status"] for s in book] == ["complete", "graded", "unreadable", "unreadable", "missing"]
    assert book["lee"]["score"] == "" and book["omar"]["score"] == "0"  # unreadable: blank, for a person to look
    assert "zip" in book["lee"]["notes"] or "zip" in (course / "out-moodle" / "lee" / "result.json").read_text()

    write(course / "gs" / "submission_metadata.yml",
          "---\nsubmission_1:\n  :submitters:\n  - :name: Lee Jun\n    :sid: '1004'\n    :email: lee@uni.example\n"
          "  :created_at: 2026-12-07 09:00:00.000000000 +09:00\n")
    write(course / "gs" / "submission_1" / "losses.py", CORRECT)
    batch(course, "gs", "out-gs")
    book = rows(course / "out-gs" / "gradebook.csv")
    assert book["lee"]["days_late"] == "2" and book["lee"]["submitted_at"].startswith("2026-12-07T09:00")
    assert [book[s]["status"] for s in book].count("missing") == 4


def test_a_grader_change_writes_regrade_csv_and_keeps_overrides(graded):
    """Result graded under an older key (as after a check fix): does the rerun regrade it, list
    the moved points in regrade.csv and on the summary, and keep the override?"""
    course, _ = graded
    path = course / "out" / "jose" / "result.json"
    data = json.loads(path.read_text())
    first = data["checks"][0]
    first["score"], first["passed"], first["status"] = 0, False, "failed"
    data["score"] -= first["max_score"]
    data["batch"]["key"] = "key-of-an-older-grader"
    path.write_text(json.dumps(data))
    write(course / "overrides.csv", "student,exercise,check,points,reason\njose,exercise1,,5,plagiarism case\n")
    try:
        run = batch(course, "canvas", "out", "--submitted-at", "times.csv")
        assert "1 graded" in run.stdout
        regrade = list(csv.DictReader(io.StringIO((course / "out" / "regrade.csv").read_text())))
        assert {(r["student"], r["check"], r["old"], r["new"]) for r in regrade} == {
            ("jose", first["name"], "0", f"{first['max_score']:g}"),
            ("jose", "total", f"{data['score']:g}", f"{data['score'] + first['max_score']:g}")}
        assert "regrade.csv" in (course / "out" / "summary.html").read_text(encoding="utf-8")
        assert rows(course / "out" / "gradebook.csv")["jose"]["score"] == "5"
    finally:
        (course / "overrides.csv").unlink()


def test_an_override_for_someone_not_on_the_roster_stops_before_grading(course, tmp_path):
    write(course / "overrides.csv", "student,exercise,check,points,reason\nzed,exercise1,,3,typo\n")
    try:
        run = subprocess.run([*GRADE, "batch", "canvas", "--exercise", "exercise1", "--out", str(tmp_path / "o")],
                             capture_output=True, text=True, timeout=120, cwd=course)
    finally:
        (course / "overrides.csv").unlink()
    assert run.returncode == 2 and "'zed' is not on the roster" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "o" / "gradebook.csv").exists()
