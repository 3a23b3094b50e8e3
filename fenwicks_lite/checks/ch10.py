"""Self-checks of chapter 10, Beyond the seed: 94% in seconds."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# bound at import, before any answer runs (see checks/__init__.py)
from numpy import allclose as _allclose
from numpy import array_equal as _array_equal

from fenwicks_lite.exercises import exercise, expect, hidden

# ----------------------------------------------------------------- label smoothing


def _smooth(labels, s: float, k: int) -> np.ndarray:
    """Reference: ``(1 - s) * onehot + s / k`` (Szegedy et al. 2016; airbench s=0.2)."""
    return (1 - s) * np.eye(k)[np.asarray(labels, dtype=int)] + s / k


def _targets(fn, labels, s: float, *k: int) -> np.ndarray:
    """The learner's targets for `labels`, as floats, after checking the shape."""
    n, kk = len(labels), (k[0] if k else 10)
    got = fn(labels, s, *k)
    expect(got is not None, "smooth_targets returned None: return the array.")
    got = np.asarray(got)
    args = [np.asarray(labels).tolist(), s, *k]
    call = f"smooth_targets({', '.join(map(str, args))})"
    fix = (
        f"use the k you are given, {kk} columns, not {got.shape[1]}"
        if got.ndim == 2 and got.shape[0] == n
        else "index an identity matrix by the labels, np.eye(k)[labels], to get "
        "the one-hot rows"
    )
    expect(
        got.shape == (n, kk),
        f"{call} must have shape (len(labels), k) = ({n}, {kk}), one row of k "
        f"targets per label; got shape {got.shape}: {fix}.",
    )
    expect(
        got.dtype.kind == "f",
        f"{call} returned {got.dtype} values: targets are fractions, return floats.",
    )
    return got.astype(float)


@exercise("ch10.smooth_targets", title="Label smoothing's targets", difficulty="easy")
def _check_smooth_targets(fn):
    labels, s = [0, 3, 9], 0.2
    got = _targets(fn, labels, s)
    want = _smooth(labels, s, 10)
    if not _allclose(got, want):
        sums = got.sum(axis=1)
        rows = np.arange(len(labels))
        expect(
            not _allclose(sums, 1 + s),
            f"with s={s} your rows sum to {sums[0]:.2f}, not 1: scale the one-hot "
            f"by (1 - s) before adding s / k, (1 - s) * onehot + s / k.",
        )
        off = np.ones_like(got, dtype=bool)
        off[rows, labels] = False
        expect(
            not (
                _allclose(got[rows, labels], 1 - s) and _allclose(got[off], s / 9)
            ),
            f"the true class gets {1 - s:.2f} and each other class {s}/9: that "
            "spreads s over the 9 wrong classes only. The book (and airbench) spread "
            "s over all K classes, the true one included: (1 - s) * onehot + s / k, "
            f"so the true class gets 1 - s + s/k = {1 - s + s / 10:.2f}.",
        )
        i = int(np.argmax(np.abs(got - want).max(axis=1)))
        expect(
            False,
            f"label {labels[i]}, s={s}: expected the row {np.round(want[i], 3)}, got "
            f"{np.round(got[i], 3)}. Compute (1 - s) * onehot + s / k: the true "
            "class gets 1 - s + s/k, every other class s/k.",
        )
    got = _targets(fn, np.array([1, 1, 4]), 0.0)
    expect(
        _allclose(got, np.eye(10)[[1, 1, 4]]),
        "with s=0 the targets are the plain one-hot rows: (1 - 0) * onehot + 0 / k.",
    )
    got = _targets(fn, [2, 0], 0.5, 4)
    expect(
        _allclose(got, _smooth([2, 0], 0.5, 4)),
        "with k=4 classes and s=0.5 the true class gets 0.5 + 0.5/4 = 0.625 and the "
        "others 0.5/4 = 0.125: use the k you are given, not 10.",
    )


@hidden("ch10.smooth_targets")
def _hidden_smooth_targets(fn, rng) -> None:
    for _ in range(3):
        n, k = int(rng.integers(1, 40)), int(rng.integers(2, 21))
        s = float(rng.uniform(0.0, 0.6))
        labels = rng.integers(0, k, n)
        got = np.asarray(fn(labels if rng.random() < 0.5 else labels.tolist(), s, k))
        expect(
            got.shape == (n, k) and _allclose(got, _smooth(labels, s, k)),
            "(1 - s) * onehot + s / k, shape (len(labels), k), for any labels, s and "
            "number of classes k",
        )


# ---------------------------------------------------------------- flip TTA


def _predictor(seed: int, shape: tuple[int, int, int], classes: int = 10) -> Callable:
    """A fixed small network (tanh of a random linear map, then another): not linear,
    not symmetric under any flip, so each wrong TTA gives its own logits."""
    r = np.random.default_rng(seed)
    d = int(np.prod(shape))
    w1 = r.normal(size=(d, 16)) / np.sqrt(d)
    w2 = r.normal(size=(16, classes))

    def predict(x):
        x = np.asarray(x, dtype=float)  # a NumPy array or a Keras backend tensor
        return np.tanh(x.reshape(len(x), -1) @ w1 * 2) @ w2

    return predict


def _flip_diagnoses(predict, x) -> list[tuple[np.ndarray, str]]:
    """The logits of plausible wrong answers, each with what to do instead."""
    mirror = (
        "mirror left-right: flip the width axis, axis 2 of an NHWC batch "
        "(np.flip(x, axis=2) or x[:, :, ::-1])."
    )
    p, pm = predict(x), predict(np.flip(x, axis=2))

    def soft(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    return [
        (
            0.5 * (p + predict(np.flip(x, axis=1))),
            "that flips the images upside down (axis 1, the height; np.fliplr flips "
            "axis 1 too, left-right only for a single 2-D image); " + mirror,
        ),
        (
            0.5 * (p + predict(np.flip(x, axis=3))),
            "that reverses the colour channels (axis 3); " + mirror,
        ),
        (
            0.5 * (p + predict(np.flip(x, axis=0))),
            "that reverses the order of the images (axis 0); " + mirror,
        ),
        (
            pm,
            "that is the mirror image's prediction alone: return the mean of "
            "predict(x) and predict(mirrored x), 0.5 * (a + b).",
        ),
        (
            p,
            "that is predict(x) alone: average it with the prediction of the "
            "mirrored batch, 0.5 * (predict(x) + predict(np.flip(x, axis=2))).",
        ),
        (p + pm, "that is the sum of the two predictions: divide by 2, the mean."),
        (
            predict(0.5 * (x + np.flip(x, axis=2))),
            "that averages the images before predicting: predict each of x and its "
            "mirror, then average the two predictions' logits.",
        ),
        (
            0.5 * (soft(p) + soft(pm)),
            "those are averaged softmax probabilities: average the logits "
            "themselves, 0.5 * (predict(x) + predict(np.flip(x, axis=2))), as "
            "fast.tta_logits does.",
        ),
    ]


#: the public self-check's (batch size, image shape, seed) cases of `flip_tta`
FLIP_CASES = [(3, (4, 5, 3), 10), (2, (6, 2, 2), 11)]


def flip_case(n: int, shape: tuple[int, int, int], seed: int) -> tuple:
    """A case's float32 NHWC batch and its fixed `predict`."""
    x = np.random.default_rng(seed + 100).normal(size=(n, *shape))
    return x.astype(np.float32), _predictor(seed, shape)


@exercise("ch10.flip_tta", title="Flip test-time augmentation", difficulty="medium")
def _check_flip_tta(fn):
    for n, shape, seed in FLIP_CASES:
        x, predict = flip_case(n, shape, seed)
        keep = x.copy()
        got = fn(predict, x)
        expect(got is not None, "flip_tta returned None: return the mean logits.")
        got = np.asarray(got)
        expect(
            _array_equal(x, keep),
            "flip_tta changed `x`: leave the batch as it is and predict on a flipped "
            "copy (np.flip(x, axis=2) returns a new view, nothing is written).",
        )
        expect(
            got.shape == (n, 10),
            f"return the averaged logits, shape (n, 10) = ({n}, 10): one row of 10 "
            f"logits per image; got shape {got.shape}. Average the logits "
            "themselves, not argmax labels: 0.5 * (predict(x) + predict(mirror)).",
        )
        want = 0.5 * (predict(x) + predict(np.flip(x, axis=2)))
        if _allclose(got, want, rtol=1e-5, atol=1e-5):
            continue
        for wrong, hint in _flip_diagnoses(predict, x):
            expect(not _allclose(got, wrong, rtol=1e-5, atol=1e-5), hint)
        expect(
            False,
            f"a batch of {n} images of shape {shape}: expected the mean of "
            "predict(x) and predict(np.flip(x, axis=2)); yours differs by up to "
            f"{np.abs(got - want).max():.3g}. Predict both batches, then average the "
            "two (n, 10) logit arrays.",
        )


@hidden("ch10.flip_tta")
def _hidden_flip_tta(fn, rng) -> None:
    n, h, w, c = (int(v) for v in rng.integers([1, 2, 2, 1], [7, 9, 9, 5]))
    x = rng.normal(size=(n, h, w, c))
    # 10 classes, as the exercise says: an answer may fill an (n, 10) array
    predict = _predictor(int(rng.integers(2**31)), (h, w, c))
    got = np.asarray(fn(predict, x))
    want = 0.5 * (predict(x) + predict(np.flip(x, axis=2)))
    expect(
        got.shape == want.shape and _allclose(got, want, rtol=1e-5, atol=1e-5),
        "the mean of predict(x) and predict(x mirrored left-right, axis 2), for any "
        "batch size and image shape",
    )
