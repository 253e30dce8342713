"""Recording (release time, on the instructor's machine): the reference seen through proxies
that file every answer under the question asked (see grader/course/oracle/__init__.py)."""

from __future__ import annotations

import importlib
import sys
import time
import types
from pathlib import Path
from typing import Any, Callable

from grader.course.oracle.data import (ADVANCING, CHILD, FORMAT_VERSION, OBJECT, changes_since, digest, entry_key,
                                fingerprint, is_plain, is_tensor, plain_copy, rng_changes, rng_digest, rng_state,
                                save, snapshot)


MAX_ANSWER_MB = 8
"""A check whose single answer is larger (a normalised MNIST, say) is kept back: the bundle stays small."""
CLOCKS = ("perf_counter", "monotonic", "time", "process_time")
"""Clock readings watched in the check modules, to find checks that time the reference."""
ACTIVE: list["Recorder"] = []
"""The installed recorder (at most one per process), for question.reference_question."""


class Root:
    """The history shared by a reference object and its parts (bound methods, attributes).
    Module-level names are `pure`: their answers depend on the arguments only."""

    __slots__ = ("version", "pure")

    def __init__(self, version: str, pure: bool):
        self.version = version
        self.pure = pure


class Recorder:
    """Replaces every `reference.*` module by a proxy and files what the checks ask of it."""

    def __init__(self):
        self.entries: dict[tuple, dict] = {}
        self.constants: dict[str, Any] = {}
        self.problems: dict[str, str] = {}
        self.askers: dict[tuple, set[str]] = {}
        self.asked_since_clock: dict[str, int] = {}
        self.clocks: dict[str, Callable] = {}
        self.depth = 0

    def install(self, reference_root: Path) -> None:
        self._watch_clocks()
        ACTIVE[:] = [self]
        for path in sorted(reference_root.rglob("*.py")):
            if path.name == "__init__.py" or "__pycache__" in path.parts:
                continue
            name = ".".join(path.relative_to(reference_root.parent).with_suffix("").parts)
            proxy = RecordedModule(self, name, importlib.import_module(name))
            sys.modules[name] = proxy
            parent, _, leaf = name.rpartition(".")
            setattr(sys.modules[parent], leaf, proxy)

    @staticmethod
    def _check() -> str:
        """The check asking now, or "import" for a check module's import-time questions."""
        from grader.checks.api import current_check

        return current_check() or "import"

    def problem(self, reason: str) -> None:
        """This check cannot be replayed (the first reason found is kept)."""
        self.problems.setdefault(self._check(), reason)

    def _watch_clocks(self) -> None:
        """A check that reads the clock, asks the reference, and reads the clock again is timing the
        reference: a recorded answer takes no time, so that check needs the reference itself."""
        for name in CLOCKS:
            self.clocks.setdefault(name, getattr(time, name))

            def read(real=self.clocks[name]):
                if sys._getframe(1).f_globals.get("__name__", "").startswith("grader.checks.") and not self.depth:
                    check = self._check()
                    if self.asked_since_clock.get(check):
                        self.problem("it times the reference: a recorded answer cannot stand in for the "
                                     "reference's running time")
                    self.asked_since_clock[check] = 0
                return real()

            setattr(time, name, read)

    def restore_clocks(self) -> None:
        for name, real in self.clocks.items():
            setattr(time, name, real)

    def perform(self, proxy: "RecordedObject", op: str, step: str, func: Callable, args: tuple = (),
                kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        if self.depth:  # the reference calling itself (through a lambda, say): not a check's question
            return func(*_unwrap(args), **_unwrap(kwargs))
        root, path = object.__getattribute__(proxy, "_root"), object.__getattribute__(proxy, "_path")
        self._note_problems(args, kwargs)
        check = self._check()
        if check in self.asked_since_clock:
            self.asked_since_clock[check] += 1
        asked = fingerprint((list(args), kwargs))
        key = entry_key(root.version, op, path + ((step,) if step else ()))
        real_args, real_kwargs = _unwrap(args), _unwrap(kwargs)
        found = snapshot(real_args, real_kwargs)
        before = rng_state()
        entry: dict = {"key": key, "args": asked}
        self.depth += 1
        try:
            result = func(*real_args, **real_kwargs)
        except Exception as exc:
            entry["raises"] = [type(exc).__name__, str(exc)[:500]]
            self._file(entry, found, before, root, op, asked)
            raise
        finally:
            self.depth -= 1
        self._file(entry, found, before, root, op, asked)
        if op in ("getattr", "getitem") and not is_plain(result):
            entry["result"] = {CHILD: step}
            return RecordedObject(self, root, path + (step,), result)
        seed = digest(key, repr(asked), entry.get("rng_before", ""))
        wrapped, entry["result"] = self._wrap(result, seed, [0])
        self._size_guard(entry)
        return wrapped

    def _file(self, entry: dict, found: list, before: dict, root: Root, op: str, asked: Any) -> None:
        changes = rng_changes(before, rng_state())
        entry["rng"] = changes
        if changes:
            entry["rng_before"] = "/".join(rng_digest(before, which) for which in sorted(changes))
        effects = changes_since(found)
        if any(e[0] in ("set", "list") and not is_plain(e[-1]) for e in effects):
            self.problem("the reference stores an object in an argument the check passed")
        entry["effects"] = [e if e[0] == "del" else e[:-1] + (plain_copy(e[-1]),) for e in effects]
        if op in ADVANCING and not root.pure:
            root.version = digest(root.version, entry["key"], repr(asked), entry.get("rng_before", ""))
        entry["version_after"] = root.version
        filed = (entry["key"], repr(asked), entry.get("rng_before", ""))
        self.entries.setdefault(filed, entry)
        self.askers.setdefault(filed, set()).add(self._check())

    def _size_guard(self, entry: dict) -> None:
        megabytes = _nbytes([entry.get("result"), entry.get("effects")]) / 2 ** 20
        if megabytes > MAX_ANSWER_MB:
            self.problem(f"one of its answers takes {megabytes:.0f} MB, too large to ship in the bundle")

    def _wrap(self, result: Any, seed: str, counter: list) -> tuple[Any, Any]:
        """(what the check gets, what is stored): new objects become proxies with fresh histories."""
        if is_plain(result):
            return result, plain_copy(result)
        if type(result) in (list, tuple):
            pairs = [self._wrap(item, seed, counter) for item in result]
            return type(result)(p[0] for p in pairs), type(result)(p[1] for p in pairs)
        if type(result) is dict and all(is_plain(k) for k in result):
            pairs = {k: self._wrap(v, seed, counter) for k, v in result.items()}
            return {k: p[0] for k, p in pairs.items()}, {k: p[1] for k, p in pairs.items()}
        counter[0] += 1
        oid = f"o{digest(seed, counter[0])}"
        return RecordedObject(self, Root(oid, pure=False), (), result), {OBJECT: oid}

    def _note_problems(self, args: tuple, kwargs: dict) -> None:
        from grader.sandbox.session import RemoteObject

        if _on_stack("_answer_callback", "session.py"):
            self.problem("the reference is called from inside the student's code (a callback)")
        for value in _leaves((args, kwargs)):
            if isinstance(value, RemoteObject):
                self.problem("a student object is passed to the reference")
            elif not (is_plain(value) or isinstance(value, RecordedObject) or callable(value)):
                self.problem(f"a {type(value).__name__} of the grader's is passed to the reference")

    def data(self, exercise: str, kept_back: set[str] = frozenset()) -> dict:
        """What the bundle gets: the answers some shipped check (or a check module's import) asked for."""
        entries = [entry for filed, entry in self.entries.items() if not self.askers[filed] <= set(kept_back)]
        return {"version": FORMAT_VERSION, "exercise": exercise, "constants": self.constants, "entries": entries}


def _nbytes(x: Any, depth: int = 0) -> int:
    if hasattr(x, "nbytes"):
        return int(x.nbytes)
    if is_tensor(x):
        return x.numel() * x.element_size()
    if depth < 32 and isinstance(x, (list, tuple)):
        return sum(_nbytes(i, depth + 1) for i in x)
    if depth < 32 and isinstance(x, dict):
        return sum(_nbytes(v, depth + 1) for v in x.values())
    return 0


def _on_stack(function_name: str, file_suffix: str) -> bool:
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == function_name and frame.f_code.co_filename.endswith(file_suffix):
            return True
        frame = frame.f_back
    return False


def _leaves(x: Any, depth: int = 0):
    if depth < 32 and type(x) in (list, tuple):
        for item in x:
            yield from _leaves(item, depth + 1)
    elif depth < 32 and type(x) is dict:
        for item in x.values():
            yield from _leaves(item, depth + 1)
    else:
        yield x


def _unwrap(x: Any, depth: int = 0) -> Any:
    if isinstance(x, RecordedObject):
        return object.__getattribute__(x, "_real")
    if depth < 32 and type(x) in (list, tuple, dict):
        items = x.values() if type(x) is dict else x
        if any(isinstance(i, (RecordedObject, list, tuple, dict)) for i in items):
            if type(x) is dict:
                return {k: _unwrap(v, depth + 1) for k, v in x.items()}
            return type(x)(_unwrap(i, depth + 1) for i in x)
    return x


class RecordedModule(types.ModuleType):
    """A reference module seen through the recorder: its functions and classes become proxies."""

    def __init__(self, recorder: Recorder, name: str, real: types.ModuleType):
        super().__init__(name, real.__doc__)
        object.__setattr__(self, "_recorder", recorder)
        object.__setattr__(self, "_real", real)
        self.__file__ = getattr(real, "__file__", None)

    def __getattr__(self, name: str) -> Any:
        real = getattr(object.__getattribute__(self, "_real"), name)
        if name.startswith("__"):
            return real
        recorder = object.__getattribute__(self, "_recorder")
        qualified = f"{self.__name__}.{name}"
        if is_plain(real):
            recorder.constants[qualified] = plain_copy(real)
            return real
        return RecordedObject(recorder, Root(qualified, pure=True), (), real)


class RecordedObject:
    """A reference function, class, instance or part of one: every use is filed."""

    __slots__ = ("_recorder", "_root", "_path", "_real")

    def __init__(self, recorder: Recorder, root: Root, path: tuple, real: Any):
        object.__setattr__(self, "_recorder", recorder)
        object.__setattr__(self, "_root", root)
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_real", real)

    @staticmethod
    def _oracle_identity(proxy: "RecordedObject") -> list:
        return [object.__getattribute__(proxy, "_root").version, list(object.__getattribute__(proxy, "_path"))]

    def __getattribute__(self, name: str) -> Any:
        if name == "__new__":  # `ref.Net.__new__(ref.Net)` builds a net without running __init__
            return object.__getattribute__(self, "__getattr__")(name)
        if name in ("__name__", "__qualname__", "__doc__", "__module__"):
            return getattr(object.__getattribute__(self, "_real"), name)
        return object.__getattribute__(self, name)

    def _do(self, op: str, step: str, func: Callable, args: tuple = (), kwargs: dict | None = None) -> Any:
        return object.__getattribute__(self, "_recorder").perform(self, op, step, func, args, kwargs)

    def __getattr__(self, name: str) -> Any:
        real = object.__getattribute__(self, "_real")
        if name == "sandbox_state":  # the codec asks this when the object is sent to the student
            object.__getattribute__(self, "_recorder").problem("a reference object is sent to the student's code")
            raise AttributeError(name)
        if name.startswith("__") and name != "__new__":
            return getattr(real, name)
        return self._do("getattr", name, lambda: getattr(real, name))

    def __setattr__(self, name: str, value: Any) -> None:
        real = object.__getattribute__(self, "_real")
        self._do("setattr", name, lambda v: setattr(real, name, v), (value,))

    def __call__(self, *args, **kwargs) -> Any:
        return self._do("call", "", object.__getattribute__(self, "_real"), args, kwargs)

    def __getitem__(self, key: Any) -> Any:
        real = object.__getattribute__(self, "_real")
        return self._do("getitem", f"[{key!r}]", lambda k: real[k], (key,))

    def __setitem__(self, key: Any, value: Any) -> None:
        real = object.__getattribute__(self, "_real")
        self._do("setitem", "", lambda k, v: real.__setitem__(k, v), (key, value))

    def __len__(self) -> int:
        return self._do("len", "", lambda: len(object.__getattribute__(self, "_real")))

    def __iter__(self):
        return iter(self._do("iter", "", lambda: list(object.__getattribute__(self, "_real"))))

    def __mro_entries__(self, bases: tuple) -> tuple:
        object.__getattribute__(self, "_recorder").problem("a reference class is used as a base class")
        return (object.__getattribute__(self, "_real"),)

    def __repr__(self) -> str:
        return f"<reference {object.__getattribute__(self, '_root').version}>"


def record_exercise(exercise_name: str, out_path: str | Path, isolation: str = "auto",
                    also: list[str] | None = None) -> dict:
    """Record the answers `exercise_name`'s public checks get from the reference, grading the
    reference and then each submission of `also` (the exercise's cases: their failing checks ask
    the reference for diagnoses the reference's own run never needs).

    Must run in a fresh process (release.py starts one per exercise): a check module imported
    before would hold the real reference. Writes the answers to `out_path` and returns
    {"checks": {name: "" or why it cannot be replayed}, "error": ...} for the reference's run.
    """
    from grader.catalog import REFERENCE_ROOT, get_exercise
    from grader.pipeline import grade_submission
    from grader.sandbox.launcher import Launcher

    exercise = get_exercise(exercise_name)
    recorder = Recorder()
    recorder.install(REFERENCE_ROOT)
    with Launcher(exercise, isolation=isolation) as launcher:
        result = grade_submission(exercise.name, exercise.reference_path, launcher=launcher, visibility="public")
        problems = dict(recorder.problems)
        for path in also or []:
            grade_submission(exercise.name, Path(path), launcher=launcher, visibility="public")
    checks, kept_back = {}, set()
    for check in result.checks:
        why = problems.get(check.name, "") or problems.get("import", "")
        if not why and not check.passed:
            why = f"it does not pass with the reference itself ({check.message[:160]})"
        checks[check.name] = why
        if why:
            kept_back.add(check.name)
    save(recorder.data(exercise.name, kept_back), Path(out_path))
    return {"checks": checks, "error": result.error}
