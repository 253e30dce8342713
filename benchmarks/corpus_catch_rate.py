"""How well the checks generalise: grade every case of a corpus of realistic mistakes and count
how many the checks catch.

    python benchmarks/corpus_catch_rate.py                       # tests/corpus/, every exercise
    python benchmarks/corpus_catch_rate.py --corpus DIR exercise3

A buggy case (`bug_*`) is *caught* when it loses at least one point, and *named* when it loses
points on the check its verdicts.toml names, with the table's words in that check's message or
hint. A correct case (`ok_*`) must get full marks. Run it with an older checkout's grader
(PYTHONPATH=that checkout) and the same --corpus to get the catch rate before a change.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path.cwd()))

from grader.catalog import EXERCISES, get_exercise  # noqa: E402
from grader.pipeline import grade_submission  # noqa: E402
from grader.sandbox.launcher import Launcher  # noqa: E402


def catch_rate(exercise: str, corpus: Path) -> dict:
    verdicts = _verdicts(exercise, corpus)
    counts = {"bugs": 0, "caught": 0, "named": 0, "ok": 0, "ok_full": 0, "missed": [], "marked_down": []}
    if not verdicts:
        return counts
    launcher = Launcher(get_exercise(exercise))
    launcher.start()
    try:
        for case, verdict in sorted(verdicts.items()):
            result = grade_submission(exercise, corpus / exercise / case, launcher=launcher)
            lost = result.score < result.max_score
            if verdict["full_marks"]:
                counts["ok"] += 1
                counts["ok_full"] += not lost
                if lost:
                    counts["marked_down"].append(case)
                continue
            counts["bugs"] += 1
            counts["caught"] += lost
            if not lost:
                counts["missed"].append(case)
            check = next((c for c in result.checks if c.name == verdict["check"]), None)
            counts["named"] += bool(check and not check.passed
                                    and verdict["words"] in f"{check.message} {check.hint}")
    finally:
        launcher.close()
    return counts


def _verdicts(exercise: str, corpus: Path) -> dict:
    """The corpus table read without checking its check names against this grader (an older
    grader lacks the new checks the table names)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    path = corpus / exercise / "verdicts.toml"
    if not path.exists():
        return {}
    tables = tomllib.loads(path.read_text(encoding="utf-8"))
    return {case: {"full_marks": bool(t.get("full_marks")), "check": t.get("check", ""), "words": t.get("words", "")}
            for case, t in tables.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exercises", nargs="*", default=list(EXERCISES))
    parser.add_argument("--corpus", type=Path, default=ROOT / "tests" / "corpus")
    args = parser.parse_args()
    os.environ.setdefault("MNIST_DATA_DIR", str(ROOT.parent / "shared" / "data" / "mnist"))
    total = {"bugs": 0, "caught": 0, "named": 0, "ok": 0, "ok_full": 0}
    print(f"{'exercise':<10} {'bugs':>5} {'caught':>7} {'named':>6} {'ok':>4} {'ok full':>8}  missed / marked down")
    for exercise in args.exercises:
        c = catch_rate(exercise, args.corpus)
        for key in total:
            total[key] += c[key]
        print(f"{exercise:<10} {c['bugs']:>5} {c['caught']:>7} {c['named']:>6} {c['ok']:>4} {c['ok_full']:>8}  "
              f"{' '.join(c['missed'])} {' '.join('!' + m for m in c['marked_down'])}")
    rate = total["caught"] / total["bugs"] if total["bugs"] else 0.0
    print(f"{'all':<10} {total['bugs']:>5} {total['caught']:>7} {total['named']:>6} {total['ok']:>4} "
          f"{total['ok_full']:>8}  catch rate {rate:.0%}")


if __name__ == "__main__":
    main()
