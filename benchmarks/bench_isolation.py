"""What isolation costs: grading exercise 1's reference in a sandbox vs. a bare pytest run.

Three ways to run the same checks against the same module (reference/exercise1/losses.py),
each in a fresh Python process, as a student's `grade exercise1` would (goal: under 1.5 s):

- bwrap:   `grade exercise1 --submission reference/exercise1 --isolation bwrap`
- process: the same with `--isolation process`
- bare:    the same checks through the same runner (grader.checks.runner.run_checks: same pytest
           options), with the module imported in that process as the `student` fixture (no
           sandbox, no zygote, no RPC): the floor that isolation adds to.
- pytest:  a plain `python -m pytest grader/checks/exercise1` with the module as the `student`
           fixture (benchmarks/bare_student_fixture.py): what grading costs without this
           grader at all — the baseline of issue 2's goal (at most 1.3x of it).

and the same three warm, in one process (a kept launcher, as batch grading does; the bare run
repeats `pytest.main`), which shows the per-submission cost without Python's start-up.
Each is repeated and the median reported (the machine may be shared); the ratios are
median(sandboxed) / median(bare).

Run: python benchmarks/bench_isolation.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_S = 1.5
SUBMISSION = ROOT / "reference" / "exercise1"


def bare_checks() -> int:
    """Run exercise 1's checks through the same runner (same pytest options, same result
    collection) with the module imported in this process instead of a sandbox."""
    import importlib.util

    from grader.catalog import get_exercise
    from grader.checks.runner import run_checks
    from grader.options import DEFAULT_OPTIONS

    spec = importlib.util.spec_from_file_location("bare_losses", SUBMISSION / "losses.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    class InProcess:  # what StudentProcess gives the `student` fixture, without a sandbox
        def module_for_check(self, timeout):
            return module

    results = run_checks(get_exercise("exercise1"), InProcess(), DEFAULT_OPTIONS)
    return 0 if results and all(r.passed for r in results) else 1


def fresh(command: list[str]) -> float:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent))
    start = time.perf_counter()
    run = subprocess.run(command, cwd=ROOT, capture_output=True, env=env)
    seconds = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{run.stderr.decode(errors='replace')[-1500:]}")
    return seconds


def fresh_commands() -> dict[str, list[str]]:
    grade = [sys.executable, "-m", "grader.cli", "exercise1", "--submission", str(SUBMISSION), "--isolation"]
    return {"bwrap": grade + ["bwrap"], "process": grade + ["process"],
            "bare": [sys.executable, str(Path(__file__).resolve()), "--bare-once"],
            "pytest": [sys.executable, "-m", "pytest", "-q", "-p", "bare_student_fixture",
                       str(ROOT / "grader" / "checks" / "exercise1")]}


def warm_runs(repeat: int, levels: list[str]) -> dict[str, list[float]]:
    from grader.catalog import get_exercise
    from grader.pipeline import grade_submission
    from grader.sandbox.launcher import Launcher

    times: dict[str, list[float]] = {"bare": []}
    for _ in range(repeat + 1):  # the first bare run imports the check modules: not counted
        start = time.perf_counter()
        bare_checks()
        times["bare"].append(time.perf_counter() - start)
    times["bare"] = times["bare"][1:]
    for level in levels:
        with Launcher(get_exercise("exercise1"), isolation=level) as launcher:
            grade_submission("exercise1", SUBMISSION, launcher=launcher)  # warm-up
            times[level] = []
            for _ in range(repeat):
                start = time.perf_counter()
                result = grade_submission("exercise1", SUBMISSION, launcher=launcher)
                times[level].append(time.perf_counter() - start)
                assert result.score == result.max_score, "the reference must get full marks"
    return times


def report(title: str, times: dict[str, list[float]]) -> None:
    bare = statistics.median(times["bare"])
    plain = statistics.median(times["pytest"]) if "pytest" in times else None
    print(f"\n{title}")
    print(f"  {'':8} {'median':>8} {'min':>8} {'max':>8} {'vs bare':>8}" + (f" {'vs pytest':>9}" if plain else ""))
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:8} {median:8.3f} {min(values):8.3f} {max(values):8.3f} {median / bare:7.2f}x"
              + (f" {median / plain:8.2f}x" if plain else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--bare-once", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_once:
        raise SystemExit(bare_checks())

    from grader.sandbox.launcher import bwrap_works

    levels = ["bwrap", "process"] if bwrap_works() else ["process"]
    commands = fresh_commands()
    times = {name: [] for name in ["bare", "pytest", *levels]}
    for _ in range(args.repeat):  # interleaved, so a busy moment of the machine hits all alike
        for name in times:
            times[name].append(fresh(commands[name]))
    report(f"Fresh process each (grade exercise1 --submission reference/exercise1), {args.repeat} runs, seconds:",
           times)
    report(f"Warm, in one process (a kept launcher), {args.repeat} runs, seconds:", warm_runs(args.repeat, levels))
    worst = max(statistics.median(times[level]) for level in levels)
    print(f"\nGoal: grading exercise 1's reference under {GOAL_S} s (fresh process): "
          f"{'met' if worst < GOAL_S else 'NOT met'} ({worst:.2f} s at worst)")


if __name__ == "__main__":
    main()
