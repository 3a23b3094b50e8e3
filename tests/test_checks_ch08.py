"""Chapter 8's exercises: the reference solutions pass, plausible wrong answers fail
with a hint."""

from __future__ import annotations

import hidden_cases
import pytest

from fenwicks_lite import accel, exercises

pytestmark = pytest.mark.backend


def precision_ref(platform, cc):
    if platform == "tpu" or (
        platform == "gpu" and cc is not None and tuple(cc) >= (8, 0)
    ):
        return "mixed_bfloat16"
    return "mixed_float16" if platform == "gpu" else "float32"


def per_device_ref(batch, devices):
    if batch % devices:
        raise ValueError("uneven")
    return batch // devices


def epoch_seconds_ref(log, steps_per_epoch):
    (s0, t0), (s1, t1) = log[0], log[-1]
    return (t1 - t0) / ((s1 - s0) / steps_per_epoch)


@pytest.mark.parametrize(
    "key, fn",
    [
        ("ch08.precision", precision_ref),
        (
            "ch08.precision",
            accel.choose_precision,
        ),  # the library's own answer passes too
        ("ch08.per_device", per_device_ref),
        ("ch08.per_device", accel.check_batch_size),
        ("ch08.epoch_seconds", epoch_seconds_ref),
    ],
)
def test_reference_solutions_pass(key, fn):
    r = exercises.run_check(key, fn)
    assert r.passed, r.message


@pytest.mark.parametrize(
    "key, wrong, hint",
    [
        # Ampere compared with > instead of >=: the A100 would get float16.
        (
            "ch08.precision",
            lambda p, cc: (
                "mixed_bfloat16"
                if p == "tpu" or (cc and cc > (8, 0))
                else ("mixed_float16" if p == "gpu" else "float32")
            ),
            "the A100 (8.0) is the first with bfloat16",
        ),
        # bfloat16 everywhere, the CPU included.
        (
            "ch08.precision",
            lambda p, cc: "mixed_bfloat16",
            "a T4 (7.5) has float16 tensor cores only",
        ),
        # Integer division without the check: 500 / 8 silently becomes 62.
        ("ch08.per_device", lambda b, d: b // d, "must raise ValueError"),
        (
            "ch08.per_device",
            lambda b, d: b * d,
            "per_device_batch(512, 8) returned 4096",
        ),
        # Steps per second instead of seconds per epoch.
        (
            "ch08.epoch_seconds",
            lambda log, spe: (log[-1][0] - log[0][0]) / (log[-1][1] - log[0][1]),
            "so 2.504 s per epoch",
        ),
        # Uses the first two lines only: wrong for unevenly spaced logs.
        (
            "ch08.epoch_seconds",
            lambda log, spe: (log[1][1] - log[0][1]) / ((log[1][0] - log[0][0]) / spe),
            "200 steps = 4 epochs in 10 s",
        ),
    ],
)
def test_plausible_wrong_answers_fail_with_hint(key, wrong, hint):
    r = exercises.run_check(key, wrong)
    assert not r.passed and hint in r.message, r.message


def test_each_exercise_has_a_difficulty():
    keys = {
        "ch08.precision": "easy",
        "ch08.per_device": "easy",
        "ch08.epoch_seconds": "medium",
    }
    for key, level in keys.items():
        assert exercises.get(key).difficulty == level


# ------------------------------------------------------------------ the grader's hidden


def _float_share(batch, devices):
    """Plausible and wrong: true division gives 64.0, not 64."""
    if batch % devices:
        raise ValueError("uneven")
    return batch / devices


def _checks_against_8_cores(batch, devices):
    """Plausible and wrong: tests the batch against a TPU's 8 cores, not `devices`
    (every public batch is a multiple of 8)."""
    if batch % 8:
        raise ValueError("uneven")
    return batch // devices


def _wants_shares_of_8(batch, devices):
    """Plausible and wrong: also refuses a share that is not a multiple of 8 (every
    public share, 64, 512 and 32, is one)."""
    if batch % devices or batch // devices % 8:
        raise ValueError("uneven")
    return batch // devices


REFERENCES = [
    ("ch08.precision", precision_ref),
    ("ch08.per_device", per_device_ref),
    ("ch08.epoch_seconds", epoch_seconds_ref),
]
WRONG = [
    ("ch08.per_device", _float_share, "is an int"),
    ("ch08.per_device", lambda b, d: b // d, "must raise ValueError"),
    # the public check passes these: only the hidden one's device counts tell
    ("ch08.per_device", _checks_against_8_cores, None),
    ("ch08.per_device", _wants_shares_of_8, None),
]


test_references_pass_the_hidden_tests, test_wrong_answers_fail_the_hidden_tests = (
    hidden_cases.tests(REFERENCES, WRONG))


@pytest.mark.parametrize("wrong", [_checks_against_8_cores, _wants_shares_of_8])
def test_hidden_per_device_catches_multiples_of_8_for_every_seed(wrong):
    """Every public batch and share is a multiple of 8, so the hidden test must catch
    an answer that tests against 8 whatever the instructor's seed (when it drew one
    case, these slipped through for 33% and 12% of 500 seeds)."""
    assert exercises.run_check("ch08.per_device", wrong).passed
    caught = [
        not exercises.run_hidden("ch08.per_device", wrong, s).passed for s in range(40)
    ]
    assert all(caught), [s for s, c in enumerate(caught) if not c]
