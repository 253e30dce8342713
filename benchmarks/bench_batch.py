"""Batch throughput: students graded per second for exercise 1 (goal: at least 10/s with 2 jobs).

A class of 100 generated submissions (references as folders, .py, notebooks and zips, the
stub, partly done ones, the buggy cases of tests/cases/exercise1, one printing a flood of
output, one crashing at import; no hanging one, whose time limit would measure nothing but
the limit) is graded with `run_batch(..., force=True)` into a fresh folder, end to end:
workers forked, sandboxes started, every student graded, every result, report, the
gradebook and the summary written. Each setting is repeated and the median is reported,
since the machine may be shared.

Run: python benchmarks/bench_batch.py [--students 100] [--repeat 3] [--exercise exercise1]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from grader.batch.run import run_batch  # noqa: E402
from test_batch import make_submissions  # noqa: E402  (the generator the batch tests use)

GOAL_PER_SECOND = 10.0


def make_class(exercise: str, folder: Path, students: int) -> None:
    """The tests' class of 30 without hangs, padded with more copies of its students."""
    make_submissions(exercise, folder, size=0, hostile=False)
    (folder / "notes.txt").unlink()
    crash = folder / "crash_import"
    crash.mkdir()
    module = next((folder / "ref_folder").glob("*.py"))
    (crash / module.name).write_text("import os\nos._exit(3)\n" + module.read_text())
    flood = folder / "flood"
    flood.mkdir()
    (flood / module.name).write_text("for _i in range(20_000):\n    print('spam', _i)\n" + module.read_text())
    originals = sorted(folder.iterdir())
    copy = 0
    while len(list(folder.iterdir())) < students:
        source = originals[copy % len(originals)]
        target = folder / f"{source.stem}_{copy:03d}{source.suffix}"
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
        copy += 1


def time_batch(exercise: str, subs: Path, jobs: int) -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        report = run_batch(subs, exercise, Path(out), jobs=jobs, force=True)
        seconds = time.perf_counter() - start
    assert report.graded == report.students and not report.interrupted
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--exercise", default="exercise1")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "subs"
        make_class(args.exercise, subs, args.students)
        count = len(list(subs.iterdir()))
        medians = {}
        for jobs in (1, 2):
            times = [time_batch(args.exercise, subs, jobs) for _ in range(args.repeat)]
            medians[jobs] = statistics.median(times)
            print(f"{args.exercise}, {count} students, --jobs {jobs}: median {medians[jobs]:.2f} s "
                  f"= {count / medians[jobs]:.1f} students/s  (runs: {', '.join(f'{t:.2f}' for t in times)})")
    rate = count / medians[2]
    print(f"scaling 1 -> 2 jobs: {medians[1] / medians[2]:.2f}x")
    print(f"goal >= {GOAL_PER_SECOND:g}/s with --jobs 2: {'met' if rate >= GOAL_PER_SECOND else 'NOT met'} ({rate:.1f}/s)")


if __name__ == "__main__":
    main()
