"""Chapter 5's exercises: the reference solutions pass, plausible wrong answers fail
with their hint."""

from __future__ import annotations

import hidden_cases
import numpy as np
import pytest

from fenwicks_lite import exercises

pytestmark = pytest.mark.backend


def bottleneck(rates):
    name = min(rates, key=rates.get)
    return name, rates[name]


def epoch_indices(n, batch_size, seed, epoch):
    perm = np.random.default_rng([seed, epoch]).permutation(n)
    steps = n // batch_size
    return perm[: steps * batch_size].reshape(steps, batch_size)


def steps(n, batch_size, drop_remainder):
    return n // batch_size if drop_remainder else -(-n // batch_size)


@pytest.mark.parametrize(
    "key, fn",
    [
        ("ch05.bottleneck", bottleneck),
        ("ch05.epoch_indices", epoch_indices),
        ("ch05.steps", steps),
    ],
)
def test_references_pass(key, fn):
    r = exercises.run_check(key, fn)
    assert r.passed, r.message


def _sum_of_times(rates):
    total = 1 / sum(1 / r for r in rates.values())
    return "all", total


def _same_every_epoch(n, batch_size, seed, epoch):
    return epoch_indices(n, batch_size, seed, 0)


def _with_replacement(n, batch_size, seed, epoch):
    rng = np.random.default_rng([seed, epoch])
    return rng.integers(0, n, (n // batch_size, batch_size))


def _keeps_remainder(n, batch_size, seed, epoch):
    perm = np.random.default_rng([seed, epoch]).permutation(n)
    return np.resize(perm, (-(-n // batch_size), batch_size))


@pytest.mark.parametrize(
    "key, wrong, hint",
    [
        ("ch05.bottleneck", _sum_of_times, "minimum rate"),
        ("ch05.bottleneck", lambda r: max(r.items(), key=lambda kv: kv[1]), "slowest"),
        ("ch05.epoch_indices", _same_every_epoch, "new permutation"),
        ("ch05.epoch_indices", _with_replacement, "permutation, not random draws"),
        ("ch05.epoch_indices", _keeps_remainder, "15 full batches"),
        (
            "ch05.epoch_indices",
            lambda n, b, s, e: np.arange(n // b * b).reshape(-1, b),
            "shuffle",
        ),
        ("ch05.steps", lambda n, b, d: n // b, "ceiling division"),
        ("ch05.steps", lambda n, b, d: round(n / b), "floor division"),
    ],
)
def test_plausible_wrong_answers_fail_with_hint(key, wrong, hint):
    r = exercises.run_check(key, wrong)
    assert not r.passed and hint in r.message, r.message


def test_library_epoch_indices_passes_the_exercise():
    """fw.pipeline.DeviceDataset.epoch_indices is a solution of the same exercise."""
    from fenwicks_lite import pipeline

    def via_library(n, batch_size, seed, epoch):
        x = np.zeros((n, 10, 10, 3), np.float32)
        return pipeline.DeviceDataset(
            x, np.zeros(n, np.int32), batch_size, seed=seed
        ).epoch_indices(epoch)

    assert exercises.run_check("ch05.epoch_indices", via_library).passed


# ------------------------------------------------------------------ the grader's hidden


def _seed_plus_epoch(n, batch_size, seed, epoch):
    """Plausible and wrong: seed 0 epoch 1 is seed 1 epoch 0."""
    perm = np.random.default_rng(seed + epoch).permutation(n)
    steps = n // batch_size
    return perm[: steps * batch_size].reshape(steps, batch_size)


def _ceil_steps(n, batch_size, drop_remainder):
    import math

    return n // batch_size if drop_remainder else math.ceil(n / batch_size)


def _permutes_the_kept_only(n, batch_size, seed, epoch):
    """Plausible and wrong: a permutation of the n // batch_size * batch_size indices
    it keeps, so the last n % batch_size images never take part."""
    steps = n // batch_size
    perm = np.random.default_rng([seed, epoch]).permutation(steps * batch_size)
    return perm.reshape(steps, batch_size)


def _shuffles_whole_batches(n, batch_size, seed, epoch):
    """Plausible and wrong: shuffles the order of fixed batches, not the images."""
    steps = n // batch_size
    order = np.random.default_rng([seed, epoch]).permutation(steps)
    return np.arange(steps * batch_size).reshape(steps, batch_size)[order]


def _rolls_one_permutation(n, batch_size, seed, epoch):
    """Plausible and wrong: one permutation per seed, rolled by a batch each epoch, so
    every epoch repeats the batches of the one before."""
    perm = np.roll(np.random.default_rng(seed).permutation(n), epoch * batch_size)
    steps = n // batch_size
    return perm[: steps * batch_size].reshape(steps, batch_size)


def _drops_the_first(n, batch_size, seed, epoch):
    """Right: it drops the remainder from the front of the permutation."""
    perm = np.random.default_rng([seed, epoch]).permutation(n)
    steps = n // batch_size
    return perm[n - steps * batch_size :].reshape(steps, batch_size)


_PUBLIC_STEPS = {
    (50_000, 512, True): 97,
    (50_000, 512, False): 98,
    (10_000, 500, False): 20,
    (10_000, 500, True): 20,
    (100, 512, False): 1,
    (100, 512, True): 0,
}
REFERENCES = [
    ("ch05.bottleneck", bottleneck),
    ("ch05.epoch_indices", epoch_indices),
    ("ch05.epoch_indices", _drops_the_first),
    ("ch05.steps", steps),
]
WRONG = [
    ("ch05.epoch_indices", _seed_plus_epoch, "seed + epoch"),
    # the public check passes these: only the hidden one's several epochs tell
    ("ch05.epoch_indices", _permutes_the_kept_only, None),
    ("ch05.epoch_indices", _shuffles_whole_batches, None),
    ("ch05.epoch_indices", _rolls_one_permutation, None),
    ("ch05.steps", _ceil_steps, "math.ceil"),
    ("ch05.steps", lambda n, b, d: _PUBLIC_STEPS[(n, b, d)], None),  # a lookup table
    ("ch05.steps", lambda n, b, d: n / b // 1 if d else -(-n // b), "return an int"),
]


test_references_pass_the_hidden_tests, test_wrong_answers_fail_the_hidden_tests = (
    hidden_cases.tests(REFERENCES, WRONG))


@pytest.mark.parametrize(
    "wrong", [_permutes_the_kept_only, _shuffles_whole_batches, _rolls_one_permutation]
)
def test_hidden_epoch_indices_catches_what_the_public_check_lets_through(wrong):
    """Each passes the public check, and the hidden test must catch it whatever the
    instructor's seed (when it drew one case and one epoch, the first and the last
    slipped through for all 500 seeds tried, the second for 98%)."""
    assert exercises.run_check("ch05.epoch_indices", wrong).passed
    caught = [
        not exercises.run_hidden("ch05.epoch_indices", wrong, s).passed
        for s in range(40)
    ]
    assert all(caught), [s for s, c in enumerate(caught) if not c]
