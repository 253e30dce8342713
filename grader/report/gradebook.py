"""Gradebooks: per-student results as CSV rows, the class summary, and several exercises merged.

A batch's gradebook.csv is always rebuilt from the per-student result.json files (never
appended to), so it agrees with them after any interruption. Merging reads each batch's
gradebook.csv, the file an instructor may already have looked at or corrected.
"""

from __future__ import annotations

import csv
import io
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from grader.hand_in_review import shared_error, wrong_exercise
from grader.i18n import _
from grader.results import GradeResult, cause_key, write_atomic

BASE_COLUMNS = ["student", "exercise", "score", "max_score", "percent"]
TAIL_COLUMNS = ["status", "seconds"]
PENDING = "pending"
"""Status of a student whose current submission has no result yet (batch interrupted)."""
FORMULA_START = ("=", "+", "@")


class GradebookError(ValueError):
    """A gradebook cannot be read or merged; the message names the file and the problem."""


def _cell(text: str) -> str:
    """Spreadsheets run cells that start with = + @ as formulas; a student id must not."""
    return "'" + text if text.startswith(FORMULA_START) else text


def _num(value: float) -> str:
    return f"{round(value, 4):g}"


def gradebook_row(exercise: str, student: str, result: GradeResult | None, checks: list[str]) -> dict:
    if result is None:
        row = dict.fromkeys(BASE_COLUMNS + checks + TAIL_COLUMNS, "")
        row.update(student=_cell(student), exercise=exercise, status=PENDING)
        return row
    by_name = {c.name: c for c in result.checks}
    row = {"student": _cell(student), "exercise": exercise, "score": _num(result.score),
           "max_score": _num(result.max_score),
           "percent": _num(round(100 * result.score / result.max_score, 1)) if result.max_score else "0"}
    row.update({name: _num(by_name[name].score) if name in by_name else "" for name in checks})
    row.update(status=status_text(result), seconds=f"{result.seconds:.2f}")
    return row


def check_columns(results: list[GradeResult | None], known: list[str]) -> list[str]:
    """The catalog's checks in order, then any other check a stored result names."""
    names = list(known)
    for result in results:
        for check in result.checks if result else []:
            if check.name not in names:
                names.append(check.name)
    return names


def gradebook_csv(rows: list[dict], checks: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=BASE_COLUMNS + checks + TAIL_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_gradebook(path: Path, exercise: str, students: list[tuple[str, GradeResult | None]],
                    known_checks: list[str]) -> None:
    checks = check_columns([r for _, r in students], known_checks)
    rows = [gradebook_row(exercise, student, result, checks) for student, result in students]
    write_atomic(Path(path), gradebook_csv(rows, checks))


def read_gradebook(path: Path) -> list[dict]:
    path = Path(path)
    if path.is_dir():
        path = path / "gradebook.csv"
    if not path.is_file():
        raise GradebookError(_("{path}: no gradebook here; run `grade batch ... --out {out}` first").format(
            path=path, out=path.parent))
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in BASE_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise GradebookError(_("{path}: not a gradebook written by `grade batch` (no column {column})").format(
                path=path, column=repr(missing[0])))
        return list(reader)


# -- several exercises in one table ------------------------------------------------------------
@dataclass
class MergedGradebook:
    exercises: list[str]
    students: dict[str, dict[str, float | None]] = field(default_factory=dict)
    max_scores: dict[str, float] = field(default_factory=dict)

    def csv(self) -> str:
        total_max = sum(self.max_scores.values())
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["student", *self.exercises, "total", "max_total", "percent"])
        for student in sorted(self.students):
            scores = self.students[student]
            total = sum(v for v in scores.values() if v is not None)
            writer.writerow([student, *("" if scores.get(e) is None else _num(scores[e]) for e in self.exercises),
                             _num(total), _num(total_max), _num(100 * total / total_max) if total_max else "0"])
        return buffer.getvalue()


def merge_gradebooks(sources: list[Path]) -> MergedGradebook:
    """One row per student, one column per exercise (empty: no submission, counted as 0), the total.

    Several sources may hold the same exercise (e.g. two sections graded apart), but one
    student may have only one result per exercise.
    """
    merged = MergedGradebook(exercises=[])
    origin: dict[tuple[str, str], Path] = {}
    for source in sources:
        for row in read_gradebook(source):
            exercise, student = row["exercise"], row["student"]
            if exercise not in merged.exercises:
                merged.exercises.append(exercise)
            if (student, exercise) in origin:
                raise GradebookError(_("{student} has two {exercise} results: in {first} and in {second}").format(
                    student=student, exercise=exercise, first=origin[student, exercise], second=source))
            origin[student, exercise] = Path(source)
            score = float(row["score"]) if row["score"] not in ("", None) else None
            merged.students.setdefault(student, {})[exercise] = score
            if row.get("max_score"):
                merged.max_scores[exercise] = max(merged.max_scores.get(exercise, 0.0), float(row["max_score"]))
    merged.exercises.sort(key=_exercise_order)
    return merged


def _exercise_order(name: str) -> tuple:
    digits = "".join(ch for ch in name if ch.isdigit())
    return (int(digits) if digits else 1 << 30, name)


# -- the class at a glance -------------------------------------------------------------------
def summarize(exercise: str, students: list[tuple[str, GradeResult | None]], *, slowest: int = 10,
              groups: int = 6, lowest: int = 8) -> dict:
    """What summary.html shows: score histogram, the submissions set apart (not importable,
    empty, another exercise: counted once), per-check pass rates with each mistake's students
    (hardest checks first), who needs help, the slowest submissions, and every student."""
    graded = [(s, r) for s, r in students if r is not None]
    percents = [percent_of(r) for _, r in graded]
    apart = {s: why for s, r in graded if (why := apart_reason(r))}
    return {
        "exercise": exercise,
        "counts": {"students": len(students), "graded": len(graded), "pending": len(students) - len(graded),
                   "complete": sum(r.status == "complete" for _, r in graded),
                   "errors": sum(r.status == "error" for _, r in graded),
                   "incomplete": sum(r.status == "incomplete" for _, r in graded), "apart": len(apart)},
        "max_score": max((r.max_score for _, r in graded), default=0.0),
        "mean": statistics.fmean([r.score for _, r in graded]) if graded else None,
        "median": statistics.median([r.score for _, r in graded]) if graded else None,
        "histogram": score_bins(percents),
        "apart": [{"student": s, "why": apart[s], "score": r.score, "max_score": r.max_score}
                  for s, r in graded if s in apart],
        "checks": check_stats([(s, r) for s, r in graded if s not in apart], groups),
        "needs_help": needs_help(graded, apart, lowest),
        "ungradable": [{"student": s, "error": r.error} for s, r in graded if r.error],
        "slowest": sorted(({"student": s, "seconds": r.seconds, "score": r.score, "max_score": r.max_score}
                           for s, r in graded), key=lambda row: -row["seconds"])[:slowest],
        "students": student_orders([{"student": s, "result": r, "percent": percent_of(r) if r else 0.0,
                                     "status": status_text(r), "flag": wrong_exercise(r.notes) if r else ""}
                                    for s, r in students]),
    }


def percent_of(result: GradeResult) -> float:
    return 100 * result.score / result.max_score if result.max_score else 0.0


def status_text(result: GradeResult | None) -> str:
    """The status the gradebook and the summary show: the result's, with a wrong-exercise flag."""
    if result is None:
        return PENDING
    other = wrong_exercise(result.notes)
    return f"{result.status} (probably {other})" if other else result.status


def apart_reason(result: GradeResult) -> str:
    """Why a submission is counted once, apart from the per-check lists, or "": it could not be
    loaded, it belongs to another exercise, every check failed with one same error (a module that
    does not import), or nothing of it is implemented (the handout's stubs)."""
    other = wrong_exercise(result.notes)
    if other:
        return _("probably {other}: defines {other}'s functions and none of this exercise's").format(other=other)
    if result.error:
        return _("could not be graded: {error}").format(error=_first_sentence(result.error))
    if any(c.passed for c in result.checks) or not result.checks:
        return ""
    common = shared_error(result.checks)
    if common:
        return _first_sentence(common)
    if all("NotImplementedError" in c.message or "not implemented" in c.message for c in result.checks):
        return _("nothing implemented yet (the handout's stubs)")
    return ""


def student_orders(rows: list[dict]) -> dict[str, list[dict]]:
    """The student table three ways (the page has no script to sort it): by score (lowest
    first, then name), by name, and by status (then score)."""
    score = lambda row: row["percent"] if row["result"] else -1.0  # noqa: E731 - not graded first
    return {"score": sorted(rows, key=lambda row: (score(row), row["student"])),
            "name": sorted(rows, key=lambda row: row["student"].casefold()),
            "status": sorted(rows, key=lambda row: (row["status"], score(row), row["student"]))}


def score_bins(percents: list[float], width: int = 10) -> list[dict]:
    """Bins 0–10 %, …, 90–100 % (full marks fall in the last); each with its count."""
    count = 100 // width
    bins = [{"label": f"{i * width}–{(i + 1) * width}", "count": 0} for i in range(count)]
    for p in percents:
        bins[min(int(p // width), count - 1) if p >= 0 else 0]["count"] += 1
    return bins


def check_stats(graded: list[tuple[str, GradeResult]], top: int) -> list[dict]:
    """Pass rates over the submissions that could be graded (the others are listed apart).

    Each check's failures are grouped by their cause (results.cause_key: the cause the check
    named, else the hint that diagnosed it, else the rationale; numbers masked), commonest first;
    each group names its students and shows one real message as example."""
    stats: dict[str, dict] = {}
    for student, result in graded:
        for check in result.checks:
            entry = stats.setdefault(check.name, {"name": check.name, "title": check.title or check.name,
                                                  "visibility": check.visibility, "points": check.max_score,
                                                  "passed": 0, "total": 0, "groups": {}})
            entry["total"] += 1
            if check.passed:
                entry["passed"] += 1
            elif not check.not_graded:
                group = entry["groups"].setdefault(cause_key(check), {
                    "text": _first_sentence(check.failure.rationale if check.failure else check.message),
                    "hint": check.hint, "students": []})
                group["students"].append(student)
    rows = []
    for entry in stats.values():
        entry["rate"] = 100 * entry["passed"] / entry["total"] if entry["total"] else 0.0
        ordered = sorted(entry.pop("groups").values(), key=lambda g: (-len(g["students"]), g["text"]))
        entry["messages"] = [dict(g, count=len(g["students"]), students=sorted(g["students"])) for g in ordered[:top]]
        entry["more_groups"] = max(0, len(ordered) - top)
        rows.append(entry)
    return sorted(rows, key=lambda e: (e["rate"], e["name"]))


def needs_help(graded: list[tuple[str, GradeResult]], apart: dict[str, str], lowest: int) -> dict:
    """Who to talk to first: the lowest scores below full marks, and students who made the same
    mistake (one cause, whatever the call) in two or more checks: a concept not yet understood."""
    below = sorted(((s, r) for s, r in graded if percent_of(r) < 100), key=lambda sr: (percent_of(sr[1]), sr[0]))
    lowest_rows = [{"student": s, "score": r.score, "max_score": r.max_score, "percent": percent_of(r),
                    "why": apart.get(s, "")} for s, r in below[:lowest]]
    repeated = []
    for student, result in graded:
        if student in apart:
            continue
        by_concept: dict[str, list] = {}
        for check in result.checks:
            if not check.passed and not check.not_graded:
                by_concept.setdefault(cause_key(check).split("|")[0], []).append(check)
        for checks in by_concept.values():
            if len(checks) >= 2:
                first = checks[0]
                repeated.append({"student": student, "checks": [c.name for c in checks],
                                 "concept": first.hint or _first_sentence(
                                     first.failure.rationale if first.failure else first.message)})
    repeated.sort(key=lambda row: (-len(row["checks"]), row["student"]))
    return {"lowest": lowest_rows, "repeated": repeated}


def _first_sentence(message: str, limit: int = 220) -> str:
    """Messages quote the input after the first sentence; group by what went wrong."""
    head = message.split(" Input: ")[0].strip()
    return head if len(head) <= limit else head[: limit - 1] + "…"
