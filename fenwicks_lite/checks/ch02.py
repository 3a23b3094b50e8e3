"""Self-checks for Chapter 2, CIFAR-10 and channel normalization."""

from __future__ import annotations

import tracemalloc

import numpy as np

# bound at import, before any answer runs (see checks/__init__.py)
from numpy import allclose as _allclose
from numpy import isclose as _isclose

from fenwicks_lite.exercises import exercise, expect, hidden


@exercise(
    "ch02.streaming_std",
    title="Streaming mean and standard deviation",
    difficulty="medium",
)
def check_streaming_std(fn) -> None:
    """`fn(batches)` -> (mean, std) of all numbers in an iterable of 1-D arrays, reading
    each batch once."""
    rng = np.random.default_rng(7)
    parts = [rng.normal(3.0, 2.0, n) for n in (5, 1, 17, 40)]
    allx = np.concatenate(parts)
    mean, std = fn(iter(parts))
    expect(
        mean is not None and std is not None,
        f"streaming_std returned ({mean}, {std}): return the mean and the std.",
    )
    expect(
        _isclose(mean, allx.mean()),
        f"the mean should be {allx.mean():.6f}, got {mean}"
        + (
            ": that is the plain average of the batches' means, but the batches "
            "differ in size. Weight each batch by its count n."
            if _isclose(mean, np.mean([p.mean() for p in parts]))
            else ""
        ),
    )
    expect(
        _isclose(std, allx.std(), rtol=1e-9),
        f"the std should be {allx.std():.6f}, got {std}: " + _std_hint(std, allx),
    )
    # a big offset: E[x^2] - E[x]^2 cancels catastrophically, the Welford/Chan update
    # does not
    parts = [1e9 + rng.normal(0.0, 1.0, 100) for _ in range(5)]
    allx = np.concatenate(parts)
    mean, std = fn(iter(parts))
    expect(
        _isclose(std, allx.std(), rtol=1e-6),
        f"with values near 1e9 the std should be {allx.std():.6f}, got {std}: "
        "E[x^2] - E[x]^2 loses the digits; merge (count, mean, M2) per batch as in "
        "Chan et al. instead.",
    )
    mean, std = fn(iter([np.array([4.0])]))
    expect(
        _isclose(mean, 4.0) and _isclose(std, 0.0),
        "one number: mean is that number, std is 0",
    )
    mean, std, peak = _peak_bytes(fn, _batches(rng, *_STREAM, 5.0))
    expect(
        _isclose(mean, 5.0, atol=0.01),
        f"{_STREAM[0]} batches around 5: the mean should be near 5, got {mean}",
    )
    expect(
        peak < _STREAM_PEAK,
        f"{_STREAM[0]} batches of {_STREAM[1]:,} numbers made one at a time: your "
        f"function held {peak / 1e6:.1f} MB, about all of them at once. Stream: keep "
        "(count, mean, M2) and merge each batch into them instead of concatenating.",
    )


#: the streaming test's batches (count, size): a fraction of the numbers at once is a
#: stream, all of them is not. Small enough that a correct loop over every number in
#: plain Python (Welford's update) takes seconds, not a minute (the grader's --timeout)
_STREAM = (40, 5_000)
_STREAM_PEAK = 0.25 * _STREAM[0] * _STREAM[1] * 8  # bytes: 10 of the 40 batches


def _std_hint(std, allx: np.ndarray) -> str:
    """What a std that is not `allx.std()` most likely did wrong."""
    if _isclose(std, allx.std(ddof=1), rtol=1e-9):
        return (
            "that is the sample std; the population std divides by n not n-1: M2 / n."
        )
    if _isclose(std, allx.std(), rtol=1e-5):
        return (
            "right to about 7 digits, as float32 arithmetic gives; accumulate in "
            "float64 (np.asarray(b, dtype=np.float64))."
        )
    return (
        "the population std of all the numbers is sqrt(M2 / n), "
        "M2 = sum((x - mean)^2)."
    )


@exercise(
    "ch02.normalize_splits",
    title="Normalize both splits",
    difficulty="easy",
)
def check_normalize_splits(fn) -> None:
    """`fn(x_train, x_test)` -> both normalized per channel with the TRAINING mean and
    std (float32)."""
    rng = np.random.default_rng(3)
    xtr = rng.integers(0, 256, (20, 4, 4, 3)).astype(np.uint8)
    xte = (rng.integers(0, 128, (10, 4, 4, 3)) + 100).astype(
        np.uint8
    )  # a brighter test set
    ztr, zte = fn(xtr, xte)
    mean = xtr.mean(axis=(0, 1, 2))
    std = xtr.std(axis=(0, 1, 2))
    expect(ztr.dtype == np.float32 and zte.dtype == np.float32, "return float32 arrays")
    sample = xtr.std(axis=(0, 1, 2), ddof=1)
    expect(
        not _allclose(ztr, (xtr - mean) / sample, atol=1e-5),
        "x_train: that divides by the sample std (ddof=1); normalizing uses the "
        "population std, NumPy's default (divide by n, not n-1)",
    )
    expect(
        _allclose(ztr, (xtr - mean) / std, atol=1e-5),
        "x_train: subtract its per-channel mean (axes 0, 1, 2) and divide by its "
        "per-channel std",
    )
    expect(
        _allclose(zte, (xte - mean) / std, atol=1e-5),
        "x_test must use the TRAINING mean and std, not its own: the network learnt "
        "on the training scale",
    )


def _batches(rng, count: int, size: int, offset: float):
    """Batches made one at a time (a generator): a streaming answer holds one at a time.
    """
    for _ in range(count):
        yield offset + rng.normal(0.0, 1.0, size)


def _peak_bytes(fn, batches) -> tuple[float, float, int]:
    """`fn(batches)` and the most memory Python allocated while it ran (tracemalloc).
    Under the grader the learner's function runs in its kernel, another process:
    ``fn.traced`` runs it there under tracemalloc and hands back that peak, the one
    figure of a verdict that the learner's process measures (For instructors,
    "Grading")."""
    traced = getattr(fn, "traced", None)
    if traced is not None:
        (mean, std), peak = traced(batches)
        return float(mean), float(std), int(peak)
    tracemalloc.start()
    try:
        mean, std = fn(batches)
        return float(mean), float(std), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@hidden("ch02.streaming_std")
def _hidden_streaming_std(fn, rng) -> None:
    for _ in range(3):
        sizes = rng.integers(1, 60, int(rng.integers(2, 8)))
        offset = float(rng.choice([0.0, 1e3, 1e8]))
        parts = [
            offset + rng.normal(0.0, float(rng.uniform(0.5, 3.0)), n) for n in sizes
        ]
        allx = np.concatenate(parts)
        mean, std = fn(iter(parts))
        expect(
            _isclose(mean, allx.mean(), rtol=1e-9)
            and _isclose(std, allx.std(), rtol=1e-6),
            "mean and population std of all the numbers, also far from 0 and with "
            "uneven batches",
        )
    _, _, peak = _peak_bytes(fn, _batches(rng, *_STREAM, 5.0))
    expect(
        peak < _STREAM_PEAK,
        "one pass that keeps a few numbers per batch, not the "
        "batches themselves (no concatenation)",
    )


@hidden("ch02.normalize_splits")
def _hidden_normalize_splits(fn, rng) -> None:
    # several draws of every size: the public case is one shape (20 images of 4 x 4),
    # so an answer that builds its numbers on that shape passes it
    for _ in range(6):
        h, w = (int(v) for v in rng.integers(2, 9, 2))
        xtr, xte = (
            _pixels(rng, (int(rng.integers(*count)), h, w, 3))
            for count in ((4, 40), (1, 12))
        )
        ztr, zte = fn(xtr, xte)
        mean, std = xtr.mean(axis=(0, 1, 2)), xtr.std(axis=(0, 1, 2))
        expect(
            np.asarray(ztr).dtype == np.float32 and np.asarray(zte).dtype == np.float32,
            "float32 arrays",
        )
        expect(
            np.shape(ztr) == xtr.shape
            and np.shape(zte) == xte.shape
            and _allclose(ztr, (xtr - mean) / std, atol=1e-4)
            and _allclose(zte, (xte - mean) / std, atol=1e-4),
            "both splits with the training set's per-channel mean and std, for any "
            "number and size of images (height and width may differ)",
        )


def _pixels(rng, shape: tuple[int, ...]) -> np.ndarray:
    """uint8 images of `shape` in a range of their own (one split may be brighter)."""
    lo = int(rng.integers(0, 128))
    return rng.integers(lo, int(rng.integers(lo + 64, 257)), shape).astype(np.uint8)
