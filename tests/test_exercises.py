"""The exercise mechanism: a reference solution passes, plausible wrong ones fail with the hint."""

from __future__ import annotations

import numpy as np
import pytest

from fenwicks_lite import exercises
from fenwicks_lite.exercises import exercise, expect

pytestmark = pytest.mark.backend


@exercise("chtest.class_counts", title="Count images per class", difficulty="easy")
def _check_counts(fn):
    y = np.array([0, 3, 3, 7, 7, 7])
    got = list(fn(y))
    expect(len(got) == 10, "return one count per class, 10 in all (even for classes with no image)")
    expect(got == [1, 0, 0, 2, 0, 0, 0, 3, 0, 0], "np.bincount(y, minlength=10) counts each label")


def reference(y):
    return np.bincount(y, minlength=10).tolist()


def test_reference_passes(capsys):
    exercises.check("chtest.class_counts", reference)
    assert capsys.readouterr().out.startswith("PASS chtest.class_counts")


@pytest.mark.parametrize("wrong, hint", [
    (lambda y: np.bincount(y).tolist(), "one count per class"),          # forgets minlength
    (lambda y: [0] * 10, "np.bincount"),                                  # wrong values
])
def test_plausible_wrong_answers_fail_with_hint(wrong, hint):
    r = exercises.run_check("chtest.class_counts", wrong)
    assert not r.passed and hint in r.message


def test_unattempted_and_crashing_answers_do_not_raise(capsys):
    def stub(y):
        raise NotImplementedError

    assert "not attempted" in exercises.run_check("chtest.class_counts", stub).message
    assert "raised ZeroDivisionError" in exercises.run_check("chtest.class_counts", lambda y: 1 / 0).message
    assert not exercises.run_check("chtest.class_counts", None).passed
    exercises.check("chtest.class_counts", stub)  # prints, never raises
    assert capsys.readouterr().out.startswith("FAIL")


def test_unknown_exercise_and_bad_registration():
    with pytest.raises(KeyError, match="no exercise 'ch99.nothing'"):
        exercises.get("ch99.nothing")
    with pytest.raises(ValueError, match="difficulty"):
        exercise("ch01.x", title="t", difficulty="impossible")
    with pytest.raises(ValueError, match="ch02.name"):
        exercise("nodot", title="t")


def test_every_registered_exercise_has_a_title_and_difficulty():
    for ex in exercises.all_exercises():
        assert ex.title and ex.difficulty in exercises.DIFFICULTIES and ex.chapter.startswith("ch")
