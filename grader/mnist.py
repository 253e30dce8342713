"""MNIST for the timed training checks and the benchmarks: find it, verify it, parse it.

Where the data comes from, in this order (SPEC.md, "Data"):

1. the folder passed as ``data_dir``, else the folder named by the environment variable
   ``MNIST_DATA_DIR``. A folder the user names is the only place looked at, and it is only
   read: if it lacks the files, one line names it and says what is missing -- a mistyped path
   is never created, never downloaded into, and never silently falls back to other data;
2. with no folder named: the cache folder ``~/.cache/dlgrader/mnist`` when it holds all
   four files;
3. the course's shared copy ``<repo>/../shared/data/mnist`` when it exists (the offline
   course machines and CI; checked before any download so an offline machine never waits
   for a mirror);
4. a download of the four official files from a public mirror into the cache folder, tried
   only when ``download=True``; if that fails, whatever the cache folder holds.

A folder is usable when it holds at least the two official test-set files. When it holds
all four files the official split is used (60,000 train / 10,000 test). When it holds only
the test set -- the case on the course's offline machines, where ``../shared/data/mnist``
has just the two ``t10k`` files -- a fixed, documented split of those 10,000 images is used:
the first 8,000 rows train and the last 2,000 test, the same on every run. ``MnistData.source``
says which of the two it is, in a sentence for the report.

Every file is parsed first (so a truncated gzip or a wrong magic number gets its own message)
and then verified against its published MD5 sum. Every problem is one exception of the
``MnistError`` family with a one-line message that names the file and what to do.

Parsed arrays are cached in-process, keyed by folder and by each file's size and mtime,
because grading loads the data more than once. The cached arrays are read-only so that no
caller can change what the next caller gets; copy them (``x.copy()``) before editing them.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
TRAIN_LABELS = "train-labels-idx1-ubyte.gz"
TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
TEST_LABELS = "t10k-labels-idx1-ubyte.gz"

MD5 = {
    TRAIN_IMAGES: "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    TRAIN_LABELS: "d53e105ee54ea40749a09fcbcd1e9432",
    TEST_IMAGES: "9fb629c4189551a2d022fa330f9573f3",
    TEST_LABELS: "ec29112dd5afa0611ce80d1b7f02629c",
}
"""The published MD5 sums of the four official files (as listed by torchvision)."""

FASHION_MD5 = {
    TRAIN_IMAGES: "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    TRAIN_LABELS: "25c81989df183df01b3e8a0aad5dffbe",
    TEST_IMAGES: "bef4ecab320f06d8554ea6380940ec79",
    TEST_LABELS: "bb300cfdad3c16e7a12a480ee83cd310",
}
"""Fashion-MNIST's published sums: same names and format, so it is accepted as a full-size
drop-in for benchmarks (Debian's dataset-fashion-mnist, /usr/share/datasets/fashion-mnist)."""
DATASETS = {"MNIST": MD5, "Fashion-MNIST": FASHION_MD5}

ALL_FILES = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)
TEST_FILES = (TEST_IMAGES, TEST_LABELS)

MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
DOWNLOAD_TIMEOUT = 10.0
"""Seconds to wait for a mirror to answer before trying the next one."""

ENV_VAR = "MNIST_DATA_DIR"
CACHE_DIR = Path("~/.cache/dlgrader/mnist")
SHARED_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
"""The course's copy beside the repository (SPEC.md: ../shared/data/mnist)."""

SPLIT_TRAIN_ROWS = 8000
"""Test-set-only fallback: rows [0, 8000) of t10k train, rows [8000, 10000) test."""

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049
Progress = Callable[[str, int, int], None]
"""progress(file_name, bytes_done, bytes_total) while a file downloads (total 0 if unknown)."""


class MnistError(RuntimeError):
    """MNIST could not be loaded; the message (one line) says which file and what to do."""


class MnistUnavailable(MnistError):
    """No usable copy of MNIST was found and none could be downloaded."""


class MnistCorrupt(MnistError):
    """A file is present but damaged: bad gzip, wrong format, or wrong checksum."""


@dataclass(frozen=True)
class MnistData:
    x_train: np.ndarray
    """float32, shape (N, 784), pixel values scaled to [0, 1]."""
    t_train: np.ndarray
    """int64 labels 0..9, shape (N,)."""
    x_test: np.ndarray
    t_test: np.ndarray
    source: str
    """One sentence for the report saying which data this is and how it was split."""
    folder: str
    """The folder the files were read from."""


def one_hot(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Integer labels of shape (N,) -> float32 one-hot rows of shape (N, num_classes)."""
    labels = np.asarray(labels, dtype=np.int64)
    out = np.zeros((labels.size, num_classes), dtype=np.float32)
    out[np.arange(labels.size), labels.ravel()] = 1.0
    return out


def load_mnist(data_dir: str | os.PathLike | None = None, *, download: bool = True,
               progress: Progress | None = None) -> MnistData:
    """Find, verify and parse MNIST (see the module docstring for the search order)."""
    named = data_dir or os.environ.get(ENV_VAR) or None
    if named is not None:
        folder = Path(named).expanduser()
        if _has(folder, TEST_FILES):
            return _load_folder(folder)
        raise MnistUnavailable(_named_folder_message(folder))
    cache = CACHE_DIR.expanduser()
    if _has(cache, ALL_FILES):
        return _load_folder(cache)
    if _has(SHARED_DIR, TEST_FILES):
        return _load_folder(SHARED_DIR)
    return _download_or_explain(cache, download, progress, searched=[cache, SHARED_DIR])


def _download_or_explain(folder: Path, download: bool, progress: Progress | None,
                         searched: list[Path]) -> MnistData:
    """Download into `folder`; else use its test set if it has one; else MnistUnavailable."""
    why = "downloading was switched off"
    if download:
        try:
            _download_all(folder, progress)
            return _load_folder(folder)
        except MnistUnavailable as exc:
            why = str(exc)
    if _has(folder, TEST_FILES):
        return _load_folder(folder)
    raise MnistUnavailable(_missing_message(folder, searched, why))


def _named_folder_message(folder: Path) -> str:
    """Why a folder the user named cannot be used, in one line; nothing is downloaded into it."""
    if not folder.exists():
        return (f"the MNIST folder {folder} does not exist (named by --data-dir or {ENV_VAR}); check the path. "
                f"A folder you name is only read, never created or downloaded into")
    if not folder.is_dir():
        return f"the MNIST folder {folder} is a file, not a folder (named by --data-dir or {ENV_VAR})"
    return (f"the MNIST folder {folder} does not hold {TEST_FILES[0]} and {TEST_FILES[1]} (named by --data-dir or "
            f"{ENV_VAR}); put the official files there, or name no folder to use the cache or a download")


def _has(folder: Path, names: tuple[str, ...]) -> bool:
    return all((folder / name).is_file() for name in names)


def _missing_message(target: Path, searched: list[Path], why: str) -> str:
    where = str(target) if target != CACHE_DIR.expanduser() else f"{target} or in a folder named by {ENV_VAR}"
    return (f"MNIST not found: put {', '.join(ALL_FILES)} (or at least the two t10k files) in {where}; "
            f"searched {', '.join(map(str, searched))}, and {why}")


def _load_folder(folder: Path) -> MnistData:
    names = ALL_FILES if _has(folder, ALL_FILES) else TEST_FILES
    signature = tuple(_stat_signature(folder / name) for name in names)
    return _load_cached(str(folder.resolve()), signature)


def _stat_signature(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return path.name, stat.st_size, stat.st_mtime_ns


@functools.lru_cache(maxsize=4)
def _load_cached(folder: str, signature: tuple) -> MnistData:
    """Parse and verify the files of one folder; `signature` keys the cache by file state."""
    root = Path(folder)
    x_test, t_test, name = _read_pair(root / TEST_IMAGES, root / TEST_LABELS)
    if len(signature) == len(ALL_FILES):
        x_train, t_train, train_name = _read_pair(root / TRAIN_IMAGES, root / TRAIN_LABELS)
        if train_name != name:
            raise MnistCorrupt(f"{folder} mixes {train_name} training files with {name} test files; "
                               f"keep the four files of one data set together")
        source = (f"official {name}, {len(x_train):,} train / {len(x_test):,} test images "
                  f"(from {folder})")
    else:
        x_train, t_train = x_test[:SPLIT_TRAIN_ROWS], t_test[:SPLIT_TRAIN_ROWS]
        x_test, t_test = x_test[SPLIT_TRAIN_ROWS:], t_test[SPLIT_TRAIN_ROWS:]
        source = (f"no training files found in {folder}: fixed split of the official "
                  f"10,000-image {name} test set, first {len(x_train):,} rows train / "
                  f"last {len(x_test):,} test")
    arrays = [np.ascontiguousarray(a) for a in (x_train, t_train, x_test, t_test)]
    for array in arrays:
        array.flags.writeable = False
    return MnistData(*arrays, source=source, folder=folder)


def _read_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray, str]:
    """Images scaled to float32 [0, 1] rows, int64 labels, and the data set's name."""
    images, name = _read_idx(images_path, IMAGES_MAGIC, ndim=3)
    labels, labels_name = _read_idx(labels_path, LABELS_MAGIC, ndim=1)
    if labels_name != name:
        raise MnistCorrupt(f"{images_path.name} is from {name} but {labels_path.name} is from "
                           f"{labels_name}; keep the files of one data set together")
    if len(images) != len(labels):
        raise MnistCorrupt(f"{images_path.name} holds {len(images)} images but {labels_path.name} "
                           f"holds {len(labels)} labels; re-download both files")
    if labels.size and labels.max() > 9:
        raise MnistCorrupt(f"{labels_path.name} holds a label {labels.max()} outside 0..9; re-download it")
    x = images.reshape(len(images), -1).astype(np.float32) / np.float32(255.0)
    return x, labels.astype(np.int64), name


def _read_idx(path: Path, magic: int, ndim: int) -> tuple[np.ndarray, str]:
    """Parse one gzipped IDX file of unsigned bytes, then check its MD5 sum."""
    raw = path.read_bytes()
    try:
        data = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise MnistCorrupt(f"{path} is not a complete gzip file ({exc}); delete it and "
                           f"download it again") from None
    header_size = 4 + 4 * ndim
    if len(data) < header_size or int.from_bytes(data[:4], "big") != magic:
        found = int.from_bytes(data[:4], "big") if len(data) >= 4 else None
        raise MnistCorrupt(f"{path} does not start with the IDX magic number {magic} (found {found}); "
                           f"is it the right file ({path.name})?")
    dims = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    expected = header_size + int(np.prod(dims))
    if len(data) != expected:
        raise MnistCorrupt(f"{path} should hold {expected} bytes for shape {dims} but holds "
                           f"{len(data)}; delete it and download it again")
    name = _verify_md5(path, raw)
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(dims), name


def _verify_md5(path: Path, raw: bytes) -> str:
    """The name of the data set whose published sum `raw` matches; MnistCorrupt if none."""
    actual = hashlib.md5(raw).hexdigest()
    for name, sums in DATASETS.items():
        if sums[path.name] == actual:
            return name
    raise MnistCorrupt(f"{path} has MD5 {actual} but the published sum is {MD5[path.name]}; "
                       f"delete it and download it again")


def _download_all(folder: Path, progress: Progress | None) -> None:
    """Fetch every missing official file into `folder`; MnistUnavailable when offline."""
    folder.mkdir(parents=True, exist_ok=True)
    failures = []
    for name in ALL_FILES:
        if not (folder / name).is_file():
            try:
                _download_one(folder / name, progress)
            except MnistUnavailable as exc:
                failures.append(str(exc))
    if failures:
        raise MnistUnavailable(failures[0])


def _download_one(target: Path, progress: Progress | None) -> None:
    errors = []
    for mirror in MIRRORS:
        try:
            raw = _fetch(mirror + target.name, target.name, progress)
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            errors.append(f"{mirror}: {getattr(exc, 'reason', exc)}")
            continue
        if hashlib.md5(raw).hexdigest() != MD5[target.name]:
            errors.append(f"{mirror}: wrong checksum")
            continue
        _write_atomically(target, raw)
        return
    raise MnistUnavailable(f"no mirror could be reached for {target.name} (offline?): "
                           f"{'; '.join(errors)}")


def _fetch(url: str, name: str, progress: Progress | None) -> bytes:
    """Download one URL into memory, reporting progress per 64 KiB chunk."""
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:
        total = int(response.headers.get("Content-Length") or 0)
        chunks, done = [], 0
        while chunk := response.read(1 << 16):
            chunks.append(chunk)
            done += len(chunk)
            if progress is not None:
                progress(name, done, total)
    return b"".join(chunks)


def _write_atomically(target: Path, raw: bytes) -> None:
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False, suffix=".part") as tmp:
        tmp.write(raw)
    os.replace(tmp.name, target)
