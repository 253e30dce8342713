"""The course file and the roster: who the students are, and where each one's files go.

`course.toml` at the course root (or `--course FILE`) names the roster, each exercise's
deadline and late policy, and per-student extensions:

    roster = "roster.csv"
    language = "ko"            # reports and messages in Korean unless --lang says otherwise
    [exercises.exercise1]
    deadline = "2026-12-01T23:59:00+09:00"
    late_penalty_per_day = 0.10
    last_day = "2026-12-08T23:59:00+09:00"
    [extensions]
    dana = { exercise1 = "2026-12-03T23:59:00+09:00" }

The roster is a CSV with `id,name,email` and optionally `lms_id` (Canvas user id, Moodle
participant id or Gradescope sid), `sis_id` and `section`. Every text is compared after
Unicode NFC normalisation, so "José" typed on macOS (decomposed) and on Windows (composed)
is one name. An id that differs from a roster id only in case is that student when the
roster has only one such id; when it has several, the lookup is ambiguous and the caller
reports a collision instead of guessing.

Each student gets an output folder name (`Roster.folder`) that stays distinct on
case-insensitive file systems (macOS, Windows): ids that differ only in case get a short
suffix derived from the id itself, so the name is the same on every run.
"""

from __future__ import annotations

import csv
import hashlib
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from grader.i18n import LANGUAGES, _, normalise

COURSE_FILE = "course.toml"
OVERRIDES_FILE = "overrides.csv"
REQUIRED_COLUMNS = ("id", "name", "email")
OPTIONAL_COLUMNS = ("lms_id", "sis_id", "section")
EXERCISE_KEYS = {"deadline", "late_penalty_per_day", "last_day"}
RESERVED_FOLDERS = {"gradebook.csv", "summary.html", "con", "prn", "aux", "nul",
                    *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
"""Names a student's folder may not take: the batch's own files, and names Windows reserves."""


class CourseError(ValueError):
    """The course file, roster or overrides cannot be used; the message names file and line."""


def nfc(text: str) -> str:
    """The one normal form every name, id and email is compared in."""
    return unicodedata.normalize("NFC", text or "").strip()


def fold(text: str) -> str:
    """Case-insensitive key of an id or email (NFC first, then Unicode case folding)."""
    return nfc(text).casefold()


def name_key(text: str) -> str:
    """A person's name reduced to its letters, without accents or case: LMS downloads spell
    names as "garciajose" (Canvas) or "José García" (Moodle); both reduce to comparable keys."""
    decomposed = unicodedata.normalize("NFKD", nfc(text)).casefold()
    return "".join(ch for ch in decomposed if ch.isalnum() and not unicodedata.combining(ch))


@dataclass(frozen=True)
class RosterStudent:
    id: str
    name: str
    email: str
    lms_id: str = ""
    sis_id: str = ""
    section: str = ""


@dataclass
class Roster:
    students: list[RosterStudent]
    path: Path | None = None
    folders: dict[str, str] = field(default_factory=dict)
    """Roster id -> output folder name, distinct even where case is ignored."""

    def __post_init__(self):
        if not self.folders:
            self.folders = folder_names([s.id for s in self.students])

    def folder(self, student_id: str) -> str:
        return self.folders[student_id]

    def by_id(self, student_id: str) -> RosterStudent | None:
        """Exactly this id, else the one roster id equal to it ignoring case (None when several are)."""
        exact = [s for s in self.students if s.id == nfc(student_id)]
        if exact:
            return exact[0]
        folded = [s for s in self.students if fold(s.id) == fold(student_id)]
        return folded[0] if len(folded) == 1 else None

    def ambiguous_id(self, student_id: str) -> list[RosterStudent]:
        """The roster ids an id matches ignoring case, when there is more than one and none exactly."""
        if any(s.id == nfc(student_id) for s in self.students):
            return []
        folded = [s for s in self.students if fold(s.id) == fold(student_id)]
        return folded if len(folded) > 1 else []

    def by_email(self, email: str) -> RosterStudent | None:
        found = [s for s in self.students if s.email and fold(s.email) == fold(email)]
        return found[0] if len(found) == 1 else None

    def by_lms_id(self, lms_id: str) -> RosterStudent | None:
        found = [s for s in self.students if s.lms_id and s.lms_id == nfc(lms_id)]
        return found[0] if len(found) == 1 else None

    def by_name(self, name: str) -> list[RosterStudent]:
        """Students whose name has the same letters, in the given order or as "last first"."""
        key = name_key(name)
        if not key:
            return []
        return [s for s in self.students if key in _name_orders(s.name)]

    def get(self, student_id: str) -> RosterStudent:
        return next(s for s in self.students if s.id == student_id)


def _name_orders(name: str) -> set[str]:
    words = [w for w in re.split(r"\s+", nfc(name)) if w]
    orders = {name_key(name)}
    if len(words) > 1:  # Canvas writes "lastfirst": the last word first
        orders.add(name_key(" ".join(words[-1:] + words[:-1])))
    return orders


def folder_names(ids: list[str]) -> dict[str, str]:
    """Output folder names for roster ids: safe characters, never a reserved or hidden name,
    and distinct when compared without case (ids equal but for case get a stable suffix)."""
    bases = {student_id: _safe(student_id) for student_id in ids}
    groups: dict[str, list[str]] = {}
    for student_id, base in bases.items():
        groups.setdefault(base.casefold(), []).append(student_id)
    names = {}
    for members in groups.values():
        for student_id in members:
            base = bases[student_id]
            if len(members) > 1:
                base += "-" + hashlib.sha256(student_id.encode()).hexdigest()[:6]
            names[student_id] = base
    return names


def _safe(student_id: str) -> str:
    name = re.sub(r"[^\w.@+-]", "_", nfc(student_id)).strip(". ")
    if not name or name.startswith("__") or name.casefold() in RESERVED_FOLDERS or \
            name.split(".")[0].casefold() in RESERVED_FOLDERS:
        name = f"student-{name}"
    return name


def load_roster(path: Path) -> Roster:
    """Read a roster CSV (UTF-8, with or without a byte-order mark)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise CourseError(_("{path}: cannot read the roster ({error})").format(path=path, error=exc.strerror or exc)) \
            from None
    except UnicodeDecodeError:
        raise CourseError(_("{path}: the roster is not UTF-8; save it as 'CSV UTF-8'").format(path=path)) from None
    reader = csv.DictReader(text.splitlines())
    columns = [nfc(c).lower() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise CourseError(_("{path}: the roster needs the columns {columns} (missing {missing}); optional: "
                            "{optional}").format(path=path, columns=", ".join(REQUIRED_COLUMNS),
                                                 missing=", ".join(missing), optional=", ".join(OPTIONAL_COLUMNS)))
    reader.fieldnames = columns
    students, seen = [], {}
    for line, row in enumerate(reader, start=2):
        values = {k: nfc(row.get(k) or "") for k in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}
        if not values["id"]:
            raise CourseError(_("{path}, line {line}: a student without an id").format(path=path, line=line))
        if values["id"] in seen:
            raise CourseError(_("{path}, line {line}: id {id} is also on line {other}").format(
                path=path, line=line, id=repr(values["id"]), other=seen[values["id"]]))
        seen[values["id"]] = line
        students.append(RosterStudent(**values))
    return Roster(students, path)


# -- the course file --------------------------------------------------------------------------
@dataclass(frozen=True)
class ExercisePolicy:
    deadline: datetime | None = None
    late_penalty_per_day: float = 0.0
    """Fraction of the score lost per started day after the deadline."""
    last_day: datetime | None = None
    """Submissions after it score 0."""


@dataclass
class Course:
    path: Path | None
    roster_path: Path | None
    exercises: dict[str, ExercisePolicy] = field(default_factory=dict)
    extensions: dict[str, dict[str, datetime]] = field(default_factory=dict)
    """Roster id -> exercise -> the student's own deadline."""
    language: str | None = None
    """The language of reports and messages ("ko", "en") when no --lang is given (grader/i18n.py)."""

    @property
    def overrides_path(self) -> Path | None:
        return self.path.parent / OVERRIDES_FILE if self.path else None

    def policy(self, exercise: str) -> ExercisePolicy:
        return self.exercises.get(exercise, ExercisePolicy())


def parse_time(value, where: str) -> datetime:
    """An ISO 8601 time with its time zone (TOML datetimes or strings)."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise CourseError(_("{where}: {value} is not an ISO 8601 time such as 2026-12-01T23:59:00+09:00")
                              .format(where=where, value=repr(value))) from None
    if moment.tzinfo is None:
        raise CourseError(_("{where}: {value} has no time zone; add one, e.g. +09:00 or Z").format(
            where=where, value=repr(value)))
    return moment


def load_course(path: Path) -> Course:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CourseError(_("{path}: cannot read the course file ({error})").format(
            path=path, error=exc.strerror or exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise CourseError(_("{path}: not valid TOML ({error})").format(path=path, error=exc)) from None
    unknown = set(data) - {"roster", "exercises", "extensions", "language"}
    if unknown:
        raise CourseError(_("{path}: unknown key {key}; known: roster, language, exercises, extensions")
                          .format(path=path, key=repr(sorted(unknown)[0])))
    roster = (path.parent / data["roster"]) if data.get("roster") else None
    course = Course(path=path, roster_path=roster, language=course_file_language(data, path))
    for name, table in (data.get("exercises") or {}).items():
        bad = set(table) - EXERCISE_KEYS
        if bad:
            raise CourseError(_("{path}: [exercises.{name}] has unknown key {key}; known: {known}").format(
                path=path, name=name, key=repr(sorted(bad)[0]), known=", ".join(sorted(EXERCISE_KEYS))))
        penalty = float(table.get("late_penalty_per_day", 0.0))
        if not 0 <= penalty <= 1:
            raise CourseError(_("{path}: [exercises.{name}] late_penalty_per_day is a fraction from 0 to 1").format(
                path=path, name=name))
        course.exercises[name] = ExercisePolicy(
            deadline=parse_time(table["deadline"], f"{path} [exercises.{name}] deadline") if "deadline" in table
            else None,
            late_penalty_per_day=penalty,
            last_day=parse_time(table["last_day"], f"{path} [exercises.{name}] last_day") if "last_day" in table
            else None)
    for student, table in (data.get("extensions") or {}).items():
        course.extensions[nfc(student)] = {ex: parse_time(when, f"{path} [extensions] {student}.{ex}")
                                           for ex, when in table.items()}
    return course


def course_file_language(data: dict, path: Path) -> str | None:
    """The course file's `language`: a code with a catalog (ko, en), or CourseError."""
    code = data.get("language")
    if code is None:
        return None
    if normalise(str(code)) is None:
        raise CourseError(_("{path}: language = {code} has no catalog; use one of: {languages}").format(
            path=path, code=repr(code), languages=", ".join(LANGUAGES)))
    return normalise(str(code))


def course_language(place: Path) -> str | None:
    """The `language` of the course file `place` (or of `place`/course.toml for a folder), or None
    (no file, no key, or a file that does not parse: the command that reads it reports that)."""
    path = Path(place) / COURSE_FILE if Path(place).is_dir() else Path(place)
    try:
        return course_file_language(tomllib.loads(path.read_text(encoding="utf-8")), path)
    except (OSError, ValueError, tomllib.TOMLDecodeError):
        return None


def resolve_course(course_file: Path | None, roster_file: Path | None,
                   search: Path | None = None) -> tuple[Course | None, Roster | None]:
    """The course and roster a command uses: options on the command line win over the course
    file; without --course, `course.toml` in `search` (the current folder) is used if present."""
    if course_file is None and search is not None and (Path(search) / COURSE_FILE).is_file():
        course_file = Path(search) / COURSE_FILE
    course = load_course(course_file) if course_file else None
    roster_path = roster_file or (course.roster_path if course else None)
    roster = load_roster(roster_path) if roster_path else None
    if course and roster:
        for student in course.extensions:
            if roster.by_id(student) is None:
                raise CourseError(_("{path}: [extensions] names {student}, who is not on {roster}").format(
                    path=course.path, student=repr(student), roster=roster.path))
    return course, roster
