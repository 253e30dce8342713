"""What a grader change did: OUT/regrade.csv lists every check whose points moved when a
rerun regraded an unchanged submission under a new grading key.

The batch decides *whether* to regrade (its grading key, stored in each result.json as
batch.key, covers the checks, the reference and the limits); this module only compares the
results before and after a run, so it follows whatever that key covers. A student whose
submission changed is a new submission, not a regrade, and is left out. Overrides are not
results and are untouched (grader/course/policy.py applies them afterwards).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from grader.results import write_atomic

REGRADE_FILE = "regrade.csv"


@dataclass(frozen=True)
class Stored:
    key: str
    submission_hash: str
    points: dict[str, float]
    score: float


def snapshot(out: Path) -> dict[str, Stored]:
    """Each student folder's stored result: grading key, submission and points per check."""
    found = {}
    for path in Path(out).glob("*/result.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        found[path.parent.name] = Stored((data.get("batch") or {}).get("key", ""), data.get("submission_hash", ""),
                                         {c["name"]: float(c.get("score", 0)) for c in data.get("checks", [])},
                                         float(data.get("score", 0)))
    return found


def changes(before: dict[str, Stored], after: dict[str, Stored]) -> list[tuple[str, str, float | None, float | None]]:
    """(student, check, old, new) for the same submission graded under a different key;
    the check `total` carries the change of the whole score."""
    rows = []
    for student, new in sorted(after.items()):
        old = before.get(student)
        if old is None or old.key == new.key or old.submission_hash != new.submission_hash:
            continue
        for check in list(old.points) + [c for c in new.points if c not in old.points]:
            was, now = old.points.get(check), new.points.get(check)
            if was != now:
                rows.append((student, check, was, now))
        if old.score != new.score:
            rows.append((student, "total", old.score, new.score))
    return rows


def write_regrade(out: Path, before: dict[str, Stored]) -> int:
    """Write OUT/regrade.csv when this run changed someone's points; returns how many students."""
    rows = changes(before, snapshot(out))
    if not rows:
        return 0
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "check", "old", "new"])
    writer.writerows((s, c, "" if o is None else f"{o:g}", "" if n is None else f"{n:g}") for s, c, o, n in rows)
    write_atomic(Path(out) / REGRADE_FILE, buffer.getvalue())
    return len({row[0] for row in rows})
