"""Self-checks for Chapter 6, The architecture."""

from __future__ import annotations

import numpy as np

# bound at import, before any answer runs (see checks/__init__.py)
from numpy import allclose as _allclose

from fenwicks_lite.exercises import exercise, expect, hidden


@exercise(
    "ch06.resblk_flops", title="Count the FLOPs of a ConvResBlk", difficulty="easy"
)
def check_resblk_flops(fn) -> None:
    """`fn(h, w, c_in, c)` -> forward FLOPs of one image through ``ConvResBlk(c)`` on an
    h x w x c_in input.

    The truth is `fw.layers.flops_per_image`, which walks the actual block's layers."""
    from fenwicks_lite import layers

    for h, w, c_in, c in [(32, 32, 64, 128), (8, 8, 256, 512), (16, 8, 3, 4)]:
        want = layers.flops_per_image(layers.ConvResBlk(c), input_shape=(h, w, c_in))
        got = fn(h, w, c_in, c)
        if got == want:
            continue
        full_res = layers.conv_flops(h, w, 3, c_in, c) + 2 * layers.conv_flops(
            h, w, 3, c, c
        )
        expect(
            got != full_res,
            "the two residual convolutions run AFTER the 2x2 max-pool, "
            "on (h/2) x (w/2)",
        )
        expect(got != want // 2, "count a multiply-add as 2 FLOPs")
        expect(
            False,
            f"for h={h}, w={w}, c_in={c_in}, c={c} the block has {want:,} FLOPs, you "
            f"gave {got!r}: one 3x3 conv c_in -> c at h x w, then two 3x3 convs "
            "c -> c at h/2 x w/2",
        )


@exercise(
    "ch06.param_count", title="DavidNet's parameters by formula", difficulty="easy"
)
def check_param_count(fn) -> None:
    """`fn(c)` -> (trainable, non_trainable) parameter counts of
    ``fw.layers.davidnet(c)``."""
    from fenwicks_lite import layers

    for c in (1, 3, 64):
        model = layers.davidnet(c)
        want = (
            sum(int(np.prod(v.shape)) for v in model.trainable_weights),
            sum(int(np.prod(v.shape)) for v in model.non_trainable_weights),
        )
        got = tuple(int(v) for v in fn(c))
        convs_only = (
            want[0] - want[1]
        )  # trainable minus the BN gammas and betas (as many as moving stats)
        expect(
            got[0] != convs_only,
            "each BatchNorm channel has 2 trainable parameters (gamma, beta)",
        )
        expect(
            got[1] == want[1],
            f"non-trainable for c={c}: BatchNorm's moving mean and variance, 2 per "
            f"channel, {want[1]:,} in all; you gave {got[1]:,}",
        )
        expect(
            got[0] == want[0],
            f"trainable for c={c} is {want[0]:,}, you gave {got[0]:,}: 3x3 convs have "
            "no bias (9 * c_in * c_out), and the classifier is 8c x 10 without bias",
        )


def ref(z, weight):
    s = weight * np.asarray(z, np.float64)
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@exercise(
    "ch06.scaled_softmax",
    title="A stable softmax with a temperature",
    difficulty="medium",
)
def check_scaled_softmax(fn) -> None:
    """`fn(z, weight)` -> softmax(weight * z) along the last axis, stable for huge
    logits."""
    z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    got = np.asarray(fn(z, 0.125))
    expect(got.shape == z.shape, f"return one probability per logit, shape {z.shape}")
    expect(
        _allclose(got, ref(z, 0.125)),
        "multiply the logits by `weight` first, then softmax over the last axis",
    )
    big = np.array([[1000.0, 1001.0, 990.0]])
    got = np.asarray(fn(big, 1.0))
    expect(
        np.all(np.isfinite(got)),
        "exp(1000) overflows: subtract each row's max before exp (softmax is "
        "unchanged by a constant shift)",
    )
    expect(
        _allclose(got, ref(big, 1.0)),
        "for [1000, 1001, 990] the answer is softmax([0, 1, -10])",
    )
    rows = np.array([[1000.0, 1001.0], [0.0, 1.0]])
    got = np.asarray(fn(rows, 1.0))
    expect(
        np.all(np.isfinite(got)) and _allclose(got, ref(rows, 1.0)),
        "rows [1000, 1001] and [0, 1] together: subtracting the max of the whole "
        "array leaves exp(-1000) = 0 in the second row (0 / 0). Subtract each row's "
        "own max (axis=-1, keepdims=True).",
    )


def _softmax_close(got, z, weight) -> bool:
    """`got` is softmax(weight * z) in float64, or in float32: an answer that works in
    float32 (as Keras does) rounds logits near 2000 to 1e-4, which moves the
    probabilities by more than float64's tolerance but is a correct softmax. Its
    reference is the softmax of the float32-rounded logits."""
    return _allclose(got, ref(z, weight)) or _allclose(
        got, ref(np.asarray(z, np.float32), weight), rtol=1e-4, atol=1e-7
    )


@hidden("ch06.resblk_flops")
def _hidden_resblk_flops(fn, rng) -> None:
    from fenwicks_lite import layers

    h, w = 2 * int(rng.integers(1, 12)), 2 * int(rng.integers(1, 12))
    c_in, c = int(rng.integers(1, 40)), int(rng.integers(1, 40))
    want = layers.flops_per_image(layers.ConvResBlk(c), input_shape=(h, w, c_in))
    expect(
        fn(h, w, c_in, c) == want,
        "the block's FLOPs for any even size and channel counts",
    )


@hidden("ch06.param_count")
def _hidden_param_count(fn, rng) -> None:
    from fenwicks_lite import layers

    c = int(rng.integers(2, 9))  # small models: building one takes seconds
    model = layers.davidnet(c)
    want = (
        sum(int(np.prod(v.shape)) for v in model.trainable_weights),
        sum(int(np.prod(v.shape)) for v in model.non_trainable_weights),
    )
    expect(
        tuple(int(v) for v in fn(c)) == want,
        "(trainable, non-trainable) for every width c",
    )


@hidden("ch06.scaled_softmax")
def _hidden_scaled_softmax(fn, rng) -> None:
    # every weight in every draw (the public ones are 0.125 and 1): an answer that
    # subtracts the max of z, not of weight * z, is right for weight 1 only; each draw
    # has a row far from 0 and a row with one logit far above the others (the row's
    # min is then far below its max: subtracting the min overflows)
    for weight in (0.125, 0.5, 1.0, 2.0, -0.25, -1.0):
        rows, cols = int(rng.integers(2, 6)), int(rng.integers(2, 8))
        far, sure = rng.permutation(rows)[:2]
        offset = rng.choice([0.0, 500.0, -800.0, 2000.0], rows)
        offset[far] = rng.choice([2000.0, -3000.0])
        z = rng.normal(0, 3, (rows, cols)) + offset[:, None]
        z[sure, rng.integers(cols)] += rng.uniform(800.0, 1500.0)
        got = np.asarray(fn(z, weight))
        expect(
            got.shape == z.shape
            and np.all(np.isfinite(got))
            and _softmax_close(got, z, weight),
            "softmax(weight * z) per row, finite for rows of very different scales "
            "and spreads and for any weight, also below 1 or negative",
        )
    z3 = rng.normal(0, 1, tuple(int(v) for v in rng.integers(2, 5, 3)))
    weight = float(rng.choice([0.5, 1.0, -1.0]))
    expect(
        _softmax_close(np.asarray(fn(z3, weight)), z3, weight),
        "along the last axis of any array",
    )
