"""Data augmentation: pad-and-crop, flip, cutout (Chapter 4, Augmentation).

Page's recipe for DavidNet [Page, 2018] augments every training image, every epoch, with
three random transforms, and the 2019 tutorial (`fw.transform.ramdom_pad_crop`, sic,
`random_flip`, `cutout`) kept them:

- **pad-and-crop**: pad 4 pixels by reflection, cut a random 32 x 32 window: small
  translations;
- **flip**: mirror left-right with probability 1/2: a cat facing left is still a cat;
- **cutout** (DeVries & Taylor 2017): zero an 8 x 8 square at a random place: the net
  cannot rely on any one small patch. Placed as the seed and Page placed it, wholly
  inside the image (its corner uniform over the 25 x 25 positions: always 64 pixels);
  ``inside=False`` gives DeVries & Taylor's placement (centre uniform over the image,
  clipped at the borders: 56.25 pixels on average).

The module has two families with the same semantics:

- **TensorFlow** (`random_pad_crop`, `random_flip`, `cutout`): for `tf.data` pipelines
  (Chapter 5). They take one image (HWC) or a batch (NHWC), draw per-image randomness
  and import TensorFlow only when called.
- **Backend-agnostic** (`random_pad_crop_batch`, `random_flip_batch`, `cutout_batch`,
  `augment_batch`): `keras.ops` / `keras.random` on an NHWC batch, for the in-memory
  accelerator pipeline (Chapter 5) under JAX or TensorFlow. Vectorized (per-image
  offsets through gathers and masks, no Python loop over images) and free of Python
  control flow on values, so they run inside `jax.jit` / `tf.function`.

Integer and float images: every transform keeps the dtype. Pad-and-crop and flip only
move pixels. Cutout writes zeros: black for uint8 pixels, the channel mean for
normalized floats (Page applies it after normalization, so the hole carries no
information).

Seeds for the backend-agnostic family (`seed=`): anything `keras.random` takes - an int
(the same int gives the same output), or a `keras.random.SeedGenerator` (a new draw each
call, in eager code and in `tf.function`) - or a *seed tensor* from `step_seed(seed,
step)`. Under `jax.jit` use the seed tensor: a SeedGenerator keeps its state in a Keras
variable, and assigning it inside a jitted function that is not a Keras `StatelessScope`
leaks a tracer; an int is a constant of the compiled function, so every step would get
the same augmentation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fenwicks_lite import needs_tensorflow

#: Page's settings [Page, 2018]: 4-pixel reflection padding, 8 x 8 cutout.
PAD = 4
#: the side of the cutout square, in pixels (Page: 8).
CUTOUT = 8


# -------------------------------------------- argument checks (shared by both families)

def _check_shape(shape: tuple, what: str) -> tuple[int, int]:
    """(height, width) of an HWC image or NHWC batch; a clear error for anything
    else."""
    if len(shape) not in (3, 4):
        raise ValueError(
            f"{what}: expected one image (height, width, channels) or a batch (n, "
            f"height, width, channels), got an array of rank {len(shape)} with shape "
            f"{tuple(shape)}. Add a channel axis for grayscale (x[..., None])."
        )
    h, w = shape[-3], shape[-2]
    if h is None or w is None:
        raise ValueError(
            f"{what}: the image height and width must be known (static), got "
            f"{tuple(shape)}."
        )
    return int(h), int(w)


def _check_pad(pad: int, h: int, w: int) -> None:
    if not isinstance(pad, (int, np.integer)) or pad < 0:
        raise ValueError(f"pad must be a non-negative int (Page: {PAD}), got {pad!r}.")
    if pad >= min(h, w):
        raise ValueError(
            f"pad={pad} is too large for {h} x {w} images: reflection padding needs "
            f"pad < {min(h, w)} (the smaller side). Use pad={PAD} for CIFAR-10."
        )


def _check_cutout(ch: int, cw: int, h: int, w: int) -> None:
    for name, v in (("h", ch), ("w", cw)):
        if not isinstance(v, (int, np.integer)) or v < 0:
            raise ValueError(
                f"cutout {name} must be a non-negative int (Page: {CUTOUT}), got {v!r}."
            )
    if ch > h or cw > w:
        raise ValueError(
            f"cutout of {ch} x {cw} is larger than the {h} x {w} images: choose h <= "
            f"{h} and w <= {w} (DeVries & Taylor use about a quarter of the side; Page "
            f"uses {CUTOUT} on 32 x 32)."
        )


# ---------------------------------------------------- the shared pieces (both families)
#
# Written once against a small set of array ops, `ops`: `KERAS_OPS` (keras.ops, any
# backend, the default) or `TF_OPS` (TensorFlow, for tf.data). Each takes an NHWC batch
# and per-image values (one row each) and runs inside `jax.jit` / `tf.function` (Chapter
# 4 shows them).


class TFOps:
    """The few ops the shared pieces need, in TensorFlow (`keras.ops` has the same
    names), so they are written once for both families; use the instance `TF_OPS`.

    Explained in Chapter 4, Augmentation (one augmentation, written once for
    TensorFlow and `keras.ops`).
    """

    @staticmethod
    @needs_tensorflow(instead="fw.transform.KERAS_OPS")
    def arange(n: int) -> Any:
        import tensorflow as tf

        return tf.range(n)

    @staticmethod
    @needs_tensorflow(instead="fw.transform.KERAS_OPS")
    def batch_size(x: Any) -> Any:
        import tensorflow as tf

        return x.shape[0] if x.shape[0] is not None else tf.shape(x)[0]

    @needs_tensorflow(instead="fw.transform.KERAS_OPS")
    def __getattr__(self, name: str) -> Any:
        import tensorflow as tf

        return {
            "logical_and": tf.logical_and,
            "abs": tf.abs,
            "where": tf.where,
            "reshape": tf.reshape,
            "take": lambda x, i, axis: tf.gather(x, i, axis=axis),
            "cast": tf.cast,
            "floor": tf.floor,
            "minimum": tf.minimum,
            "zeros_like": tf.zeros_like,
            "logical_not": tf.logical_not,
        }[name]


class KerasOps:
    """`keras.ops` plus `batch_size` (static: the keras.ops functions need a static
    batch); use the instance `KERAS_OPS`.

    Explained in Chapter 4, Augmentation (one augmentation, written once for
    TensorFlow and `keras.ops`).
    """

    @staticmethod
    def batch_size(x: Any) -> int:
        return int(x.shape[0])

    def __getattr__(self, name: str) -> Any:
        from keras import ops

        return getattr(ops, name)


#: the two op sets the shared pieces accept as `ops`.
TF_OPS, KERAS_OPS = TFOps(), KerasOps()


def window_mask(centre: Any, size: int, extent: int, ops: Any = None) -> Any:
    """Boolean (n, extent) mask: row k is True at positions
    ``centre[k] - size//2 <= p < centre[k] - size//2 + size``.

    `size` positions when the window lies inside [0, extent), fewer where it sticks out
    (DeVries & Taylor's centres may lie near the border: their square is clipped there).
    `centre` is one integer per image, shape (n,). Chapter 4.
    """
    ops = KERAS_OPS if ops is None else ops
    start = centre - size // 2
    pos = ops.arange(extent)[None, :]
    return ops.logical_and(pos >= start[:, None], pos < start[:, None] + size)


def reflect_index(r: Any, n: int, ops: Any = None) -> Any:
    """Index into 0..n-1 of position `r` of an axis of length `n` reflect-padded by
    pad < n (-pad <= r < n + pad).

    Reflection without repeating the edge (NumPy's and TensorFlow's "reflect"):
    -1 -> 1, n -> n - 2. Chapter 4.
    """
    ops = KERAS_OPS if ops is None else ops
    return (n - 1) - ops.abs((n - 1) - ops.abs(r))


def crop_flip(
    images: Any, dy: Any, dx: Any, coin: Any, pad: int, ops: Any = None
) -> Any:
    """Each image's h x w window at offset (dy, dx) of its reflect-padded self, mirrored
    where `coin` (None: no flip).

    Done as ONE gather of pixels by index, without building the padded batch: output
    pixel (i, j) of image k comes from row reflect(dy + i - pad) and column reflect(dx +
    j' - pad) of image k, where j' = w - 1 - j for mirrored images. This is the same as
    padding, cropping and flipping, in one pass over the batch (Chapter 5 times the
    pipelines built on it). `dy`, `dx` in 0..2*pad and `coin` (bool) have one entry per
    image. Chapter 4.
    """
    ops = KERAS_OPS if ops is None else ops
    n, (h, w, c) = ops.batch_size(images), images.shape[1:]
    i, j = ops.arange(h)[None, :], ops.arange(w)[None, :]
    if coin is not None:
        j = ops.where(coin[:, None], (w - 1) - j, j)
    rows = reflect_index(dy[:, None] + i - pad, h, ops)  # (n, h)
    cols = reflect_index(dx[:, None] + j - pad, w, ops)  # (n, w)
    flat = (
        (ops.arange(n) * (h * w))[:, None, None]
        + rows[:, :, None] * w
        + cols[:, None, :]
    )
    pixels = ops.take(ops.reshape(images, (-1, c)), ops.reshape(flat, (-1,)), axis=0)
    return ops.reshape(pixels, (n, h, w, c))


def cutout_at(images: Any, cy: Any, cx: Any, ch: int, cw: int, ops: Any = None) -> Any:
    """The images with each one's (clipped) ch x cw window around (cy, cx) set to zero.

    `cy`, `cx`: one centre per image (integers, shape (n,)). Chapter 4.
    """
    ops = KERAS_OPS if ops is None else ops
    h, w = images.shape[1], images.shape[2]
    rows, cols = window_mask(cy, ch, h, ops), window_mask(cx, cw, w, ops)
    mask = ops.logical_and(rows[:, :, None], cols[:, None, :])
    return ops.where(mask[..., None], ops.zeros_like(images), images)


def augment_from_uniforms(images: Any, u: Any, pad: int, cutout: int, flip: bool,
                          ops: Any = None, scale: Any = None) -> Any:
    """Page's three transforms from one (n, 5) draw of uniforms in [0, 1): columns 0-1
    the crop offsets, 2 the flip coin (< 0.5 flips), 3-4 the hole's place (wholly
    inside, as the seed and Page placed it: `hole_centres`). Chapter 4.

    `scale` = (mean, 1/std) normalizes on the way: crop and flip move the stored pixels
    (uint8: a quarter of the bytes), then ``(x - mean) / std`` and the cutout hole are
    ONE multiply by a 0/1 mask. Same result as normalizing first (per-channel scaling
    commutes with moving pixels), about 1.4x faster.
    """
    ops = KERAS_OPS if ops is None else ops
    h, w = images.shape[1], images.shape[2]
    out = images
    if pad or flip:
        k = 2 * pad + 1
        dy, dx = (
            randint_from_uniform(u[:, 0], k, ops),
            randint_from_uniform(u[:, 1], k, ops),
        )
        out = crop_flip(out, dy, dx, (u[:, 2] < 0.5) if flip else None, pad, ops)
    if scale is not None:
        out = (ops.cast(out, "float32") - scale[0]) * scale[1]
    if cutout:
        cy = hole_centres(u[:, 3], cutout, h, True, ops)
        cx = hole_centres(u[:, 4], cutout, w, True, ops)
        if scale is not None:
            rows, cols = (
                window_mask(cy, cutout, h, ops),
                window_mask(cx, cutout, w, ops),
            )
            hole = ops.logical_and(rows[:, :, None], cols[:, None, :])
            return out * ops.cast(ops.logical_not(hole), "float32")[..., None]
        out = cutout_at(out, cy, cx, cutout, cutout, ops)
    return out


def randint_from_uniform(u: Any, k: int, ops: Any = None) -> Any:
    """Integers uniform over 0..k-1 from uniforms in [0, 1) (clipped: u * k can round up
    to k in float32). Chapter 4."""
    ops = KERAS_OPS if ops is None else ops
    return ops.minimum(ops.cast(ops.floor(u * k), "int32"), k - 1)


def hole_centres(u: Any, size: Any, extent: int, inside: bool = True,
                 ops: Any = None) -> Any:
    """Each image's hole centre along one axis (for `window_mask`) from uniforms `u` in
    [0, 1), one per image. Chapter 4.

    ``inside=True``, the seed's and Page's placement: the window's first position is
    uniform over 0..extent-size (the seed's ``fw.transform.cutout``: ``x0`` uniform in
    [0, h + 1 - h_hole); Page's ``Cutout.options``: ``range(W + 1 - w)``), so the
    window always lies wholly inside. ``inside=False``, DeVries & Taylor's: the centre
    is uniform over 0..extent-1 and the window is clipped at the borders. `size` may be
    a traced integer (chapter 10's ablation changes it without recompiling)."""
    ops = KERAS_OPS if ops is None else ops
    if not inside:
        return randint_from_uniform(u, extent, ops)
    if isinstance(size, (int, np.integer)):
        return randint_from_uniform(u, extent - int(size) + 1, ops) + int(size) // 2
    k = ops.cast(extent - size + 1, "float32")  # traced: a float k keeps u * k float
    first = ops.cast(randint_from_uniform(u, k, ops), "int32")
    return first + ops.cast(size, "int32") // 2


def check_mean_std(mean: Any, std: Any, channels: int | None = None) -> None:
    """Raises unless `mean` and `std` hold one finite value per channel (`channels`,
    when known) and every std is > 0: a zero std would turn a channel into NaN or inf
    without a word.

    Chapter 2's `normalize` and Chapter 5's pipelines check their statistics with
    it.
    """
    m = np.asarray(mean, dtype=np.float64)
    s = np.asarray(std, dtype=np.float64)
    want = "one value per channel" + (f" ({channels})" if channels else "")
    if m.ndim != 1 or m.shape != s.shape or (channels and m.shape[0] != channels):
        raise ValueError(
            f"mean and std need {want}, got shapes {m.shape} and {s.shape}: use "
            "fw.data.channel_stats (Chapter 2)."
        )
    if not (np.all(np.isfinite(s)) and np.all(s > 0)):
        raise ValueError(
            f"std must be positive in every channel, got {s.tolist()}: a channel with "
            "std 0 is constant and cannot be scaled to std 1 (did the stats come from "
            "a blank image?)."
        )
    if not np.all(np.isfinite(m)):
        raise ValueError(
            f"mean must be finite in every channel, got {m.tolist()}: use "
            "fw.data.channel_stats of the training images."
        )


def tfm_reverse_standard_scaler(mean: Any, std: Any) -> Any:
    """The seed's May 2019 `fw.transform.tfm_reverse_standard_scaler`: a function
    ``x -> x * std + mean`` that undoes Chapter 2's normalization, so a normalized
    batch can be shown as a picture (Chapter 5, `fw.anim.show_input_func`).

    `mean` and `std` are per channel in the units wanted back (the seed passed
    ``X_train_mean / 255, X_train_std / 255``: pixels in [0, 1]). The function works on
    NumPy arrays (it returns float32) and on tensors of any backend, one image or a
    batch, channels last.
    """
    check_mean_std(mean, std)
    m = np.asarray(mean, dtype=np.float32)
    s = np.asarray(std, dtype=np.float32)

    def reverse_standard_scaler(x: Any) -> Any:
        if not hasattr(x, "shape"):
            x = np.asarray(x)
        if len(x.shape) < 1 or x.shape[-1] != m.shape[0]:
            raise ValueError(
                f"x must have {m.shape[0]} channels last (one per mean and std), got "
                f"shape {tuple(x.shape)}: pass images as (H, W, C) or (N, H, W, C).")
        if isinstance(x, np.ndarray):
            x = x.astype(np.float32)
        return x * s + m

    return reverse_standard_scaler


# ----------------------------------------------- TensorFlow family (tf.data, Chapter 5)

def _tf_uniform(n: Any, seed: Any, count: int) -> Any:
    """(n, count) uniforms in [0, 1): stateless when a seed tensor is given
    (deterministic in tf.data)."""
    import tensorflow as tf

    if seed is None:
        return tf.random.uniform((n, count))
    seed = tf.convert_to_tensor(seed)
    if not seed.shape.is_compatible_with([2]):  # (None,) in tf.data: let TF check
        raise ValueError(
            "seed must be None or a pair of ints such as fw.transform.step_seed(seed, "
            f"step) for the TensorFlow functions, got shape {seed.shape.as_list()}: "
            "one int would give every call the same draw (the *_batch functions take "
            "an int)."
        )
    return tf.random.stateless_uniform((n, count), seed=tf.cast(seed, tf.int32))


def _tf_batched(x: Any, what: str) -> tuple[Any, bool, int, int]:
    import tensorflow as tf

    x = tf.convert_to_tensor(x)
    h, w = _check_shape(tuple(x.shape), what)
    single = x.shape.rank == 3
    return (x[None] if single else x), single, h, w


@needs_tensorflow(instead="fw.transform.random_pad_crop_batch")
def random_pad_crop(x: Any, pad: int = PAD, seed: Any = None) -> Any:
    """Reflect-pads by `pad` pixels and cuts a random window of the original size
    (TensorFlow).

    `x` is one image (HWC) or a batch (NHWC, each image gets its own offset); any dtype,
    kept. The window's top-left corner is uniform over 0..2*pad in each direction.
    `seed`: None (TF's stateful random ops, as in the 2019 tutorial) or a shape-(2,) int
    tensor for stateless, reproducible draws. Chapter 4 shows what it does; Chapter 5
    runs it in tf.data.
    """
    ops = TF_OPS
    xb, single, h, w = _tf_batched(x, "random_pad_crop")
    _check_pad(pad, h, w)
    if pad:
        u = _tf_uniform(ops.batch_size(xb), seed, 2)
        xb = crop_flip(
            xb,
            randint_from_uniform(u[:, 0], 2 * pad + 1, ops),
            randint_from_uniform(u[:, 1], 2 * pad + 1, ops),
            None,
            pad,
            ops,
        )
    return xb[0] if single else xb


#: The 2019 tutorial's spelling (`fw.transform.ramdom_pad_crop`), kept so its code runs
#: unchanged.
ramdom_pad_crop = random_pad_crop


@needs_tensorflow(instead="fw.transform.random_flip_batch")
def random_flip(x: Any, seed: Any = None) -> Any:
    """Mirrors left-right with probability 1/2, independently per image (TensorFlow; HWC
    or NHWC).

    Chapter 4: CIFAR-10's classes look the same mirrored, so this doubles the data for
    free.
    """
    import tensorflow as tf

    xb, single, _, _ = _tf_batched(x, "random_flip")
    coin = _tf_uniform(tf.shape(xb)[0], seed, 1)[:, 0] < 0.5
    out = tf.where(coin[:, None, None, None], tf.reverse(xb, axis=[2]), xb)
    return out[0] if single else out


@needs_tensorflow(instead="fw.transform.cutout_batch")
def cutout(x: Any, h: int = CUTOUT, w: int | None = None, seed: Any = None,
           inside: bool = True) -> Any:
    """Zeroes an h x w window at a random place in each image (TensorFlow).

    As the seed's ``fw.transform.cutout(x, h, w)`` and Page's recipe: the window lies
    wholly inside, its corner uniform over the (H - h + 1) x (W - w + 1) positions, so
    h*w pixels are zeroed. ``inside=False``: DeVries & Taylor's (2017) placement, the
    centre uniform over the image and the window clipped at the borders (fewer pixels
    near an edge). `w` defaults to `h` (a square). HWC or NHWC; dtype kept. Chapter 4.
    """
    ops = TF_OPS
    w = h if w is None else w
    xb, single, ih, iw = _tf_batched(x, "cutout")
    _check_cutout(h, w, ih, iw)
    u = _tf_uniform(ops.batch_size(xb), seed, 2)
    out = cutout_at(
        xb,
        hole_centres(u[:, 0], h, ih, inside, ops),
        hole_centres(u[:, 1], w, iw, inside, ops),
        h,
        w,
        ops,
    )
    return out[0] if single else out


@needs_tensorflow(instead="fw.transform.augment_batch")
def augment_batch_tf(
    images: Any,
    seed: Any = None,
    pad: int = PAD,
    cutout: int = CUTOUT,
    flip: bool = True,
    mean: Any = None,
    std: Any = None,
) -> Any:
    """`augment_batch` in TensorFlow, for a tf.data pipeline: the three transforms on an
    NHWC batch with one stateless draw (`seed`: a shape-(2,) int tensor; None: TF's
    stateful ops). Same code as the backend-agnostic version, run through TensorFlow
    ops. With `mean` and `std` (per channel, pixel units) it also normalizes to float32,
    fused with the augmentation: equal to normalizing first, faster. Chapter 5's tuned
    pipeline uses it.
    """
    import tensorflow as tf

    ops = TF_OPS
    xb, single, h, w = _tf_batched(images, "augment_batch_tf")
    _check_pad(pad, h, w)
    _check_cutout(cutout, cutout, h, w)
    if (mean is None) != (std is None):
        raise ValueError(
            "pass both mean and std (per channel, pixel units), or neither."
        )
    scale = None
    if mean is not None:
        check_mean_std(mean, std, xb.shape[-1])
        scale = (
            tf.constant(mean, tf.float32),
            tf.constant(1 / np.asarray(std, np.float64), tf.float32),
        )
    out = augment_from_uniforms(
        xb, _tf_uniform(ops.batch_size(xb), seed, 5), pad, cutout, flip, ops, scale
    )
    return out[0] if single else out


# -------------------------------------------------- backend-agnostic family (keras.ops)

def step_seed(seed: int, step: Any) -> Any:
    """A seed tensor for step `step` of a run seeded with `seed`: what to pass as
    `seed=` under `jax.jit`.

    `step` may be a traced integer, so one compiled function serves every step, and each
    step gets its own augmentation, reproducibly (Chapter 4; Chapter 5's in-memory
    pipeline passes it for every batch). Under JAX it is a raw uint32 PRNG key
    `[seed, step]`; under TensorFlow an int32 pair for the stateless random ops - the
    same counter scheme a `keras.random.SeedGenerator` uses internally, without its
    variable.
    """
    from keras import ops

    dtype = "uint32" if _backend() == "jax" else "int32"
    return ops.stack([ops.convert_to_tensor(seed, dtype), ops.cast(step, dtype)])


def _backend() -> str:
    import keras

    return keras.backend.backend()


def _uniform(n: int, count: int, seed: Any, like: Any = None) -> Any:
    """(n, count) float32 uniforms in [0, 1) from whatever seed the caller has (see the
    module docstring)."""
    import keras

    if seed is None:
        raise ValueError(
            "seed is required: pass an int, a keras.random.SeedGenerator, or "
            "fw.transform.step_seed(seed, step) inside a jitted function (Chapter 4 "
            "explains which to use)."
        )
    if _backend() == "tensorflow" and not isinstance(
        seed, (int, np.integer, keras.random.SeedGenerator)
    ):
        # a seed tensor under TF: Keras's draw_seed takes ints and generators only
        import tensorflow as tf

        return tf.random.stateless_uniform((n, count), seed=tf.cast(seed, tf.int32))
    if isinstance(seed, np.integer):
        seed = int(seed)
    if isinstance(seed, keras.random.SeedGenerator) and _jax_tracing_outside_keras(
        like
    ):
        raise ValueError(
            "a keras.random.SeedGenerator inside jax.jit (outside Keras's own training "
            "step) would leak its state as a tracer and repeat the same augmentation "
            "every call: pass fw.transform.step_seed(seed, step) instead (Chapters 4 "
            "and 5)."
        )
    return keras.random.uniform((n, count), seed=seed, dtype="float32")


def _jax_tracing_outside_keras(x: Any) -> bool:
    """True when `x` is a JAX tracer (we are inside jax.jit) and Keras is not tracing
    its own stateless step (Keras's JAX trainer threads SeedGenerator states through a
    StatelessScope, which is fine)."""
    if _backend() != "jax":
        return False
    import jax
    from keras.src.backend.common.stateless_scope import in_stateless_scope

    return isinstance(x, jax.core.Tracer) and not in_stateless_scope()


def _batch_shape(images: Any, what: str) -> tuple[int, int, int]:
    shape = tuple(images.shape)
    h, w = _check_shape(shape, what)
    if len(shape) != 4:
        raise ValueError(
            f"{what}: expected a batch (n, height, width, channels), got shape "
            f"{shape}; for one image use x[None] (or the TensorFlow function without "
            f"`_batch`)."
        )
    if shape[0] is None:
        raise ValueError(f"{what}: the batch size must be static, got shape {shape}.")
    return int(shape[0]), h, w


def random_pad_crop_batch(images: Any, seed: Any, pad: int = PAD) -> Any:
    """`random_pad_crop` for an NHWC batch in `keras.ops`: per-image offsets uniform
    over 0..2*pad.

    Runs under any Keras backend and inside `jax.jit` (Chapters 4 and 5). Shape and
    dtype kept.
    """
    n, h, w = _batch_shape(images, "random_pad_crop_batch")
    _check_pad(pad, h, w)
    if pad == 0:
        return images
    ops, k = KERAS_OPS, 2 * pad + 1
    u = _uniform(n, 2, seed, images)
    return crop_flip(
        images,
        randint_from_uniform(u[:, 0], k, ops),
        randint_from_uniform(u[:, 1], k, ops),
        None,
        pad,
        ops,
    )


def random_flip_batch(images: Any, seed: Any) -> Any:
    """`random_flip` for an NHWC batch in `keras.ops`: each image mirrored with
    probability 1/2.

    Explained in Chapter 4, Augmentation (`random_flip`, a batch at a time).
    """
    n, _, _ = _batch_shape(images, "random_flip_batch")
    from keras import ops

    coin = _uniform(n, 1, seed, images)[:, 0] < 0.5
    return ops.where(coin[:, None, None, None], ops.flip(images, axis=2), images)


def cutout_batch(images: Any, seed: Any, h: int = CUTOUT, w: int | None = None,
                 inside: bool = True) -> Any:
    """`cutout` for an NHWC batch in `keras.ops`: one h x w hole per image, wholly
    inside (``inside=False``: DeVries & Taylor's clipped placement).

    Explained in Chapter 4, Augmentation (`cutout`, a batch at a time).
    """
    w = h if w is None else w
    n, ih, iw = _batch_shape(images, "cutout_batch")
    _check_cutout(h, w, ih, iw)
    ops = KERAS_OPS
    u = _uniform(n, 2, seed, images)
    return cutout_at(
        images,
        hole_centres(u[:, 0], h, ih, inside, ops),
        hole_centres(u[:, 1], w, iw, inside, ops),
        h,
        w,
        ops,
    )


def augment_batch(
    images: Any, seed: Any, pad: int = PAD, cutout: int = CUTOUT, flip: bool = True
) -> Any:
    """Page's training augmentation on an NHWC batch on the device: pad-and-crop, flip,
    cutout.

    `images` is a normalized float batch (any dtype works; it is kept). `pad=0` /
    `cutout=0` / `flip=False` switch a piece off. All random numbers come from ONE draw
    of (n, 5) uniforms, so one `seed` (int, SeedGenerator or `step_seed(...)`) gives
    reproducible, independent offsets, coins and holes. Pure `keras.ops`: on the JAX
    path it imports no TensorFlow and compiles under `jax.jit`. Chapter 4 explains the
    pieces; Chapter 5's `DeviceDataset` calls it every step.
    """
    n, h, w = _batch_shape(images, "augment_batch")
    _check_pad(pad, h, w)
    _check_cutout(cutout, cutout, h, w)
    return augment_from_uniforms(
        images, _uniform(n, 5, seed, images), pad, cutout, flip, KERAS_OPS
    )
