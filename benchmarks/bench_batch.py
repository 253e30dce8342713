"""Batch throughput: students graded per second for exercise 1 (goal: at least 10/s with 2 jobs).

A class of 100 generated submissions (references as folders, .py, notebooks and zips, the
stub, partly done ones, the buggy cases of tests/cases/exercise1, one printing a flood of
output, one crashing at import; no hanging one, whose time limit would measure nothing but
the limit) is graded with `run_batch(..., force=True)` into a fresh folder, end to end:
workers forked, sandboxes started, every student graded, every result, report, the
gradebook and the summary written. Each setting is repeated and the median is reported,
since the machine may be shared.

With `--class course` the class is one a course meets instead: three students in four hand in
a right answer (the reference in every form, the valid alternatives of tests/cases), one in four
a wrong one (the known bugs of tests/cases, each at most once, spread over the list). The tests'
class (the default) holds every known bug, so it weighs the cost of a failure (shrunk to its
smallest input by the contract checks) far more than a course does.

Run: python benchmarks/bench_batch.py [--students 100] [--repeat 3] [--exercise exercise1 ...]
     [--class tests|course] [--baseline DIR]

With `--baseline DIR` (another checkout of the project, e.g. `git archive main | tar -x -C /tmp/before`)
the same class is graded by both checkouts in one run: each timing is a fresh Python process
with that checkout first on PYTHONPATH, the two checkouts alternating run by run so a change in
the machine's load falls on both; the medians and the ratio (this checkout / the baseline, time
per submission) are printed for each exercise and number of jobs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_batch import make_submissions  # noqa: E402  (the generator the batch tests use)

GOAL_PER_SECOND = 10.0
"""Exercise 1 with --jobs 2, students per second."""

TIME_ONE_BATCH = """
import json, sys, tempfile, time
from pathlib import Path
import grader
from grader.batch.run import run_batch
subs, exercise, jobs = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
with tempfile.TemporaryDirectory() as out:
    start = time.perf_counter()
    report = run_batch(subs, exercise, Path(out), jobs=jobs, force=True)
    seconds = time.perf_counter() - start
assert report.graded == report.students and not report.interrupted, (report.graded, report.students)
print(json.dumps({"seconds": seconds, "grader": str(Path(grader.__file__).resolve().parent.parent)}))
"""
"""Grades the class once with the `grader` of the checkout first on PYTHONPATH; prints its seconds."""


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


def make_course_class(exercise: str, folder: Path, students: int) -> None:
    """One student in four wrong (see the module docstring); the rest right."""
    with tempfile.TemporaryDirectory() as tmp:
        everyone = Path(tmp) / "class"
        make_submissions(exercise, everyone, size=0, hostile=False)
        entries = sorted(p for p in everyone.iterdir() if p.name != "notes.txt")
        right = [p for p in entries if p.name.startswith(("ref_", "case_ok_"))]
        wrong = [p for p in entries if p.name.startswith("case_bug_")]
        wanted = min(len(wrong), students // 4)
        chosen = [wrong[i * len(wrong) // wanted] for i in range(wanted)] if wanted else []
        folder.mkdir(parents=True)
        for i in range(students - wanted):
            chosen.append(right[i % len(right)])
        for i, source in enumerate(chosen):
            target = folder / f"s{i:03d}_{source.stem}{source.suffix}"
            (shutil.copytree if source.is_dir() else shutil.copy)(source, target)


def time_batch(checkout: Path, exercise: str, subs: Path, jobs: int) -> float:
    """Seconds for `checkout`'s grader to grade the class in a fresh process, end to end."""
    env = dict(os.environ, PYTHONPATH=str(checkout))
    done = subprocess.run([sys.executable, "-c", TIME_ONE_BATCH, str(subs), exercise, str(jobs)],
                          cwd=checkout, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"grading with {checkout} failed:\n{done.stderr[-3000:]}")
    timing = json.loads(done.stdout.strip().splitlines()[-1])
    if Path(timing["grader"]) != checkout.resolve():
        raise SystemExit(f"{checkout}: imported the grader of {timing['grader']}; check the installation")
    return timing["seconds"]


def runs(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--exercise", action="append", help="exercise to grade (repeatable; default exercise1)")
    parser.add_argument("--jobs", type=int, action="append", help="worker count (repeatable; default 1 and 2)")
    parser.add_argument("--baseline", type=Path, help="another checkout of the project to measure alternately")
    parser.add_argument("--class", dest="kind", choices=("tests", "course"), default="tests",
                        help="the tests' class (every known bug) or a course's (one student in four wrong)")
    args = parser.parse_args()
    checkouts = {"this": ROOT}
    if args.baseline:
        if not (args.baseline / "grader" / "batch" / "run.py").is_file():
            raise SystemExit(f"{args.baseline} is not a checkout of the project (no grader/batch/run.py)")
        checkouts = {"baseline": args.baseline.resolve(), "this": ROOT}
    for exercise in args.exercise or ["exercise1"]:
        with tempfile.TemporaryDirectory() as tmp:
            subs = Path(tmp) / "subs"
            (make_course_class if args.kind == "course" else make_class)(exercise, subs, args.students)
            count = len(list(subs.iterdir()))
            for jobs in args.jobs or [1, 2]:
                times: dict[str, list[float]] = {name: [] for name in checkouts}
                for _ in range(args.repeat):
                    for name, checkout in checkouts.items():
                        times[name].append(time_batch(checkout, exercise, subs, jobs))
                report(f"{exercise}, a course's class" if args.kind == "course" else exercise, count, jobs, times)


def report(exercise: str, count: int, jobs: int, times: dict[str, list[float]]) -> None:
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, median in medians.items():
        print(f"{exercise}, {count} students, --jobs {jobs}, {name}: median {median:.2f} s = "
              f"{count / median:.1f} students/s, {1000 * median / count:.0f} ms a student  (runs: {runs(times[name])})")
    if "baseline" in medians:
        print(f"{exercise}, --jobs {jobs}: this / baseline = {medians['this'] / medians['baseline']:.2f}x "
              "time per submission")
    if exercise == "exercise1" and jobs == 2:
        rate = count / medians["this"]
        print(f"goal >= {GOAL_PER_SECOND:g}/s with --jobs 2: {'met' if rate >= GOAL_PER_SECOND else 'NOT met'} "
              f"({rate:.1f}/s)")


if __name__ == "__main__":
    main()
