"""Entry of the student's process at the portable `local` isolation level (grader/sandbox/local.py).

A fresh `python -I local_child.py <port> <token> <config.json>`, started with subprocess (no
fork), its stdout and stderr already the grader's output pipe. It connects back to the grader
over 127.0.0.1, proves it is the process the grader started with the token, then runs the same
request loop as the Linux sandbox's forked child (child.run_submission), so both levels answer
the grader identically. It needs nothing Linux-only: it runs on macOS and Windows as is.

Copied into the sandbox with child.py and codec.py.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time

PARENT_CHECK_SECONDS = 0.5
CONNECTION_LOST = 71
"""Exit code when the grader or the connection to it is gone (errors.CONNECTION_LOST)."""


def connect(port: int, token: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.settimeout(None)
    sock.sendall(token.encode("ascii"))
    return sock


def exit_with_grader() -> None:
    """End this process when the grader that started it dies, even while the student's code
    hangs (on Linux the forked child gets a parent-death signal for that). Where a dead
    parent's children are re-parented (Linux, macOS) the parent's id changes; elsewhere the
    closed connection ends the process at its next request."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(PARENT_CHECK_SECONDS)
            if os.getppid() != parent:
                os._exit(CONNECTION_LOST)

    threading.Thread(target=watch, name="grader-watch", daemon=True).start()


def main() -> None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -I leaves the script's folder out
    import child

    port, token, config_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    for stream in (sys.stdout, sys.stderr):  # the process may be killed: keep nothing in a buffer
        stream.reconfigure(line_buffering=True, write_through=True)
    sock = connect(port, token)
    exit_with_grader()
    try:
        child._sock = sock
        child._import_resource()
        child.enter_folders(config)
        child.apply_limits(config.get("limits", {}), own_user=False)
        child.run_submission(config, sock)
    except BaseException:  # noqa: B902 - the harness itself failed: say so on the student's stderr
        child.harness_failed()  # whose fault it can be: before or after the student's code started
    finally:
        os._exit(70)  # errors.HARNESS_FAILED: run_submission never returns


if __name__ == "__main__":
    main()
