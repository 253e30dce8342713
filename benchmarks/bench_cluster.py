"""Cluster batch throughput: exercise 1 on two local Dask workers against `grade batch --jobs 2`.

The same class of 100 generated submissions as bench_batch.py (no hanging one) is graded, in
the same run and alternately, by run_batch(jobs=2) and by run_cluster_batch on a real
`dask scheduler` with two `dask worker --nthreads 1` processes on 127.0.0.1, each end to end
into a fresh folder with force=True (reference preflight, every student, every file, the
gradebook and summary). The first cluster run starts the workers' warm launchers (cold); later
runs find them started (warm), as a cluster that grades several exercises in a row does.

Per-task overhead of the cluster path = (cluster seconds - local seconds) / students, from the
medians. Goal: cluster throughput at least 0.8x local.

With --costs it measures instead what docs/cluster.md's estimate for a whole course needs: per
exercise, the seconds one worker spends on one student with its launcher warm (the reference,
median of --repeat after a warm-up, MNIST from --data-dir for exercises 4 and 7), and the
seconds the client spends writing one student's files (result.json and two HTML reports).

Run: python benchmarks/bench_cluster.py [--students 100] [--repeat 3]
     python benchmarks/bench_cluster.py --costs [--data-dir ../shared/data/mnist]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_batch import make_class  # noqa: E402  (bench_batch's class of 100)
from grader.batch.cluster import run_cluster_batch  # noqa: E402
from grader.batch.run import run_batch  # noqa: E402
from test_cluster import LocalCluster  # noqa: E402  (the tests' scheduler and workers on the loopback)

GOAL_RATIO = 0.8
EXERCISE = "exercise1"


def timed(grade, subs: Path) -> float:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        report = grade(subs, Path(out))
        seconds = time.perf_counter() - start
    assert report.graded == report.students and not report.interrupted, report
    return seconds


def per_task_costs(repeat: int, data_dir: Path | None) -> None:
    """Warm grading seconds per student for each exercise, and the client's writing cost."""
    from grader.batch.store import save_student
    from grader.catalog import EXERCISES
    from grader.options import GradingOptions
    from grader.pipeline import grade_submission
    from grader.sandbox.launcher import Launcher

    options = GradingOptions(data_dir=data_dir)
    for exercise in EXERCISES.values():
        with Launcher(exercise, isolation=options.isolation) as launcher:
            runs = []
            for _ in range(repeat + 1):
                start = time.perf_counter()
                result = grade_submission(exercise.name, exercise.reference_path.parent, launcher=launcher,
                                          options=options, student="reference")
                runs.append(time.perf_counter() - start)
        print(f"{exercise.name}: {statistics.median(runs[1:]):.3f} s per student, warm "
              f"(score {result.score:g}/{result.max_score:g}, {result.isolation})")
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            for i in range(20):
                result.student = f"s{i}"
                save_student(Path(out), result, key="bench")
            print(f"  client writes one student's files in {(time.perf_counter() - start) / 20 * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--costs", action="store_true", help="measure per-task costs per exercise instead")
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    if args.costs:
        per_task_costs(args.repeat, args.data_dir)
        return
    with tempfile.TemporaryDirectory() as tmp:
        subs = Path(tmp) / "subs"
        make_class(EXERCISE, subs, args.students)
        count = len(list(subs.iterdir()))
        workers = LocalCluster(Path(tmp) / "cluster")
        try:
            workers.start_worker("worker1")
            workers.start_worker("worker2")
            workers.wait_for_workers(2)

            def local(s, out):
                return run_batch(s, EXERCISE, out, jobs=2, force=True)

            def on_cluster(s, out):
                return run_cluster_batch(s, EXERCISE, out, scheduler=workers.address, force=True)

            cold = timed(on_cluster, subs)
            times = {"local": [], "cluster": []}
            for _ in range(args.repeat):
                times["local"].append(timed(local, subs))
                times["cluster"].append(timed(on_cluster, subs))
        finally:
            workers.close()
    medians = {name: statistics.median(runs) for name, runs in times.items()}
    for name, runs in times.items():
        print(f"{EXERCISE}, {count} students, {name:<7}: median {medians[name]:.2f} s = "
              f"{count / medians[name]:.1f} students/s  (runs: {', '.join(f'{t:.2f}' for t in runs)})")
    print(f"cluster, first run (workers start their launchers): {cold:.2f} s = {count / cold:.1f} students/s")
    ratio = medians["local"] / medians["cluster"]
    overhead_ms = (medians["cluster"] - medians["local"]) / count * 1000
    print(f"cluster / local throughput: {ratio:.2f}x (goal >= {GOAL_RATIO}x); "
          f"cluster overhead per task: {overhead_ms:+.1f} ms")


if __name__ == "__main__":
    main()
