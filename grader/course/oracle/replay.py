"""Replay (the students' bundle): `reference.*` answers from the recorded answers
(see grader/course/oracle/__init__.py)."""

from __future__ import annotations

import builtins
import importlib
import importlib.abc
import importlib.util
import sys
import types
from collections import defaultdict
from pathlib import Path
from typing import Any

from grader.course.oracle.data import (ADVANCING, CHILD, OBJECT, ORACLE_FILE, apply_changes, entry_key, fingerprint,
                                load, plain_copy, rng_digest, rng_state, same_fingerprint, set_rng)
from grader.sandbox.errors import GraderFault

MISSING = object()


class ReferenceUnavailable(GraderFault, ValueError):
    """A check asked the reference something that was not recorded, so it cannot run here.

    Only a check that hands the reference values computed by the student's code gets here,
    when those values match neither the reference's own (a correct submission's do, within
    floating-point noise) nor those of a recorded mistake. A bundle stand-in without an answer
    is the grader's gap, not the student's mistake: a GraderFault, so the check ends as "could
    not run" (origin "grader") with this message; and a ValueError so that a check's diagnosis
    helper asking "what would the reference say to these values of yours?" inside
    `except (ValueError, ...)` just finds no diagnosis, and the check fails with its own message.
    """

    def __init__(self, message: str):
        super().__init__(message)


class Root:
    __slots__ = ("version", "pure")

    def __init__(self, version: str, pure: bool):
        self.version = version
        self.pure = pure


class Replayer:
    """Looks up answers in every exercise's recordings (merged: answers are filed by content)."""

    def __init__(self, checks_root: Path):
        self.checks_root = Path(checks_root)
        self.table: dict[str, list] | None = None
        self.constants: dict[str, Any] = {}

    def _load(self) -> dict[str, list]:
        if self.table is None:
            table: dict[str, list] = defaultdict(list)
            for path in sorted(self.checks_root.glob(f"*/{ORACLE_FILE}")):
                data = load(path)
                self.constants.update(data.get("constants", {}))
                for entry in data.get("entries", []):
                    table[entry["key"]].append(entry)
            self.table = table
        return self.table

    def constant(self, qualified: str) -> Any:
        self._load()
        return plain_copy(self.constants[qualified]) if qualified in self.constants else MISSING

    def perform(self, proxy: "ReplayObject", op: str, step: str, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        root, path = object.__getattribute__(proxy, "_root"), object.__getattribute__(proxy, "_path")
        asked = fingerprint((list(args), kwargs))
        candidates = self._load().get(entry_key(root.version, op, path + ((step,) if step else ())), [])
        entry = next((e for e in candidates if same_fingerprint(asked, e["args"]) and _same_randomness(e)), None)
        if entry is None:
            raise ReferenceUnavailable(_unavailable(root, path, step, bool(candidates)))
        if op in ADVANCING and not root.pure:
            root.version = entry["version_after"]
        apply_changes(entry.get("effects", []), args, kwargs)
        set_rng(entry.get("rng") or {})
        if entry.get("raises"):
            name, message = entry["raises"]
            error = getattr(builtins, name, None)
            raise (error if isinstance(error, type) and issubclass(error, Exception) else RuntimeError)(message)
        result = entry["result"]
        if type(result) is dict and CHILD in result:
            return ReplayObject(self, root, path + (step,))
        return _materialise(self, result)


def _same_randomness(entry: dict) -> bool:
    """An answer that drew random numbers holds only for the random state it was recorded in."""
    wanted = entry.get("rng_before")
    if not wanted:
        return True
    state = rng_state()
    return wanted == "/".join(rng_digest(state, which) for which in sorted(entry.get("rng") or {}))


def _unavailable(root: Root, path: tuple, step: str, asked_before: bool) -> str:
    names = [p for p in (*path, step) if p]
    where = (".".join(root.version.split(".")[-2:]) if root.pure else "a reference object") \
        + "".join(f".{n}" if not n.startswith("[") else n for n in names)
    what = ("gives the reference values computed by your code, which differ from the reference's own"
            if asked_before else "asks the reference something it was not asked when this bundle was made")
    return (f"could not run here: this check {what} (at {where}). The likely cause is a mistake in an earlier "
            f"step, reported by another check. This check runs in full when your instructor grades.")


def _materialise(replayer: Replayer, stored: Any) -> Any:
    if type(stored) is dict and OBJECT in stored and len(stored) == 1:
        return ReplayObject(replayer, Root(stored[OBJECT], pure=False), ())
    if type(stored) in (list, tuple):
        return type(stored)(_materialise(replayer, item) for item in stored)
    if type(stored) is dict:
        return {k: _materialise(replayer, v) for k, v in stored.items()}
    return plain_copy(stored)


class ReplayObject:
    """Stands in for a reference function, class, instance or part of one."""

    __slots__ = ("_replayer", "_root", "_path")

    def __init__(self, replayer: Replayer, root: Root, path: tuple):
        object.__setattr__(self, "_replayer", replayer)
        object.__setattr__(self, "_root", root)
        object.__setattr__(self, "_path", path)

    @staticmethod
    def _oracle_identity(proxy: "ReplayObject") -> list:
        return [object.__getattribute__(proxy, "_root").version, list(object.__getattribute__(proxy, "_path"))]

    def __getattribute__(self, name: str) -> Any:
        if name == "__new__":
            return object.__getattribute__(self, "_do")("getattr", name)
        if name in ("__name__", "__qualname__"):
            path = object.__getattribute__(self, "_path")
            return path[-1] if path else object.__getattribute__(self, "_root").version.rpartition(".")[2]
        return object.__getattribute__(self, name)

    def _do(self, op: str, step: str, args: tuple = (), kwargs: dict | None = None) -> Any:
        return object.__getattribute__(self, "_replayer").perform(self, op, step, args, kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "sandbox_state":
            raise AttributeError(name)
        return self._do("getattr", name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._do("setattr", name, (value,))

    def __call__(self, *args, **kwargs) -> Any:
        return self._do("call", "", args, kwargs)

    def __getitem__(self, key: Any) -> Any:
        return self._do("getitem", f"[{key!r}]", (key,))

    def __setitem__(self, key: Any, value: Any) -> None:
        self._do("setitem", "", (key, value))

    def __len__(self) -> int:
        return self._do("len", "")

    def __iter__(self):
        return iter(self._do("iter", ""))

    def __mro_entries__(self, bases: tuple) -> tuple:
        return (object,)  # a class built on a reference class: its checks were kept back; the module imports

    def __repr__(self) -> str:
        return f"<recorded reference {object.__getattribute__(self, '_root').version}>"


class ReplayModule(types.ModuleType):
    """`reference`, `reference.exerciseN` and `reference.exerciseN.<module>` of the bundle."""

    def __init__(self, replayer: Replayer, name: str):
        super().__init__(name, "Recorded answers of the reference (this bundle has no reference code).")
        object.__setattr__(self, "_replayer", replayer)
        self.__path__ = []  # a package, so the modules below it can be imported

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        qualified = f"{self.__name__}.{name}"
        if qualified.count(".") < 3:  # reference.exerciseN.<module>: `from reference.exercise1 import losses`
            return importlib.import_module(qualified)
        replayer = object.__getattribute__(self, "_replayer")
        value = replayer.constant(qualified)
        return value if value is not MISSING else ReplayObject(replayer, Root(qualified, pure=True), ())


class ReplayFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Makes `reference` and everything below it importable as replay modules."""

    def __init__(self, replayer: Replayer):
        self.replayer = replayer

    def find_spec(self, fullname, path=None, target=None):
        if fullname == "reference" or fullname.startswith("reference."):
            return importlib.util.spec_from_loader(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        return ReplayModule(self.replayer, spec.name)

    def exec_module(self, module):
        pass


_installed: list[Replayer] = []


def install_replay(checks_root: Path) -> None:
    """In the students' bundle (no reference/ folder beside grader/), answer `reference.*`
    imports from the recorded answers; in the course repository, do nothing."""
    if _installed or (Path(checks_root).parent.parent / "reference").is_dir():
        return
    _installed.append(Replayer(checks_root))
    sys.meta_path.insert(0, ReplayFinder(_installed[0]))
