"""Chapter 10's exercises: the reference solutions pass, plausible wrong answers fail
with a hint, and the references agree with `fenwicks_lite.fast`."""

from __future__ import annotations

import hidden_cases
import numpy as np
import pytest

from fenwicks_lite import exercises, fast
from fenwicks_lite.checks import ch10

pytestmark = pytest.mark.backend


def smooth_targets_ref(labels, s, k=10):
    onehot = np.eye(k)[np.asarray(labels)]
    return (1 - s) * onehot + s / k


def flip_tta_ref(predict, x):
    return 0.5 * (predict(x) + predict(np.flip(x, axis=2)))


@pytest.mark.parametrize(
    "key, fn",
    [("ch10.smooth_targets", smooth_targets_ref), ("ch10.flip_tta", flip_tta_ref)],
)
def test_reference_solutions_pass(key, fn):
    r = exercises.run_check(key, fn)
    assert r.passed, r.message


# ------------------------------------------------- the references against the library


@pytest.mark.parametrize("s", [0.0, 0.2, 0.7])
def test_smooth_targets_are_the_targets_of_label_smoothing_loss(s):
    import keras

    rng = np.random.default_rng(3)
    logits = rng.normal(size=(8, 10)) * 3
    y = rng.integers(0, 10, 8)
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    ce = -(smooth_targets_ref(y, s) * logp).sum(1).mean()
    got = float(keras.ops.convert_to_numpy(fast.label_smoothing_loss(logits, y, s)))
    assert got == pytest.approx(ce, rel=1e-5)


def test_flip_tta_is_tta_logits_level_1():
    import keras

    x = np.random.default_rng(4).normal(size=(5, 6, 7, 3)).astype(np.float32)
    predict = ch10._predictor(5, (6, 7, 3))
    got = keras.ops.convert_to_numpy(fast.tta_logits(predict, x, level=1))
    np.testing.assert_allclose(flip_tta_ref(predict, x), got, rtol=1e-5, atol=1e-5)

    # and a solution that calls the library passes the self-check
    def via_library(p, x):
        return keras.ops.convert_to_numpy(fast.tta_logits(p, x, 1))

    r = exercises.run_check("ch10.flip_tta", via_library)
    assert r.passed, r.message


@pytest.mark.parametrize("case", ch10.FLIP_CASES)
def test_the_checkers_predict_tells_every_wrong_answer_apart(case):
    """The checker's `predict` is neither linear nor symmetric under any flip: the
    right answer and each diagnosed wrong one give different logits, so each hint
    fires for its own mistake only."""
    x, predict = ch10.flip_case(*case)
    logits = [flip_tta_ref(predict, x)]
    logits += [w for w, _ in ch10._flip_diagnoses(predict, x)]
    for i, a in enumerate(logits):
        for b in logits[i + 1 :]:
            assert not np.allclose(a, b, rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------ plausible wrong answers


def _smooth_over_wrong_classes(labels, s, k=10):
    """True class 1 - s, each other s / (k - 1): rows still sum to 1."""
    onehot = np.eye(k)[np.asarray(labels)]
    return (1 - s) * onehot + s / (k - 1) * (1 - onehot)


def _smooth_unscaled(labels, s, k=10):  # forgets the (1 - s): rows sum to 1 + s
    return np.eye(k)[np.asarray(labels)] + s / k


def _smooth_one_row(labels, s, k=10):  # shape (k,): the first label's row only
    return (1 - s) * np.eye(k)[np.asarray(labels)[0]] + s / k


def _smooth_transposed(labels, s, k=10):
    return smooth_targets_ref(labels, s, k).T


def _smooth_ten_classes(labels, s, k=10):  # ignores k
    return smooth_targets_ref(labels, s, 10)


def _smooth_ints(labels, s, k=10):
    return np.eye(k, dtype=int)[np.asarray(labels)] * int(1 - s)


def _flip_height(predict, x):
    return 0.5 * (predict(x) + predict(np.flip(x, axis=1)))


def _flip_channels(predict, x):
    return 0.5 * (predict(x) + predict(x[..., ::-1]))


def _mirror_only(predict, x):
    return predict(x[:, :, ::-1])


def _argmax_mean(predict, x):
    return 0.5 * (predict(x).argmax(1) + predict(np.flip(x, axis=2)).argmax(1))


def _mean_image(predict, x):
    return predict(0.5 * (x + np.flip(x, axis=2)))


def _mean_probabilities(predict, x):
    def soft(z):
        e = np.exp(z - z.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    return 0.5 * (soft(predict(x)) + soft(predict(np.flip(x, axis=2))))


def _flip_in_place(predict, x):
    a = predict(x)
    x[:] = x[:, :, ::-1].copy()
    return 0.5 * (a + predict(x))


def _ten_classes_only(predict, x):
    out = np.zeros((len(x), 10))
    out += predict(x)
    out += predict(np.flip(x, axis=2))
    return out / 2


@pytest.mark.parametrize(
    "key, wrong, hint",
    [
        ("ch10.smooth_targets", _smooth_over_wrong_classes, "over all K classes"),
        ("ch10.smooth_targets", _smooth_unscaled, "scale the one-hot by (1 - s)"),
        ("ch10.smooth_targets", _smooth_one_row, "shape (len(labels), k)"),
        ("ch10.smooth_targets", _smooth_transposed, "got shape (10, 3)"),
        ("ch10.smooth_targets", _smooth_ten_classes, "use the k you are given"),
        ("ch10.smooth_targets", _smooth_ints, "return floats"),
        (
            "ch10.smooth_targets",
            lambda labels, s, k=10: (1 - s) * np.eye(k)[labels] + s,
            "every other class s/k",
        ),
        ("ch10.smooth_targets", lambda labels, s, k=10: None, "returned None"),
        ("ch10.flip_tta", lambda p, x: None, "returned None"),
        ("ch10.flip_tta", _flip_height, "upside down"),
        # np.fliplr "flips left-right", but axis 1: the height of an NHWC batch
        ("ch10.flip_tta", lambda p, x: (p(x) + p(np.fliplr(x))) / 2, "np.fliplr"),
        ("ch10.flip_tta", _flip_channels, "colour channels (axis 3)"),
        ("ch10.flip_tta", _mirror_only, "prediction alone"),
        ("ch10.flip_tta", lambda p, x: p(x), "predict(x) alone"),
        ("ch10.flip_tta", _argmax_mean, "not argmax labels"),
        ("ch10.flip_tta", _mean_image, "averages the images before predicting"),
        ("ch10.flip_tta", _mean_probabilities, "average the logits themselves"),
        ("ch10.flip_tta", _flip_in_place, "changed `x`"),
        (
            "ch10.flip_tta",
            lambda p, x: p(x) + p(np.flip(x, axis=2)),
            "divide by 2",
        ),
    ],
)
def test_plausible_wrong_answers_fail_with_hint(key, wrong, hint):
    r = exercises.run_check(key, wrong)
    assert not r.passed and hint in r.message, r.message


def test_every_flip_hint_says_what_to_do():
    """Each diagnosis names the fix: the mirror axis, or the mean of the logits."""
    x = np.zeros((2, 3, 4, 2))
    for _, hint in ch10._flip_diagnoses(ch10._predictor(0, (3, 4, 2)), x):
        assert "axis 2" in hint or "mean" in hint or "average" in hint, hint


# ------------------------------------------------------------------ the grader's hidden

def _per_image_loop(predict, x):
    """Right by the exercise's words ("logits of shape (n, 10)"): one image at a time
    into an (n, 10) array."""
    out = np.empty((len(x), 10))
    for i in range(len(x)):
        out[i] = (predict(x[i : i + 1])[0] + predict(x[i : i + 1, :, ::-1])[0]) / 2
    return out


REFERENCES = [
    ("ch10.smooth_targets", smooth_targets_ref),
    ("ch10.flip_tta", flip_tta_ref),
    # the exercise promises logits of shape (n, 10): an answer may rely on it
    ("ch10.flip_tta", _per_image_loop),
    ("ch10.flip_tta", _ten_classes_only),
]
WRONG = [
    ("ch10.smooth_targets", _smooth_over_wrong_classes, "over all K classes"),
    ("ch10.smooth_targets", _smooth_unscaled, "(1 - s)"),
    (
        "ch10.smooth_targets",
        lambda labels, s, k=10: (1 - s) * np.eye(k)[labels] + s / 10,
        "use the k you are given",
    ),
    ("ch10.flip_tta", _flip_height, "upside down"),
    ("ch10.flip_tta", _mean_image, "before predicting"),
]


test_references_pass_the_hidden_tests, test_wrong_answers_fail_the_hidden_tests = (
    hidden_cases.tests(REFERENCES, WRONG)
)
