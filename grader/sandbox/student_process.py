"""The student's process as the checks see it: started on first use, restarted after it died.

One StudentProcess serves all checks of one submission. It holds the submission's whole time
budget; each check gets its own deadline within it.
"""

from __future__ import annotations

import time
from typing import Callable

from grader.catalog import Exercise
from grader.sandbox.errors import ImportFailed, StudentTimeout
from grader.sandbox.session import HangMemory, RemoteObject, Session


class StudentProcess:
    """Starts the student's process when a check first needs it, and again after it died.

    An import failure is remembered: every later check fails with the same message at once.
    Time the student's code spends counts against the whole submission's budget as well.
    """

    def __init__(self, exercise: Exercise, new_session: Callable[[], Session]):
        self.exercise = exercise
        self.new_session = new_session
        self.session: Session | None = None
        self.module: RemoteObject | None = None
        self.import_error: ImportFailed | None = None
        self.submission_deadline = time.monotonic() + exercise.submission_timeout
        self.outputs: list[str] = []
        self.notes: list[str] = []
        """The harness's notes on loading the submission (once, however often it restarted)."""
        self.hangs = HangMemory()

    def module_for_check(self, timeout: float) -> RemoteObject:
        if self.import_error is not None:
            raise self.import_error
        left = self.submission_deadline - time.monotonic()
        if left <= 0:
            raise StudentTimeout(self.exercise.submission_timeout, "", "submission")
        if self.session is None or not self.session.alive:
            self._collect_output()
            self.session = self.new_session()
            self.session.hangs = self.hangs
            try:
                self.module = self.session.start(import_timeout=min(timeout, left))
            except ImportFailed as exc:
                from grader.notebook_definitions import explain_loading

                self.import_error = explain_loading(exc, self.session.config.get("entry", {}))
                raise self.import_error from None
            self.notes = self.notes or self.session.notes
        if left < timeout:
            self.session.set_deadline(left, "submission", self.exercise.submission_timeout)
        else:
            self.session.set_deadline(timeout, "check")
        return self.module

    def other_exercises_in_use(self) -> list[str]:
        """The other exercises whose module here is the student's own copy or its stub (the
        students' bundle), not the reference, and which the student's code imports: a wrong
        answer of this exercise may come from them. Read from the submission's source text."""
        session = self.session
        own = [name for name, kind in (session.other_sources if session else {}).items() if kind != "reference"]
        if not own:
            return []
        text = _source_text(session.config)
        return sorted(name for name in own if f"exercises.{name}" in text)

    def take_fault(self):
        """The grader fault recorded in the student's session during the current check (a
        callback's body that raised), now cleared; None when there was none."""
        if self.session is None:
            return None
        fault, self.session.fault = self.session.fault, None
        return fault

    def _collect_output(self) -> None:
        if self.session is not None:
            self.session.close()
            text = self.session.output.text() if self.session.output else ""
            if text:
                self.outputs.append(text)

    def close(self) -> str:
        """End the process; everything the student's code printed, across restarts."""
        self._collect_output()
        self.session = None
        return "\n".join(self.outputs)


def _source_text(config: dict) -> str:
    """All the submission's code: its cells, or the .py files of its staged folder."""
    from pathlib import Path

    entry = config.get("entry", {})
    if entry.get("kind") == "cells":
        return "\n".join(entry.get("cells", []))
    folder = Path(config.get("student_dir", ""))
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(folder.rglob("*.py"))[:50])
