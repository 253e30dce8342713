"""The student's side of the sandbox: load the submission, then answer the grader's requests.

Runs in a process forked from the zygote (zygote.py) after limits are applied, or, at the
portable `local` level, in a fresh Python process started by local_child.py. It only
executes what the grader asks (call a function, read an attribute, ...) and sends back the
*values* the student's code produced; it never decides anything about the score. Objects
that are not plain data stay here and are sent as handles.

Copied into the sandbox: imports only the standard library, numpy and codec.py. What only
Linux has (fork, prctl, resource, setuid) is imported or called where it is used, never at the
top, so local_child.py can import this file on macOS and Windows too.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import itertools
import linecache
import operator
import os
import pickle
import random
import signal
import socket
import sys
import traceback
import types
from typing import Any

import codec

# The grader talks to us through this socket; the student's code gets no reference to it.
_sock: socket.socket | None = None
_student_dirs: tuple[str, ...] = ()
_other_exercises = ""
"""<pkgs_dir>/exercises/: the other exercises' modules staged for the student's code to import."""
_HARNESS_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_student_started = False
"""Set just before the student's module starts to load: a failure before it is the harness's alone."""
_student_modules: tuple[str, ...] = ()
"""Names the student's module is imported as; `exercises.*` are students' modules too."""
_load_notes: list[dict] = []
"""The harness's notes on loading the submission (a notebook cell that raised: its cell, line and error),
sent to the grader apart from its output, which words them (notebook_definitions.cell_note)."""
_acting_for_grader = False
"""True while a request works on the grader's own object (Handles.graders): an exception raised
right at that operation is the grader's, not the student's."""


def _read_exact(n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = _sock.recv(min(n - got, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


class Handles:
    """Objects of the student's process the grader refers to by number."""

    def __init__(self):
        self.objects: dict[int, Any] = {}
        self.graders: set[int] = set()
        """Handles of the grader's own objects here: modules the grader imported (torch, builtins)
        and what it got from them, e.g. a model or a function it builds or calls."""

    def add(self, obj: Any) -> dict:
        key = len(self.objects) + 1
        self.objects[key] = obj
        if _acting_for_grader:
            self.graders.add(key)
        return {"h": key}

    def get(self, key: int) -> Any:
        return self.objects[key]


HANDLES = Handles()


class GraderObject:
    """Stands in for an object of the grader's (e.g. a recording network).

    Attributes listed in its state (such as `params`) are real local data the student's code
    can mutate in place; every method call sends that state along to the grader.
    """

    def __init__(self, key: int, state: dict):
        object.__setattr__(self, "_key", key)
        object.__setattr__(self, "_state", state)

    def __getattr__(self, name: str) -> Any:
        state = object.__getattribute__(self, "_state")
        if name in state:
            return state[name]
        if name.startswith("__"):
            _reject_students_call("AttributeError", name)
        return lambda *args, **kwargs: _callback(self._key, name, args, kwargs, state)

    def __setattr__(self, name: str, value: Any) -> None:
        # `network.params = {...}` replaces the state the grader sees, as on a real object.
        state = object.__getattribute__(self, "_state")
        if name in state:
            state[name] = value
        else:
            object.__setattr__(self, name, value)

    def __call__(self, *args, **kwargs):
        return _callback(self._key, None, args, kwargs, self._state)


def _send(message: Any) -> None:
    _sock.sendall(codec.encode(message, _as_reference))


def _as_reference(obj: Any) -> dict:
    """Objects that are not plain data stay here; the grader gets a handle and the class name
    (for its messages: "softmax(x) returned a generator object")."""
    return {"h": [HANDLES.add(obj)["h"], _type_name(obj)]}


def _type_name(obj: Any) -> str:
    try:
        return str(type(obj).__name__)[:codec.MAX_TYPE_NAME]
    except Exception:  # noqa: BLE001 - a metaclass can make even this fail
        return "object"


def _resolve(tag: str, value: Any) -> Any:
    if tag == "h":
        return HANDLES.get(value[0])
    key, state = value
    return GraderObject(key, state if isinstance(state, dict) else {})


def _make_tensor(arr):
    import torch
    return torch.from_numpy(arr)


def _receive() -> Any:
    return codec.decode(codec.read_frame(_read_exact), _resolve, _make_tensor)


def _callback(key: int, method: str | None, args: tuple, kwargs: dict, state: dict) -> Any:
    """Run a method of a grader object; while it runs, the grader may ask us things in turn
    (e.g. read the array the student is perturbing), which we answer before its reply."""
    _send(("callback", key, method, list(args), kwargs, state))
    while True:
        reply = _receive()
        if reply[0] == "ok":
            return reply[1]
        if reply[0] == "rejected":
            _reject_students_call(reply[1], reply[2])
        if reply[0] == "error":
            raise GraderCallbackFailed(reply[1])
        _answer(reply)


class GraderCallbackFailed(RuntimeError):
    """A grader function the student's code called failed in its own body. The grader has
    recorded the fault and ends the check as not graded, whatever the student's code does with
    this exception; its message blames no one's code in particular."""


STUDENT_BOUNDARY = frozenset({"_on_student_object", "_returned", "_exec_student_file", "_reject_students_call"})
"""Functions of this harness that act *for* the student's code: an exception raised right in
them is the student's (their object has no such attribute, their call does not fit, their file
does not load), not the harness's own failure."""


def _reject_students_call(kind: str, message: str) -> None:
    """The student's code called a grader function with arguments that do not fit its
    signature, or a method it does not have, or the grader function asked the student's code
    something that raised `kind`: raised here, at the student's call."""
    import builtins

    error = getattr(builtins, str(kind), None)
    if not (isinstance(error, type) and issubclass(error, Exception)):
        error = RuntimeError
    raise error(message)


def _is_other_exercise(filename: str) -> str:
    """The name of the other exercise whose staged module `filename` is, else ""."""
    if not _other_exercises or not filename.startswith(_other_exercises):
        return ""
    return filename[len(_other_exercises):].split(os.sep, 1)[0]


def raise_site(exc: BaseException, student_dirs: tuple[str, ...]) -> tuple[str, dict]:
    """(origin, site): whose code raised `exc`. From the innermost frame outward, the first
    frame that belongs to someone decides: the student's files ("student"), another exercise's
    staged module ("exercise:<name>", with its file and line), or this harness ("grader",
    unless the frame acts for the student: STUDENT_BOUNDARY, on an object of the student's).
    Library frames (numpy, torch, the standard library) belong to whoever called them. A
    SyntaxError names its own file: another exercise's module that does not compile is that
    exercise's."""
    if isinstance(exc, SyntaxError) and isinstance(exc.filename, str) and _is_other_exercise(exc.filename):
        other = _is_other_exercise(exc.filename)
        return f"exercise:{other}", {"file": f"exercises/{other}/{os.path.basename(exc.filename)}", "line": exc.lineno}
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if _is_students(frame.filename, student_dirs):
            return "student", {}
        other = _is_other_exercise(frame.filename)
        if other:
            return f"exercise:{other}", {"file": f"exercises/{other}/{os.path.basename(frame.filename)}",
                                         "line": frame.lineno}
        if frame.filename.startswith(_HARNESS_DIR):
            acting_for_student = frame.name in STUDENT_BOUNDARY and not _acting_for_grader
            return ("student" if acting_for_student else "grader"), {}
    return "grader", {}


def _is_students(filename: str, student_dirs: tuple[str, ...]) -> bool:
    return filename.startswith(student_dirs) or filename.startswith("<cell")


def describe_exception(exc: BaseException, student_dirs: tuple[str, ...]) -> dict:
    """The exception as data, with the traceback cut to the student's own lines.

    A SyntaxError happens before any of the student's lines runs, so its traceback holds only
    the importer's frames; the file, line and text it carries itself become the last frame."""
    frames = []
    for frame in traceback.extract_tb(exc.__traceback__):
        if _is_students(frame.filename, student_dirs):
            frames.append([os.path.basename(frame.filename), frame.lineno, frame.name, (frame.line or "").strip()])
    try:
        message = str(exc)
    except Exception:  # a student's exception whose __str__ itself fails
        message = "(the exception's message could not be shown)"
    origin, site = raise_site(exc, student_dirs)
    if isinstance(exc, SyntaxError) and isinstance(exc.filename, str) and _is_students(exc.filename, student_dirs):
        frames.append([os.path.basename(exc.filename), exc.lineno, "<module>", (exc.text or "").strip()])
        message = str(exc.msg)
        origin = "student"
    described = {"type": type(exc).__name__, "message": message[:2000], "frames": frames[-8:],
                 "not_implemented": isinstance(exc, NotImplementedError), "origin": origin}
    if site:
        described["site"] = site
    if origin == "grader":  # the grader's own failure: its whole traceback, for the instructor
        described["trace"] = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-6000:]
    return described


def _perform(request: tuple) -> Any:
    op = request[0]
    if op == "keep":
        return _HandleOnly(request[1])
    if op == "import":
        return _HandleOnly(importlib.import_module(request[1]))
    if op not in ("call", "getattr", "ref", "setattr", "getitem", "setitem", "len", "list"):
        raise ValueError(f"unknown request {op!r}")
    target = HANDLES.get(request[1])
    return _on_student_object(op, target, *request[2:])


def _on_student_object(op: str, target: Any, *rest: Any) -> Any:
    """Apply one of the grader's requests to an object of the student's. An exception raised
    right here, not deeper, is still the student's (STUDENT_BOUNDARY): their object has no such
    attribute, their function does not take these arguments, their object cannot be indexed."""
    if op == "call":
        name, args, kwargs = rest
        return _returned(getattr(target, name) if name else target, *args, **kwargs)
    if op == "getattr":
        return _returned(getattr, target, rest[0])
    if op == "ref":
        return _HandleOnly(getattr(target, rest[0]))
    if op == "setattr":
        setattr(target, rest[0], rest[1])
        return None
    if op == "getitem":
        return _returned(operator.getitem, target, rest[0])
    if op == "setitem":
        target[rest[0]] = rest[1]
        return None
    if op == "len":
        return len(target)
    return list(target)


class _Returned:
    """What the student's code returned, and a pickled copy of it taken as it returned (None when
    it could not be pickled)."""

    def __init__(self, value: Any, copy: bytes | None):
        self.value = value
        self.copy = copy


_NOTHING = object()


def _returned(function: Any, *args, **kwargs) -> _Returned:
    """Call `function(*args, **kwargs)` and pickle its value in the same chain of C calls
    (itertools, then the C pickler), so no bytecode runs between the return and the copy.
    CPython switches threads only between bytecodes (or where C code lets go of the GIL, which
    pickling into memory does not), so a thread the student's code left running cannot change
    the value before it is copied; the reply is built from the copy."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=5)
    pickler.dispatch_table = _not_copied()
    kept, to_copy = itertools.tee(itertools.starmap(functools.partial(function, *args, **kwargs), ((),)))
    try:
        next(map(pickler.dump, to_copy))
    except BaseException:  # noqa: B902 - the student's own exception, or a value pickle cannot copy
        value = next(kept, _NOTHING)
        if value is _NOTHING:
            raise  # the call raised: reported as any student exception
        return _Returned(value, None)
    return _Returned(next(kept), buffer.getvalue())


def _not_copied() -> dict:
    """Types not worth copying (they are not plain data to pickle's C code: torch pickles tensors
    through Python and a whole serialiser): sent as before, read when the reply is encoded."""
    torch = sys.modules.get("torch")
    if torch is None:
        return {}
    return {torch.Tensor: _refuse, torch.nn.Parameter: _refuse}


def _refuse(obj: Any) -> None:
    raise pickle.PicklingError("not copied")


class _NotPlain(Exception):
    """The copy holds an object that is sent as a handle: the original must be sent instead."""


def _refuse_reference(obj: Any) -> dict:
    raise _NotPlain


def _encode_reply(result: Any) -> bytes:
    """The reply frame for `result`. A value copied as it returned (`_Returned`) is sent from its
    copy when that is plain data; otherwise, and when the copy holds objects that go back as
    handles (which must be the student's own objects, not copies), from the value itself."""
    if not isinstance(result, _Returned):
        return codec.encode(("ok", result), _as_reference)
    if result.copy is not None:
        try:
            return codec.encode(("ok", pickle.loads(result.copy)), _refuse_reference)
        except Exception:  # noqa: BLE001 - not plain data, or not readable back: the value as it is now
            pass
    return codec.encode(("ok", result.value), _as_reference)


class _HandleOnly:
    """Marks a result that must go back as a handle even if it is plain data (e.g. a dict to mutate)."""

    def __init__(self, obj):
        self.obj = obj


def serve(student_dirs: tuple[str, ...]) -> None:
    global _student_dirs
    _student_dirs = student_dirs
    while True:
        try:
            request = _receive()
        except EOFError:
            _flush_output()
            os._exit(0)
        _answer(request)


def _flush_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - the student's code replaced or closed it
            pass


def _answer(request: tuple) -> None:
    """Perform one request of the grader's and send the outcome back."""
    global _acting_for_grader
    before = _acting_for_grader
    _acting_for_grader = _for_grader(request)
    try:
        _answer_request(request)
    finally:
        _acting_for_grader = before


def _for_grader(request: tuple) -> bool:
    """Does this request work on an object of the grader's, not of the student's?"""
    op = request[0] if isinstance(request, tuple) and request else None
    if op == "import":
        name = str(request[1])
        return not (name in _student_modules or name.startswith("exercises."))
    if op in ("call", "getattr", "ref", "setattr", "getitem", "setitem", "len", "list"):
        return request[1] in HANDLES.graders
    return False


def _answer_request(request: tuple) -> None:
    try:
        result = _perform(request)
    except BaseException as exc:  # noqa: B902 - everything the student raises is reported, even SystemExit
        _send(("raised", describe_exception(exc, _student_dirs)))
        return
    if isinstance(result, _HandleOnly):
        _send(("ok-handle", HANDLES.add(result.obj)["h"], _type_name(result.obj)))
        return
    try:
        payload = _encode_reply(result)
    except MemoryError as exc:
        _send(("raised", describe_exception(exc, _student_dirs)))
        return
    except BaseException as exc:  # noqa: B902 - e.g. a result whose own methods raise while it is read
        _send(("raised", {"type": "UnsendableResult", "message": _unsendable(exc), "frames": [],
                          "not_implemented": False, "origin": "grader" if _acting_for_grader else "student"}))
        return
    _sock.sendall(payload)


def _unsendable(exc: BaseException) -> str:
    try:
        return f"{type(exc).__name__}: {exc}"[:500]
    except Exception:  # noqa: BLE001
        return type(exc).__name__


def load_student_module(config: dict) -> types.ModuleType:
    """Import the submission as `exercises.exerciseN.<module>` (and as `<module>`)."""
    name = config["import_name"]
    entry = config["entry"]
    if entry["kind"] == "file":
        spec = importlib.util.spec_from_file_location(name, entry["path"])
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = sys.modules[config["module"]] = module
        _exec_student_file(spec, module)
        return module
    module = types.ModuleType(name)
    module.__file__ = entry.get("path", "<notebook>")
    sys.modules[name] = sys.modules[config["module"]] = module
    for index, source in enumerate(entry["cells"], start=1):
        filename = f"<cell {index}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        try:
            exec(compile(source, filename, "exec"), module.__dict__)
        except BaseException as exc:  # noqa: B902 - one broken exploratory cell must not hide the others
            _load_notes.append({"cell": index, "line": _line_in(exc, filename), "type": type(exc).__name__,
                                "message": _text_of(exc)})  # worded by the grader (notebook_definitions.cell_note)
    return module


def _line_in(exc: BaseException, filename: str) -> int | None:
    """The line of the cell `filename` that was running when `exc` was raised."""
    line = exc.lineno if isinstance(exc, SyntaxError) and exc.filename == filename else None
    trace = exc.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == filename:
            line = trace.tb_lineno
        trace = trace.tb_next
    return line if isinstance(line, int) else None


def _text_of(exc: BaseException) -> str:
    try:
        return str(exc)[:300]
    except Exception:  # noqa: BLE001 - a student's exception whose __str__ itself fails
        return "(its message could not be shown)"


def _exec_student_file(spec, module: types.ModuleType) -> None:
    """Run the student's file as `module`: what the importer raises here (the file cannot be
    decoded, ...) is the student's (STUDENT_BOUNDARY)."""
    spec.loader.exec_module(module)


PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
SANDBOX_REFUSED = 72
"""Exit code when a safeguard could not be set up, so the student's code was never run
(errors.SANDBOX_REFUSED)."""
HARNESS_BEFORE_STUDENT = 73
"""Exit code when the harness failed before the student's module began to load (errors.HARNESS_BEFORE_STUDENT)."""


def prctl(option: int, value: int) -> None:
    """prctl(2) that raises OSError when it fails: through ctypes it returns -1 and sets errno
    instead of raising, and a safeguard that silently failed would go unnoticed. Raises
    AttributeError where there is no prctl (not Linux)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, value, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl({option}, {value}) failed: {os.strerror(errno)}")


def become_user(uid: int, gid: int) -> None:
    """Switch this process to the sandbox user for good. Groups first: once the user id is not
    root any more, the groups can no longer be changed. Raises if the switch did not take, so
    nothing meant to run as the sandbox user ever runs as root."""
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid or os.getgid() != gid:
        raise OSError("could not switch to the sandbox user")


def drop_privileges(user: list | None) -> bool:
    """Become the unprivileged sandbox user when the grader runs as root; True if we did.

    setuid from root to another user clears every capability for good, so the student's code
    cannot remount, unmount or write root's files; no_new_privs stops setuid programs (su,
    sudo, mount) from giving any of it back, and the parent-death signal ends this process with
    the zygote, whose kill loop is what guarantees nothing of a submission outlives its grading.
    Raises OSError if any of these fails: the caller then refuses to run the student's code.
    Only where prctl does not exist (not Linux) do the last two not apply (docs/security.md)."""
    dropped = False
    if user and os.getuid() == 0:
        become_user(int(user[0]), int(user[1]))
        dropped = True
    try:
        prctl(PR_SET_NO_NEW_PRIVS, 1)
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # the zygote gone (killed) -> this process goes too
    except AttributeError:
        pass  # not Linux
    return dropped


def apply_limits(limits: dict, *, own_user: bool = False) -> None:
    """rlimits of the student's process. The process count (RLIMIT_NPROC) is per user and
    counts all of that user's processes and threads on the machine, so it is only set when
    the code runs as the sandbox's own user (own_user), never against a real person's account.

    Memory is capped with RLIMIT_DATA (private writable memory: the heap, numpy's arrays, thread
    stacks), not RLIMIT_AS (address space): starting CUDA reserves ~17.5 GB of address space it
    never uses (PROT_NONE), so under RLIMIT_AS even the reference of exercise 7 failed on a GPU.
    An allocation over the limit still raises MemoryError in the student's code. Shared memory,
    which RLIMIT_DATA does not count, is watched by the zygote (zygote.MemoryWatch).
    Where there is no `resource` module (Windows), nothing is limited: only the `local` level
    runs there, and its limits are the grader's deadlines (docs/security.md)."""
    try:
        import resource
    except ImportError:
        return
    if not hasattr(resource, "setrlimit"):  # a Python whose resource module cannot set limits
        return

    def cap(which: int, value: int) -> None:
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass  # a limit the machine does not allow lowering further is left as it is

    cap(resource.RLIMIT_CORE, 0)
    if limits.get("memory_mb"):
        cap(resource.RLIMIT_DATA, limits["memory_mb"] << 20)
    if limits.get("cpu_s"):
        cap(resource.RLIMIT_CPU, int(limits["cpu_s"]))
    if limits.get("nofile"):
        cap(resource.RLIMIT_NOFILE, limits["nofile"])
    if limits.get("fsize_mb"):
        cap(resource.RLIMIT_FSIZE, limits["fsize_mb"] << 20)
    if limits.get("nproc") and own_user:
        cap(resource.RLIMIT_NPROC, limits["nproc"])


def share_gpu_memory(fraction: float | None) -> None:
    """Cap PyTorch's allocator in this process at `fraction` of each visible GPU's memory, before
    the student's code runs, so one student's run cannot take the memory of the students graded
    beside it on the same GPU (batch workers sharing a GPU: config.GpuShare). Only when the spawn
    request carries a fraction (a torch exercise graded on a shared GPU) and CUDA starts here;
    otherwise nothing happens, and a CUDA that cannot start is left for the check that uses it
    to report. The student's code could raise its own cap again: this shares memory fairly
    between well-meaning runs, it is not a security boundary."""
    if not fraction:
        return
    try:
        import torch

        if not torch.cuda.is_available():
            return
        for index in range(torch.cuda.device_count()):
            torch.cuda.set_per_process_memory_fraction(float(fraction), index)
    except Exception:  # noqa: BLE001 - e.g. CUDA cannot start under this process's limits
        pass


def bootstrap(config: dict, rpc_fd: int, out_fd: int) -> None:
    """Entry point of a freshly forked child; never returns."""
    global _sock
    try:
        _import_resource()
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        for fd in (devnull, out_fd):
            if fd > 2:
                os.close(fd)
        for stream in (sys.stdout, sys.stderr):  # the process may be killed: keep nothing in a buffer
            stream.reconfigure(line_buffering=True, write_through=True)
        _sock = socket.socket(fileno=rpc_fd)
        enter_folders(config)
        try:
            own_user = drop_privileges(config.get("user"))
        except OSError as exc:
            print(f"[grader] the submission was not run: {exc}", file=sys.stderr)
            os._exit(SANDBOX_REFUSED)
        apply_limits(config.get("limits", {}), own_user=own_user)
        run_submission(config)
    except BaseException:  # noqa: B902 - the harness itself failed: say so on the student's stderr
        harness_failed()
    finally:
        os._exit(70)  # errors.HARNESS_FAILED


def harness_failed() -> None:
    """End the process after the harness itself failed, with an exit code that says whose fault
    it can be: before the student's module began to load, only the grader's (HARNESS_BEFORE_STUDENT);
    after, the student's code may have closed our connection (CONNECTION_LOST) or replaced what
    the harness relies on (HARNESS_FAILED)."""
    if _student_started and _connection_lost():
        os._exit(71)  # errors.CONNECTION_LOST
    try:
        traceback.print_exc()
        _flush_output()
    except BaseException:  # noqa: B902 - stderr itself may be what broke
        pass
    os._exit(70 if _student_started else HARNESS_BEFORE_STUDENT)  # errors.HARNESS_FAILED


def _import_resource() -> None:
    """Import `resource` (for apply_limits) before the student's folder is put first on
    sys.path, so a student's file named resource.py is never run as the harness's."""
    try:
        import resource  # noqa: F401
    except ImportError:
        pass


def enter_folders(config: dict) -> None:
    """Work in the submission's own folder, with the sandbox's environment, finding the
    student's files and the other exercises' modules first."""
    os.chdir(config["workdir"])
    os.environ.clear()
    os.environ.update(config.get("env", {}))
    os.environ.setdefault("TMPDIR", config["workdir"])  # temporary files stay in this submission's folder
    sys.path[:0] = [config["student_dir"], config["pkgs_dir"]]


def run_submission(config: dict, sock: socket.socket | None = None) -> None:
    """Import the student's module, say so, then answer requests until the grader hangs up.
    Every level ends here: the zygote's forked child and local_child.py's fresh process."""
    global _sock, _other_exercises, _student_started, _student_modules
    if sock is not None:
        _sock = sock
    _student_modules = (config["module"], config["import_name"])
    student_dirs = (config["student_dir"],)
    _other_exercises = os.path.join(config["pkgs_dir"], "exercises") + os.sep
    share_gpu_memory(config.get("gpu_memory_fraction"))
    make_randomness_repeatable()
    _student_started = True
    try:
        module = load_student_module(config)
    except BaseException as exc:  # noqa: B902 - an import failure of any kind is reported
        _send(("import-failed", describe_exception(exc, student_dirs)))
        os._exit(0)
    key = HANDLES.add(module)["h"]
    _flush_output()
    _send(("ready", key, list(_load_notes)) if _load_notes else ("ready", key))
    serve(student_dirs)


def make_randomness_repeatable() -> None:
    """Start every generator the student's code can use without a seed from the same state on every
    run: numpy's and random's global ones, and each new `np.random.default_rng()` (its entropy is
    the n-th value of a fixed sequence, so two generators still differ). A submission graded twice
    then draws the same dropout masks and gets the same verdict, even with its own unseeded generator."""
    random.seed(0)
    try:
        import numpy.random
        from numpy.random import bit_generator
    except ImportError:
        return
    numpy.random.seed(0)
    generators_made = itertools.count()
    bit_generator.randbits = lambda bits: random.Random(next(generators_made)).getrandbits(bits)


def _connection_lost() -> bool:
    """Did the student's code close (or replace) the file descriptor of our socket?"""
    import stat

    try:
        return not stat.S_ISSOCK(os.fstat(_sock.fileno()).st_mode)
    except (OSError, AttributeError, ValueError):
        return True
