"""What a training run is and what it leaves behind (Chapters 8 and 9).

`TrainConfig` is one run's settings: a `Profile` (the recipe, Introduction) plus the
seed and how to run it. `Result` is the record of a finished run, written as JSON by
`write_result` and read back by `load_results` for chapter 9's tables (`fw.report`).
`summarize` gives the mean and spread over seeds. Nothing here imports Keras, JAX or
TensorFlow: the records can be read anywhere.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fenwicks_lite.profiles import Profile, get_profile

#: images per evaluation call: enough to keep a GPU busy, small enough for a CPU's
#: memory.
EVAL_BATCH = 500
#: the CIFAR-10 classes (DavidNet's output width).
N_CLASSES = 10
#: the recipe's settings, read through a config (`cfg.epochs` is `cfg.profile.epochs`).
PROFILE_FIELDS = tuple(f.name for f in dataclasses.fields(Profile) if f.name != "name")


# ------------------------------------------------------------------------ configuration

@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """One training run: the recipe (`profile`) and how to run it (Chapters 8 and 9).

    Build it with `TrainConfig.from_profile`; change it with `replace`. The recipe's
    settings read as attributes: ``cfg.epochs`` is ``cfg.profile.epochs``.
    """

    #: the recipe: width, epochs, batch size, schedule, regularization, data limits
    profile: Profile
    seed: int = 0
    #: "auto" (by hardware, `fw.accel.choose_precision`), "float32", "mixed_bfloat16",
    #: "mixed_float16"
    precision: str = "auto"
    #: where checkpoints go; None: no checkpoints (nothing to resume from)
    work_dir: str | None = None
    #: continue from the checkpoint in `work_dir` (True) or refuse to touch one (False)
    resume: bool = False
    #: JAX only: the compiled-epoch path (True) or plain `model.fit` (False)
    fast: bool = True
    #: JAX fast path: one `lax.scan` call per epoch (True) or one call per step (False);
    #: None: scan on a GPU/TPU, steps on a CPU (chapter 8)
    scan: bool | None = None
    #: JAX: a folder for XLA's persistent compilation cache, so that a second process
    #: with the same shapes loads the compiled epoch instead of compiling it; None: off
    compile_cache: str | None = None
    #: 0 silent, 1 a line per epoch (and Keras's progress bar on the `model.fit` path)
    verbose: int = 1

    def __getattr__(self, name: str) -> Any:
        if name in PROFILE_FIELDS:  # only called when normal lookup fails
            return getattr(self.profile, name)
        raise AttributeError(f"TrainConfig has no attribute {name!r}")

    @classmethod
    def fields(cls) -> list[str]:
        """Every name `from_profile` and `replace` accept: recipe and run settings."""
        return [*PROFILE_FIELDS, *(f.name for f in dataclasses.fields(cls))]

    @classmethod
    def from_profile(cls, profile: str | Profile | None = None,
                     **overrides: Any) -> TrainConfig:
        """The profile's recipe (Introduction; `fw.profiles`) with `overrides`, e.g.
        ``epochs=1`` (the recipe) or ``seed=3`` (the run)."""
        p = profile if isinstance(profile, Profile) else get_profile(profile)
        return cls(profile=p).replace(**overrides)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with `changes`; recipe settings (``epochs=3``) go into the profile,
        which keeps its name. Checked with `validate`."""
        unknown = set(changes) - set(self.fields()) - {"profile"}
        if unknown:
            raise TypeError(f"unknown TrainConfig fields {sorted(unknown)}; known: "
                            f"{self.fields()}")
        recipe = {k: changes.pop(k) for k in PROFILE_FIELDS if k in changes}
        profile = changes.pop("profile", self.profile)
        if recipe:
            profile = dataclasses.replace(profile, **recipe)
        cfg = dataclasses.replace(self, profile=profile, **changes)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        """Clear errors for settings that would fail later, deep in a compiled step."""
        from fenwicks_lite import accel

        for name in ("epochs", "batch_size", "width"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")
        if not 0 <= self.warmup_epochs <= self.epochs:
            raise ValueError(f"warmup_epochs must lie in [0, epochs={self.epochs}], "
                             f"got {self.warmup_epochs}.")
        if self.precision not in accel.PRECISIONS:
            raise ValueError(f"precision must be one of {accel.PRECISIONS}, "
                             f"got {self.precision!r}.")
        for name in ("train_limit", "test_limit"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be a positive number of images or None "
                                 f"(all), got {value!r}.")

    def run_key(self) -> dict[str, Any]:
        """What must match for a checkpoint to belong to this run: the recipe, the seed,
        the precision (not where it runs, how it prints or which path it takes)."""
        return {"profile": self.profile.name, "seed": self.seed,
                **{k: getattr(self.profile, k) for k in PROFILE_FIELDS},
                "precision": self.precision}

    def to_record(self) -> dict[str, Any]:
        """The config as JSON-ready data, the recipe nested under ``"profile"``."""
        return dataclasses.asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> TrainConfig:
        """The config a `Result` was trained with, from its ``config`` record: the
        nested shape `to_record` writes, or the flat one of older records (the
        profile's name and its settings side by side)."""
        own = {f.name for f in dataclasses.fields(cls)} - {"profile"}
        if isinstance(record.get("profile"), dict):
            profile = Profile(**record["profile"])
        else:
            try:
                profile = Profile(name=record["profile"],
                                  **{k: record[k] for k in PROFILE_FIELDS})
            except KeyError as e:
                raise ValueError(
                    f"config record lacks {e}: not a TrainConfig record.") from None
        return cls(profile=profile, **{k: v for k, v in record.items() if k in own})


# --------------------------------------------------------------------------- the record

#: what each test-time augmentation level averages (chapter 9: level 1; chapter 10's
#: fast recipe: level 2), for tables and summaries
TTA_LABELS = {0: "no TTA", 1: "flip TTA", 2: "flip + translate TTA"}


def tta_label(level: int) -> str:
    """The words for TTA `level` ("flip + translate TTA" for airbench's level 2).

    Chapter 10 names its runs' test-time augmentation with it.
    """
    if level not in TTA_LABELS:
        raise ValueError(f"level must be 0, 1 or 2 (see tta_logits), got {level!r}.")
    return TTA_LABELS[level]


@dataclasses.dataclass
class Result:
    """What a run produced and where: Chapter 9's tables and plots (written as JSON)."""

    profile: str
    seed: int
    #: final test accuracy, plain and with the recipe's test-time augmentation
    #: (``config["tta_level"]``, `TTA_LABELS`; the seed's recipe: flip, the mean of the
    #: predictions on an image and its mirror image)
    test_acc: float
    test_acc_tta: float
    epochs: int
    batch_size: int
    steps_per_epoch: int
    n_train: int
    n_test: int
    dataset: str
    #: compile_s (0 when reused), compiled (False: this process had already compiled the
    #: same shapes), compile_method, train_s (steps only), eval_s, total_s (wall time)
    timings: dict[str, Any]
    #: one dict per epoch: epoch, lr, train_loss, train_acc, test_acc, train_s
    history: list[dict[str, Any]]
    backend: str
    precision: str
    hardware: dict[str, Any]
    versions: dict[str, str]
    git_commit: str | None
    #: `TrainConfig.to_record` (read it back with `TrainConfig.from_record`)
    config: dict[str, Any]
    #: the epoch a resumed run started from (0: a fresh run)
    resumed_from_epoch: int
    #: per test image: true class, predicted class and its softmax probability (no TTA),
    #: for chapter 9's confusion matrix and most confidently wrong images
    test_true: list[int]
    test_pred: list[int]
    test_conf: list[float]
    started: str
    finished: str

    def summary(self) -> str:
        """One line: accuracy, timings, where it ran (what the CLI prints per seed)."""
        t = self.timings
        compiled = "" if t.get("compiled", True) else " (reused)"
        tta = tta_label(int(self.config.get("tta_level", 1)))
        return (f"seed {self.seed}: test accuracy {self.test_acc:.2%} "
                f"({self.test_acc_tta:.2%} with {tta}) after {self.epochs} "
                f"epoch{'' if self.epochs == 1 else 's'} | "
                f"train {t['train_s']:.1f} s + compile {t['compile_s']:.1f} s"
                f"{compiled}, "
                f"total {t['total_s']:.1f} s | {self.hardware['device']}, "
                f"{self.backend}, {self.precision}")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> Result:
        return cls(**json.loads(text))


def _write_new(out: Path, stem: str, text: str) -> Path:
    """Writes `text` to ``stem.json`` in `out`, or ``stem-1.json`` ... if taken: opened
    exclusively, so that two runs writing at once cannot clobber each other."""
    for n in range(10_000):
        path = out / (f"{stem}.json" if n == 0 else f"{stem}-{n}.json")
        try:
            with open(path, "x", encoding="utf-8") as f:
                f.write(text)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"{out} holds 10,000 files named {stem}*.json: choose "
                          f"another --out folder.")


def write_result(result: Result, out_dir: str | os.PathLike,
                 stem: str | None = None) -> Path:
    """Writes `result` as JSON under `out_dir` and returns the path. NEVER overwrites:
    an existing ``quick-seed0.json`` makes this one ``quick-seed0-1.json`` (then -2,
    ...).

    Part of the run records that Chapter 9 reads ("The records").
    """
    out = writable_dir(out_dir, "out")
    stem = stem or f"{result.profile}-seed{result.seed}"
    return _write_new(out, stem, result.to_json())


def is_summary(record: Any) -> bool:
    """Whether a JSON record is a summary of seeds (`summarize`, as the CLI writes it
    beside the seeds' records), not one run's `Result`.

    Part of the run records that Chapter 9 reads ("The records").
    """
    return isinstance(record, dict) and {"n", "seeds", "test_acc_mean"} <= set(record)


def load_results(paths: Sequence[str | os.PathLike]) -> list[Result]:
    """Reads result JSON files (what `write_result` wrote), e.g. for Chapter 9.

    Summaries among them (``quick-summary.json``, which ``glob("results/*.json")``
    picks up beside the seeds' records) are skipped. A file that is neither (truncated,
    edited, or another kind of JSON) is a `ValueError` that names it."""
    results = []
    for p in paths:
        p = Path(p)
        try:
            record = json.loads(p.read_text(encoding="utf-8"))
            if is_summary(record):
                continue
            results.append(Result(**record))
        except (ValueError, TypeError) as e:  # JSONDecodeError is a ValueError
            raise ValueError(
                f"{p} is not a run record (truncated or edited? {type(e).__name__}: "
                f"{e}): delete it or re-run that seed.") from None
    return results


def summarize(results: Sequence[Result]) -> dict[str, Any]:
    """Mean and standard deviation (ddof=1 when there are several seeds) of the headline
    numbers, and the compile time paid in all (`compile_s_sum`, `compiles`).

    Part of the run records that Chapter 9 reads ("The records").
    """
    def stats(values: list[float]) -> tuple[float, float]:
        a = np.asarray(values, dtype=float)
        return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0

    out: dict[str, Any] = {"n": len(results), "seeds": [r.seed for r in results]}
    for name, values in (("test_acc", [r.test_acc for r in results]),
                         ("test_acc_tta", [r.test_acc_tta for r in results]),
                         ("train_s", [r.timings["train_s"] for r in results]),
                         ("compile_s", [r.timings["compile_s"] for r in results]),
                         ("total_s", [r.timings["total_s"] for r in results])):
        out[f"{name}_mean"], out[f"{name}_std"] = stats(values)
    out["compile_s_sum"] = float(sum(r.timings["compile_s"] for r in results))
    out["compiles"] = sum(bool(r.timings.get("compiled", True)) for r in results)
    out["reach_94"] = sum(r.test_acc >= 0.94 for r in results)
    if results:
        r = results[0]
        out.update(hardware=r.hardware, backend=r.backend, precision=r.precision,
                   profile=r.profile, epochs=r.epochs, git_commit=r.git_commit)
    return out


def write_summary(summary: dict[str, Any], out_dir: str | os.PathLike,
                  stem: str) -> Path:
    """Writes `summarize`'s dict as JSON, never overwriting (like `write_result`).

    Part of the run records that Chapter 9 reads ("The records").
    """
    out = writable_dir(out_dir, "out")
    return _write_new(out, stem, json.dumps(summary, indent=1))


# ---------------------------------------------------------------------- small utilities

def writable_dir(path: str | os.PathLike, what: str) -> Path:
    """`path`, created if needed and checked writable (by writing a probe), else a clear
    `PermissionError` that names `what` (e.g. "work_dir").

    Chapter 9's command line checks ``--out`` with it, the training loop its
    `work_dir` (``--work-dir``).
    """
    p = Path(path).expanduser()
    try:
        p.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=p, prefix=".probe-"):
            pass
    except OSError as e:
        raise PermissionError(
            f"{what} folder {p} is not writable ({e.strerror or e}): choose a folder "
            f"you can write to (e.g. one under your home directory or /tmp)."
        ) from e
    return p


#: The commit a copy of the tree was made from, for runs outside a git checkout: the
#: GPU machine gets the tracked files without .git (book/scripts/gpu_common.sh).
COMMIT_ENV_VAR = "FENWICKS_LITE_GIT_COMMIT"


def git_commit() -> str | None:
    """The commit of the checkout the library runs from; outside a checkout, the
    commit ``$FENWICKS_LITE_GIT_COMMIT`` names, else None.

    Every run record of Chapters 8, 9 and 10 carries it (`provenance`).
    """
    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        out = None
    if out is not None and out.returncode == 0 and out.stdout.strip():
        return out.stdout.strip()
    return os.environ.get(COMMIT_ENV_VAR, "").strip() or None


def now() -> str:
    """The current UTC time to the second, as every record writes its ``started`` and
    ``finished``.

    Every run record of Chapters 8, 9 and 10 carries it (`provenance`).
    """
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def provenance(device: Any, precision: str, backend: str) -> dict[str, Any]:
    """The fields every run record carries about where it ran (a `Result` of Chapter 9
    and a `fenwicks_lite.fast.RunRecord` of Chapter 10 alike): the backend, the
    precision, the hardware (`device`, an `fw.accel.DeviceInfo`, and the host CPU), the
    library versions and the commit."""
    from fenwicks_lite import accel

    return {"backend": backend, "precision": precision,
            "hardware": {"device": str(device), "platform": device.platform,
                         "count": device.count, "name": device.name,
                         "cpu": accel.cpu_name()},
            "versions": versions(), "git_commit": git_commit()}


def versions() -> dict[str, str]:
    """The library versions a result depends on (imports Keras).

    Every run record of Chapters 8, 9 and 10 carries it (`provenance`).
    """
    import keras

    from fenwicks_lite import __version__, accel

    return {"fenwicks_lite": __version__, "keras": keras.__version__,
            keras.backend.backend(): accel.backend_version(), "numpy": np.__version__,
            "python": platform.python_version()}
