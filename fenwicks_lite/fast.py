"""Beyond the seed: the published speed-run tricks, one function each (Chapter 10).

The seed's recipe (Page's DavidNet, 24 epochs, chapter 9) is where this chapter starts.
Since 2019 public CIFAR-10 speed runs cut the time to 94% by an order of magnitude:
Page's own later posts (https://myrtle.ai/learn/how-to-train-your-resnet/), tysam-code's
hlb-CIFAR10 (https://github.com/tysam-code/hlb-CIFAR10) and Keller Jordan's airbench
(paper "94% on CIFAR-10 in 3.29 seconds on a single GPU", 2024,
https://arxiv.org/abs/2404.00498; code
https://github.com/KellerJordan/cifar10-airbench). This module writes their ideas afresh
for Keras 3:

* `patch_whitening_kernel`: a first 2x2 convolution whose filters whiten image patches;
* `PartialIdentity`: convolutions that start as identity on their first channels;
* `airbench_net`: the leaner network (widths 64/256/256, GELU, BatchNorm without scale);
* `label_smoothing_loss`, `ema_update` / `lookahead_plan` / `lookahead_step`,
  `tta_logits`, `nesterov_sgd`, `triangle_schedule`, `run_length` (steps per epoch and
  in all), `alternating_flip`, `train_augment` (chapter 4's `fw.transform` functions
  with runtime sizes);
* `FAST`, the recipe as one commented table, and `SEED`, the seed's recipe in the same
  keys;
* `validation_split` / `split_data`: 5,000 training images held out for every choice
  (the test set is touched only for the final table);
* `run_status` and `final_table`: what the chapter shows from the committed records
  (pending until the GPU sweep), beside the published figures of `fw.report.PUBLISHED`;
* `train_runs`: a JAX training loop (Keras's stateless APIs, `lax.scan` over an epoch on
  a GPU, the data resident on the device) that compiles once per network shape and runs
  every seed of a row, or every row of the same shape, through the same executable;
* `main`: ``python -m fenwicks_lite.fast sweep`` (the whole GPU ablation as one command)
  and ``python -m fenwicks_lite.fast compare`` (the fast and the seed recipe side
  by side).

Importing this module imports neither TensorFlow nor JAX.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fenwicks_lite.records import tta_label

# -------------------------------------------------------------------------- the recipes

#: The fast recipe, airbench94's settings (KellerJordan/cifar10-airbench, airbench94.py,
#: commit 01a2367, its `hyp` dict), in this library's conventions: a MEAN loss over the
#: batch, so airbench's per-example learning rate is multiplied by the batch size here.
FAST: dict[str, Any] = {
    "net": "airbench",  # airbench94.py make_net: 2x2 whitening conv, 3 conv groups
    "widths": (64, 256, 256),  # airbench94.py: base_width 64, blocks 1x, 4x, 4x
    "whiten": True,  # airbench94.py init_whitening_conv: kernel from patches, frozen
    "whiten_eps": 5e-4,  # airbench94.py init_whitening_conv(eps=5e-4)
    "whiten_bias_epochs": 3,  # airbench94.py: its bias trains 3 epochs, then frozen
    # airbench94.py batchnorm_momentum 0.6: Keras's convention (PyTorch's momentum 0.4)
    "bn_momentum": 0.6,
    "bn_eps": 1e-12,  # airbench94.py BatchNorm eps=1e-12
    "logit_scale": 1 / 9,  # airbench94.py scaling_factor 1/9 (DavidNet: 0.125)
    "batch_size": 1024,  # airbench94.py batch_size 1024 (the seed: 512)
    "epochs": 9.9,  # airbench94.py train_epochs 9.9 (the seed: 24)
    # airbench94.py: lr 11.5 per 1024 examples / (1024 * (1 + 1/(1 - 0.85))), SUM loss;
    # x 1024 for a MEAN loss: 11.5 / 7.667 = 1.5
    "lr": 11.5 / (1 + 1 / (1 - 0.85)),
    "momentum": 0.85,  # airbench94.py momentum 0.85, Nesterov
    # airbench94.py: decay per step 0.0153 * 1024 / kilostep_scale = lr * l2, so
    # l2 = 0.0153 / 11.5 (weight_decay 0.0153 per 1024 examples)
    "l2": 0.0153 / 11.5,
    "bias_scaler": 64.0,  # airbench94.py bias_scaler 64: BatchNorm biases, 64x the lr
    # airbench94.py triangle(start=0.2, peak=0.23, end=0.07): lr/peak at step 0, where
    # the peak is (as a fraction of the steps), and at the end
    "schedule": (0.2, 0.23, 0.07),
    "label_smoothing": 0.2,  # airbench94.py label_smoothing 0.2
    "lookahead": True,  # airbench94.py LookaheadState
    "lookahead_start_epochs": 3,  # airbench94.py ema start_epochs 3
    # airbench94.py ema every_n_steps 5, of its 476 steps: `lookahead_period` keeps
    # that fraction of the run, so that a short (quick-profile) run averages too
    "lookahead_every": 5,
    "lookahead_base": 0.95,  # airbench94.py ema decay_base 0.95
    "lookahead_pow": 3.0,  # airbench94.py ema decay_pow 3
    "translate": 2,  # airbench94.py aug translate 2 (reflect padding)
    "cutout": 0,  # airbench94.py: no cutout (the seed: 8)
    "alternating_flip": True,  # airbench94.py CifarLoader: all flipped on odd epochs
    "tta_level": 2,  # airbench94.py tta_level 2: mirror + 1-pixel translations
}

#: The seed's recipe (chapter 9, `fw.profiles.FULL`) in the same keys: DavidNet, Page's
#: triangular learning rate (0 -> 0.4 at epoch 5 -> 0 at 24), Nesterov 0.9, L2 5e-4,
#: pad-4 crop, random flip, cutout 8, flip TTA
#: (https://myrtle.ai/learn/how-to-train-your-resnet/).
SEED: dict[str, Any] = {
    "net": "davidnet",
    "widths": (64,),
    "whiten": False,
    "whiten_eps": 5e-4,
    "whiten_bias_epochs": 0,
    "bn_momentum": 0.9,
    "bn_eps": 1e-5,
    "logit_scale": 0.125,
    "batch_size": 512,
    "epochs": 24,
    "lr": 0.4,
    "momentum": 0.9,
    "l2": 5e-4,
    "bias_scaler": 1.0,
    "schedule": (0.0, 5 / 24, 0.0),
    "label_smoothing": 0.0,
    "lookahead": False,
    "lookahead_start_epochs": 0,
    "lookahead_every": 5,
    "lookahead_base": 0.95,
    "lookahead_pow": 3.0,
    "translate": 4,
    "cutout": 8,
    "alternating_flip": False,
    "tta_level": 1,
}

#: The cumulative ablation: the seed's recipe, then one published idea after another,
#: ending at `FAST`. Rows of the same network shape and batch size share one compiled
#: executable.
ABLATION: tuple[tuple[str, dict[str, Any]], ...] = (
    ("seed recipe (chapter 9)", {}),
    (
        "+ batch 1024, 9.9 epochs, airbench's optimizer",
        {
            k: FAST[k]
            for k in (
                "batch_size",
                "epochs",
                "lr",
                "momentum",
                "l2",
                "bias_scaler",
                "schedule",
            )
        },
    ),
    (
        "+ leaner network (widths, GELU, BN settings)",
        {k: FAST[k] for k in ("net", "widths", "bn_momentum", "bn_eps", "logit_scale")},
    ),
    (
        "+ patch-whitening first conv",
        {k: FAST[k] for k in ("whiten", "whiten_bias_epochs")},
    ),
    ("+ label smoothing 0.2", {"label_smoothing": FAST["label_smoothing"]}),
    (
        "+ lookahead (weight averaging)",
        {"lookahead": True, "lookahead_start_epochs": 3},
    ),
    (
        "+ translate-2, alternating flip, no cutout (= fast)",
        {k: FAST[k] for k in ("translate", "cutout", "alternating_flip", "tta_level")},
    ),
)

#: the validation images held out of the training set in the quick profile (`sweep`:
#: at most a fifth of the training images). Its recipes (`scale_recipe`) scale every
#: length in epochs by quick/full seed epochs (2/24), widths by quick/full width
#: (16/64), batch sizes by quick/full batch (128/512). It checks that everything runs,
#: in seconds on a CPU; its accuracies mean nothing.
QUICK_VAL = 500
#: the validation images held out of the training set in the full profile.
FULL_VAL = 5_000


def recipe_source() -> str:
    """The source lines of `FAST` with their comments (the evidence for each number),
    for chapter 10 to print: a dict has no source of its own for `inspect`."""
    text = Path(__file__).read_text(encoding="utf-8")
    start = text.index("#: The fast recipe")
    return text[start : text.index("\n}\n", start) + 2]


def ablation_recipes() -> list[tuple[str, dict[str, Any]]]:
    """The rows of `ABLATION` as full recipes (each row adds its changes to the one
    before): what Chapter 10, "The ablation, on a GPU" trains."""
    rows, current = [], dict(SEED)
    for name, change in ABLATION:
        current = {**current, **change}
        rows.append((name, dict(current)))
    if rows[-1][1] != FAST:
        raise AssertionError("the last ablation row must be the fast recipe")
    return rows


def scale_recipe(recipe: dict[str, Any], profile: str) -> dict[str, Any]:
    """`recipe` for `profile` ("full": unchanged; "quick": every length in epochs times
    2/24, widths times 16/64 (at least 4), batch sizes times 128/512 (at least 8), the
    quick profile's own ratios). Chapter 10, "Idea 5: averaging recent weights" uses it
    to show the quick profile's run length; the sweep and Chapter 10, "Try it here
    (quick profile)" train the scaled recipes."""
    from fenwicks_lite.profiles import FULL, get_profile

    p = get_profile(profile)
    if p.name == "full":
        return dict(recipe)
    e, w, b = (
        p.epochs / FULL.epochs,
        p.width / FULL.width,
        p.batch_size / FULL.batch_size,
    )
    out = dict(recipe)
    out["widths"] = tuple(max(4, round(c * w)) for c in recipe["widths"])
    out["batch_size"] = max(8, round(recipe["batch_size"] * b))
    for key in ("epochs", "whiten_bias_epochs", "lookahead_start_epochs"):
        out[key] = recipe[key] * e
    return out


# ----------------------------------------------------------------- the validation split


def validation_split(
    n: int, n_val: int = FULL_VAL, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``(train_idx, val_idx)``: `n_val` of the `n` training images held out, sorted
    indices.

    The same `n`, `n_val` and `seed` always give the same split. Every choice of this
    chapter is made on the held-out images; the test set is used once, for the final
    table: Chapter 10, "A validation split".
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(
            f"n must be the number of training images (an integer >= 2), got {n!r}."
        )
    if (
        isinstance(n_val, bool)
        or not isinstance(n_val, (int, np.integer))
        or not 0 < n_val < n
    ):
        raise ValueError(
            f"n_val must be an integer in [1, n - 1] = [1, {n - 1}], got {n_val!r}: "
            f"hold out fewer images (the quick profile uses {QUICK_VAL})."
        )
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[n_val:]).astype(np.int32), np.sort(perm[:n_val]).astype(
        np.int32
    )


# --------------------------------------------------------------------------- the tricks


def image_patches(images: np.ndarray, k: int) -> np.ndarray:
    """Every k x k patch of NHWC `images` as a row, in the order a Keras kernel (k, k,
    c) has. Chapter 10, "Idea 3: whitening the first layer" checks the whitening on
    them."""
    x = np.asarray(images, np.float64)
    if x.ndim != 4 or x.shape[1] < k or x.shape[2] < k:
        raise ValueError(
            f"images must be (n, h, w, c) with h, w >= k={k}, got {x.shape}."
        )
    win = np.lib.stride_tricks.sliding_window_view(
        x, (k, k), axis=(1, 2)
    )  # n,h',w',c,k,k
    return win.transpose(0, 1, 2, 4, 5, 3).reshape(-1, k * k * x.shape[3])


def patch_whitening_kernel(
    images: np.ndarray, k: int = 2, eps: float = 5e-4
) -> np.ndarray:
    """A (k, k, c, 2 k k c) conv kernel whose first half whitens the k x k patches of
    `images` (Chapter 10, "Idea 3: whitening the first layer").

    `images` are normalized NHWC floats (airbench: 5,000 training images). With the
    patches' second-moment matrix ``C = V diag(lam) V^T``, filter i is ``v_i /
    sqrt(lam_i + eps)`` (largest eigenvalue first), so the filter outputs have second
    moments ``lam / (lam + eps)``: the identity for eps = 0. The second half is the
    negated first half, so that the GELU after it keeps both signs. airbench94.py,
    init_whitening_conv (Jordan 2024).
    """
    if eps < 0:
        raise ValueError(
            f"eps must be >= 0 (it damps the smallest eigenvalues), got {eps!r}."
        )
    p = image_patches(images, k)
    cov = p.T @ p / len(p)
    lam, vec = np.linalg.eigh(cov)
    lam, vec = lam[::-1], vec[:, ::-1]
    if eps == 0 and lam[-1] <= 0:
        raise ValueError(
            "the patches are degenerate (an eigenvalue is 0): use eps > 0."
        )
    filters = vec / np.sqrt(lam + eps)  # columns: one filter each, (k*k*c, k*k*c)
    c = np.shape(images)[3]
    kernel = filters.reshape(k, k, c, k * k * c)
    return np.concatenate([kernel, -kernel], axis=3).astype(np.float32)


def label_smoothing_loss(logits: Any, labels: Any, smoothing: Any = 0.0) -> Any:
    """Mean cross-entropy against smoothed targets ``(1 - s) onehot + s / K`` (K
    classes): Chapter 10, "Idea 4: label smoothing".

    Szegedy et al. 2016 (https://arxiv.org/abs/1512.00567); airbench uses s = 0.2.
    `labels` are integer classes; `smoothing` may be a traced scalar. Any Keras backend.
    """
    from keras import ops

    logits = ops.cast(logits, "float32")
    k = logits.shape[-1]
    logp = ops.log_softmax(logits, axis=-1)
    onehot = ops.one_hot(ops.cast(labels, "int32"), k, dtype="float32")
    s = ops.cast(smoothing, "float32")
    target = (1.0 - s) * onehot + s / k
    return -ops.mean(ops.sum(target * logp, axis=-1))


def ema_update(average: Sequence[Any], new: Sequence[Any], decay: Any) -> list[Any]:
    """``decay * average + (1 - decay) * new`` for each pair of arrays (NumPy or
    backend): Chapter 10, "Idea 5: averaging recent weights"."""
    if len(average) != len(new):
        raise ValueError(
            f"average and new must hold as many arrays ({len(average)} vs {len(new)})."
        )
    return [a * decay + n * (1 - decay) for a, n in zip(average, new, strict=True)]


#: airbench94's run length in steps, ceil(9.9 epochs x (50,000 // 1024) batches): its
#: `every_n_steps` 5 is 5 steps of these 476
LOOKAHEAD_REF_STEPS = 476


def lookahead_period(every: int, total_steps: int) -> int:
    """Steps between averaging steps: `every` steps of airbench's 476, as the same
    fraction of a run of `total_steps`, rounded up (at least 1). Chapter 10, Idea 5.

    airbench's full run and this book's (476 steps; 426 on the 45,000 training images of
    the validation split) keep its 5; a quick-profile run of 6 steps averages every
    step, so that the CPU tests and the rehearsal exercise the average.
    """
    if every < 1 or total_steps < 1:
        raise ValueError(
            f"every and total_steps must be >= 1 step, got {every!r}, {total_steps!r}."
        )
    return max(1, math.ceil(every * total_steps / LOOKAHEAD_REF_STEPS))


def lookahead_plan(
    steps_per_epoch: int,
    total_steps: int,
    start_epochs: float,
    every: int = 5,
    base: float = 0.95,
    power: float = 3.0,
) -> np.ndarray:
    """Per step (1-based, as counted after the step), the averaging decay, or -1 for
    none (Chapter 10, Idea 5).

    airbench94.py's Lookahead: from epoch `start_epochs` on, every
    ``k = lookahead_period(every, total_steps)`` steps the average moves towards the
    weights with decay ``base**k * (step / total)**power`` and the weights are set to
    the average (the first such step only starts the average); `lookahead_step` does
    one step. At every epoch's end the weights are set to the average again.
    """
    k = lookahead_period(every, total_steps)
    step = np.arange(1, total_steps + 1)
    epoch = (step - 1) / steps_per_epoch  # fractional: the quick profile's short runs
    do = (epoch >= start_epochs) & (step % k == 0)
    rho = base**k * (step / total_steps) ** power
    return np.where(do, rho, -1.0).astype(np.float32)


def lookahead_step(
    weights: Sequence[Any],
    average: Sequence[Any],
    count: Any,
    rho: Any,
    sync: Any = False,
) -> tuple[list[Any], list[Any], Any]:
    """One step of airbench94.py's `LookaheadState`, after the optimizer's step:
    ``(weights, average, count)`` (Chapter 10, Idea 5).

    `rho` < 0: no averaging this step. The first averaging step (`count` 0) starts the
    average as a copy of the weights; each later one moves it, ``average = rho *
    average + (1 - rho) * weights`` (`ema_update`), and sets the weights to it: they
    move towards the slow copy by the fraction `rho`. `sync` (an epoch's end) sets the
    weights to a started average. `count` counts the averaging steps. Traceable: the
    branches are `where`s (NumPy or any Keras backend).
    """
    from keras import ops

    do = rho >= 0
    first = ops.logical_and(do, count == 0)
    later = ops.logical_and(do, count > 0)
    moved = ema_update(average, weights, rho)
    new_avg = [
        ops.where(first, w, ops.where(later, m, a))
        for w, m, a in zip(weights, moved, average, strict=True)
    ]
    count = ops.where(do, count + 1, count)
    back = ops.logical_or(later, ops.logical_and(sync, count > 0))
    new_w = [ops.where(back, a, w) for a, w in zip(new_avg, weights, strict=True)]
    return new_w, new_avg, count


def triangle_schedule(
    total_steps: int, peak_lr: float, start: float, peak_at: float, end: float
) -> np.ndarray:
    """Learning rate per step: linear from ``start * peak`` to `peak_lr` at fraction
    `peak_at` of the steps, then linear to ``end * peak``. Page's (start = end = 0, peak
    at 5/24) and airbench's (0.2, 0.23, 0.07) schedules are both of this shape. The lr
    of step i is the value at i (0-based). Chapter 10, "Idea 1: a larger batch, fewer
    epochs, a different schedule"."""
    if total_steps < 1 or not 0 <= peak_at <= 1:
        raise ValueError(
            f"need total_steps >= 1 and 0 <= peak_at <= 1, got {total_steps}, "
            f"{peak_at}."
        )
    xp = [0, int(peak_at * total_steps), total_steps]
    return (peak_lr * np.interp(np.arange(total_steps), xp, [start, 1.0, end])).astype(
        np.float32
    )


def nesterov_sgd(
    params: Sequence[Any],
    bufs: Sequence[Any],
    grads: Sequence[Any],
    lrs: Sequence[Any],
    l2s: Sequence[Any],
    momentum: Any,
) -> tuple[list[Any], list[Any]]:
    """One step of PyTorch's SGD (Nesterov, coupled L2), one lr and L2 per array.

    The same update as `fw.train.NesterovSGD` (chapter 7), written as a function so that
    airbench's parameter groups fit: BatchNorm biases take ``bias_scaler * lr`` and
    ``l2 / bias_scaler``, so that their decay per step stays ``lr * l2``.
    """
    new_p, new_b = [], []
    for p, b, g, lr, l2 in zip(params, bufs, grads, lrs, l2s, strict=True):
        g = g + l2 * p
        b = momentum * b + g
        new_p.append(p - lr * (g + momentum * b))
        new_b.append(b)
    return new_p, new_b


def alternating_flip(flip_bits: Any, epoch: Any) -> Any:
    """Which images to mirror in `epoch`: a fixed random half in even epochs, the other
    half in odd ones (airbench94.py, CifarLoader): every image is seen both ways every 2
    epochs. Chapter 10, "Idea 6: augmentation (translate, alternate the flip, no
    cutout)"."""
    from keras import ops

    return ops.logical_xor(ops.cast(flip_bits, "bool"), ops.cast(epoch % 2, "bool"))


def train_augment(
    images: Any, u: Any, flip: Any, translate: Any, cutout: Any
) -> Any:
    """Chapter 10's training augmentation, from one (n, 5) draw of uniforms `u`, with
    Chapter 4's functions (`fw.transform.crop_flip`, `cutout_at`, `hole_centres`):
    translate by up to `translate` pixels (reflect padding), mirror where `flip`
    (None: where ``u[:, 2] < 0.5``, as `fw.transform.augment_from_uniforms`), then a
    `cutout` x `cutout` hole (0: none). Columns of `u` as in `augment_from_uniforms`.

    `translate` and `cutout` may be traced integers: the rows of the ablation that share
    a network shape change them without a recompilation. airbench pads, flips and then
    crops; `crop_flip` crops and then flips: the same distribution, as offset ``dx``
    of the one is offset ``2 translate - dx`` of the other (tests/test_fast.py).
    """
    from keras import ops

    from fenwicks_lite import transform

    t = ops.cast(translate, "int32")
    c = ops.cast(cutout, "int32")
    h, w = images.shape[1], images.shape[2]
    # a float count of offsets: an int tensor would turn `u * k` into an int product
    k = ops.cast(2 * t + 1, "float32")
    dy = ops.cast(transform.randint_from_uniform(u[:, 0], k), "int32")
    dx = ops.cast(transform.randint_from_uniform(u[:, 1], k), "int32")
    coin = u[:, 2] < 0.5 if flip is None else ops.cast(flip, "bool")
    out = transform.crop_flip(images, dy, dx, coin, t)
    cy = transform.hole_centres(u[:, 3], c, h)  # wholly inside, as the seed's
    cx = transform.hole_centres(u[:, 4], c, w)
    return transform.cutout_at(out, cy, cx, c, c)


def _reflect_pad1(x: Any) -> Any:
    from keras import ops

    x = ops.concatenate([x[:, 1:2], x, x[:, -2:-1]], axis=1)
    return ops.concatenate([x[:, :, 1:2], x, x[:, :, -2:-1]], axis=2)


# `tta_label` (from records, with its table `TTA_LABELS`) says what each level of
# `tta_logits` averages; `fw.fit.Result.summary` uses it too.


def tta_logits(fn: Callable[[Any], Any], x: Any, level: int = 2) -> Any:
    """Test-time augmentation as airbench94.py does it, averaging logits (Chapter 10).

    level 0: ``fn(x)``; 1: mean of `x` and its mirror image; 2: half of level 1 plus
    half of level 1 applied to the two 1-pixel diagonal translations (reflect padding).
    `x` is an NHWC batch; `fn` maps it to logits.
    """
    from keras import ops

    if level not in (0, 1, 2):
        raise ValueError(
            f"level must be 0 (none), 1 (mirror) or 2 (mirror + translate), "
            f"got {level!r}."
        )
    if level == 0:
        return fn(x)

    def mirror(z: Any) -> Any:
        return 0.5 * fn(z) + 0.5 * fn(ops.flip(z, axis=2))

    out = mirror(x)
    if level == 1:
        return out
    h, w = x.shape[1], x.shape[2]
    padded = _reflect_pad1(x)
    shifted = [padded[:, :h, :w], padded[:, 2 : h + 2, 2 : w + 2]]
    return 0.5 * out + 0.25 * (mirror(shifted[0]) + mirror(shifted[1]))


# -------------------------------------------------------------------------- the network


def _keras() -> Any:
    import keras

    return keras


def partial_identity(base: Any = None) -> Any:
    """An initializer for (k, k, c_in, c_out) kernels: `base`'s values, except that
    output channel i < c_in is the identity on input channel i (airbench94.py's
    `dirac_`): each conv starts as a partial residual connection.

    Chapter 10, "Idea 2: a leaner network".
    """
    from fenwicks_lite.layers import PyTorchUniform

    return PartialIdentity(base or PyTorchUniform())


def _register(cls: Any) -> Any:
    return _keras().saving.register_keras_serializable(package="fenwicks_lite")(cls)


class PartialIdentity:
    """See `partial_identity`; a Keras initializer (callable on shape and dtype).

    Chapter 10, "Idea 2: a leaner network" (`airbench_net`'s convolutions).
    """

    def __init__(self, base: Any) -> None:
        self.base = base

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> Any:
        from keras import ops

        kh, kw, cin, cout = shape
        w = self.base(shape, dtype=dtype)
        keep = np.ones(shape, np.float32)
        eye = np.zeros(shape, np.float32)
        m = min(cin, cout)
        keep[:, :, :, :m] = 0.0
        eye[kh // 2, kw // 2, np.arange(m), np.arange(m)] = 1.0
        return ops.cast(w * ops.convert_to_tensor(keep, w.dtype), w.dtype) + ops.cast(
            eye, w.dtype
        )


def airbench_net(
    widths: Sequence[int] = (64, 256, 256),
    whiten_k: int = 2,
    bn_momentum: float = 0.6,
    bn_eps: float = 1e-12,
    logit_scale: float = 1 / 9,
    n_classes: int = 10,
) -> Any:
    """Chapter 10's leaner network: airbench94.py's make_net, in Keras (channels last).

    A 2x2 'valid' conv with bias and 2 k k 3 = 24 channels (`patch_whitening_kernel`
    sets it), GELU, then three groups of conv 3x3 -> max-pool 2 -> BatchNorm -> GELU ->
    conv 3x3 -> BatchNorm -> GELU, a 3x3 max-pool, Dense without bias, logits x
    `logit_scale`. BatchNorm has no scale (airbench freezes it at 1) and a tiny epsilon;
    convs have no bias and start as partial identities (`partial_identity`).

    Keras's momentum m is PyTorch's 1 - m (airbench's 0.4 is 0.6 here). Keras's moving
    variance averages the *biased* batch variance (Keras 3.15,
    keras/src/layers/normalization/batch_normalization.py, ``moving_variance *
    momentum + variance * (1.0 - momentum)``, `variance` from `ops.moments`:
    ``jnp.var``, ddof 0); PyTorch's running_var, airbench's and Page's, the unbiased
    one. Over the n = batch x H x W values of a channel (1024 x 3 x 3 = 9,216 in the
    last group) they differ by the factor n / (n - 1), at most 1 + 1.1e-4: at test time
    a normalized value differs by at most 5.5e-5 of itself. Training normalizes with
    the biased batch variance in both libraries.
    """
    keras = _keras()
    from fenwicks_lite.layers import PyTorchUniform, Scaling

    if len(widths) != 3 or any(int(c) < 1 for c in widths):
        raise ValueError(f"widths must be 3 positive channel counts, got {widths!r}.")
    init = PyTorchUniform()
    layers: list[Any] = [
        keras.Input(shape=(32, 32, 3)),
        keras.layers.Conv2D(
            2 * whiten_k * whiten_k * 3,
            whiten_k,
            padding="valid",
            use_bias=True,
            kernel_initializer=init,
            name="whiten",
        ),
        keras.layers.Activation("gelu", name="whiten_gelu"),
    ]
    for g, c in enumerate(widths, start=1):
        for j in (1, 2):
            layers.append(
                keras.layers.Conv2D(
                    int(c),
                    3,
                    padding="same",
                    use_bias=False,
                    kernel_initializer=partial_identity(init),
                    name=f"group{g}_conv{j}",
                )
            )
            if j == 1:
                layers.append(keras.layers.MaxPooling2D(2, name=f"group{g}_pool"))
            layers.append(
                keras.layers.BatchNormalization(
                    momentum=bn_momentum,
                    epsilon=bn_eps,
                    scale=False,
                    name=f"group{g}_norm{j}",
                )
            )
            layers.append(keras.layers.Activation("gelu", name=f"group{g}_gelu{j}"))
    layers += [
        keras.layers.MaxPooling2D(3, name="pool"),
        keras.layers.Flatten(name="flatten"),
        keras.layers.Dense(
            n_classes, use_bias=False, kernel_initializer=init, name="head"
        ),
        Scaling(logit_scale, name="scale"),
    ]
    return keras.Sequential(layers, name="airbench")


def build_net(recipe: dict[str, Any]) -> Any:
    """The recipe's network: DavidNet (chapter 6) or `airbench_net`."""
    from fenwicks_lite import layers

    if recipe["net"] == "davidnet":
        return layers.davidnet(c=int(recipe["widths"][0]), weight=recipe["logit_scale"])
    if recipe["net"] == "airbench":
        return airbench_net(
            recipe["widths"],
            bn_momentum=recipe["bn_momentum"],
            bn_eps=recipe["bn_eps"],
            logit_scale=recipe["logit_scale"],
        )
    raise ValueError(f"net must be 'davidnet' or 'airbench', got {recipe['net']!r}.")


def shape_key(recipe: dict[str, Any]) -> tuple:
    """What fixes the compiled program: rows with the same key share one executable.

    A helper of `train_runs`: Chapter 10, "The ablation, on a GPU" compiles each
    network shape once.
    """
    keys = ("net", "widths", "batch_size")
    extra = ("bn_momentum", "bn_eps", "logit_scale")  # baked into the Keras layers
    return tuple(recipe[k] for k in keys + extra)


# ------------------------------------------------------------------------- the JAX loop

#: images per evaluation call
EVAL_BATCH = 500


@dataclasses.dataclass
class RunRecord:
    """One training run of `train_runs` (written as JSON by `write_record`): the
    records Chapter 10, "The records" reads."""

    row: str
    seed: int
    #: "val" (the held-out training images) or "test"
    split: str
    #: accuracy without TTA, with mirror TTA (level 1), with mirror + translate (level
    #: 2)
    acc: float
    acc_tta1: float
    acc_tta2: float
    #: seconds: compile_s (once per shape; the first run of a shape carries it, later
    #: runs 0), train_s (steps only, blocking at each epoch's end), eval_s
    compile_s: float
    train_s: float
    eval_s: float
    epochs: float
    steps: int
    n_train: int
    n_eval: int
    recipe: dict[str, Any]
    history: list[dict[str, Any]]
    backend: str
    precision: str
    hardware: dict[str, Any]
    versions: dict[str, str]
    git_commit: str | None
    profile: str
    started: str
    finished: str
    #: averaging steps the loop ran (`lookahead_step`'s count; 0 without lookahead)
    lookahead_steps: int = 0

    def acc_at(self, level: int) -> float:
        """The accuracy with TTA `level` (0, 1 or 2)."""
        tta_label(level)  # checks the level
        return (self.acc, self.acc_tta1, self.acc_tta2)[level]

    def summary(self) -> str:
        level = int(self.recipe.get("tta_level", 2))
        return (
            f"{self.row} | seed {self.seed} | {self.split} acc {self.acc:.2%}, "
            f"{self.acc_at(level):.2%} with {tta_label(level)} (the recipe's) | "
            f"train {self.train_s:.2f} s, compile {self.compile_s:.1f} s, "
            f"{self.lookahead_steps} averaging steps"
        )


def write_record(record: RunRecord, out_dir: str | os.PathLike, stem: str) -> Path:
    """Writes `record` as ``stem.json`` under `out_dir` (never overwriting:
    ``stem-1.json``). A helper of `sweep`: Chapter 10, "The records"."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(dataclasses.asdict(record), indent=1)
    for n in range(10_000):
        path = out / (f"{stem}.json" if n == 0 else f"{stem}-{n}.json")
        try:
            with open(path, "x", encoding="utf-8") as f:
                f.write(text)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(
        f"{out} holds 10,000 records named {stem}*: choose another folder."
    )


def load_records(folder: str | os.PathLike, pattern: str = "*.json") -> list[RunRecord]:
    """Every `RunRecord` JSON in `folder` matching `pattern` (other JSON files are
    skipped). A helper of `sweep_records`: Chapter 10, "The records"."""
    fields = dataclasses.fields(RunRecord)
    names = {f.name for f in fields}
    required = {f.name for f in fields if f.default is dataclasses.MISSING}
    out = []
    for p in sorted(Path(folder).glob(pattern)):
        d = json.loads(p.read_text(encoding="utf-8"))
        if isinstance(d, dict) and required <= set(d) <= names:
            out.append(RunRecord(**d))
    return out


#: every compiled network shape of this process (`train_runs` reuses them across calls)
_SHAPES: dict[tuple, Any] = {}


def _epoch_seed(seed: int, epoch: int) -> int:
    return (seed * 1_000_003 + epoch) % (2**31 - 1)


def run_length(recipe: dict[str, Any], n_train: int) -> tuple[int, int]:
    """``(steps per epoch, total steps)`` of a run of `recipe` on `n_train` images.

    Full batches only, and ``ceil(steps per epoch x epochs)`` steps in all, as
    airbench94.py counts them (``ceil(len(train_loader) * epochs)``): 48 and 476 for
    the fast recipe on 50,000 images, 97 and 2,328 for the seed's. Chapter 10, "Idea 1:
    a larger batch, fewer epochs, a different schedule" prints them.
    """
    bs = recipe["batch_size"]
    if n_train < bs:
        raise ValueError(
            f"batch size {bs} exceeds the {n_train} training images: use fewer "
            "images per batch or more images."
        )
    spe = n_train // bs
    return spe, math.ceil(spe * recipe["epochs"])


def _plan(
    recipe: dict[str, Any], n_train: int, max_steps: int
) -> dict[str, np.ndarray]:
    """Per-step schedules (host side): lr, lookahead decay, epoch-end sync,
    whitening-bias
    training, active (steps past the recipe's total, e.g. of epoch 9.9, are skipped)."""
    spe, total = run_length(recipe, n_train)
    n_epochs = math.ceil(total / spe)
    start, peak_at, end = recipe["schedule"]
    lr = triangle_schedule(total, recipe["lr"], start, peak_at, end)
    if recipe["lookahead"]:
        la = lookahead_plan(
            spe,
            total,
            recipe["lookahead_start_epochs"],
            recipe["lookahead_every"],
            recipe["lookahead_base"],
            recipe["lookahead_pow"],
        )
    else:
        la = np.full(total, -1.0, np.float32)
    rows = n_epochs * max_steps
    out = {k: np.zeros(rows, np.float32) for k in ("lr", "la", "sync", "wb", "active")}
    out["la"][:] = -1.0
    for e in range(n_epochs):
        lo, n = e * spe, min(spe, total - e * spe)
        r = slice(e * max_steps, e * max_steps + n)
        out["lr"][r], out["la"][r], out["active"][r] = (
            lr[lo : lo + n],
            la[lo : lo + n],
            1.0,
        )
        out["sync"][e * max_steps + n - 1] = 1.0
        out["wb"][r] = (
            1.0 if (not recipe["whiten"] or e < recipe["whiten_bias_epochs"]) else 0.0
        )
    return {
        "per_step": np.stack([out[k] for k in ("lr", "la", "sync", "wb", "active")], 1),
        "n_epochs": n_epochs,
        "spe": spe,
        "total": total,
    }


class _Shape:
    """One network shape, compiled once: its step (or scanned epoch) and its
    evaluation."""

    def __init__(
        self, recipe: dict[str, Any], x_all: Any, y_all: Any, max_steps: int, scan: bool
    ) -> None:
        import jax
        import jax.numpy as jnp

        self.recipe, self.max_steps, self.scan = recipe, max_steps, scan
        self.model = model = build_net(recipe)
        paths = [v.path for v in model.trainable_variables]
        # BatchNorm biases (airbench's bias_scaler) and the whitening conv, by the ends
        # of the variables' paths ("airbench/whiten/kernel")
        self.is_beta = np.array([p.endswith("/beta") for p in paths])
        self.whiten_kernel = [
            i for i, p in enumerate(paths) if p.endswith("whiten/kernel")
        ]
        self.whiten_bias = [i for i, p in enumerate(paths) if p.endswith("whiten/bias")]
        is_beta, wk, wbias = self.is_beta, self.whiten_kernel, self.whiten_bias

        def normalize(x, hyper):  # noqa: ANN001, ANN202
            return (x.astype(jnp.float32) - hyper["mean"]) / hyper["std"]

        def loss_fn(trainable, non_trainable, x, y, smoothing):  # noqa: ANN001, ANN202
            logits, non_trainable = model.stateless_call(
                trainable, non_trainable, x, training=True
            )
            loss = label_smoothing_loss(logits, y, smoothing)
            acc = jnp.mean((jnp.argmax(logits, 1) == y).astype(jnp.float32))
            return loss, (non_trainable, loss, acc)

        grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

        def train_step(  # noqa: ANN001, ANN202
            state, x_all, y_all, idx, sched, hyper, flip_bits, epoch, key
        ):
            lr, la, sync, wb, _ = sched[0], sched[1], sched[2], sched[3], sched[4]
            p, nt, bufs, ema_p, ema_nt, started = state
            x = normalize(x_all[idx], hyper)
            k_rand, k_aug = jax.random.split(key)
            coin_rand = jax.random.uniform(k_rand, (x.shape[0],)) < 0.5
            coin_alt = alternating_flip(flip_bits[idx], epoch)
            coin = jnp.where(hyper["alt_flip"] > 0, coin_alt, coin_rand)
            u = jax.random.uniform(k_aug, (x.shape[0], 5))
            x = train_augment(x, u, coin, hyper["translate"], hyper["cutout"])
            (_, (nt2, loss, acc)), grads = grad_fn(
                p, nt, x, y_all[idx], hyper["smoothing"]
            )
            lrs = [lr * jnp.where(b, hyper["bias_scaler"], 1.0) for b in is_beta]
            l2s = [
                hyper["l2"] / jnp.where(b, hyper["bias_scaler"], 1.0) for b in is_beta
            ]
            grads = [g.astype(v.dtype) for g, v in zip(grads, p, strict=True)]
            p2, bufs2 = nesterov_sgd(p, bufs, grads, lrs, l2s, hyper["momentum"])
            for i in wk:  # the whitening kernel is frozen when initialised from patches
                p2[i] = jnp.where(hyper["whiten"] > 0, p[i], p2[i])
            for i in wbias:  # its bias trains only in the first epochs
                p2[i] = jnp.where(wb > 0, p2[i], p[i])
            # lookahead: start the average, or move it and copy it back into the weights
            n_p = len(p2)
            cur, avg, started2 = lookahead_step(
                list(p2) + list(nt2), list(ema_p) + list(ema_nt), started, la, sync > 0
            )
            new = (cur[:n_p], cur[n_p:], bufs2, avg[:n_p], avg[n_p:], started2)
            return new, loss, acc

        def guarded(  # noqa: ANN001, ANN202
            state, x_all, y_all, idx, sched, hyper, flip_bits, epoch, key
        ):
            def run(s):  # noqa: ANN001, ANN202
                return train_step(
                    s, x_all, y_all, idx, sched, hyper, flip_bits, epoch, key
                )

            def skip(s):  # noqa: ANN001, ANN202
                return s, jnp.float32(0), jnp.float32(0)

            return jax.lax.cond(sched[4] > 0, run, skip, state)

        def epoch_fn(  # noqa: ANN001, ANN202
            state, x_all, y_all, order, sched, hyper, flip_bits, epoch, key
        ):
            keys = jax.random.split(key, order.shape[0])

            def body(s, inp):  # noqa: ANN001, ANN202
                idx, sc, k = inp
                s, loss, acc = guarded(
                    s, x_all, y_all, idx, sc, hyper, flip_bits, epoch, k
                )
                return s, (loss * sc[4], acc * sc[4])

            state, (losses, accs) = jax.lax.scan(body, state, (order, sched, keys))
            n = jnp.maximum(jnp.sum(sched[:, 4]), 1.0)
            return state, jnp.sum(losses) / n, jnp.sum(accs) / n

        def predict_fn(trainable, non_trainable, x, hyper):  # noqa: ANN001, ANN202
            x = normalize(x, hyper)

            def fn(z):  # noqa: ANN001, ANN202
                out = model.stateless_call(trainable, non_trainable, z, training=False)[
                    0
                ]
                return out.astype(jnp.float32)

            return fn(x), tta_logits(fn, x, 1), tta_logits(fn, x, 2)

        # Per-step calls (a CPU) skip inactive steps on the host: no `cond`, whose
        # would put the convolutions on XLA:CPU's slow path for sub-computations, as a
        # `scan` body does (chapter 8).
        self._fn = jax.jit(epoch_fn if scan else train_step, donate_argnums=(0,))
        self._predict = jax.jit(predict_fn)
        self._compiled = self._compiled_predict = None
        self.x_all, self.y_all = x_all, y_all

    def fresh_state(self, seed: int, whiten_kernel: np.ndarray | None) -> tuple:
        """Initial weights for `seed` (a new model of the same shape; no
        recompilation)."""
        import jax.numpy as jnp
        import keras

        keras.utils.set_random_seed(seed)
        m = build_net(self.recipe)
        p = [jnp.asarray(v.value) for v in m.trainable_variables]
        nt = [jnp.asarray(v.value) for v in m.non_trainable_variables]
        if whiten_kernel is not None:
            for i in self.whiten_kernel:
                p[i] = jnp.asarray(whiten_kernel, p[i].dtype)
            for i in self.whiten_bias:
                p[i] = jnp.zeros_like(p[i])
        bufs = [jnp.zeros_like(a) for a in p]
        return (
            p,
            nt,
            bufs,
            [jnp.array(a) for a in p],
            [jnp.array(a) for a in nt],
            jnp.int32(0),
        )

    def compile(
        self, state: tuple, hyper: dict, flip_bits: Any, n_eval_shape: tuple
    ) -> float:
        import jax
        import jax.numpy as jnp

        t0 = time.perf_counter()
        bs, ms = self.recipe["batch_size"], self.max_steps
        key = jax.random.key(0)
        if self.scan:
            args = (jnp.zeros((ms, bs), jnp.int32), jnp.zeros((ms, 5), jnp.float32))
        else:
            args = (jnp.zeros((bs,), jnp.int32), jnp.zeros((5,), jnp.float32))
        self._compiled = self._fn.lower(
            state, self.x_all, self.y_all, *args, hyper, flip_bits, jnp.int32(0), key
        ).compile()
        spec = jax.ShapeDtypeStruct(n_eval_shape, np.uint8)
        self._compiled_predict = self._predict.lower(
            state[0], state[1], spec, hyper
        ).compile()
        return time.perf_counter() - t0

    def run_epoch(
        self,
        state: tuple,
        order: np.ndarray,
        sched: np.ndarray,
        hyper: dict,
        flip_bits: Any,
        epoch: int,
        seed: int,
    ) -> tuple[tuple, float, float]:
        import jax
        import jax.numpy as jnp

        key = jax.random.key(_epoch_seed(seed, epoch))
        if self.scan:
            state, loss, acc = self._compiled(
                state,
                self.x_all,
                self.y_all,
                jnp.asarray(order),
                jnp.asarray(sched),
                hyper,
                flip_bits,
                jnp.int32(epoch),
                key,
            )
            return state, float(loss), float(acc)
        keys = jax.random.split(key, len(order))
        losses, accs = [], []
        for i in range(len(order)):
            if sched[i, 4] == 0:
                continue
            state, loss, acc = self._compiled(
                state,
                self.x_all,
                self.y_all,
                jnp.asarray(order[i]),
                jnp.asarray(sched[i]),
                hyper,
                flip_bits,
                jnp.int32(epoch),
                keys[i],
            )
            losses.append(loss)
            accs.append(acc)
        return (
            state,
            float(jnp.mean(jnp.stack(losses))),
            float(jnp.mean(jnp.stack(accs))),
        )

    def predict(
        self, state: tuple, x: np.ndarray, b: int, hyper: dict
    ) -> list[np.ndarray]:
        outs: list[list[np.ndarray]] = [[], [], []]
        for i in range(0, len(x), b):
            chunk = x[i : i + b]
            n = len(chunk)
            if n < b:
                chunk = np.concatenate(
                    [chunk, np.zeros((b - n, *chunk.shape[1:]), chunk.dtype)]
                )
            for o, r in zip(
                outs,
                self._compiled_predict(state[0], state[1], chunk, hyper),
                strict=True,
            ):
                o.append(np.asarray(r)[:n])
        return [np.concatenate(o) for o in outs]


def _hyper(recipe: dict[str, Any], mean: np.ndarray, std: np.ndarray) -> dict[str, Any]:
    """The recipe's numbers as runtime arguments: changing them needs no
    recompilation."""
    import jax.numpy as jnp

    vals = {
        "smoothing": recipe["label_smoothing"],
        "momentum": recipe["momentum"],
        "l2": recipe["l2"],
        "bias_scaler": recipe["bias_scaler"],
        "alt_flip": float(recipe["alternating_flip"]),
        "translate": recipe["translate"],
        "cutout": recipe["cutout"],
        "whiten": float(recipe["whiten"]),
    }
    if not 0 <= recipe["translate"] <= 4:
        raise ValueError(f"translate must be 0..4 pixels, got {recipe['translate']!r}.")
    out = {k: jnp.float32(v) for k, v in vals.items()}
    out["mean"], out["std"] = (
        jnp.asarray(mean, jnp.float32),
        jnp.asarray(std, jnp.float32),
    )
    return out


def split_data(data: Any, split: str, n_val: int = FULL_VAL) -> tuple:
    """``(train_idx, x_eval, y_eval, mean, std)`` for a run on `split`.

    "val": train on the training images minus `validation_split(n, n_val)`, evaluate on
    the held-out ones; the test set is not read. "test": train on all training images,
    evaluate on the test set (the final table only). The channel statistics come from
    the images trained on. Chapter 10, "The ablation, on a GPU".
    """
    from fenwicks_lite import data as fw_data

    n_all = len(data.x_train)
    if split == "val":
        train_idx, val_idx = validation_split(n_all, n_val)
        x_eval, y_eval = data.x_train[val_idx], data.y_train[val_idx]
    elif split == "test":
        train_idx = np.arange(n_all, dtype=np.int32)
        x_eval, y_eval = data.x_test, data.y_test
    else:
        raise ValueError(f"split must be 'val' or 'test', got {split!r}.")
    mean, std = fw_data.channel_stats(data.x_train[train_idx])
    return train_idx, x_eval, y_eval, mean, std


def train_runs(
    rows: Sequence[tuple[str, dict[str, Any], str]],
    seeds: Sequence[int],
    data: Any,
    n_val: int = FULL_VAL,
    profile: str = "full",
    scan: bool | None = None,
    precision: str = "auto",
    on_record: Callable[[RunRecord], None] | None = None,
    deadline: float | None = None,
    verbose: bool = True,
    work_dirs: Callable[[str, int], str | os.PathLike] | None = None,
    resume: bool = False,
) -> list[RunRecord]:
    """Trains every (row, seed) and returns one `RunRecord` each (JAX backend only).

    `rows` are ``(name, recipe, split)``; `data` is a `fw.data.Dataset`. split "val":
    train on the training images minus `validation_split(n, n_val)`, evaluate on the
    held-out ones; "test": train on all training images, evaluate on the test set. Rows
    of one `shape_key` share ONE compiled program, whatever their split (the recipe's
    numbers, the channel statistics and the schedules are runtime arguments); its
    compile time goes into the first record of that shape. `on_record` is called after
    each run (e.g. to write it at once). After `deadline` (a `time.perf_counter()`
    value) no new row starts. `scan` None: one compiled call per epoch on a GPU/TPU, one
    per step on a CPU (XLA:CPU runs a scanned conv slowly, chapter 8).
    `work_dirs(row, seed)`: a folder for that run's checkpoint, written after every
    epoch; `resume` continues from it (else an existing one is an error).
    """
    import jax
    import jax.numpy as jnp
    import keras

    from fenwicks_lite import accel
    from fenwicks_lite import data as fw_data
    from fenwicks_lite.checkpoint import save_checkpoint
    from fenwicks_lite.records import now, provenance

    if keras.backend.backend() != "jax":
        raise RuntimeError(
            "train_runs needs KERAS_BACKEND=jax (it uses jax.lax.scan and "
            "Keras's stateless APIs); set it before Python starts."
        )
    n_all = len(data.x_train)
    splits: dict[str, tuple] = {}
    for _, _, split in rows:
        if split not in splits:
            splits[split] = split_data(data, split, n_val)
    policy_before = keras.mixed_precision.global_policy().name
    records: list[RunRecord] = []
    try:
        acc = accel.setup(precision, verbose=False)
        scan = jax.devices()[0].platform != "cpu" if scan is None else scan
        x_all = jax.device_put(data.x_train)
        y_all = jax.device_put(data.y_train.astype(np.int32))
        b = min([EVAL_BATCH] + [len(v[1]) for v in splits.values()])
        shapes = _SHAPES  # compiled programs live as long as the process
        where = provenance(acc.device, acc.precision, "jax")  # every record's
        for row, recipe, split in rows:
            if deadline is not None and time.perf_counter() > deadline:
                print(f"deadline reached: row {row!r} ({split}) not run", flush=True)
                break
            train_idx, x_eval, y_eval, mean, std = splits[split]
            bs = recipe["batch_size"]
            max_steps = n_all // bs
            key = (shape_key(recipe), scan, n_all, max_steps, b, acc.precision)
            kernel = None
            if recipe["whiten"]:  # airbench: from the first 5,000 training images
                src = fw_data.normalize(data.x_train[train_idx[:FULL_VAL]], mean, std)
                kernel = patch_whitening_kernel(src, 2, recipe["whiten_eps"])
            hyper = _hyper(recipe, mean, std)
            plan = _plan(recipe, len(train_idx), max_steps)
            for seed in seeds:
                started = now()
                compile_s = 0.0
                if key not in shapes:
                    with acc.scope():
                        shapes[key] = _Shape(recipe, x_all, y_all, max_steps, scan)
                    sh = shapes[key]
                    state = sh.fresh_state(seed, kernel)
                    compile_s = sh.compile(
                        state, hyper, jnp.zeros(n_all, bool), (b, *x_eval.shape[1:])
                    )
                    if verbose:
                        print(
                            f"compiled {row!r}'s shape in {compile_s:.1f} s", flush=True
                        )
                else:
                    sh = shapes[key]
                    sh.x_all, sh.y_all = x_all, y_all  # this call's data, same shapes
                    state = sh.fresh_state(seed, kernel)
                bits = jax.device_put(np.random.default_rng(seed).random(n_all) < 0.5)
                history, start_epoch = [], 0
                wd = None if work_dirs is None else Path(work_dirs(row, seed))
                run_key = {
                    "row": row,
                    "seed": int(seed),
                    "split": split,
                    "profile": profile,
                    "recipe": _jsonable(recipe),
                }
                if wd is not None:
                    state, start_epoch, history = _resume(wd, resume, run_key, state)
                for e in range(start_epoch, plan["n_epochs"]):
                    idx = train_idx[
                        _epoch_indices(len(train_idx), bs, _epoch_seed(seed, e))
                    ]
                    order = np.zeros((max_steps, bs), np.int32)
                    order[: len(idx)] = idx
                    sched = plan["per_step"][e * max_steps : (e + 1) * max_steps]
                    t0 = time.perf_counter()
                    state, loss, tr_acc = sh.run_epoch(
                        state, order, sched, hyper, bits, e, seed
                    )
                    dt = time.perf_counter() - t0
                    history.append(
                        {
                            "epoch": e + 1,
                            "train_loss": loss,
                            "train_acc": tr_acc,
                            "train_s": dt,
                        }
                    )
                    if wd is not None:  # after every epoch, atomically (chapter 9)
                        meta = {"run_key": run_key, "history": history}
                        save_checkpoint(wd, e + 1, _pack(state), meta)
                train_s = float(sum(h["train_s"] for h in history))
                t0 = time.perf_counter()
                logits = sh.predict(state, x_eval, b, hyper)
                eval_s = time.perf_counter() - t0
                accs = [float(np.mean(lg.argmax(1) == y_eval)) for lg in logits]
                rec = RunRecord(
                    row=row,
                    seed=int(seed),
                    split=split,
                    acc=accs[0],
                    acc_tta1=accs[1],
                    acc_tta2=accs[2],
                    compile_s=compile_s,
                    train_s=train_s,
                    eval_s=eval_s,
                    epochs=recipe["epochs"],
                    steps=plan["total"],
                    n_train=len(train_idx),
                    n_eval=len(x_eval),
                    recipe=_jsonable(recipe),
                    history=history,
                    **where,
                    profile=profile,
                    started=started,
                    finished=now(),
                    lookahead_steps=int(np.asarray(state[5])),
                )
                rec.logits = (
                    logits  # not a field: for `fit_fast` (Result's predictions)
                )
                rec.resumed_from_epoch = start_epoch
                records.append(rec)
                if verbose:
                    print(rec.summary(), flush=True)
                if on_record is not None:
                    on_record(rec)
    finally:
        keras.mixed_precision.set_global_policy(policy_before)
    return records


def _pack(state: tuple) -> list[list[np.ndarray]]:
    """The loop's state as the three parts of a `fw.fit` checkpoint: weights, BatchNorm
    statistics, and the rest (momentum buffers, the weight average, its flag)."""
    p, nt, bufs, ema_p, ema_nt, started = state
    rest = [*bufs, *ema_p, *ema_nt, np.asarray(started)]
    return [[np.asarray(a) for a in part] for part in (p, nt, rest)]


def _resume(wd: Path, resume: bool, run_key: dict, state: tuple) -> tuple:
    """``(state, start_epoch, history)`` from the checkpoint in `wd`, or as given."""
    import jax.numpy as jnp

    from fenwicks_lite.checkpoint import CHECKPOINT_FILE, load_checkpoint

    wd.mkdir(parents=True, exist_ok=True)
    ck = load_checkpoint(wd)
    if ck is None:
        return state, 0, []
    meta, parts = ck
    if not resume:
        raise FileExistsError(
            f"{wd / CHECKPOINT_FILE} holds a checkpoint of an earlier run (epoch "
            f"{meta.get('epoch')}): pass resume=True (--resume) to continue it, or "
            "choose an empty folder. Nothing was changed."
        )
    if meta.get("run_key") != run_key:
        raise ValueError(
            f"{wd / CHECKPOINT_FILE} belongs to another run ({meta.get('run_key')}): "
            "resume with the same recipe and seed, or use another folder."
        )
    n_p, n_nt = len(state[0]), len(state[1])
    p, nt, rest = ([jnp.asarray(a) for a in part] for part in parts)
    if len(p) != n_p or len(nt) != n_nt or len(rest) != 2 * n_p + n_nt + 1:
        raise ValueError(f"{wd / CHECKPOINT_FILE} does not fit this network.")
    new = (p, nt, rest[:n_p], rest[n_p : 2 * n_p], rest[2 * n_p : -1], rest[-1])
    return new, int(meta["epoch"]), list(meta["history"])


def fit_fast(
    profile: str | None = None,
    seed: int = 0,
    *,
    data: Any = None,
    work_dir: str | os.PathLike | None = None,
    resume: bool = False,
    verbose: bool = True,
    recipe: dict[str, Any] | None = None,
) -> Any:
    """The fast recipe as chapter 9's record: trains on all training images, evaluates
    on the test set, and returns a `fw.fit.Result` (``test_acc_tta``: airbench's TTA,
    level 2), with a checkpoint after every epoch in `work_dir` (`resume` continues).
    What ``python -m fenwicks_lite.train --recipe fast`` runs for each seed. `recipe`
    replaces `FAST` scaled to the profile (the tests use a tiny one). `data` is checked
    first (`fw.data.checked`: labels shaped (N, 1) are flattened)."""
    from fenwicks_lite import data as fw_data
    from fenwicks_lite.profiles import get_profile
    from fenwicks_lite.records import Result

    t0 = time.perf_counter()
    name = get_profile(profile).name
    recipe = recipe or scale_recipe(FAST, name)
    data = fw_data.checked(data) if data is not None else _load(name)
    wd = (lambda row, s: work_dir) if work_dir is not None else None
    (rec,) = train_runs(
        [("fast recipe", recipe, "test")],
        [seed],
        data,
        profile=name,
        verbose=verbose,
        work_dirs=wd,
        resume=resume,
    )
    z = rec.logits[0] - rec.logits[0].max(1, keepdims=True)
    prob = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    return Result(
        profile=name,
        seed=int(seed),
        test_acc=rec.acc,
        test_acc_tta=rec.acc_tta2,
        epochs=math.ceil(recipe["epochs"]),
        batch_size=recipe["batch_size"],
        steps_per_epoch=len(data.x_train) // recipe["batch_size"],
        n_train=rec.n_train,
        n_test=rec.n_eval,
        dataset=data.describe(),
        timings={
            "compile_s": rec.compile_s,
            "train_s": rec.train_s,
            "eval_s": rec.eval_s,
            "total_s": time.perf_counter() - t0,
            "compile_method": "ahead-of-time lower().compile()",
            "compiled": rec.compile_s > 0,
        },
        history=rec.history,
        backend=rec.backend,
        precision=rec.precision,
        hardware=rec.hardware,
        versions=rec.versions,
        git_commit=rec.git_commit,
        config={**recipe_record(recipe), "steps": rec.steps},
        resumed_from_epoch=rec.resumed_from_epoch,
        test_true=[int(i) for i in data.y_test],
        test_pred=[int(i) for i in prob.argmax(1)],
        test_conf=[round(float(c), 5) for c in prob.max(1)],
        started=rec.started,
        finished=rec.finished,
    )


def recipe_record(recipe: dict[str, Any]) -> dict[str, Any]:
    """What `fit_fast`'s record says of its recipe (its ``config``, less the step
    count): ``--recipe fast --resume`` compares a finished seed's with this run's.

    A helper of `fit_fast` (Chapter 10, "Run the fast recipe yourself") and of
    Chapter 9's command line.
    """
    return {"recipe": "fast", **_jsonable(recipe)}


def _epoch_indices(n: int, bs: int, seed: int) -> np.ndarray:
    from fenwicks_lite.pipeline import epoch_indices

    return epoch_indices(n, bs, seed)


def _jsonable(recipe: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in recipe.items()}


# ------------------------------------------------------------------------------ tables


def ablation_table(
    records: Sequence[RunRecord], split: str = "val"
) -> list[dict[str, Any]]:
    """One row per ablation row (in `ABLATION` order): seeds, mean and std of the
    accuracies (ddof=1) and of train seconds, the compile seconds of its shape (0:
    shared). Chapter 10, "The ablation, on a GPU" prints it (`ablation_text`)."""
    out = []
    for name, _ in ABLATION:
        rs = [r for r in records if r.row == name and r.split == split]
        if not rs:
            continue
        row: dict[str, Any] = {"row": name, "n": len(rs)}
        for k in ("acc", "acc_tta1", "acc_tta2", "train_s"):
            a = np.array([getattr(r, k) for r in rs], float)
            row[k] = float(a.mean())
            row[k + "_std"] = float(a.std(ddof=1)) if len(a) > 1 else 0.0
        row["compile_s"] = float(max(r.compile_s for r in rs))
        out.append(row)
    return out


def ablation_text(records: Sequence[RunRecord], split: str = "val") -> str:
    """Chapter 10's ablation as text: per row (`ablation_table`) its name and seeds,
    then mean ± std (ddof=1) of the accuracy without TTA, with mirror TTA and with
    mirror + translate TTA, the mean training seconds and its shape's compile seconds
    (0: compiled for an earlier row); a `pending` line while there are no records."""
    table = ablation_table(records, split)
    if not table:
        return ("pending: the ablation table, from the committed GPU sweep once it "
                "exists")

    def pct(t: dict[str, Any], k: str) -> str:
        return f"{t[k]:.2%} ± {t[k + '_std']:.2%}"

    lines = [f"{split} accuracy, mean ± std over seeds:",
             f"{'no TTA':>20} {'mirror TTA':>16} {'+ translate':>16} "
             f"{'train s':>9} {'compile s':>9}"]
    for t in table:
        lines.append(f"{t['row']} ({t['n']} seed{'s' * (t['n'] != 1)})")
        lines.append(f"{pct(t, 'acc'):>20} {pct(t, 'acc_tta1'):>16} "
                     f"{pct(t, 'acc_tta2'):>16} {t['train_s']:>9.2f} "
                     f"{t['compile_s']:>9.1f}")
    return "\n".join(lines)


#: The whole GPU part of the chapter as one command (`sweep`; `book/scripts/gpu_fast.sh`
#: wraps it for the GPU machine).
SWEEP_COMMAND = (
    "KERAS_BACKEND=jax python -m fenwicks_lite.fast sweep --profile full \\\n"
    "    --seeds 5 --budget-s 220 --compile-cache /tmp/fw-jax-cache \\\n"
    "    --out fenwicks_lite/results/"
)


def sweep_records(paths: Sequence[Any] | None = None) -> list[RunRecord]:
    """The committed full-profile records of chapter 10's sweep: the package's
    ``fenwicks_lite/results/fast-full-*.json`` (`fw.report.committed_results`, so
    ``$FENWICKS_LITE_RESULTS`` points elsewhere), or `paths`; sorted by split, row and
    seed."""
    from fenwicks_lite import report

    found = report.committed_results("fast-full-*.json") if paths is None else paths
    out = [r for p in found for r in load_records(Path(p).parent, Path(p).name)
           if r.profile == "full"]
    rank = {name: i for i, (name, _) in enumerate(ABLATION)}
    return sorted(out, key=lambda r: (r.split != "test", rank.get(r.row, -1), r.seed))


def final_runs(records: Sequence[RunRecord]) -> list[RunRecord]:
    """The fast recipe's runs on the test set (the final table's; nothing else is
    evaluated on it): Chapter 10, "The final table"."""
    return [r for r in records if r.split == "test" and r.row == ABLATION[-1][0]]


def is_ready(records: Sequence[RunRecord]) -> bool:
    """Whether chapter 10 has its final row: at least `fw.report.MIN_SEEDS` test runs
    of the fast recipe."""
    from fenwicks_lite.report import MIN_SEEDS

    return len(final_runs(records)) >= MIN_SEEDS


def run_status(records: Sequence[RunRecord]) -> str:
    """Chapter 10's first output from the records: what was read and where it ran, or,
    while the sweep is pending, what the chapter will show and how to run it."""
    from fenwicks_lite.report import MIN_SEEDS

    val = [r for r in records if r.split == "val"]
    final = final_runs(records)
    if not is_ready(records):
        return "\n".join([
            "pending: chapter 10's GPU sweep is not committed yet:",
            f"  {len(final)} test runs of the fast recipe and {len(val)} "
            "validation runs",
            f"  in fenwicks_lite/results/, {MIN_SEEDS} test runs needed.",
            "It will show, with the hardware that gave them: the ablation on the",
            "  validation split, one row per idea (accuracy without TTA and with each",
            "  TTA level, training and compile seconds), then the fast recipe on the",
            "  test set beside the published figures.",
            "To make it (one GPU; no new row starts after --budget-s seconds):",
            *(f"  {line}" for line in SWEEP_COMMAND.splitlines()),
            "  then commit the JSON records and re-execute this chapter.",
        ])
    r0 = final[0]
    return (f"{len(final)} test runs of the fast recipe and {len(val)} "
            f"validation runs committed | {r0.hardware['device']} | {r0.precision} | "
            f"{r0.backend} | commit {r0.git_commit or 'unknown'}")


def final_table(records: Sequence[RunRecord], finale: Sequence[Any] = ()) -> str:
    """Chapter 10's last table: the published figures of the seed's recipe, chapter 9's
    run (`finale`: its `Result` records), the later published speed runs and this
    chapter's fast recipe on the test set (mean over seeds with its recipe's TTA level,
    and without), each with hardware and source (`fw.report.published_table`)."""
    from fenwicks_lite import report

    level = FAST["tta_level"]
    rows = [p for p in report.PUBLISHED if p["recipe"] == "seed"]
    rows.append(report.finale_row(finale))
    rows += [p for p in report.PUBLISHED if p["recipe"] == "fast"]
    test = final_runs(records)
    where = "fenwicks_lite/results/fast-full-test-*.json"
    if is_ready(records):
        acc = np.array([r.acc for r in test])
        tta = np.array([r.acc_at(level) for r in test])
        rows.append({
            "who": "this book, chapter 10 (the fast recipe)",
            "hardware": test[0].hardware["device"], "acc": f"{tta.mean():.2%}",
            "time": f"{np.median([r.train_s for r in test]):.2f} s",
            "note": (f"mean of {len(test)} seeds with {tta_label(level)} "
                     f"(std {tta.std(ddof=1):.2%}), {acc.mean():.2%} without TTA; "
                     "median seconds of training steps, compile apart "
                     f"({max(r.compile_s for r in test):.0f} s); {test[0].precision}"),
            "source": where})
    else:
        rows.append({"who": "this book, chapter 10 (the fast recipe)",
                     "hardware": "pending", "acc": "pending", "time": "pending",
                     "note": "the GPU sweep is not committed yet",
                     "source": f"{where} (not yet run)"})
    return report.published_table(rows)


def live_plan(
    device: Any = None, env: dict[str, str] | None = None, backend: str | None = None
) -> tuple[bool, str]:
    """Whether chapter 10's "Run the fast recipe yourself" trains here, and why: where
    chapter 9's live seed would (`fw.report.live_seed_plan`: a GPU or TPU, or
    ``FENWICKS_LITE_LIVE_SEED=1``), and only with Keras on JAX (`backend`, default
    Keras's), since `train_runs` is a JAX loop; otherwise what to do instead."""
    from fenwicks_lite import report

    if backend is None:
        import keras

        backend = keras.backend.backend()
    go, why = report.live_seed_plan(
        device, env, on_cpu="The fast recipe's full run is impractical on a CPU")
    if go and backend != "jax":
        return False, "\n".join([
            f"not run: Keras runs on {backend} here; the fast recipe's loop is JAX's.",
            "In Colab: Runtime -> Restart session, run a first cell holding",
            "  %env KERAS_BACKEND=jax",
            "then Run all (Colab's runtimes come with JAX).",
        ])
    return go, why


def live_table(live: Any, records: Sequence[RunRecord]) -> str:
    """A live run of the fast recipe (`fit_fast`'s `Result`) beside the committed test
    runs (or beside *pending*): one row each and their mean, with TTA at the recipe's
    level (flip + translate), every row with its hardware (`fw.report.beside_table`).

    Chapter 10, "Run the fast recipe yourself" prints it.
    """
    from fenwicks_lite import report

    runs = [(r.seed, r.hardware["device"], r.precision, r.acc, r.acc_tta2, r.train_s)
            for r in final_runs(records)]
    pending = "pending: the GPU sweep is not committed yet"
    return report.beside_table(live, runs, pending, digits=2)


# ---------------------------------------------------------------------------------- CLI


def _load(profile: str) -> Any:
    from fenwicks_lite import data as fw_data
    from fenwicks_lite.profiles import get_profile

    return fw_data.load_profile_data(get_profile(profile))


def sweep(
    profile: str,
    seeds: int,
    out: str | os.PathLike,
    budget_s: float | None = None,
    train_limit: int | None = None,
    test_limit: int | None = None,
) -> list[RunRecord]:
    """The whole GPU part as one call: the fast recipe on the test set first (the
    headline), then the ablation rows on the validation split, fastest shapes first, so
    a deadline cuts the slow seed-recipe rows, never the fast ones. One JSON per run
    under `out`. Chapter 10, "The ablation, on a GPU"."""
    t_start = time.perf_counter()
    deadline = None if budget_s is None else t_start + budget_s
    data = _load(profile)
    if train_limit or test_limit:  # a rehearsal on a slow machine
        data.x_train, data.y_train = (
            data.x_train[:train_limit],
            data.y_train[:train_limit],
        )
        data.x_test, data.y_test = data.x_test[:test_limit], data.y_test[:test_limit]
    n_val = FULL_VAL if profile == "full" else min(QUICK_VAL, len(data.x_train) // 5)
    rows = [(n, scale_recipe(r, profile)) for n, r in ablation_recipes()]
    slug = {n: f"row{i}" for i, (n, _) in enumerate(rows)}

    def save(rec: RunRecord) -> None:
        tag = "test" if rec.split == "test" else slug[rec.row]
        write_record(rec, out, f"fast-{rec.profile}-{tag}-seed{rec.seed}")

    # one process, one compile per shape: the fast recipe's test runs first (the
    # headline), then the ablation on the validation split, fast shapes first, the seed
    # recipe last
    jobs = [(rows[-1][0], rows[-1][1], "test")]
    jobs += [(n, r, "val") for n, r in [rows[-1], *rows[2:-1][::-1], rows[1], rows[0]]]
    records = train_runs(
        jobs,
        range(seeds),
        data,
        n_val=n_val,
        profile=profile,
        on_record=save,
        deadline=deadline,
    )
    print(
        f"sweep: {len(records)} runs in {time.perf_counter() - t_start:.1f} s wall",
        flush=True,
    )
    return records


def side_by_side(records: Sequence[RunRecord]) -> dict[str, Any]:
    """The seed recipe's and the fast recipe's validation runs side by side: mean
    train seconds, compile seconds (of the recipe's shape), mean accuracies, and the
    ratios seed / fast. `records` from one process (`compare` or `sweep`).

    Chapter 10, "Try it here (quick profile)" (``python -m fenwicks_lite.fast
    compare``).
    """
    out: dict[str, Any] = {}
    for name, key in (("seed", ABLATION[0][0]), ("fast", ABLATION[-1][0])):
        rs = [r for r in records if r.row == key and r.split == "val"]
        if not rs:
            raise ValueError(f"no validation runs of {key!r} among the records.")
        out[name] = {
            "n": len(rs),
            "train_s": float(np.mean([r.train_s for r in rs])),
            # the shape's compile, whichever run of this recipe paid it (any split)
            "compile_s": float(sum(r.compile_s for r in records if r.row == key)),
            "acc": float(np.mean([r.acc for r in rs])),
            "acc_tta2": float(np.mean([r.acc_tta2 for r in rs])),
        }
    out["train_ratio"] = out["seed"]["train_s"] / out["fast"]["train_s"]
    out["compile_ratio"] = out["seed"]["compile_s"] / max(
        out["fast"]["compile_s"], 1e-9
    )
    out["hardware"] = records[0].hardware
    return out


def compare(profile: str, seeds: int = 1) -> dict[str, Any]:
    """Trains the seed and the fast recipe in one process, on the validation split, and
    returns `side_by_side` of the runs: Chapter 10, "Try it here (quick profile)"."""
    data = _load(profile)
    n_val = FULL_VAL if profile == "full" else QUICK_VAL
    rows = [
        (ABLATION[0][0], scale_recipe(SEED, profile), "val"),
        (ABLATION[-1][0], scale_recipe(FAST, profile), "val"),
    ]
    return side_by_side(
        train_runs(rows, range(seeds), data, n_val=n_val, profile=profile)
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m fenwicks_lite.fast sweep|compare`` (see the module docstring):
    Chapter 10, "The ablation, on a GPU" and "Try it here (quick profile)"."""
    p = argparse.ArgumentParser(prog="python -m fenwicks_lite.fast")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sweep", help="the ablation and the fast recipe's test runs")
    s.add_argument(
        "--profile", default=None, help="full or quick (default: by hardware)"
    )
    s.add_argument("--seeds", type=int, default=5)
    s.add_argument("--out", type=Path, default=Path("results"))
    s.add_argument(
        "--budget-s",
        type=float,
        default=None,
        help="start no new row after this many seconds",
    )
    s.add_argument(
        "--compile-cache",
        default=None,
        help="folder for JAX's persistent compilation cache: a rerun on the same "
        "machine loads the compiled programs instead of compiling them again",
    )
    for name in ("--train-limit", "--test-limit"):
        s.add_argument(
            name,
            type=int,
            default=None,
            help="use only the first N images (a rehearsal on a CPU)",
        )
    c = sub.add_parser("compare", help="seed vs fast recipe, side by side")
    c.add_argument("--profile", default=None)
    c.add_argument("--seeds", type=int, default=1)
    c.add_argument(
        "--records",
        type=Path,
        default=None,
        help="read a sweep's records from this folder instead of training",
    )
    args = p.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "jax")
    from fenwicks_lite.profiles import get_profile

    try:
        profile = get_profile(args.profile).name
    except ValueError as e:  # a one-line usage error, as the training CLI gives
        p.error(str(e))
    if args.seeds < 1:
        raise SystemExit("--seeds must be at least 1.")
    if args.cmd == "compare" and args.records is not None and not args.records.is_dir():
        p.error(
            f"--records {args.records}: no such folder; pass the folder a sweep wrote "
            "its records to (its --out)"
        )
    if args.cmd == "sweep":
        if args.compile_cache:
            import jax

            jax.config.update("jax_compilation_cache_dir", str(args.compile_cache))
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)
        sweep(
            profile,
            args.seeds,
            args.out,
            args.budget_s,
            args.train_limit,
            args.test_limit,
        )
    else:
        if args.records is not None:
            recs = load_records(args.records, f"fast-{profile}-*.json")
            r = side_by_side(recs)
        else:
            r = compare(profile, args.seeds)
        for name in ("seed", "fast"):
            v = r[name]
            print(
                f"{name:>4} ({v['n']} seed{'s' * (v['n'] != 1)}): train "
                f"{v['train_s']:.2f} s, compile "
                f"{v['compile_s']:.1f} s, val acc {v['acc']:.2%} "
                f"(TTA {v['acc_tta2']:.2%})"
            )
        print(
            f"seed / fast: train time x{r['train_ratio']:.2f}, compile "
            f"x{r['compile_ratio']:.2f} | {r['hardware']['device']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
