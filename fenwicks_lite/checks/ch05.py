"""Self-checks for Chapter 5, The input pipeline."""

from __future__ import annotations

import numpy as np

from fenwicks_lite.exercises import exercise, expect


@exercise("ch05.bottleneck", title="Which stage sets the pace?", difficulty="easy")
def check_bottleneck(fn) -> None:
    """`fn(rates)` -> (name, images_per_s) of the stage that limits a pipeline whose stages run
    concurrently with buffers between them (tf.data's prefetching): `rates` maps stage -> images/s."""
    cases = [
        ({"read": 200_000.0, "parse": 30_000.0, "augment": 9_000.0, "chip": 40_000.0}, ("augment", 9_000.0)),
        ({"read": 5_000.0, "chip": 100_000.0}, ("read", 5_000.0)),
        ({"augment": 120_000.0, "chip": 40_000.0}, ("chip", 40_000.0)),
    ]
    for rates, want in cases:
        got = fn(dict(rates))
        expect(tuple(got) == want,
               f"for {rates} expected {want}, got {got}: with every stage working at once, the slowest one "
               "(the minimum rate, not the sum of times) sets the pace.")


@exercise("ch05.epoch_indices", title="Index batches for one epoch", difficulty="medium")
def check_epoch_indices(fn) -> None:
    """`fn(n, batch_size, seed, epoch)` -> int array (n // batch_size, batch_size): a seeded permutation
    of 0..n-1 cut into full batches (remainder dropped), different for each epoch, same for same args."""
    a = np.asarray(fn(1000, 64, 0, 0))
    expect(a.shape == (15, 64), f"1000 images in batches of 64 give 15 full batches: shape (15, 64), got {a.shape}")
    expect(np.issubdtype(a.dtype, np.integer), f"indices must be integers, got {a.dtype}")
    expect(len(np.unique(a)) == a.size and a.min() >= 0 and a.max() < 1000,
           "every index once at most, all within 0..n-1: take them from a permutation, not random draws")
    expect(not np.array_equal(a.ravel(), np.sort(a.ravel())), "shuffle: the indices come out in order")
    expect(np.array_equal(a, np.asarray(fn(1000, 64, 0, 0))), "the same (seed, epoch) must give the same batches")
    expect(not np.array_equal(a, np.asarray(fn(1000, 64, 0, 1))), "each epoch needs a new permutation")
    expect(not np.array_equal(a, np.asarray(fn(1000, 64, 1, 0))), "a different seed must give different batches")
    firsts = {int(np.asarray(fn(1000, 64, 0, e))[0, 0]) for e in range(30)}
    expect(len(firsts) > 10, "the permutation should be random over the whole set in every epoch")
    expect(np.asarray(fn(64, 64, 3, 0)).shape == (1, 64), "n equal to batch_size is exactly one batch")


@exercise("ch05.steps", title="Steps per epoch, with and without the remainder", difficulty="easy")
def check_steps(fn) -> None:
    """`fn(n, batch_size, drop_remainder)` -> how many batches one epoch of n images gives."""
    for n, b, drop, want in [(50_000, 512, True, 97), (50_000, 512, False, 98), (10_000, 500, False, 20),
                             (10_000, 500, True, 20), (100, 512, False, 1), (100, 512, True, 0)]:
        got = fn(n, b, drop)
        expect(got == want, f"n={n}, batch_size={b}, drop_remainder={drop}: expected {want}, got {got} "
                            "(floor division when dropping, ceiling division when keeping the last batch)")
