"""The portable `local` isolation level: the student's code in a fresh Python process, anywhere.

The Linux sandbox (zygote.py) needs fork, prctl, resource and /proc, so it cannot run on a
student's Mac or Windows laptop. At this level each submission gets a new `sys.executable`
process started with subprocess (local_child.py), speaking the same protocol as the forked
child, over a loopback TCP connection the child proves with a one-time token. The score is
still decided only in the grader's process; time limits hold through the Session's deadlines,
and when a submission ends its whole process tree is killed (psutil). What this level does not
isolate is in docs/security.md: it is for feedback at home, not for an instructor's grades.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from grader.sandbox.errors import IMPORTING, SANDBOX_REFUSED, StudentCrashed

CONNECT_TIMEOUT = 60.0
"""Seconds a new process may take to start Python and connect back (a loaded laptop is slow)."""
TOKEN_BYTES = 32
KILL_ROUNDS = 20
WINDOWS_ENV = ("SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT", "TEMP", "TMP")
"""Variables Python itself needs to start on Windows (sockets and random numbers fail without SYSTEMROOT)."""


def local_env(sandbox_env: dict[str, str]) -> dict[str, str]:
    """The sandbox's clean environment, plus what the operating system needs to start Python."""
    env = dict(sandbox_env)
    if os.name == "nt":
        env.update({name: os.environ[name] for name in WINDOWS_ENV if name in os.environ})
        env["PATH"] = os.environ.get("PATH", "")
    return env


def _own_process_group() -> dict:
    """Popen arguments that put the child in a group of its own, so it can be killed as one
    and a Ctrl-C in the student's terminal reaches the grader, not the student's code."""
    if os.name == "nt":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def describe_returncode(code: int | None) -> dict:
    """A Popen return code in the zygote's words (zygote.describe_status), for errors.StudentCrashed."""
    if code is None:
        return {"state": "killed"}
    if code < 0:
        return {"state": "signal", "signal": -code}
    return {"state": "exited", "code": code}


class LocalProcesses:
    """The student's processes of one Launcher at the `local` level: start, poll, kill."""

    def __init__(self, harness: Path, env: dict[str, str]):
        self.harness = harness
        self.env = local_env(env)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.children: dict[int, subprocess.Popen] = {}

    def open_student(self, config: dict) -> tuple[int, socket.socket, int]:
        """Start one submission's process; (its pid, the connection to it, the read end of its output)."""
        token = secrets.token_hex(TOKEN_BYTES)
        config_path = Path(config["workdir"]).parent / "local_config.json"
        config_path.write_text(json.dumps(config), encoding="utf-8")
        port = self.listener.getsockname()[1]
        command = [sys.executable, "-I", str(self.harness / "local_child.py"), str(port), token, str(config_path)]
        out_read, out_write = os.pipe()
        try:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out_write, stderr=out_write,
                                       env=self.env, cwd=config["workdir"], **_own_process_group())
        finally:
            os.close(out_write)
        self.children[process.pid] = process
        try:
            return process.pid, self._accept(process, token), out_read
        except StudentCrashed:
            self.finish(process.pid)
            raise

    def _accept(self, process: subprocess.Popen, token: str) -> socket.socket:
        """The connection of `process`: the first one that presents its token. Before the token,
        nothing of the student's has run, so a failure here is the machine's, never the student's."""
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            self.listener.settimeout(0.25)
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            if self._presents(conn, token):
                conn.settimeout(None)
                return conn
            conn.close()
        raise StudentCrashed({"state": "exited", "code": SANDBOX_REFUSED}, IMPORTING)

    @staticmethod
    def _presents(conn: socket.socket, token: str) -> bool:
        expected = token.encode("ascii")
        conn.settimeout(5)
        received = b""
        try:
            while len(received) < len(expected):
                chunk = conn.recv(len(expected) - len(received))
                if not chunk:
                    return False
                received += chunk
        except OSError:
            return False
        return hmac.compare_digest(received, expected)

    def poll(self, pid: int) -> dict:
        process = self.children.get(pid)
        if process is None:
            return {"state": "killed"}
        code = process.poll()
        return {"state": "running"} if code is None else describe_returncode(code)

    def finish(self, pid: int, grace: float = 0.0) -> dict:
        """Kill the submission's process and everything it started; how did its own process end?"""
        process = self.children.pop(pid, None)
        if process is None:
            return {"state": "killed"}
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        ended_by_itself = process.returncode
        kill_tree(process.pid)
        process.wait()
        return describe_returncode(ended_by_itself)

    def close(self) -> None:
        for pid in list(self.children):
            self.finish(pid)
        self.listener.close()


def kill_tree(pid: int) -> None:
    """SIGKILL a process and all its descendants. Each is first suspended, round after round,
    until no new one appears: a process that keeps starting others cannot outrun the kill,
    and none is orphaned (out of reach) by its parent dying first. Where there are process
    groups, the child's whole group is killed too, which catches descendants that were
    orphaned earlier but did not leave the group."""
    import psutil

    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        root = None
    family: dict[int, psutil.Process] = {}
    for _ in range(KILL_ROUNDS):
        found = _process_and_descendants(root) if root else []
        new = [p for p in found if p.pid not in family]
        if not new:
            break
        for p in new:
            family[p.pid] = p
            _quietly(p.suspend)
    for p in family.values():
        _quietly(p.kill)
    if hasattr(os, "killpg"):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    psutil.wait_procs([p for p in family.values() if p.pid != pid], timeout=5)  # the caller reaps its own child


def _process_and_descendants(root) -> list:
    import psutil

    try:
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _quietly(action) -> None:
    import psutil

    try:
        action()
    except psutil.Error:
        pass
