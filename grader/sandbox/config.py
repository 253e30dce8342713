"""What the student's process is started with: its environment, its limits, and where its files are.

Both the zygote (launcher.py) and each student's process (child.py, through the spawn request
built here) take their environment from `sandbox_env`, so the two cannot drift apart.

A batch worker that shares a GPU with other workers says so once, before its sandbox starts
(`use_gpu_share`, called by batch/pool.py): its students then see only that worker's GPU
(CUDA_VISIBLE_DEVICES) and may take only their share of its memory (`gpu_memory_fraction` in
the spawn request, applied by child.share_gpu_memory).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from grader.catalog import Exercise

SANDBOX_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
    "MPLBACKEND": "Agg",
    "USER": "student",  # getpass.getuser() reads these first: the sandbox's user id has no passwd entry
    "LOGNAME": "student",
}
NUMPY_THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
"""One BLAS thread for the numpy exercises: parallel batch workers each get a core."""

NPROC_LIMIT = 1024
"""Processes and threads of the student's code, counted per user: applied only when the code
runs as the sandbox's own user (the grader started as root), see child.apply_limits."""


GPU_MEMORY_HEADROOM = 0.9
"""Of each share of a GPU's memory, the part a student's PyTorch allocator may fill: the CUDA
contexts (about 0.5 GB each) and the grader's own reference run sit outside the allocator's
fraction, so the shares must leave room for them."""


@dataclass(frozen=True)
class GpuShare:
    """One GPU (as CUDA_VISIBLE_DEVICES names it) and how many batch workers grade on it at once."""

    device: str
    workers: int = 1

    @property
    def memory_fraction(self) -> float:
        return GPU_MEMORY_HEADROOM / max(self.workers, 1)


_gpu_share: GpuShare | None = None
"""This process's share of a GPU: set by a batch worker, None everywhere else (then the student's
process sees every GPU the grader sees, and its memory is not divided)."""


def use_gpu_share(share: GpuShare | None) -> None:
    """From now on, this process and the students' processes it starts use `share` (None: no
    GPU division). The process's own CUDA_VISIBLE_DEVICES is set too, so the reference that
    the timed check runs here trains on the same GPU as the students; CUDA reads it when it
    first starts, so call this before anything in the process touches CUDA."""
    global _gpu_share
    _gpu_share = share
    if share is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = share.device


def sandbox_env(exercise: Exercise, home: Path) -> dict[str, str]:
    env = dict(SANDBOX_ENV, HOME=str(home))
    if not exercise.uses_torch:
        env.update(NUMPY_THREADS)
    elif _gpu_share is not None:
        env["CUDA_VISIBLE_DEVICES"] = _gpu_share.device
    return env


def limits_for(exercise: Exercise) -> dict:
    """The rlimits of one student's process (child.apply_limits)."""
    return {"memory_mb": exercise.memory_limit_mb, "cpu_s": exercise.submission_timeout + 10, "nofile": 256,
            "fsize_mb": 64, "nproc": NPROC_LIMIT}


def child_config(exercise: Exercise, packages: Path, entry: dict, folder: Path) -> dict:
    """The spawn request for one submission staged in `folder` (Launcher.stage); `entry` says
    how to load the student's module (Submission.entry); `packages` holds the other exercises."""
    entry = dict(entry)
    if entry["kind"] == "file":
        entry["path"] = str(folder / "student" / entry["path"])
    config = {"workdir": str(folder / "work"), "student_dir": str(folder / "student"),
              "pkgs_dir": str(packages), "module": exercise.module, "import_name": exercise.import_name,
              "entry": entry, "limits": limits_for(exercise), "env": sandbox_env(exercise, folder / "work")}
    if exercise.uses_torch and _gpu_share is not None:
        config["gpu_memory_fraction"] = _gpu_share.memory_fraction
    return config
