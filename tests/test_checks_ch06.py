"""Chapter 6's exercises: the reference solutions pass, plausible wrong answers fail
with their hint."""

from __future__ import annotations

import hidden_cases
import numpy as np
import pytest

from fenwicks_lite import exercises

pytestmark = pytest.mark.backend


def resblk_flops(h, w, c_in, c):
    conv = lambda hh, ww, a, b: 2 * hh * ww * 9 * a * b  # noqa: E731
    return conv(h, w, c_in, c) + 2 * conv(h // 2, w // 2, c, c)


def resblk_flops_no_pool(h, w, c_in, c):
    return 2 * h * w * 9 * (c_in * c + 2 * c * c)


def param_count(c):
    convs = [
        (3, c),
        (c, 2 * c),
        (2 * c, 2 * c),
        (2 * c, 2 * c),
        (2 * c, 4 * c),
        (4 * c, 8 * c),
        (8 * c, 8 * c),
        (8 * c, 8 * c),
    ]
    bn = sum(o for _, o in convs)
    return sum(9 * i * o for i, o in convs) + 2 * bn + 80 * c, 2 * bn


def param_count_no_bn(c):
    t, n = param_count(c)
    return t - n, n


def scaled_softmax(z, weight):
    s = weight * np.asarray(z, np.float64)
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def naive_softmax(z, weight):
    e = np.exp(weight * np.asarray(z, np.float64))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize(
    "key, fn",
    [
        ("ch06.resblk_flops", resblk_flops),
        ("ch06.param_count", param_count),
        ("ch06.scaled_softmax", scaled_softmax),
    ],
)
def test_reference_solutions_pass(key, fn):
    r = exercises.run_check(key, fn)
    assert r.passed, r.message


@pytest.mark.parametrize(
    "key, wrong, hint",
    [
        ("ch06.resblk_flops", resblk_flops_no_pool, "AFTER the 2x2 max-pool"),
        (
            "ch06.resblk_flops",
            lambda *a: resblk_flops(*a) // 2,
            "multiply-add as 2 FLOPs",
        ),
        ("ch06.param_count", param_count_no_bn, "2 trainable parameters (gamma, beta)"),
        (
            "ch06.param_count",
            lambda c: (param_count(c)[0], 0),
            "moving mean and variance",
        ),
        ("ch06.scaled_softmax", naive_softmax, "subtract each row's max"),
        (
            "ch06.scaled_softmax",
            lambda z, w: scaled_softmax(z, 1.0),
            "multiply the logits by `weight`",
        ),
    ],
)
def test_plausible_wrong_answers_fail_with_hint(key, wrong, hint):
    with np.errstate(over="ignore", invalid="ignore"):
        r = exercises.run_check(key, wrong)
    assert not r.passed and hint in r.message, r.message


# ------------------------------------------------------------------ the grader's hidden


def _global_max_softmax(z, weight):
    """Plausible and wrong: one max for the whole array underflows rows far below it."""
    s = weight * np.asarray(z, np.float64)
    e = np.exp(s - s.max())
    return e / e.sum(axis=-1, keepdims=True)


def float32_softmax(z, weight):
    """Right, in float32 as Keras computes: logits near 2000 round to 1e-4, which moves
    the probabilities by more than float64's tolerance but is no mistake."""
    s = weight * np.asarray(z, np.float32)
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _subtracts_the_max_of_z(z, weight):
    """Plausible and wrong: exp(weight * z - max z) is softmax(weight * z) on paper,
    but it overflows or underflows unless weight is 1."""
    with np.errstate(all="ignore"):  # it overflows: that is the point
        z = np.asarray(z, np.float64)
        e = np.exp(weight * z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)


def _shifts_z_before_weighting(z, weight):
    """Plausible and wrong: weight * (z - max z); for a negative weight the max of z is
    the min of weight * z, and exp overflows on a row with one large logit."""
    with np.errstate(all="ignore"):  # it overflows: that is the point
        z = np.asarray(z, np.float64)
        e = np.exp(weight * (z - z.max(axis=-1, keepdims=True)))
        return e / e.sum(axis=-1, keepdims=True)


def _subtracts_the_min(z, weight):
    """Plausible and wrong: shifting by the row's min also makes [1000, 1001, 990]
    finite, but overflows on a row with one logit far above the others."""
    with np.errstate(all="ignore"):  # it overflows: that is the point
        s = weight * np.asarray(z, np.float64)
        e = np.exp(s - s.min(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)


SOFTMAX_SLIPS = [
    _subtracts_the_max_of_z,
    _shifts_z_before_weighting,
    _subtracts_the_min,
]

REFERENCES = [
    ("ch06.resblk_flops", resblk_flops),
    ("ch06.param_count", param_count),
    ("ch06.scaled_softmax", scaled_softmax),
    ("ch06.scaled_softmax", float32_softmax),
]
WRONG = [
    ("ch06.scaled_softmax", _global_max_softmax, "each row's own max"),
    # float32 is let through, not a wrong axis or a divided weight
    (
        "ch06.scaled_softmax",
        lambda z, w: float32_softmax(np.swapaxes(z, 0, -1), w).swapaxes(0, -1),
        "over the last axis",
    ),
    (
        "ch06.scaled_softmax",
        lambda z, w: float32_softmax(z, 1 / w),
        "multiply the logits by `weight`",
    ),
    ("ch06.resblk_flops", resblk_flops_no_pool, "AFTER the 2x2 max-pool"),
    # the public check passes these: only the hidden one's weights and rows tell
    *(("ch06.scaled_softmax", wrong, None) for wrong in SOFTMAX_SLIPS),
]


test_references_pass_the_hidden_tests, test_wrong_answers_fail_the_hidden_tests = (
    hidden_cases.tests(REFERENCES, WRONG))


@pytest.mark.parametrize("wrong", SOFTMAX_SLIPS)
def test_hidden_scaled_softmax_catches_what_the_public_check_lets_through(wrong):
    """Each passes the public check, and the hidden test must catch it whatever the
    instructor's seed (when it drew one case, the max of z slipped through for 39% of
    500 seeds, the other two for all of them)."""
    assert exercises.run_check("ch06.scaled_softmax", wrong).passed
    caught = [
        not exercises.run_hidden("ch06.scaled_softmax", wrong, s).passed
        for s in range(40)
    ]
    assert all(caught), [s for s, c in enumerate(caught) if not c]
