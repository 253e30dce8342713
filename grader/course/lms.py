"""Students matched from LMS downloads: every entry of a download folder mapped to a roster student.

Layouts recognised (one download may mix the last three):
- Gradescope's export: `submission_metadata.yml` beside `submission_<id>/` folders; each
  submission's `:submitters:` (name, sid, email) and `:created_at:` time;
- Canvas bulk downloads: flat files `name_[LATE_]userid_submissionid_file`; Canvas renames a
  resubmitted file `file-1.py`, `file-2.py`, ... and the highest number is the newest;
- Moodle downloads: `Full Name_participantid_assignsubmission_file_` folders (or the same
  prefix before each file name when "download in folders" was off);
- plain folders or files named by roster id or email (`kim/`, `kim.py`, `kim@uni.edu.zip`), or
  by the student's name when it fits one roster student only (`José García/`).

Matching: the LMS id first (Canvas user id, Moodle participant id or Gradescope sid = the
roster's `lms_id`), then the id or email, then the name (NFC, letters only). All files of one
student form one hand-in (`Handin`); `stage` copies them to one folder or file per student that
the batch grades under the student's roster folder name. Entries that match no one, or more
than one student, are listed in `Matching.unmatched` with why. Nothing here reads a grade.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from grader.course.roster import Roster, RosterStudent, nfc
from grader.i18n import _

GRADABLE_SUFFIXES = (".py", ".ipynb", ".zip")
GRADESCOPE_METADATA = "submission_metadata.yml"
CANVAS = re.compile(r"^(?P<name>[^_]+)_(?:(?P<late>LATE)_)?(?P<uid>\d+)_(?P<sub>\d+)_(?P<file>.+)$")
MOODLE = re.compile(r"^(?P<name>.+?)_(?P<pid>\d+)_assignsubmission_(?P<plugin>[a-z]+)(?:_(?P<file>.*))?$")
RESUBMITTED = re.compile(r"^(?P<stem>.+)-(?P<n>\d+)(?P<suffix>\.[^.]+)$")
SKIPPED = {"__MACOSX", ".DS_Store", "Thumbs.db", GRADESCOPE_METADATA}


@dataclass
class Handin:
    """One roster student's submission, gathered from every entry of the download that is theirs."""
    student: str
    layout: str
    """canvas, moodle, gradescope or plain."""
    files: dict[str, Path] = field(default_factory=dict)
    """Name inside the staged submission -> the file in the download."""
    sources: list[str] = field(default_factory=list)
    submitted_at: datetime | None = None
    late_flag: bool = False
    """Canvas marked the submission LATE (its time may still be unknown)."""
    notes: list[str] = field(default_factory=list)
    revisions: dict[str, int] = field(default_factory=dict)
    """Staged name -> the resubmission number it came from (Canvas's file-N suffix)."""

    @property
    def gradable(self) -> bool:
        return any(PurePosixPath(name).suffix in GRADABLE_SUFFIXES for name in self.files)


@dataclass(frozen=True)
class Unmatched:
    entry: str
    why: str


@dataclass
class Matching:
    handins: dict[str, Handin] = field(default_factory=dict)
    unmatched: list[Unmatched] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# -- the whole download -----------------------------------------------------------------------
def match_download(folder: Path, roster: Roster, *, skip: Path | None = None) -> Matching:
    """Map every entry of `folder` to a roster student; `skip` is the batch's output folder."""
    folder = Path(folder)
    matching = Matching()
    skip = skip.resolve() if skip else None
    inner = [p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "__"))]
    if not (folder / GRADESCOPE_METADATA).is_file() and len(inner) == 1 and (inner[0] / GRADESCOPE_METADATA).is_file():
        folder = inner[0]  # the export unzipped with its top folder (assignment_<id>_export/)
    if (folder / GRADESCOPE_METADATA).is_file():
        _match_gradescope(folder, roster, matching)
        return matching
    for entry in sorted(folder.iterdir(), key=lambda p: nfc(p.name)):
        if entry.name in SKIPPED or entry.name.startswith(".") or (skip and entry.resolve() == skip):
            continue
        _match_entry(entry, roster, matching)
    return matching


def _match_entry(entry: Path, roster: Roster, matching: Matching) -> None:
    name = nfc(entry.name)
    canvas = CANVAS.match(name) if entry.is_file() else None
    moodle = MOODLE.match(name)
    if canvas and not moodle:
        student, why = _who(roster, lms_id=canvas["uid"], name=canvas["name"])
        if student:
            handin = _handin(matching, student, "canvas", name)
            handin.late_flag |= bool(canvas["late"])
            _add_canvas_file(handin, canvas["file"], entry)
            return
    elif moodle:
        student, why = _who(roster, lms_id=moodle["pid"], name=moodle["name"])
        if student:
            handin = _handin(matching, student, "moodle", name)
            if entry.is_dir():
                _add_tree(handin, entry, matching)
            else:
                _add_file(handin, moodle["file"] or entry.name, entry, matching)
            return
    else:
        stem = name if entry.is_dir() else name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
        student, why = _who(roster, plain=stem)
        if student:
            handin = _handin(matching, student, "plain", name)
            if entry.is_dir():
                _add_tree(handin, entry, matching)
            else:
                _add_file(handin, entry.name, entry, matching)
            return
    matching.unmatched.append(Unmatched(name, why))


def _who(roster: Roster, *, lms_id: str = "", name: str = "", plain: str = "") -> tuple[RosterStudent | None, str]:
    """The roster student an entry belongs to, or None and why not."""
    if lms_id and (student := roster.by_lms_id(lms_id)):
        return student, ""
    if plain:
        if clash := roster.ambiguous_id(plain):
            return None, _("collision: {entry} differs only in case from several roster ids ({ids}); rename the "
                           "entry to the exact id").format(entry=repr(plain), ids=", ".join(s.id for s in clash))
        student = roster.by_id(plain) or (roster.by_email(plain) if "@" in plain else None)
        if student:
            return student, ""
        named = roster.by_name(plain)  # a folder named after the person, as many students do
        if len(named) == 1:
            return named[0], ""
        return None, (_("collision: the name {name} fits {ids}").format(name=repr(plain),
                                                                         ids=", ".join(s.id for s in named)) if named
                      else _("{entry} is no roster id, email or name").format(entry=repr(plain)))
    found = roster.by_name(name)
    if len(found) == 1:
        return found[0], ""
    if len(found) > 1:
        return None, _("collision: the name {name} fits {ids}; add lms_id to the roster").format(
            name=repr(name), ids=", ".join(s.id for s in found))
    return None, _("no roster student has LMS id {lms_id} or the name {name}").format(lms_id=lms_id, name=repr(name))


def _handin(matching: Matching, student: RosterStudent, layout: str, source: str) -> Handin:
    handin = matching.handins.setdefault(student.id, Handin(student.id, layout))
    handin.sources.append(source)
    if handin.layout != layout:
        handin.layout = "mixed"
    return handin


# -- adding files -------------------------------------------------------------------------------
def _add_canvas_file(handin: Handin, filename: str, path: Path) -> None:
    """Canvas names a resubmitted file `losses-1.py`: stage the newest under its own name."""
    revision = 0
    resubmitted = RESUBMITTED.match(filename)
    if resubmitted:
        filename, revision = resubmitted["stem"] + resubmitted["suffix"], int(resubmitted["n"])
    if revision >= handin.revisions.get(filename, -1):
        if filename in handin.files:
            handin.notes.append(_("graded the resubmitted {file}, not the earlier copy of {name}").format(
                file=path.name, name=filename))
        handin.files[filename] = path
        handin.revisions[filename] = revision
    else:
        handin.notes.append(_("graded the newer resubmission of {name}, not {file}").format(name=filename, file=path.name))


def _add_file(handin: Handin, name: str, path: Path, matching: Matching) -> None:
    if name in handin.files and handin.files[name] != path:
        older, newer = sorted([handin.files[name], path], key=lambda p: p.stat().st_mtime)
        matching.warnings.append(_("{student}: two files named {name} ({older} and {newer}); graded the newer one, "
                                   "{newer}").format(student=handin.student, name=name, older=older, newer=newer))
        path = newer
    handin.files[name] = path


def _add_tree(handin: Handin, folder: Path, matching: Matching) -> None:
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not ({"__MACOSX", "__pycache__"} & set(rel.parts)) and path.name not in SKIPPED:
            _add_file(handin, rel.as_posix(), path, matching)


# -- Gradescope ---------------------------------------------------------------------------------
def _match_gradescope(folder: Path, roster: Roster, matching: Matching) -> None:
    metadata = parse_gradescope_metadata((folder / GRADESCOPE_METADATA).read_text(encoding="utf-8"))
    listed = set(metadata)
    for submission, info in metadata.items():
        entry = folder / submission
        for submitter in info.get("submitters", []):
            student = (roster.by_lms_id(submitter.get("sid", "")) or
                       (roster.by_id(submitter["sid"]) if submitter.get("sid") else None) or
                       (roster.by_email(submitter["email"]) if submitter.get("email") else None))
            if student is None:
                found = roster.by_name(submitter.get("name", ""))
                student = found[0] if len(found) == 1 else None
            if student is None:
                matching.unmatched.append(Unmatched(f"{submission} ({submitter.get('name', '?')})",
                                                    _("no roster student has this sid, email or name")))
                continue
            handin = _handin(matching, student, "gradescope", submission)
            handin.submitted_at = info.get("created_at")
            if entry.is_dir():
                _add_tree(handin, entry, matching)
            else:
                handin.notes.append(_("Gradescope lists {submission} but the export has no such folder").format(
                    submission=submission))
    for entry in sorted(folder.iterdir()):
        if entry.name not in listed and entry.name not in SKIPPED and not entry.name.startswith("."):
            matching.unmatched.append(Unmatched(entry.name, _("not listed in {file}").format(file=GRADESCOPE_METADATA)))


def parse_gradescope_metadata(text: str) -> dict[str, dict]:
    """The part of Gradescope's `submission_metadata.yml` the course layer needs.

    The file is Ruby-flavoured YAML (`:submitters:` keys are symbols); only three shapes occur
    in what we read: `submission_<id>:` at the left margin, `:created_at: <time>` inside it,
    and the `:submitters:` list of `- :name: ...` maps. A small reader for exactly those keeps
    PyYAML out of the dependencies; any other key is passed over."""
    result: dict[str, dict] = {}
    current: dict | None = None
    submitter: dict | None = None
    in_submitters = False
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#") or raw.strip() == "---":
            continue
        indent = len(raw) - len(raw.lstrip())
        line = raw.strip()
        if indent == 0:
            key = line.rstrip(":").strip("'\"")
            current = result.setdefault(key, {"submitters": []}) if line.endswith(":") else None
            in_submitters, submitter = False, None
            continue
        if current is None:
            continue
        key, value = _pair(line.lstrip("- ").strip())
        if line.startswith("- ") and in_submitters:
            submitter = {}
            current["submitters"].append(submitter)
        elif not line.startswith("- ") and indent <= 2:
            in_submitters, submitter = key == "submitters", None
            if key == "created_at" and value:
                current["created_at"] = gradescope_time(value)
            continue
        if in_submitters and submitter is not None and key in ("name", "sid", "email"):
            submitter[key] = nfc(value)
    return result


def _pair(text: str) -> tuple[str, str]:
    key, _, value = text.partition(": ") if ": " in text else (text.rstrip(":"), "", "")
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    return key.strip().lstrip(":").rstrip(":"), value


def gradescope_time(value: str) -> datetime | None:
    """`2026-12-01 10:15:30.123456789 -08:00` (Gradescope) or ISO 8601 -> an aware datetime."""
    found = re.match(r"(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.(\d+))?\s*(Z|[+-]\d\d:?\d\d)?", value.strip())
    if not found:
        return None
    date, time, fraction, zone = found.groups()
    zone = "+00:00" if zone in (None, "Z") else zone if ":" in zone else zone[:3] + ":" + zone[3:]
    return datetime.fromisoformat(f"{date}T{time}.{(fraction or '0')[:6].ljust(6, '0')}{zone}")


# -- staging for the batch ----------------------------------------------------------------------
def stage(handin: Handin, folder_name: str, staging: Path) -> Path | None:
    """Copy the student's files where the batch finds them under `folder_name`: one file as
    `<folder_name><suffix>`, several as a folder (zips among several are unpacked into it).
    None when nothing can be graded (a .pdf or .rar only)."""
    if not handin.gradable:
        return None
    staging.mkdir(parents=True, exist_ok=True)
    if len(handin.files) == 1:
        (name, source), = handin.files.items()
        target = staging / f"{folder_name}{PurePosixPath(name).suffix}"
        shutil.copyfile(source, target)
        return target
    target = staging / folder_name
    target.mkdir()
    for name, source in sorted(handin.files.items()):
        if name.endswith(".zip"):
            _unpack(source, target, handin)
            continue
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    return target


def _unpack(archive: Path, target: Path, handin: Handin) -> None:
    try:
        with zipfile.ZipFile(archive) as zipped:
            for info in zipped.infolist():
                name = PurePosixPath(info.filename)
                if info.is_dir() or name.is_absolute() or ".." in name.parts or name.suffix not in (".py", ".ipynb"):
                    continue
                destination = target / name
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_bytes(zipped.read(info))
    except (zipfile.BadZipFile, OSError, RuntimeError, EOFError) as exc:
        handin.notes.append(_("{archive} could not be unpacked ({error})").format(archive=archive.name, error=exc))
