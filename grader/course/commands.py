"""The course layer's command-line surface, kept apart from grader/cli.py:

- `course_batch_options` adds `--roster`, `--course` and `--submitted-at` to `grade batch`:
  with a roster it matches the download to it, grades the staged copy, and rewrites the
  gradebook with one row per roster student (grader/course/classlist.py);
- `course_gradebook_options` adds `--format csv|canvas|moodle`, `--roster` and `--course` to
  `grade gradebook`;
- `feedback` is `grade feedback OUT --out DIR`.

Options on the command line win over the course file; without --course, `course.toml` in
the current folder is used when there is one. Without a roster every command behaves as before.
"""

from __future__ import annotations

import functools
import html
import shutil
import zipfile
from pathlib import Path

import click

from grader.course.roster import CourseError
from grader.i18n import LANGUAGES, _, choose_language, current_language, use_language

PATH = click.Path(path_type=Path)


def use_course_language(code: str | None) -> None:
    """The course file's language, unless --lang was given on the command line (it wins)."""
    from click.core import ParameterSource

    context = click.get_current_context(silent=True)
    given = context is not None and context.get_parameter_source("lang") == ParameterSource.COMMANDLINE
    if code and not given:
        use_language(choose_language(None, course=code))


def _course(course_file: Path | None, roster_file: Path | None):
    from grader.course.roster import resolve_course

    try:
        course, roster = resolve_course(course_file, roster_file, search=Path.cwd())
    except CourseError as exc:
        raise click.UsageError(str(exc)) from None
    use_course_language(course.language if course else None)
    if course is not None and roster is None and course_file is not None:
        raise click.UsageError(_("{path} names no roster: add `roster = \"roster.csv\"` or pass --roster")
                               .format(path=course.path))
    return course, roster


# -- grade batch -------------------------------------------------------------------------------------
def course_batch_options(command):
    """Wrap the `grade batch` callback: with a roster, grade the download as matched to it."""

    @click.option("--submitted-at", "submitted_at_file", type=PATH, default=None,
                  help="CSV student,submitted_at (ISO 8601 with time zone) for layouts that carry no time.")
    @click.option("--course", "course_file", type=PATH, default=None,
                  help="The course file (default: ./course.toml when there is one).")
    @click.option("--roster", "roster_file", type=PATH, default=None,
                  help="Roster CSV id,name,email[,lms_id,sis_id,section]; wins over the course file's.")
    @functools.wraps(command)
    def wrapper(*args, roster_file=None, course_file=None, submitted_at_file=None, **kwargs):
        from grader.course.regrade import snapshot

        course, roster = _course(course_file, roster_file)
        if roster is None and submitted_at_file:
            raise click.UsageError(_("--submitted-at needs a roster (--roster or a course file)"))
        before = snapshot(kwargs["out"])
        try:
            if roster is None:
                return command(*args, **kwargs)
            return _course_batch(command, args, kwargs, course, roster, submitted_at_file)
        finally:
            _report_regrades(Path(kwargs["out"]), before)

    return wrapper


def _course_batch(command, args, kwargs, course, roster, submitted_at_file):
    from grader.catalog import EXERCISES
    from grader.course.classlist import finish_course, prepare_batch
    from grader.course.policy import load_overrides, load_submitted_at

    submissions, out = kwargs["submissions"], kwargs["out"]
    if kwargs["exercise_name"] not in EXERCISES:
        raise click.UsageError(_("unknown exercise {name}; exercises: {exercises}").format(
            name=repr(kwargs["exercise_name"]), exercises=", ".join(EXERCISES)))
    if not Path(submissions).is_dir():
        raise click.UsageError(_("{path} is not a folder; pass the folder of the LMS download").format(path=submissions))
    try:
        times = load_submitted_at(submitted_at_file, roster) if submitted_at_file else {}
        load_overrides(course.overrides_path if course else None, roster)  # a typo there stops us before grading
        prepared = prepare_batch(submissions, out, kwargs["exercise_name"], roster, course, times)
    except CourseError as exc:
        raise click.UsageError(str(exc)) from None
    for entry in prepared.matching.unmatched:
        click.echo(_("warning: {entry} matches no roster student: {why}").format(entry=entry.entry, why=entry.why),
                   err=True)
    for warning in prepared.matching.warnings:
        click.echo(_("warning: {message}").format(message=warning), err=True)
    try:
        if any(prepared.staged.iterdir()):
            command(*args, **dict(kwargs, submissions=prepared.staged))
    finally:
        try:
            rows = finish_course(out, course)
        except CourseError as exc:  # overrides.csv edited while the batch ran
            raise click.UsageError(str(exc)) from None
        counts = {}
        for row in rows:
            counts[row.status] = counts.get(row.status, 0) + 1
        statuses = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))  # status words are the gradebook's
        line = _("Roster: {count} students — {statuses}").format(count=len(rows), statuses=statuses)
        if prepared.matching.unmatched:
            line += "; " + _("{count} entries matched no one (see {file})").format(
                count=len(prepared.matching.unmatched), file=out / "course.json")
        click.echo(line)


def _report_regrades(out: Path, before) -> None:
    """After a run that regraded unchanged submissions under changed checks: regrade.csv and a line."""
    from grader.course.classlist import inject
    from grader.course.regrade import REGRADE_FILE, write_regrade

    count = write_regrade(out, before)
    if count:
        line = _("{count} students' points changed because the checks, reference or limits changed; see {file} "
                 "(student, check, old, new) before publishing.").format(count=count, file=out / REGRADE_FILE)
        click.echo(line, err=True)
        if (out / "summary.html").is_file():
            inject(out / "summary.html", "regrade", f'<p class="summary-card" id="regrade">{html.escape(line)}</p>')


# -- grade gradebook ---------------------------------------------------------------------------------
def course_gradebook_options(command):
    """Wrap the `grade gradebook` callback: --format canvas|moodle, or csv with a roster."""

    @click.option("--course", "course_file", type=PATH, default=None, help="The course file (late policy, overrides).")
    @click.option("--roster", "roster_file", type=PATH, default=None,
                  help="Roster CSV: refreshes names, emails and LMS ids in the export.")
    @click.option("--format", "export_format", type=click.Choice(["csv", "canvas", "moodle"]), default="csv",
                  show_default=True, help="csv: all columns; canvas / moodle: the LMS's grade import.")
    @functools.wraps(command)
    def wrapper(*args, export_format="csv", roster_file=None, course_file=None, **kwargs):
        from grader.course.classlist import load_record

        outs = kwargs["outs"]
        with_course = all(Path(o).is_dir() and load_record(o) is not None for o in outs)
        if export_format == "csv" and not with_course and not roster_file and not course_file:
            return command(*args, **kwargs)
        if not with_course:
            first = next(o for o in outs if not (Path(o).is_dir() and load_record(o) is not None))
            raise click.UsageError(_("{out} was graded without a roster; rerun `grade batch ... --out {out} "
                                     "--roster FILE` (unchanged students are not regraded)").format(out=first))
        _export(outs, kwargs["out_file"], export_format, roster_file, course_file)

    return wrapper


def _export(outs, out_file: Path, export_format: str, roster_file, course_file) -> None:
    from grader.course.classlist import class_rows
    from grader.report.exports import EXPORTS
    from grader.results import write_atomic

    course, roster = _course(course_file, roster_file)
    try:
        books = [class_rows(Path(o), course) for o in outs]
    except CourseError as exc:
        raise click.UsageError(str(exc)) from None
    if roster is not None:
        for rows in books:
            for row in rows:
                fresh = roster.by_id(row.student["id"])
                if fresh is not None:
                    row.student.update(name=fresh.name, email=fresh.email, lms_id=fresh.lms_id,
                                       sis_id=fresh.sis_id, section=fresh.section)
    if export_format == "canvas":
        without = [r.student["id"] for r in books[0] if not r.student.get("lms_id") and not r.student.get("sis_id")]
        if without:
            click.echo(_("warning: {count} students have neither lms_id nor sis_id (e.g. {example}); Canvas "
                         "matches them by SIS Login ID only").format(count=len(without), example=without[0]), err=True)
    write_atomic(Path(out_file), EXPORTS[export_format](books))
    click.echo(_("Wrote {file} ({format}): {count} students, {exercises}").format(
        file=out_file, format=export_format, count=len(books[0]) if books else 0,
        exercises=", ".join(sorted({r.exercise for b in books for r in b}))))


# -- grade feedback ----------------------------------------------------------------------------------
MOODLE_ZIP = "moodle-feedback.zip"


@click.command("feedback")
@click.argument("out", type=PATH)
@click.option("--out", "target", type=PATH, required=True, help="Folder to write one folder per student to.")
@click.option("--lang", type=click.Choice(LANGUAGES), default=None,
              help="Language of the reports: ko or en (default: the course file's, else your locale's).")
def feedback(out: Path, target: Path, lang: str | None) -> None:
    """Feedback ready to hand back: one folder per roster student (report.html and feedback.html,
    the student's copies) and moodle-feedback.zip for Moodle's "Upload multiple feedback files in a zip".
    The reports are drawn again from each result.json in the chosen language."""
    from grader.course.classlist import load_record
    from grader.course.roster import course_language

    record = load_record(Path(out)) or {}
    course = course_language(Path(record["course"])) if record.get("course") else course_language(Path.cwd())
    use_language(choose_language(lang, course=course))
    try:
        written, zipped = write_feedback(out, target)
    except CourseError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(_("Wrote {count} student folders to {target} and {zip} ({zipped} students)").format(
        count=written, target=target, zip=target / MOODLE_ZIP, zipped=zipped))


def write_feedback(out: Path, target: Path) -> tuple[int, int]:
    """The students' copies only: instructor.html and result.json never leave OUT. report.html is
    drawn again from the result, in the current language; a notebook's feedback.html is copied."""
    from grader.course.classlist import adjustments_block, class_rows, inject
    from grader.report.html import render_report

    rows = class_rows(Path(out))
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    zip_path = target / MOODLE_ZIP
    zipped = 0
    with zipfile.ZipFile(zip_path.with_suffix(".tmp"), "w", zipfile.ZIP_DEFLATED) as archive:
        for row in rows:
            folder = target / row.student["folder"]
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            source = Path(out) / row.student["folder"]
            report = source / "report.html"
            if row.result is not None and report.is_file():
                report = folder / "report.html"
                report.write_text(render_report(row.result, "student"), encoding="utf-8")
                inject(report, "adjustments", adjustments_block(row))
                notebook = source / "feedback.html"
                shutil.copyfile(notebook if notebook.is_file() else report, folder / "feedback.html")
            else:
                page = _no_result_page(row)
                (folder / "report.html").write_text(page, encoding="utf-8")
                (folder / "feedback.html").write_text(page, encoding="utf-8")
            if row.student.get("lms_id"):
                prefix = f"{row.student['name'].replace('_', ' ')}_{row.student['lms_id']}_assignfeedback_file_"
                for name in ("report.html", "feedback.html"):
                    archive.write(folder / name, prefix + name)
                zipped += 1
    zip_path.with_suffix(".tmp").replace(zip_path)
    return len(rows), zipped


def _no_result_page(row) -> str:
    why = {"missing": _("No submission was received."),
           "unreadable": _("Your submission could not be read: hand in a .py file, a .ipynb notebook or a .zip."),
           "pending": _("Your submission has not been graded yet.")}.get(row.status, row.status)
    notes = [*row.student.get("notes", []), *(row.adjusted.reasons if row.adjusted else [])]
    items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    return (f"<!DOCTYPE html><html lang=\"{current_language()}\"><head><meta charset=\"utf-8\"><title>{html.escape(row.exercise)}"
            f"</title></head><body><h1>{html.escape(row.exercise)} · {html.escape(row.student['id'])}</h1>"
            f"<p>{html.escape(why)}</p>" + (f"<ul>{items}</ul>" if items else "") + "</body></html>")
