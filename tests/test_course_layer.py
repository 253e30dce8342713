"""The course layer without grading: rosters, LMS download layouts, late policy, overrides, exports.

Each LMS layout is built here the way the LMS writes it (file and folder names, metadata), with
the troubles real classes bring: a name stored composed and decomposed, ids equal but for case,
several files per student, Canvas resubmissions and LATE tags, a .pdf or .rar hand-in, students
with nothing handed in and entries that belong to no one.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from grader.course import lms
from grader.course.classlist import ClassRow, class_rows, finish_course, prepare_batch
from grader.course.policy import adjust, load_overrides, load_submitted_at
from grader.course.roster import CourseError, folder_names, load_course, load_roster
from grader.report import exports
from grader.results import CheckResult, GradeResult

JOSE = "José García"
JOSE_NFD = unicodedata.normalize("NFD", JOSE)
KST = timezone(timedelta(hours=9))
ROSTER = f"""id,name,email,lms_id,sis_id,section
jose,{JOSE},jose@uni.example,1001,S-1,A
Kim,Kim Minji,kim@uni.example,1002,S-2,A
dana,Dana Scully,dana@uni.example,1003,S-3,B
lee,Lee Jun,lee@uni.example,1004,S-4,B
omar,Omar Haddad,omar@uni.example,1005,S-5,B
"""
CODE = "def softmax(x):\n    return x\n"


def write(path: Path, text: str = CODE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def roster(tmp_path):
    return load_roster(write(tmp_path / "roster.csv", "\ufeff" + ROSTER))


# -- roster --------------------------------------------------------------------------------------
def test_roster_reads_excel_bom_and_compares_names_in_nfc(roster):
    """Does a roster saved by Excel (BOM) load, and is a decomposed name the same student?"""
    assert [s.id for s in roster.students] == ["jose", "Kim", "dana", "lee", "omar"]
    assert [s.id for s in roster.by_name(JOSE_NFD)] == ["jose"]
    assert [s.id for s in roster.by_name("garciajose")] == ["jose"]  # Canvas's "lastfirst"


def test_ids_differing_in_case_are_one_student_when_the_roster_has_one(roster):
    """Are KIM and kim the roster's one Kim?"""
    assert roster.by_id("KIM").id == "Kim" and roster.by_id("kim").id == "Kim"


def test_ids_differing_in_case_collide_when_the_roster_has_several(tmp_path):
    """With kim and KIM both on the roster, is 'Kim' ambiguous and are their folders distinct ignoring case?"""
    roster = load_roster(write(tmp_path / "r.csv", "id,name,email\nkim,Kim A,a@x\nKIM,Kim B,b@x\n"))
    assert roster.by_id("Kim") is None and len(roster.ambiguous_id("Kim")) == 2
    assert roster.by_id("KIM").name == "Kim B"
    folders = [roster.folder("kim"), roster.folder("KIM")]
    assert len({f.casefold() for f in folders}) == 2


def test_folder_names_are_safe(tmp_path):
    """Are reserved, hidden and path-like ids turned into plain folder names?"""
    names = folder_names(["gradebook.csv", "../evil", "CON", ".hidden", "a/b"])
    assert all("/" not in n and not n.startswith(".") and n.casefold() not in ("gradebook.csv", "con")
               for n in names.values())


def test_roster_errors_name_the_file_and_line(tmp_path):
    with pytest.raises(CourseError, match="line 3"):
        load_roster(write(tmp_path / "r.csv", "id,name,email\na,A,a@x\na,B,b@x\n"))
    with pytest.raises(CourseError, match="missing email"):
        load_roster(write(tmp_path / "r2.csv", "id,name\na,A\n"))


def test_roster_on_the_command_line_wins_over_the_course_file(tmp_path):
    """Does --roster replace the course file's roster, and is ./course.toml found without --course?"""
    from grader.course.roster import resolve_course

    write(tmp_path / "course.toml", 'roster = "old.csv"\n')
    write(tmp_path / "old.csv", "id,name,email\nold,Old,o@x\n")
    write(tmp_path / "new.csv", "id,name,email\nnew,New,n@x\n")
    course, roster = resolve_course(None, None, search=tmp_path)
    assert course.path == tmp_path / "course.toml" and [s.id for s in roster.students] == ["old"]
    _, roster = resolve_course(None, tmp_path / "new.csv", search=tmp_path)
    assert [s.id for s in roster.students] == ["new"]


def test_course_file_needs_time_zones(tmp_path):
    """Is a deadline without a time zone refused rather than guessed?"""
    write(tmp_path / "course.toml", '[exercises.exercise1]\ndeadline = "2026-12-01T23:59:00"\n')
    with pytest.raises(CourseError, match="time zone"):
        load_course(tmp_path / "course.toml")


# -- LMS layouts -----------------------------------------------------------------------------------
def canvas_download(root: Path) -> Path:
    """Canvas bulk download: flat files, lastfirst names, LATE tags, a resubmission, two files, a .pdf."""
    d = root / "canvas"
    write(d / "garciajose_1001_5001_losses.py", "# first upload\n")
    write(d / "garciajose_1001_5001_losses-1.py", "# resubmitted\n")
    write(d / "minjikim_LATE_1002_5002_losses.py")
    write(d / "minjikim_LATE_1002_5002_helpers.py", "X = 1\n")
    write(d / "scullydana_1003_5003_losses.pdf", "%PDF-1.4")
    write(d / "strangerdanger_9999_5009_losses.py")
    return d


def test_canvas_download(tmp_path, roster):
    """Canvas: one hand-in per student, newest resubmission, LATE flag, a .pdf kept but ungradable."""
    matching = lms.match_download(canvas_download(tmp_path), roster)
    jose, kim, dana = (matching.handins[i] for i in ("jose", "Kim", "dana"))
    assert jose.layout == "canvas" and list(jose.files) == ["losses.py"]
    assert jose.files["losses.py"].name == "garciajose_1001_5001_losses-1.py"
    assert kim.late_flag and sorted(kim.files) == ["helpers.py", "losses.py"] and not jose.late_flag
    assert not dana.gradable
    assert "lee" not in matching.handins
    assert [u.entry for u in matching.unmatched] == ["strangerdanger_9999_5009_losses.py"]


def moodle_download(root: Path) -> Path:
    """Moodle: one folder per participant; one name decomposed, one flat-file entry."""
    d = root / "moodle"
    write(d / f"{JOSE_NFD}_1001_assignsubmission_file_" / "losses.py")
    write(d / "Kim Minji_1002_assignsubmission_file_" / "exercise1" / "losses.py")
    write(d / "Kim Minji_1002_assignsubmission_file_" / "notes.txt", "hi")
    write(d / "Lee Jun_1004_assignsubmission_file_losses.rar", "Rar!")
    write(d / "Dana Scully_1003_assignsubmission_file" / "losses.py")  # no trailing underscore
    write(d / "Nobody Known_4242_assignsubmission_file_" / "losses.py")
    return d


def test_moodle_download(tmp_path, roster):
    """Moodle: participant folders (NFD name too), a flat file entry, an unknown participant."""
    matching = lms.match_download(moodle_download(tmp_path), roster)
    assert matching.handins["jose"].gradable
    assert sorted(matching.handins["Kim"].files) == ["exercise1/losses.py", "notes.txt"]
    assert not matching.handins["lee"].gradable  # .rar only
    assert list(matching.handins["dana"].files) == ["losses.py"]
    assert [u.entry for u in matching.unmatched] == ["Nobody Known_4242_assignsubmission_file_"]


GRADESCOPE_METADATA = """---
submission_111:
  :submitters:
  - :name: José García
    :sid: '1001'
    :email: jose@uni.example
  :created_at: 2026-12-02 01:30:00.123456789 +09:00
  :score: 
  :status: unprocessed
submission_222:
  :submitters:
  - :name: Kim Minji
    :sid: '1002'
    :email: KIM@uni.example
  - :name: Dana Scully
    :sid: '9'
    :email: dana@uni.example
  :created_at: 2026-12-01 10:00:00 -08:00
submission_333:
  :submitters:
  - :name: Someone Else
    :sid: '77'
    :email: else@elsewhere.example
  :created_at: 2026-12-01 10:00:00 +00:00
"""


def gradescope_export(root: Path) -> Path:
    d = root / "gradescope"
    write(d / "submission_metadata.yml", GRADESCOPE_METADATA)
    write(d / "submission_111" / "losses.py")
    write(d / "submission_222" / "losses.py")
    write(d / "submission_333" / "losses.py")
    return d


def test_gradescope_export(tmp_path, roster):
    """Gradescope: submitters by sid or email, group members share one hand-in, created_at kept."""
    matching = lms.match_download(gradescope_export(tmp_path), roster)
    assert matching.handins["jose"].submitted_at == datetime(2026, 12, 2, 1, 30, 0, 123456, tzinfo=KST)
    assert matching.handins["dana"].files["losses.py"] == matching.handins["Kim"].files["losses.py"]
    assert matching.handins["Kim"].submitted_at.utcoffset() == timedelta(hours=-8)
    assert [u.entry for u in matching.unmatched] == ["submission_333 (Someone Else)"]


def test_gradescope_export_unzipped_with_its_top_folder(tmp_path, roster):
    gradescope_export(tmp_path / "assignment_77_export")
    matching = lms.match_download(tmp_path / "assignment_77_export", roster)
    assert sorted(matching.handins) == ["Kim", "dana", "jose"]


def test_plain_entries_by_id_email_and_case(tmp_path):
    """Plain folders/files by id or email; KIM/ and kim.py are the roster's one Kim, merged into one."""
    roster = load_roster(write(tmp_path / "r.csv", "id,name,email\nkim,Kim,kim@x.example\nlee,Lee,lee@x.example\n"
                                                   "ana,Ana,ana@x.example\nANA,Ana 2,ana2@x.example\n"))
    d = tmp_path / "plain"
    write(d / "KIM" / "losses.py")
    write(d / "kim" / "helpers.py", "Y = 2\n")
    write(d / "lee@x.example.py")
    write(d / "Ana" / "losses.py")
    matching = lms.match_download(d, roster)
    assert sorted(matching.handins["kim"].files) == ["helpers.py", "losses.py"]
    assert matching.handins["lee"].files["lee@x.example.py"].name == "lee@x.example.py"
    assert "ana" not in matching.handins and "ANA" not in matching.handins
    assert matching.unmatched[0].entry == "Ana" and "collision" in matching.unmatched[0].why


def test_name_in_composed_and_decomposed_form_is_one_student(tmp_path, roster):
    """Two folders named José García, one NFC and one NFD (as macOS writes it): one hand-in of both files."""
    d = tmp_path / "plain"
    write(d / JOSE / "losses.py")
    write(d / JOSE_NFD / "helpers.py", "Z = 3\n")
    assert JOSE != JOSE_NFD and len(list(d.iterdir())) == 2
    matching = lms.match_download(d, roster)
    assert list(matching.handins) == ["jose"] and sorted(matching.handins["jose"].files) == ["helpers.py", "losses.py"]


def test_staging_gives_each_student_one_entry(tmp_path, roster):
    """Is a multi-file hand-in staged as one folder, one file as one file, and a .pdf not at all?"""
    matching = lms.match_download(canvas_download(tmp_path), roster)
    staging = tmp_path / "staged"
    assert lms.stage(matching.handins["jose"], "jose", staging).read_text() == "# resubmitted\n"
    assert sorted(p.name for p in lms.stage(matching.handins["Kim"], "Kim", staging).iterdir()) == \
        ["helpers.py", "losses.py"]
    assert lms.stage(matching.handins["dana"], "dana", staging) is None


# -- late policy and overrides -----------------------------------------------------------------
def result(score: float = 8.0, max_score: float = 10.0) -> GradeResult:
    return GradeResult("exercise1", checks=[
        CheckResult("softmax_rows", max_score - 2, "public", "passed" if score >= max_score - 2 else "failed",
                    score=min(score, max_score - 2)),
        CheckResult("hidden_big", 2.0, "hidden", "passed" if score > max_score - 2 else "failed",
                    score=max(0.0, score - (max_score - 2)))])


@pytest.fixture
def course(tmp_path):
    write(tmp_path / "course.toml", """roster = "roster.csv"
[exercises.exercise1]
deadline = "2026-12-01T23:59:00+09:00"
late_penalty_per_day = 0.10
last_day = "2026-12-08T23:59:00+09:00"
[extensions]
dana = { exercise1 = "2026-12-03T23:59:00+09:00" }
""")
    return load_course(tmp_path / "course.toml")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_deadline_compares_times_across_time_zones(course):
    """Is 14:59 UTC on time for a 23:59 +09:00 deadline, and 15:00 UTC one started day late?"""
    on_time = adjust(result(10), student="jose", course=course, submitted_at=at("2026-12-01T14:59:00+00:00"))
    assert on_time.lateness.days_late == 0 and on_time.final == 10 and on_time.reasons == []
    late = adjust(result(10), student="jose", course=course, submitted_at=at("2026-12-01T15:00:00+00:00"))
    assert late.lateness.days_late == 1 and late.penalty == 1.0 and late.final == 9.0


def test_penalty_per_started_day_and_last_day(course):
    """Two days and a minute late cost 30 %; after last_day the score is 0; the report says why."""
    late = adjust(result(8), student="jose", course=course, submitted_at=at("2026-12-04T00:00:00+09:00"))
    assert late.lateness.days_late == 3 and late.raw == 8 and late.penalty == pytest.approx(2.4)
    assert late.final == pytest.approx(5.6) and "3 started days" in late.reasons[0]
    gone = adjust(result(8), student="jose", course=course, submitted_at=at("2026-12-09T00:00:00+09:00"))
    assert gone.final == 0 and "last day" in gone.reasons[0]


def test_extension_moves_deadline_and_last_day(course):
    """Dana's extension to Dec 3: on time on Dec 3, one day late on Dec 4, accepted after Dec 8."""
    on_time = adjust(result(10), student="dana", course=course, submitted_at=at("2026-12-03T20:00:00+09:00"))
    assert on_time.final == 10 and "extension" in on_time.reasons[0]
    one_day = adjust(result(10), student="dana", course=course, submitted_at=at("2026-12-04T10:00:00+09:00"))
    assert one_day.final == 9 and "extended deadline" in one_day.reasons[0]
    assert adjust(result(10), student="dana", course=course,
                  submitted_at=at("2026-12-09T12:00:00+09:00")).lateness.last_day > course.policy("exercise1").last_day


def test_canvas_late_without_time_is_flagged_not_guessed(course):
    adjusted = adjust(result(10), student="jose", course=course, late_flag=True)
    assert adjusted.lateness.late and adjusted.lateness.days_late is None
    assert adjusted.final == 10 and "time is unknown" in adjusted.reasons[0]


def test_overrides_per_check_then_total(tmp_path, course, roster):
    """A check override changes raw (before the penalty); a total override sets the final score."""
    write(tmp_path / "overrides.csv", "student,exercise,check,points,reason\n"
                                      "JOSE,exercise1,hidden_big,2,regrade request: grader bug\n"
                                      "kim,exercise1,,7.5,academic integrity hearing\n")
    overrides = load_overrides(course.overrides_path, roster)
    jose = adjust(result(8), student="jose", course=course, overrides=overrides,
                  submitted_at=at("2026-12-02T10:00:00+09:00"))
    assert jose.raw == 10 and jose.penalty == 1 and jose.final == 9
    assert "grader bug" in jose.reasons[0] and "hidden_big" not in jose.reasons[0]  # no hidden check named
    kim = adjust(result(3), student="Kim", course=course, overrides=overrides)
    assert kim.final == 7.5 and "academic integrity" in kim.reasons[-1]


def test_submitted_at_csv(tmp_path, roster):
    times = load_submitted_at(write(tmp_path / "t.csv", "student,submitted_at\nKIM,2026-12-02T10:00:00Z\n"), roster)
    assert times == {"Kim": datetime(2026, 12, 2, 10, tzinfo=timezone.utc)}
    with pytest.raises(CourseError, match="not on the roster"):
        load_submitted_at(write(tmp_path / "u.csv", "student,submitted_at\nzed,2026-12-02T10:00:00Z\n"), roster)


# -- a class without grading: statuses and exports ------------------------------------------------
def fake_grade(out: Path, record_students: list[dict], scores: dict[str, float]) -> None:
    """Write result.json files as the batch would, for the staged students."""
    for student in record_students:
        if student["id"] in scores:
            r = result(scores[student["id"]])
            r.student, r.submission_hash = student["folder"], student["hash"]
            write(out / student["folder"] / "result.json", r.to_json())
            write(out / student["folder"] / "report.html", "<html><body><main>\n<h1>x</h1></main></body></html>")


def test_every_roster_student_gets_a_row_and_exports_follow_lms_layouts(tmp_path, roster, course):
    out = tmp_path / "out"
    prepared = prepare_batch(canvas_download(tmp_path), out, "exercise1", roster, course,
                             {"jose": at("2026-12-02T12:00:00+09:00")})
    assert sorted(p.name for p in prepared.staged.iterdir()) == ["Kim", "jose.py"]
    fake_grade(out, prepared.record["students"], {"jose": 10, "Kim": 6})
    rows = finish_course(out, course)
    status = {r.student["id"]: r.status for r in rows}
    assert status == {"jose": "complete", "Kim": "graded", "dana": "unreadable", "lee": "missing", "omar": "missing"}
    book = list(csv.DictReader(io.StringIO((out / "gradebook.csv").read_text(encoding="utf-8"))))
    jose = next(r for r in book if r["student"] == "jose")
    assert (jose["raw"], jose["penalty"], jose["score"], jose["days_late"]) == ("10", "1", "9", "1")
    assert next(r for r in book if r["student"] == "lee")["score"] == "0"
    assert "1 started day" in (out / "jose" / "report.html").read_text()

    canvas = exports.export_canvas([rows])
    assert canvas.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(canvas[1:])))
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "exercise1"]
    assert table[1][0].strip() == "Points Possible" and table[1][5] == "10"
    assert table[2] == [JOSE, "1001", "S-1", "jose", "A", "9"]
    assert {t[3]: t[5] for t in table[2:]} == {"jose": "9", "Kim": "6", "dana": "", "lee": "0", "omar": "0"}

    moodle = list(csv.reader(io.StringIO(exports.export_moodle([rows])[1:])))
    assert moodle[0] == ["Full name", "ID number", "Email address", "exercise1"]
    assert moodle[1] == [JOSE, "S-1", "jose@uni.example", "9"] and len(moodle) == 6

    merged = list(csv.DictReader(io.StringIO(exports.export_csv([rows])[1:])))
    assert merged[0]["student"] == "points_possible" and merged[0]["exercise1 final"] == "10"
    assert merged[1]["exercise1 raw"] == "10" and merged[1]["exercise1 penalty"] == "1"
    assert merged[3]["exercise1 status"] == "unreadable"


def test_results_of_an_older_download_are_not_used(tmp_path, roster, course):
    """When a student's files changed since grading, is the row pending rather than the old grade?"""
    out = tmp_path / "out"
    prepared = prepare_batch(canvas_download(tmp_path), out, "exercise1", roster, course)
    fake_grade(out, prepared.record["students"], {"jose": 10})
    write(tmp_path / "canvas" / "garciajose_1001_5001_losses-2.py", "# third try\n")
    prepare_batch(tmp_path / "canvas", out, "exercise1", roster, course)
    assert {r.student["id"]: r.status for r in class_rows(out, course)}["jose"] == "pending"


def test_exports_of_several_exercises_add_up_per_student(tmp_path, roster, course):
    """Two exercises: one column each in Canvas, and the csv's total counts missing work as 0."""
    out = tmp_path / "out"
    prepared = prepare_batch(canvas_download(tmp_path), out, "exercise1", roster, course)
    fake_grade(out, prepared.record["students"], {"jose": 10, "Kim": 6})
    first = class_rows(out, course)
    second = [ClassRow(dict(r.student), "exercise2", r.status, r.result, r.adjusted) for r in first]
    canvas = list(csv.reader(io.StringIO(exports.export_canvas([first, second])[1:])))
    assert canvas[0][5:] == ["exercise1", "exercise2"] and canvas[1][5:] == ["10", "10"]
    merged = {r["student"]: r for r in csv.DictReader(io.StringIO(exports.export_csv([first, second])[1:]))}
    assert merged["points_possible"]["total"] == "20"
    assert merged["jose"]["total"] == "20" and merged["Kim"]["total"] == "12" and merged["lee"]["total"] == "0"
