"""The zygote: a process that has already imported numpy (and torch when asked) and forks one
child per submission, so a student's process starts in milliseconds instead of a second.

It is the *subreaper* of everything a child starts: processes the student's code spawns,
even ones that start their own session or ignore SIGTERM, stay its descendants, and
`finish` kills all of them. It talks to the grader over a Unix socket; requests are JSON,
and the spawn request carries the child's two file descriptors (its RPC socket and the
write end of its output pipe).

Copied into the sandbox with child.py and codec.py.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> None:
    """Processes the student's code starts stay our descendants even when they detach, so
    `kill_everything` finds them all. The cleanup depends on it: a failure raises, and the
    zygote does not start (the launcher reports why) rather than grade with it missing."""
    from child import prctl

    try:
        prctl(PR_SET_CHILD_SUBREAPER, 1)
    except AttributeError:
        pass  # not Linux: children that detach themselves may outlive the grading (documented)


def descendants(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    found, stack = [], [root]
    while stack:
        for child in parents.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def reap_all() -> dict[int, int]:
    statuses = {}
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return statuses
        if pid == 0:
            return statuses
        statuses[pid] = status


def kill_everything(limit_s: float = 10.0) -> dict[int, int]:
    """SIGKILL every descendant until none is left; returns the exit statuses reaped.

    Each round kills all it finds, then waits only until those are gone (usually well under
    a millisecond) before looking again for children they started in the meantime."""
    statuses = reap_all()
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        pids = descendants(os.getpid())
        if not pids:
            return statuses
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        settle = time.monotonic() + 0.05
        while time.monotonic() < settle:
            statuses.update(reap_all())
            if not any(os.path.exists(f"/proc/{pid}") for pid in pids):
                break
            time.sleep(0.0005)
    return statuses


def describe_status(status: int | None) -> dict:
    if status is None:
        return {"state": "killed"}
    if os.WIFSIGNALED(status):
        return {"state": "signal", "signal": os.WTERMSIG(status)}
    return {"state": "exited", "code": os.WEXITSTATUS(status)}


def wait_for(pid: int, grace: float) -> int | None:
    deadline = time.monotonic() + grace
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if done:
            return status
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.002)


def private_entries(folders: list[str]) -> set[str]:
    """What the private folders hold before any student runs: what bwrap put there (the sandbox's
    own folder, a virtualenv bound back into /tmp), never to be walked or removed."""
    return {os.path.join(f, name) for f in folders if os.path.isdir(f) for name in os.listdir(f)}


def empty_private_folders(folders: list[str], user: list[int] | None, keep: set[str] = frozenset()) -> None:
    """Remove what the last submission left in the sandbox's private /tmp and /dev/shm, so
    the next one (e.g. a student who caches data in /tmp) never reads it. Done by a child
    that becomes the sandbox user, the owner of those files."""
    leftovers = [os.path.join(f, name) for f in folders if os.path.isdir(f) for name in os.listdir(f)]
    leftovers = [path for path in leftovers if path not in keep and not os.path.ismount(path)]
    if not leftovers:
        return
    from child import become_user

    pid = os.fork()
    if pid == 0:
        try:
            if user and os.getuid() == 0:
                become_user(user[0], user[1])  # never removes as root: a student's link could point anywhere
            for path in leftovers:
                remove(path)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def remove(path: str) -> None:
    """Delete a file or a whole tree, even folders the student made unreadable (chmod 000)."""
    import shutil

    if not os.path.isdir(path) or os.path.islink(path):
        try:
            os.unlink(path)
        except OSError:
            pass
        return

    def unlock(folder: str) -> None:
        try:
            os.chmod(folder, 0o700)
        except OSError:
            pass

    unlock(path)
    for base, dirs, _ in os.walk(path, onerror=lambda exc: None):  # top-down: unlocked before entered
        for name in dirs:
            unlock(os.path.join(base, name))
    shutil.rmtree(path, ignore_errors=True)


SWITCH_FAILED, UNREADABLE = 2, 1
"""Exit codes of user_can_run_python's probe."""


def user_can_run_python(user: list[int], preload: list[str]) -> bool:
    """Can the sandbox user read Python, the preloaded packages and this harness? (Not when
    Python lives in root's private home, e.g. pyenv in /root, at the "process" level.) Raises
    if the switch to that user fails: the code would then run as root without anyone knowing."""
    from child import become_user

    paths = [os.__file__, os.path.dirname(os.__file__), os.path.dirname(os.path.abspath(__file__))]
    paths += [os.path.dirname(sys.modules[name].__file__) for name in preload if name in sys.modules]
    pid = os.fork()
    if pid == 0:
        code = SWITCH_FAILED
        try:
            become_user(user[0], user[1])
            code = UNREADABLE
            readable = all(os.access(p, os.R_OK) for p in paths) and os.access(sys.executable, os.X_OK)
            code = 0 if readable else UNREADABLE
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == SWITCH_FAILED:
        raise OSError(f"could not switch to the sandbox user {user[0]}: refusing to run students' code as root")
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


WATCH_SECONDS = 0.2
"""How often the zygote measures the memory of a running submission (MemoryWatch)."""


def status_kb(pid: int, field: str) -> int:
    """A field in kB of /proc/<pid>/status, 0 once the process is gone. That file is readable
    for a process of another user, unlike smaps: under bwrap started by root the zygote has no
    CAP_SYS_PTRACE to read the sandbox user's."""
    prefix = field.encode() + b":"
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(prefix):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def files_in_kb(folders: list[str]) -> int:
    """kB the private /tmp and /dev/shm hold (memory-backed file systems): one statvfs each,
    however many files the student's code wrote."""
    used = 0
    for folder in folders:
        try:
            info = os.statvfs(folder)
        except OSError:
            continue
        used += (info.f_blocks - info.f_bfree) * info.f_frsize // 1024
    return used


class MemoryWatch:
    """Bounds the memory a submission holds that RLIMIT_DATA (child.apply_limits) cannot see.

    RLIMIT_DATA counts each process's private memory, so that CUDA's huge unused address-space
    reservation fits; it does not count shared memory (an anonymous MAP_SHARED mapping, a
    memfd, a mapped /dev/shm file) nor files in the private /tmp and /dev/shm, which are memory
    too. Every WATCH_SECONDS the zygote adds up the shared memory resident in any process of
    the submission, what the private folders hold, and the resident private memory of the
    submission's own process beyond what it inherited from the zygote; over the submission's
    limit, it kills them all and the grader reports "used more memory than the N MB".
    A bomb of private memory alone still meets RLIMIT_DATA first, as a MemoryError."""

    def __init__(self, private: list[str]):
        self.private = private
        self.files_at_start_kb = files_in_kb(private)
        self.watched: dict[int, tuple[int, int]] = {}
        """pid -> (limit in kB, private memory it inherited from the zygote in kB)"""
        self.stopped: dict[int, dict] = {}
        """pid -> how its submission ended, for those this watch stopped"""
        self.next_check = 0.0

    def start(self, pid: int, limit_mb: int | None) -> None:
        if limit_mb:
            self.watched[pid] = (int(limit_mb) << 10, status_kb(os.getpid(), "RssAnon"))

    def forget(self, pid: int) -> dict | None:
        """Stop watching `pid`; how it ended if this watch stopped it."""
        self.watched.pop(pid, None)
        return self.stopped.pop(pid, None)

    def in_use_kb(self, pid: int, inherited_kb: int) -> int:
        shared = sum(status_kb(each, "RssShmem") for each in descendants(os.getpid()))
        own = max(status_kb(pid, "RssAnon") - inherited_kb, 0)
        files = max(files_in_kb(self.private) - self.files_at_start_kb, 0)
        return own + shared + files

    def check(self) -> None:
        """Measure each watched submission, at most once every WATCH_SECONDS."""
        if not self.watched or time.monotonic() < self.next_check:
            return
        self.next_check = time.monotonic() + WATCH_SECONDS
        for pid, (limit_kb, inherited_kb) in list(self.watched.items()):
            used_kb = self.in_use_kb(pid, inherited_kb)
            if used_kb > limit_kb:
                kill_everything()
                del self.watched[pid]
                self.stopped[pid] = {"state": "memory", "limit_mb": limit_kb >> 10, "used_mb": used_kb >> 10}

    def timeout(self) -> float | None:
        """How long the zygote may wait for a request before it must measure again."""
        return max(self.next_check - time.monotonic(), 0.0) if self.watched else None


def poll(pid: int, ended: dict[int, int]) -> dict:
    """Has the submission's process ended? Its connection to the grader may stay open after it
    died (a child it started holds a copy), so the grader asks while it waits."""
    if pid not in ended:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return {"state": "killed"}
        if not done:
            return {"state": "running"}
        ended[pid] = status
    return describe_status(ended[pid])


def finish(pid: int, grace: float, ended: dict[int, int], watch: MemoryWatch) -> dict:
    """Kill everything the submission started; how did its own process end?"""
    status = ended.pop(pid, None)
    if status is None:
        status = wait_for(pid, grace)
    statuses = kill_everything()
    stopped = watch.forget(pid)
    if stopped:
        return stopped
    reply = describe_status(status if status is not None else statuses.get(pid))
    if status is None and pid in statuses and reply["state"] == "signal" and reply["signal"] == signal.SIGKILL:
        reply = {"state": "killed"}
    return reply


def serve(control: socket.socket, private: list[str], user: list[int] | None) -> None:
    import child  # noqa: F401 - imported before forking so every child starts with it loaded

    keep = private_entries(private)
    ended: dict[int, int] = {}  # exit statuses that `poll` reaped, for `finish` to report
    watch = MemoryWatch(private)

    while True:
        select.select([control], [], [], watch.timeout())
        watch.check()
        if not select.select([control], [], [], 0)[0]:
            continue
        try:
            data, fds, _, _ = socket.recv_fds(control, 1 << 20, 4)
        except (ConnectionError, OSError):
            data, fds = b"", []
        if not data:
            kill_everything()
            os._exit(0)
        request = json.loads(data)
        if request["op"] == "poll":
            reply = watch.stopped.get(request["pid"]) or poll(request["pid"], ended)
        elif request["op"] == "spawn":
            request["config"]["user"] = user
            pid = os.fork()
            if pid == 0:
                control.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                child.bootstrap(request["config"], fds[0], fds[1])
            for fd in fds:
                os.close(fd)
            watch.start(pid, request["config"].get("limits", {}).get("memory_mb"))
            reply = {"pid": pid}
        elif request["op"] == "finish":
            reply = finish(request["pid"], request.get("grace", 0.0), ended, watch)
            empty_private_folders(private, user, keep)
        else:
            reply = {"error": f"unknown op {request['op']}"}
        control.sendall(json.dumps(reply).encode() + b"\n")


def main() -> None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -I leaves the script's folder out
    control_fd = int(sys.argv[1])
    preload = sys.argv[2].split(",") if len(sys.argv) > 2 and sys.argv[2] else []
    private = sys.argv[3].split(",") if len(sys.argv) > 3 and sys.argv[3] else []
    user = [int(n) for n in sys.argv[4].split(",")] if len(sys.argv) > 4 and sys.argv[4] else None
    become_subreaper()
    for name in preload:
        __import__(name)
    if user and not user_can_run_python(user, preload):
        user = None  # the student's code runs as the grader's own user (docs/security.md)
    control = socket.socket(fileno=control_fd)
    control.sendall(json.dumps({"ready": True, "user": user}).encode() + b"\n")
    serve(control, private, user)


if __name__ == "__main__":
    main()
