"""What can go wrong in the student's process, as exceptions the grader raises on its own side.

Each carries a message written for the student: what happened, where (file and line of the
student's own code when known), and what to do about it. grader/checks/outcome.py turns them
into statuses: a StudentCodeError is the student's (error, or failed for a stub), unless the
sandbox itself refused or its harness failed before the student's code ran; a GraderFault
(the harness or a grader object failed, another exercise's code in the bundle raised) is
could_not_run. Every text that comes from the student's process (exception messages, type names,
source lines) is cleaned of control characters before it is shown.
"""

from __future__ import annotations

import re
import signal

from grader.i18n import N_


def _(message: str) -> str:
    """The checks' `_` (grader/checks/translated.py: the sentence knows its English, for cause
    keys), imported when first used: importing the `grader.checks` package here would run, in
    the students' bundle, its hook that imports grader.course.oracle, which imports this module."""
    from grader.checks.translated import _ as translate

    return translate(message)

IMPORTING = "importing your module"
"""The label of the first request: loading the student's file."""
HARNESS_FAILED = 70
"""Exit code of the grader's helper in the student's process when it can no longer work (child.py)."""
CONNECTION_LOST = 71
"""Exit code of that helper when the student's code closed or broke its connection to the grader."""
SANDBOX_REFUSED = 72
"""Exit code of that helper when a safeguard (the sandbox user, no_new_privs) could not be set up,
so the student's code was never run (child.drop_privileges)."""
HARNESS_BEFORE_STUDENT = 73
"""Exit code of that helper when it failed before the student's module began to load (entering
the folders, setting limits): nothing of the student's had run, so it is the grader's fault."""
STUDENT, GRADER, MACHINE, DATA = "student", "grader", "machine", "data"
"""Origins of an outcome (CheckResult.origin); another exercise's code is "exercise:<name>"."""

CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""Control characters but newline and tab: in a student's text (output, messages, type names)
they could start terminal escape sequences that clear or rewrite the grader's screen."""


def clean(text: object, limit: int = 2000) -> str:
    """A student-provided text, safe to print: no terminal escapes, bounded length."""
    text = CONTROL_CHARS.sub("\ufffd", str(text))
    return text if len(text) <= limit else text[:limit] + "…"


class StudentCodeError(Exception):
    """The student's code did not produce a value: it raised, hung, crashed or broke the channel."""

    status = "error"

    def student_message(self) -> str:
        return str(self)


class GraderFault(Exception):
    """Something of the grader's failed, not the student's code: a check's own code, a helper,
    a callback's body, the harness in the student's process, a bundle stand-in. The check
    ends as could_not_run with `origin`; `traceback` is for the instructor only.

    Not a StudentCodeError, so no check's `except StudentRaised` explains it to the student
    as their mistake."""

    origin = GRADER

    def __init__(self, message: str, *, traceback: str = "", origin: str | None = None):
        super().__init__(message)
        self.message = message
        self.traceback = traceback
        if origin:
            self.origin = origin

    def student_message(self) -> str:
        return self.message


def _where(frames: list) -> str:
    """" (losses.py, line 12: `return x / s`)" from the last frame of the student's own code."""
    if not frames or not isinstance(frames[-1], (list, tuple)) or len(frames[-1]) != 4:
        return ""
    name, line, _func, text = frames[-1]
    text = clean(text, 160)
    if text:
        return " " + _("({file}, line {line}: `{code}`)").format(file=clean(name, 100), line=line, code=text)
    return " " + _("({file}, line {line})").format(file=clean(name, 100), line=line)


def location_of(frames: list, exercise: str = "") -> dict:
    """{"file", "line", "exercise"} of the last frame of the student's own code; {} when unknown."""
    if not frames or not isinstance(frames[-1], (list, tuple)) or len(frames[-1]) != 4:
        return {}
    name, line, _func, _text = frames[-1]
    place = {"file": clean(name, 100), "line": line if isinstance(line, int) else None}
    if exercise:
        place["exercise"] = exercise
    return place


def _call(label: str) -> str:
    return f"`{label}`" if label else _("your code")


class StudentRaised(StudentCodeError):
    """The student's code raised an exception (sent back as data: type, message, frames)."""

    def __init__(self, info: dict, label: str, memory_mb: int | None = None):
        self.info = info
        self.label = label
        self.memory_mb = memory_mb
        self.type_name = clean(info.get("type", "Exception"), 100)
        self.text = clean(info.get("message", ""))
        super().__init__(self.student_message())

    @property
    def not_implemented(self) -> bool:
        return bool(self.info.get("not_implemented"))

    @property
    def where(self) -> str:
        return _where(self.info.get("frames") or [])

    @property
    def location(self) -> dict:
        """Where the student's code raised: its last own frame."""
        return location_of(self.info.get("frames") or [])

    def student_message(self) -> str:
        call, where, kind = _call(self.label), self.where, self.type_name
        if self.not_implemented:  # the line is the stub's own `raise`: its place is enough
            frames = self.info.get("frames") or []
            place = " " + _("({file}, line {line})").format(file=frames[-1][0], line=frames[-1][1]) if frames else ""
            return _("not implemented yet: {call} raises NotImplementedError{place}.").format(call=call, place=place)
        if kind == "SystemExit":
            code = f"({self.text})" if self.text and self.text != "None" else "()"
            return _("{call} called sys.exit{code}{where}: that stops Python instead of returning a result. "
                     "Return the value instead of exiting.").format(call=call, code=code, where=where)
        if kind == "KeyboardInterrupt":
            return _("{call} raised KeyboardInterrupt{where} (as if Ctrl+C had been pressed); "
                     "a graded function must finish and return its result.").format(call=call, where=where)
        if kind == "RecursionError":
            return _("{call} called itself too many times (Python's recursion limit){where}: "
                     "is a base case missing, or does a function call itself by mistake?").format(call=call, where=where)
        if kind == "MemoryError":
            if self.memory_mb:
                return _("{call} ran out of memory{where}: it tried to allocate more than the {limit} MB your code "
                         "may use. Is an array much larger than it should be, e.g. (N, N) where (N,) was "
                         "meant?").format(call=call, where=where, limit=self.memory_mb)
            return _("{call} ran out of memory{where}: it tried to allocate more. Is an array much larger than it "
                     "should be, e.g. (N, N) where (N,) was meant?").format(call=call, where=where)
        if kind == "UnsendableResult":
            return _("{call} returned something the grader cannot read ({detail}); "
                     "return numbers, numpy arrays, or lists, tuples and dicts of them.").format(
                call=call, detail=self.text)
        missing = re.fullmatch(r"module '[\w.]+' has no attribute '(\w+)'", self.text)
        if kind == "AttributeError" and missing and not where:
            return _("your module has no `{name}`: define a function or class with exactly this name "
                     "(see the handout for the names the grader calls).").format(name=missing.group(1))
        if self.text:
            return _("{call} raised {kind}: {text}{where}.").format(call=call, kind=kind, text=self.text, where=where)
        return _("{call} raised {kind}{where}.").format(call=call, kind=kind, where=where)


class GraderRaised(GraderFault):
    """The student's process reports an exception whose raise site is the grader's own code
    there (the harness, a stand-in of a grader object): not the student's."""

    def __init__(self, info: dict, label: str):
        kind, text = clean(info.get("type", "Exception"), 100), clean(info.get("message", ""), 300)
        during = " " + _("while running `{label}`").format(label=label) if label else ""
        super().__init__(_("the grader's own code in your code's process failed{during} ({kind}: {text}). "
                           "This is a problem of the grader, not of your code: this check was not graded.").format(
                             during=during, kind=kind, text=text),
                         traceback=clean(info.get("trace", ""), 8000))


class GraderAttributeError(GraderRaised, AttributeError):
    """Reading an attribute of one of the grader's own objects in the student's process (a module
    it imported there) raised AttributeError: also an AttributeError, so hasattr/getattr with a
    default behave as on a local object."""


class OtherExercisePending(GraderFault):
    """Code of another exercise (the student's own copy, or its stub, in the students' bundle)
    raised while this exercise's code ran: this check waits on that exercise."""

    def __init__(self, info: dict, label: str, exercise: str):
        place = info.get("site") or {}
        self.exercise = exercise
        self.location = {"file": clean(place.get("file", ""), 200), "line": place.get("line"), "exercise": exercise}
        kind, text = clean(info.get("type", "Exception"), 100), clean(info.get("message", ""), 300)
        if info.get("not_implemented"):
            what = _("is not implemented yet: it raises NotImplementedError")
        elif text:
            what = _("raised {kind} ({text})").format(kind=kind, text=text)
        else:
            what = _("raised {kind}").format(kind=kind)
        where = (" " + _("at {file}, line {line}").format(file=self.location["file"], line=self.location["line"])
                 if self.location["file"] else "")
        call = f"`{label}`" if label else _("your module")
        super().__init__(_("pending on {exercise}: {call} uses your {exercise} code, which {what}{where}. "
                           "Fix it there (run `grade {exercise}`) and this check will run; nothing here is "
                           "counted against this exercise.").format(exercise=exercise, call=call, what=what,
                                                                    where=where), origin=f"exercise:{exercise}")


class StudentAttributeError(StudentRaised, AttributeError):
    """Reading an attribute of a student object raised AttributeError: also an AttributeError
    here, so hasattr/getattr(obj, name, default) and numpy's own fallbacks behave as on a local
    object instead of failing the check with the student's exception."""


class StudentTimeout(StudentCodeError):
    """The student's code did not answer within its time budget; its process was killed."""

    def __init__(self, seconds: float, label: str, budget: str = "check"):
        self.seconds = seconds
        self.label = label
        self.budget = budget
        super().__init__(self.student_message())

    def student_message(self) -> str:
        seconds = f"{self.seconds:g}"
        if self.budget == "submission":
            where = " " + _("(it was running `{label}`)").format(label=self.label) if self.label else ""
            return _("grading stopped: your code used up the {seconds} s this whole exercise may take{where}. "
                     "Is something much slower than it needs to be, or is there an infinite loop?").format(
                seconds=seconds, where=where)
        if self.budget == "repeat":
            return _("`{label}` ran longer than {seconds} s. It already ran past the time limit in an earlier check, "
                     "so here it had {seconds} s (three times its slowest call that finished, at least 1 s) rather "
                     "than the full limit. Is there an infinite loop, or a loop whose end depends on the "
                     "input?").format(label=self.label, seconds=seconds)
        if self.label == IMPORTING:
            return _("importing your module took longer than {seconds} s — is there an infinite loop, or "
                     "a long computation at the top level of your file? Put experiments under "
                     "`if __name__ == \"__main__\":` so they do not run on import.").format(seconds=seconds)
        if self.label:
            return _("your code ran longer than {seconds} s in `{label}` — is there an infinite loop?").format(
                seconds=seconds, label=self.label)
        return _("your code ran longer than {seconds} s — is there an infinite loop?").format(seconds=seconds)


_SIGNALS = {  # each sentence follows "your code" (or "your module, while it was being imported,")
    "SIGSEGV": N_("{subject} crashed the Python process with a segmentation fault (an invalid memory access, "
                  "e.g. through ctypes or a native library){where}."),
    "SIGBUS": N_("{subject} crashed the Python process with a bus error (an invalid memory access){where}."),
    "SIGFPE": N_("{subject} crashed the Python process with a floating-point exception in native code{where}."),
    "SIGILL": N_("{subject} crashed the Python process with an illegal instruction in native code{where}."),
    "SIGABRT": N_("{subject} aborted the Python process (SIGABRT, often a failed check inside a native "
                  "library){where}."),
    "SIGXFSZ": N_("{subject} was stopped for writing a file larger than the grader allows{where}."),
}


class StudentCrashed(StudentCodeError):
    """The student's process ended while the grader was waiting for an answer."""

    def __init__(self, status: dict, label: str, memory_mb: int | None = None):
        self.exit_status = status
        self.label = label
        self.memory_mb = memory_mb
        super().__init__(self.student_message())

    @property
    def grader_fault(self) -> bool:
        """The sandbox refused to run the code (its protections could not be set up): the
        machine's problem, graded as 'could not run', never against the student."""
        return (self.exit_status.get("state") == "exited"
                and self.exit_status.get("code") in (SANDBOX_REFUSED, HARNESS_BEFORE_STUDENT))

    @property
    def origin(self) -> str:
        if not self.grader_fault:
            return STUDENT
        return GRADER if self.exit_status.get("code") == HARNESS_BEFORE_STUDENT else MACHINE

    def student_message(self) -> str:
        importing = self.label == IMPORTING
        subject = _("your module, while it was being imported,") if importing else _("your code")
        where = "" if importing or not self.label else " " + _("while running `{label}`").format(label=self.label)
        state = self.exit_status.get("state")
        if state == "exited":
            code = self.exit_status.get("code")
            if code == HARNESS_FAILED:
                return _("the grader's helper inside your code's process failed{where}: this happens when code "
                         "replaces built-in functions or modules the grader relies on (builtins, numpy, sys). "
                         "Its error is in your code's output.").format(where=where)
            if code == HARNESS_BEFORE_STUDENT:
                return _("the grader's helper failed before your code started, so your code was not run. This is "
                         "a problem of the grader, not of your code: please tell your instructor.")
            if code == SANDBOX_REFUSED:
                return _("the grader could not set up the protections it runs your code with, so it did not run "
                         "your code. This is a problem of the grading machine, not of your code: please tell your "
                         "instructor (the details are in your code's output).")
            if code == CONNECTION_LOST:
                return _("{subject} closed or broke its connection to the grader{where}, e.g. by closing file "
                         "descriptors it did not open (os.closerange); the grader cannot get its result.").format(
                    subject=subject, where=where)
            return _("{subject} ended the Python process (exit code {code}){where}: do not call os._exit(), "
                     "exit() or quit() in graded code — return the result instead.").format(
                subject=subject, code=code, where=where)
        if state == "signal":
            name = _signal_name(self.exit_status.get("signal"))
            if name in _SIGNALS:
                return _(_SIGNALS[name]).format(subject=subject, where=where)
            if name == "SIGXCPU":
                return _("{subject} used more CPU time than the grader allows{where}: is there an infinite "
                         "loop?").format(subject=subject, where=where)
            if name == "SIGKILL":
                if self.memory_mb:
                    return _("{subject} was killed{where}, most likely for using too much memory (the limit is "
                             "{limit} MB). Is an array much larger than it should be?").format(
                        subject=subject, where=where, limit=self.memory_mb)
                return _("{subject} was killed{where}, most likely for using too much memory. Is an array much "
                         "larger than it should be?").format(subject=subject, where=where)
            return _("{subject} was ended by the signal {name}{where}; graded code must not send signals.").format(
                subject=subject, name=name, where=where)
        if state == "memory":
            return self._over_memory_message(subject, where)
        if state == "killed":
            return _("{subject} stopped answering the grader{where} (it closed or broke its connection) "
                     "and was stopped.").format(subject=subject, where=where)
        return _("{subject} stopped unexpectedly{where}.").format(subject=subject, where=where)

    def _over_memory_message(self, subject: str, where: str) -> str:
        """The sandbox stopped the code for the memory its processes held together, shared
        memory and files in /tmp or /dev/shm included (zygote.MemoryWatch)."""
        limit = self.exit_status.get("limit_mb") or self.memory_mb
        if isinstance(limit, int):
            return _("{subject} was stopped{where}: it used more memory than the {limit} MB your code may use "
                     "(files in /tmp or /dev/shm and shared memory count too). Is an array much larger than it "
                     "should be, e.g. (N, N) where (N,) was meant?").format(subject=subject, where=where, limit=limit)
        return _("{subject} was stopped{where}: it used more memory (files in /tmp or /dev/shm and shared memory "
                 "count too). Is an array much larger than it should be, e.g. (N, N) where (N,) was "
                 "meant?").format(subject=subject, where=where)


def _signal_name(number) -> str:
    try:
        return signal.Signals(number).name
    except (ValueError, TypeError):
        return f"signal {number}"


class ChannelBroken(StudentCodeError):
    """The reply could not be trusted: the connection was written to, closed or garbled."""

    def __init__(self, detail: str, label: str):
        self.label = label
        self.detail = detail
        source = " " + _("from `{label}`").format(label=label) if label else ""
        super().__init__(_(
            "the grader could not trust what came back{source}: the connection to your code's process was "
            "tampered with or broken ({detail}). This happens when code writes to, reads from or "
            "closes file descriptors it did not open (e.g. found through /proc/self/fd); the check counts as "
            "failed.").format(source=source, detail=clean(detail, 200)))


class ImportFailed(StudentCodeError):
    """The student's module could not be loaded; every check fails with this message."""

    def __init__(self, cause: "StudentCodeError | GraderFault"):
        self.cause = cause
        super().__init__(_import_message(cause) + " " + _("No check can run until the file imports."))


def _import_message(cause: StudentCodeError) -> str:
    if not isinstance(cause, StudentRaised):
        return cause.student_message()
    kind, text, where = cause.type_name, cause.text, cause.where
    if kind in ("SyntaxError", "IndentationError", "TabError"):
        return _("your module has a {kind}: {text}{where}. Fix it first.").format(kind=kind, text=text, where=where)
    if kind in ("ModuleNotFoundError", "ImportError"):
        return _("your module could not be imported: {text}{where}. When grading, only numpy (torch in "
                 "exercise 7), the standard library and `exercises.exerciseK.<module>` can be "
                 "imported.").format(text=text, where=where)
    if kind == "SystemExit":
        return _("your module called sys.exit() while being imported{where}: remove top-level code that exits; "
                 "the grader imports your file and then calls its functions.").format(where=where)
    if kind == "KeyboardInterrupt":
        return _("your module raised KeyboardInterrupt while being imported{where}.").format(where=where)
    if text:
        return _("your module could not be imported: it raised {kind}: {text}{where}.").format(
            kind=kind, text=text, where=where)
    return _("your module could not be imported: it raised {kind}{where}.").format(kind=kind, where=where)
