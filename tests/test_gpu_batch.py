"""Batch grading on GPUs, tested without one: which GPU each worker's students see, what share of
its memory they may fill, and that both reach the student's process. nvidia-smi and torch.cuda
are faked; a machine with GPUs runs the real thing with benchmarks/gpu_check.sh."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from grader.batch import pool
from grader.catalog import get_exercise
from grader.options import GradingOptions
from grader.sandbox import codec, config

EXERCISE7 = get_exercise("exercise7")
ROOT = Path(__file__).resolve().parents[1]
NVIDIA_SMI_LISTING = """GPU 0: NVIDIA H200 (UUID: GPU-aaaa)
GPU 1: NVIDIA H200 (UUID: GPU-bbbb)
  MIG 1g.18gb     Device  0: (UUID: MIG-cccc)
"""


@pytest.fixture
def no_gpu_share(monkeypatch):
    """The test leaves this process as it found it: no GPU share, CUDA_VISIBLE_DEVICES as it was."""
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    yield
    config._gpu_share = None


@pytest.fixture
def fake_nvidia_smi(tmp_path, monkeypatch):
    """An nvidia-smi on PATH that lists two GPUs (and a MIG slice, which is not a GPU of its own)."""
    script = tmp_path / "bin" / "nvidia-smi"
    script.parent.mkdir()
    script.write_text(f"#!/bin/sh\ncat <<'EOF'\n{NVIDIA_SMI_LISTING}EOF\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{script.parent}:/usr/bin:/bin")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)


def test_are_the_gpus_counted_from_nvidia_smi(fake_nvidia_smi):
    """Does nvidia-smi -L's listing give one entry per GPU, MIG slices left out?"""
    assert pool.visible_gpus() == ["0", "1"]


@pytest.mark.parametrize("chosen, expected", [("2,3", ["2", "3"]), ("GPU-bbbb", ["GPU-bbbb"]), ("-1", []), ("", [])])
def test_does_the_instructors_cuda_visible_devices_win(fake_nvidia_smi, monkeypatch, chosen, expected):
    """When the instructor has chosen GPUs with CUDA_VISIBLE_DEVICES, are exactly those used (none for -1 or empty)?"""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", chosen)
    assert pool.visible_gpus() == expected


def test_does_a_machine_without_nvidia_smi_have_no_gpus(tmp_path, monkeypatch):
    """Without nvidia-smi (no driver), is the batch planned without GPUs?"""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert pool.visible_gpus() == []


def test_are_workers_spread_evenly_over_the_gpus():
    """Five workers on two GPUs: slots alternate, and each knows how many share its GPU?"""
    shares = pool.gpu_shares(["0", "1"], 5)
    assert [s.device for s in shares] == ["0", "1", "0", "1", "0"]
    assert [s.workers for s in shares] == [3, 2, 3, 2, 3]
    assert shares[0].memory_fraction == pytest.approx(config.GPU_MEMORY_HEADROOM / 3)
    assert pool.gpu_shares([], 3) == [None, None, None]


def test_does_the_spawn_request_carry_the_share_only_for_torch_exercises(tmp_path, no_gpu_share):
    """With a GPU share, does a torch exercise's student see only that GPU and get its memory fraction,
    while a numpy exercise and a process without a share get neither?"""
    entry = {"kind": "file", "path": "torch_training.py"}
    plain = config.child_config(EXERCISE7, tmp_path, entry, tmp_path)
    assert "gpu_memory_fraction" not in plain and "CUDA_VISIBLE_DEVICES" not in plain["env"]
    config.use_gpu_share(config.GpuShare("1", workers=4))
    shared = config.child_config(EXERCISE7, tmp_path, entry, tmp_path)
    assert shared["gpu_memory_fraction"] == pytest.approx(config.GPU_MEMORY_HEADROOM / 4)
    assert shared["env"]["CUDA_VISIBLE_DEVICES"] == "1"
    numpy_exercise = config.child_config(get_exercise("exercise1"), tmp_path, {"kind": "file", "path": "losses.py"},
                                         tmp_path)
    assert "gpu_memory_fraction" not in numpy_exercise and "CUDA_VISIBLE_DEVICES" not in numpy_exercise["env"]


def sandbox_child():
    """child.py as the sandbox imports it: a top-level module beside a top-level `codec`."""
    sys.modules.setdefault("codec", codec)
    spec = importlib.util.spec_from_file_location("sandbox_child_under_test", Path(config.__file__).with_name("child.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FakeCuda:
    def __init__(self, available: bool, devices: int = 2, fails: bool = False):
        self.available, self.devices, self.fails = available, devices, fails
        self.fractions: list[tuple[float, int]] = []

    def is_available(self):
        return self.available

    def device_count(self):
        return self.devices

    def set_per_process_memory_fraction(self, fraction, device):
        if self.fails:
            raise RuntimeError("CUDA error: initialization error")
        self.fractions.append((fraction, device))


@pytest.mark.parametrize("fraction, cuda, expected", [
    (0.3, FakeCuda(available=True), [(0.3, 0), (0.3, 1)]),
    (None, FakeCuda(available=True), []),
    (0.3, FakeCuda(available=False), []),
    (0.3, FakeCuda(available=True, fails=True), []),
])
def test_is_the_memory_fraction_set_only_when_asked_and_cuda_is_there(monkeypatch, fraction, cuda, expected):
    """Does the student's process cap every visible GPU at its fraction when the request carries one and
    CUDA is available, and otherwise (or when CUDA fails to start) carry on untouched?"""
    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(cuda=cuda))
    sandbox_child().share_gpu_memory(fraction)
    assert cuda.fractions == expected


STUDENTS = ("ada", "bob", "cy", "dee", "eve", "fay")
BATCH_ON_TWO_FAKE_GPUS = """
import json, os, sys
from pathlib import Path
from grader.batch import pool, run
from grader.checks.exercise7 import mnist_run
from grader.options import GradingOptions

pool.visible_gpus = lambda environ=None: ["0", "1"]
mnist_run.check = lambda student, options: None  # the workers are forked: they inherit both
report = run.run_batch(Path(sys.argv[1]), "exercise7", Path(sys.argv[2]), jobs=2, options=GradingOptions(device="auto"))
print(json.dumps({"graded": report.graded, "errors": report.errors,
                  "own_cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES")}))
"""


@pytest.mark.slow
def test_does_each_batch_worker_give_its_students_their_own_gpu(tmp_path):
    """In a real batch of exercise 7 on two (faked) GPUs with two workers, does each student's process
    see exactly one GPU, one of each worker's, and the batch's own process no restriction?

    The batch runs in a fresh interpreter: its workers are forked, and a process in which torch has
    already run its OpenMP threads (earlier tests here) forks children that hang in their first
    torch operation."""
    source = EXERCISE7.reference_path.read_text()
    subs = tmp_path / "subs"
    for name in STUDENTS:
        (subs / name).mkdir(parents=True)
        (subs / name / "torch_training.py").write_text(
            "import os\nprint('sees GPU', os.environ.get('CUDA_VISIBLE_DEVICES'))\n" + source)
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    batch = subprocess.run([sys.executable, "-c", BATCH_ON_TWO_FAKE_GPUS, str(subs), str(tmp_path / "out")],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert batch.returncode == 0, batch.stderr[-2000:]
    summary = json.loads(batch.stdout.splitlines()[-1])
    assert summary == {"graded": len(STUDENTS), "errors": 0, "own_cuda_visible_devices": None}
    seen = set()
    for name in STUDENTS:
        result = json.loads((tmp_path / "out" / name / "result.json").read_text())
        assert result["score"] == result["max_score"]
        lines = [line.split() for line in result["output"].splitlines() if line.startswith("sees GPU")]
        assert lines and {line[2] for line in lines} <= {"0", "1"}, result["output"]
        seen |= {line[2] for line in lines}
    assert seen == {"0", "1"}


def test_does_a_cpu_batch_leave_the_gpus_alone(tmp_path, monkeypatch):
    """With --device cpu, are no GPUs looked for at all?"""
    monkeypatch.setattr(pool, "visible_gpus", lambda environ=None: pytest.fail("GPUs looked for on a CPU batch"))
    settings = pool.WorkerSettings(exercise=EXERCISE7, options=GradingOptions(device="cpu"), out=tmp_path, key="k",
                                   hide=(), formats=())
    assert pool.Pool(settings, 3, lambda *a: None, lambda *a: None)._gpus_for(3) == [None, None, None]
