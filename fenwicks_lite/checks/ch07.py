"""Self-checks for Chapter 7, The learning-rate schedule and SGD."""

from __future__ import annotations

import math

import numpy as np

# bound at import, before any answer runs (see checks/__init__.py)
from numpy import allclose as _allclose
from numpy import isclose as _isclose

from fenwicks_lite.exercises import exercise, expect, hidden


@exercise(
    "ch07.cosine_one_cycle", title="A cosine one-cycle schedule", difficulty="medium"
)
def check_cosine(fn) -> None:
    """`fn(step, peak_lr, total_steps, warmup_steps)`: linear warm-up to the peak, then
    a half cosine to 0."""

    def ref(s, peak, total, warm):
        s = np.asarray(s, np.float64)
        up = peak * s / max(warm, 1)
        down = (
            peak
            * 0.5
            * (1 + np.cos(math.pi * np.clip((s - warm) / (total - warm), 0, 1)))
        )
        return np.where(s < warm, up, down)

    peak, total, warm = 0.4, 100, 20
    expect(
        _isclose(float(fn(0, peak, total, warm)), 0.0),
        "start at 0 (the warm-up is linear from 0)",
    )
    expect(
        _isclose(float(fn(warm, peak, total, warm)), peak),
        "reach peak_lr exactly at step warmup_steps",
    )
    expect(
        _isclose(float(fn(total, peak, total, warm)), 0.0, atol=1e-12),
        "end at 0 at total_steps",
    )
    mid = (warm + total) // 2
    expect(
        _isclose(float(fn(mid, peak, total, warm)), peak / 2),
        "halfway through the decay a half cosine is at half the peak: "
        "peak * (1 + cos(pi * t)) / 2, t = (step - warmup) / (total - warmup)",
    )
    steps = np.arange(total + 1)
    got = np.asarray(fn(steps, peak, total, warm), dtype=np.float64)
    expect(
        got.shape == steps.shape,
        "work on a NumPy array of steps too (use np.where, not `if`)",
    )
    expect(
        _allclose(got, ref(steps, peak, total, warm)),
        "some step is off: compare with the formula above",
    )
    expect(
        _isclose(float(fn(0, 0.1, 10, 0)), 0.1),
        "without warm-up (warmup_steps=0) start at the peak",
    )


@exercise(
    "ch07.sum_convention",
    title="From MEAN to the seed's SUM",
    difficulty="easy",
)
def check_sum_convention(fn) -> None:
    """`fn(lr, wd, batch_size)` -> (lr, wd) to pass with a SUM-reduced loss for the
    MEAN-loss update."""
    for lr, wd, b in [(0.4, 5e-4, 512), (0.1, 1e-3, 128)]:
        got = tuple(float(v) for v in fn(lr, wd, b))
        expect(
            not _isclose(got[0], lr * b),
            "the SUM loss's gradient is already batch_size times larger: "
            "the learning rate must shrink, not grow",
        )
        expect(_isclose(got[0], lr / b), f"lr: {lr} / {b} = {lr / b:g}")
        expect(
            _isclose(got[1], wd * b),
            "wd: the decay term wd*w is added to a gradient batch_size times "
            f"larger, so it must be batch_size times larger too: {wd * b:g}",
        )


def _adam_refs(grads, lr, b1=0.9, b2=0.999, eps=1e-8) -> tuple[float, float]:
    """Adam's total displacement, with eps where the paper's Algorithm 1 adds it (to
    the bias-corrected RMS, as PyTorch does) and where its section 2's efficient form
    and Keras add it (to the raw RMS, the corrections folded into the step size). The
    two differ only by eps's place: the exercise is about the gradient's scale, so
    either passes."""
    m = v = paper = folded = 0.0
    for t, g in enumerate(grads, start=1):
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        paper -= lr * (m / (1 - b1**t)) / (math.sqrt(v / (1 - b2**t)) + eps)
        folded -= lr * math.sqrt(1 - b2**t) / (1 - b1**t) * m / (math.sqrt(v) + eps)
    return paper, folded


def _adam_close(got: float, grads, lr) -> bool:
    return any(_isclose(got, want, rtol=1e-6) for want in _adam_refs(grads, lr))


@exercise(
    "ch07.adam_displacement",
    title="Why the SUM/MEAN trick fails for Adam",
    difficulty="hard",
)
def check_adam(fn) -> None:
    """`fn(grads, lr)` -> total change of one weight after Adam steps on gradients
    `grads` (b1 0.9, b2 0.999, eps 1e-8, bias-corrected, no weight decay)."""
    grads = [0.5, -0.2, 0.3, 0.3, -1.0]
    got = float(fn(grads, 0.01))
    expect(
        not _isclose(got, -0.01 * sum(grads)),
        "this is plain SGD: Adam divides by the running RMS",
    )
    expect(
        _adam_close(got, grads, 0.01),
        f"the displacement should be {_adam_refs(grads, 0.01)[0]:.6g}; remember the "
        "bias corrections 1 - b^t",
    )
    expect(
        abs(float(fn([0.5], 0.01)) + 0.01) < 1e-6,
        "Adam's first step is -lr * sign(g) (bias-corrected)",
    )


@hidden("ch07.cosine_one_cycle")
def _hidden_cosine(fn, rng) -> None:
    # four schedules, the first without warm-up: the public check tries that at step 0
    # only, where an answer that holds the peak for good is right
    for case in range(4):
        total = int(rng.integers(2, 500))
        warm = int(rng.integers(1, total)) if case else 0
        peak = float(rng.uniform(0.01, 2.0))
        steps = np.arange(total + 1)
        up = peak * steps / max(warm, 1)
        down = (
            peak
            * 0.5
            * (1 + np.cos(math.pi * np.clip((steps - warm) / (total - warm), 0, 1)))
        )
        want = np.where(steps < warm, up, down)
        got = np.asarray(fn(steps, peak, total, warm), dtype=np.float64)
        expect(
            got.shape == steps.shape and _allclose(got, want),
            "the schedule at every step, for any peak, length and warm-up (also none)",
        )


@hidden("ch07.sum_convention")
def _hidden_sum_convention(fn, rng) -> None:
    lr, wd, b = (
        float(rng.uniform(1e-3, 1)),
        float(rng.uniform(1e-5, 1e-2)),
        int(rng.integers(2, 4096)),
    )
    got = tuple(float(v) for v in fn(lr, wd, b))
    expect(
        _isclose(got[0], lr / b) and _isclose(got[1], wd * b),
        "lr / batch_size and wd * batch_size for any values",
    )


@hidden("ch07.adam_displacement")
def _hidden_adam(fn, rng) -> None:
    grads = rng.normal(
        0, float(rng.uniform(0.01, 5)), int(rng.integers(1, 30))
    ).tolist()
    lr = float(rng.uniform(1e-4, 0.1))
    expect(
        _adam_close(float(fn(grads, lr)), grads, lr),
        "Adam's displacement for any gradient sequence and learning rate",
    )
