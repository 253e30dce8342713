"""Warm grading time of one submission: what each student costs a batch worker once its sandbox
is started (the figure the contract-wide checks must keep within 1.5x of).

Run: python benchmarks/bench_warm_grading.py exercise3 [--submission reference/exercise3] [--repeat 7]
Prints the median seconds per submission and each check's median seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path.cwd()))

from grader.catalog import get_exercise  # noqa: E402
from grader.pipeline import grade_submission  # noqa: E402
from grader.sandbox.launcher import Launcher  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("exercise")
    parser.add_argument("--submission", type=Path)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    os.environ.setdefault("MNIST_DATA_DIR", str(ROOT.parent / "shared" / "data" / "mnist"))
    submission = args.submission or ROOT / "reference" / args.exercise
    launcher = Launcher(get_exercise(args.exercise))
    launcher.start()
    try:
        grade_submission(args.exercise, submission, launcher=launcher)  # warm-up: imports, drawn examples
        totals, per_check = [], {}
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = grade_submission(args.exercise, submission, launcher=launcher)
            totals.append(time.perf_counter() - start)
            for check in result.checks:
                per_check.setdefault(check.name, []).append(check.seconds)
    finally:
        launcher.close()
    print(f"{args.exercise}: {statistics.median(totals):.4f} s per submission (median of {args.repeat}), "
          f"score {result.score}/{result.max_score}")
    for name, seconds in sorted(per_check.items(), key=lambda kv: -statistics.median(kv[1])):
        print(f"  {statistics.median(seconds):.4f} s  {name}")


if __name__ == "__main__":
    main()
