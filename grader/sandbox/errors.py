"""What can go wrong in the student's process, as exceptions the grader raises on its own side.

Each carries a message written for the student; the runner turns them into failed checks.
"""

from __future__ import annotations

import signal


class StudentCodeError(Exception):
    """The student's code did not produce a value: it raised, hung, crashed or broke the channel."""

    status = "error"

    def student_message(self) -> str:
        return str(self)


def _where(frames: list) -> str:
    if not frames:
        return ""
    name, line, func, text = frames[-1]
    return f" ({name}, line {line}" + (f": `{text}`" if text else "") + ")"


class StudentRaised(StudentCodeError):
    def __init__(self, info: dict, label: str):
        self.info = info
        self.label = label
        self.type_name = str(info.get("type", "Exception"))
        self.text = str(info.get("message", ""))
        super().__init__(self.student_message())

    @property
    def not_implemented(self) -> bool:
        return bool(self.info.get("not_implemented"))

    def student_message(self) -> str:
        where = _where(self.info.get("frames") or [])
        call = f"`{self.label}`" if self.label else "your code"
        if self.not_implemented:
            return f"not implemented yet: {call} raises NotImplementedError{where}."
        if self.type_name == "SystemExit":
            return f"{call} called sys.exit({self.text}){where}; return a value instead of exiting."
        if self.type_name == "KeyboardInterrupt":
            return f"{call} raised KeyboardInterrupt{where}; it must return normally."
        if self.type_name == "RecursionError":
            return f"{call} recursed too deeply{where}: is a recursive call missing its base case?"
        if self.type_name == "MemoryError":
            return f"{call} ran out of memory{where}: is an array much larger than it should be?"
        if self.type_name == "UnsendableResult":
            return f"{call} returned something the grader cannot read ({self.text}); return numbers or arrays."
        text = f": {self.text}" if self.text else ""
        return f"{call} raised {self.type_name}{text}{where}."


class StudentTimeout(StudentCodeError):
    def __init__(self, seconds: float, label: str, budget: str = "check"):
        self.seconds = seconds
        self.label = label
        self.budget = budget
        super().__init__(self.student_message())

    def student_message(self) -> str:
        where = f" in `{self.label}`" if self.label else ""
        if self.budget == "submission":
            return (f"grading stopped: your code used the {self.seconds:g} s this whole exercise may take{where}. "
                    "Is something much slower than it needs to be, or an infinite loop?")
        return f"your code ran longer than {self.seconds:g} s{where} — is there an infinite loop?"


class StudentCrashed(StudentCodeError):
    def __init__(self, status: dict, label: str, memory_mb: int | None = None):
        self.exit_status = status
        self.label = label
        self.memory_mb = memory_mb
        super().__init__(self.student_message())

    def student_message(self) -> str:
        where = f" while running `{self.label}`" if self.label else ""
        state = self.exit_status.get("state")
        if state == "exited":
            return (f"your code ended the Python process (exit code {self.exit_status.get('code')}){where}; "
                    "do not call os._exit or exit the interpreter — return a value instead.")
        if state == "signal":
            sig = self.exit_status.get("signal")
            try:
                name = signal.Signals(sig).name
            except ValueError:
                name = f"signal {sig}"
            if name == "SIGSEGV":
                return f"your code crashed the Python process with a segmentation fault{where}."
            if name in ("SIGKILL", "SIGXCPU"):
                return (f"your code's process was killed ({name}){where}; it may have used too much memory"
                        f"{f' (limit {self.memory_mb} MB)' if self.memory_mb else ''} or CPU time.")
            return f"your code's process died from {name}{where}."
        return f"your code's process stopped unexpectedly{where}."


class ChannelBroken(StudentCodeError):
    def __init__(self, detail: str, label: str):
        self.label = label
        super().__init__(f"the grader could not read what your code returned{f' from `{label}`' if label else ''}: "
                         f"{detail}. Do not write to or close file descriptors you did not open.")


class ImportFailed(StudentCodeError):
    def __init__(self, cause: StudentCodeError):
        self.cause = cause
        text = cause.student_message()
        if isinstance(cause, StudentRaised):
            text = f"your module could not be imported: it raised {cause.type_name}"
            text += f": {cause.text}" if cause.text else ""
            text += _where(cause.info.get("frames") or []) + "."
            if cause.type_name == "SyntaxError":
                text += " Fix the syntax error first; no check can run until the file imports."
        else:
            text = f"importing your module failed: {text}"
        super().__init__(text)
