"""Benchmark: the reference PyTorch model's time to reach the MNIST target, and the wall time of
grading exercise 7.

    python benchmarks/bench_torch.py [--repeats 5] [--threads 1] [--device cpu] [--data-dir DIR] [--json FILE]

Prints medians (and min-max) over the repetitions of
- time to reach the timed check's target validation accuracy: the reference's build_model()
  trained by its train_one_epoch + evaluate with the check's settings (Adam, lr, batch size,
  seed, data), epoch by epoch until the validation accuracy reaches the target (resolution:
  one epoch; evaluation time included, data loading not), and the epochs that took;
- the check's own run: the reference's fit for the check's number of epochs, and its accuracy;
- wall time of grading exercise 7 in full, the reference as the submission: cold, the
  `grade exercise7` command in a fresh process (Python start, torch imported twice: grader and
  sandbox, every public and hidden check, the timed MNIST run); and warm,
  `grade_submission` with a sandbox kept from an earlier grading, as batch grading does.

torch uses --threads CPU threads (default 1, as the grader's sandbox does). The data is what
grader.mnist finds (--data-dir, MNIST_DATA_DIR, the cache, or the course's ../shared/data/mnist);
its source is printed. The machine may be shared: look at medians, not single runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, TensorDataset

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.checks.exercise7 import mnist_run  # noqa: E402
from grader.checks.exercise7.remote import SANDBOX_THREADS  # noqa: E402
from reference.exercise7 import torch_training as ref  # noqa: E402

REFERENCE = ROOT / "reference" / "exercise7"
MAX_EPOCHS = 20


def loaders(task: mnist_run.Task):
    train = DataLoader(TensorDataset(torch.from_numpy(task.x_train), torch.from_numpy(task.t_train)),
                       batch_size=mnist_run.BATCH_SIZE, shuffle=True)
    val = DataLoader(TensorDataset(torch.from_numpy(task.x_val), torch.from_numpy(task.t_val)),
                     batch_size=mnist_run.VAL_BATCH_SIZE)
    return train, val


def time_to_target(task: mnist_run.Task, device: str, target: float) -> tuple[float, int, float]:
    """(seconds, epochs, accuracy) until the validation accuracy first reaches `target`."""
    torch.manual_seed(mnist_run.SEED)
    train, val = loaders(task)
    model = ref.build_model().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=mnist_run.LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    start = time.perf_counter()
    accuracy = 0.0
    for epoch in range(1, MAX_EPOCHS + 1):
        ref.train_one_epoch(model, train, optimizer, loss_fn, device)
        _, accuracy = ref.evaluate(model, val, loss_fn, device)
        if accuracy >= target:
            return time.perf_counter() - start, epoch, accuracy
    return float("nan"), MAX_EPOCHS, accuracy


def grading_wall_times(repeats: int) -> tuple[list[float], list[float]]:
    """(cold CLI seconds, warm grade_submission seconds) for the reference, full marks asserted."""
    from grader.catalog import get_exercise
    from grader.pipeline import grade_submission
    from grader.sandbox.launcher import Launcher

    cold = []
    with tempfile.TemporaryDirectory() as folder:
        for i in range(repeats):
            out = Path(folder) / f"result{i}.json"
            start = time.perf_counter()
            subprocess.run(["grade", "exercise7", "--submission", str(REFERENCE), "--json", str(out)],
                           cwd=ROOT, check=True, capture_output=True)
            cold.append(time.perf_counter() - start)
            result = json.loads(out.read_text())
            assert result["score"] == result["max_score"], "the reference lost points"
    warm = []
    launcher = Launcher(get_exercise("exercise7"))
    launcher.start()
    try:
        grade_submission("exercise7", REFERENCE, launcher=launcher)  # warms the sandbox and this process
        for _ in range(repeats):
            start = time.perf_counter()
            result = grade_submission("exercise7", REFERENCE, launcher=launcher)
            warm.append(time.perf_counter() - start)
            assert result.score == result.max_score, "the reference lost points"
    finally:
        launcher.close()
    return cold, warm


def summary(label: str, values: list[float], unit: str = "s") -> str:
    return (f"{label:<46} median {statistics.median(values):8.3f} {unit}   "
            f"min {min(values):8.3f}   max {max(values):8.3f}   ({len(values)} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=SANDBOX_THREADS, help="torch CPU threads (default: as graded)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--data-dir", default=None, help="folder with the MNIST files")
    parser.add_argument("--skip-grading", action="store_true", help="only the training benchmarks")
    parser.add_argument("--json", dest="json_path", default=None, help="also write the numbers to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    task = mnist_run.load_task(args.data_dir)
    print(f"data: {task.source}\n      {len(task.x_train)} training rows, {len(task.x_val)} validation rows; "
          f"device {args.device}, {args.threads} thread(s), torch {torch.__version__}")

    reference = [mnist_run.train_reference(task, args.device, args.threads) for _ in range(args.repeats)]
    target = min(mnist_run.TARGET_ACCURACY, reference[0].accuracy - mnist_run.REFERENCE_MARGIN)
    reach = [time_to_target(task, args.device, target) for _ in range(args.repeats)]
    results = {
        "data": task.source, "device": args.device, "threads": args.threads, "target_accuracy": target,
        "time_to_target_s": [r[0] for r in reach], "epochs_to_target": [r[1] for r in reach],
        "check_run_s": [r.seconds for r in reference], "check_run_accuracy": reference[0].accuracy,
    }
    print(summary(f"time to reach {target:.1%} validation accuracy", results["time_to_target_s"]))
    print(f"{'   epochs needed':<46} {sorted(set(results['epochs_to_target']))}")
    print(summary(f"check's run: fit, {mnist_run.EPOCHS} epochs", results["check_run_s"]))
    print(f"{'   its accuracy (grader-measured)':<46} {reference[0].accuracy:.4f}")
    if not args.skip_grading:
        cold, warm = grading_wall_times(args.repeats)
        results.update(grading_cold_s=cold, grading_warm_s=warm)
        print(summary("grading exercise 7, cold (`grade exercise7`)", cold))
        print(summary("grading exercise 7, warm (sandbox kept)", warm))
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
