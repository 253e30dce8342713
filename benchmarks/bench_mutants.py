"""The mutation pass for any exercise, timed: how many mutants of the reference do its checks kill?

Meant for exercises 4 and 7, whose checks train on MNIST (too slow for the test suite); works for
every exercise. Exercises without an equivalence probe (4, 7) count every survivor as survived.

Run: python benchmarks/bench_mutants.py exercise4 [--per-operator N] [--check-timeout S]
     [--submission-timeout S] [--html FILE]
MNIST comes from $MNIST_DATA_DIR, else the course's copy beside the repository (../shared/data/mnist).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.course.mutants import format_reports, render_html, run_mutants  # noqa: E402

SLOW = {"exercise4", "exercise7"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exercises", nargs="+")
    parser.add_argument("--per-operator", type=int, default=None)
    parser.add_argument("--check-timeout", type=float, default=None,
                        help="seconds per check (default: 3 s, or the catalog's limit for exercises 4 and 7)")
    parser.add_argument("--submission-timeout", type=float, default=None)
    parser.add_argument("--html", type=Path, default=None)
    args = parser.parse_args()
    os.environ.setdefault("MNIST_DATA_DIR", str(ROOT.parent / "shared" / "data" / "mnist"))
    reports = []
    for name in args.exercises:
        slow = name in SLOW
        started = time.perf_counter()
        report = run_mutants(name, per_operator=args.per_operator,
                             check_timeout=args.check_timeout or (None if slow else 3.0),
                             submission_timeout=args.submission_timeout or (None if slow else 20.0),
                             progress=lambda r: print(f"  {r.outcome:<10} {r.mutant.key}", flush=True))
        print(f"{name}: {len(report.results)} mutants in {time.perf_counter() - started:.0f} s", flush=True)
        reports.append(report)
    print(format_reports(reports))
    if args.html:
        args.html.write_text(render_html(reports), encoding="utf-8")


if __name__ == "__main__":
    main()
