"""Chapter 4's exercises: the reference solutions pass, plausible wrong answers fail
with their hint."""

from __future__ import annotations

import hidden_cases
import numpy as np
import pytest

from fenwicks_lite import exercises
from fenwicks_lite.checks import ch04

pytestmark = pytest.mark.backend


def hole_area(cy, cx, size, h, w):
    y0, x0 = cy - size // 2, cx - size // 2
    rows = min(y0 + size, h) - max(y0, 0)
    cols = min(x0 + size, w) - max(x0, 0)
    return max(rows, 0) * max(cols, 0)


def expected_erased(size, h, w):
    def mean_extent(n):
        return np.mean(
            [min(c - size // 2 + size, n) - max(c - size // 2, 0) for c in range(n)]
        )

    return mean_extent(h) * mean_extent(w) / (h * w)


def cutout_fill(images, cy, cx, size, value):
    out = images.copy()
    for n in range(len(images)):
        y0, x0 = cy[n] - size // 2, cx[n] - size // 2
        out[n, max(y0, 0) : max(y0 + size, 0), max(x0, 0) : max(x0 + size, 0)] = value
    return out


def cutout_fill_in_place(images, cy, cx, size, value):
    out = images  # forgets the copy
    for n in range(len(images)):
        y0, x0 = cy[n] - size // 2, cx[n] - size // 2
        out[n, max(y0, 0) : max(y0 + size, 0), max(x0, 0) : max(x0 + size, 0)] = value
    return out


def cutout_fill_height_for_width(images, cy, cx, size, value):
    out = images.copy()
    h = images.shape[1]
    for n in range(len(images)):  # clips the columns to the height: right on squares
        y0, x0 = cy[n] - size // 2, cx[n] - size // 2
        out[n, max(y0, 0) : min(y0 + size, h), max(x0, 0) : min(x0 + size, h)] = value
    return out


def cutout_fill_negative_slice(images, cy, cx, size, value):
    out = images.copy()
    for n in range(len(images)):  # a negative start wraps around in Python slicing
        y0, x0 = cy[n] - size // 2, cx[n] - size // 2
        out[n, y0 : y0 + size, x0 : x0 + size] = value
    return out


@pytest.mark.parametrize(
    "key, fn",
    [
        ("ch04.hole_area", hole_area),
        ("ch04.expected_erased", expected_erased),
        ("ch04.cutout_fill", cutout_fill),
    ],
)
def test_references_pass(key, fn):
    r = exercises.run_check(key, fn)
    assert r.passed, r.message


@pytest.mark.parametrize(
    "key, wrong, hint",
    [
        ("ch04.hole_area", lambda cy, cx, size, h, w: size * size, "clip both ends"),
        (
            "ch04.expected_erased",
            lambda size, h, w: size**2 / (h * w),
            "forgets the clipping",
        ),
        ("ch04.cutout_fill", cutout_fill_in_place, "in place"),
        ("ch04.cutout_fill", cutout_fill_negative_slice, "clipped at the borders"),
    ],
)
def test_plausible_wrong_answers_fail_with_hint(key, wrong, hint):
    r = exercises.run_check(key, wrong)
    assert not r.passed and hint in r.message, r.message


def test_expected_erased_names_the_unclipped_slip_only_when_it_is_made():
    """The hint about size**2/(h*w) is for that answer; another wrong value gets the
    general advice only (a student who returned 0.5 was told they forgot the clipping)."""
    r = exercises.run_check("ch04.expected_erased", lambda size, h, w: 0.5)
    assert not r.passed and "divide by h*w." in r.message, r.message
    assert "forgets the clipping" not in r.message, r.message


def test_reference_agrees_with_the_library_hole():
    """The exercise's window is the library's: cutout_fill with value 0 matches
    fw.transform's mask."""
    from fenwicks_lite import transform

    x = np.random.default_rng(0).random((40, 10, 10, 3)).astype(np.float32) + 1
    out = np.asarray(transform.cutout_batch(x, 3, h=4))
    for n in range(len(x)):
        zero = (out[n] == 0).all(-1)
        ys, xs = np.where(zero)
        cands = [
            (cy, cx)
            for cy in range(10)
            for cx in range(10)
            if np.array_equal(cutout_fill(x[n : n + 1], [cy], [cx], 4, 0.0)[0], out[n])
        ]
        assert cands and hole_area(*cands[0], 4, 10, 10) == zero.sum() == len(
            ys
        ) == len(xs)


# ------------------------------------------------------------------ the grader's hidden

REFERENCES = [
    ("ch04.hole_area", hole_area),
    ("ch04.expected_erased", expected_erased),
    ("ch04.cutout_fill", cutout_fill),
]
# a lookup table of the public self-check's cases: it passes the hint, not the grade
_PUBLIC_AREAS = {case: hole_area(*case) for case in ch04.HOLE_AREA_CASES}
WRONG = [
    ("ch04.hole_area", lambda *case: _PUBLIC_AREAS[case], None),  # a lookup table
    (
        "ch04.expected_erased",
        lambda size, h, w: size**2 / (h * w),
        "forgets the clipping",
    ),
    # the public cases are square images: only the hidden ones tell height from width
    ("ch04.cutout_fill", cutout_fill_height_for_width, None),
]


test_references_pass_the_hidden_tests, test_wrong_answers_fail_the_hidden_tests = (
    hidden_cases.tests(REFERENCES, WRONG))


def test_hidden_cutout_fill_tells_height_from_width_for_every_seed():
    """The public cases are square, so the hidden test must catch an answer that
    clips both axes to the height, whatever the instructor's seed (it did not for 71%
    of seeds when it drew one case)."""
    assert exercises.run_check("ch04.cutout_fill", cutout_fill_height_for_width).passed
    wrong = cutout_fill_height_for_width
    caught = [
        not exercises.run_hidden("ch04.cutout_fill", wrong, s).passed for s in range(40)
    ]
    assert all(caught), [s for s, c in enumerate(caught) if not c]
