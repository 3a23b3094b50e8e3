"""Self-checks for Chapter 3, TFRecords. They need TensorFlow (imported inside each
checker)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

# bound at import, before any answer runs (see checks/__init__.py)
from numpy import array_equal as _array_equal

from fenwicks_lite.exercises import CheckFailed, exercise, expect, hidden


@exercise(
    "ch03.label_records", title="A TFRecord file of labels only", difficulty="medium"
)
def check_label_records(fn) -> None:
    """`fn(y, path)` writes one tf.train.Example per label, int64 feature "label"; we
    read it back."""
    import tensorflow as tf

    y = np.array([3, 0, 9, 9, 1], dtype=np.int32)
    with tempfile.TemporaryDirectory() as d:
        path = str(Path(d) / "labels.tfrec")
        fn(y, path)
        expect(Path(path).is_file(), f"write the records to the given path ({path!r})")
        spec = {"label": tf.io.FixedLenFeature([], tf.int64)}
        try:
            got = [
                int(tf.io.parse_single_example(r, spec)["label"])
                for r in tf.data.TFRecordDataset(path)
            ]
        except tf.errors.InvalidArgumentError:
            raise CheckFailed(
                "each record must be a serialized tf.train.Example with an int64 "
                "feature 'label' (tf.train.Int64List(value=[int(label)]))"
            ) from None
    expect(
        len(got) == len(y),
        f"one record per label: expected {len(y)} records, found {len(got)}",
    )
    expect(
        got == y.tolist(), f"labels read back {got}, expected {y.tolist()} (same order)"
    )


@exercise("ch03.shard_labels", title="Read a subset of shards", difficulty="medium")
def check_shard_labels(fn) -> None:
    """`fn(paths, h, w)` -> the labels in the given shard files, in order, via tf.data
    and the parser."""
    from fenwicks_lite import io as fio

    rng = np.random.default_rng(5)
    x = rng.integers(0, 256, (12, 2, 2, 3), dtype=np.uint8)
    y = np.arange(12) * 7 % 10
    with tempfile.TemporaryDirectory() as d:
        paths = fio.numpy_tfrecord(x, y, str(Path(d) / "s"), shards=4)
        for subset, want in (
            (paths[1:3], y[3:9]),
            (paths[3:], y[9:]),
            (paths[::3], np.r_[y[:3], y[9:]]),
        ):
            got = np.asarray(list(fn(subset, 2, 2)))
            expect(
                got.shape == want.shape,
                f"{len(subset)} shard(s) of 3 records: expected {len(want)} labels, "
                f"got {got.shape[0] if got.ndim else got}",
            )
            expect(
                _array_equal(got, want),
                f"labels {got.tolist()}, expected {want.tolist()}: read the "
                "files in the order given",
            )


@hidden("ch03.label_records")
def _hidden_label_records(fn, rng) -> None:
    import tensorflow as tf

    y = rng.integers(0, 10, int(rng.integers(1, 40))).astype(np.int64)
    with tempfile.TemporaryDirectory() as d:
        path = str(Path(d) / "labels.tfrec")
        fn(y, path)
        spec = {"label": tf.io.FixedLenFeature([], tf.int64)}
        try:
            got = [
                int(tf.io.parse_single_example(r, spec)["label"])
                for r in tf.data.TFRecordDataset(path)
            ]
        except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError):
            raise CheckFailed(
                "one tf.train.Example per label with an int64 feature 'label', "
                "at the given path"
            ) from None
    expect(got == y.tolist(), "every label, once, in order")


@hidden("ch03.shard_labels")
def _hidden_shard_labels(fn, rng) -> None:
    from fenwicks_lite import io as fio

    shards = int(rng.integers(2, 5))
    n = shards * int(
        rng.integers(2, 6)
    )  # equal shards: the split is not what is tested
    x = rng.integers(0, 256, (n, 3, 2, 3), dtype=np.uint8)
    y = rng.integers(0, 10, n)
    with tempfile.TemporaryDirectory() as d:
        paths = fio.numpy_tfrecord(x, y, str(Path(d) / "s"), shards=shards)
        per = n // shards
        order = rng.permutation(len(paths))[: int(rng.integers(2, len(paths) + 1))]
        if list(order) == sorted(order):
            order = order[
                ::-1
            ]  # never in file order: the order of `paths` is what counts
        want = np.concatenate([y[i * per : (i + 1) * per] for i in order])
        got = np.asarray(list(fn([paths[i] for i in order], 3, 2)))
        expect(
            got.shape == want.shape and _array_equal(got, want),
            "the labels of the given shards, in the order of `paths` (images need not "
            "be square)",
        )
