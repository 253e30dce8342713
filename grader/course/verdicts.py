"""The verdict each case folder of tests/cases/exerciseN/ must get, read from that exercise's
verdicts.toml (one table per case folder):

    [bug_softmax_no_max_shift]
    check = "softmax_large_scores"   # the check that must fail...
    words = "maximum"                # ...with these words in its message or hint
    why = "..."                      # optional: the mistake, in one line
    also_fails = ["..."]             # optional: when given, the case fails exactly `check` and these

    [ok_book_style]
    full_marks = true

The tests and `grade check-course` both judge the cases by this one reader, so they cannot
disagree about a case. Anything it cannot read as meant (an unknown key, a buggy case without
its check, a check the exercise does not have, a case folder without an entry or an entry
without a folder) raises VerdictsError naming the file and the entry: an entry skipped in
silence would be a case nobody checks.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from grader.catalog import PROJECT_ROOT, Exercise, get_exercise

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CASES_ROOT = PROJECT_ROOT / "tests" / "cases"
FILE_NAME = "verdicts.toml"
BUGGY_PREFIX, CORRECT_PREFIX = "bug_", "ok_"
KEYS = {"check", "words", "why", "also_fails", "full_marks"}


class VerdictsError(ValueError):
    """A verdicts.toml that does not say, for every case folder, what that case must get."""


@dataclass(frozen=True)
class Verdict:
    """What one case must get: full marks (check is None), or points lost on `check` with
    `words` in that check's message or hint."""

    case: str
    check: str | None = None
    words: str = ""
    why: str = ""
    also_fails: frozenset[str] | None = None
    """Every other check the mistake costs; None when the table does not pin them."""

    @property
    def full_marks(self) -> bool:
        return self.check is None


def case_folders(exercise: Exercise, cases_root: Path | None = None) -> list[Path]:
    """The exercise's case folders, sorted (hidden folders and `_`-folders are not cases)."""
    folder = (cases_root or CASES_ROOT) / exercise.name
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def verdicts_path(exercise: Exercise, cases_root: Path | None = None) -> Path:
    return (cases_root or CASES_ROOT) / exercise.name / FILE_NAME


def load_verdicts(exercise: str | Exercise, cases_root: Path | None = None,
                  check_names: set[str] | None = None) -> dict[str, Verdict]:
    """{case folder: Verdict} for every case folder of the exercise ({} when it has neither case
    folders nor a verdicts.toml). `check_names`: the exercise's checks, found from its check
    modules when not given."""
    if isinstance(exercise, str):
        exercise = get_exercise(exercise)
    path = verdicts_path(exercise, cases_root)
    folders = {p.name for p in case_folders(exercise, cases_root)}
    if not path.exists():
        if folders:
            raise VerdictsError(f"{path}: missing; it must give the verdict of every case folder beside it "
                                f"({', '.join(sorted(folders))})")
        return {}
    try:
        tables = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise VerdictsError(f"{path}: not valid TOML: {exc}") from None
    if check_names is None:
        check_names = exercise_check_names(exercise)
    verdicts = {case: _verdict(path, case, table, check_names) for case, table in tables.items()}
    _expect_same_cases(path, set(verdicts), folders)
    return verdicts


def exercise_check_names(exercise: Exercise) -> set[str]:
    from grader.checks.runner import list_checks

    return {name for name, *_ in list_checks(exercise)}


def _verdict(path: Path, case: str, table, check_names: set[str]) -> Verdict:
    def problem(text: str) -> VerdictsError:
        return VerdictsError(f"{path}: [{case}]: {text}")

    if not isinstance(table, dict):
        raise problem("must be a table ([name] followed by its keys), not a plain value")
    unknown = set(table) - KEYS
    if unknown:
        raise problem(f"unknown key {', '.join(sorted(unknown))} (known keys: {', '.join(sorted(KEYS))})")
    why = _text(table, "why", problem, required=False)
    if "full_marks" in table:
        if table["full_marks"] is not True:
            raise problem("full_marks can only be true; a buggy case names its check and words instead")
        if case.startswith(BUGGY_PREFIX):
            raise problem(f"a {BUGGY_PREFIX} case must lose points: give check and words, not full_marks")
        extra = {"check", "words", "also_fails"} & set(table)
        if extra:
            raise problem(f"full_marks = true cannot go with {', '.join(sorted(extra))}")
        return Verdict(case, why=why)
    if case.startswith(CORRECT_PREFIX):
        raise problem(f"an {CORRECT_PREFIX} case gets full_marks = true (rename the folder if it is a bug)")
    check = _text(table, "check", problem)
    if check not in check_names:
        raise problem(f"check {check!r} is not a check of this exercise")
    also = table.get("also_fails")
    if also is not None:
        if not isinstance(also, list) or not all(isinstance(name, str) for name in also):
            raise problem("also_fails must be a list of check names")
        unknown_checks = sorted(set(also) - check_names)
        if unknown_checks:
            raise problem(f"also_fails names {', '.join(unknown_checks)}, not checks of this exercise")
        also = frozenset(also)
    return Verdict(case, check, _text(table, "words", problem), why, also)


def _text(table: dict, key: str, problem, required: bool = True) -> str:
    value = table.get(key, "" if not required else None)
    if value is None:
        raise problem(f"missing {key} (a buggy case names the check that must fail and words its message "
                      f"or hint must contain; a correct one says full_marks = true)")
    if not isinstance(value, str) or (required and not value.strip()):
        raise problem(f"{key} must be a non-empty string")
    return value


def _expect_same_cases(path: Path, entries: set[str], folders: set[str]) -> None:
    without_entry, without_folder = sorted(folders - entries), sorted(entries - folders)
    if without_entry:
        raise VerdictsError(f"{path}: no entry for the case folder(s) {', '.join(without_entry)}")
    if without_folder:
        raise VerdictsError(f"{path}: [{without_folder[0]}]: no case folder of that name beside this file"
                            + (f" (nor for {', '.join(without_folder[1:])})" if len(without_folder) > 1 else ""))
