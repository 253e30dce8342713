"""The wire format (grader/sandbox/codec.py): plain data round-trips exactly, objects travel
as references, and any frame a student's process could forge decodes to plain data or raises
CodecError — never runs code, never allocates beyond the frame."""

from __future__ import annotations

import collections
import json
import random
import struct

import numpy as np
import pytest

from grader.sandbox import codec

PLAIN = (type(None), bool, int, float, str, bytes, list, tuple, dict, np.ndarray, np.generic)


def no_references(obj):
    raise AssertionError(f"unexpected reference to {obj!r}")


def roundtrip(value, as_reference=no_references, resolve=None):
    frame = codec.encode(value, as_reference)
    (length,) = struct.unpack("<Q", frame[:8])
    assert length == len(frame) - 8
    return codec.decode(frame[8:], resolve or (lambda tag, v: (tag, v)))


def frame_of(header, buffers=(), sizes=None):
    """A payload (what follows the length) with this JSON header and these raw buffers."""
    head = json.dumps(header).encode()
    table = json.dumps([len(b) for b in buffers] if sizes is None else sizes).encode()
    return struct.pack("<II", len(head), len(table)) + head + table + b"".join(buffers)


def only_plain(value) -> bool:
    if isinstance(value, (list, tuple)):
        return all(only_plain(v) for v in value)
    if isinstance(value, dict):
        return all(only_plain(k) and only_plain(v) for k, v in value.items())
    return isinstance(value, PLAIN)


@pytest.mark.parametrize("value", [
    None, True, False, 0, -7, 2 ** 80, 1.5, -0.0, float("inf"), "text ✓", b"\x00\xff",
    [1, [2.5, "x"]], (1, (2,)), {"a": 1, 2: "b", (1, 2): [3]}, {},
])
def test_plain_values_roundtrip_exactly(value):
    """Does every plain value arrive equal to what was sent, with the same type?"""
    got = roundtrip(value)
    assert got == value and type(got) is type(value)


def test_nan_roundtrips():
    """Does NaN (which JSON cannot carry) arrive as NaN?"""
    assert np.isnan(roundtrip(float("nan")))


@pytest.mark.parametrize("dtype", sorted(codec.ALLOWED_DTYPES))
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 3, 1)])
def test_arrays_roundtrip_with_dtype_and_shape(dtype, shape):
    """Does an array of every allowed dtype and shape (0-d included) keep its values, dtype and shape?"""
    array = (np.arange(int(np.prod(shape))) % 2).astype(dtype).reshape(shape)
    got = roundtrip(array)
    assert got.dtype == array.dtype and got.shape == array.shape and np.array_equal(got, array)
    assert got.flags.writeable  # a copy, not a view of the frame


def test_numpy_scalars_stay_scalars():
    """Does a numpy scalar (np.float32, np.int64) arrive as a numpy scalar of the same dtype?"""
    for scalar in (np.float32(1.25), np.int64(-3), np.bool_(True)):
        got = roundtrip(scalar)
        assert isinstance(got, np.generic) and got.dtype == scalar.dtype and got == scalar


def test_subclasses_arrive_as_their_plain_values():
    """Does a subclass of a plain type arrive as the plain value, read through the base type, so
    its own __eq__/__repr__/__iter__/items cannot lie?"""

    class LyingFloat(float):
        def __eq__(self, other):
            return True

        def __repr__(self):
            return "0.5108"

    class LyingList(list):
        def __iter__(self):
            return iter([42])

    class LyingDict(dict):
        def items(self):
            return [("fake", 1)]

    Point = collections.namedtuple("Point", "x y")
    got = roundtrip([LyingFloat(-1.0), LyingList([1, 2]), LyingDict(real=2), Point(1, 2),
                     collections.OrderedDict(a=1), collections.defaultdict(list, b=[1])])
    assert got == [-1.0, [1, 2], {"real": 2}, (1, 2), {"a": 1}, {"b": [1]}]
    assert [type(v) for v in got] == [float, list, dict, tuple, dict, dict]


def test_objects_travel_as_references_with_their_type_name():
    """Is an object that is not plain data sent as a handle (with its class name) and rebuilt
    through resolve, never by value?"""
    gen = (i for i in range(3))
    got = roundtrip([gen], as_reference=lambda obj: {"h": [7, type(obj).__name__]})
    assert got == [("h", (7, "generator"))]
    assert roundtrip(gen, as_reference=lambda obj: {"h": 3}) == ("h", (3, ""))


def test_unsendable_dtype_and_depth_are_refused_when_encoding():
    """Are object arrays and data nested deeper than MAX_DEPTH refused (TypeError) rather than sent?"""
    deep: list = []
    for _ in range(codec.MAX_DEPTH + 5):
        deep = [deep]
    for value in (np.array([object()]), deep):
        with pytest.raises(TypeError):
            codec.encode(value, lambda obj: (_ for _ in ()).throw(TypeError("no references")))


HOSTILE_PAYLOADS = {
    "empty": b"",
    "short header table": b"\x01\x00",
    "header not JSON": struct.pack("<II", 3, 2) + b"{x}" + b"[]",
    "header length past the end": struct.pack("<II", 1000, 2) + b"[]",
    "bare float in header": frame_of(1.5),
    "NaN literal": struct.pack("<II", 3, 2) + b"NaN" + b"[]",
    "unknown tag": frame_of({"z": 1}),
    "two tags": frame_of({"l": [], "t": []}),
    "bad float text": frame_of({"f": "zero"}),
    "buffer index out of range": frame_of({"b": 3}),
    "negative buffer size": frame_of({"b": 0}, sizes=[-1]),
    "sizes not a list": frame_of({"b": 0}, sizes={"a": 1}),
    "buffers longer than the frame": frame_of({"b": 0}, sizes=[10]),
    "trailing bytes": frame_of(None) + b"extra",
    "object dtype": frame_of({"a": [0, "object", [1]]}, [b"\x00" * 8]),
    "shape that overflows int64": frame_of({"a": [0, "float64", [2 ** 62, 4]]}, [b""]),
    "shape beyond int64": frame_of({"a": [0, "float64", [2 ** 70]]}, [b""]),
    "negative dimension": frame_of({"a": [0, "float64", [-1]]}, [b""]),
    "size does not match shape": frame_of({"a": [0, "float64", [3]]}, [b"\x00" * 8]),
    "unhashable dict key": frame_of({"d": [[{"l": []}, 1]]}),
    "bad dict entry": frame_of({"d": [[1]]}),
    "handle id is a bool": frame_of({"h": True}),
    "handle with bad name": frame_of({"h": [1, 2]}),
    "nested too deeply": frame_of(json.loads('{"l": [' * 100 + "]}" * 100)),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_PAYLOADS))
def test_forged_frames_raise_codec_error(name):
    """Does each forged frame raise CodecError (and nothing else)?"""
    with pytest.raises(codec.CodecError):
        codec.decode(HOSTILE_PAYLOADS[name], lambda tag, value: (tag, value))


def test_random_bytes_decode_to_plain_data_or_codec_error():
    """Do 2,000 random mutations of a valid frame each decode to plain data or raise CodecError?"""
    rng = random.Random(20261123)
    valid = codec.encode({"x": np.arange(6.0).reshape(2, 3), "y": [1, "a", (2.5, b"b")]}, no_references)[8:]
    for _ in range(2000):
        data = bytearray(valid)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            value = codec.decode(bytes(data), lambda tag, v: None)
        except codec.CodecError:
            continue
        assert only_plain(value), value


def test_read_frame_refuses_lengths_out_of_bounds():
    """Is a frame claiming more than MAX_FRAME_BYTES (or less than a header) refused before
    anything is read or allocated?"""
    for length in (codec.MAX_FRAME_BYTES + 1, 2 ** 64 - 1, 3):
        reads = []
        header = struct.pack("<Q", length)

        def read_exact(n, header=header):
            reads.append(n)
            return header if n == 8 else b""

        with pytest.raises(codec.CodecError):
            codec.read_frame(read_exact)
        assert reads == [8]
