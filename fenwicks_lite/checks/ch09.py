"""Self-checks of chapter 9, The full run."""

from __future__ import annotations

import math

from fenwicks_lite.exercises import exercise, expect


@exercise("ch09.mean_std", title="Mean and spread over seeds", difficulty="easy")
def _check_mean_std(fn):
    m, s = fn([0.93, 0.94, 0.95])
    expect(math.isclose(m, 0.94), f"the mean of 0.93, 0.94, 0.95 is 0.94, got {m}.")
    expect(not math.isclose(s, math.sqrt(2 / 3) * 0.01, rel_tol=1e-6),
           "that is the population std (ddof=0): over a handful of seeds use the sample std, ddof=1.")
    expect(math.isclose(s, 0.01, rel_tol=1e-6), f"the sample std of 0.93, 0.94, 0.95 is 0.01, got {s}.")
    m, s = fn([0.5, 0.5])
    expect(math.isclose(m, 0.5) and s == 0, "two equal accuracies: mean 0.5, std 0.")


@exercise("ch09.per_class", title="Accuracy per class", difficulty="medium")
def _check_per_class(fn):
    y_true = [0, 0, 1, 2, 2, 2]
    y_pred = [0, 1, 1, 2, 0, 2]
    got = list(fn(y_true, y_pred))
    expect(len(got) == 10, f"return 10 values, one per class, got {len(got)}.")
    want = [0.5, 1.0, 2 / 3]
    for k in range(3):
        expect(math.isclose(got[k], want[k]),
               f"class {k}: {want[k]:.3f} of its images are predicted correctly, got {got[k]}. Divide by "
               f"the images OF that class (y_true == k), not by the predictions of it.")
    expect(all(math.isnan(v) for v in got[3:]), "classes 3..9 have no images here: return nan for them.")
