"""Self-checks of chapter 9, The full run."""

from __future__ import annotations

import math
import statistics

# bound at import, before any answer runs (see checks/__init__.py)
from math import isclose as _math_isclose

from fenwicks_lite.exercises import exercise, expect, hidden


@exercise("ch09.mean_std", title="Mean and spread over seeds", difficulty="easy")
def _check_mean_std(fn):
    m, s = fn([0.93, 0.94, 0.95])
    expect(_math_isclose(m, 0.94), f"the mean of 0.93, 0.94, 0.95 is 0.94, got {m}.")
    expect(
        not _math_isclose(s, math.sqrt(2 / 3) * 0.01, rel_tol=1e-6),
        "that is the population std (ddof=0): over a handful of seeds use the sample "
        "std, ddof=1.",
    )
    expect(
        _math_isclose(s, 0.01, rel_tol=1e-6),
        f"the sample std of 0.93, 0.94, 0.95 is 0.01, got {s}.",
    )
    m, s = fn([0.5, 0.5])
    expect(_math_isclose(m, 0.5) and s == 0, "two equal accuracies: mean 0.5, std 0.")


@exercise("ch09.per_class", title="Accuracy per class", difficulty="medium")
def _check_per_class(fn):
    y_true = [0, 0, 1, 2, 2, 2]
    y_pred = [0, 1, 1, 2, 0, 2]
    got = list(fn(y_true, y_pred))
    expect(len(got) == 10, f"return 10 values, one per class, got {len(got)}.")
    want = [0.5, 1.0, 2 / 3]
    for k in range(3):
        expect(
            _math_isclose(got[k], want[k]),
            f"class {k}: {want[k]:.3f} of its images are predicted correctly, got "
            f"{got[k]}. Divide by the images OF that class (y_true == k), not by the "
            "predictions of it.",
        )
    expect(
        all(math.isnan(v) for v in got[3:]),
        "classes 3..9 have no images here: return nan for them.",
    )


@hidden("ch09.mean_std")
def _hidden_mean_std(fn, rng) -> None:
    # five lists of 2 to 12 accuracies: on the public three, evenly spaced, the median
    # is the mean and n - 1 is 2
    for _ in range(5):
        accs = rng.uniform(0.85, 0.97, int(rng.integers(2, 13))).tolist()
        m, s = fn(accs)
        expect(
            _math_isclose(m, statistics.mean(accs), rel_tol=1e-9)
            and _math_isclose(s, statistics.stdev(accs), rel_tol=1e-6),
            "the mean and the sample std (ddof=1) of any list of accuracies",
        )


@hidden("ch09.per_class")
def _hidden_per_class(fn, rng) -> None:
    n = int(rng.integers(5, 60))
    y_true, y_pred = rng.integers(0, 10, n).tolist(), rng.integers(0, 10, n).tolist()
    got = list(fn(y_true, y_pred))
    expect(len(got) == 10, "10 values")
    for k in range(10):
        idx = [i for i, t in enumerate(y_true) if t == k]
        if not idx:
            expect(math.isnan(got[k]), "nan for a class without images")
        else:
            want = sum(y_pred[i] == k for i in idx) / len(idx)
            expect(
                _math_isclose(got[k], want),
                "each class's share of its own images predicted right",
            )
