"""One submission's live process, seen from the grader: requests, replies, callbacks, output.

Every reply is decoded as data (codec.py) and checked for shape; a reply that breaks the
format, an EOF, a timeout or a crash becomes a StudentCodeError that names what happened.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from grader.results import cut_notice
from grader.sandbox import codec
from grader.sandbox.errors import (CONTROL_CHARS, IMPORTING, ChannelBroken, GraderAttributeError, GraderFault,
                                   GraderRaised, ImportFailed, OtherExercisePending, StudentAttributeError,
                                   StudentCodeError, StudentCrashed, StudentRaised, StudentTimeout)

POLL_SECONDS = 0.25
"""While waiting for a reply, ask this often whether the student's process still lives: a child
it started may hold its end of the connection open after it died."""
OUTPUT_LIMIT = 20_000
"""Characters of the student's printed output kept for the report; the rest is counted, not stored."""
_messages = 0


def messages_so_far() -> int:
    """Messages the grader has sent to students' processes in this process (requests and answers
    to callbacks): a measure of work done with the student's code that, unlike seconds, does not
    depend on the machine's load (contract.py bounds shrinking by it)."""
    return _messages


class OutputCollector(threading.Thread):
    """Drains the student's stdout/stderr so it never blocks, keeping only the first part."""

    def __init__(self, fd: int):
        super().__init__(daemon=True)
        self.fd = fd
        self.kept = bytearray()
        self.dropped = 0

    def run(self) -> None:
        import os
        try:
            while True:
                chunk = os.read(self.fd, 1 << 20)
                if not chunk:
                    break
                room = OUTPUT_LIMIT - len(self.kept)
                self.kept += chunk[:max(room, 0)]
                self.dropped += max(len(chunk) - max(room, 0), 0)
        finally:
            os.close(self.fd)

    def text(self) -> str:
        """The kept output as text: bytes that are not UTF-8 become �, and control characters
        (terminal escape sequences that could clear or rewrite the grader's screen) are shown
        as � too, so printed output can never pass itself off as the grader's own lines."""
        text = CONTROL_CHARS.sub("\ufffd", self.kept.decode("utf-8", errors="replace"))
        if self.dropped:
            text += "\n" + cut_notice(self.dropped, OUTPUT_LIMIT)
        return text


def a_or_an(word: str) -> str:
    """"a generator" / "an AlwaysEqual": the article a message needs before `word`."""
    return f"an {word}" if word[:1].lower() in "aeiou" and word else f"a {word}"


def student_type(obj: "RemoteObject") -> str:
    """The class name of the student's object behind a RemoteObject ("generator", "function",
    "TwoLayerNet", ...), for messages; "" when the student's process did not say."""
    return object.__getattribute__(obj, "_type")


class RemoteObject:
    """An object living in the student's process. Attribute access, calls and item access are
    requests; plain-data results come back as values, everything else as another RemoteObject."""

    __slots__ = ("_session", "_key", "_label", "_type")

    def __init__(self, session: "Session", key: int, label: str, type_name: str = ""):
        object.__setattr__(self, "_session", session)
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_label", label)
        object.__setattr__(self, "_type", CONTROL_CHARS.sub("", type_name))

    def _sub(self, name: str) -> str:
        return f"{self._label}.{name}" if self._label else name

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._session.request(("getattr", self._key, name), label=self._sub(name))

    def __setattr__(self, name: str, value: Any) -> None:
        self._session.request(("setattr", self._key, name, value), label=self._sub(name))

    def __call__(self, *args, **kwargs) -> Any:
        return self._session.request(("call", self._key, None, list(args), kwargs), label=self._label)

    def call(self, method: str, *args, **kwargs) -> Any:
        """Call a method in one round trip (same as `obj.method(...)`)."""
        return self._session.request(("call", self._key, method, list(args), kwargs), label=self._sub(method))

    def ref(self, name: str) -> "RemoteObject":
        """The attribute as a RemoteObject even if it is plain data, e.g. `net.ref("params")` to
        assign into the student's own dict."""
        return self._session.request(("ref", self._key, name), label=self._sub(name))

    def import_module(self, name: str) -> "RemoteObject":
        """A module imported in the student's process, e.g. `student.import_module("torch")` or
        the reference TwoLayerNet as `student.import_module("exercises.exercise3.two_layer_net")`."""
        return self._session.request(("import", name), label=name)

    def keep(self, value: Any) -> "RemoteObject":
        """Store `value` (e.g. a params dict) in the student's process and return it as a
        RemoteObject, so in-place changes the student's code makes to it stay visible:
        `params = student.keep({"W": W}); opt.update(params, grads); params["W"]`."""
        return self._session.request(("keep", value), label="value")

    def __getitem__(self, key: Any) -> Any:
        return self._session.request(("getitem", self._key, key), label=f"{self._label}[{key!r}]")

    def __setitem__(self, key: Any, value: Any) -> None:
        self._session.request(("setitem", self._key, key, value), label=f"{self._label}[{key!r}]")

    def __len__(self) -> int:
        return self._session.request(("len", self._key), label=f"len({self._label})")

    def __iter__(self):
        return iter(self._session.request(("list", self._key), label=f"list({self._label})"))

    def __repr__(self) -> str:
        kind = f"{self._type} object" if self._type else "object"
        return f"<student {kind} from {self._label}>" if self._label else f"<student {kind}>"

    # Comparisons and conversions never reach the student's process: a student object is equal
    # only to itself and truthy, whatever its own __eq__/__bool__ say, and numpy refuses it as an
    # array (instead of reading it item by item through __len__/__getitem__), so an object
    # returned in place of a result cannot fake a match with the reference.
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        return True

    def __array__(self, dtype=None, copy=None):
        kind = a_or_an(f"{self._type} object") if self._type else "an object"
        source = f"`{self._label}` returned {kind}" if self._label else f"this is {kind} of the student's code"
        raise StudentValueRejected(f"{source}, not numbers or an array")


class StudentValueRejected(TypeError):
    """A value the student's code returned cannot be used as numbers (an object of theirs that
    numpy was asked to convert): the student's result, rejected; a failed check, not a fault of
    the grader's although it is raised in the grader's process."""


def _callback_trace(exc: BaseException) -> str:
    import traceback

    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-6000:]


def bind_arguments(func: Any, args: list, kwargs: dict) -> str:
    """"" when the student's arguments fit `func`'s signature, else why not (TypeError's words).
    Checked before the call, so a TypeError from the grader's own body is never read as the
    student's wrong call."""
    import inspect

    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):  # a builtin without a signature: the call itself will tell
        return ""
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        return str(exc)
    return ""


class HangMemory:
    """What one submission's calls have shown about their speed, across the process restarts
    that follow a hang: which functions ran past a check's limit, and the slowest call of each
    that finished. A function that hung once gets a short limit in the checks after (3 times its
    slowest finished call, at least a tenth of the check's limit and 1 s), so an infinite loop
    costs its full time about once, not once per check that calls it; a call that is merely
    slow on some inputs still gets three times what it needed before."""

    SLOWEST_FACTOR = 3.0
    FLOOR_FRACTION = 0.1
    FLOOR_S = 1.0

    def __init__(self) -> None:
        self.hung: set[str] = set()
        self.slowest: dict[str, float] = {}

    def limit(self, label: str, check_seconds: float) -> float | None:
        """Seconds a call of `label` gets now; None: the check's own limit."""
        if label not in self.hung:
            return None
        floor = max(self.FLOOR_S, self.FLOOR_FRACTION * check_seconds)
        return max(floor, self.SLOWEST_FACTOR * self.slowest.get(label, 0.0))

    def finished(self, label: str, seconds: float) -> None:
        self.slowest[label] = max(seconds, self.slowest.get(label, 0.0))

    def timed_out(self, label: str) -> None:
        if label:
            self.hung.add(label)


class Session:
    """The process of one submission: start it, ask it things, end it."""

    def __init__(self, launcher, config: dict, *, memory_mb: int | None = None):
        self.launcher = launcher
        self.config = config
        self.memory_mb = memory_mb
        self.pid: int | None = None
        self.sock: socket.socket | None = None
        self.output: OutputCollector | None = None
        self.callbacks: dict[int, Any] = {}
        self.deadline = float("inf")
        self.budget_kind = "check"
        self.budget_seconds = 0.0
        self.ended: dict | None = None
        self._label = ""  # names handles that arrive in the reply being read
        self.notes: list[str] = []
        """The harness's notes on loading the submission (a notebook cell that raised)."""
        self.fault: Exception | None = None
        """The first fault of the grader's own code during the current check (a callback whose
        body raised, an answer it could not send): the runner ends the check as not graded,
        whatever the student's code did with the neutral error it got instead."""
        self.hangs: HangMemory | None = None
        """Shared by every session of one submission (StudentProcess): calls that hung before."""
        self._repeat_limit: float | None = None
        self.other_sources: dict[str, str] = getattr(launcher, "other_sources", {}) or {}
        """exercise -> "reference", "student" or "stub": what the other exercises' modules are."""

    # -- lifetime --------------------------------------------------------------------------
    def start(self, import_timeout: float) -> RemoteObject:
        try:
            self.pid, self.sock, out_read = self.launcher.open_student(self.config)
        except StudentCodeError as exc:  # the process could not even start (local.LocalProcesses)
            self.ended = getattr(exc, "exit_status", {"state": "never started"})
            raise ImportFailed(exc) from None
        self.output = OutputCollector(out_read)
        self.output.start()
        self.set_deadline(import_timeout, "check")
        try:
            reply = self._receive(IMPORTING)
        except StudentCodeError as exc:
            raise ImportFailed(exc) from None
        kind = reply[0] if isinstance(reply, tuple) and len(reply) in (2, 3) else None
        if kind == "import-failed" and isinstance(reply[1], dict):
            raise ImportFailed(self._raised(reply[1], "import", ""))
        if kind != "ready" or not isinstance(reply[1], int):
            self.close()
            raise ImportFailed(ChannelBroken("its first message was not the one expected", IMPORTING))
        if len(reply) == 3 and isinstance(reply[2], list):
            from grader.notebook_definitions import cell_note

            cells = self.config.get("entry", {}).get("cells", [])
            self.notes = [CONTROL_CHARS.sub("\ufffd", cell_note(note, cells))[:500] for note in reply[2][:50]]
        return RemoteObject(self, reply[1], "", "module")

    @property
    def alive(self) -> bool:
        return self.ended is None and self.sock is not None

    def close(self, grace: float = 0.0) -> dict:
        if self.ended is None:
            if self.sock is not None:
                self.sock.close()
            self.ended = self.launcher.finish(self.pid, grace) if self.pid else {"state": "never started"}
            if self.output is not None:
                self.output.join(timeout=2)
        return self.ended

    def set_deadline(self, seconds: float, kind: str, budget: float | None = None) -> None:
        """Replies must come within `seconds`; a timeout message names `budget` (the whole
        allowance, e.g. the submission's 120 s, of which `seconds` may be what is left)."""
        self.deadline = time.monotonic() + seconds
        self.budget_seconds = budget if budget is not None else seconds
        self.budget_kind = kind

    # -- requests --------------------------------------------------------------------------
    def request(self, message: tuple, label: str) -> Any:
        if not self.alive:
            raise StudentCrashed(self.ended or {}, label, self.memory_mb)
        if message[0] != "call" or self.hangs is None:
            return self._exchange(message, label)
        started, check_deadline = time.monotonic(), self.deadline
        limit = self.hangs.limit(label, self.budget_seconds)
        shortened = limit is not None and started + limit < check_deadline
        if shortened:
            self.deadline, self._repeat_limit = started + limit, limit
        try:
            reply = self._exchange(message, label)
        finally:
            self.deadline, self._repeat_limit = check_deadline, None
        self.hangs.finished(label, time.monotonic() - started)
        return reply

    def _exchange(self, message: tuple, label: str) -> Any:
        global _messages
        _messages += 1
        self._send(codec.encode(message, self._as_reference), label)
        while True:
            reply = self._receive(label)
            kind = reply[0] if isinstance(reply, tuple) and reply else None
            if kind == "ok" and len(reply) == 2:
                return reply[1]
            if kind == "ok-handle" and len(reply) in (2, 3) and isinstance(reply[1], int):
                type_name = reply[2] if len(reply) == 3 and isinstance(reply[2], str) else ""
                return RemoteObject(self, reply[1], label, type_name[:codec.MAX_TYPE_NAME])
            if kind == "raised" and len(reply) == 2 and isinstance(reply[1], dict):
                raise self._raised(reply[1], message[0], label)
            if kind == "callback" and len(reply) == 6:
                self._answer_callback(reply)
                continue
            self._broken("a reply that does not follow the protocol", label)

    def _raised(self, info: dict, op: str, label: str) -> Exception:
        """The exception to raise in the check for what the student's process reports raised,
        chosen by its raise site (child.raise_site): the student's code, the harness (the
        grader's fault), or another exercise's module."""
        origin = info.get("origin", "student")
        missing = op == "getattr" and info.get("type") == "AttributeError"
        if origin == "grader":
            return (GraderAttributeError if missing else GraderRaised)(info, label)
        if isinstance(origin, str) and origin.startswith("exercise:"):
            other = origin.split(":", 1)[1]
            if self.other_sources.get(other, "reference") != "reference":
                return OtherExercisePending(info, label, other)
            # The other exercise is the reference, which is right: the student's call gave it
            # what it cannot take, so the student's own last line is where to look.
        return (StudentAttributeError if missing else StudentRaised)(info, label, self.memory_mb)

    def _answer_callback(self, reply: tuple) -> None:
        """Answer the student's call of a grader object. Arguments that do not fit the grader
        function's signature, or a method it does not have, are the student's mistake, raised
        at their call; an exception from the grader function's own body is the grader's fault:
        recorded in `self.fault`, answered with a neutral error."""
        global _messages
        _messages += 1
        _, key, method, args, kwargs, state = reply
        target = self.callbacks.get(key)
        answer = self._callback_outcome(target, method, args, kwargs, state)
        try:
            payload = codec.encode(answer, self._as_reference)
        except Exception as exc:  # noqa: BLE001 - the grader function's answer cannot be sent
            self._record_fault(exc, "its answer could not be sent to your code")
            payload = codec.encode(("error", "the grader failed; this check is not graded"), self._as_reference)
        self._send(payload, self._label)

    def _callback_outcome(self, target: Any, method: str | None, args: Any, kwargs: Any, state: Any) -> tuple:
        if target is None or not isinstance(args, list) or not isinstance(kwargs, dict):
            self._record_fault(ValueError("the student's process named an unknown grader object"),
                               "it could not be found")
            return ("error", "the grader failed; this check is not graded")
        try:
            func = getattr(target, method) if method else target
        except AttributeError:
            kind = type(target).__name__
            return ("rejected", "AttributeError", f"'{kind}' object has no attribute '{method}'")
        wrong = bind_arguments(func, args, kwargs)
        if wrong:
            return ("rejected", "TypeError", wrong)
        try:
            for name in getattr(target, "sandbox_state", ()):
                if isinstance(state, dict) and name in state:
                    setattr(target, name, state[name])
            return ("ok", func(*args, **kwargs))
        except StudentRaised as exc:  # the grader function asked the student's code, which raised:
            return ("rejected", exc.type_name, exc.text)  # raised again at the student's own call
        except StudentCodeError:
            raise  # the student's process hung or died: nothing is left to answer
        except Exception as exc:  # noqa: BLE001 - the grader's own function failed
            self._record_fault(exc, f"`{method or getattr(target, '__name__', 'the function')}` raised an exception")
            return ("error", "the grader failed; this check is not graded")

    def _record_fault(self, exc: BaseException, what: str) -> None:
        """Keep the first fault of a grader function the student's code called (`what` went wrong)."""
        from grader.checks.api import CheckFailed

        if self.fault is None and isinstance(exc, CheckFailed):  # a verdict the check's callback gave
            self.fault = exc
        elif self.fault is None:
            self.fault = GraderFault(f"a function of the grader's that your code called failed: {what} "
                                     f"({type(exc).__name__}). This is a problem of the grader, not of your "
                                     "code: this check was not graded.", traceback=_callback_trace(exc))

    def _send(self, payload: bytes, label: str) -> None:
        """Send within the current deadline: a student's process that stops reading cannot
        block the grader, and a stale timeout from an earlier read cannot cut a send short."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            self._timed_out(label)
        self.sock.settimeout(remaining)
        try:
            self.sock.sendall(payload)
        except socket.timeout:
            self._timed_out(label)
        except OSError:
            self._died(label)

    def _as_reference(self, obj: Any) -> dict:
        if isinstance(obj, RemoteObject):
            if obj._session is not self:
                raise TypeError("a student object from another process cannot be sent")
            return {"h": obj._key}
        if callable(obj) or hasattr(obj, "sandbox_state"):
            key = len(self.callbacks) + 1
            self.callbacks[key] = obj
            state = {name: getattr(obj, name) for name in getattr(obj, "sandbox_state", ())}
            return {"c": [key, state]}
        raise TypeError(f"cannot send {type(obj).__name__} to the student's code")

    def _resolve(self, tag: str, value: Any) -> Any:
        if tag == "h":
            key, type_name = value
            return RemoteObject(self, key, self._label, type_name)
        raise codec.CodecError("the student's process may not send grader objects")

    def _receive(self, label: str) -> Any:
        self._label = label
        try:
            payload = codec.read_frame(lambda n: self._read_exact(n, label))
            return codec.decode(payload, self._resolve)
        except codec.CodecError as exc:
            self._broken(str(exc), label)

    def _read_exact(self, n: int, label: str) -> bytes:
        chunks, got = [], 0
        while got < n:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                self._timed_out(label)
            self.sock.settimeout(min(remaining, POLL_SECONDS))
            try:
                chunk = self.sock.recv(min(n - got, 1 << 22))
            except socket.timeout:
                if self.launcher.poll(self.pid).get("state") != "running":
                    self._died(label)
                continue
            except OSError:
                chunk = b""
            if not chunk:
                self._died(label)
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _timed_out(self, label: str):
        self.close()
        if self._repeat_limit is not None:
            raise StudentTimeout(self._repeat_limit, label, "repeat")
        if self.hangs is not None and self.budget_kind == "check":
            self.hangs.timed_out(label)
        raise StudentTimeout(self.budget_seconds, label, self.budget_kind)

    def _died(self, label: str):
        status = self.close(grace=0.5)
        raise StudentCrashed(status, label, self.memory_mb)

    def _broken(self, detail: str, label: str):
        self.close()
        raise ChannelBroken(detail, label)


def session_of(obj: RemoteObject) -> Session:
    """The Session a student object lives in, for check helpers that shorten its deadline
    (checks.api.limit_time); RemoteObject forwards every attribute to the student's process."""
    return object.__getattribute__(obj, "_session")
