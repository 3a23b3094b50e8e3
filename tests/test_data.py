"""The CIFAR-10 loader (fw.data): layouts, safety, and every documented error."""

from __future__ import annotations

import hashlib
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from fenwicks_lite import data, profiles


def _write_batch(path: Path, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    y = rng.integers(0, 10, n).tolist()
    with open(path, "wb") as f:
        pickle.dump({b"batch_label": b"x", b"labels": y, b"data": x, b"filenames": [b"f"] * n}, f)
    return x, np.array(y)


@pytest.fixture()
def official(tmp_path):
    """A tiny copy of the official layout: tmp/cifar-10-batches-py/{data_batch_1..5,test_batch}."""
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    parts = [_write_batch(folder / f, 4, i) for i, f in enumerate([*data.TRAIN_FILES, data.TEST_FILE])]
    return tmp_path, parts


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_reads_official_layout_as_nhwc(official):
    root, parts = official
    (xtr, ytr), (xte, yte) = data.load_cifar10(root)
    assert xtr.shape == (20, 32, 32, 3) and xtr.dtype == np.uint8
    assert ytr.shape == (20,) and np.issubdtype(ytr.dtype, np.integer)
    assert xte.shape == (4, 32, 32, 3)
    raw0 = parts[0][0][0]  # first image, stored as 1024 red, 1024 green, 1024 blue values
    np.testing.assert_array_equal(xtr[0, :, :, 0].ravel(), raw0[:1024])
    np.testing.assert_array_equal(xtr[0, :, :, 2].ravel(), raw0[2048:])
    np.testing.assert_array_equal(ytr, np.concatenate([p[1] for p in parts[:5]]))


@pytest.mark.parametrize("where", ["parent", "batches_dir", "archive_in_parent", "archive_path"])
def test_every_documented_location(official, tmp_path, where):
    root, _ = official
    expected = data.load_cifar10(root)
    if where.startswith("archive"):
        arch_dir = tmp_path / "arch"
        arch_dir.mkdir()
        with tarfile.open(arch_dir / data.ARCHIVE, "w:gz") as tar:
            tar.add(root / data.BATCHES_DIR, arcname=data.BATCHES_DIR)
        target = arch_dir if where == "archive_in_parent" else arch_dir / data.ARCHIVE
    else:
        target = root if where == "parent" else root / data.BATCHES_DIR
    got = data.load_cifar10(target)
    for a, b in zip([*got[0], *got[1]], [*expected[0], *expected[1]], strict=True):
        np.testing.assert_array_equal(a, b)


def test_env_var_is_used(official, monkeypatch):
    root, _ = official
    monkeypatch.setenv(data.ENV_VAR, str(root))
    (xtr, _), _ = data.load_cifar10()
    assert len(xtr) == 20


def test_offline_without_copy_is_one_clear_error(monkeypatch):
    import keras

    monkeypatch.delenv(data.ENV_VAR, raising=False)

    def no_network(*args, **kwargs):
        raise Exception("URL fetch failure: [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.utils, "get_file", no_network)
    with pytest.raises(data.CIFAR10NotFoundError) as e:
        data.load_cifar10()
    msg = str(e.value)
    assert "CIFAR10_DIR" in msg and data.URL in msg and "could not be downloaded" in msg


def test_nonexistent_path_names_it(tmp_path, monkeypatch):
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "nope"))
    with pytest.raises(data.CIFAR10NotFoundError, match=r"\$CIFAR10_DIR points to .*nope, which does not exist"):
        data.load_cifar10()


def test_empty_folder_says_what_is_expected(tmp_path):
    with pytest.raises(data.CIFAR10NotFoundError, match="cifar-10-batches-py/"):
        data.load_cifar10(tmp_path)


def test_missing_batch_names_the_file_and_deletes_nothing(official):
    root, _ = official
    (root / data.BATCHES_DIR / "data_batch_3").unlink()
    before = _digest(root)
    with pytest.raises(data.CIFAR10FormatError, match="data_batch_3 is missing"):
        data.load_cifar10(root)
    assert _digest(root) == before


def test_truncated_batch_names_the_file_and_deletes_nothing(official):
    root, _ = official
    f = root / data.BATCHES_DIR / "data_batch_2"
    f.write_bytes(f.read_bytes()[:500])
    before = _digest(root)
    with pytest.raises(data.CIFAR10FormatError, match="data_batch_2: not a readable CIFAR-10 batch.*truncated"):
        data.load_cifar10(root)
    assert _digest(root) == before


def test_truncated_archive_is_reported(official, tmp_path):
    root, _ = official
    arch = tmp_path / data.ARCHIVE
    with tarfile.open(arch, "w:gz") as tar:
        tar.add(root / data.BATCHES_DIR, arcname=data.BATCHES_DIR)
    arch.write_bytes(arch.read_bytes()[:300])
    with pytest.raises(data.CIFAR10FormatError, match=data.ARCHIVE):
        data.load_cifar10(arch)
    assert arch.exists()


class _Gadget:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_tampered_pickle_cannot_run_code(official, monkeypatch):
    root, _ = official
    monkeypatch.chdir(root)
    with open(root / data.BATCHES_DIR / "test_batch", "wb") as f:
        pickle.dump({b"data": _Gadget(), b"labels": []}, f)
    with pytest.raises(data.CIFAR10FormatError, match="refusing to load posix.system|refusing to load os.system"):
        data.load_cifar10(root)
    assert not (root / "pwned").exists()


def test_wrong_shape_is_reported(official):
    root, _ = official
    with open(root / data.BATCHES_DIR / "test_batch", "wb") as f:
        pickle.dump({b"data": np.zeros((3, 100), np.uint8), b"labels": [0, 1, 2]}, f)
    with pytest.raises(data.CIFAR10FormatError, match=r"test_batch: expected data of shape \(N, 3072\)"):
        data.load_cifar10(root)


def test_synthetic_is_deterministic_and_balanced():
    (a, ya), _ = data.synthetic_cifar10(100, 10, seed=3)
    (b, yb), _ = data.synthetic_cifar10(100, 10, seed=3)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (100, 32, 32, 3) and a.dtype == np.uint8
    assert np.bincount(ya, minlength=10).tolist() == [10] * 10


def test_quick_profile_data(monkeypatch):
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    ds = data.load_profile_data(profiles.QUICK)
    assert ds.kind == ("mini" if data.mini_sample_dir() else "synthetic")
    assert len(ds.x_train) <= profiles.QUICK.train_limit and len(ds.x_test) <= profiles.QUICK.test_limit
    assert ds.describe().startswith("CIFAR-10 sample" if ds.kind == "mini" else "synthetic")


def test_full_size_data_is_labelled_full(monkeypatch):
    monkeypatch.setattr(data, "load_cifar10", lambda path=None: (
        (np.zeros((50_000, 32, 32, 3), np.uint8), np.zeros(50_000, np.int32)),
        (np.zeros((10_000, 32, 32, 3), np.uint8), np.zeros(10_000, np.int32))))
    monkeypatch.setenv(data.ENV_VAR, "/anywhere")
    assert data.load_profile_data(profiles.FULL).kind == "full"
    assert data.load_profile_data(profiles.QUICK).kind == "mini"


@pytest.mark.skipif(data.mini_sample_dir() is None, reason="the CIFAR-10 sample beside the checkout is absent")
def test_real_mini_sample_matches_its_published_statistics():
    (x, y), (xt, yt) = data.load_cifar10(data.mini_sample_dir())
    assert x.shape == (2500, 32, 32, 3) and xt.shape == (1000, 32, 32, 3)
    assert np.bincount(y).tolist() == [250] * 10 and np.bincount(yt).tolist() == [100] * 10
    np.testing.assert_allclose((x / 255).mean(axis=(0, 1, 2)), [0.4909, 0.4833, 0.4507], atol=6e-5)


def test_parse_batch_reads_one_file_channels_last():
    """`parse_batch` (Chapter 2): the 3 colour planes of each row become the last axis."""
    import io

    x = np.arange(2 * 3072, dtype=np.int64).reshape(2, 3072) % 251
    buf = io.BytesIO(pickle.dumps({b"data": x.astype(np.uint8), b"labels": [3, 9]}))
    images, labels = data.parse_batch(buf, "mine")
    assert images.shape == (2, 32, 32, 3) and images.dtype == np.uint8
    assert labels.tolist() == [3, 9] and labels.dtype == np.int32
    # pixel (row 1, col 2) of image 1: red at 1*32+2, green 1024 further, blue 2048 further
    assert images[1, 1, 2].tolist() == [x[1, 34], x[1, 1024 + 34], x[1, 2048 + 34]]
    with pytest.raises(data.CIFAR10FormatError, match="mine: not a readable CIFAR-10 batch"):
        data.parse_batch(io.BytesIO(b"not a pickle"), "mine")
    with pytest.raises(data.CIFAR10FormatError, match="mine: labels outside 0..9"):
        data.parse_batch(io.BytesIO(pickle.dumps({b"data": x.astype(np.uint8),
                                                  b"labels": [3, 10]})), "mine")
