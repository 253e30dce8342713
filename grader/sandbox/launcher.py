"""Starts the zygote that forks the students' processes, at the strongest isolation available.

Isolation levels (the report names the one used):
- "bwrap": the zygote runs under bubblewrap: the file system is read-only, the grader's own
  folder (references, hidden checks) and any paths the caller names (other students'
  submissions, the output folder) are hidden behind empty folders, /tmp is private, and there
  is no network and a private process-ID space.
- "process": a plain child process with a clean environment and resource limits. It cannot
  hide files from the student's code or stop it writing where the user running the grader
  may write; the score is still decided outside it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

from grader.catalog import PROJECT_ROOT, Exercise

HARNESS_FILES = ("codec.py", "child.py", "zygote.py")
SANDBOX_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
    "MPLBACKEND": "Agg",
}
NUMPY_THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class SandboxUnavailable(RuntimeError):
    pass


@lru_cache(maxsize=1)
def bwrap_works() -> bool:
    """bubblewrap is installed and this machine lets it create namespaces."""
    exe = shutil.which("bwrap")
    if not exe:
        return False
    try:
        probe = subprocess.run([exe, "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid", "--dev", "/dev",
                                "--proc", "/proc", "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def choose_isolation(requested: str) -> str:
    if requested == "auto":
        return "bwrap" if bwrap_works() else "process"
    if requested == "bwrap" and not bwrap_works():
        raise SandboxUnavailable("bubblewrap (bwrap) is not usable on this machine; use --isolation process")
    if requested not in ("bwrap", "process"):
        raise SandboxUnavailable(f"unknown isolation level {requested!r}; use auto, bwrap or process")
    return requested


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


class Launcher:
    """One zygote and its staging folder; grades one submission at a time."""

    def __init__(self, exercise: Exercise, *, isolation: str = "auto", hide: tuple[Path, ...] = ()):
        self.exercise = exercise
        self.isolation = choose_isolation(isolation)
        self.hide = (PROJECT_ROOT, *[Path(p) for p in hide])
        self.root = Path(tempfile.mkdtemp(prefix="grader-sandbox-"))
        os.chmod(self.root, 0o755)
        self.harness = self.root / "_harness"
        self.harness.mkdir()
        for name in HARNESS_FILES:
            shutil.copy(Path(__file__).with_name(name), self.harness / name)
        self.packages = self._stage_other_references()
        self.process: subprocess.Popen | None = None
        self.control: socket.socket | None = None
        self._reader = None
        self._counter = 0

    def _stage_other_references(self) -> Path:
        """exercises.exerciseK.<module> for every exercise but this one: the reference (SPEC.md)."""
        from grader.catalog import EXERCISES

        pkgs = self.root / "pkgs"
        top = pkgs / "exercises"
        top.mkdir(parents=True)
        (top / "__init__.py").write_text("")
        for other in EXERCISES.values():
            folder = top / other.name
            folder.mkdir()
            (folder / "__init__.py").write_text("")
            if other.name != self.exercise.name and other.reference_path.exists():
                shutil.copy(other.reference_path, folder / f"{other.module}.py")
        return pkgs

    # -- the zygote ---------------------------------------------------------------------
    def _command(self, fd: int) -> list[str]:
        preload = "numpy,torch" if self.exercise.uses_torch else "numpy"
        python = [sys.executable, "-I", str(self.harness / "zygote.py"), str(fd), preload]
        if self.isolation != "bwrap":
            return python
        cmd = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
        prefixes = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).parent}
        for hidden in self.hide:
            if hidden.exists() and hidden.is_dir():
                cmd += ["--tmpfs", str(hidden.resolve())]
                cmd += [arg for p in prefixes if _inside(p, hidden) for arg in ("--ro-bind", str(p), str(p))]
        cmd += ["--bind", str(self.root), str(self.root),
                "--unshare-net", "--unshare-ipc", "--unshare-pid", "--unshare-uts",
                "--die-with-parent", "--new-session", "--chdir", str(self.root), "--"]
        return cmd + python

    def start(self) -> None:
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = dict(SANDBOX_ENV, HOME=str(self.root))
        if not self.exercise.uses_torch:
            env.update(NUMPY_THREADS)
        log = open(self.root / "zygote.log", "ab")
        try:
            self.process = subprocess.Popen(self._command(child_end.fileno()), pass_fds=[child_end.fileno()],
                                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                            stderr=log, start_new_session=True)
        finally:
            child_end.close()
            log.close()
        self.control = parent_end
        self.control.settimeout(120)
        self._reader = self.control.makefile("rb")
        reply = self._reader.readline()
        if not reply:
            err = (self.root / "zygote.log").read_text(errors="replace")[-500:]
            self.close()
            raise SandboxUnavailable(f"the sandbox process did not start: {err.strip() or 'no output'}")

    def _ask(self, request: dict, fds: list[int] | None = None) -> dict:
        if self.process is None or self.process.poll() is not None:
            self.close_zygote()
            self.start()
        data = json.dumps(request).encode()
        if fds:
            socket.send_fds(self.control, [data], fds)
        else:
            self.control.sendall(data)
        line = self._reader.readline()
        if not line:
            raise SandboxUnavailable("the sandbox process stopped answering")
        return json.loads(line)

    # -- per submission -----------------------------------------------------------------
    def stage(self, files: dict[str, bytes]) -> Path:
        """A fresh folder with the student's files (`student/`) and a writable `work/`."""
        self._counter += 1
        folder = self.root / f"s{self._counter}"
        (folder / "student").mkdir(parents=True)
        (folder / "work").mkdir()
        for rel, data in files.items():
            target = folder / "student" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return folder

    def spawn(self, config: dict, rpc_fd: int, out_fd: int) -> int:
        return int(self._ask({"op": "spawn", "config": config}, [rpc_fd, out_fd])["pid"])

    def finish(self, pid: int, grace: float = 0.0) -> dict:
        """Kill the submission's process and everything it started; how did it end?"""
        try:
            return self._ask({"op": "finish", "pid": pid, "grace": grace})
        except (OSError, SandboxUnavailable, ValueError):
            self.close_zygote()
            return {"state": "killed"}

    def close_zygote(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.process is not None:
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
            self.process = None

    def close(self) -> None:
        self.close_zygote()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "Launcher":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()
