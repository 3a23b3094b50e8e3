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

    # several draws, the first longer than the public case's 5 labels: an answer built
    # on that count (y[:5], range(5)) passes it
    spec = {"label": tf.io.FixedLenFeature([], tf.int64)}
    with tempfile.TemporaryDirectory() as d:
        for i, low in enumerate((6, 1, 1, 1)):
            y = rng.integers(0, 10, int(rng.integers(low, 40))).astype(np.int64)
            path = str(Path(d) / f"labels{i}.tfrec")
            fn(y, path)
            try:
                records = [r.numpy() for r in tf.data.TFRecordDataset(path)]
                got = (
                    tf.io.parse_example(records, spec)["label"].numpy().tolist()
                    if records
                    else []
                )
            except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError):
                raise CheckFailed(
                    "one tf.train.Example per label with an int64 feature 'label', "
                    "at the given path"
                ) from None
            expect(
                got == y.tolist(),
                "every label, once, in order, for any number of labels",
            )


@hidden("ch03.shard_labels")
def _hidden_shard_labels(fn, rng) -> None:
    from fenwicks_lite import io as fio

    # two draws: the first with more records a shard than the public case's 3 (an
    # answer that takes 3 a shard passes it) and labels that all differ (any other
    # order shows); the second with a label repeated next to itself in a shard read,
    # as none is in the public case
    with tempfile.TemporaryDirectory() as d:
        for i, per_shard in enumerate(((4, 8), (2, 7))):
            shards, per = int(rng.integers(2, 5)), int(rng.integers(*per_shard))
            n = shards * per  # equal shards: the split is not what is tested
            x = rng.integers(0, 256, (n, 3, 2, 3), dtype=np.uint8)
            order = rng.permutation(shards)[: int(rng.integers(2, shards + 1))]
            if list(order) == sorted(order):
                # never in file order: the order of `paths` is what counts
                order = order[::-1]
            if i == 0:
                y = rng.permutation(100)[:n]
            else:
                y = rng.integers(0, 10, n)
                at = int(order[rng.integers(len(order))]) * per + int(
                    rng.integers(per - 1)
                )
                y[at + 1] = y[at]
            paths = fio.numpy_tfrecord(x, y, str(Path(d) / f"s{i}"), shards=shards)
            want = np.concatenate([y[j * per : (j + 1) * per] for j in order])
            got = np.asarray(list(fn([paths[j] for j in order], 3, 2)))
            expect(
                got.shape == want.shape and _array_equal(got, want),
                "the labels of the given shards, in the order of `paths`, for any "
                "number of records a shard and any labels (images need not be "
                "square)",
            )
