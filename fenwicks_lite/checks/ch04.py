"""Self-checks for Chapter 4, Augmentation."""

from __future__ import annotations

import numpy as np

# bound at import, before any answer runs (see checks/__init__.py)
from numpy import array_equal as _array_equal

from fenwicks_lite.exercises import exercise, expect, hidden


def _hole(h: int, w: int, cy: int, cx: int, size: int) -> np.ndarray:
    """Reference: the boolean mask of cutout's window [c - size//2, c - size//2 + size),
    clipped."""
    m = np.zeros((h, w), bool)
    y0, x0 = cy - size // 2, cx - size // 2
    m[max(y0, 0) : max(y0 + size, 0), max(x0, 0) : max(x0 + size, 0)] = True
    return m


#: the public self-check's (cy, cx, size, h, w) cases of `hole_area`: a hint, not the
#: grade (the hidden tests draw theirs from the instructor's seed).
HOLE_AREA_CASES = [
    (16, 16, 8, 32, 32),
    (0, 0, 8, 32, 32),
    (31, 31, 8, 32, 32),
    (0, 16, 8, 32, 32),
    (3, 28, 8, 32, 32),
    (2, 2, 5, 6, 6),
    (1, 1, 3, 3, 3),
]


@exercise(
    "ch04.hole_area", title="How many pixels does cutout erase?", difficulty="easy"
)
def check_hole_area(fn) -> None:
    """`fn(cy, cx, size, h, w)` -> the number of pixels in the size x size window
    centred at (cy, cx) (top-left corner (cy - size//2, cx - size//2)) that lie inside
    an h x w image."""
    for cy, cx, size, h, w in HOLE_AREA_CASES:
        want = int(_hole(h, w, cy, cx, size).sum())
        got = fn(cy, cx, size, h, w)
        expect(
            int(got) == want,
            f"centre ({cy}, {cx}), size {size} on {h} x {w}: expected {want} pixels, "
            f"got {got}. Rows run from cy - size//2 to cy - size//2 + size - 1; clip "
            f"both ends to 0..{h - 1} before counting.",
        )


@exercise(
    "ch04.expected_erased",
    title="The average share of the image cutout erases",
    difficulty="medium",
)
def check_expected_erased(fn) -> None:
    """`fn(size, h, w)` -> the expected fraction of the h x w image erased when the
    centre is uniform over all h*w pixels (exactly, not by sampling)."""
    for size, h, w in [(8, 32, 32), (1, 5, 5), (4, 4, 4), (3, 7, 5), (16, 32, 32)]:
        want = np.mean(
            [_hole(h, w, cy, cx, size).sum() for cy in range(h) for cx in range(w)]
        ) / (h * w)
        got = float(fn(size, h, w))
        # the unclipped share, size**2 / (h*w): the likely slip, named when it is made
        slip = abs(got - size**2 / (h * w)) < 1e-9
        expect(
            abs(got - want) < 1e-9,
            f"size {size} on {h} x {w}: expected {want:.6f}, got {got:.6f}. Average "
            "the clipped hole area over every centre (or multiply the average row and "
            "column extents: they are independent) and divide by h*w"
            + ("; size**2/(h*w) forgets the clipping." if slip else "."),
        )


@exercise(
    "ch04.cutout_fill",
    title="Random erasing: cutout with a fill value",
    difficulty="medium",
)
def check_cutout_fill(fn) -> None:
    """`fn(images, cy, cx, size, value)` -> a NEW array: each image n gets its (clipped)
    size x size window centred at (cy[n], cx[n]) set to `value` in every channel; the
    input stays unchanged."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(5, 9, 9, 3)).astype(np.float32)
    keep = x.copy()
    cy, cx = np.array([4, 0, 8, 2, 7]), np.array([4, 8, 0, 2, 1])
    for value in (0.0, -1.5):
        got = np.asarray(fn(x, cy, cx, 4, value))
        expect(
            _array_equal(x, keep),
            "do not modify `images` in place: copy first (images.copy()).",
        )
        expect(
            got.shape == x.shape and got.dtype == x.dtype,
            "return an array of the same shape and dtype",
        )
        want = x.copy()
        for n in range(len(x)):
            want[n][_hole(9, 9, cy[n], cx[n], 4)] = value
        bad = [n for n in range(len(x)) if not _array_equal(got[n], want[n])]
        expect(
            not bad,
            f"image {bad[0] if bad else 0} (centre ({cy[bad[0] if bad else 0]}, "
            f"{cx[bad[0] if bad else 0]})) differs with value={value}: the window "
            "starts at c - size//2, holds size rows and columns, and is clipped at "
            "the borders.",
        )


@hidden("ch04.hole_area")
def _hidden_hole_area(fn, rng) -> None:
    for _ in range(20):
        h, w = int(rng.integers(1, 40)), int(rng.integers(1, 40))
        size = int(rng.integers(1, 20))
        cy, cx = int(rng.integers(0, h)), int(rng.integers(0, w))
        expect(
            int(fn(cy, cx, size, h, w)) == int(_hole(h, w, cy, cx, size).sum()),
            "the window clipped to the image, for every size (odd too), centre and "
            "image shape",
        )


@hidden("ch04.expected_erased")
def _hidden_expected_erased(fn, rng) -> None:
    for _ in range(4):
        h, w, size = (
            int(rng.integers(1, 12)),
            int(rng.integers(1, 12)),
            int(rng.integers(1, 14)),
        )
        want = np.mean(
            [_hole(h, w, cy, cx, size).sum() for cy in range(h) for cx in range(w)]
        ) / (h * w)
        expect(
            abs(float(fn(size, h, w)) - want) < 1e-9,
            "the exact mean clipped share, for every "
            "size (also larger than the image) and shape",
        )


@hidden("ch04.cutout_fill")
def _hidden_cutout_fill(fn, rng) -> None:
    # several draws, each image's height and width different (the public cases are
    # square, so an answer that clips both axes to the height passes them)
    for _ in range(16):
        n, c = int(rng.integers(1, 6)), int(rng.integers(1, 5))
        h, w = (int(v) for v in rng.choice(np.arange(3, 12), 2, replace=False))
        x = rng.normal(size=(n, h, w, c)).astype(np.float32)
        keep = x.copy()
        cy, cx = rng.integers(0, h, n), rng.integers(0, w, n)
        size, value = int(rng.integers(1, 8)), float(rng.normal())
        got = np.asarray(fn(x, cy, cx, size, value))
        expect(_array_equal(x, keep), "leave the input unchanged")
        want = x.copy()
        for i in range(n):
            want[i][_hole(h, w, cy[i], cx[i], size)] = value
        expect(
            got.shape == x.shape and _array_equal(got, want),
            "every image's clipped window set to the value, for every shape (height "
            "and width may differ), size and channel count",
        )
