"""Benchmark: exercise-7 batch grading throughput, one worker against several, on CPU and on CUDA.

    PYTHONPATH=. python3 benchmarks/bench_ex7_batch.py [--copies 8] [--jobs 1,4] [--repeats 3]
        [--device cpu,cuda] [--data-dir DIR] [--isolation auto] [--json FILE]

For each device (default: cpu, and cuda when nvidia-smi lists a GPU) and each --jobs value, a
batch of --copies copies of the reference is graded --repeats times from scratch (run_batch with
force=True: fresh workers, each timing the reference once, as a real batch does). Printed per
(device, jobs): the median wall time and throughput in submissions per minute (min-max over the
repeats), and the ratio of that median throughput to the jobs-1 median measured in the same run;
also whether every copy got full marks and the device the timed check trained on (its report
line, which names the GPU). The machine may be shared: compare medians within one run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.batch.pool import visible_gpus  # noqa: E402
from grader.batch.run import run_batch  # noqa: E402
from grader.catalog import get_exercise  # noqa: E402
from grader.options import GradingOptions  # noqa: E402

EXERCISE = get_exercise("exercise7")


def make_class(folder: Path, copies: int) -> Path:
    """`copies` students, each handing in the reference."""
    subs = folder / "subs"
    for index in range(copies):
        student = subs / f"student{index:03d}"
        student.mkdir(parents=True)
        shutil.copy(EXERCISE.reference_path, student / EXERCISE.reference_path.name)
    return subs


def outcome(out: Path) -> tuple[bool, str]:
    """(every student got full marks, the timed check's device line of the first student)."""
    full, device = True, ""
    for result_file in sorted(out.glob("*/result.json")):
        result = json.loads(result_file.read_text())
        full &= result["score"] == result["max_score"]
        timed = next((c for c in result["checks"] if c["name"] == "mnist_end_to_end"), {})
        device = device or (timed.get("details") or {}).get("device_note", "")
    return full, device


def measure(subs: Path, work: Path, device: str, jobs: int, repeats: int, options: GradingOptions) -> dict:
    seconds, full, note = [], True, ""
    for repeat in range(repeats):
        out = work / f"out-{device}-{jobs}-{repeat}"
        start = time.perf_counter()
        report = run_batch(subs, EXERCISE.name, out, options=options.replace(device=device), jobs=jobs, force=True)
        seconds.append(time.perf_counter() - start)
        all_full, note = outcome(out)
        full &= all_full and report.errors == 0
        shutil.rmtree(out, ignore_errors=True)
    copies = len(list(subs.iterdir()))
    per_minute = [60 * copies / s for s in seconds]
    return {"device": device, "jobs": jobs, "copies": copies, "repeats": repeats,
            "median_seconds": statistics.median(seconds), "per_minute": statistics.median(per_minute),
            "per_minute_range": [min(per_minute), max(per_minute)], "all_full_marks": full, "device_note": note}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--jobs", default="1,4", help="comma-separated worker counts; 1 is always measured")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default=None, help="comma-separated: cpu, cuda (default: cpu, + cuda with a GPU)")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--isolation", default="auto")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    devices = args.device.split(",") if args.device else ["cpu"] + (["cuda"] if visible_gpus() else [])
    jobs_list = sorted({1, *(int(j) for j in args.jobs.split(","))})
    options = GradingOptions(isolation=args.isolation, data_dir=args.data_dir)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-ex7-") as tmp:
        subs = make_class(Path(tmp), args.copies)
        for device in devices:
            baseline = None
            for jobs in jobs_list:
                row = measure(subs, Path(tmp), device, jobs, args.repeats, options)
                baseline = baseline or row["per_minute"]
                row["ratio_to_jobs_1"] = row["per_minute"] / baseline
                rows.append(row)
                low, high = row["per_minute_range"]
                print(f"{device:4} jobs={jobs:<2} {row['copies']} copies: median {row['median_seconds']:6.1f} s, "
                      f"{row['per_minute']:6.1f} submissions/min ({low:.1f}-{high:.1f}), "
                      f"x{row['ratio_to_jobs_1']:.2f} vs jobs=1; full marks: {row['all_full_marks']}; "
                      f"timed on: {row['device_note']}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
