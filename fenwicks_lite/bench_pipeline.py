"""Benchmark of the input pipelines, side by side in one run on one machine (Chapter 5).

    python -m fenwicks_lite.bench_pipeline [--profile quick|full] [--images N]
        [--batch-size B] [--epochs N] [--no-device] [--json FILE]

Measures images per second delivered, as training would consume them (shuffled,
augmented batches), of:

1. **naive** - the 2019 tutorial's pipeline: normalized float32 records, each image
   parsed and augmented on its own (`ramdom_pad_crop`, `random_flip`, `cutout` in the
   parser), the seed's two parallel calls;
2. **tuned** - uint8 records (4x fewer bytes), decoded once and cached, augmentation of
   whole batches (`fw.pipeline.tf_augment`, which also normalizes), AUTOTUNE
   parallelism;
3. **on device** - `fw.pipeline.DeviceDataset` under JAX: the data as one tensor in
   device memory, index batches, `fw.transform.augment_batch` compiled. Where no GPU or
   TPU is present it runs on the CPU, and the table says so. It runs in a child process
   with ``KERAS_BACKEND=jax`` (the backend is fixed when Keras is imported; the tf.data
   pipelines need TensorFlow in this one).

Each pipeline runs one warm-up epoch (fills caches, compiles), then ``--epochs`` timed
epochs (default 3); the table reports the fastest of them (`images` is one epoch's).
This is a script, not a test: timings depend on the machine, which the table names.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from fenwicks_lite import TensorFlowMissingError, needs_tensorflow

#: TensorFlow 1 on the seed's Colab TPU host: `tfrecord_ds`'s default parallelism was
#: two cores.
SEED_N_CORES = 2


@dataclasses.dataclass(frozen=True)
class Row:
    """One pipeline's measurement: a row of the table in Chapter 5, "Measured side by
    side"."""

    name: str
    images_per_s: float
    images: int
    seconds: float
    #: where it ran: ``"CPU, <model> (2 cores)"`` or ``"1 x GPU NVIDIA H100 ..."``
    device: str
    note: str = ""


def _time_epochs(
    epoch: Callable[[int], Iterable[Any]], epochs: int, sync: Callable[[Any], Any]
) -> tuple[int, float]:
    """Images per epoch and the seconds of the FASTEST of `epochs` timed epochs, after
    one untimed warm-up epoch. The fastest, not the mean: on a machine shared with other
    jobs, interference only ever slows a pipeline down, so the minimum is the best
    estimate of what the pipeline itself can do."""
    last = None
    for batch in epoch(0):
        last = batch
    sync(last)
    best, n = float("inf"), 0
    for e in range(1, epochs + 1):
        n, t0 = 0, time.perf_counter()
        for batch in epoch(e):
            n += int(batch[1].shape[0])
            last = batch
        sync(last)
        best = min(best, time.perf_counter() - t0)
    return n, best


@needs_tensorflow(instead="fw.bench_pipeline.device_row, the device pipeline alone")
def tf_rows(
    x: np.ndarray, y: np.ndarray, batch_size: int, epochs: int, workdir: str
) -> list[Row]:
    """Chapter 5's naive and tuned tf.data pipelines on TFRecords in `workdir`."""
    from fenwicks_lite import accel, data, io, pipeline, transform

    mean, std = data.channel_stats(x)
    h, w, c = x.shape[1:]
    x_float = data.normalize(x, mean, std)
    io.numpy_tfrecord(
        x_float, y, os.path.join(workdir, "float32.tfrec"), shards=4, dtype="float32"
    )
    io.numpy_tfrecord(
        x, y, os.path.join(workdir, "uint8.tfrec"), shards=4, dtype="uint8"
    )

    def naive_parser(example: Any) -> tuple[Any, Any]:
        img, label = io.tfexample_numpy_image_parser(example, h, w, c, dtype="float32")
        img = transform.ramdom_pad_crop(img, 4)
        img = transform.random_flip(img)
        return transform.cutout(img, 8, 8), label

    naive = pipeline.tfrecord_ds(
        os.path.join(workdir, "float32.tfrec*"),
        naive_parser,
        batch_size,
        n_cores=SEED_N_CORES,
        cache="records",
        seed=0,
    )
    tuned = pipeline.tfrecord_ds(
        os.path.join(workdir, "uint8.tfrec*"),
        lambda e: io.tfexample_numpy_image_parser(e, h, w, c, dtype="uint8"),
        batch_size,
        cache="parsed",
        batch_transform=pipeline.tf_augment(mean=mean, std=std),
        seed=0,
    )
    device = f"CPU, {accel.cpu_name()}"
    rows = []
    for name, ds, note in (
        (
            "naive tf.data",
            naive,
            "float32 records, per-image parse + augment, 2 parallel calls",
        ),
        (
            "tuned tf.data",
            tuned,
            "uint8 records, parsed once and cached, batch augmentation, AUTOTUNE",
        ),
    ):
        n, sec = _time_epochs(lambda _e, ds=ds: ds, epochs, lambda _b: None)
        rows.append(Row(name, n / sec, n, sec, device, note))
    return rows


def device_row(x: np.ndarray, y: np.ndarray, batch_size: int, epochs: int) -> Row:
    """`DeviceDataset` under the active Keras backend (the child process runs it under
    JAX): Chapter 5, "The accelerator pipeline: data on the device", measured."""
    import keras

    from fenwicks_lite import accel, data, pipeline

    mean, std = data.channel_stats(x)
    ds = pipeline.DeviceDataset(x, y, batch_size, seed=0, mean=mean, std=std)

    def sync(batch: Any) -> None:
        # waits for the queued device work
        keras.ops.convert_to_numpy(batch[0][0, 0, 0, 0])

    n, sec = _time_epochs(ds.epoch, epochs, sync)
    info = accel.device_info()
    where = (
        str(info)
        if info.platform != "cpu"
        else f"{info} - no accelerator here, so on the CPU"
    )
    return Row(f"on device ({keras.backend.backend()})", n / sec, n, sec, where,
               "uint8 in device memory, index batches, augment_batch compiled")


def _device_row_in_child(
    x: np.ndarray, y: np.ndarray, batch_size: int, epochs: int, workdir: str
) -> Row:
    """Runs `device_row` in a fresh Python under ``KERAS_BACKEND=jax`` (or the current
    backend if JAX is not installed) and reads its row back as JSON."""
    import importlib.util

    backend = (
        "jax"
        if importlib.util.find_spec("jax")
        else os.environ.get("KERAS_BACKEND", "tensorflow")
    )
    np.save(os.path.join(workdir, "x.npy"), x)
    np.save(os.path.join(workdir, "y.npy"), y)
    env = {**os.environ, "KERAS_BACKEND": backend}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "fenwicks_lite.bench_pipeline",
            "--device-child",
            workdir,
            "--batch-size",
            str(batch_size),
            "--epochs",
            str(epochs),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(
            f"the on-device benchmark failed under "
            f"KERAS_BACKEND={backend}:\n{out.stderr[-3000:]}"
        )
    return Row(**json.loads(out.stdout.strip().splitlines()[-1]))


@needs_tensorflow(instead="fw.bench_pipeline.device_row, the device pipeline alone")
def run(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int = 512,
    epochs: int = 3,
    device: bool = True,
) -> list[Row]:
    """All pipelines on the same images, one after another in this process (and one
    child): the rows of the chapter's table. `x` are uint8 images (N, H, W, 3), `y`
    integer labels. Chapter 5, "Measured side by side" runs it."""
    from fenwicks_lite import pipeline

    batch_size = pipeline._check_batch_size(batch_size)
    if len(x) < batch_size:
        raise ValueError(
            f"{len(x)} images do not fill one batch of {batch_size}: pass more images "
            f"or a "
            "smaller batch_size."
        )
    if x.dtype != np.uint8:
        raise ValueError(
            "x must be uint8 pixels as loaded by fw.data (the benchmark writes both "
            f"record formats from them), got {x.dtype}."
        )
    with tempfile.TemporaryDirectory(prefix="fw_bench_") as workdir:
        rows = tf_rows(x, y, batch_size, epochs, workdir)
        if device:
            rows.append(_device_row_in_child(x, y, batch_size, epochs, workdir))
    return rows


def format_table(rows: list[Row], width: int = 88) -> str:
    """A plain-text table: images/s and the ratio to the first (naive) row, then each
    row's device and notes, wrapped to `width` columns (the table itself is 61 wide).

    Chapter 5, "Measured side by side" prints it.
    """
    import textwrap

    base = rows[0].images_per_s
    lines = [
        f"{'pipeline':<22} {'images/s':>10} {'x naive':>8}  {'images':>8} "
        f"{'seconds':>8}"
    ]
    # images: one epoch; seconds: the fastest timed epoch
    for r in rows:
        lines.append(
            f"{r.name:<22} {r.images_per_s:>10,.0f} {r.images_per_s / base:>8.2f}  "
            f"{r.images:>8,} {r.seconds:>8.2f}"
        )
    lines.append("")
    for r in rows:
        lines += textwrap.wrap(f"{r.name}: {r.device}; {r.note}", width,
                               subsequent_indent="    ")
    return "\n".join(lines)


def plot(
    rows: list[Row],
    ax: Any = None,
    consumers: dict[str, float] | None = None,
    log: bool = True,
) -> Any:
    """Bar chart of images/s per pipeline; `consumers` draws horizontal lines at how
    fast a chip eats images (e.g. ``{"TPU v2 (2019)": 40_000}``), to see which side sets
    the pace: Chapter 5, "When the pipeline, not the chip, sets the pace"."""
    import matplotlib.pyplot as plt

    from fenwicks_lite.plt import FIGURE_WIDTH, MIN_TEXT_PT

    if ax is None:
        _, ax = plt.subplots(figsize=(FIGURE_WIDTH, 3.4))
    names = [
        r.name + ("\n(on the CPU)" if "no accelerator" in r.device else "")
        for r in rows
    ]
    vals = [r.images_per_s for r in rows]
    bars = ax.bar(
        names, vals, color=["#b0b0b0", "#4c72b0", "#55a868", "#c44e52"][: len(rows)]
    )
    for b, v in zip(bars, vals, strict=True):
        ax.annotate(
            f"{v:,.0f}",
            (b.get_x() + b.get_width() / 2, v),
            ha="center",
            va="bottom",
            fontsize=MIN_TEXT_PT,
        )
    for i, (label, rate) in enumerate((consumers or {}).items()):
        ax.axhline(rate, ls="--", lw=1, color=f"C{i + 3}", label=label)
    if consumers:
        ax.legend(
            fontsize=MIN_TEXT_PT, loc="upper left", title="a chip consumes",
            title_fontsize=MIN_TEXT_PT,
        )
    if log:  # rates span orders of magnitude; a log axis keeps the slow bars visible
        ax.set_yscale("log")
        everything = [*vals, *(consumers or {}).values()]
        ax.set_ylim(min(everything) / 2, max(everything) * 4)
    ax.set_ylabel("images / s")
    ax.set_title("Input pipelines, measured side by side")
    return ax


def main(argv: list[str] | None = None) -> int:
    """``python -m fenwicks_lite.bench_pipeline``: Chapter 5's "Measured side by side"
    on the machine at hand (the module's docstring lists the options); prints the table
    and returns the exit status."""
    p = argparse.ArgumentParser(
        prog="python -m fenwicks_lite.bench_pipeline",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--profile",
        choices=["quick", "full"],
        default=None,
        help="data and batch size (default: $FENWICKS_LITE_PROFILE)",
    )
    p.add_argument(
        "--images", type=int, default=None, help="use the first N training images"
    )
    p.add_argument(
        "--batch-size", type=int, default=None, help="default: the profile's"
    )
    p.add_argument(
        "--epochs",
        type=int,
        default=3,
        help="timed epochs per pipeline (after one warm-up); the fastest counts",
    )
    p.add_argument(
        "--no-device", action="store_true", help="skip the on-device pipeline"
    )
    p.add_argument(
        "--json", type=Path, default=None, help="also write the rows as JSON here"
    )
    p.add_argument("--device-child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.device_child:  # the child process of `_device_row_in_child`
        d = args.device_child
        row = device_row(
            np.load(os.path.join(d, "x.npy")),
            np.load(os.path.join(d, "y.npy")),
            args.batch_size,
            args.epochs,
        )
        print(json.dumps(dataclasses.asdict(row)))
        return 0
    from fenwicks_lite import data, profiles

    profile = profiles.get_profile(args.profile)
    ds = data.load_profile_data(profile)
    x, y = ds.x_train[: args.images], ds.y_train[: args.images]
    print(
        f"{len(x):,} images of {ds.describe()}, batch "
        f"{args.batch_size or profile.batch_size}"
    )
    try:
        rows = run(
            x,
            y,
            args.batch_size or profile.batch_size,
            args.epochs,
            device=not args.no_device,
        )
    except TensorFlowMissingError as e:  # a JAX-only install: what to do, no traceback
        print(e, file=sys.stderr)
        return 1
    print(format_table(rows))
    if args.json:
        args.json.write_text(
            json.dumps([dataclasses.asdict(r) for r in rows], indent=1)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
