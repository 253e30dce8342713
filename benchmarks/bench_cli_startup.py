"""How long `grade list` and `grade --help` take in a fresh process (issue 21: under 0.5 s).

    python benchmarks/bench_cli_startup.py [--runs 15]

Each command runs `--runs` times as `python -m grader.cli ...` in a new interpreter; the median
and the slowest wall-clock times are printed, with whether torch or nbformat was imported
(each costs seconds: they must load only when a check or a notebook needs them). The grader
run is the one on PYTHONPATH, else the installed one.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = (["list"], ["--help"], ["exercise1", "--help"])
PROBE = ("import sys; sys.argv = ['grade', *sys.argv[1:]]\nfrom grader import cli\ntry:\n    cli.run()\n"
         "except SystemExit:\n    pass\nprint(sorted(m for m in ('torch', 'nbformat') if m in sys.modules), "
         "file=sys.stderr)")


def seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "grader.cli", *command], capture_output=True, check=True)
    return time.perf_counter() - start


def heavy_imports(command: list[str]) -> str:
    done = subprocess.run([sys.executable, "-c", PROBE, *command], capture_output=True, text=True, check=True)
    return done.stderr.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    print(f"{'command':<22} {'median':>8} {'slowest':>8}  heavy modules imported")
    for command in COMMANDS:
        times = [seconds(command) for _ in range(runs)]
        print(f"{'grade ' + ' '.join(command):<22} {statistics.median(times):>7.3f}s {max(times):>7.3f}s  "
              f"{heavy_imports(command)}")


if __name__ == "__main__":
    main()
