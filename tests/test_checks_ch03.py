"""Chapter 3's exercises (TensorFlow): reference solutions pass, plausible wrong answers
fail with the hint."""

from __future__ import annotations

import hidden_cases
import numpy as np
import pytest

from fenwicks_lite import exercises
from fenwicks_lite import io as fio

tf = pytest.importorskip(
    "tensorflow", exc_type=ImportError
)  # also when blocked (the JAX pass)


def label_records(y, path):
    with tf.io.TFRecordWriter(path) as w:
        for label in y:
            feat = {
                "label": tf.train.Feature(
                    int64_list=tf.train.Int64List(value=[int(label)])
                )
            }
            w.write(
                tf.train.Example(
                    features=tf.train.Features(feature=feat)
                ).SerializeToString()
            )


def raw_labels(y, path):  # records, but not Examples
    with tf.io.TFRecordWriter(path) as w:
        for label in y:
            w.write(str(int(label)).encode())


def shard_labels(paths, h, w):
    ds = tf.data.TFRecordDataset(paths).map(
        lambda e: fio.tfexample_numpy_image_parser(e, h, w)[1]
    )
    return np.array(list(ds.as_numpy_iterator()))


def test_references_pass():
    assert exercises.run_check("ch03.label_records", label_records).passed
    assert exercises.run_check("ch03.shard_labels", shard_labels).passed


@pytest.mark.parametrize(
    "key, wrong, hint",
    [
        ("ch03.label_records", raw_labels, "serialized tf.train.Example"),
        (
            "ch03.label_records",
            lambda y, p: label_records(y[:-1], p),
            "one record per label",
        ),
        ("ch03.label_records", lambda y, p: label_records(sorted(y), p), "same order"),
        (
            "ch03.shard_labels",
            lambda paths, h, w: shard_labels(paths[:1], h, w),
            "expected",
        ),
        (
            "ch03.shard_labels",
            lambda paths, h, w: shard_labels(sorted(paths, reverse=True), h, w),
            "in the order",
        ),
    ],
)
def test_wrong_answers_fail_with_hint(key, wrong, hint):
    r = exercises.run_check(key, wrong)
    assert not r.passed and hint in r.message, r.message


# ------------------------------------------------------------------ the grader's hidden

REFERENCES = [
    ("ch03.label_records", label_records),
    ("ch03.shard_labels", shard_labels),
]


def five_labels(y, path):
    """Right for the public case's 5 labels only: it writes the first five."""
    label_records(y[:5], path)


def three_a_shard(paths, h, w):
    """Right for the public case's 3 records a shard only: it takes 3 from each."""
    ds = tf.data.TFRecordDataset(paths).take(3 * len(paths))
    ds = ds.map(lambda e: fio.tfexample_numpy_image_parser(e, h, w)[1])
    return np.array(list(ds.as_numpy_iterator()))


def repeats_dropped(paths, h, w):
    """Right while no label follows an equal one, as in the public case."""
    got = shard_labels(paths, h, w)
    return got[np.r_[True, got[1:] != got[:-1]]]


WRONG = [
    ("ch03.shard_labels", lambda paths, h, w: shard_labels(sorted(paths), h, w), None),
    ("ch03.label_records", lambda y, p: label_records(sorted(y), p), "same order"),
    # the public cases are one size: only the hidden ones tell these from the truth
    ("ch03.label_records", five_labels, None),
    ("ch03.shard_labels", three_a_shard, None),
    ("ch03.shard_labels", repeats_dropped, None),
]


test_references_pass_the_hidden_tests, test_wrong_answers_fail_the_hidden_tests = (
    hidden_cases.tests(REFERENCES, WRONG))


@pytest.mark.parametrize(
    "key, wrong, seeds",
    [
        ("ch03.label_records", five_labels, range(10)),
        ("ch03.shard_labels", three_a_shard, range(4)),
        ("ch03.shard_labels", repeats_dropped, range(4)),
    ],
)
def test_hidden_tests_catch_the_public_sizes_for_every_seed(key, wrong, seeds):
    """The public cases write 5 labels and read shards of 3 records with no label
    repeated next to itself, so the hidden tests must catch answers built on that
    whatever the instructor's seed (when each drew one case, they slipped through for
    15%, 53% and 52% of seeds)."""
    assert exercises.run_check(key, wrong).passed
    missed = [s for s in seeds if exercises.run_hidden(key, wrong, s).passed]
    assert not missed, missed
