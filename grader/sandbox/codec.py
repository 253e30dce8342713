"""The wire format between the grader and the sandboxed student process.

Only plain data crosses: None, bool, int, float, str, bytes, lists, tuples, dicts, numpy
arrays and scalars of numeric dtypes, and torch tensors (sent as arrays). Anything else
travels as a reference: a *handle* to an object that stays in the student's process, or a
*callback* to an object that stays in the grader's. Decoding never runs code (no pickle),
and every frame from the student's side is validated, so a tampered channel is an error,
never a way into the grader.

A frame is: 8-byte length, 4-byte header length, a JSON header, then the raw array bytes.

This file is copied into the sandbox and must import nothing but the standard library and
numpy (torch only when a tensor is actually sent).
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any, Callable

import numpy as np

MAX_FRAME_BYTES = 1 << 29
"""512 MiB: the most one message may carry, so a student's process cannot make the grader
allocate without bound (the largest real result, a network's parameters, is a few MB)."""
MAX_TYPE_NAME = 80
MAX_DEPTH = 64
ALLOWED_DTYPES = {
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128",
}


class CodecError(Exception):
    """A frame that does not follow the format: the channel was broken or tampered with."""


class Tensor:
    """Wraps an array the grader wants to arrive in the sandbox as a torch tensor."""

    def __init__(self, array):
        self.array = np.asarray(array)


LAYOUTS = ("C", "F", "transposed", "strided", "offset")
"""How an array may arrive in the student's process (SPEC.md allows any of them):
C-contiguous, Fortran-ordered, a transposed view of a C array, a view of every other column of
a wider array, and a view that starts one row into a larger array. Frames from the student's
side are always read as C arrays."""


class Layout:
    """Wraps an array the grader wants to arrive in the sandbox in a given memory layout, so a
    check can give the student's code the views and orders SPEC.md allows, not only C arrays."""

    def __init__(self, array, layout: str):
        if layout not in LAYOUTS:
            raise ValueError(f"unknown layout {layout!r}; one of {LAYOUTS}")
        self.array = np.asarray(array)
        self.layout = layout


def with_layout(arr: np.ndarray, layout: str) -> np.ndarray:
    """`arr`'s values in the memory layout named (see LAYOUTS); 0-d and empty arrays stay C."""
    if layout == "C" or arr.ndim == 0 or arr.size == 0:
        return np.ascontiguousarray(arr)
    if layout == "F":
        return np.asfortranarray(arr)
    if layout == "transposed":
        return np.ascontiguousarray(arr.T).T
    if layout == "strided":
        wide = np.zeros(arr.shape[:-1] + (2 * arr.shape[-1],), dtype=arr.dtype)
        wide[..., ::2] = arr
        return wide[..., ::2]
    if layout == "offset":
        longer = np.zeros((arr.shape[0] + 1,) + arr.shape[1:], dtype=arr.dtype)
        longer[1:] = arr
        return longer[1:]
    raise ValueError(f"unknown layout {layout!r}")


def _is_torch_tensor(obj: Any) -> bool:
    return type(obj).__module__.startswith("torch") and type(obj).__name__ in {"Tensor", "Parameter"}


def encode(obj: Any, as_reference: Callable[[Any], dict]) -> bytes:
    """Serialise `obj`; objects that are not plain data go through `as_reference`."""
    buffers: list[bytes] = []

    def array_entry(arr: np.ndarray) -> list:
        shape = list(np.shape(arr))  # before ascontiguousarray, which turns 0-d into shape (1,)
        arr = np.ascontiguousarray(arr)
        if arr.dtype.name not in ALLOWED_DTYPES:
            raise TypeError(f"cannot send an array of dtype {arr.dtype}")
        buffers.append(arr.tobytes())
        return [len(buffers) - 1, arr.dtype.name, shape]

    def walk(x: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise TypeError("data nested too deeply to send")
        if isinstance(x, np.generic) and x.dtype.name in ALLOWED_DTYPES:
            return {"s": array_entry(np.asarray(x))}
        # Subclasses of the plain types (a student's int with a lying __eq__, say) are sent as
        # their plain value, read through the base type so no overridden method runs.
        if x is None or isinstance(x, bool):
            return None if x is None else bool(x)
        if isinstance(x, int):
            return int.__index__(x)
        if isinstance(x, str):
            return str.__str__(x)
        if isinstance(x, float):
            return {"f": float.__repr__(x)}
        if isinstance(x, (bytes, bytearray)):
            buffers.append(bytes(x))
            return {"b": len(buffers) - 1}
        if isinstance(x, np.ndarray) and x.dtype.name in ALLOWED_DTYPES:
            return {"a": array_entry(x)}
        if isinstance(x, Tensor) and x.array.dtype.name in ALLOWED_DTYPES:
            return {"T": array_entry(x.array)}
        if isinstance(x, Layout) and x.array.dtype.name in ALLOWED_DTYPES:
            return {"L": [array_entry(x.array), x.layout]}
        if _is_torch_tensor(x) and not x.is_sparse:
            return {"T": array_entry(x.detach().cpu().numpy())}
        # Containers too: a namedtuple, OrderedDict or defaultdict arrives as a tuple or dict,
        # its items read through the base type's own iterator.
        if isinstance(x, list):
            return {"l": [walk(i, depth + 1) for i in list.__iter__(x)]}
        if isinstance(x, tuple):
            return {"t": [walk(i, depth + 1) for i in tuple.__iter__(x)]}
        if isinstance(x, dict):
            return {"d": [[walk(k, depth + 1), walk(v, depth + 1)] for k, v in dict.items(x)]}
        ref = as_reference(x)
        if "c" in ref:  # a callback carries its state (e.g. a network's params) as data
            ref = {"c": [ref["c"][0], walk(ref["c"][1], depth + 1)]}
        return ref

    header = json.dumps(walk(obj, 0), allow_nan=False).encode()
    body = b"".join(buffers)
    sizes = json.dumps([len(b) for b in buffers]).encode()
    payload = struct.pack("<II", len(header), len(sizes)) + header + sizes + body
    return struct.pack("<Q", len(payload)) + payload


def decode(payload: bytes, resolve: Callable[[str, Any], Any], make_tensor: Callable | None = None) -> Any:
    """Rebuild the data of one frame's payload; references go through `resolve(kind, value)`:
    `("h", (key, type_name))` for a handle, `("c", (key, state))` for a callback.

    Whatever the bytes, this returns plain data or raises CodecError: it never runs code
    named by the frame and allocates no more than the frame's own size (plus its parsing)."""
    try:
        return _decode(payload, resolve, make_tensor)
    except CodecError:
        raise
    except Exception as exc:  # noqa: BLE001 - any other failure on hostile bytes is a broken frame too
        raise CodecError(f"unreadable frame ({type(exc).__name__})") from None


def _decode(payload: bytes, resolve: Callable[[str, Any], Any], make_tensor: Callable | None) -> Any:
    try:
        header_len, sizes_len = struct.unpack_from("<II", payload, 0)
        start = 8
        header = json.loads(payload[start:start + header_len])
        sizes = json.loads(payload[start + header_len:start + header_len + sizes_len])
    except (struct.error, ValueError, RecursionError) as exc:
        raise CodecError(f"unreadable frame header ({exc})") from None
    if not isinstance(sizes, list) or not all(isinstance(s, int) and s >= 0 for s in sizes):
        raise CodecError("bad buffer table")
    offsets = []
    pos = start + header_len + sizes_len
    for size in sizes:
        offsets.append(pos)
        pos += size
    if pos != len(payload):
        raise CodecError("frame length does not match its buffers")

    def buffer(index: Any) -> memoryview:
        if not isinstance(index, int) or not 0 <= index < len(sizes):
            raise CodecError("bad buffer index")
        return memoryview(payload)[offsets[index]:offsets[index] + sizes[index]]

    def array(entry: Any) -> np.ndarray:
        if not (isinstance(entry, list) and len(entry) == 3 and entry[1] in ALLOWED_DTYPES
                and isinstance(entry[2], list) and all(isinstance(d, int) and d >= 0 for d in entry[2])):
            raise CodecError("bad array entry")
        data = buffer(entry[0])
        dtype = np.dtype(entry[1])
        shape = tuple(entry[2])
        if math.prod(shape) * dtype.itemsize != len(data):  # exact: no int64 wrap-around
            raise CodecError("array size does not match its shape")
        return np.frombuffer(data, dtype=dtype).reshape(shape).copy()

    def walk(x: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise CodecError("data nested too deeply")
        if x is None or isinstance(x, (bool, int, str)):
            return x
        if not (isinstance(x, dict) and len(x) == 1):
            raise CodecError(f"unexpected item {type(x).__name__}")
        (tag, value), = x.items()
        if tag == "f" and isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                raise CodecError("bad float") from None
        if tag == "b":
            return bytes(buffer(value))
        if tag == "a":
            return array(value)
        if tag == "s":
            return array(value)[()]
        if tag == "L" and isinstance(value, list) and len(value) == 2 and value[1] in LAYOUTS:
            return with_layout(array(value[0]), value[1])
        if tag == "T":
            arr = array(value)
            return make_tensor(arr) if make_tensor else arr
        if tag in ("l", "t") and isinstance(value, list):
            items = [walk(i, depth + 1) for i in value]
            return items if tag == "l" else tuple(items)
        if tag == "d" and isinstance(value, list):
            out = {}
            for pair in value:
                if not (isinstance(pair, list) and len(pair) == 2):
                    raise CodecError("bad dict entry")
                key = walk(pair[0], depth + 1)
                try:
                    out[key] = walk(pair[1], depth + 1)
                except TypeError:
                    raise CodecError("unhashable dict key") from None
            return out
        if tag == "h" and isinstance(value, int) and not isinstance(value, bool):
            return resolve(tag, (value, ""))
        if (tag == "h" and isinstance(value, list) and len(value) == 2 and isinstance(value[0], int)
                and isinstance(value[1], str)):
            return resolve(tag, (value[0], value[1][:MAX_TYPE_NAME]))
        if tag == "c" and isinstance(value, list) and len(value) == 2 and isinstance(value[0], int):
            return resolve(tag, (value[0], walk(value[1], depth + 1)))
        raise CodecError(f"unknown tag {tag!r}")

    return walk(header, 0)


def read_frame(read_exact: Callable[[int], bytes]) -> bytes:
    """Read one frame's payload with `read_exact(n)` (which raises EOFError at end of stream)."""
    (length,) = struct.unpack("<Q", read_exact(8))
    if length > MAX_FRAME_BYTES or length < 8:
        raise CodecError(f"frame of {length} bytes refused")
    return read_exact(length)
