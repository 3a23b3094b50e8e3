"""Augmentation (fw.transform, Chapter 4): both families, their properties, and every documented bad input.

Tests marked `backend` use only keras.ops (run under TensorFlow and, with TF blocked, under JAX); the rest
test the TensorFlow family for tf.data and are TensorFlow-only.
"""

from __future__ import annotations

import no_tensorflow
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fenwicks_lite import transform as T

SETTINGS = settings(max_examples=15, deadline=None)


def _np(x):
    from keras import ops

    return np.asarray(ops.convert_to_numpy(x))


def _offsets(x: np.ndarray, out: np.ndarray, pad: int, unique: bool = False) -> np.ndarray:
    """For each image, the (dy, dx) at which `out` equals a window of the reflect-padded `x`; -1 if none.

    Random continuous images make the match unique when 2*pad < 2*(side - 1) (a reflected image repeats
    with that period), so this reads the crop's offset off its output; otherwise the first match.
    """
    n, h, w, _ = x.shape
    padded = np.pad(x, [(0, 0), (pad, pad), (pad, pad), (0, 0)], mode="reflect")
    win = np.lib.stride_tricks.sliding_window_view(padded, (h, w), axis=(1, 2))  # n, 2p+1, 2p+1, c, h, w
    match = (win == out.transpose(0, 3, 1, 2)[:, None, None]).all(axis=(3, 4, 5))
    if unique:
        assert (match.sum(axis=(1, 2)) <= 1).all()
    flat = np.where(match.any(axis=(1, 2)), match.reshape(n, -1).argmax(axis=1), -1)
    return np.stack([np.where(flat >= 0, flat // (2 * pad + 1), -1), np.where(flat >= 0, flat % (2 * pad + 1), -1)], 1)


def _images(n, h, w, c, seed=0, dtype="float32"):
    rng = np.random.default_rng(seed)
    if dtype == "uint8":
        return rng.integers(1, 256, (n, h, w, c)).astype(np.uint8)
    return (rng.random((n, h, w, c)) + 0.5).astype(dtype)  # no zeros: cutout's zeros are its own


shapes = st.tuples(st.integers(1, 6), st.integers(5, 12), st.integers(5, 12), st.sampled_from([1, 3]))


# ---------------------------------------------------------------- backend-agnostic (keras.ops) family

@pytest.mark.backend
@SETTINGS
@given(shape=shapes, pad=st.integers(0, 4), seed=st.integers(0, 2**31 - 1), dtype=st.sampled_from(["float32", "uint8"]))
def test_batch_crop_is_a_window_of_the_padded_image(shape, pad, seed, dtype):
    x = _images(*shape, seed=seed % 1000, dtype=dtype)
    out = _np(T.random_pad_crop_batch(x, seed, pad=pad))
    assert out.shape == x.shape and out.dtype == x.dtype
    if dtype == "float32":  # continuous values: the window is unique, so its offset is known
        off = _offsets(x, out, pad)
        assert ((off >= 0) & (off <= 2 * pad)).all()


@pytest.mark.backend
@SETTINGS
@given(shape=shapes, seed=st.integers(0, 2**31 - 1), dtype=st.sampled_from(["float32", "uint8"]))
def test_batch_flip_mirrors_or_keeps_each_image_and_is_an_involution(shape, seed, dtype):
    x = _images(*shape, dtype=dtype)
    out = _np(T.random_flip_batch(x, seed))
    assert out.shape == x.shape and out.dtype == x.dtype
    for a, b in zip(x, out, strict=True):
        assert np.array_equal(a, b) or np.array_equal(a[:, ::-1], b)
    assert np.array_equal(_np(T.random_flip_batch(out, seed)), x)  # same seed, same coins: undone


@pytest.mark.backend
def test_batch_flip_happens_half_the_time():
    n = 10_000
    x = _images(n, 2, 2, 1)
    flipped = (_np(T.random_flip_batch(x, 7))[:, 0, 0, 0] != x[:, 0, 0, 0]).mean()
    sigma = np.sqrt(0.25 / n)
    assert abs(flipped - 0.5) < 3 * sigma


def _check_cutout_holes(x: np.ndarray, out: np.ndarray, ch: int, cw: int,
                        inside: bool = True) -> np.ndarray:
    """Asserts each image's zeros form one ch x cw window (whole if `inside`, else clipped at the
    borders) and nothing else changed; returns how many pixels each image lost."""
    _, h, w, _ = x.shape
    counts = []
    for a, b in zip(x, out, strict=True):
        zero = (b == 0).all(axis=-1)
        assert np.array_equal(b[~zero], a[~zero])  # never outside its window
        rows, cols = np.where(zero.any(axis=1))[0], np.where(zero.any(axis=0))[0]
        assert zero.sum() == len(rows) * len(cols)  # one rectangle
        if len(rows):
            assert len(rows) == ch or rows[0] == 0 or rows[-1] == h - 1  # full height unless clipped
            assert len(cols) == cw or cols[0] == 0 or cols[-1] == w - 1
            assert len(rows) <= ch and len(cols) <= cw
        if inside:
            assert (len(rows), len(cols)) == (ch, cw)
        counts.append(int(zero.sum()))
    return np.array(counts)


@pytest.mark.backend
@SETTINGS
@given(shape=shapes, size=st.integers(1, 5), seed=st.integers(0, 2**31 - 1), dtype=st.sampled_from(["float32", "uint8"]))
def test_batch_cutout_zeroes_one_window(shape, size, seed, dtype):
    x = _images(*shape, dtype=dtype)
    out = _np(T.cutout_batch(x, seed, h=size))
    assert out.shape == x.shape and out.dtype == x.dtype
    counts = _check_cutout_holes(x, out, size, size)  # wholly inside, as the seed's
    assert (counts == size * size).all()
    clipped = _np(T.cutout_batch(x, seed, h=size, inside=False))
    counts = _check_cutout_holes(x, clipped, size, size, inside=False)
    assert (counts <= size * size).all() and (counts >= 1).all()  # the centre is always inside


@pytest.mark.backend
def test_batch_cutout_places_the_seeds_hole_uniformly_inside():
    """The seed's and Page's placement: the window's first row (and column) is uniform over
    0..h-size, so every hole is whole (a chi-square test at a generous level)."""
    n, size = 9000, 4
    x = _images(n, 12, 12, 1)
    out = _np(T.cutout_batch(x, 5, h=size))
    _check_cutout_holes(x, out, size, size)
    zero = (out == 0).all(axis=-1)
    for axis in (2, 1):  # rows, then columns
        first = zero.any(axis=axis).argmax(axis=1)
        counts = np.bincount(first, minlength=12)
        assert counts[12 - size + 1:].sum() == 0  # never past 12 - size
        want = n / (12 - size + 1)
        chi2 = (((counts[: 12 - size + 1] - want) ** 2) / want).sum()
        assert chi2 < 30  # 8 degrees of freedom: p < 0.001 above 26.1


@pytest.mark.backend
def test_hole_centres_exact_positions():
    u = np.array([0.0, 0.5, np.nextafter(np.float32(1), np.float32(0))], np.float32)
    # inside: first position 0, 12, 24 of the 25, centre = first + size // 2
    assert _np(T.hole_centres(u, 8, 32)).tolist() == [4, 16, 28]
    assert _np(T.hole_centres(u, 8, 32, inside=False)).tolist() == [0, 16, 31]
    assert _np(T.hole_centres(u, 3, 8)).tolist() == [1, 4, 6]  # windows [0,3), [3,6), [5,8)


@pytest.mark.backend
def test_batch_cutout_devries_placement_is_clipped_at_the_borders():
    x = _images(4000, 12, 12, 1)
    counts = _check_cutout_holes(x, _np(T.cutout_batch(x, 3, h=4, w=4, inside=False)), 4, 4,
                                 inside=False)
    # Centre uniform over 12 positions per axis; the 4-window [c-2, c+2) lies inside for c in 2..10.
    inside = (9 / 12) ** 2
    assert abs((counts == 16).mean() - inside) < 4 * np.sqrt(inside * (1 - inside) / len(counts))
    assert (counts < 16).any() and set(np.unique(counts)) <= {16, 12, 8, 9, 6, 4}


@pytest.mark.backend
def test_same_seed_same_output_different_seed_different_output():
    x = _images(32, 12, 12, 3)  # room for the 8 x 8 hole to move (8 x 8 images: one place)
    for fn in (T.random_pad_crop_batch, T.random_flip_batch, T.cutout_batch, T.augment_batch):
        assert np.array_equal(_np(fn(x, 5)), _np(fn(x, 5))), fn.__name__
        assert not np.array_equal(_np(fn(x, 5)), _np(fn(x, 6))), fn.__name__


@pytest.mark.backend
def test_seed_generator_draws_anew_each_call_and_step_seeds_differ():
    import keras

    x = _images(32, 12, 12, 3)  # an 8 x 8 hole moves (in 8 x 8: one place)
    gen = keras.random.SeedGenerator(1)
    assert not np.array_equal(_np(T.augment_batch(x, gen)), _np(T.augment_batch(x, gen)))
    a, b = (_np(T.augment_batch(x, T.step_seed(0, s))) for s in (1, 2))
    assert not np.array_equal(a, b)
    assert np.array_equal(a, _np(T.augment_batch(x, T.step_seed(0, 1))))


@pytest.mark.backend
def test_augment_batch_switches_and_composition():
    x = _images(64, 8, 8, 3)
    assert np.array_equal(_np(T.augment_batch(x, 0, pad=0, cutout=0, flip=False)), x)
    only_crop = _np(T.augment_batch(x, 0, pad=2, cutout=0, flip=False))
    assert (_offsets(x, only_crop, 2) >= 0).all()
    full = _np(T.augment_batch(x, 0, pad=2, cutout=3))
    assert full.shape == x.shape and full.dtype == x.dtype
    holes = (full == 0).all(axis=-1).sum(axis=(1, 2))
    assert (holes == 9).all()  # whole 3 x 3 holes, as the seed's
    # Offsets are spread over all 5 x 5 positions, not stuck at one.
    assert len({tuple(o) for o in _offsets(x, only_crop, 2, unique=True)}) > 10


@pytest.mark.backend
def test_augment_batch_compiles_under_jit():
    import keras

    x = _images(16, 12, 12, 3)
    if keras.backend.backend() == "jax":
        import jax

        step_fn = jax.jit(lambda a, step: T.augment_batch(a, T.step_seed(0, step)))
        gen = keras.random.SeedGenerator(0)
        with pytest.raises(ValueError, match="step_seed"):
            jax.jit(lambda a: T.augment_batch(a, gen))(x)
    else:
        import tensorflow as tf

        step_fn = tf.function(lambda a, step: T.augment_batch(a, T.step_seed(0, step)))
    a1, a1b, a2 = (_np(step_fn(x, s)) for s in (1, 1, 2))
    assert np.array_equal(a1, a1b) and not np.array_equal(a1, a2)
    assert np.array_equal(a1, _np(T.augment_batch(x, T.step_seed(0, 1))))  # compiled == eager


@pytest.mark.backend
def test_batch_bad_inputs_say_what_to_do():
    x = _images(2, 8, 8, 3)
    with pytest.raises(ValueError, match="non-negative"):
        T.random_pad_crop_batch(x, 0, pad=-1)
    with pytest.raises(ValueError, match="too large"):
        T.random_pad_crop_batch(x, 0, pad=8)
    with pytest.raises(ValueError, match="larger than the 8 x 8"):
        T.cutout_batch(x, 0, h=9)
    with pytest.raises(ValueError, match="larger than the 8 x 8"):
        T.augment_batch(x, 0, cutout=10)
    with pytest.raises(ValueError, match="rank 2"):
        T.random_flip_batch(x[0, :, :, 0], 0)
    with pytest.raises(ValueError, match="rank 5"):
        T.augment_batch(x[None], 0)
    with pytest.raises(ValueError, match=r"x\[None\]"):
        T.augment_batch(x[0], 0)
    with pytest.raises(ValueError, match="seed is required"):
        T.augment_batch(x, None)


# ---------------------------------------------------------------- TensorFlow family (tf.data), TF only

def test_tf_one_image_and_batch_keep_shape_and_dtype():
    x = _images(4, 8, 8, 3, dtype="uint8")
    for fn in (T.random_pad_crop, T.ramdom_pad_crop, T.random_flip, T.cutout):
        for a in (x, x[0]):
            out = fn(a).numpy()
            assert out.shape == a.shape and out.dtype == a.dtype, fn.__name__


@SETTINGS
@given(shape=shapes, pad=st.integers(0, 4), seed=st.integers(0, 2**31 - 1))
def test_tf_crop_is_a_window_and_seeded_draws_repeat(shape, pad, seed):
    x = _images(*shape)
    s = np.array([seed, 1])
    out = T.random_pad_crop(x, pad, seed=s).numpy()
    off = _offsets(x, out, pad)
    assert ((off >= 0) & (off <= 2 * pad)).all()
    assert np.array_equal(out, T.random_pad_crop(x, pad, seed=s).numpy())


def test_tf_flip_and_cutout_properties():
    x = _images(10_000, 4, 4, 1)
    flipped = T.random_flip(x, seed=np.array([1, 2])).numpy()
    rate = (flipped[:, 0, 0, 0] != x[:, 0, 0, 0]).mean()
    assert abs(rate - 0.5) < 3 * np.sqrt(0.25 / len(x))
    for a, b in zip(x[:50], flipped[:50], strict=True):
        assert np.array_equal(a, b) or np.array_equal(a[:, ::-1], b)
    assert np.array_equal(T.random_flip(flipped, seed=np.array([1, 2])).numpy(), x)  # involution
    x = _images(2000, 12, 12, 3)
    counts = _check_cutout_holes(x, T.cutout(x, 4, seed=np.array([3, 4])).numpy(), 4, 4)
    assert (counts == 16).all()  # the seed's: wholly inside
    clipped = T.cutout(x, 4, seed=np.array([3, 4]), inside=False).numpy()
    counts = _check_cutout_holes(x, clipped, 4, 4, inside=False)
    assert (counts == 16).any() and (counts < 16).any()


def test_tf_and_keras_offsets_agree_in_distribution():
    """Both families draw crop offsets uniformly over 0..2*pad: their histograms match each other and
    the uniform one within sampling noise (a chi-square test at a generous level)."""
    n, pad = 10_000, 2
    x = _images(n, 6, 6, 1)
    k = 2 * pad + 1
    hists = []
    for out in (T.random_pad_crop(x, pad, seed=np.array([0, 9])).numpy(), _np(T.random_pad_crop_batch(x, 9, pad))):
        off = _offsets(x, out, pad, unique=True)
        assert (off >= 0).all()
        hists.append(np.bincount(off[:, 0] * k + off[:, 1], minlength=k * k))
    expected = n / (k * k)
    for h in hists:  # chi-square with 24 degrees of freedom: 99.9% quantile is 51.2
        assert ((h - expected) ** 2 / expected).sum() < 51.2
    a, b = hists
    assert ((a - b) ** 2 / (a + b)).sum() < 51.2  # two-sample chi-square, same quantile


def test_tf_bad_inputs_say_what_to_do():
    x = _images(2, 8, 8, 3)
    with pytest.raises(ValueError, match="non-negative"):
        T.random_pad_crop(x, -1)
    with pytest.raises(ValueError, match="too large"):
        T.random_pad_crop(x[0], 8)
    with pytest.raises(ValueError, match="larger than the 8 x 8"):
        T.cutout(x, 4, 9)
    with pytest.raises(ValueError, match="rank 2"):
        T.random_flip(x[0, :, :, 0])
    with pytest.raises(ValueError, match="rank 5"):
        T.cutout(x[None])
    # one int (every other seed= in the book takes one) was a raw TF shape error
    for f in (T.random_pad_crop, T.random_flip, T.cutout):
        with pytest.raises(ValueError, match=r"a pair of ints such as fw.transform.step_seed"):
            f(x, seed=0)
    assert T.random_flip(x, seed=(3, 1)).shape == x.shape


def test_tf_fused_normalization_equals_normalizing_first():
    """augment_batch_tf(x, mean, std) == augment_batch_tf((x - mean) / std) with the same seed: moving pixels
    commutes with per-channel scaling, and cutout's zero is the hole either way."""
    x = _images(64, 8, 8, 3, dtype="uint8")
    mean, std = np.array([120.0, 110.0, 100.0]), np.array([60.0, 55.0, 70.0])
    s = np.array([4, 2])
    fused = T.augment_batch_tf(x, s, pad=2, cutout=3, mean=mean, std=std).numpy()
    first = T.augment_batch_tf(((x - mean) / std).astype(np.float32), s, pad=2, cutout=3).numpy()
    assert fused.dtype == np.float32
    np.testing.assert_allclose(fused, first, rtol=1e-5, atol=1e-5)
    assert ((fused == 0).all(-1).sum(axis=(1, 2)) >= 1).all()
    plain = T.augment_batch_tf(x, s, pad=2, cutout=3).numpy()
    assert plain.dtype == np.uint8 and np.array_equal((plain == 0).all(-1), (fused == 0).all(-1))
    with pytest.raises(ValueError, match="both mean and std"):
        T.augment_batch_tf(x, s, mean=mean)


# ---------------------------------------------------------------- the shared pieces (Chapter 4 shows them)

def _np_crop_flip(x, dy, dx, coin, pad):
    """Reference: pad by reflection, cut each image's window, mirror where `coin`."""
    h, w = x.shape[1:3]
    p = np.pad(x, [(0, 0), (pad, pad), (pad, pad), (0, 0)], mode="reflect")
    out = np.stack([p[k, dy[k]:dy[k] + h, dx[k]:dx[k] + w] for k in range(len(x))])
    if coin is not None:
        out = np.where(np.asarray(coin)[:, None, None, None], out[:, :, ::-1], out)
    return out


def _np_window(centre, size, extent):
    pos = np.arange(extent)[None, :]
    start = np.asarray(centre)[:, None] - size // 2
    return (pos >= start) & (pos < start + size)


@pytest.mark.backend
def test_reflect_index_matches_numpy_reflect_padding():
    for n, pad in ((5, 4), (8, 2), (2, 1)):
        r = np.arange(-pad, n + pad)
        expected = np.pad(np.arange(n), pad, mode="reflect")
        assert np.array_equal(_np(T.reflect_index(r, n)), expected)
    assert _np(T.reflect_index(np.array([-1, 5]), 5)).tolist() == [1, 3]


@pytest.mark.backend
def test_window_mask_is_clipped_at_the_borders():
    m = _np(T.window_mask(np.array([0, 4, 7]), 4, 8))
    assert m.astype(int).tolist() == [[1, 1, 0, 0, 0, 0, 0, 0],
                                      [0, 0, 1, 1, 1, 1, 0, 0],
                                      [0, 0, 0, 0, 0, 1, 1, 1]]
    assert np.array_equal(_np(T.window_mask(np.arange(10), 3, 10)), _np_window(np.arange(10), 3, 10))


@pytest.mark.backend
@SETTINGS
@given(st.integers(1, 5), st.integers(0, 3), st.integers(0, 10**6), st.booleans())
def test_crop_flip_is_pad_crop_flip(n, pad, seed, flip):
    x = _images(n, 7, 6, 2, seed)
    rng = np.random.default_rng(seed)
    dy, dx = rng.integers(0, 2 * pad + 1, n), rng.integers(0, 2 * pad + 1, n)
    coin = rng.random(n) < 0.5 if flip else None
    expected = _np_crop_flip(x, dy, dx, coin, pad)
    assert np.array_equal(_np(T.crop_flip(x, dy, dx, coin, pad)), expected)


@pytest.mark.backend
def test_cutout_at_zeroes_exactly_the_clipped_windows():
    x = _images(3, 8, 8, 2, dtype="uint8")
    cy, cx = np.array([0, 4, 7]), np.array([7, 4, 0])
    out = _np(T.cutout_at(x, cy, cx, 4, 2))
    hole = _np_window(cy, 4, 8)[:, :, None] & _np_window(cx, 2, 8)[:, None, :]
    assert out.dtype == np.uint8
    assert np.array_equal(out, np.where(hole[..., None], 0, x))
    # rows 0-1 x cols 6-7; rows 2-5 x cols 3-4; rows 5-7 x col 0 (clipped at the borders)
    assert hole.sum(axis=(1, 2)).tolist() == [2 * 2, 4 * 2, 3 * 1]


@pytest.mark.backend
def test_randint_from_uniform_covers_0_to_k_minus_1_and_clips():
    u = np.array([0.0, 0.11, 0.5, np.nextafter(np.float32(1), np.float32(0)), 1.0], np.float32)
    assert _np(T.randint_from_uniform(u, 9)).tolist() == [0, 0, 4, 8, 8]


@pytest.mark.backend
def test_augment_from_uniforms_reads_its_five_columns():
    x = _images(4, 8, 8, 3)
    u = np.array([[0.0, 0.99, 0.2, 0.0, 0.99], [0.5, 0.5, 0.7, 0.5, 0.5],
                  [0.99, 0.0, 0.4, 0.99, 0.0], [0.3, 0.6, 0.9, 0.3, 0.6]], np.float32)
    pad, size = 2, 3
    dy, dx = np.floor(u[:, 0] * 5).astype(int), np.floor(u[:, 1] * 5).astype(int)
    # the hole wholly inside: first row floor(u * (8 - 3 + 1)), centre 3 // 2 further
    cy, cx = (np.floor(u[:, k] * 6).astype(int) + 1 for k in (3, 4))
    moved = _np_crop_flip(x, dy, dx, u[:, 2] < 0.5, pad)
    hole = _np_window(cy, size, 8)[:, :, None] & _np_window(cx, size, 8)[:, None, :]
    expected = np.where(hole[..., None], 0, moved)
    assert np.array_equal(_np(T.augment_from_uniforms(x, u, pad, size, True)), expected)
    # switched off: identity; with scale: (x - mean) * inv_std, hole still 0
    assert np.array_equal(_np(T.augment_from_uniforms(x, u, 0, 0, False)), x)
    mean, inv = np.float32([1.0, 0.5, 0.0]), np.float32([2.0, 4.0, 1.0])
    scaled = _np(T.augment_from_uniforms(x, u, pad, size, True, scale=(mean, inv)))
    np.testing.assert_allclose(scaled, np.where(hole[..., None], 0, (moved - mean) * inv),
                               rtol=1e-6, atol=1e-6)


def test_shared_pieces_give_the_same_answer_through_tensorflow_ops():
    x = _images(3, 8, 8, 3)
    u = np.random.default_rng(1).random((3, 5)).astype(np.float32)
    keras_out = _np(T.augment_from_uniforms(x, u, 2, 3, True))
    tf_out = T.augment_from_uniforms(x, u, 2, 3, True, ops=T.TF_OPS).numpy()
    assert np.array_equal(keras_out, tf_out)


def test_mean_and_std_are_checked_where_they_are_given():
    """A zero std made NaN images without a word; one mean for three channels was
    taken; now each place that normalizes says what is wrong."""
    from fenwicks_lite import pipeline as P

    x = _images(4, 8, 8, 3, dtype="uint8")
    y = np.zeros(4, np.int64)
    bad = [([1.0, 1.0, 1.0], [0.0, 1.0, 1.0], "std must be positive"),
           ([1.0], [1.0], r"one value per channel \(3\)"),
           ([1.0, np.nan, 1.0], [1.0, 1.0, 1.0], "finite")]
    for mean, std, match in bad:
        with pytest.raises(ValueError, match=match):
            T.augment_batch_tf(x, (1, 2), mean=mean, std=std)
        with pytest.raises(ValueError, match=match):
            P.DeviceDataset(x, y, 2, mean=mean, std=std)
    with pytest.raises(ValueError, match="std must be positive"):
        P.tf_augment(mean=[1.0, 1.0, 1.0], std=[1.0, 0.0, 1.0])
    T.check_mean_std([125.3, 123.0, 113.9], [63.0, 62.1, 66.7], 3)  # CIFAR-10's: fine


# ---------------------------------------- the seed's May 2019 tfm_reverse_standard_scaler

def test_reverse_standard_scaler_undoes_the_normalization_exactly():
    rng = np.random.default_rng(0)
    mean, std = np.array([0.49, 0.48, 0.45]), np.array([0.25, 0.24, 0.26])
    x = rng.normal(size=(4, 5, 5, 3)).astype(np.float32)
    back = T.tfm_reverse_standard_scaler(mean, std)
    got = back(x)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, x * std.astype(np.float32) + mean.astype(np.float32))
    np.testing.assert_array_equal(back(x[0]), got[0])  # one image too
    pixels = rng.uniform(size=(2, 4, 4, 3))
    normalized = (pixels - mean) / std
    np.testing.assert_allclose(back(normalized), pixels, atol=1e-6)


@pytest.mark.backend
def test_reverse_standard_scaler_on_backend_tensors():
    import keras

    x = np.arange(24, dtype=np.float32).reshape(2, 2, 2, 3) / 24
    back = T.tfm_reverse_standard_scaler([0.5, 0.4, 0.3], [2.0, 3.0, 4.0])
    got = keras.ops.convert_to_numpy(back(keras.ops.convert_to_tensor(x)))
    np.testing.assert_array_equal(got, back(x))


@pytest.mark.parametrize("mean, std, match", [
    ([0.5, 0.5, 0.5], [0.2, 0.0, 0.2], "std must be positive in every channel"),
    ([0.5, 0.5, 0.5], [0.2, -0.1, 0.2], "std must be positive"),
    ([0.5, 0.5], [0.2, 0.2, 0.2], "one value per channel.*fw.data.channel_stats"),
    (0.5, 0.2, "one value per channel"),
])
def test_reverse_standard_scaler_bad_stats_say_what_to_do(mean, std, match):
    with pytest.raises(ValueError, match=match):
        T.tfm_reverse_standard_scaler(mean, std)


def test_reverse_standard_scaler_wrong_channels_say_what_to_do():
    back = T.tfm_reverse_standard_scaler([0.5, 0.4, 0.3], [0.2, 0.2, 0.2])
    with pytest.raises(ValueError, match=r"3 channels last .* got shape \(2, 4, 4, 1\)"):
        back(np.zeros((2, 4, 4, 1)))


# ----------------------------------------------------------------------------------- without TensorFlow

def test_without_tensorflow_the_tensorflow_family_names_the_keras_ops_function_to_use():
    """A JAX-only install: each function of the TensorFlow family (and the op set `TF_OPS`) says
    it needs TensorFlow, the install line and its keras.ops twin, which works there."""
    x = "np.zeros((2, 8, 8, 3), np.float32)"
    cases = {  # label: (the call, the name the error gives, the twin it offers)
        "random_pad_crop": (f"fw.transform.random_pad_crop({x})", "random_pad_crop", "random_pad_crop_batch"),
        "ramdom_pad_crop": (f"fw.transform.ramdom_pad_crop({x})", "random_pad_crop", "random_pad_crop_batch"),
        "random_flip": (f"fw.transform.random_flip({x}, seed=(1, 2))", "random_flip", "random_flip_batch"),
        "cutout": (f"fw.transform.cutout({x}, 4)", "cutout", "cutout_batch"),
        "augment_batch_tf": (f"fw.transform.augment_batch_tf({x}, (1, 2))", "augment_batch_tf",
                             "augment_batch"),
        "TF_OPS.arange": ("fw.transform.TF_OPS.arange(3)", "TFOps.arange", "KERAS_OPS"),
        "TF_OPS.batch_size": (f"fw.transform.TF_OPS.batch_size({x})", "TFOps.batch_size", "KERAS_OPS"),
        "TF_OPS.where": ("fw.transform.TF_OPS.where", "TFOps.__getattr__", "KERAS_OPS"),
    }
    got = no_tensorflow.errors_without_tensorflow(
        {**{k: call for k, (call, _, _) in cases.items()},
         "random_flip_batch": f"fw.transform.random_flip_batch({x}, 0).shape"})
    for label, (_, name, twin) in cases.items():
        no_tensorflow.assert_says_what_to_install(got[label], f"fw.transform.{name}", f"fw.transform.{twin}")
    assert got["random_flip_batch"] == {"returned": repr((2, 8, 8, 3))}
