"""Checkpoints: a run's state after every epoch, and resuming from it (Chapter 8).

A Colab session can end mid-run. The training loop (`fenwicks_lite.fit`) writes the
weights, the BatchNorm statistics and the optimizer's state after every epoch,
atomically, and ``resume=True`` continues from the last one. Because each epoch's data
order and augmentation depend only on (seed, epoch), the resumed run repeats what the
interrupted one would have done. Plain NumPy files: no Keras, JAX or TensorFlow needed
to read them.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fenwicks_lite.records import TrainConfig

#: the file in `work_dir` that holds the latest checkpoint (replaced after every epoch).
CHECKPOINT_FILE = "checkpoint.npz"
#: bumped when the layout changes, so that an old file gives a clear error, not garbage.
CHECKPOINT_FORMAT = 1
#: the model's and optimizer's variable lists a checkpoint holds, in its order.
PARTS = ("trainable", "non_trainable", "optimizer")


def save_checkpoint(work_dir: Path, epoch: int, state: Sequence[Sequence[Any]],
                    meta: dict[str, Any]) -> Path:
    """Writes the state after `epoch` (trainable, non-trainable, optimizer arrays).

    Atomic: written to a temporary file in the same folder and renamed over the old
    checkpoint, so a run killed while writing (a Colab disconnect) still has the
    previous epoch's checkpoint. Chapter 8, "The training loop".
    """
    arrays: dict[str, np.ndarray] = {}
    for part, values in zip(PARTS, state, strict=True):
        for i, v in enumerate(values):
            arrays[f"{part}/{i:04d}"] = np.asarray(v)
    meta = {**meta, "epoch": epoch, "format": CHECKPOINT_FORMAT}
    arrays["meta"] = np.array(json.dumps(meta))
    fd, tmp = tempfile.mkstemp(dir=work_dir, prefix=".checkpoint-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, work_dir / CHECKPOINT_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return work_dir / CHECKPOINT_FILE


def load_checkpoint(
        work_dir: Path) -> tuple[dict[str, Any], list[list[np.ndarray]]] | None:
    """``(meta, [trainable, non_trainable, optimizer])`` from `work_dir`, or None if
    there is no checkpoint; an unreadable file is a clear error.

    What ``resume=True`` reads: Chapter 8, "The training loop".
    """
    path = Path(work_dir) / CHECKPOINT_FILE
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            parts: list[list[np.ndarray]] = [[], [], []]
            for key in sorted(k for k in z.files if k != "meta"):
                part, _ = key.split("/")
                parts[PARTS.index(part)].append(z[key])
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as e:
        raise ValueError(f"{path} is not a readable fenwicks_lite checkpoint ({e}): "
                         f"move it away to start afresh, or point work_dir elsewhere."
                         ) from e
    return meta, parts


def check_checkpoint(meta: dict[str, Any], parts: list[list[np.ndarray]],
                     cfg: TrainConfig, shapes: list[list[tuple]], path: Path) -> None:
    """Refuses a checkpoint of another model or other run settings (`shapes`: this run's
    weight shapes): resuming it would silently train a different experiment, or crash on
    a shape deep in the step.

    A helper of ``resume=True`` (Chapter 8, "The training loop").
    """
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} has checkpoint format {meta.get('format')}, this "
                         f"library writes {CHECKPOINT_FORMAT}: start afresh in another "
                         f"work_dir.")
    got = [[tuple(a.shape) for a in p] for p in parts[:2]]
    if got != [[tuple(s) for s in p] for p in shapes[:2]]:
        raise ValueError(
            f"{path} was written by a different model (width "
            f"{meta.get('run_key', {}).get('width')} vs {cfg.width}; its weight shapes "
            f"do not match this DavidNet): use another work_dir, or the settings of "
            f"that run."
        )
    said = differences(meta.get("run_key", {}), cfg.run_key())
    if said:
        raise ValueError(f"{path} belongs to a run with other settings ({said}): "
                         f"resume with the same settings, or use another work_dir for "
                         f"this run.")


def differences(theirs: dict[str, Any], ours: dict[str, Any],
                keys: Sequence[str] | None = None) -> str:
    """The settings in which `theirs` (a stored run's) and `ours` differ, as
    ``"epochs: 1 there vs 3 now, ..."``; "" when they agree. Only `keys` when given.

    A helper of `check_checkpoint`, `check_data` and Chapter 9's command line, which
    refuse to resume a run with other settings (Chapter 8 resumes one).
    """
    keys = sorted(ours) if keys is None else keys
    return ", ".join(f"{k}: {theirs.get(k)!r} there vs {ours.get(k)!r} now"
                     for k in keys if theirs.get(k) != ours.get(k))


def check_data(meta: dict[str, Any], identity: dict[str, Any], path: Path) -> None:
    """Refuses to resume a checkpoint on other data than it was trained on
    (`identity`: `fw.data.Dataset.identity` of this run's data): the record would claim
    images the model never saw, and the steps per epoch (the schedule) would change. A
    checkpoint that predates these fields is accepted (there is nothing to compare).

    A helper of ``resume=True`` (Chapter 8, "The training loop").
    """
    theirs = meta.get("data")
    if not isinstance(theirs, dict):
        return
    said = differences(theirs, identity, [k for k in identity if k in theirs])
    if said:
        raise ValueError(f"{path} belongs to a run on other data ({said}): resume with "
                         f"the same data (the same CIFAR10_DIR and limits), or use "
                         f"another work_dir for this run.")
