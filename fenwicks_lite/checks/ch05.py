"""Self-checks for Chapter 5, The input pipeline."""

from __future__ import annotations

import itertools

import numpy as np

# bound at import, before any answer runs (see checks/__init__.py)
from numpy import array_equal as _array_equal

from fenwicks_lite.exercises import exercise, expect, hidden


@exercise("ch05.bottleneck", title="Which stage sets the pace?", difficulty="easy")
def check_bottleneck(fn) -> None:
    """`fn(rates)` -> (name, images_per_s) of the stage that limits a pipeline whose
    stages run concurrently with buffers between them (tf.data's prefetching): `rates`
    maps stage -> images/s."""
    cases = [
        (
            {
                "read": 200_000.0,
                "parse": 30_000.0,
                "augment": 9_000.0,
                "chip": 40_000.0,
            },
            ("augment", 9_000.0),
        ),
        ({"read": 5_000.0, "chip": 100_000.0}, ("read", 5_000.0)),
        ({"augment": 120_000.0, "chip": 40_000.0}, ("chip", 40_000.0)),
    ]
    for rates, want in cases:
        got = fn(dict(rates))
        expect(
            tuple(got) == want,
            f"for {rates} expected {want}, got {got}: with every stage working at "
            "once, the slowest one (the minimum rate, not the sum of times) sets the "
            "pace.",
        )


@exercise(
    "ch05.epoch_indices", title="Index batches for one epoch", difficulty="medium"
)
def check_epoch_indices(fn) -> None:
    """`fn(n, batch_size, seed, epoch)` -> int array (n // batch_size, batch_size): a
    seeded permutation of 0..n-1 cut into full batches (remainder dropped), different
    for each epoch, same for same args."""
    a = np.asarray(fn(1000, 64, 0, 0))
    expect(
        a.shape == (15, 64),
        "1000 images in batches of 64 give 15 full batches: shape (15, 64), got "
        f"{a.shape}",
    )
    expect(
        np.issubdtype(a.dtype, np.integer), f"indices must be integers, got {a.dtype}"
    )
    expect(
        len(np.unique(a)) == a.size and a.min() >= 0 and a.max() < 1000,
        "every index once at most, all within 0..n-1: take them from a permutation, "
        "not random draws",
    )
    expect(
        not _array_equal(a.ravel(), np.sort(a.ravel())),
        "shuffle: the indices come out in order",
    )
    expect(
        _array_equal(a, np.asarray(fn(1000, 64, 0, 0))),
        "the same (seed, epoch) must give the same batches",
    )
    expect(
        not _array_equal(a, np.asarray(fn(1000, 64, 0, 1))),
        "each epoch needs a new permutation",
    )
    expect(
        not _array_equal(a, np.asarray(fn(1000, 64, 1, 0))),
        "a different seed must give different batches",
    )
    expect(
        not _array_equal(
            np.asarray(fn(1000, 64, 0, 1)), np.asarray(fn(1000, 64, 1, 0))
        ),
        "seed 0 epoch 1 gives the same batches as seed 1 epoch 0: seeding with "
        "seed + epoch makes runs with neighbouring seeds share epochs. Seed with the "
        "pair, e.g. default_rng([seed, epoch]).",
    )
    firsts = {int(np.asarray(fn(1000, 64, 0, e))[0, 0]) for e in range(30)}
    expect(
        len(firsts) > 10,
        "the permutation should be random over the whole set in every epoch",
    )
    expect(
        np.asarray(fn(64, 64, 3, 0)).shape == (1, 64),
        "n equal to batch_size is exactly one batch",
    )


@exercise(
    "ch05.steps",
    title="Steps per epoch",
    difficulty="easy",
)
def check_steps(fn) -> None:
    """`fn(n, batch_size, drop_remainder)` -> how many batches one epoch of n images
    gives."""
    for n, b, drop, want in [
        (50_000, 512, True, 97),
        (50_000, 512, False, 98),
        (10_000, 500, False, 20),
        (10_000, 500, True, 20),
        (100, 512, False, 1),
        (100, 512, True, 0),
        (2**60 + 1, 2, False, 2**59 + 1),
    ]:
        got = fn(n, b, drop)
        expect(
            isinstance(got, int | np.integer),
            f"return an int (a number of batches), got {type(got).__name__}",
        )
        expect(
            got == want,
            f"n={n}, batch_size={b}, drop_remainder={drop}: expected {want}, got {got} "
            "(floor division when dropping, ceiling division when keeping the last "
            "batch; in integers: math.ceil(n / batch_size) goes through a float and "
            "is wrong for large n, -(-n // batch_size) is exact)",
        )


@hidden("ch05.bottleneck")
def _hidden_bottleneck(fn, rng) -> None:
    names = ["read", "parse", "decode", "augment", "batch", "chip", "copy"]
    for _ in range(4):
        k = int(rng.integers(1, len(names) + 1))
        rates = {
            str(s): float(r)
            for s, r in zip(
                rng.permutation(names)[:k], rng.uniform(100, 1e6, k), strict=True
            )
        }
        slow = min(rates, key=rates.get)
        expect(
            tuple(fn(dict(rates))) == (slow, rates[slow]),
            "the stage with the smallest rate and its rate, for any stage names",
        )


@hidden("ch05.epoch_indices")
def _hidden_epoch_indices(fn, rng) -> None:
    # four sizes, the first a whole number of batches, the others with a remainder;
    # several epochs of each, since the public check cannot tell a permutation of all
    # n images from one of the n // batch_size * batch_size it keeps, or a shuffle of
    # whole batches from a shuffle of images
    for case in range(4):
        b = int(rng.integers(2, 50))
        steps = int(rng.integers(max(2, -(-50 // b)), 3000 // b + 1))
        n = steps * b + (int(rng.integers(1, b)) if case else 0)
        seed, epoch = int(rng.integers(0, 1000)), int(rng.integers(0, 50))
        epochs = [np.asarray(fn(n, b, seed, epoch + e)) for e in range(4)]
        for a in epochs:
            expect(
                a.shape == (steps, b) and np.issubdtype(a.dtype, np.integer),
                "shape (n // batch_size, batch_size), integers",
            )
            expect(
                len(np.unique(a)) == a.size and a.min() >= 0 and a.max() < n,
                "distinct indices in 0..n-1",
            )
            expect(
                not all(_array_equal(np.diff(np.sort(r)), np.ones(b - 1)) for r in a),
                "shuffle the images, not only the order of the batches: each batch "
                "draws from the whole set",
            )
        expect(
            _array_equal(epochs[0], np.asarray(fn(n, b, seed, epoch))),
            "deterministic per (seed, epoch)",
        )
        expect(
            not _array_equal(epochs[1], np.asarray(fn(n, b, seed + 1, epoch))),
            "each (seed, epoch) pair its own permutation: seed + epoch collides",
        )
        expect(
            n == steps * b or any(int(a.max()) >= steps * b for a in epochs),
            "a permutation of all n indices, then the remainder dropped: each epoch "
            "leaves out other images, so every image takes part",
        )
        for a, later in itertools.pairwise(epochs):
            seen = {frozenset(r.tolist()) for r in a}
            expect(
                sum(frozenset(r.tolist()) in seen for r in later) <= steps // 2,
                "each epoch a new shuffle of the images, not the batches of the "
                "epoch before in another order",
            )


@hidden("ch05.steps")
def _hidden_steps(fn, rng) -> None:
    for _ in range(10):
        n = (
            int(rng.integers(0, 10**6))
            if rng.random() < 0.7
            else 2 ** int(rng.integers(54, 62)) + 1
        )
        b = int(rng.integers(1, 5000))
        drop = bool(rng.random() < 0.5)
        got = fn(n, b, drop)
        want = n // b if drop else -(-n // b)
        expect(
            isinstance(got, int | np.integer) and got == want,
            "exact integers: n // batch_size when dropping, -(-n // batch_size) when "
            "keeping, for every size (also huge ones)",
        )
