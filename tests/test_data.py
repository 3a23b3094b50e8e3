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


def test_nonexistent_path_names_it(tmp_path, monkeypatch):
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "nope"))
    with pytest.raises(data.CIFAR10NotFoundError, match=r"\$CIFAR10_DIR points to .*nope, which does not exist"):
        data.load_cifar10()


def test_a_batch_file_given_as_the_data_points_at_its_folder(official, monkeypatch):
    """It was read as an archive: 'not a complete .tar.gz ... Download it again', wrong
    advice for a good file."""
    root, _ = official
    one = root / data.BATCHES_DIR / "data_batch_1"
    monkeypatch.setenv(data.ENV_VAR, str(one))
    with pytest.raises(data.CIFAR10NotFoundError,
                       match=rf"one of CIFAR-10's batch files.*{data.BATCHES_DIR}\.$"):
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


@pytest.mark.parametrize("module", ["numpy.core.multiarray", "numpy._core.multiarray"])
def test_parse_batch_reads_a_batch_pickled_by_either_numpy(module):
    """The official batches name numpy < 2's ``numpy.core.multiarray``; a copy pickled under
    numpy >= 2 (the quick profile's sample, say) names ``numpy._core.multiarray``, which numpy
    1.26 lacks: the installed numpy reads both."""
    import io

    x = np.arange(3 * 3072, dtype=np.int64).reshape(3, 3072) % 251
    raw = pickle.dumps({b"data": x.astype(np.uint8), b"labels": [0, 5, 9]}, protocol=3)
    # protocols <= 3 name each global on a "module\nname\n" line: respell it as the other numpy does
    raw = raw.replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")
    raw = raw.replace(b"numpy.core.multiarray\n", module.encode() + b"\n")
    assert module.encode() + b"\n_reconstruct" in raw
    images, labels = data.parse_batch(io.BytesIO(raw), "mine")
    assert labels.tolist() == [0, 5, 9]
    np.testing.assert_array_equal(images, x.astype(np.uint8).reshape(3, 3, 32, 32).transpose(0, 2, 3, 1))


# ------------------------------------------- where the data comes from (load_cifar10, load_profile_data)

def _official_copy(root: Path, per_class: int, test_per_class: int, seed: int = 0) -> Path:
    """A balanced copy in the official layout under root/cifar-10-batches-py; returns root."""
    rng = np.random.default_rng(seed)
    folder = root / data.BATCHES_DIR
    folder.mkdir(parents=True)

    def batch(path: Path, labels: np.ndarray) -> None:
        x = rng.integers(0, 256, (len(labels), 3072), dtype=np.uint8)
        with open(path, "wb") as f:
            pickle.dump({b"labels": labels.tolist(), b"data": x}, f)

    y = rng.permutation(np.repeat(np.arange(10), per_class))
    for i, part in enumerate(np.array_split(y, 5)):
        batch(folder / data.TRAIN_FILES[i], part)
    batch(folder / data.TEST_FILE, rng.permutation(np.repeat(np.arange(10), test_per_class)))
    return root


def _archive(src: Path, dest: Path) -> Path:
    with tarfile.open(dest, "w:gz") as tar:
        tar.add(src / data.BATCHES_DIR, arcname=data.BATCHES_DIR)
    return dest


@pytest.fixture()
def machine(tmp_path, monkeypatch):
    """A machine with no copy anywhere: empty Keras home, no $CIFAR10_DIR, no checkout sample, and
    downloads that fail as offline (`machine.downloads` counts the attempts)."""
    import keras

    home = tmp_path / "keras-home"
    monkeypatch.setenv("KERAS_HOME", str(home))
    for var in (data.ENV_VAR, data.DATA_ENV_VAR):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(data, "mini_sample_dir", lambda: None)
    attempts = []

    def offline(*args, **kwargs):
        attempts.append((args, kwargs))
        raise Exception("URL fetch failure on https://www.cs.toronto.edu: None -- [Errno -3] "
                        "Temporary failure in name resolution")

    monkeypatch.setattr(keras.utils, "get_file", offline)

    class Machine:
        cache = home / "datasets"
        downloads = attempts
        root = tmp_path

    return Machine


def test_keras_cache_dir_follows_keras_home(machine, monkeypatch, tmp_path):
    assert data.keras_cache_dir() == machine.cache
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data.keras_cache_dir() == tmp_path / ".keras" / "datasets"


def test_offline_without_copy_is_one_clear_error(machine):
    with pytest.raises(data.CIFAR10NotFoundError) as e:
        data.load_profile_data(profiles.QUICK)
    msg = str(e.value)
    for part in ["CIFAR-10 is not on this machine and could not be downloaded", "name resolution",
                 f"Download {data.URL}", "set the environment variable CIFAR10_DIR to the folder that holds "
                 "cifar-10-batches-py/", str(machine.cache / "cifar-10-batches-py-target_archive"),
                 "FENWICKS_LITE_DATA=synthetic"]:
        assert part in msg, (part, msg)
    assert len(machine.downloads) == 1
    with pytest.raises(data.CIFAR10NotFoundError, match="could not be downloaded"):
        data.load_cifar10()


def test_offline_with_the_network_really_blocked(machine, monkeypatch):
    """Keras's own downloader, with every socket connection failing: still the one clear error."""
    import socket

    monkeypatch.undo()  # back to the real keras.utils.get_file; re-isolate below
    monkeypatch.setenv("KERAS_HOME", str(machine.root / "keras-home"))
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.setattr(data, "mini_sample_dir", lambda: None)

    def refuse(*args, **kwargs):
        raise OSError(101, "Network is unreachable (blocked by the test)")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    with pytest.raises(data.CIFAR10NotFoundError, match="could not be downloaded.*CIFAR10_DIR"):
        data.load_profile_data(profiles.FULL)
    assert not any(machine.cache.glob("*_archive")), "a failed download must leave nothing behind"


def test_order_cifar10_dir_first(machine, monkeypatch):
    env = _official_copy(machine.root / "env", 3, 2, seed=1)
    _official_copy(machine.cache / data.KERAS_NAME, 5, 2, seed=2)
    monkeypatch.setattr(data, "mini_sample_dir", lambda: _official_copy(machine.root / "mini", 4, 2))
    monkeypatch.setenv(data.ENV_VAR, str(env))
    ds = data.load_profile_data(profiles.QUICK)
    assert (ds.source, len(ds.x_train)) == ("CIFAR10_DIR", 30)
    assert ds.origin() == "$CIFAR10_DIR"  # what the environment line says
    assert not machine.downloads


def test_order_checkout_sample_before_keras_cache_in_quick_only(machine, monkeypatch):
    _official_copy(machine.cache / data.KERAS_NAME, 5, 2, seed=2)
    mini = _official_copy(machine.root / "mini", 4, 2)
    monkeypatch.setattr(data, "mini_sample_dir", lambda: mini)
    quick = data.load_profile_data(profiles.QUICK)
    assert (quick.source, len(quick.x_train)) == ("checkout sample", 40)
    assert quick.origin() == "the sample beside this checkout (../shared)"
    full = data.load_profile_data(profiles.FULL)  # the sample is too small to stand for the full set
    assert (full.source, len(full.x_train)) == ("Keras cache", 50)
    assert full.origin() == "Keras's cache (keras.datasets.cifar10)"
    assert not machine.downloads


@pytest.mark.parametrize("layout", ["keras3_folder", "keras3_archive", "keras2_folder", "keras2_archive"])
def test_order_keras_cache_before_download(machine, layout):
    src = _official_copy(machine.root / "src", 5, 2)
    machine.cache.mkdir(parents=True)
    if layout == "keras3_folder":
        _official_copy(machine.cache / data.KERAS_NAME, 5, 2)
    elif layout == "keras3_archive":
        _archive(src, machine.cache / f"{data.KERAS_NAME}_archive")
    elif layout == "keras2_folder":
        _official_copy(machine.cache, 5, 2)
    else:
        _archive(src, machine.cache / f"{data.BATCHES_DIR}.tar.gz")
    ds = data.load_profile_data(profiles.QUICK)
    assert (ds.source, len(ds.x_train), len(ds.x_test)) == ("Keras cache", 50, 20)
    assert data.load_cifar10()[0][0].shape == (50, 32, 32, 3)
    assert not machine.downloads


def test_keras_cache_is_where_the_installed_keras_puts_cifar10(machine, monkeypatch):
    """`keras.datasets.cifar10.load_data` of the installed Keras asks get_file for our name, and
    Keras's real get_file, given the archive, lays it out where `keras_cached` finds it."""
    import keras
    from keras.src.datasets import cifar10 as keras_cifar10
    from keras.src.utils import file_utils

    asked = {}

    def capture(*args, **kwargs):
        asked.update(kwargs, args=args)
        raise RuntimeError("captured")

    monkeypatch.setattr(keras_cifar10, "get_file", capture)
    with pytest.raises(RuntimeError, match="captured"):
        keras.datasets.cifar10.load_data()
    assert asked.get("fname", (asked["args"] or [None])[0]) == data.KERAS_NAME and asked["extract"]
    assert asked["origin"] == data.URL and asked["file_hash"] == data.SHA256

    archive = _archive(_official_copy(machine.root / "src", 5, 2), machine.root / "cifar.tar.gz")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    machine.cache.mkdir(parents=True)
    file_utils.get_file(data.KERAS_NAME, origin=archive.as_uri(), extract=True, file_hash=digest,
                        cache_dir=str(machine.cache.parent))
    assert data.keras_cached() == machine.cache / data.KERAS_NAME / data.BATCHES_DIR


def test_download_goes_through_keras_once_into_its_cache(machine, monkeypatch):
    from keras.src.utils import file_utils

    monkeypatch.undo()
    monkeypatch.setenv("KERAS_HOME", str(machine.root / "keras-home"))
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.delenv(data.DATA_ENV_VAR, raising=False)
    monkeypatch.setattr(data, "mini_sample_dir", lambda: None)
    archive = _archive(_official_copy(machine.root / "src", 5, 2), machine.root / "cifar.tar.gz")
    monkeypatch.setattr(data, "URL", archive.as_uri())  # a local "server"
    monkeypatch.setattr(data, "SHA256", hashlib.sha256(archive.read_bytes()).hexdigest())
    fetched = []
    real = file_utils.urlretrieve
    monkeypatch.setattr(file_utils, "urlretrieve", lambda *a, **k: fetched.append(a[0]) or real(*a, **k))
    first = data.load_profile_data(profiles.QUICK)
    assert (first.source, len(first.x_train), len(fetched)) == ("download", 50, 1)
    assert first.origin() == "a download through Keras, now in its cache"
    assert (machine.cache / f"{data.KERAS_NAME}_archive").is_file()
    again = data.load_profile_data(profiles.QUICK)
    assert (again.source, len(fetched)) == ("Keras cache", 1)
    np.testing.assert_array_equal(first.x_train, again.x_train)


def test_quick_profile_takes_a_fixed_balanced_subset(machine, monkeypatch):
    """From a copy bigger than the quick profile's 2,500 + 1,000: 250 and 100 per class, always the
    same images (the first of each class, in stored order)."""
    big = _official_copy(machine.root / "big", 300, 120)
    monkeypatch.setenv(data.ENV_VAR, str(big))
    a, b = data.load_profile_data(profiles.QUICK), data.load_profile_data(profiles.QUICK)
    assert (len(a.x_train), len(a.x_test), a.kind) == (2_500, 1_000, "mini")
    assert np.bincount(a.y_train).tolist() == [250] * 10 and np.bincount(a.y_test).tolist() == [100] * 10
    np.testing.assert_array_equal(a.x_train, b.x_train)
    (x_all, y_all), _ = data.load_cifar10(big)
    keep = data.balanced_subset(y_all, 250)
    np.testing.assert_array_equal(a.x_train, x_all[keep])
    assert all(np.flatnonzero(y_all == k)[:250].tolist() == [i for i in keep if y_all[i] == k]
               for k in range(10))
    assert a.describe() == "CIFAR-10 sample, 2,500 train / 1,000 test images"


def test_balanced_subset_refuses_a_short_class():
    with pytest.raises(ValueError, match=r"class 3 \(cat\) has 1 images, fewer than the 2"):
        data.balanced_subset(np.array([0, 0, 1, 1, 2, 2, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]), 2)


def test_synthetic_only_when_asked_and_announced(machine, monkeypatch):
    monkeypatch.setenv(data.DATA_ENV_VAR, "synthetic")
    ds = data.load_profile_data(profiles.QUICK)
    assert (ds.kind, ds.source, len(ds.x_train), len(ds.x_test)) == ("synthetic", "synthetic", 2_500, 1_000)
    assert "NOT CIFAR-10 (FENWICKS_LITE_DATA=synthetic)" in ds.describe()
    line = profiles.environment_line(ds.describe(), profiles.QUICK, ds.origin())
    assert "data: synthetic stand-in, NOT CIFAR-10 (FENWICKS_LITE_DATA=synthetic)" in line
    assert ds.origin() == "" and "read from" not in line  # nothing was read
    assert not machine.downloads
    monkeypatch.setenv(data.DATA_ENV_VAR, "fake")
    with pytest.raises(ValueError, match="FENWICKS_LITE_DATA='fake': use 'synthetic'"):
        data.load_profile_data(profiles.QUICK)


def test_full_size_data_is_labelled_full(monkeypatch):
    y_tr, y_te = np.arange(50_000, dtype=np.int32) % 10, np.arange(10_000, dtype=np.int32) % 10
    monkeypatch.setattr(data, "load_cifar10", lambda path=None: (
        (np.zeros((50_000, 32, 32, 3), np.uint8), y_tr), (np.zeros((10_000, 32, 32, 3), np.uint8), y_te)))
    monkeypatch.setenv(data.ENV_VAR, "/anywhere")
    monkeypatch.delenv(data.DATA_ENV_VAR, raising=False)
    assert data.load_profile_data(profiles.FULL).kind == "full"
    quick = data.load_profile_data(profiles.QUICK)
    assert (quick.kind, len(quick.x_train), len(quick.x_test)) == ("mini", 2_500, 1_000)


def test_checkout_sample_only_beside_a_checkout(tmp_path, monkeypatch):
    """An installed package (no .git beside it) never looks outside itself for the sample."""
    pkg = tmp_path / "site-packages" / "fenwicks_lite"
    pkg.mkdir(parents=True)
    sample = tmp_path / "shared" / "data" / "cifar10-mini"
    _official_copy(sample, 1, 1)
    monkeypatch.setattr(data, "__file__", str(pkg / "data.py"))
    assert data.mini_sample_dir() is None  # tmp/site-packages/../shared exists, but no checkout
    (tmp_path / "site-packages" / ".git").mkdir()
    assert data.mini_sample_dir() == sample


def test_balanced_subset_meets_any_total_exactly():
    """A limit that 10 does not divide (the CLI's --train-limit 256) gives exactly that
    many images: 26 of each of the first six classes, 25 of the other four."""
    y = np.repeat(np.arange(10), 30)
    keep = data.balanced_subset(y, *divmod(256, 10))
    assert len(keep) == 256
    assert np.bincount(y[keep]).tolist() == [26] * 6 + [25] * 4
    assert np.all(np.diff(keep) > 0)  # stored order, no repeats


def test_a_slice_of_the_full_set_says_it_is_a_subset():
    """Chapter 8's miniature run slices the full data: its record must not say "(full)"."""
    x, y = np.zeros((12, 32, 32, 3), np.uint8), np.arange(12, dtype=np.int32) % 10
    part = data.Dataset(x[:10], y[:10], x[:4], y[:4], "full")
    assert part.describe() == "CIFAR-10 subset, 10 train / 4 test images"
    sizes = [np.zeros((n, 1, 1, 3), np.uint8) for n in data.FULL_SIZES]
    whole = data.Dataset(sizes[0], y, sizes[1], y, "full")
    assert whole.describe() == "CIFAR-10 (full), 50,000 train / 10,000 test images"
    with pytest.raises(ValueError, match=r"Dataset.kind='cifar': use one of"):
        data.Dataset(x, y, x, y, "cifar").describe()
