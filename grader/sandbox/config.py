"""What the student's process is started with: its environment, its limits, and where its files are.

Both the zygote (launcher.py) and each student's process (child.py, through the spawn request
built here) take their environment from `sandbox_env`, so the two cannot drift apart.
"""

from __future__ import annotations

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


def sandbox_env(exercise: Exercise, home: Path) -> dict[str, str]:
    env = dict(SANDBOX_ENV, HOME=str(home))
    if not exercise.uses_torch:
        env.update(NUMPY_THREADS)
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
    return {"workdir": str(folder / "work"), "student_dir": str(folder / "student"),
            "pkgs_dir": str(packages), "module": exercise.module, "import_name": exercise.import_name,
            "entry": entry, "limits": limits_for(exercise), "env": sandbox_env(exercise, folder / "work")}
