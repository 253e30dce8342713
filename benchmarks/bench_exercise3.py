"""How long grading exercise 3's reference takes, warm and cold (goal: under 3 s each).

- warm: `grade_submission` with one launcher (zygote) kept between gradings, as batch grading
  and the test suite do;
- cold: the `grade exercise3 --submission reference/exercise3` command, end to end (Python
  start-up, imports, sandbox start, all 14 checks, JSON written).

Run: python benchmarks/bench_exercise3.py [--repeat N]. Prints medians (and min/max) in seconds.
The machine may be shared, so look at the median, not a single run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.catalog import get_exercise  # noqa: E402
from grader.pipeline import grade_submission  # noqa: E402
from grader.sandbox.launcher import Launcher  # noqa: E402

GOAL_SECONDS = 3.0
REFERENCE = ROOT / "reference" / "exercise3"


def time_warm(repeat: int) -> tuple[float, list[float]]:
    """(seconds to start the launcher, seconds per grading with it warm)."""
    start = time.perf_counter()
    launcher = Launcher(get_exercise("exercise3"))
    launcher.start()
    started = time.perf_counter() - start
    times = []
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            result = grade_submission("exercise3", REFERENCE, launcher=launcher)
            times.append(time.perf_counter() - start)
            assert result.score == result.max_score, "the reference lost points"
    finally:
        launcher.close()
    return started, times


def time_cold(repeat: int) -> list[float]:
    """Seconds per `grade exercise3 --submission reference/exercise3 --json FILE`, a fresh process each."""
    times = []
    with tempfile.TemporaryDirectory() as folder:
        for i in range(repeat):
            out = Path(folder) / f"result{i}.json"
            start = time.perf_counter()
            subprocess.run(["grade", "exercise3", "--submission", str(REFERENCE), "--json", str(out)],
                           cwd=ROOT, check=True, capture_output=True)
            times.append(time.perf_counter() - start)
    return times


def summary(label: str, times: list[float]) -> str:
    median = statistics.median(times)
    verdict = "ok" if median < GOAL_SECONDS else f"OVER the {GOAL_SECONDS:g} s goal"
    return (f"{label:<34} median {median:6.3f} s   min {min(times):6.3f}   max {max(times):6.3f}   "
            f"({len(times)} runs; {verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="gradings per measurement (default 5)")
    args = parser.parse_args()
    started, warm = time_warm(args.repeat)
    cold = time_cold(args.repeat)
    print(f"{'launcher start (zygote)':<34} {started:6.3f} s")
    print(summary("warm: grade_submission(reference)", warm))
    print(summary("cold: `grade exercise3` CLI", cold))


if __name__ == "__main__":
    main()
