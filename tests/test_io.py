"""fw.io: project directories (Chapter 1) and TFRecords (Chapter 3). TensorFlow-only (tf.io.gfile, TFRecord).

The directory code runs on local temp folders and on TensorFlow's in-memory ``ram://`` file system, so no
network or GCS account is needed.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import no_tensorflow
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fenwicks_lite import io as fio

tf = pytest.importorskip("tensorflow", exc_type=ImportError)  # also when blocked (the JAX pass)


# ------------------------------------------------------------------------------------------ directories

@pytest.fixture(params=["local", "ram"])
def root(request, tmp_path):
    if request.param == "local":
        return str(tmp_path / "root")
    return f"ram://test-{uuid.uuid4().hex}"


def test_project_dirs_are_created_under_data_and_work(root):
    data_dir, work_dir = fio.get_project_dirs(root, "cifar10")
    assert data_dir == f"{root}/data/cifar10" and work_dir == f"{root}/work/cifar10"
    assert tf.io.gfile.isdir(data_dir) and tf.io.gfile.isdir(work_dir)
    assert fio.get_project_dirs(root, "cifar10") == (data_dir, work_dir)  # idempotent


def test_gcs_dirs_name_the_bucket(monkeypatch):
    made = []
    monkeypatch.setattr(tf.io.gfile, "makedirs", made.append)
    monkeypatch.setattr(tf.io.gfile, "exists", lambda p: False)
    assert fio.get_gcs_dirs("my-bucket", "c10") == ("gs://my-bucket/data/c10", "gs://my-bucket/work/c10")
    assert fio.get_gcs_dirs("gs://my-bucket", "c10")[0] == "gs://my-bucket/data/c10"
    assert made == ["gs://my-bucket/data/c10", "gs://my-bucket/work/c10"] * 2
    with pytest.raises(ValueError, match="must name a GCS bucket"):
        fio.get_gcs_dirs("gs://", "c10")


@pytest.mark.parametrize("project", ["", "  ", "a/b", "..", "../up", "~me", "has space", "/abs"])
def test_bad_project_names(tmp_path, project):
    with pytest.raises(ValueError, match="project"):
        fio.get_project_dirs(tmp_path, project)
    assert list(tmp_path.iterdir()) == []


def test_root_that_is_a_file(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("keep me")
    with pytest.raises(NotADirectoryError, match="is a file, not a folder"):
        fio.get_project_dirs(f, "cifar10")
    assert f.read_text() == "keep me"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_root(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match="[Cc]hoose a root you can write to"):
            fio.get_project_dirs(ro, "cifar10")
    finally:
        ro.chmod(0o700)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_unwritable_root_even_for_root_user():
    """/proc refuses new folders even to root, so this runs wherever the tests do."""
    with pytest.raises(PermissionError, match=r"cannot create '/proc/.*Choose a root you can write to"):
        fio.get_project_dirs("/proc/fenwicks-test", "cifar10")


def test_create_clean_dir_empties_and_creates(root):
    d = f"{root}/work/run1"
    assert fio.create_clean_dir(d).endswith("work/run1") and tf.io.gfile.isdir(d)
    for name in ("a.txt", "sub/b.txt"):
        tf.io.gfile.makedirs(os.path.dirname(f"{d}/{name}"))
        with tf.io.gfile.GFile(f"{d}/{name}", "w") as f:
            f.write("x")
    sibling = f"{root}/work/keep.txt"
    with tf.io.gfile.GFile(sibling, "w") as f:
        f.write("keep")
    fio.create_clean_dir(d)
    assert tf.io.gfile.isdir(d) and tf.io.gfile.listdir(d) == []
    assert tf.io.gfile.exists(sibling)


def _refused(path, match):
    with pytest.raises(fio.UnsafeDirectoryError, match=match):
        fio.create_clean_dir(path)


def test_create_clean_dir_refuses_dangerous_targets(tmp_path, monkeypatch):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    (work / "precious.txt").write_text("data")
    monkeypatch.chdir(work)
    _refused("", "path is empty")
    _refused("/", "file system root")
    _refused(str(Path.home()), "home directory")
    _refused("~", "home directory")
    _refused(".", "current working directory")
    _refused(str(work), "current working directory")
    _refused("..", "folder above it")
    _refused(str(tmp_path), "folder above it")
    _refused(str(fio.Path(fio.__file__).resolve().parent.parent), "repository root|folder above it")
    _refused("gs://bucket", "whole bucket")
    assert (work / "precious.txt").read_text() == "data"


def test_create_clean_dir_names_an_installed_librarys_folder_as_such(tmp_path, monkeypatch):
    """Installed (pip, Colab) the library's parent is site-packages, not the book's
    repository: refused all the same, and called what it is."""
    site = tmp_path / "venv" / "lib" / "site-packages"
    (site / "fenwicks_lite").mkdir(parents=True)
    (site / "numpy").mkdir()
    monkeypatch.setattr(fio, "__file__", str(site / "fenwicks_lite" / "io.py"))
    monkeypatch.chdir(tmp_path)
    _refused(str(site), "the folder fenwicks_lite is installed in")
    _refused(str(site.parent), "folder above it")
    assert (site / "numpy").is_dir()


def test_create_clean_dir_refuses_a_file(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("keep")
    with pytest.raises(NotADirectoryError, match="nothing was deleted"):
        fio.create_clean_dir(f)
    assert f.read_text() == "keep"


# ------------------------------------------------------------------------------------------ TFRecords

def _roundtrip(tmp_path, x, y, **kw):
    paths = fio.numpy_tfrecord(x, y, str(tmp_path / "r.tfrec"), **kw)
    h, w, c = x.shape[1:]
    return paths, fio.tfrecord_numpy(paths, h, w, c, dtype=kw.get("dtype", "uint8"))


def test_roundtrip_uint8_one_file(tmp_path, cifar_sample):
    (x, y), _ = cifar_sample
    x, y = x[:50], y[:50]
    paths, (x2, y2) = _roundtrip(tmp_path, x, y)
    assert paths == [str(tmp_path / "r.tfrec")]
    assert x2.dtype == np.uint8 and x2.shape == x.shape
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(y2, y)


def test_uint8_records_are_a_quarter_of_float32(tmp_path, cifar_sample):
    (x, y), _ = cifar_sample
    x, y = x[:100], y[:100]
    [p8] = fio.numpy_tfrecord(x, y, str(tmp_path / "u8"))
    [p32] = fio.numpy_tfrecord(x.astype(np.float32) / 255, y, str(tmp_path / "f32"), dtype="float32")
    s8, s32 = os.path.getsize(p8), os.path.getsize(p32)
    assert 3072 * 100 < s8 < 3200 * 100          # pixels + a few dozen bytes of framing per record
    assert 3.8 < s32 / s8 < 4.0


def test_shards_split_in_order_and_are_named(tmp_path, rng):
    x = rng.integers(0, 256, (10, 2, 3, 1), dtype=np.uint8)
    y = np.arange(10)
    paths = fio.numpy_tfrecord(x, y, str(tmp_path / "s"), shards=3)
    assert [Path(p).name for p in paths] == [f"s-0000{i}-of-00003" for i in range(3)]
    sizes = [len(fio.tfrecord_numpy(p, 2, 3, 1)[1]) for p in paths]
    assert sizes == [4, 3, 3]
    x2, y2 = fio.tfrecord_numpy(paths, 2, 3, 1)
    np.testing.assert_array_equal(x2, x)
    np.testing.assert_array_equal(y2, y)
    # one shard alone is a contiguous slice: readers can split the work by file
    np.testing.assert_array_equal(fio.tfrecord_numpy(paths[1], 2, 3, 1)[1], [4, 5, 6])


def test_parser_in_a_tf_data_pipeline(tmp_path, rng):
    x = rng.integers(0, 256, (6, 4, 4, 3), dtype=np.uint8)
    paths = fio.numpy_tfrecord(x, np.arange(6), str(tmp_path / "p"))
    ds = tf.data.TFRecordDataset(paths).map(
        lambda e: fio.tfexample_numpy_image_parser(e, 4, 4, dtype="uint8")).batch(6)
    img, lab = next(iter(ds))
    assert img.dtype == tf.uint8 and img.shape == (6, 4, 4, 3) and lab.dtype == tf.int64
    np.testing.assert_array_equal(img.numpy(), x)


_DTYPES = st.sampled_from(fio.SUPPORTED_DTYPES)


@st.composite
def _batches(draw):
    dtype = np.dtype(draw(_DTYPES))
    n, h, w, c = (draw(st.integers(1, k)) for k in (6, 5, 5, 4))
    if dtype.kind == "f":
        elems = st.floats(width=dtype.itemsize * 8, allow_nan=False)
    else:
        info = np.iinfo(dtype)
        elems = st.integers(int(info.min), int(info.max))
    from hypothesis.extra.numpy import arrays

    x = draw(arrays(dtype, (n, h, w, c), elements=elems))
    y = np.array(draw(st.lists(st.integers(-2**63, 2**63 - 1), min_size=n, max_size=n)), np.int64)
    return x, y


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=_batches(), shards=st.integers(1, 3))
def test_roundtrip_is_bit_exact(tmp_path_factory, batch, shards):
    x, y = batch
    shards = min(shards, len(x))
    d = tmp_path_factory.mktemp("rt")
    paths = fio.numpy_tfrecord(x, y, str(d / "r"), shards=shards, dtype=x.dtype.name)
    x2, y2 = fio.tfrecord_numpy(paths, *x.shape[1:], dtype=x.dtype.name)
    assert x2.dtype == x.dtype
    assert x2.tobytes() == x.astype(x.dtype.newbyteorder("<")).tobytes()  # bit-exact, signed zeros too
    np.testing.assert_array_equal(y2, y)


@pytest.mark.parametrize("x, y, kw, err, match", [
    (np.zeros((3, 2, 2, 3), np.uint8), np.zeros(4, int), {}, ValueError, "3 images but y has 4 labels"),
    (np.zeros((3, 2, 2), np.uint8), np.zeros(3, int), {}, ValueError, r"\(N, H, W, C\)"),
    (np.zeros((3, 2, 2, 3), np.uint8), np.zeros((3, 2), int), {}, ValueError, r"shape \(N,\)"),
    (np.zeros((3, 2, 2, 3), np.uint8), np.zeros(3, int), {"dtype": "complex64"}, ValueError, "unsupported dtype"),
    (np.zeros((3, 2, 2, 3), np.uint8), np.zeros(3, int), {"dtype": "str"}, ValueError, "unsupported dtype"),
    (np.zeros((3, 2, 2, 3), np.uint8), np.array([0.0, 1.5, 2.0]), {}, TypeError, "labels must be integers"),
    (np.full((3, 2, 2, 3), 0.5, np.float32), np.zeros(3, int), {"dtype": "uint8"}, ValueError,
     "cannot be stored as uint8"),
    (np.full((3, 2, 2, 3), 300, np.int32), np.zeros(3, int), {}, ValueError, "outside 0..255.*dtype="),
    (np.full((3, 2, 2, 3), 0.1, np.float64), np.zeros(3, int), {"dtype": "float32"}, ValueError,
     "cannot be stored as float32"),
    (np.zeros((3, 2, 2, 3), np.uint8), np.zeros(3, int), {"shards": 4}, ValueError, "shards must be"),
    (np.zeros((3, 2, 2, 3), np.uint8), np.zeros(3, int), {"shards": 0}, ValueError, "shards must be"),
    (np.zeros((0, 2, 2, 3), np.uint8), np.zeros(0, int), {}, ValueError, "x is empty"),
])
def test_bad_input_is_refused_before_writing(tmp_path, x, y, kw, err, match):
    with pytest.raises(err, match=match):
        fio.numpy_tfrecord(x, y, str(tmp_path / "bad"), **kw)
    assert list(tmp_path.iterdir()) == []


def test_existing_file_is_kept_unless_overwrite(tmp_path, rng):
    x = rng.integers(0, 256, (4, 2, 2, 3), dtype=np.uint8)
    target = tmp_path / "r"
    target.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="refusing to overwrite.*overwrite=True"):
        fio.numpy_tfrecord(x, np.arange(4), str(target))
    assert target.read_bytes() == b"precious"
    fio.numpy_tfrecord(x, np.arange(4), str(target), overwrite=True)
    np.testing.assert_array_equal(fio.tfrecord_numpy(str(target), 2, 2)[0], x)


def test_existing_shard_is_detected(tmp_path, rng):
    x = rng.integers(0, 256, (4, 2, 2, 3), dtype=np.uint8)
    (tmp_path / "r-00001-of-00002").write_bytes(b"old")
    with pytest.raises(FileExistsError, match="r-00001-of-00002"):
        fio.numpy_tfrecord(x, np.arange(4), str(tmp_path / "r"), shards=2)
    assert not (tmp_path / "r-00000-of-00002").exists()


@pytest.fixture()
def record_file(tmp_path, rng):
    x = rng.integers(0, 256, (5, 4, 4, 3), dtype=np.uint8)
    [p] = fio.numpy_tfrecord(x, np.arange(5), str(tmp_path / "good"))
    return Path(p)


def test_truncated_file_names_the_file(record_file):
    data = record_file.read_bytes()
    bad = record_file.with_name("truncated")
    bad.write_bytes(data[:-20])
    with pytest.raises(fio.TFRecordCorruptError, match=r"truncated: record 4 is truncated or corrupt"):
        fio.tfrecord_numpy(str(bad), 4, 4)
    assert bad.read_bytes() == data[:-20]
    # TensorFlow's own words ("truncated record at N' failed with ...") become a sentence that
    # says where the last record starts: 4 records of equal size before it.
    with pytest.raises(fio.TFRecordCorruptError) as caught:
        fio.tfrecord_numpy(str(bad), 4, 4)
    assert f"the file ends inside the record that starts at byte {4 * len(data) // 5})" in str(caught.value)
    assert "'" not in str(caught.value).split("(", 1)[1]


def test_corrupt_byte_is_caught_by_the_crc(record_file):
    data = bytearray(record_file.read_bytes())
    data[100] ^= 0x01  # one flipped bit inside the first record's payload
    bad = record_file.with_name("flipped")
    bad.write_bytes(bytes(data))
    with pytest.raises(fio.TFRecordCorruptError, match=r"flipped: record 0 .*corrupt.*overwrite=True"):
        fio.tfrecord_numpy(str(bad), 4, 4)


def test_reader_with_wrong_dtype_or_shape_says_so(record_file):
    with pytest.raises(ValueError, match="not written with dtype=float32"):
        fio.tfrecord_numpy(str(record_file), 4, 4, dtype="float32")
    with pytest.raises(ValueError, match=r"does not hold an image of 4x5x3"):
        fio.tfrecord_numpy(str(record_file), 4, 5)
    with pytest.raises(ValueError, match="h must be a positive integer"):
        fio.tfrecord_numpy(str(record_file), 0, 4)
    with pytest.raises(FileNotFoundError, match="no such TFRecord file"):
        fio.tfrecord_numpy(str(record_file) + "x", 4, 4)


def test_image_example_holds_image_label_and_dtype():
    """`image_example` (Chapter 3): one record's three features, exactly."""
    pixels = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    record = fio.image_example(pixels.tobytes(), 7, b"uint8")
    ex = tf.train.Example.FromString(record)
    f = ex.features.feature
    assert f["image"].bytes_list.value == [pixels.tobytes()]
    assert f["label"].int64_list.value == [7]
    assert f["dtype"].bytes_list.value == [b"uint8"]
    image, label = fio.tfexample_numpy_image_parser(tf.constant(record), 2, 2, 3, "uint8")
    assert image.dtype == tf.uint8 and np.array_equal(image.numpy(), pixels) and int(label) == 7
    with pytest.raises(TypeError, match="tobytes"):
        fio.image_example(pixels, 7, b"uint8")
    with pytest.raises(TypeError, match="encoded"):
        fio.image_example(pixels.tobytes(), 7, "uint8")


# ------------------------------------------------------------- the seed's calls, as typed (appendix)

def _parse_all(paths, h, w, c=3, **kw):
    ds = tf.data.TFRecordDataset(paths).map(lambda e: fio.tfexample_numpy_image_parser(e, h, w, c, **kw))
    images, labels = zip(*[(i.numpy(), int(lab)) for i, lab in ds], strict=True)
    return np.stack(images), np.array(labels)


def test_default_dtype_keeps_uint8_and_stores_floats_as_float32(tmp_path, rng):
    x8 = rng.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    xf = rng.normal(size=(3, 32, 32, 3))  # float64, like the seed's (X - mean) / std
    assert fio.default_dtype(x8) == "uint8" and fio.default_dtype(xf) == "float32"
    assert fio.default_dtype(x8.astype(np.int64)) == "uint8"
    assert fio.default_dtype(x8 > 100) == "uint8"
    # labels as Keras's load_data() gives them, (N, 1), are taken as (N,)
    [p1] = fio.numpy_tfrecord(x8, np.arange(3)[:, None], str(tmp_path / "n1"))
    assert fio.tfrecord_numpy(p1, 32, 32)[1].tolist() == [0, 1, 2]
    [p8] = fio.numpy_tfrecord(x8, np.arange(3), str(tmp_path / "u8"))
    [pf] = fio.numpy_tfrecord(xf, np.arange(3), str(tmp_path / "f32"))
    # float32 payload: 4 bytes per value, so the file is ~4x larger
    assert 3.8 < os.path.getsize(pf) / os.path.getsize(p8) < 4.0
    x8b, _ = fio.tfrecord_numpy(p8, 32, 32)
    xfb, _ = fio.tfrecord_numpy(pf, 32, 32, dtype="float32")
    assert x8b.dtype == np.uint8 and np.array_equal(x8b, x8)
    assert xfb.dtype == np.float32 and np.array_equal(xfb, xf.astype(np.float32))


def test_the_seeds_parser_call_reads_either_kind_of_record(tmp_path, rng):
    """`tfexample_numpy_image_parser(tfexample, img_size, img_size)`: the byte length tells the
    dtype; the image comes back as float32 either way, the label as int64."""
    x8 = rng.integers(0, 256, (4, 3, 5, 3), dtype=np.uint8)
    xf = rng.normal(size=(4, 3, 5, 3)).astype(np.float32)
    fio.numpy_tfrecord(x8, np.arange(4), str(tmp_path / "u8"))
    fio.numpy_tfrecord(xf, np.arange(4) + 5, str(tmp_path / "f32"))
    img8, lab8 = _parse_all(str(tmp_path / "u8"), 3, 5)
    imgf, labf = _parse_all(str(tmp_path / "f32"), 3, 5)
    assert img8.dtype == imgf.dtype == np.float32
    assert np.array_equal(img8, x8.astype(np.float32)) and lab8.tolist() == [0, 1, 2, 3]
    assert np.array_equal(imgf, xf) and labf.tolist() == [5, 6, 7, 8]
    # both files in one dataset: still one output dtype
    both, _ = _parse_all([str(tmp_path / "u8"), str(tmp_path / "f32")], 3, 5)
    assert np.array_equal(both, np.concatenate([x8.astype(np.float32), xf]))


def test_the_default_parser_refuses_what_it_cannot_tell(tmp_path, rng):
    x = rng.integers(0, 256, (2, 4, 4, 3), dtype=np.uint8)
    [p] = fio.numpy_tfrecord(x, np.arange(2), str(tmp_path / "u8"))
    with pytest.raises(tf.errors.InvalidArgumentError, match="neither a 4x5x3 uint8 image"):
        _parse_all(p, 4, 5)
    # int32 records are 4 bytes per value too: the stored dtype tells them from float32
    [p32] = fio.numpy_tfrecord(x.astype(np.int32), np.arange(2), str(tmp_path / "i32"), dtype="int32")
    with pytest.raises(tf.errors.InvalidArgumentError, match="dtype it was written with"):
        _parse_all(p32, 4, 4)
    assert _parse_all(p32, 4, 4, dtype="int32")[0].dtype == np.int32
    with pytest.raises(ValueError, match="w must be a positive integer"):
        fio.tfexample_numpy_image_parser(tf.constant(b""), 4, True)


# ------------------------------------------------------------------------------------------ review fixes

def test_create_clean_dir_refuses_folders_above_home_and_repo(tmp_path, monkeypatch):
    home, repo, cwd = tmp_path / "home" / "user", tmp_path / "src" / "checkout", tmp_path / "elsewhere"
    for d in (home, repo / "fenwicks_lite", cwd):
        d.mkdir(parents=True)
    (home / "thesis.txt").write_text("years of work")
    (repo / "fenwicks_lite" / "io.py").write_text("code")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr(fio, "__file__", str(repo / "fenwicks_lite" / "io.py"))
    monkeypatch.chdir(cwd)
    _refused(str(tmp_path / "home"), "folder above it, your home directory or the library's folder")
    _refused("~/..", "folder above it")
    _refused(str(tmp_path / "src"), "folder above it")
    _refused(str(tmp_path), "folder above it")
    assert (home / "thesis.txt").read_text() == "years of work"
    assert (repo / "fenwicks_lite" / "io.py").read_text() == "code"
    assert fio.create_clean_dir(str(tmp_path / "home" / "other")) == str(tmp_path / "home" / "other")


def _interrupt_after(monkeypatch, n):
    calls, real = [], fio.image_example

    def example(*args):
        calls.append(1)
        if len(calls) > n:
            raise KeyboardInterrupt  # Ctrl-C, a Colab disconnect, a full disk ...
        return real(*args)

    monkeypatch.setattr(fio, "image_example", example)


@pytest.mark.parametrize("shards", [1, 3])
def test_interrupted_overwrite_keeps_the_old_files(tmp_path, rng, monkeypatch, shards):
    x_old = rng.integers(0, 256, (100, 2, 2, 3), dtype=np.uint8)
    paths = fio.numpy_tfrecord(x_old, np.arange(100), str(tmp_path / "r"), shards=shards)
    before = sorted(os.listdir(tmp_path))
    _interrupt_after(monkeypatch, 70)  # 40 of 100 with one shard would pass its 1st shard
    with pytest.raises(KeyboardInterrupt):
        fio.numpy_tfrecord(x_old[::-1], np.arange(100), str(tmp_path / "r"), shards=shards, overwrite=True)
    assert sorted(os.listdir(tmp_path)) == before  # no partial files left behind
    x2, y2 = fio.tfrecord_numpy(paths, 2, 2)
    np.testing.assert_array_equal(x2, x_old)
    np.testing.assert_array_equal(y2, np.arange(100))


def test_overwrite_replaces_files_on_ram_fs(rng):
    x = rng.integers(0, 256, (6, 2, 2, 3), dtype=np.uint8)
    path = f"ram://test-{uuid.uuid4().hex}/r"
    fio.numpy_tfrecord(x, np.arange(6), path, shards=2)
    paths = fio.numpy_tfrecord(x[::-1], np.arange(6), path, shards=2, overwrite=True)
    np.testing.assert_array_equal(fio.tfrecord_numpy(paths, 2, 2)[0], x[::-1])
    assert sorted(tf.io.gfile.listdir(os.path.dirname(path))) == ["r-00000-of-00002", "r-00001-of-00002"]


@pytest.mark.parametrize("first, second", [(3, 2), (1, 2), (2, 1)])
def test_shards_of_another_count_are_refused(tmp_path, rng, first, second):
    x = rng.integers(0, 256, (10, 2, 2, 3), dtype=np.uint8)
    old = fio.numpy_tfrecord(x, np.arange(10), str(tmp_path / "b.tfrec"), shards=first)
    (tmp_path / "b.tfrec.bak").write_bytes(b"not of the family")
    with pytest.raises(FileExistsError, match="Delete them or choose another path") as e:
        fio.numpy_tfrecord(x, np.arange(10), str(tmp_path / "b.tfrec"), shards=second, overwrite=True)
    assert all(p in str(e.value) for p in old)
    assert sorted(str(p) for p in tmp_path.glob("b.tfrec*")) == sorted([*old, str(tmp_path / "b.tfrec.bak")])
    np.testing.assert_array_equal(fio.tfrecord_numpy(old, 2, 2)[0], x)  # untouched
    assert fio.numpy_tfrecord(x, np.arange(10), str(tmp_path / "b.tfrec"), shards=first, overwrite=True) == old


def test_a_folder_where_a_file_is_expected(tmp_path, rng):
    x = rng.integers(0, 256, (4, 2, 2, 3), dtype=np.uint8)
    (tmp_path / "keep.txt").write_text("keep")
    with pytest.raises(IsADirectoryError, match=r"is a folder: pass a file path.*os\.path\.join"):
        fio.numpy_tfrecord(x, np.arange(4), str(tmp_path), overwrite=True)
    with pytest.raises(IsADirectoryError, match=r"is a folder: pass the TFRecord file.*os\.path\.join"):
        fio.tfrecord_numpy(str(tmp_path), 2, 2)
    assert sorted(os.listdir(tmp_path)) == ["keep.txt"]


# --------------------------------------------------------------------------------- without TensorFlow

def test_without_tensorflow_each_function_names_itself_and_what_to_install(tmp_path):
    """A JAX-only install (Colab's TPU runtimes, pip install 'fenwicks_lite[jax]'): each fw.io
    function that needs TensorFlow says so by name, with the install line (and, for the records,
    the pipeline that needs none), not a bare "No module named 'tensorflow'"; still a
    ModuleNotFoundError for `except ImportError`. The TF-free helpers keep working."""
    d, x, y = str(tmp_path), "np.zeros((4, 2, 2, 3), np.uint8)", "np.arange(4)"
    records = "fw.pipeline.DeviceDataset"
    cases = {  # label: (the call, the name the error gives, the TF-free way it offers)
        "get_project_dirs": (f"fw.io.get_project_dirs({d!r}, 'cifar10')", "fw.io.get_project_dirs", None),
        "get_gcs_dirs": ("fw.io.get_gcs_dirs('my-bucket', 'cifar10')", "fw.io.get_gcs_dirs", None),
        "create_clean_dir": (f"fw.io.create_clean_dir({d + '/w'!r})", "fw.io.create_clean_dir", None),
        "image_example": ("fw.io.image_example(bytes(12), 3, b'uint8')", "fw.io.image_example", records),
        "numpy_tfrecord": (f"fw.io.numpy_tfrecord({x}, {y}, {d + '/r.tfrec'!r})", "fw.io.numpy_tfrecord",
                           records),
        "parser": ("fw.io.tfexample_numpy_image_parser(b'', 2, 2)", "fw.io.tfexample_numpy_image_parser",
                   records),
        "tfrecord_numpy": (f"fw.io.tfrecord_numpy({d + '/r.tfrec'!r}, 2, 2)", "fw.io.tfrecord_numpy", records),
        "tfrecord_ds": (f"fw.io.tfrecord_ds({d + '/r*'!r}, None, 2)", "fw.io.tfrecord_ds", records),
        # the seed's May names (fw.data.*) are the same functions
        "data.numpy_tfrecord": (f"fw.data.numpy_tfrecord({x}, {y}, {d + '/r.tfrec'!r})",
                                "fw.io.numpy_tfrecord", records),
    }
    got = no_tensorflow.errors_without_tensorflow(
        {**{k: call for k, (call, _, _) in cases.items()},
         "shard_paths": "fw.io.shard_paths('r', 2)", "default_dtype": f"fw.io.default_dtype({x})"})
    for label, (_, name, instead) in cases.items():
        no_tensorflow.assert_says_what_to_install(got[label], name, instead)
    assert got["shard_paths"] == {"returned": repr(["r-00000-of-00002", "r-00001-of-00002"])}
    assert got["default_dtype"] == {"returned": "'uint8'"}
    assert os.listdir(tmp_path) == []  # nothing was written or created
