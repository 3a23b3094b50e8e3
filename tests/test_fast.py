"""Chapter 10's tricks (fenwicks_lite.fast): each against its formula or a NumPy
reference.

The small functions are backend-agnostic (marked `backend`: `make test-jax` runs them
again under JAX with TensorFlow blocked). The training loop is JAX-only: its tests start
a subprocess with ``KERAS_BACKEND=jax`` and TensorFlow blocked, as on the GPU machine.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import no_tensorflow
import numpy as np
import pytest
from notebook_outputs import committed_runtime, printed

from fenwicks_lite import checkpoint, fast
from fenwicks_lite import train as fw_train

ROOT = Path(__file__).resolve().parent.parent
backend = pytest.mark.backend


# --------------------------------------------------------------------- validation split


def test_validation_split_is_deterministic_disjoint_and_complete() -> None:
    tr, va = fast.validation_split(50_000, 5_000, seed=0)
    tr2, va2 = fast.validation_split(50_000, 5_000, seed=0)
    assert np.array_equal(tr, tr2) and np.array_equal(va, va2)
    assert len(tr) == 45_000 and len(va) == 5_000
    assert np.array_equal(np.sort(np.concatenate([tr, va])), np.arange(50_000))
    assert not np.array_equal(va, fast.validation_split(50_000, 5_000, seed=1)[1])
    # a random subset, not the first or last 5,000
    assert 0.3 < np.mean(va < 25_000) < 0.7


@pytest.mark.parametrize("n, n_val", [(2_500, 2_500), (2_500, 0), (1, 1), (100, 1.5)])
def test_validation_split_rejects_bad_sizes(n: int, n_val: int) -> None:
    with pytest.raises(ValueError, match="n_val|n must"):
        fast.validation_split(n, n_val)


# ---------------------------------------------------------------------------- whitening


def _images(n: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8, 8, 3))
    x[..., 1] += 0.7 * x[..., 0]  # correlated channels, as in real images
    x[:, 1:] += 0.5 * x[:, :-1]  # and correlated neighbours
    return x


def test_image_patches_layout_matches_a_keras_kernel() -> None:
    x = _images(2)
    p = fast.image_patches(x, 2)
    assert p.shape == (2 * 7 * 7, 12)
    # patch (image 0, row 3, col 5), flattened as kernel[i, j, c]
    assert np.array_equal(p[3 * 7 + 5], x[0, 3:5, 5:7, :].reshape(-1))


def test_whitened_patches_have_identity_covariance_when_eps_is_zero() -> None:
    x = _images()
    kernel = fast.patch_whitening_kernel(x, k=2, eps=0.0).astype(np.float64)
    assert kernel.shape == (2, 2, 3, 24)
    p = fast.image_patches(x, 2)
    w = kernel.reshape(12, 24)
    out = p @ w[:, :12]
    # float32 kernel: identity to float32 precision
    np.testing.assert_allclose(out.T @ out / len(out), np.eye(12), atol=2e-5)
    np.testing.assert_array_equal(w[:, 12:], -w[:, :12])  # the negated half


def test_whitening_eps_gives_lam_over_lam_plus_eps() -> None:
    x = _images()
    eps = 0.1
    p = fast.image_patches(x, 2)
    lam = np.linalg.eigvalsh(p.T @ p / len(p))[::-1]
    w = (
        fast.patch_whitening_kernel(x, 2, eps)
        .astype(np.float64)
        .reshape(12, 24)[:, :12]
    )
    out = p @ w
    np.testing.assert_allclose(
        out.T @ out / len(out), np.diag(lam / (lam + eps)), atol=2e-5
    )


@backend
def test_whitening_kernel_in_a_keras_conv_whitens() -> None:
    x = _images().astype(np.float32)
    kernel = fast.patch_whitening_kernel(x, 2, 0.0)
    y = keras.ops.convert_to_numpy(keras.ops.conv(x, kernel, padding="valid"))
    y = y.reshape(-1, 24)[:, :12].astype(np.float64)
    np.testing.assert_allclose(y.T @ y / len(y), np.eye(12), atol=1e-3)


def test_whitening_rejects_negative_eps_and_tiny_images() -> None:
    with pytest.raises(ValueError, match="eps"):
        fast.patch_whitening_kernel(_images(), 2, -1.0)
    with pytest.raises(ValueError, match="k=2"):
        fast.patch_whitening_kernel(np.zeros((3, 1, 1, 3)), 2)


# ---------------------------------------------------------------------- label smoothing


@backend
@pytest.mark.parametrize("s", [0.0, 0.2, 1.0])
def test_label_smoothing_loss_matches_its_formula(s: float) -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 10)) * 3
    y = rng.integers(0, 10, 6)
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    q = (1 - s) * np.eye(10)[y] + s / 10
    want = -(q * logp).sum(1).mean()
    got = float(keras.ops.convert_to_numpy(fast.label_smoothing_loss(logits, y, s)))
    assert got == pytest.approx(want, rel=1e-5)


@backend
def test_label_smoothing_zero_is_keras_cross_entropy() -> None:
    rng = np.random.default_rng(1)
    logits, y = rng.normal(size=(5, 10)).astype("float32"), rng.integers(0, 10, 5)
    ref = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, logits)
    got = fast.label_smoothing_loss(logits, y, 0.0)
    assert float(got) == pytest.approx(float(ref), rel=1e-5)


# --------------------------------------------------------------------- weight averaging


def test_ema_update_against_numpy() -> None:
    rng = np.random.default_rng(0)
    avg, new = (
        [rng.normal(size=(3, 4)), rng.normal(size=5)],
        [rng.normal(size=(3, 4)), rng.normal(size=5)],
    )
    out = fast.ema_update(avg, new, 0.9)
    for o, a, n in zip(out, avg, new, strict=True):
        np.testing.assert_allclose(o, 0.9 * a + 0.1 * n)
    # repeated: converges to a fixed `new`, geometrically
    a = [np.zeros(3)]
    for _ in range(10):
        a = fast.ema_update(a, [np.ones(3)], 0.5)
    np.testing.assert_allclose(a[0], 1 - 0.5**10)
    with pytest.raises(ValueError, match="as many"):
        fast.ema_update([np.ones(1)], [], 0.5)


def test_lookahead_period_is_a_fraction_of_the_run() -> None:
    assert fast.lookahead_period(5, 476) == 5  # airbench's run: its every_n_steps
    assert fast.lookahead_period(5, 426) == 5  # 45,000 training images (val split)
    assert fast.lookahead_period(5, 952) == 10  # twice as long: half as often
    assert fast.lookahead_period(5, 6) == 1  # a quick-profile run averages every step
    with pytest.raises(ValueError, match="every"):
        fast.lookahead_period(0, 100)


def test_lookahead_plan_follows_airbench() -> None:
    spe, total = 48, 476  # airbench94: 50,000 // 1024 batches, ceil(9.9 x 48) steps
    rho = fast.lookahead_plan(spe, total, start_epochs=3, every=5, base=0.95, power=3)
    steps = np.flatnonzero(rho >= 0) + 1  # 1-based, as counted after the step
    # airbench: `epoch >= 3 and current_steps % 5 == 0`, epoch 3 starting at step 145
    want = [s for s in range(1, total + 1) if (s - 1) // spe >= 3 and s % 5 == 0]
    assert steps.tolist() == want and steps[0] == 145 and steps[-1] == 475
    assert rho[239] == pytest.approx(0.95**5 * (240 / 476) ** 3)
    assert np.all(rho[:144] == -1)


def test_lookahead_fires_in_quick_runs() -> None:
    # the quick profile: 2,500 images, 500 held out, batch 256: 6 steps in all
    q = fast.scale_recipe(fast.FAST, "quick")
    for n_train in (2_000, 2_500):
        plan = fast._plan(q, n_train, n_train // q["batch_size"])
        la = plan["per_step"][:, 1]
        assert plan["total"] <= 8 and np.sum(la >= 0) >= 4  # a start and 3+ moves
        assert np.all(la[la >= 0] < 1)


class _AirbenchLookahead:
    """airbench94.py's LookaheadState in NumPy (KellerJordan/cifar10-airbench, commit
    01a2367): a copy of the weights, lerp'ed towards them, copied back."""

    def __init__(self, net: list[np.ndarray]) -> None:
        self.net_ema = [v.copy() for v in net]

    def update(self, net: list[np.ndarray], decay: float) -> None:
        for ema, w in zip(self.net_ema, net, strict=True):
            ema += (1 - decay) * (w - ema)  # torch's ema.lerp_(w, 1 - decay)
            w[...] = ema  # net_param.copy_(ema_param)


@backend
def test_lookahead_step_matches_airbench_and_pulls_towards_the_average() -> None:
    rng = np.random.default_rng(0)
    spe, total = 4, 12
    rho = fast.lookahead_plan(spe, total, start_epochs=0.5, every=1)
    w = [rng.normal(size=(3, 2)), rng.normal(size=4)]
    ours_w = [a.copy() for a in w]
    ours_avg = [np.zeros_like(a) for a in w]
    count, ref, pulls = np.int32(0), None, 0
    for step in range(1, total + 1):
        noise = [rng.normal(size=a.shape) for a in w]  # the optimizer's step
        w = [a + d for a, d in zip(w, noise, strict=True)]
        ours_w = [a + d for a, d in zip(ours_w, noise, strict=True)]
        r, sync = float(rho[step - 1]), step % spe == 0
        if r >= 0 and ref is not None:  # a later step: weights -> slow copy
            before = [a - e for a, e in zip(ours_w, ours_avg, strict=True)]
        # airbench94.py's main loop, in NumPy
        if r >= 0:
            if ref is None:
                ref = _AirbenchLookahead(w)
            else:
                ref.update(w, r)
        if sync and ref is not None:
            ref.update(w, 1.0)
        new_w, new_avg, count = fast.lookahead_step(
            ours_w, ours_avg, count, np.float32(r), sync
        )
        new_w = [keras.ops.convert_to_numpy(a).astype(np.float64) for a in new_w]
        new_avg = [keras.ops.convert_to_numpy(a).astype(np.float64) for a in new_avg]
        if r >= 0 and step > 3:  # moved: the weights' distance to the old average
            for b, nw, oa in zip(before, new_w, ours_avg, strict=True):
                np.testing.assert_allclose(nw - oa, (1 - r) * b, rtol=1e-5, atol=1e-6)
            pulls += 1
        ours_w, ours_avg = new_w, new_avg
        for a, b in zip(ours_w, w, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        if ref is not None:
            for a, b in zip(ours_avg, ref.net_ema, strict=True):
                np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert int(keras.ops.convert_to_numpy(count)) == np.sum(rho >= 0) == 10
    assert pulls == 9  # every averaging step but the first moved the weights


# ------------------------------------------------------------------ schedule, optimizer


def test_triangle_schedule_exact_values() -> None:
    lr = fast.triangle_schedule(100, 2.0, start=0.2, peak_at=0.25, end=0.1)
    assert lr[0] == pytest.approx(0.4) and lr[25] == pytest.approx(2.0)
    assert lr[10] == pytest.approx(2.0 * (0.2 + 0.8 * 10 / 25))
    assert lr[99] == pytest.approx(2.0 * (1 - 0.9 * 74 / 75))
    page = fast.triangle_schedule(24 * 97, 0.4, 0.0, 5 / 24, 0.0)
    ref = fw_train.triangular_lr(0.4, 24 * 97, round(5 * 97))
    for i in (0, 100, 485, 1000, 2327):
        assert page[i] == pytest.approx(float(ref(i)), abs=1e-6)


def test_nesterov_sgd_matches_pytorch_reference() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 4))
    a = a @ a.T + np.eye(4)
    w0 = rng.normal(size=4)
    lrs = [0.01, 0.05, 0.03, 0.02, 0.01]
    want = fw_train.torch_sgd_numpy(w0, lambda w: a @ w, lrs, mom=0.85, wd=0.01)
    w, b = [w0.copy()], [np.zeros(4)]
    for lr in lrs:
        w, b = fast.nesterov_sgd(w, b, [a @ w[0]], [lr], [0.01], 0.85)
    np.testing.assert_allclose(w[0], want, rtol=1e-12)


def test_bias_scaler_keeps_the_decay_per_step() -> None:
    # lr * scaler with l2 / scaler: the same decay lr * l2 * w when the gradient is 0
    p, _ = fast.nesterov_sgd(
        [np.ones(2)], [np.zeros(2)], [np.zeros(2)], [0.1 * 64], [0.01 / 64], 0.0
    )
    q, _ = fast.nesterov_sgd(
        [np.ones(2)], [np.zeros(2)], [np.zeros(2)], [0.1], [0.01], 0.0
    )
    np.testing.assert_allclose(p[0], q[0])


@backend
def test_alternating_flip_complements_every_other_epoch() -> None:
    bits = np.random.default_rng(0).random(100) < 0.5
    e0 = keras.ops.convert_to_numpy(fast.alternating_flip(bits, 0))
    e1 = keras.ops.convert_to_numpy(fast.alternating_flip(bits, 1))
    e2 = keras.ops.convert_to_numpy(fast.alternating_flip(bits, 2))
    assert (
        np.array_equal(e0, bits)
        and np.array_equal(e1, ~bits)
        and np.array_equal(e2, bits)
    )


def _numpy_augment(x: np.ndarray, u: np.ndarray, flip: np.ndarray, t: int,
                   c: int) -> np.ndarray:
    """Reference: reflect-pad by t, crop at (dy, dx), mirror, zero a c x c hole (its
    centre uniform over the image, clipped at the border): chapter 4's semantics."""
    n, h, w, _ = x.shape
    k = 2 * t + 1
    pad = np.pad(x, ((0, 0), (t, t), (t, t), (0, 0)), mode="reflect")
    out = np.empty_like(x)
    for i in range(n):
        dy = min(int(np.floor(u[i, 0] * k)), k - 1)
        dx = min(int(np.floor(u[i, 1] * k)), k - 1)
        img = pad[i, dy : dy + h, dx : dx + w]
        out[i] = img[:, ::-1] if flip[i] else img
        if c:
            # wholly inside, as the seed's: the first row uniform over 0..h-c
            cy, cx = int(u[i, 3] * (h - c + 1)), int(u[i, 4] * (w - c + 1))
            out[i, cy : cy + c, cx : cx + c] = 0
    return out


@backend
@pytest.mark.parametrize("t, c", [(2, 0), (4, 8), (0, 8)])
def test_train_augment_is_chapter_4s_transform(t: int, c: int) -> None:
    from fenwicks_lite import transform

    rng = np.random.default_rng(t + c)
    x = rng.normal(size=(16, 32, 32, 3)).astype("float32")
    u = rng.random((16, 5)).astype("float32")
    # the random coin (u[:, 2] < 0.5): exactly fw.transform.augment_from_uniforms
    got = keras.ops.convert_to_numpy(fast.train_augment(x, u, None, t, c))
    ref = keras.ops.convert_to_numpy(
        transform.augment_from_uniforms(x, u, t, c, flip=True)
    )
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(got, _numpy_augment(x, u, u[:, 2] < 0.5, t, c))
    # the alternating flip's coin, and the sizes as runtime tensors (one program for
    # every row of a shape): the same images
    flip = rng.random(16) < 0.5
    sizes = [keras.ops.convert_to_tensor(v, "int32") for v in (t, c)]
    got = keras.ops.convert_to_numpy(fast.train_augment(x, u, flip, *sizes))
    np.testing.assert_array_equal(got, _numpy_augment(x, u, flip, t, c))
    if keras.backend.backend() == "jax":  # and traced inside jit, as in the loop
        import jax

        jitted = jax.jit(fast.train_augment)
        got = np.asarray(jitted(x, u, flip, np.int32(t), np.float32(c)))
        np.testing.assert_array_equal(got, _numpy_augment(x, u, flip, t, c))


def test_airbench_flip_then_crop_is_crop_then_flip_with_mirrored_offset() -> None:
    # airbench94.py pre-flips, pads and crops; crop_flip crops, then flips. Offset dx
    # of the one is offset 2t - dx of the other, so both draw the same distribution.
    x = np.random.default_rng(0).normal(size=(32, 32, 3))
    t = 2
    for dy in range(2 * t + 1):
        for dx in range(2 * t + 1):
            airbench = np.pad(x[:, ::-1], ((t, t), (t, t), (0, 0)), mode="reflect")
            airbench = airbench[dy : dy + 32, dx : dx + 32]
            ours = np.pad(x, ((t, t), (t, t), (0, 0)), mode="reflect")
            ours = ours[dy : dy + 32, 2 * t - dx : 2 * t - dx + 32][:, ::-1]
            np.testing.assert_array_equal(airbench, ours)


# ---------------------------------------------------------------------------------- TTA


@backend
def test_tta_levels_against_numpy() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 6, 6, 2)).astype("float32")
    w = rng.normal(size=(6, 6, 2, 4)).astype("float32")

    def fn_np(z: np.ndarray) -> np.ndarray:
        return np.einsum("nhwc,hwck->nk", z, w)

    def fn(z):  # noqa: ANN001, ANN202
        return keras.ops.einsum("nhwc,hwck->nk", z, w)

    def mirror(z: np.ndarray) -> np.ndarray:
        return 0.5 * fn_np(z) + 0.5 * fn_np(z[:, :, ::-1])

    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")
    level2 = 0.5 * mirror(x) + 0.25 * (
        mirror(padded[:, :6, :6]) + mirror(padded[:, 2:, 2:])
    )
    for level, want in ((0, fn_np(x)), (1, mirror(x)), (2, level2)):
        got = keras.ops.convert_to_numpy(fast.tta_logits(fn, x, level))
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="level"):
        fast.tta_logits(fn, x, 3)


# ----------------------------------------------------------------------------- network


@backend
def test_partial_identity_passes_its_first_channels_through() -> None:
    init = fast.partial_identity()
    k = keras.ops.convert_to_numpy(init((3, 3, 4, 6)))
    x = np.random.default_rng(0).normal(size=(2, 5, 5, 4)).astype("float32")
    y = keras.ops.convert_to_numpy(keras.ops.conv(x, k, padding="same"))
    np.testing.assert_allclose(y[..., :4], x, atol=1e-6)
    assert np.abs(k[..., 4:]).max() > 0  # the other channels keep the base init


@backend
def test_airbench_net_shape_and_settings() -> None:
    net = fast.airbench_net((8, 16, 16))
    out = net(np.zeros((2, 32, 32, 3), "float32"))
    assert tuple(out.shape) == (2, 10)
    paths = [v.path for v in net.trainable_variables]
    assert paths[:2] == ["airbench/whiten/kernel", "airbench/whiten/bias"]
    assert not any(p.endswith("gamma") for p in paths)  # BatchNorm without scale
    assert sum(p.endswith("/beta") for p in paths) == 6
    bn = [la for la in net.layers if isinstance(la, keras.layers.BatchNormalization)]
    assert len(bn) == 6 and all(b.epsilon == 1e-12 and b.momentum == 0.6 for b in bn)
    assert net.get_layer("whiten").kernel.shape == (2, 2, 3, 24)
    with pytest.raises(ValueError, match="widths"):
        fast.airbench_net((8, 16))


# ----------------------------------------------------------------------------- recipes


def test_ablation_is_cumulative_and_ends_at_fast() -> None:
    rows = fast.ablation_recipes()
    assert rows[0][1] == fast.SEED and rows[-1][1] == fast.FAST
    for (_, before), (_, after), (_, change) in zip(
        rows[:-1], rows[1:], fast.ABLATION[1:], strict=True
    ):
        changed = {k for k in after if after[k] != before[k]}
        assert changed and changed <= set(change)


def test_fast_recipe_is_airbench_in_a_mean_loss() -> None:
    # airbench94.py: SUM loss, lr 11.5 / (1024 * (1 + 1/(1 - 0.85))) per example
    assert fast.FAST["lr"] == pytest.approx(11.5 * 1024 / (1024 * (1 + 1 / 0.15)))
    # decay per step: 0.0153 * 1024 / kilostep_scale = lr * l2
    ks = 1024 * (1 + 1 / 0.15)
    assert fast.FAST["lr"] * fast.FAST["l2"] == pytest.approx(0.0153 * 1024 / ks)


def test_recipe_source_is_the_commented_table() -> None:
    src = fast.recipe_source()
    assert src.startswith("#: The fast recipe") and src.rstrip().endswith("}")
    for key in fast.FAST:  # every number has its line, each with a comment
        assert f'"{key}":' in src
    assert src.count("airbench94.py") >= len(fast.FAST) - 2


def test_scale_recipe_quick_and_full() -> None:
    assert fast.scale_recipe(fast.FAST, "full") == fast.FAST
    q = fast.scale_recipe(fast.FAST, "quick")
    assert q["widths"] == (16, 64, 64) and q["batch_size"] == 256
    assert q["epochs"] == pytest.approx(9.9 / 12)


def test_run_length_counts_full_batches_as_airbench_does() -> None:
    # airbench94.py: len(train_loader) = 50,000 // 1024 = 48 (drop_last), then
    # ceil(48 x 9.9) = ceil(475.2) = 476 steps; the seed: 50,000 // 512 = 97, x 24
    assert fast.run_length(fast.FAST, 50_000) == (48, 476)
    assert fast.run_length(fast.SEED, 50_000) == (97, 2_328)
    assert fast.run_length(fast.FAST, 45_000) == (43, 426)  # ceil(425.7)
    q = fast.scale_recipe(fast.FAST, "quick")  # batch 256, 9.9 / 12 epochs
    assert fast.run_length(q, 2_000) == (7, 6)  # ceil(7 x 0.825) = ceil(5.775)
    assert fast.run_length({**fast.FAST, "epochs": 2}, 1_024) == (1, 2)
    with pytest.raises(ValueError, match="batch size 1024 exceeds the 1000 training"):
        fast.run_length(fast.FAST, 1_000)


def test_plan_counts_steps_and_marks_epoch_ends() -> None:
    r = {**fast.FAST, "batch_size": 100, "epochs": 2.5}
    plan = fast._plan(r, n_train=1_000, max_steps=12)
    per = plan["per_step"]
    assert plan["total"] == 25 and plan["n_epochs"] == 3 and per.shape == (36, 5)
    assert per[:, 4].sum() == 25  # active steps
    assert list(np.flatnonzero(per[:, 2])) == [
        9,
        21,
        28,
    ]  # last active step of each epoch
    assert per[0, 0] == pytest.approx(0.2 * fast.FAST["lr"])


@backend
def test_keras_batchnorm_moving_variance_is_the_biased_one() -> None:
    # Keras 3 averages the biased batch variance (ddof 0) into moving_variance; PyTorch
    # (airbench, Page) the unbiased one (ddof 1). With n = 8 values the two differ by
    # 8/7, so the test can tell them apart.
    x = np.random.default_rng(0).normal(size=(2, 2, 2, 3)).astype("float32") * 3
    bn = keras.layers.BatchNormalization(momentum=0.6, epsilon=1e-12, scale=False)
    bn(x, training=True)
    got = keras.ops.convert_to_numpy(bn.moving_variance * 1.0)  # a plain tensor
    biased = x.reshape(-1, 3).var(axis=0, ddof=0)
    np.testing.assert_allclose(got, 0.6 * 1.0 + 0.4 * biased, rtol=1e-5)
    assert not np.allclose(got, 0.6 + 0.4 * x.reshape(-1, 3).var(axis=0, ddof=1))


@backend
def test_batchnorm_bias_is_negligible_at_airbenchs_batch() -> None:
    # the n = batch x H x W values per channel of each BatchNorm of the fast network:
    # the unbiased / biased factor n / (n - 1) stays below 1 + 1.1e-4 at batch 1024
    net = fast.airbench_net((8, 16, 16))
    bns = [la for la in net.layers if isinstance(la, keras.layers.BatchNormalization)]
    hw = [int(np.prod(la.input.shape[1:3])) for la in bns]
    assert hw == [15 * 15, 15 * 15, 7 * 7, 7 * 7, 3 * 3, 3 * 3]
    worst = max(1 / (fast.FAST["batch_size"] * a - 1) for a in hw)
    assert 1.0e-4 < worst < 1.1e-4


class _Untouchable:
    """Stands in for the test set: any use of it fails the test."""

    def __getattr__(self, name: str) -> None:
        raise AssertionError(f"the test set was read ({name})")

    def __len__(self) -> int:
        raise AssertionError("the test set was read (len)")

    def __getitem__(self, key: object) -> None:
        raise AssertionError("the test set was read (index)")

    def __array__(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("the test set was read (array)")


def test_split_data_val_never_reads_the_test_set() -> None:
    from fenwicks_lite import data as fw_data

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (200, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, 200)
    ds = fw_data.Dataset(x, y, _Untouchable(), _Untouchable(), "synthetic")
    train_idx, x_eval, y_eval, mean, std = fast.split_data(ds, "val", 40)
    _, val_idx = fast.validation_split(200, 40)
    np.testing.assert_array_equal(x_eval, x[val_idx])
    np.testing.assert_array_equal(y_eval, y[val_idx])
    assert len(np.intersect1d(train_idx, val_idx)) == 0 and len(train_idx) == 160
    # the channel statistics of the images trained on, not of the held-out ones
    np.testing.assert_allclose(mean, x[train_idx].reshape(-1, 3).mean(0), rtol=1e-6)
    # "test" hands the test set itself to the evaluation (the final table)
    _, x_eval, y_eval, _, _ = fast.split_data(ds, "test", 40)
    assert x_eval is ds.x_test and y_eval is ds.y_test
    with pytest.raises(ValueError, match="split"):
        fast.split_data(ds, "train", 40)


@pytest.mark.parametrize("profile, n_val", [("full", 5_000), ("quick", 500)])
def test_sweep_makes_every_choice_on_the_validation_split(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, profile: str, n_val: int
) -> None:
    from fenwicks_lite import data as fw_data

    n = 50_000 if profile == "full" else 2_500
    x = np.broadcast_to(np.zeros((1, 32, 32, 3), np.uint8), (n, 32, 32, 3))
    ds = fw_data.Dataset(x, np.zeros(n, int), x[:10], np.zeros(10, int), "synthetic")
    monkeypatch.setattr(fast, "_load", lambda profile: ds)
    calls = []

    def fake_train_runs(rows, seeds, data, n_val, **kw):  # noqa: ANN001, ANN202
        calls.append((list(rows), n_val))
        return []

    monkeypatch.setattr(fast, "train_runs", fake_train_runs)
    fast.sweep(profile, 2, tmp_path)
    ((rows, got_n_val),) = calls
    assert got_n_val == n_val
    want = fast.scale_recipe(fast.FAST, profile)
    tests = [(name, r) for name, r, split in rows if split == "test"]
    vals = [name for name, r, split in rows if split == "val"]
    # the test set: the fast recipe alone, for the final table; every ablation row,
    # the fast recipe's included, is measured on the held-out images
    assert tests == [(fast.ABLATION[-1][0], want)]
    assert sorted(vals) == sorted(name for name, _ in fast.ABLATION)
    assert all(split in ("val", "test") for _, _, split in rows)


def test_tta_wording_follows_the_level_used() -> None:
    assert fast.tta_label(fast.FAST["tta_level"]) == "flip + translate TTA"
    assert fast.tta_label(fast.SEED["tta_level"]) == "flip TTA"
    with pytest.raises(ValueError, match="level"):
        fast.tta_label(3)
    r = _record(fast.ABLATION[-1][0], 0, 0.9, 1.0)
    r.recipe = {"tta_level": 2}
    assert r.acc_at(2) == r.acc_tta2 and r.acc_at(0) == r.acc
    line = r.summary()
    assert "with flip + translate TTA" in line and f"{r.acc_tta2:.2%}" in line
    r.recipe = {"tta_level": 1}
    assert "with flip TTA" in r.summary() and f"{r.acc_tta1:.2%}" in r.summary()


def _record(row: str, seed: int, acc: float, train_s: float, compile_s: float = 0.0,
            split: str = "val") -> fast.RunRecord:
    return fast.RunRecord(
        row=row, seed=seed, split=split, acc=acc, acc_tta1=acc + 0.01,
        acc_tta2=acc + 0.02, compile_s=compile_s, train_s=train_s, eval_s=0.1,
        epochs=1, steps=1, n_train=1, n_eval=1, recipe={}, history=[], backend="jax",
        precision="float32", hardware={"device": "cpu"}, versions={}, git_commit=None,
        profile="quick", started="", finished="")


def test_records_round_trip_and_tables(tmp_path: Path) -> None:
    seed_row, fast_row = fast.ABLATION[0][0], fast.ABLATION[-1][0]
    recs = [_record(seed_row, 0, 0.90, 10.0, 30.0), _record(seed_row, 1, 0.92, 12.0),
            _record(fast_row, 0, 0.93, 2.0, 20.0), _record(fast_row, 1, 0.95, 3.0),
            _record(fast_row, 0, 0.5, 1.0, split="test")]
    for r in recs:
        fast.write_record(r, tmp_path, f"fast-quick-{r.split}-{r.row[:4]}-{r.seed}")
    (tmp_path / "other.json").write_text("[1, 2]")  # not a record: skipped
    back = fast.load_records(tmp_path)
    assert len(back) == 5
    assert fast.write_record(recs[0], tmp_path, "x").name == "x.json"
    assert fast.write_record(recs[0], tmp_path, "x").name == "x-1.json"  # no overwrite
    table = fast.ablation_table(back, "val")
    assert [t["row"] for t in table] == [seed_row, fast_row]
    assert table[0]["acc"] == pytest.approx(0.91)
    assert table[0]["acc_std"] == pytest.approx(np.std([0.90, 0.92], ddof=1))
    assert table[1]["compile_s"] == 20.0 and table[1]["n"] == 2
    r = fast.side_by_side(back)
    assert r["train_ratio"] == pytest.approx(11.0 / 2.5)
    assert r["compile_ratio"] == pytest.approx(30.0 / 20.0)
    with pytest.raises(ValueError, match="no validation runs"):
        fast.side_by_side(back[:2])


def test_ablation_text_prints_the_table_row_by_row() -> None:
    seed_row, fast_row = fast.ABLATION[0][0], fast.ABLATION[-1][0]
    recs = [_record(seed_row, 0, 0.90, 10.0, 30.0), _record(seed_row, 1, 0.92, 12.0),
            _record(fast_row, 0, 0.93, 2.0, 20.0), _record(fast_row, 0, 0.5, 1.0,
                                                            split="test")]
    lines = fast.ablation_text(recs).splitlines()
    std = np.std([0.90, 0.92], ddof=1)
    assert lines[0] == "val accuracy, mean ± std over seeds:"
    assert lines[2] == f"{seed_row} (2 seeds)" and lines[4] == f"{fast_row} (1 seed)"
    assert lines[3].split() == ["91.00%", "±", f"{std:.2%}", "92.00%", "±",
                                f"{std:.2%}", "93.00%", "±", f"{std:.2%}", "11.00",
                                "30.0"]
    assert lines[5].split()[:3] == ["93.00%", "±", "0.00%"] and len(lines) == 6
    assert fast.ablation_text([]).startswith("pending: the ablation table")
    assert fast.ablation_text(recs[-1:]).startswith("pending")  # test runs only


def _full(r: fast.RunRecord, device: str = "1 x GPU NVIDIA H100") -> fast.RunRecord:
    r.profile, r.hardware, r.precision = "full", {"device": device}, "mixed_bfloat16"
    return r


def test_chapter10_is_pending_until_five_test_runs(tmp_path: Path, monkeypatch) -> None:
    from fenwicks_lite import report

    monkeypatch.setenv(report.RESULTS_ENV_VAR, str(tmp_path))
    fast_row = fast.ABLATION[-1][0]
    assert fast.sweep_records() == [] and not fast.is_ready([])
    status = fast.run_status([])
    assert status.startswith("pending: chapter 10's GPU sweep is not committed")
    assert "fast sweep --profile full" in status and "%" not in status
    for seed in range(4):
        r = _full(_record(fast_row, seed, 0.94, 2.5, 20.0 * (seed == 0), "test"))
        fast.write_record(r, tmp_path, f"fast-full-test-seed{seed}")
    fast.write_record(_full(_record(fast_row, 0, 0.9, 2.0)), tmp_path,
                      "fast-full-row8-seed0")
    quick = _record(fast_row, 9, 0.5, 1.0, split="test")  # a quick run: not read
    fast.write_record(quick, tmp_path, "fast-full-test-seed9")
    recs = fast.sweep_records()
    assert [(r.split, r.seed) for r in recs] == [("test", s) for s in range(4)] + [
        ("val", 0)]
    assert not fast.is_ready(recs) and "4 test runs" in fast.run_status(recs)
    table = fast.final_table(recs)
    assert "chapter 10 (the fast recipe)\n    pending | pending | pending" in table
    fast.write_record(_full(_record(fast_row, 4, 0.95, 3.5, 0.0, "test")), tmp_path,
                      "fast-full-test-seed4")
    recs = fast.sweep_records()
    assert fast.is_ready(recs)
    assert fast.run_status(recs).startswith("5 test runs of the fast recipe and 1 ")
    table = fast.final_table(recs)
    accs = np.array([0.94] * 4 + [0.95])
    ours = table[table.index("chapter 10 (the fast recipe)"):]
    # level 2 (the fast recipe's TTA): acc + 0.02 in `_record`
    assert f"1 x GPU NVIDIA H100 | {accs.mean() + 0.02:.2%} | 2.50 s" in ours
    assert f"{accs.mean():.2%} without TTA" in ours
    assert f"(std {np.std(accs + 0.02, ddof=1):.2%})" in ours and "(20 s)" in ours
    # every published row, in order: the seed's, chapter 9, the later ones, this one
    whos = [p["who"] for p in report.PUBLISHED]
    at = [table.index(w) for w in whos]
    assert at == sorted(at) and table.index("chapter 9") < table.index(whos[2])
    assert max(map(len, table.splitlines())) <= 88 + len("https://github.com/")


# ------------------------------------------------------------------ the loop (JAX only)

_RUN = textwrap.dedent("""
    import json, sys
    import numpy as np
    from fenwicks_lite import fast
    from fenwicks_lite import data as fw_data
    (xtr, ytr), (xte, yte) = fw_data.synthetic_cifar10(192, 64, seed=1)
    ds = fw_data.Dataset(xtr, ytr, xte, yte, "synthetic")
    tiny = {**fast.FAST, "widths": (4, 8, 8), "batch_size": 32, "epochs": 2,
            "lookahead_start_epochs": 0.5, "whiten_bias_epochs": 1}
    no_la = {**tiny, "label_smoothing": 0.0, "lookahead": False}
    rows = [("a", tiny, "val"), ("b", no_la, "test")]
    recs = fast.train_runs(rows, [0, 1], ds, n_val=64, profile="quick",
                           scan=SCAN, precision=PRECISION, verbose=False)
    rows = [[r.row, r.split, r.seed, r.acc, r.acc_tta2, r.compile_s, r.train_s,
             r.n_train, r.n_eval, r.steps, r.lookahead_steps, r.precision]
            for r in recs]
    print(json.dumps(rows))
""")


# scan=True in bfloat16 is the path an H100/H200 takes (one compiled call per epoch,
# `accel.choose_precision`'s mixed_bfloat16), rehearsed here on the CPU
@pytest.mark.parametrize(("scan", "precision"),
                         [(False, "float32"), (True, "mixed_bfloat16")])
def test_train_runs_compiles_once_and_records(scan: bool, precision: str) -> None:
    env = {
        **os.environ,
        "KERAS_BACKEND": "jax",
        "PYTHONPATH": str(ROOT),
        "JAX_PLATFORMS": "cpu",
    }
    code = no_tensorflow.SOURCE + _RUN.replace("SCAN", str(scan)).replace(
        "PRECISION", repr(precision))
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    recs = json.loads(out.stdout.strip().splitlines()[-1])
    assert [(r[0], r[1], r[2]) for r in recs] == [
        ("a", "val", 0),
        ("a", "val", 1),
        ("b", "test", 0),
        ("b", "test", 1),
    ]
    compile_s = [r[5] for r in recs]
    assert compile_s[0] > 0 and compile_s[1:] == [0, 0, 0]  # one compile, four runs
    assert [r[7] for r in recs] == [128, 128, 192, 192]  # train images per split
    assert [r[8] for r in recs] == [64, 64, 64, 64]
    assert recs[0][9] == 2 * (128 // 32)
    # lookahead ran in the loop: from step 3 (epoch 0.5 of 4 steps) to step 8, every
    # step (a run of 8 steps); never in the row without it
    assert [r[10] for r in recs] == [6, 6, 0, 0]
    assert all(0 <= r[3] <= 1 and 0 <= r[4] <= 1 and r[6] > 0 for r in recs)
    assert {r[11] for r in recs} == {precision}


_RESUME = textwrap.dedent("""
    import sys
    from fenwicks_lite import fast
    from fenwicks_lite import data as fw_data
    (xtr, ytr), (xte, yte) = fw_data.synthetic_cifar10(128, 64, seed=1)
    # labels shaped (N, 1), as keras's load_data gives them: fit_fast flattens them
    ds = fw_data.Dataset(xtr, ytr[:, None], xte, yte[:, None], "synthetic")
    tiny = {**fast.FAST, "widths": (4, 8, 8), "batch_size": 32, "epochs": 2}
    wd = sys.argv[1]  # pytest's tmp_path
    kw = dict(data=ds, work_dir=wd, verbose=False, recipe=tiny, profile="quick")
    a = fast.fit_fast(seed=3, **kw)
    try:
        fast.fit_fast(seed=3, **kw)
        sys.exit("a second run into the same work_dir must refuse")
    except FileExistsError as e:
        assert "resume" in str(e)
    try:
        fast.fit_fast(seed=4, resume=True, **kw)
        sys.exit("resuming another seed's checkpoint must refuse")
    except ValueError as e:
        assert "another run" in str(e)
    b = fast.fit_fast(seed=3, resume=True, **kw)
    assert b.resumed_from_epoch == 2 and a.resumed_from_epoch == 0
    # one compile in the process: later calls reuse the compiled program
    assert a.timings["compile_s"] > 0 and b.timings["compile_s"] == 0
    assert b.test_pred == a.test_pred and b.test_acc == a.test_acc
    assert len(a.test_true) == 64 and a.epochs == 2 and a.history == b.history
    assert "with flip + translate TTA)" in a.summary(), a.summary()  # tta_level 2
    table = fast.live_table(a, []).splitlines()  # chapter 10's "Run it yourself"
    assert table[-1].startswith("here (quick)") and f"{a.test_acc:8.2%}" in table[-1]
    assert "pending: the GPU sweep" in table[2]
    print("ok", a.test_acc, a.test_acc_tta)
""")


def test_fit_fast_writes_a_result_checkpoints_and_resumes(tmp_path: Path) -> None:
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(ROOT),
           "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", no_tensorflow.SOURCE + _RESUME, str(tmp_path)],
                         capture_output=True, text=True, env=env, timeout=900, cwd=ROOT)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr[-3000:] + out.stdout
    assert [p.name for p in tmp_path.iterdir()] == [checkpoint.CHECKPOINT_FILE]


def test_fit_fast_checks_its_data_before_any_work() -> None:
    from fenwicks_lite import data as fw_data

    (xtr, ytr), (xte, yte) = fw_data.synthetic_cifar10(64, 32, seed=1)
    nchw = fw_data.Dataset(xtr.transpose(0, 3, 1, 2), ytr, xte, yte, "synthetic")
    with pytest.raises(ValueError, match=r"x_train must be images shaped .*"
                                         r"x.transpose\(0, 2, 3, 1\)"):
        fast.fit_fast("quick", data=nchw, verbose=False)
    with pytest.raises(TypeError, match="must be a fw.data.Dataset"):
        fast.fit_fast("quick", data=(xtr, ytr), verbose=False)


_CLI_RESUME = textwrap.dedent("""
    import sys
    from pathlib import Path
    import pytest
    from fenwicks_lite import cli, fast, records
    out = Path(sys.argv[1])
    recipe = fast._jsonable(fast.scale_recipe(fast.FAST, "quick"))

    def record(**change):
        r = records.Result(
            profile="quick", seed=0, test_acc=0.5, test_acc_tta=0.5, epochs=1,
            batch_size=256, steps_per_epoch=4, n_train=256, n_test=128, dataset="d",
            timings={"train_s": 1.0, "compile_s": 1.0, "total_s": 2.0}, history=[],
            backend="jax", precision="float32", hardware={"device": "cpu"},
            versions={}, git_commit=None,
            config={"recipe": "fast", **recipe, **change, "steps": 4},
            resumed_from_epoch=0, test_true=[1], test_pred=[1], test_conf=[0.5],
            started="s", finished="f")
        records.write_result(r, out, "quick-fast-seed0")

    args = ["--recipe", "fast", "--profile", "quick", "--out", str(out), "--resume",
            "--quiet"]
    record(label_smoothing=0.0)
    with pytest.raises(SystemExit, match=r"quick-fast-seed0.json was trained with "
                                         r"other settings \\(label_smoothing: 0.0 "
                                         r"there vs .* now\\): use another --out"):
        cli.main(args)
    (out / "quick-fast-seed0.json").unlink()
    record()  # this recipe: skipped, nothing trains, the summary is written
    assert cli.main(args) == 0
    assert (out / "quick-fast-summary.json").is_file()
    print("ok")
""")


def test_cli_recipe_fast_resume_skips_only_a_seed_of_this_recipe(tmp_path: Path) -> None:
    """--recipe fast --resume skips a finished seed only if its record has this
    recipe (as for the seed's recipe): else the summary would mix recipes."""
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(ROOT),
           "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", no_tensorflow.SOURCE + _CLI_RESUME,
                          str(tmp_path)],
                         capture_output=True, text=True, env=env, timeout=300, cwd=ROOT)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr[-3000:] + out.stdout


def test_cli_recipe_fast_refuses_overrides(tmp_path: Path) -> None:
    from fenwicks_lite import cli

    with pytest.raises(SystemExit, match="no recipe overrides"):
        cli.main(["--recipe", "fast", "--profile", "quick", "--epochs", "3",
                  "--out", str(tmp_path)])
    assert not list(tmp_path.glob("*.json"))


def test_train_runs_needs_jax() -> None:
    if keras.backend.backend() == "jax":
        pytest.skip("the error is for other backends")
    with pytest.raises(RuntimeError, match="KERAS_BACKEND=jax"):
        fast.train_runs([], [0], None)


def test_live_run_needs_an_accelerator_or_the_opt_in_and_jax() -> None:
    from fenwicks_lite import report
    from fenwicks_lite.accel import DeviceInfo

    cpu, gpu = DeviceInfo("cpu", 1, "Test CPU (2 cores)"), DeviceInfo("gpu", 1, "T4")
    assert fast.live_plan(gpu, env={}, backend="jax")[0]
    go, why = fast.live_plan(gpu, env={}, backend="tensorflow")
    assert not go and "%env KERAS_BACKEND=jax" in why and "Restart session" in why
    go, why = fast.live_plan(cpu, env={}, backend="jax")
    assert not go and "full run is impractical on a CPU" in why
    assert fast.live_plan(cpu, env={report.LIVE_SEED_ENV_VAR: "1"}, backend="jax")[0]


def test_live_table_sets_a_live_run_beside_the_committed_ones() -> None:
    import types

    fast_row = fast.ABLATION[-1][0]
    recs = [_full(_record(fast_row, s, 0.94 + 0.002 * s, 2.5 + s, split="test"))
            for s in range(3)] + [_full(_record(fast_row, 0, 0.5, 1.0))]  # val: no
    live = types.SimpleNamespace(profile="full", hardware={"device": "1 x TPU v5 lite"},
                                 precision="mixed_bfloat16", test_acc=0.9412,
                                 test_acc_tta=0.9455, timings={"train_s": 4.25})
    rows = fast.live_table(live, recs).splitlines()
    assert [r.split("|")[0].strip() for r in rows[2:6]] == [
        "committed 0", "committed 1", "committed 2", "committed mean"]
    assert [c.strip() for c in rows[2].split("|")[1:3]] == [
        "1 x GPU NVIDIA H100", "mixed_bfloat16"]
    mean = [c.strip() for c in rows[5].split("|")]
    assert mean[1] == "3 seeds" and mean[3] == "94.20%"
    assert mean[4] == "96.20%" and mean[5] == "3.50"  # acc_tta2: +0.02 in `_record`
    assert rows[-1].split("|")[0].strip() == "this runtime"
    assert [c.strip() for c in rows[-1].split("|")[1:]] == [
        "1 x TPU v5 lite", "mixed_bfloat16", "94.12%", "94.55%", "4.25"]
    assert max(map(len, rows)) <= 88


# ---------------------------- chapter 10's committed outputs against its records

CHAPTER10 = ROOT / "book" / "10_beyond_the_seed.ipynb"


def _chapter10() -> dict:
    import nbformat

    return nbformat.read(CHAPTER10, as_version=4)


def chapter10_problems(nb, records, finale) -> list[str]:
    """Every way chapter 10's record-driven outputs differ from their recomputation
    from the committed JSON; while the sweep is pending, any accuracy figure that is not
    a published source's (or the 94% target)."""
    from fenwicks_lite import report

    expected = {
        "c10a0005": fast.run_status(records),
        "c10a000a": fast.ablation_text(records),
        "c10a000c": fast.final_table(records, finale),
    }
    cells = {c.get("id"): c for c in nb["cells"] if c["cell_type"] == "code"}
    device, backend = committed_runtime(nb)
    if device is not None:  # executed on a CPU: the live run says why it did not train
        expected["c10a000e"] = fast.live_plan(device, env={}, backend=backend)[1]
    problems = [f"cell {k} is missing" for k in expected if k not in cells]
    for k, want in expected.items():
        if k in cells and printed(cells[k]) != want:
            problems.append(f"cell {k} prints {printed(cells[k])[:200]!r}, the "
                            f"records give {want[:200]!r}")
    if not fast.is_ready(records):
        sourced = {p["acc"] for p in report.PUBLISHED} | {"94%"}
        if report.is_ready(finale):  # chapter 9's mean, in the final table
            sourced.add(report.finale_row(finale)["acc"])
        for cell in cells.values():
            for figure in re.findall(r"\d+(?:\.\d+)?%", printed(cell)):
                if figure not in sourced:
                    problems.append(f"pending, yet cell {cell.get('id')} shows {figure}")
    return problems


def test_chapter10_prints_exactly_what_its_committed_records_give() -> None:
    from fenwicks_lite import report

    nb = _chapter10()
    problems = chapter10_problems(nb, fast.sweep_records(), report.full_run())
    assert not problems, ("re-execute chapter 10 in the full profile (`python -m "
                          "fwbook.notebooks execute --profile full "
                          "book/10_beyond_the_seed.ipynb`):\n" + "\n".join(problems))
    env = printed([c for c in nb["cells"] if c["cell_type"] == "code"][1])
    assert "profile: full | data: CIFAR-10 (full)" in env


def test_chapter10_output_check_catches_a_changed_number() -> None:
    from fenwicks_lite import report

    nb = _chapter10()
    recs, finale = fast.sweep_records(), report.full_run()
    cell = next(c for c in nb["cells"] if c.get("id") == "c10a000c")
    cell["outputs"] = [{"output_type": "stream", "name": "stdout",
                        "text": fast.final_table(recs, finale).replace(
                            "94.08%", "94.18%") + "\n"}]
    assert any("c10a000c" in p for p in chapter10_problems(nb, recs, finale))
    other = next(c for c in nb["cells"] if c.get("id") == "9c94513c")
    other["outputs"] = [{"output_type": "stream", "name": "stdout",
                         "text": "accuracy 93.7%\n"}]
    if not fast.is_ready(recs):
        assert any("93.7%" in p for p in chapter10_problems(nb, recs, finale))


def test_the_chapter_names_the_sweep_its_gpu_command_runs():
    """Chapter 10 shows `SWEEP_COMMAND`; book/scripts/gpu_fast.sh runs the sweep: the
    same seeds and time budget."""
    script = (ROOT / "book" / "scripts" / "gpu_fast.sh").read_text()
    (seeds,) = re.findall(r'--seeds "\$\{SEEDS:-(\d+)\}"', script)
    (budget,) = re.findall(r'--budget-s "\$\{BUDGET_S:-(\d+)\}"', script)
    assert f"--seeds {seeds} --budget-s {budget} " in fast.SWEEP_COMMAND


def test_fast_cli_bad_arguments_are_one_line_usage_errors(tmp_path: Path, capsys) -> None:
    """An unknown profile was a full traceback; a missing --records folder was read as
    'no validation runs among the records'."""
    with pytest.raises(SystemExit) as e:
        fast.main(["sweep", "--profile", "medium", "--out", str(tmp_path)])
    assert e.value.code == 2
    assert "Unknown profile 'medium': choose one of ['full', 'quick']" in (
        capsys.readouterr().err
    )
    missing = tmp_path / "nothing"
    with pytest.raises(SystemExit) as e:
        fast.main(["compare", "--profile", "quick", "--records", str(missing)])
    assert e.value.code == 2
    assert f"--records {missing}: no such folder" in capsys.readouterr().err
