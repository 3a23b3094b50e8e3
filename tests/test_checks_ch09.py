"""Chapter 9's exercises: the reference solutions pass, plausible wrong answers fail
with a hint."""

from __future__ import annotations

import hidden_cases
import numpy as np
import pytest

from fenwicks_lite import exercises, report

pytestmark = pytest.mark.backend


def mean_std_ref(accs):
    a = np.asarray(accs, dtype=float)
    return float(a.mean()), float(a.std(ddof=1))


def per_class_ref(y_true, y_pred):
    return report.per_class_accuracy(report.confusion_matrix(y_true, y_pred)).tolist()


@pytest.mark.parametrize(
    "key, fn", [("ch09.mean_std", mean_std_ref), ("ch09.per_class", per_class_ref)]
)
def test_reference_solutions_pass(key, fn):
    r = exercises.run_check(key, fn)
    assert r.passed, r.message


def _precision_per_class(
    y_true, y_pred
):  # divides by the predictions of a class: precision, not recall
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return [
        float(np.mean(y_true[y_pred == k] == k))
        if np.any(y_pred == k)
        else float("nan")
        for k in range(10)
    ]


@pytest.mark.parametrize(
    "key, wrong, hint",
    [
        (
            "ch09.mean_std",
            lambda a: (float(np.mean(a)), float(np.std(a))),
            "population std",
        ),
        (
            "ch09.mean_std",
            lambda a: (float(np.median(a)) + 1, 0.01),
            "the mean of 0.93",
        ),
        ("ch09.per_class", _precision_per_class, "Divide by the images OF that class"),
        ("ch09.per_class", lambda t, p: [0.0] * 10, "class 0"),
        ("ch09.per_class", lambda t, p: per_class_ref(t, p)[:3], "return 10 values"),
    ],
)
def test_plausible_wrong_answers_fail_with_hint(key, wrong, hint):
    r = exercises.run_check(key, wrong)
    assert not r.passed and hint in r.message, r.message


# ------------------------------------------------------------------ the grader's hidden


def _median_std(accs):
    """Plausible and wrong: the median as the centre; on the public 0.93, 0.94, 0.95
    (and on any two accuracies) it is the mean."""
    a = np.asarray(accs, dtype=float)
    return float(np.median(a)), float(a.std(ddof=1))


def _divides_by_two(accs):
    """Plausible and wrong: n - 1 written as the 2 of the public three seeds."""
    a = np.asarray(accs, dtype=float)
    return float(a.mean()), float(np.sqrt(((a - a.mean()) ** 2).sum() / 2))


REFERENCES = [("ch09.mean_std", mean_std_ref), ("ch09.per_class", per_class_ref)]
WRONG = [
    ("ch09.mean_std", lambda a: (float(np.mean(a)), float(np.std(a))), "ddof=1"),
    # the public check passes these: only the hidden one's lists of 2 to 12 tell
    ("ch09.mean_std", _median_std, None),
    ("ch09.mean_std", _divides_by_two, None),
    ("ch09.per_class", _precision_per_class, None),
]


test_references_pass_the_hidden_tests, test_wrong_answers_fail_the_hidden_tests = (
    hidden_cases.tests(REFERENCES, WRONG))


@pytest.mark.parametrize("wrong", [_median_std, _divides_by_two])
def test_hidden_mean_std_catches_the_public_cases_shortcuts_for_every_seed(wrong):
    """Each passes the public check, and the hidden test must catch it whatever the
    instructor's seed (when it drew one list, these slipped through for 15% and 12% of
    500 seeds)."""
    assert exercises.run_check("ch09.mean_std", wrong).passed
    caught = [
        not exercises.run_hidden("ch09.mean_std", wrong, s).passed for s in range(40)
    ]
    assert all(caught), [s for s, c in enumerate(caught) if not c]
