"""Chapter 2's exercises: the reference solutions pass, plausible wrong answers fail
with their hint."""

from __future__ import annotations

import hidden_cases
import numpy as np
import pytest

from fenwicks_lite import data, exercises

pytestmark = pytest.mark.backend


def streaming_std(batches):
    n, mean, m2 = 0, 0.0, 0.0
    for b in batches:
        b = np.asarray(b, np.float64)
        nb, mb = b.size, b.mean()
        delta, total = mb - mean, n + b.size
        mean += delta * nb / total
        m2 += ((b - mb) ** 2).sum() + delta**2 * n * nb / total
        n = total
    return mean, np.sqrt(m2 / n)


def naive_std(batches):
    n = s = s2 = 0.0
    for b in batches:
        n, s, s2 = n + b.size, s + b.sum(), s2 + (b**2).sum()
    return s / n, np.sqrt(max(s2 / n - (s / n) ** 2, 0.0))


def normalize_splits(x_train, x_test):
    mean, std = data.channel_stats(x_train)
    return data.normalize(x_train, mean, std), data.normalize(x_test, mean, std)


def own_stats(x_train, x_test):
    return tuple(data.normalize(x, *data.channel_stats(x)) for x in (x_train, x_test))


def test_references_pass():
    assert exercises.run_check("ch02.streaming_std", streaming_std).passed
    assert exercises.run_check("ch02.normalize_splits", normalize_splits).passed


@pytest.mark.parametrize(
    "key, wrong, hint",
    [
        ("ch02.streaming_std", naive_std, "loses the digits"),
        (
            "ch02.streaming_std",
            lambda bs: (lambda a: (a.mean(), a.std(ddof=1)))(np.concatenate(list(bs))),
            "n not n-1",
        ),
        ("ch02.normalize_splits", own_stats, "TRAINING mean and std"),
        ("ch02.normalize_splits", lambda a, b: (a / 255.0, b / 255.0), "float32"),
    ],
)
def test_wrong_answers_fail_with_hint(key, wrong, hint):
    r = exercises.run_check(key, wrong)
    assert not r.passed and hint in r.message, r.message


# ------------------------------------------------------------------ the grader's hidden


def concatenating_std(batches):
    """Right numbers, but holds every batch at once: not streaming."""
    a = np.concatenate(list(batches))
    return a.mean(), a.std()


REFERENCES = [
    ("ch02.streaming_std", streaming_std),
    ("ch02.normalize_splits", normalize_splits),
]
WRONG = [
    ("ch02.streaming_std", concatenating_std, "concatenating"),
    ("ch02.streaming_std", naive_std, "loses the digits"),
    ("ch02.normalize_splits", own_stats, "TRAINING mean and std"),
]


test_references_pass_the_hidden_tests, test_wrong_answers_fail_the_hidden_tests = (
    hidden_cases.tests(REFERENCES, WRONG))
