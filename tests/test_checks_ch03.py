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
WRONG = [
    ("ch03.shard_labels", lambda paths, h, w: shard_labels(sorted(paths), h, w), None),
    ("ch03.label_records", lambda y, p: label_records(sorted(y), p), "same order"),
]


test_references_pass_the_hidden_tests, test_wrong_answers_fail_the_hidden_tests = (
    hidden_cases.tests(REFERENCES, WRONG))
