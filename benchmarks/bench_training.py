"""Benchmark: numpy training speed of the reference TwoLayerNet and the wall time of grading exercise 4.

    python benchmarks/bench_training.py [--repeats 5] [--data-dir DIR] [--json FILE]

Prints medians (and min-max) over the repetitions of
- throughput of the reference mini-batch SGD loop (training examples per second), both for
  the whole `train_network` run the timed check makes (accuracies once per epoch included)
  and for the bare gradient + update steps;
- time to reach the check's test-accuracy threshold (resolution: one epoch, when the
  accuracies are measured) and the accuracy at the end;
- wall time of `grade_submission("exercise4", reference)`, the full grading of one
  submission (sandbox start, every public and hidden check, the timed MNIST run).

numpy runs on one BLAS thread, as in the sandbox. The data is what grader.mnist finds
(MNIST_DATA_DIR, the cache, or the course's ../shared/data/mnist); its source is printed.
The torch part of the training benchmarks lives with exercise 7.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.checks.exercise4 import endtoend as e2e  # noqa: E402
from grader.mnist import load_mnist  # noqa: E402
from reference.exercise3.two_layer_net import TwoLayerNet  # noqa: E402
from reference.exercise4.train import train_network  # noqa: E402


class TimedNetwork(TwoLayerNet):
    """The reference network, noting when each test-set accuracy was measured."""

    def __init__(self, x_test):
        super().__init__(784, e2e.HIDDEN, 10)
        self.params.update(e2e.initial_params())
        self.x_test = x_test
        self.start = time.perf_counter()
        self.test_times: list[float] = []

    def accuracy(self, x, t):
        value = super().accuracy(x, t)
        if x is self.x_test:
            self.test_times.append(time.perf_counter() - self.start)
        return value


def one_training_run(data: e2e.Prepared) -> dict:
    network = TimedNetwork(data.x_test)
    with e2e.single_threaded_blas():
        network.start = time.perf_counter()
        history = train_network(network, data.x_train, data.t_train, data.x_test, data.t_test,
                                iters_num=e2e.ITERS, batch_size=e2e.BATCH, learning_rate=e2e.LEARNING_RATE,
                                seed=e2e.SEED)
        seconds = time.perf_counter() - network.start
    reached = [t for t, acc in zip(network.test_times, history["test_acc"]) if acc >= e2e.MIN_TEST_ACCURACY]
    return {"seconds": seconds, "examples_per_s": e2e.ITERS * e2e.BATCH / seconds,
            "seconds_to_threshold": reached[0] if reached else float("nan"),
            "final_test_acc": e2e.accuracy(network.params, data.x_test, data.labels_test)}


def bare_steps(data: e2e.Prepared, steps: int = 300) -> float:
    """Examples per second of gradient + update alone (no loss, no accuracies)."""
    network = TwoLayerNet(784, e2e.HIDDEN, 10)
    network.params.update(e2e.initial_params())
    rng = np.random.default_rng(0)
    batches = [rng.choice(len(data.x_train), e2e.BATCH) for _ in range(steps)]
    with e2e.single_threaded_blas():
        start = time.perf_counter()
        for batch in batches:
            grads = network.gradient(data.x_train[batch], data.t_train[batch])
            for key in network.params:
                network.params[key] -= e2e.LEARNING_RATE * grads[key]
        seconds = time.perf_counter() - start
    return steps * e2e.BATCH / seconds


def grading_wall_time() -> float:
    from grader.pipeline import grade_submission

    start = time.perf_counter()
    result = grade_submission("exercise4", ROOT / "reference" / "exercise4")
    seconds = time.perf_counter() - start
    if result.score != result.max_score:
        raise SystemExit(f"the reference lost points: {[(c.name, c.message) for c in result.checks if not c.passed]}")
    return seconds


def summary(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--data-dir", default=None, help="folder with the MNIST IDX files")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    t0 = time.perf_counter()
    mnist = load_mnist(args.data_dir)
    load_seconds = time.perf_counter() - t0
    data = e2e.Prepared.from_mnist(mnist)
    runs = [one_training_run(data) for _ in range(args.repeats)]
    results = {
        "dataset": data.source,
        "settings": data.settings_text(),
        "blas_threads": 1 if e2e._openblas() else "unchanged (OpenBLAS controls not found)",
        "load_seconds_first_call": load_seconds,
        "train_network_seconds": summary([r["seconds"] for r in runs]),
        "train_network_examples_per_s": summary([r["examples_per_s"] for r in runs]),
        "bare_sgd_examples_per_s": summary([bare_steps(data) for _ in range(args.repeats)]),
        "seconds_to_test_acc_threshold": summary([r["seconds_to_threshold"] for r in runs]),
        "threshold": e2e.MIN_TEST_ACCURACY,
        "final_test_acc": summary([r["final_test_acc"] for r in runs]),
        "grade_exercise4_wall_seconds": summary([grading_wall_time() for _ in range(args.repeats)]),
    }
    for key, value in results.items():
        if isinstance(value, dict):
            print(f"{key:32s} median {value['median']:10.3f}   (min {value['min']:.3f}, max {value['max']:.3f}, "
                  f"n={value['n']})")
        else:
            print(f"{key:32s} {value}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
