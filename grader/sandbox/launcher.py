"""Starts the zygote that forks the students' processes, at the strongest isolation available.

Isolation levels (the report names the one used):
- "bwrap": the zygote runs under bubblewrap: the file system is read-only except the
  submission's own folder, the grader's own folder (references, hidden checks) and any paths
  the caller names (other students' submissions, the output folder) are hidden behind empty
  folders, /tmp and /dev/shm are private (and emptied between submissions), and there is no
  network and a private process-ID space.
- "process": a plain child process with a clean environment and resource limits. It cannot
  hide files from the student's code or stop it writing where the user running the grader
  may write; the score is still decided outside it.
- "local": portable (macOS, Windows, any Linux): a fresh Python process per submission,
  started with subprocess, no rlimits where the system has none, no user switch and nothing
  hidden (local.py). For students' feedback at home, not for grades.

At both levels, when the grader runs as root the student's code runs as an unprivileged user
id of this launcher's own (sandbox_user): it cannot write root's files, signal the grader, the
zygote or the students of other launchers (parallel batch workers), or regain privileges.
See docs/security.md for what each level does and does not prevent.
"""

from __future__ import annotations

import glob
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

from grader.catalog import PROJECT_ROOT, Exercise
from grader.sandbox.config import sandbox_env

HARNESS_FILES = ("codec.py", "child.py", "zygote.py", "local_child.py")


SANDBOX_UIDS = range(1_500_000_000, 1_500_000_000 + (1 << 24))
"""User ids the student's code runs as when the grader is root: far above real and system
users, each launcher its own, so students graded in parallel cannot signal each other."""
PRIVATE_TMP_MB = 512
"""Size of the private /tmp and /dev/shm under bwrap (memory-backed)."""


SYSTEM_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc")
"""Top-level folders the student's process sees under bwrap (read-only), besides Python."""


class SandboxUnavailable(RuntimeError):
    pass


RUNS_AS_ROOT = "--isolation {level} would run students' code as root here ({why}); refusing: {fix}"
"""The grader never runs a student's code as root: a level that would is refused with this line."""
FIX_LOCAL = "run the grader as an ordinary user, or use --isolation bwrap (apt-get install bubblewrap)"
FIX_PYTHON = ("install Python outside root's home (e.g. a venv made from /usr/bin/python3) or use --isolation bwrap "
              "(apt-get install bubblewrap)")


def sandbox_user() -> tuple[int, int] | None:
    """(uid, gid) the student's code switches to: a fresh id that owns nothing, or None when
    the grader is not root (then it cannot switch users and the code runs as the person grading)."""
    if os.geteuid() != 0:
        return None
    uid = secrets.choice(SANDBOX_UIDS)
    return uid, uid


def secret_folders() -> list[Path]:
    """What the student's process must not see: the grader's project folder (references,
    hidden checks, tests) in a source checkout; in an installed copy, the grader and reference
    packages inside site-packages (hiding all of site-packages would hide numpy)."""
    if (PROJECT_ROOT / "pyproject.toml").exists():
        return [PROJECT_ROOT]
    return [PROJECT_ROOT / "grader", PROJECT_ROOT / "reference"]


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


@lru_cache(maxsize=1)
def linux_sandbox_works() -> bool:
    """Can the zygote run here? It forks, sets rlimits, reads /proc and calls prctl."""
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    try:
        import ctypes
        import fcntl  # noqa: F401 - the output pipe is widened with it
        import resource  # noqa: F401 - child.apply_limits

        ctypes.CDLL(None).prctl  # noqa: B018 - AttributeError where libc has no prctl
    except (ImportError, AttributeError, OSError):
        return False
    return os.path.isdir("/proc/self")


def choose_isolation(requested: str) -> str:
    """The level to use: `auto` is bwrap, else process, on Linux; local wherever the Linux
    sandbox cannot run (macOS, Windows, a Linux without fork or prctl)."""
    if requested == "auto":
        if not linux_sandbox_works():
            return "local"
        return "bwrap" if bwrap_works() else "process"
    if requested not in ("bwrap", "process", "local"):
        raise SandboxUnavailable(f"unknown isolation level {requested!r}; use auto, bwrap, process or local")
    if requested in ("bwrap", "process") and not linux_sandbox_works():
        raise SandboxUnavailable(f"the {requested!r} level needs Linux (fork, prctl, /proc); use --isolation local")
    if requested == "bwrap" and not bwrap_works():
        raise SandboxUnavailable("bubblewrap (bwrap) is not usable on this machine; use --isolation process")
    return requested


def _home() -> list[Path]:
    """The grading user's home (ssh keys, other courses, downloads), hidden under bwrap; a
    Python installed there (pyenv, a venv) is bound back in read-only."""
    home = Path.home()
    return [home] if home.is_dir() and home.resolve() != Path("/") else []


def _bind_back(path: Path, hidden: Path) -> list[str]:
    """bwrap arguments that show `path` (read-only) inside the hidden folder `hidden`, through
    folders any user may cross (bwrap would make them 0700, closing them to the sandbox user)."""
    between = [a for a in reversed(path.parents) if a != hidden and _inside(a, hidden)]
    return [*(arg for a in between for arg in ("--perms", "0755", "--dir", str(a))),
            "--ro-bind", str(path), str(path)]


def _make_readable(folder: Path) -> None:
    """Folders 755 and files 644, whatever the grader's umask: the sandbox user must read them."""
    os.chmod(folder, 0o755)
    for base, dirs, files in os.walk(folder):
        for name in dirs:
            os.chmod(os.path.join(base, name), 0o755)
        for name in files:
            os.chmod(os.path.join(base, name), 0o644)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def other_exercise_source(other: Exercise) -> Path | None:
    """The file `exercises.<other>.<module>` is in the sandbox: the reference (SPEC.md). The
    students' bundle has no reference/ folder (grader/course/release.py); there it is the student's own
    copy in the course folder `grade` (or a notebook's kernel) runs in, from any folder inside it
    (else the installed stub), so a module that imports an earlier exercise works at home, with
    the student's own code."""
    from grader.catalog import REFERENCE_ROOT
    from grader.course_folder import find_course_folder

    if other.reference_path.exists():
        return other.reference_path
    if REFERENCE_ROOT.is_dir():  # the course repository, this reference not written yet
        return None
    course = find_course_folder()  # from any folder inside it, notebooks/ included
    own = course / "exercises" / other.name / f"{other.module}.py" if course else None
    return next((p for p in (own, other.stub_path) if p and p.is_file()), None)


def source_kind(other: Exercise, source: Path) -> str:
    """"reference", "stub" or "student": what other_exercise_source found for `other`."""
    if source == other.reference_path:
        return "reference"
    return "stub" if source == other.stub_path else "student"


def _widen_pipe(fd: int) -> None:
    """A 1 MiB pipe (Linux allows that unprivileged): a student's code that prints a lot waits
    less for the grader's reader thread."""
    import fcntl

    try:
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except OSError:
        pass


class Launcher:
    """One zygote and its staging folder; grades one submission at a time."""

    def __init__(self, exercise: Exercise, *, isolation: str = "auto", hide: tuple[Path, ...] = ()):
        self.exercise = exercise
        self.isolation = choose_isolation(isolation)
        if self.isolation == "local" and os.geteuid() == 0:
            raise SandboxUnavailable(RUNS_AS_ROOT.format(level="local", why="it cannot switch users", fix=FIX_LOCAL))
        self.hide = (*secret_folders(), *[Path(p) for p in hide])
        self.user = None if self.isolation == "local" else sandbox_user()
        self.root = Path(tempfile.mkdtemp(prefix="grader-sandbox-"))
        os.chmod(self.root, 0o755)
        self.harness = self.root / "_harness"
        self.harness.mkdir(mode=0o755)
        for name in HARNESS_FILES:
            shutil.copy(Path(__file__).with_name(name), self.harness / name)
            os.chmod(self.harness / name, 0o644)
        self.other_sources: dict[str, str] = {}
        """exercise -> what its staged module is: "reference", "student" (the student's own copy,
        in the bundle) or "stub"; a check that fails inside a non-reference one waits on it."""
        self.packages = self._stage_other_references()
        self.jobs = self.root / "jobs"
        """The only folder the sandbox may write (under bwrap): one fresh folder per submission."""
        self.jobs.mkdir(mode=0o755)
        self.process: subprocess.Popen | None = None
        self.control: socket.socket | None = None
        self._reader = None
        self.local = None
        """LocalProcesses at the `local` level, which has no zygote."""

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
            source = other_exercise_source(other)
            if other.name != self.exercise.name and source is not None:
                shutil.copy(source, folder / f"{other.module}.py")
                self.other_sources[other.name] = source_kind(other, source)
        _make_readable(pkgs)
        return pkgs

    # -- the zygote ---------------------------------------------------------------------
    def _command(self, fd: int) -> list[str]:
        # torch._dynamo: torch.optim imports it when the first optimizer is created (1-3 s), and
        # numpy.random (10 ms): every student's process seeds it (child.make_randomness_repeatable),
        # so without them every student's process would pay that again.
        preload = "numpy,numpy.random" + (",torch,torch._dynamo" if self.exercise.uses_torch else "")
        private = "/tmp,/dev/shm" if self.isolation == "bwrap" else ""
        user = ",".join(map(str, self.user)) if self.user else ""
        python = [sys.executable, "-I", str(self.harness / "zygote.py"), str(fd), preload, private, user]
        if self.isolation != "bwrap":
            return python
        size = str(PRIVATE_TMP_MB << 20)
        # An allow-list, not a deny-list: the student's process sees the system folders, Python
        # and its libraries, and its own sandbox folder; no home, /work, /srv, /opt or /mnt, so no
        # other copy of the course anywhere on the machine either.
        cmd = ["bwrap"]
        for name in SYSTEM_DIRS:
            path = Path("/") / name
            if path.is_symlink():
                cmd += ["--symlink", os.readlink(path), str(path)]
            elif path.is_dir():
                cmd += ["--ro-bind", str(path), str(path)]
        cmd += ["--dev", "/dev", "--proc", "/proc",
                "--perms", "1777", "--size", size, "--tmpfs", "/tmp",
                "--perms", "1777", "--size", size, "--tmpfs", "/dev/shm"]
        for device in sorted(glob.glob("/dev/nvidia*")):  # the GPU, for timed training (exercise 7)
            cmd += ["--dev-bind", device, device]
        # Python itself, and every site-packages it reads (a .pth file may add another venv's).
        libraries = [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages") and Path(p).is_dir()]
        prefixes = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, Path(sys.executable).parent, *libraries)}
        prefixes = {p for p in prefixes if not any(q != p and _inside(p, q) for q in prefixes)}
        for prefix in sorted(prefixes):
            if not any(_inside(prefix, Path("/") / name) for name in SYSTEM_DIRS):
                cmd += _bind_back(prefix, Path("/tmp") if _inside(prefix, Path("/tmp")) else Path("/"))
        # Secrets that would still be visible: inside a system folder or a Python environment
        # (a non-editable install keeps reference/ in site-packages).
        visible = [Path("/") / name for name in SYSTEM_DIRS] + sorted(prefixes)
        for hidden in sorted({*self.hide, *_home()}, key=lambda p: len(p.resolve().parts)):
            if hidden.is_dir() and any(_inside(hidden, root) for root in visible):
                cmd += ["--tmpfs", str(hidden.resolve())]
                for prefix in sorted(p for p in prefixes if _inside(p, hidden)):
                    cmd += _bind_back(prefix, hidden.resolve())
        cmd += ["--ro-bind", str(self.root), str(self.root), "--bind", str(self.jobs), str(self.jobs),
                "--unshare-net", "--unshare-ipc", "--unshare-pid", "--unshare-uts",
                "--die-with-parent", "--new-session", "--chdir", str(self.root)]
        if os.geteuid() == 0:
            # bwrap started by root keeps every capability (it could unmount the tmpfs that hides
            # the references, or remount / writable). The zygote keeps only what it needs: switch
            # the child to the sandbox user, and kill that user's processes.
            cmd += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
                    "--cap-add", "CAP_KILL"]
        return cmd + ["--"] + python

    def start(self) -> None:
        if self.isolation == "local":
            from grader.sandbox.local import LocalProcesses

            self.local = LocalProcesses(self.harness, sandbox_env(self.exercise, self.root))
            return
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = sandbox_env(self.exercise, self.root)
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
        if self.user and not json.loads(reply).get("user"):  # the sandbox user cannot reach Python here
            self.close()
            raise SandboxUnavailable(RUNS_AS_ROOT.format(
                level=self.isolation, why=f"the sandbox user cannot reach Python in {os.path.realpath(sys.executable)}",
                fix=FIX_PYTHON))

    @property
    def student_uid(self) -> int:
        """The user id the student's code runs as (the zygote's children switch to it or stop)."""
        return self.user[0] if self.user else os.geteuid()

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
        """A fresh folder with the student's files (`student/`, read-only to the student's code
        when it runs as the sandbox user) and a writable `work/`. The name is random, so no
        submission can prepare the folder of the next one."""
        folder = Path(tempfile.mkdtemp(prefix="s", dir=self.jobs))
        (folder / "student").mkdir()
        (folder / "work").mkdir()
        for rel, data in files.items():
            target = folder / "student" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        _make_readable(folder)
        if self.user:
            os.chown(folder / "work", *self.user)
        return folder

    def open_student(self, config: dict) -> tuple[int, socket.socket, int]:
        """Start one submission's process; (its pid, the connection to it, the read end of the
        pipe its stdout and stderr go to)."""
        if self.local is not None:
            return self.local.open_student(config)
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        out_read, out_write = os.pipe()
        _widen_pipe(out_write)
        try:
            pid = self.spawn(config, child_end.fileno(), out_write)
        except BaseException:
            parent_end.close()
            os.close(out_read)
            raise
        finally:
            child_end.close()
            os.close(out_write)
        return pid, parent_end, out_read

    def spawn(self, config: dict, rpc_fd: int, out_fd: int) -> int:
        return int(self._ask({"op": "spawn", "config": config}, [rpc_fd, out_fd])["pid"])

    def poll(self, pid: int) -> dict:
        """{"state": "running"} while the submission's process lives, else how it ended."""
        if self.local is not None:
            return self.local.poll(pid)
        try:
            return self._ask({"op": "poll", "pid": pid})
        except (OSError, SandboxUnavailable, ValueError):
            return {"state": "killed"}

    def finish(self, pid: int, grace: float = 0.0) -> dict:
        """Kill the submission's process and everything it started; how did it end?"""
        if self.local is not None:
            return self.local.finish(pid, grace)
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
        if self.local is not None:
            self.local.close()
            self.local = None
        self.close_zygote()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "Launcher":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()
