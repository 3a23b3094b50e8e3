"""Self-checks of chapter 8, Training on accelerators."""

from __future__ import annotations

# bound at import, before any answer runs (see checks/__init__.py)
from math import isclose as _math_isclose

import numpy as np

from fenwicks_lite.exercises import CheckFailed, exercise, expect, hidden


@exercise("ch08.precision", title="Pick the precision", difficulty="easy")
def _check_precision(fn):
    cases = [
        (("tpu", None), "mixed_bfloat16", "TPUs compute in bfloat16"),
        (
            ("gpu", (9, 0)),
            "mixed_bfloat16",
            "an H100 (compute capability 9.0) has bfloat16 tensor cores",
        ),
        (
            ("gpu", (8, 0)),
            "mixed_bfloat16",
            "the A100 (8.0) is the first with bfloat16: compare >= (8, 0)",
        ),
        (("gpu", (7, 5)), "mixed_float16", "a T4 (7.5) has float16 tensor cores only"),
        (
            ("gpu", None),
            "mixed_float16",
            "an unknown GPU: float16, which every tensor-core GPU has",
        ),
        (("cpu", None), "float32", "a CPU: float32"),
    ]
    for args, want, hint in cases:
        got = fn(*args)
        expect(
            got == want,
            f"{args[0]} with compute capability {args[1]}: got {got!r}, want {want!r} "
            f"({hint}).",
        )


@exercise("ch08.per_device", title="Split a batch over the devices", difficulty="easy")
def _check_per_device(fn):
    for batch, devices, want in ((512, 8, 64), (512, 1, 512), (96, 3, 32)):
        got = fn(batch, devices)
        expect(
            isinstance(got, int | np.integer) and not isinstance(got, bool),
            f"per_device_batch({batch}, {devices}) returned {got!r}: a number of "
            "images is an int (use //, not /).",
        )
        expect(
            got == want,
            f"per_device_batch({batch}, {devices}) returned {got!r}, want {want}.",
        )
    try:
        fn(500, 8)
    except ValueError:
        pass
    else:
        raise CheckFailed(
            "per_device_batch(500, 8) must raise ValueError: 500 images do not split "
            "evenly over 8 devices."
        )


@exercise(
    "ch08.epoch_seconds",
    title="Seconds per epoch from a log",
    difficulty="medium",
)
def _check_epoch_seconds(fn):
    # (global step, wall-clock seconds) of each log line; 97 steps per epoch as with
    # 50,000 / 512.
    log = [(0, 100.0), (195, 105.0), (390, 110.0)]
    got = fn(log, 97.65625)
    expect(isinstance(got, (int, float)), "return one number: seconds per epoch.")
    want = 10.0 / (390 / 97.65625)
    expect(
        _math_isclose(got, want, rel_tol=1e-6),
        f"got {got}: 390 steps in 10 s are 390 / 97.66 = 3.99 epochs, so {want:.3f} s "
        "per epoch. Use the first and the last line: "
        "(t_last - t_first) / ((step_last - step_first) / steps_per_epoch).",
    )
    # Lines need not be evenly spaced; only the first and last matter.
    got = fn([(100, 0.0), (150, 3.0), (300, 10.0)], 50)
    expect(
        _math_isclose(got, 2.5),
        f"log [(100, 0.0), (150, 3.0), (300, 10.0)] at 50 steps per epoch: got "
        f"{got}, want 2.5 (200 steps = 4 epochs in 10 s).",
    )


@hidden("ch08.precision")
def _hidden_precision(fn, rng) -> None:
    for _ in range(6):
        platform = str(rng.choice(["tpu", "gpu", "cpu"]))
        cc = (
            (int(rng.integers(6, 11)), int(rng.choice([0, 5, 6, 9])))
            if platform == "gpu"
            else None
        )
        if platform == "gpu" and rng.random() < 0.2:
            cc = None
        want = (
            "mixed_bfloat16"
            if platform == "tpu" or (cc is not None and cc >= (8, 0))
            else "mixed_float16"
            if platform == "gpu"
            else "float32"
        )
        expect(
            fn(platform, cc) == want,
            "the policy for every platform and compute capability",
        )


@hidden("ch08.per_device")
def _hidden_per_device(fn, rng) -> None:
    # ten draws of any device count and share: every public share (64, 512, 32) is a
    # multiple of 8 and every public batch too, so an answer that tests the batch
    # against 8 cores, or the share against 8, passes them
    for _ in range(10):
        devices = int(rng.integers(1, 17))
        share = int(rng.integers(1, 300))
        got = fn(share * devices, devices)
        expect(
            isinstance(got, int | np.integer)
            and not isinstance(got, bool)
            and got == share,
            "the share, as an int, whenever the batch splits evenly over the devices",
        )
        if devices > 1:
            try:
                fn(share * devices + int(rng.integers(1, devices)), devices)
            except ValueError:
                continue
            raise CheckFailed(
                "a batch that does not split evenly over the devices must raise "
                "ValueError"
            )


@hidden("ch08.epoch_seconds")
def _hidden_epoch_seconds(fn, rng) -> None:
    steps = np.sort(
        rng.choice(np.arange(0, 5000), int(rng.integers(2, 8)), replace=False)
    )
    times = np.sort(rng.uniform(0, 1000, len(steps)))
    spe = float(rng.uniform(10, 200))
    log = [(int(s), float(t)) for s, t in zip(steps, times, strict=True)]
    want = (log[-1][1] - log[0][1]) / ((log[-1][0] - log[0][0]) / spe)
    expect(
        _math_isclose(float(fn(log, spe)), want, rel_tol=1e-6),
        "seconds per epoch from the first and last line, for any log",
    )
