"""Self-checks of chapter 8, Training on accelerators."""

from __future__ import annotations

import math

from fenwicks_lite.exercises import exercise, expect


@exercise("ch08.precision", title="Pick the precision for a device", difficulty="easy")
def _check_precision(fn):
    cases = [
        (("tpu", None), "mixed_bfloat16", "TPUs compute in bfloat16"),
        (("gpu", (9, 0)), "mixed_bfloat16", "an H100 (compute capability 9.0) has bfloat16 tensor cores"),
        (("gpu", (8, 0)), "mixed_bfloat16", "the A100 (8.0) is the first with bfloat16: compare >= (8, 0)"),
        (("gpu", (7, 5)), "mixed_float16", "a T4 (7.5) has float16 tensor cores only"),
        (("gpu", None), "mixed_float16", "an unknown GPU: float16, which every tensor-core GPU has"),
        (("cpu", None), "float32", "a CPU: float32"),
    ]
    for args, want, hint in cases:
        got = fn(*args)
        expect(got == want, f"{args[0]} with compute capability {args[1]}: got {got!r}, want {want!r} ({hint}).")


@exercise("ch08.per_device", title="Split a batch over the devices", difficulty="easy")
def _check_per_device(fn):
    for batch, devices, want in ((512, 8, 64), (512, 1, 512), (96, 3, 32)):
        got = fn(batch, devices)
        expect(got == want, f"per_device_batch({batch}, {devices}) returned {got!r}, want {want}.")
    try:
        fn(500, 8)
    except ValueError:
        pass
    else:
        raise AssertionError("per_device_batch(500, 8) must raise ValueError: 500 images do not split "
                             "evenly over 8 devices.")


@exercise("ch08.epoch_seconds", title="Seconds per epoch from a training log", difficulty="medium")
def _check_epoch_seconds(fn):
    # (global step, wall-clock seconds) of each log line; 97 steps per epoch as with 50,000 / 512.
    log = [(0, 100.0), (195, 105.0), (390, 110.0)]
    got = fn(log, 97.65625)
    expect(isinstance(got, (int, float)), "return one number: seconds per epoch.")
    want = 10.0 / (390 / 97.65625)
    expect(math.isclose(got, want, rel_tol=1e-6),
           f"got {got}: 390 steps in 10 s are 390 / 97.66 = 3.99 epochs, so {want:.3f} s per epoch. Use the "
           f"first and the last line: (t_last - t_first) / ((step_last - step_first) / steps_per_epoch).")
    # Lines need not be evenly spaced; only the first and last matter.
    got = fn([(100, 0.0), (150, 3.0), (300, 10.0)], 50)
    expect(math.isclose(got, 2.5), f"log [(100, 0.0), (150, 3.0), (300, 10.0)] at 50 steps per epoch: got "
                                   f"{got}, want 2.5 (200 steps = 4 epochs in 10 s).")
