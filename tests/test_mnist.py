"""grader.mnist: finding, verifying and parsing MNIST, and the fixed split of the test set."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from grader import mnist
from grader.mnist import MnistCorrupt, MnistUnavailable, load_mnist, one_hot

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
needs_shared = pytest.mark.skipif(not (SHARED / mnist.TEST_IMAGES).is_file(),
                                  reason="the course's MNIST copy ../shared/data/mnist is absent")


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network, an empty cache, no shared copy and no MNIST_DATA_DIR."""
    def no_network(*args, **kwargs):
        raise OSError("network disabled in tests")

    monkeypatch.setattr(mnist, "_fetch", no_network)
    monkeypatch.setattr(mnist, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(mnist, "SHARED_DIR", tmp_path / "no-shared-copy")
    monkeypatch.delenv(mnist.ENV_VAR, raising=False)


def idx_bytes(magic: int, array: np.ndarray) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes())


def copy_shared(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    for name in mnist.TEST_FILES:
        shutil.copy(SHARED / name, folder / name)
    return folder


@needs_shared
def test_what_shapes_dtypes_and_ranges_does_the_test_set_split_have():
    data = load_mnist(SHARED, download=False)
    assert data.x_train.shape == (8000, 784) and data.x_test.shape == (2000, 784)
    assert data.x_train.dtype == np.float32 and data.t_train.dtype == np.int64
    assert data.t_train.shape == (8000,) and data.t_test.shape == (2000,)
    assert 0.0 == data.x_train.min() and data.x_train.max() == 1.0
    assert set(np.unique(data.t_test)) == set(range(10))
    assert "fixed split" in data.source and "8,000" in data.source and "2,000" in data.source


@needs_shared
def test_is_the_split_the_first_8000_rows_and_the_same_on_every_load(tmp_path):
    folder = copy_shared(tmp_path)
    first = load_mnist(folder, download=False)
    mnist._load_cached.cache_clear()
    second = load_mnist(folder, download=False)
    assert first is not second
    np.testing.assert_array_equal(first.x_train, second.x_train)
    np.testing.assert_array_equal(first.t_test, second.t_test)
    raw = gzip.decompress((folder / mnist.TEST_LABELS).read_bytes())[8:]
    np.testing.assert_array_equal(first.t_train, np.frombuffer(raw, np.uint8)[:8000])


@needs_shared
def test_does_a_second_load_of_the_same_folder_reuse_the_parsed_arrays():
    assert load_mnist(SHARED, download=False) is load_mnist(SHARED, download=False)


@needs_shared
def test_are_the_cached_arrays_protected_from_callers_that_edit_them():
    data = load_mnist(SHARED, download=False)
    with pytest.raises(ValueError):
        data.x_train[0, 0] = 5.0


@needs_shared
def test_does_mnist_data_dir_name_the_folder(monkeypatch, tmp_path, offline):
    monkeypatch.setenv(mnist.ENV_VAR, str(copy_shared(tmp_path)))
    assert load_mnist().folder == str((tmp_path / "data").resolve())


@needs_shared
def test_is_a_changed_file_read_again_rather_than_served_from_the_cache(tmp_path):
    folder = copy_shared(tmp_path)
    load_mnist(folder, download=False)
    (folder / mnist.TEST_LABELS).write_bytes(b"broken")
    with pytest.raises(MnistCorrupt):
        load_mnist(folder, download=False)


@needs_shared
def test_does_a_wrong_checksum_name_the_file(tmp_path):
    folder = copy_shared(tmp_path)
    labels = gzip.decompress((folder / mnist.TEST_LABELS).read_bytes())
    (folder / mnist.TEST_LABELS).write_bytes(gzip.compress(labels[:-1] + b"\x03"))
    with pytest.raises(MnistCorrupt, match=r"t10k-labels-idx1-ubyte\.gz has MD5 .* published sum"):
        load_mnist(folder, download=False)


@needs_shared
def test_does_a_truncated_gzip_say_so(tmp_path):
    folder = copy_shared(tmp_path)
    path = folder / mnist.TEST_IMAGES
    path.write_bytes(path.read_bytes()[:50_000])
    with pytest.raises(MnistCorrupt, match=r"t10k-images-idx3-ubyte\.gz is not a complete gzip file"):
        load_mnist(folder, download=False)


def test_does_a_wrong_magic_number_say_which_file(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / mnist.TEST_IMAGES).write_bytes(idx_bytes(mnist.LABELS_MAGIC, np.zeros((2, 28, 28))))
    (folder / mnist.TEST_LABELS).write_bytes(idx_bytes(mnist.LABELS_MAGIC, np.zeros(2)))
    with pytest.raises(MnistCorrupt, match=r"t10k-images-idx3-ubyte\.gz does not start with the IDX magic number 2051"):
        load_mnist(folder, download=False)


def test_does_a_file_shorter_than_its_header_says_say_so(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    short = gzip.compress(gzip.decompress(idx_bytes(mnist.IMAGES_MAGIC, np.zeros((3, 28, 28))))[:-5])
    (folder / mnist.TEST_IMAGES).write_bytes(short)
    (folder / mnist.TEST_LABELS).write_bytes(idx_bytes(mnist.LABELS_MAGIC, np.zeros(3)))
    with pytest.raises(MnistCorrupt, match=r"should hold 2368 bytes"):
        load_mnist(folder, download=False)


def test_does_offline_without_data_name_the_four_files_and_where_to_put_them(offline, tmp_path):
    with pytest.raises(MnistUnavailable) as error:
        load_mnist()
    message = str(error.value)
    assert "\n" not in message
    for name in mnist.ALL_FILES:
        assert name in message
    assert str(tmp_path / "cache") in message and mnist.ENV_VAR in message and "offline" in message


@needs_shared
def test_does_a_named_folder_without_the_files_fail_rather_than_fall_back(offline, monkeypatch, tmp_path):
    """A mistyped data folder must not silently give other data (here: the shared copy)."""
    monkeypatch.setattr(mnist, "SHARED_DIR", SHARED)
    with pytest.raises(MnistUnavailable) as error:
        load_mnist(tmp_path / "typo")
    assert f"{tmp_path / 'typo'} does not exist" in str(error.value)
    monkeypatch.setenv(mnist.ENV_VAR, str(tmp_path / "typo-too"))
    with pytest.raises(MnistUnavailable, match="typo-too"):
        load_mnist()


def test_is_a_mistyped_named_folder_neither_created_nor_downloaded_into(offline, monkeypatch, tmp_path):
    """Does a named folder that does not exist give one line naming it, with no folder made on
    disk and no mirror tried (even with downloads allowed)?"""
    monkeypatch.setattr(mnist, "_fetch", lambda *a, **k: pytest.fail("a download was tried"))
    with pytest.raises(MnistUnavailable) as error:
        load_mnist(tmp_path / "mnsit", download=True)
    message = str(error.value)
    assert "\n" not in message and str(tmp_path / "mnsit") in message and "does not exist" in message
    assert not (tmp_path / "mnsit").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(MnistUnavailable, match=f"does not hold {mnist.TEST_IMAGES}"):
        load_mnist(tmp_path / "empty", download=True)
    assert list((tmp_path / "empty").iterdir()) == []


def test_does_download_false_never_touch_the_network(offline, monkeypatch):
    monkeypatch.setattr(mnist, "_fetch", lambda *a, **k: pytest.fail("network used"))
    with pytest.raises(MnistUnavailable, match="downloading was switched off"):
        load_mnist(download=False)


@needs_shared
def test_does_a_download_verify_the_files_report_progress_and_fill_the_cache(offline, monkeypatch, tmp_path):
    """A stand-in mirror serves the shared test set; training files fail, so the cache's
    test set is used with the documented split."""
    seen = []

    def fake_fetch(url, name, progress):
        if name not in mnist.TEST_FILES:
            raise OSError("not on this mirror")
        raw = (SHARED / name).read_bytes()
        progress(name, len(raw), len(raw))
        return raw

    monkeypatch.setattr(mnist, "_fetch", fake_fetch)
    data = load_mnist(progress=lambda *args: seen.append(args))
    assert data.folder == str((tmp_path / "cache").resolve()) and "fixed split" in data.source
    assert {name for name, *_ in seen} == set(mnist.TEST_FILES)


def test_does_one_hot_put_a_single_one_per_row():
    encoded = one_hot(np.array([3, 0, 9]), 10)
    assert encoded.shape == (3, 10) and encoded.dtype == np.float32
    np.testing.assert_array_equal(encoded.argmax(axis=1), [3, 0, 9])
    np.testing.assert_array_equal(encoded.sum(axis=1), [1, 1, 1])
