"""What recording and replay share: plain data, argument fingerprints, object histories,
in-place changes to arguments, the global random state, and the file format."""

from __future__ import annotations

import copy
import hashlib
import sys
from pathlib import Path
from typing import Any

import numpy as np

from grader.sandbox import codec

FORMAT_VERSION = 2
ORACLE_FILE = "_oracle.bin"
"""Name of an exercise's recorded answers inside grader/checks/exerciseN/ of the bundle."""
CHILD = "\x00oracle-child"
"""Marks a result that is a part of the object asked (a bound method, a layer): same history."""
OBJECT = "\x00oracle-object"
"""Marks a result that is a new reference object: its history starts from the id stored here."""
RTOL = 1e-6
"""Relative tolerance between a replayed argument and a recorded one: floating-point noise only."""
ADVANCING = {"call", "setattr", "setitem", "iter"}
"""Operations that may change an object's state, so they extend its history."""


# -- plain data ----------------------------------------------------------------------------------
def is_tensor(x: Any) -> bool:
    return type(x).__module__.startswith("torch") and type(x).__name__ in {"Tensor", "Parameter"}


def is_plain(x: Any, depth: int = 0) -> bool:
    """Data the file can hold: numbers, strings, arrays, tensors, and lists/tuples/dicts of them."""
    if depth > codec.MAX_DEPTH:
        return False
    if x is None or isinstance(x, (bool, int, float, str, bytes)):
        return True
    if isinstance(x, (np.ndarray, np.generic)):
        return x.dtype.name in codec.ALLOWED_DTYPES
    if is_tensor(x):
        return not x.is_sparse
    if type(x) in (list, tuple):
        return all(is_plain(i, depth + 1) for i in x)
    if type(x) is dict:
        return all(is_plain(k, depth + 1) and is_plain(v, depth + 1) for k, v in x.items())
    return False


def plain_copy(x: Any) -> Any:
    return x.detach().clone() if is_tensor(x) else copy.deepcopy(x)


# -- fingerprints of arguments -----------------------------------------------------------------
_WEIGHTS: dict[int, np.ndarray] = {}


def _weights(size: int) -> np.ndarray:
    if size not in _WEIGHTS:
        _WEIGHTS[size] = np.random.default_rng(20240601).standard_normal(size)
    return _WEIGHTS[size]


def fingerprint(x: Any, depth: int = 0) -> Any:
    """A small comparable summary of an argument: a float array becomes its shape and three sums
    (plain, absolute, and with fixed random weights), so a reordered or changed value shows."""
    if depth > codec.MAX_DEPTH:
        return ["deep"]
    identity = getattr(type(x), "_oracle_identity", None)
    if identity is not None:  # a reference object (recorded or replayed): its history
        return ["object", identity(x)]
    if is_tensor(x):
        x = x.detach().cpu().numpy()
    if isinstance(x, (np.ndarray, np.generic)):
        arr = np.asarray(x)
        if arr.dtype.kind in "fc":
            flat = np.abs(arr).astype(np.float64).ravel() if arr.dtype.kind == "c" else arr.astype(np.float64).ravel()
            stats = [float(flat.sum()), float(np.abs(flat).sum()), float(flat @ _weights(flat.size))] \
                if flat.size else [0.0, 0.0, 0.0]
            return ["floats", list(arr.shape), stats]
        if arr.dtype.name in codec.ALLOWED_DTYPES:
            values = arr.astype(np.int64).ravel()
            return ["exact", list(arr.shape), arr.dtype.kind,
                    values.tolist() if values.size <= 64 else hashlib.sha1(values.tobytes()).hexdigest()]
        return ["other", type(x).__name__]
    if isinstance(x, float):
        return ["float", x]
    if x is None or isinstance(x, (bool, int, str)):
        return ["value", x]
    if isinstance(x, bytes):
        return ["value", x.hex()]
    if type(x) in (list, tuple):
        return [type(x).__name__, [fingerprint(i, depth + 1) for i in x]]
    if type(x) is dict:
        return ["dict", [[fingerprint(k, depth + 1), fingerprint(v, depth + 1)] for k, v in x.items()]]
    if callable(x):
        return ["callable", getattr(x, "__qualname__", type(x).__name__)]
    return ["other", type(x).__name__]


def same_fingerprint(a: Any, b: Any) -> bool:
    """Equal structure and exact values, except float sums: equal within RTOL of their magnitude."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if a and b and a[0] == "floats" and b[0] == "floats":
            scale = max(abs(a[2][1]), abs(b[2][1]))
            return list(a[1]) == list(b[1]) and all(
                (np.isnan(x) and np.isnan(y)) or x == y or abs(x - y) <= RTOL * scale for x, y in zip(a[2], b[2]))
        if a and b and a[0] == "float" and b[0] == "float":
            return a[1] == b[1] or abs(a[1] - b[1]) <= RTOL * max(abs(a[1]), abs(b[1]))
        return len(a) == len(b) and all(same_fingerprint(x, y) for x, y in zip(a, b))
    return a == b


# -- histories -----------------------------------------------------------------------------------
def digest(*parts: Any) -> str:
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:20]


def entry_key(version: str, op: str, path: tuple) -> str:
    """Where an answer is filed: the asked object's history, the operation, the attribute path."""
    return f"{version}|{op}|{'/'.join(path)}"


# -- the global random state -----------------------------------------------------------------------
def rng_state() -> dict:
    state = {"numpy": np.random.get_state()}
    torch = sys.modules.get("torch")
    if torch is not None:
        state["torch"] = torch.get_rng_state()
    return state


def rng_digest(state: dict, which: str) -> str:
    value = state.get(which)
    if value is None:
        return ""
    if which == "numpy":
        return digest(value[0], hashlib.sha1(np.asarray(value[1]).tobytes()).hexdigest(), *value[2:])
    return hashlib.sha1(value.numpy().tobytes()).hexdigest()


def rng_changes(before: dict, after: dict) -> dict:
    """{generator: state after} for the generators the operation drew from."""
    changes = {}
    if rng_digest(before, "numpy") != rng_digest(after, "numpy"):
        changes["numpy"] = after["numpy"]
    if "torch" in after and rng_digest(before, "torch") != rng_digest(after, "torch"):
        changes["torch"] = after["torch"]
    return changes


def set_rng(changes: dict) -> None:
    if "numpy" in changes:
        np.random.set_state(tuple(changes["numpy"]))
    if "torch" in changes:
        import torch

        state = changes["torch"]
        torch.set_rng_state(state if is_tensor(state) else torch.from_numpy(np.asarray(state, dtype=np.uint8)))


# -- in-place changes the reference makes to its arguments -----------------------------------------
def _walk_mutables(x: Any, path: tuple, found: list, depth: int = 0) -> None:
    if depth > codec.MAX_DEPTH:
        return
    if isinstance(x, np.ndarray) or is_tensor(x):
        found.append((path, x, plain_copy(x), None))
    elif type(x) is dict:
        found.append((path, x, None, {k: id(v) for k, v in x.items()}))
        for k, v in x.items():
            _walk_mutables(v, path + (k,), found, depth + 1)
    elif type(x) in (list, tuple):
        if type(x) is list:
            found.append((path, x, None, [id(v) for v in x]))
        for i, v in enumerate(x):
            _walk_mutables(v, path + (i,), found, depth + 1)


def snapshot(args: tuple, kwargs: dict) -> list:
    found: list = []
    _walk_mutables((list(args), kwargs), (), found)
    return found


def changes_since(found: list) -> list:
    """[("array", path, value) | ("set", path, key, value) | ("del", path, key) | ("list", path, value)]."""
    effects = []
    for path, obj, old_value, old_ids in found:
        if old_ids is None:
            same = (bool((obj == old_value).all()) if is_tensor(obj)
                    else np.array_equal(obj, old_value, equal_nan=obj.dtype.kind in "fc"))
            if not same:
                effects.append(("array", list(path), plain_copy(obj)))
        elif isinstance(obj, dict):
            effects += [("set", list(path), key, value) for key, value in obj.items() if old_ids.get(key) != id(value)]
            effects += [("del", list(path), key) for key in old_ids if key not in obj]
        elif [id(v) for v in obj] != old_ids:
            effects.append(("list", list(path), obj))
    return effects


def apply_changes(effects: list, args: tuple, kwargs: dict) -> None:
    root = (list(args), kwargs)
    for effect in sorted(effects, key=lambda e: e[0] != "array"):  # arrays first: their paths are pre-call
        target = root
        for step in effect[1]:
            target = target[step]
        if effect[0] == "array":
            if is_tensor(target):
                import torch

                target.data.copy_(effect[2] if is_tensor(effect[2]) else torch.from_numpy(np.asarray(effect[2])))
            else:
                target[...] = effect[2]
        elif effect[0] == "set":
            target[effect[2]] = plain_copy(effect[3])
        elif effect[0] == "del":
            target.pop(effect[2], None)
        elif effect[0] == "list":
            target[:] = plain_copy(effect[2])


# -- the file ------------------------------------------------------------------------------------
def save(data: dict, path: Path) -> None:
    def refuse(obj):
        raise TypeError(f"cannot store {type(obj).__name__} in the recorded answers")

    Path(path).write_bytes(codec.encode(data, refuse))


def load(path: Path) -> dict:
    def make_tensor(arr):
        import torch

        return torch.from_numpy(arr)

    return codec.decode(Path(path).read_bytes()[8:], lambda tag, value: None, make_tensor)
