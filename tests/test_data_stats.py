"""fw.data.channel_stats and fw.data.normalize (Chapter 2): exact on small cases, equal to NumPy on any
data and any batching (hypothesis), and a clear error for each bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from fenwicks_lite import data

pytestmark = pytest.mark.backend


def test_exact_values_on_a_tiny_case():
    x = np.zeros((2, 1, 2, 3))
    x[..., 0] = [[[0, 2]], [[4, 6]]]        # red: 0 2 4 6 -> mean 3, population std sqrt(5)
    x[..., 1] = 7                            # green constant
    x[..., 2] = [[[1, 1]], [[3, 3]]]         # blue: 1 1 3 3 -> mean 2, std 1
    mean, std = data.channel_stats(x, batch_size=1)
    np.testing.assert_allclose(mean, [3, 7, 2])
    np.testing.assert_allclose(std, [np.sqrt(5), 0, 1])


@settings(max_examples=60, deadline=None)
@given(x=arrays(np.float64, st.tuples(st.integers(1, 9), st.integers(1, 4), st.integers(1, 4), st.just(3)),
                elements=st.floats(-1e3, 1e3)),
       batch_size=st.one_of(st.none(), st.integers(1, 10)))
def test_streaming_equals_numpy_for_any_batching(x, batch_size):
    mean, std = data.channel_stats(x, batch_size=batch_size)
    np.testing.assert_allclose(mean, x.mean(axis=(0, 1, 2)), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(std, x.std(axis=(0, 1, 2)), rtol=1e-6, atol=1e-6)


def test_uint8_real_images_match_numpy(cifar_sample):
    (x, _), _ = cifar_sample
    mean, std = data.channel_stats(x, batch_size=97)
    ref = x.astype(np.float64)
    np.testing.assert_allclose(mean, ref.mean(axis=(0, 1, 2)), rtol=1e-6)
    np.testing.assert_allclose(std, ref.std(axis=(0, 1, 2)), rtol=1e-6)
    assert mean.dtype == np.float64


def test_stable_where_the_naive_formula_fails():
    # a large offset: E[x^2] - E[x]^2 in float32 would lose all digits of a variance of 1
    rng = np.random.default_rng(1)
    x = (1e8 + rng.standard_normal((200, 4, 4, 3))).astype(np.float64)
    _, std = data.channel_stats(x, batch_size=7)
    np.testing.assert_allclose(std, x.std(axis=(0, 1, 2)), rtol=1e-6)


def test_memmap_is_read_batch_by_batch(tmp_path, rng):
    x = rng.integers(0, 256, (50, 8, 8, 3), dtype=np.uint8)
    mm = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.uint8, shape=x.shape)
    mm[:] = x
    mean, std = data.channel_stats(np.load(tmp_path / "x.npy", mmap_mode="r"), batch_size=8)
    np.testing.assert_allclose(mean, x.mean(axis=(0, 1, 2)), rtol=1e-9)
    np.testing.assert_allclose(std, x.std(axis=(0, 1, 2)), rtol=1e-9)


@pytest.mark.parametrize("x, kw, match", [
    (np.zeros((4, 4, 3)), {}, r"\(N, H, W, C\)"),
    (np.zeros((2, 4, 4, 1)), {}, "3 colour channels"),
    (np.zeros((2, 3, 4, 4)), {}, "transpose"),
    (np.zeros((0, 4, 4, 3)), {}, "empty"),
    (np.zeros((2, 4, 4, 3)), {"batch_size": 0}, "batch_size must be a positive integer"),
])
def test_channel_stats_bad_input(x, kw, match):
    with pytest.raises(ValueError, match=match):
        data.channel_stats(x, **kw)


def test_normalize_gives_mean_0_std_1_float32(cifar_sample):
    (x, _), (xt, _) = cifar_sample
    mean, std = data.channel_stats(x)
    z = data.normalize(x, mean, std)
    assert z.dtype == np.float32 and z.shape == x.shape
    np.testing.assert_allclose(z.mean(axis=(0, 1, 2), dtype=np.float64), 0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=(0, 1, 2), dtype=np.float64), 1, atol=1e-5)
    np.testing.assert_allclose(data.normalize(x[0, 0, 0], mean, std), (x[0, 0, 0] - mean) / std, rtol=1e-6)
    assert data.normalize(xt, mean, std).dtype == np.float32  # the test set: the same training stats


@pytest.mark.parametrize("mean, std, match", [
    ((0, 0, 0), (1, 0, 1), "std must be positive"),
    ((0, 0, 0), (1, -1, 1), "std must be positive"),
    ((0, 0), (1, 1, 1), "one value per channel"),
    ((0, 0, 0), (1, 1, 1, 1), "one value per channel"),
])
def test_normalize_bad_stats(mean, std, match):
    with pytest.raises(ValueError, match=match):
        data.normalize(np.zeros((2, 2, 2, 3)), mean, std)


def test_normalize_needs_three_channels():
    with pytest.raises(ValueError, match="3 colour channels"):
        data.normalize(np.zeros((2, 2, 2, 1)), (0, 0, 0), (1, 1, 1))


def test_channel_stats_streams_by_default():
    """Without `batch_size` it reads STATS_BATCH images at a time: its peak memory stays
    well under the float64 copy of all of `x` that batch_size=None (like `x.std()`) makes,
    and both give the same numbers."""
    import tracemalloc

    n = 6 * data.STATS_BATCH
    x = np.random.default_rng(0).integers(0, 256, (n, 4, 4, 3), dtype=np.uint8)
    full_copy = n * 4 * 4 * 3 * 8
    peaks = {}
    for batch_size in ("default", None):
        tracemalloc.start()
        try:
            got = (data.channel_stats(x) if batch_size == "default"
                   else data.channel_stats(x, batch_size=None))
            peaks[batch_size] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        np.testing.assert_allclose(got[0], x.mean(axis=(0, 1, 2)), rtol=1e-12)
        np.testing.assert_allclose(got[1], x.std(axis=(0, 1, 2)), rtol=1e-9)
    assert peaks[None] >= full_copy
    assert peaks["default"] < 0.5 * full_copy, peaks
