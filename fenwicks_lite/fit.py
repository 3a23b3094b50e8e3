"""The training loop: one `train(config)` for the finale, the CLI and the tests (Chapters 8 and 9).

The 2019 seed handed a `model_fn` to a `TPUEstimator` and called `est.train(...)`. Here one function
does the whole run and returns a `Result` record (also written as JSON): DavidNet (Chapter 6), Page's
triangular learning rate and PyTorch-style Nesterov SGD (Chapter 7), the device augmentation
(Chapters 4 and 5), on the accelerator that `fw.accel.setup` chose (Chapter 8).

Two paths, the same recipe:

* **JAX** (`fast=True`, the default there): a whole epoch is ONE compiled call - `jax.lax.scan` over the
  steps, using Keras's stateless APIs (`model.stateless_call`, `optimizer.stateless_apply`), the data set
  resident on the device, augmentation fused into the step, the state's buffers donated. No host round
  trip per step; compile time is measured apart (ahead-of-time `lower().compile()`).
* **TensorFlow** (and JAX with `fast=False`): plain `model.fit` on a `tf.data` pipeline (TF) or a
  `keras.utils.PyDataset` (JAX), one epoch per call so that a checkpoint follows every epoch.

A checkpoint is written after every epoch into `work_dir` (atomically: a kill mid-write leaves the
previous one), and ``resume=True`` continues from it: the data order and augmentation of epoch e depend
only on (seed, e), so a resumed run repeats what the interrupted one would have done. Importing this
module imports neither TensorFlow nor JAX.

CLI: ``python -m fenwicks_lite.train --profile full --seeds 5 --out results/`` (`main`).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fenwicks_lite.profiles import PROFILES, Profile, get_profile

#: the file in `work_dir` that holds the latest checkpoint (replaced atomically after every epoch).
CHECKPOINT_FILE = "checkpoint.npz"
#: bumped when the checkpoint layout changes, so an old file gives a clear error, not garbage.
CHECKPOINT_FORMAT = 1
#: images per evaluation call: large enough to keep a GPU busy, small enough for a CPU's memory.
EVAL_BATCH = 500
#: the CIFAR-10 classes (DavidNet's output width).
N_CLASSES = 10


# ---------------------------------------------------------------------------------------- configuration

@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything that defines one training run. Build it with `TrainConfig.from_profile`."""

    profile: str
    seed: int
    epochs: int
    batch_size: int
    width: int
    peak_lr: float
    warmup_epochs: float
    weight_decay: float
    momentum: float
    cutout: int
    train_limit: int | None
    test_limit: int | None
    #: "auto" (by hardware, `fw.accel.choose_precision`), "float32", "mixed_bfloat16", "mixed_float16"
    precision: str = "auto"
    #: where checkpoints go; None: a fresh temporary folder (no resume possible)
    work_dir: str | None = None
    #: continue from the checkpoint in `work_dir` (True) or refuse to touch an existing one (False)
    resume: bool = False
    #: JAX only: the scanned-epoch path (True) or plain `model.fit` (False)
    fast: bool = True
    #: JAX fast path: one `lax.scan` call per epoch (True) or one call per step (False); None: scan on a
    #: GPU/TPU, steps on a CPU (where XLA runs convolutions inside a loop slowly, chapter 8)
    scan: bool | None = None
    #: 0 silent, 1 a line per epoch (and Keras's progress bar on the `model.fit` path)
    verbose: int = 1

    @classmethod
    def from_profile(cls, profile: str | Profile | None = None, **overrides: Any) -> TrainConfig:
        """The profile's recipe (Introduction; `fw.profiles`) with `overrides` (e.g. ``epochs=1``)."""
        p = profile if isinstance(profile, Profile) else get_profile(profile)
        fields = {f.name: getattr(p, f.name) for f in dataclasses.fields(Profile) if f.name != "name"}
        unknown = set(overrides) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise TypeError(f"unknown TrainConfig fields {sorted(unknown)}; known: "
                            f"{[f.name for f in dataclasses.fields(cls)]}")
        cfg = cls(profile=p.name, **{"seed": 0, **fields, **overrides})
        cfg.validate()
        return cfg

    def validate(self) -> None:
        """Clear errors for settings that would fail later, deep inside a compiled step."""
        from fenwicks_lite import accel

        for name in ("epochs", "batch_size", "width"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")
        if not 0 <= self.warmup_epochs <= self.epochs:
            raise ValueError(f"warmup_epochs must lie in [0, epochs={self.epochs}], got {self.warmup_epochs}.")
        if self.precision not in accel.PRECISIONS:
            raise ValueError(f"precision must be one of {accel.PRECISIONS}, got {self.precision!r}.")
        for name in ("train_limit", "test_limit"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be a positive number of images or None (all), got {value!r}.")

    def run_key(self) -> dict[str, Any]:
        """What must match for a checkpoint to belong to this run (not where it is or how it prints)."""
        skip = {"work_dir", "resume", "verbose", "fast", "scan"}
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in skip}


# ----------------------------------------------------------------------------------------- the record

@dataclasses.dataclass
class Result:
    """What a run produced and where: the record chapter 9 tabulates and plots (written as JSON)."""

    profile: str
    seed: int
    #: final test accuracy, plain and with flip test-time augmentation (mean of image and mirror image)
    test_acc: float
    test_acc_tta: float
    epochs: int
    batch_size: int
    steps_per_epoch: int
    n_train: int
    n_test: int
    dataset: str
    #: compile_s, train_s (steps only, excluding compile), eval_s, total_s (wall time of `train`),
    #: compile_method (how compile_s was measured)
    timings: dict[str, Any]
    #: one dict per epoch: epoch, lr, train_loss, train_acc, test_acc, train_s
    history: list[dict[str, Any]]
    backend: str
    precision: str
    hardware: dict[str, Any]
    versions: dict[str, str]
    git_commit: str | None
    config: dict[str, Any]
    #: the epoch a resumed run started from (0: a fresh run)
    resumed_from_epoch: int
    #: per test image: true class, predicted class and its softmax probability (no TTA), for the
    #: confusion matrix and the most confidently wrong images of chapter 9
    test_true: list[int]
    test_pred: list[int]
    test_conf: list[float]
    started: str
    finished: str

    def summary(self) -> str:
        t = self.timings
        return (f"seed {self.seed}: test accuracy {self.test_acc:.2%} ({self.test_acc_tta:.2%} with flip TTA) "
                f"after {self.epochs} epochs | train {t['train_s']:.1f} s + compile {t['compile_s']:.1f} s, "
                f"total {t['total_s']:.1f} s | {self.hardware['device']}, {self.backend}, {self.precision}")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> Result:
        return cls(**json.loads(text))


def write_result(result: Result, out_dir: str | os.PathLike, stem: str | None = None) -> Path:
    """Writes `result` as JSON under `out_dir` and returns the path. NEVER overwrites: an existing
    ``seed0.json`` makes this one ``seed0-1.json`` (then -2, ...), created exclusively so that two runs
    writing at once cannot clobber each other either."""
    out = _writable_dir(out_dir, "out")
    stem = stem or f"{result.profile}-seed{result.seed}"
    text = result.to_json()
    for n in range(10_000):
        path = out / (f"{stem}.json" if n == 0 else f"{stem}-{n}.json")
        try:
            with open(path, "x", encoding="utf-8") as f:
                f.write(text)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"{out} holds 10,000 results named {stem}*.json: choose another --out folder.")


def load_results(paths: Sequence[str | os.PathLike]) -> list[Result]:
    """Reads result JSON files (what `write_result` wrote), e.g. for chapter 9's tables and plots."""
    return [Result.from_json(Path(p).read_text(encoding="utf-8")) for p in paths]


# ------------------------------------------------------------------------------------- small utilities

def _writable_dir(path: str | os.PathLike, what: str) -> Path:
    """`path` created if needed and checked writable (by writing a probe), else a clear error."""
    p = Path(path).expanduser()
    try:
        p.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=p, prefix=".probe-"):
            pass
    except OSError as e:
        raise PermissionError(
            f"{what} folder {p} is not writable ({e.strerror or e}): choose a folder you can write to "
            f"(e.g. one under your home directory or /tmp)."
        ) from e
    return p


def git_commit() -> str | None:
    """The commit of the checkout the library runs from (None outside a git checkout)."""
    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def versions() -> dict[str, str]:
    """The library versions a result depends on."""
    import keras

    from fenwicks_lite import __version__, accel

    return {"fenwicks_lite": __version__, "keras": keras.__version__,
            keras.backend.backend(): accel.backend_version(), "numpy": np.__version__,
            "python": platform.python_version()}


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    """Full batches per epoch: the last partial batch is dropped, as Page did (50,000 / 512 -> 97)."""
    steps = n_train // batch_size
    if steps < 1:
        raise ValueError(f"batch size {batch_size} exceeds the {n_train} training images: lower --batch-size.")
    return steps


def _epoch_seed(seed: int, epoch: int) -> int:
    """One integer per (run seed, epoch): the data order and augmentation of an epoch depend on nothing
    else, so a resumed run repeats exactly what the interrupted one would have done."""
    return (seed * 1_000_003 + epoch) % (2**31 - 1)


def epoch_order(n_train: int, batch_size: int, seed: int, epoch: int) -> np.ndarray:
    """The image indices of each batch of `epoch`, shape (steps, batch_size): a fresh shuffle per epoch,
    the leftover images (fewer than a batch) skipped this epoch. Depends on (seed, epoch) only."""
    from fenwicks_lite.pipeline import epoch_indices

    steps_per_epoch(n_train, batch_size)  # a clear error when not even one batch fits
    return epoch_indices(n_train, batch_size, _epoch_seed(seed, epoch))


# ------------------------------------------------------------------------------------------ checkpoints

def save_checkpoint(work_dir: Path, epoch: int, state: Sequence[Sequence[Any]], meta: dict[str, Any]) -> Path:
    """Writes the state after `epoch` (trainable, non-trainable, optimizer arrays) with `meta`.

    Atomic: written to a temporary file in the same folder and renamed over the old checkpoint, so a
    run killed while writing (a Colab disconnect) still has the previous epoch's checkpoint.
    """
    arrays: dict[str, np.ndarray] = {}
    for part, values in zip(("trainable", "non_trainable", "optimizer"), state, strict=True):
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


def load_checkpoint(work_dir: Path) -> tuple[dict[str, Any], list[list[np.ndarray]]] | None:
    """``(meta, [trainable, non_trainable, optimizer])`` from `work_dir`, or None if there is none."""
    path = work_dir / CHECKPOINT_FILE
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            parts: list[list[np.ndarray]] = [[], [], []]
            for key in sorted(k for k in z.files if k != "meta"):
                part, _ = key.split("/")
                parts[("trainable", "non_trainable", "optimizer").index(part)].append(z[key])
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as e:
        raise ValueError(f"{path} is not a readable fenwicks_lite checkpoint ({e}): move it away to start "
                         f"afresh, or point work_dir elsewhere.") from e
    return meta, parts


def _check_checkpoint(meta: dict[str, Any], parts: list[list[np.ndarray]], cfg: TrainConfig,
                      shapes: list[list[tuple]], path: Path) -> None:
    """A checkpoint must come from the same model and the same run settings: otherwise resuming would
    silently train a different experiment (or crash on a shape deep in the step)."""
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} has checkpoint format {meta.get('format')}, this library writes "
                         f"{CHECKPOINT_FORMAT}: start afresh in another work_dir.")
    got = [[tuple(a.shape) for a in p] for p in parts[:2]]
    if got != shapes[:2]:
        raise ValueError(
            f"{path} was written by a different model (width {meta.get('run_key', {}).get('width')} vs "
            f"{cfg.width}; its weight shapes do not match this DavidNet): use another work_dir, or the "
            f"settings of that run."
        )
    theirs = meta.get("run_key", {})
    diff = {k: (theirs.get(k), v) for k, v in cfg.run_key().items() if theirs.get(k) != v}
    if diff:
        said = ", ".join(f"{k}: {a!r} there vs {b!r} now" for k, (a, b) in sorted(diff.items()))
        raise ValueError(f"{path} belongs to a run with other settings ({said}): resume with the same "
                         f"settings, or use another work_dir for this run.")


# ------------------------------------------------------------------------------------- building blocks

def lr_schedule(cfg: TrainConfig, steps: int) -> Callable[[Any], Any]:
    """Page's triangular learning rate over the whole run, in optimizer steps (Chapter 7)."""
    from fenwicks_lite import train as fw_train

    return fw_train.triangular_lr(cfg.peak_lr, cfg.epochs * steps, round(cfg.warmup_epochs * steps))


def build(cfg: TrainConfig, steps: int) -> tuple[Any, Any]:
    """DavidNet of width `cfg.width` and its SGD optimizer (built, so its variables exist)."""
    import keras

    from fenwicks_lite import layers
    from fenwicks_lite import train as fw_train

    model = layers.davidnet(c=cfg.width, n_classes=N_CLASSES)
    opt = fw_train.sgd_optimizer(lr_schedule(cfg, steps), mom=cfg.momentum, wd=cfg.weight_decay,
                                 nesterov=True)
    if keras.mixed_precision.global_policy().name == "mixed_float16":
        # float16 gradients underflow without loss scaling; Keras's optimizer wrapper scales dynamically.
        opt = keras.optimizers.LossScaleOptimizer(opt)
    opt.build(model.trainable_variables)
    return model, opt


def _lr_at(lr_func: Callable[[Any], Any], step: int) -> float:
    return float(np.asarray(lr_func(step)))


def _log(cfg: TrainConfig, text: str) -> None:
    if cfg.verbose:
        print(text, flush=True)


def _epoch_line(cfg: TrainConfig, h: dict[str, Any]) -> str:
    return (f"epoch {h['epoch']:>2}/{cfg.epochs} | lr {h['lr']:.4f} | train loss {h['train_loss']:.3f} "
            f"acc {h['train_acc']:.2%} | test acc {h['test_acc']:.2%} | {h['train_s']:.2f} s")


# ------------------------------------------------------------------------------------ the JAX fast path

class _JaxRunner:
    """One epoch = one compiled call: `lax.scan` over its steps, data resident on the device."""

    def __init__(self, model: Any, opt: Any, cfg: TrainConfig, mean: np.ndarray, std: np.ndarray,
                 x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, n_devices: int,
                 scan: bool | None = None) -> None:
        import jax
        import jax.numpy as jnp
        import keras

        from fenwicks_lite import transform

        self.model, self.opt, self.cfg = model, opt, cfg
        self.n_train = len(x_train)
        self.steps = steps_per_epoch(self.n_train, cfg.batch_size)
        self.mesh = None
        if n_devices > 1:  # data parallel: the batch is split over the devices, the weights replicated
            self.mesh = jax.sharding.Mesh(np.array(jax.devices()), ("batch",))
            rep = jax.sharding.NamedSharding(self.mesh, jax.sharding.PartitionSpec())
            put = lambda a: jax.device_put(a, rep)  # noqa: E731
        else:
            put = jax.device_put
        # uint8 on the device: 4x less memory and transfer than float; normalized inside the step.
        self.x_train, self.y_train = put(x_train), put(y_train.astype(np.int32))
        self.x_test = x_test
        mean_d, std_d = jnp.asarray(mean, jnp.float32), jnp.asarray(std, jnp.float32)
        mesh = self.mesh
        opt_vars_ref = opt.variables

        def normalize(x: Any) -> Any:
            return (x.astype(jnp.float32) - mean_d) / std_d

        def loss_fn(trainable, non_trainable, opt_vars, x, y):  # noqa: ANN001, ANN202
            logits, non_trainable = model.stateless_call(trainable, non_trainable, x, training=True)
            logits = logits.astype(jnp.float32)
            logp = jax.nn.log_softmax(logits)
            loss = -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))
            # A LossScaleOptimizer (mixed_float16) scales the loss with its current scale variable.
            with keras.StatelessScope(state_mapping=list(zip(opt_vars_ref, opt_vars, strict=True))):
                scaled = opt.scale_loss(loss)
            acc = jnp.mean((jnp.argmax(logits, axis=1) == y).astype(jnp.float32))
            return scaled, (non_trainable, loss, acc)

        grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

        def step(carry, inp):  # noqa: ANN001, ANN202
            """One SGD step on the batch of indices `idx`; `i` (with the epoch seed) seeds its augmentation."""
            state, x_all, y_all, epoch_seed = carry
            trainable, non_trainable, opt_vars = state
            idx, i = inp
            x = normalize(x_all[idx])
            if mesh is not None:
                x = jax.lax.with_sharding_constraint(
                    x, jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("batch")))
            # Page's augmentation (chapter 4): pad-and-crop (transform.PAD), flip, cutout of cfg.cutout.
            x = transform.augment_batch(x, transform.step_seed(epoch_seed, i), cutout=cfg.cutout)
            (_, (non_trainable, loss, acc)), grads = grad_fn(trainable, non_trainable, opt_vars, x, y_all[idx])
            trainable, opt_vars = opt.stateless_apply(opt_vars, grads, trainable)
            return (([list(trainable), list(non_trainable), list(opt_vars)], x_all, y_all, epoch_seed),
                    (loss, acc))

        def epoch_fn(state, x_all, y_all, order, epoch_seed):  # noqa: ANN001, ANN202
            """All the epoch's steps in one call: no host round trip between steps."""
            (state, *_), (losses, accs) = jax.lax.scan(
                step, (state, x_all, y_all, epoch_seed), (order, jnp.arange(len(order), dtype=jnp.uint32)))
            return state, jnp.mean(losses), jnp.mean(accs)

        def step_fn(state, x_all, y_all, idx, epoch_seed, i):  # noqa: ANN001, ANN202
            (state, *_), (loss, acc) = step((state, x_all, y_all, epoch_seed), (idx, i))
            return state, loss, acc

        def predict_fn(trainable, non_trainable, x):  # noqa: ANN001, ANN202
            x = normalize(x)
            p = jax.nn.softmax(model.stateless_call(trainable, non_trainable, x, training=False)[0]
                               .astype(jnp.float32))
            p_flip = jax.nn.softmax(model.stateless_call(trainable, non_trainable, x[:, :, ::-1],
                                                         training=False)[0].astype(jnp.float32))
            return p, (p + p_flip) / 2

        # Donating the state lets XLA update the weights in place instead of copying them every call.
        # XLA:CPU runs convolutions inside a loop body (`scan`) on a much slower generic path than in a
        # plain call (found while writing this), so on a CPU each step is its own call; on a GPU or TPU
        # the whole epoch is one call.
        self.scan = jax.devices()[0].platform != "cpu" if scan is None else scan
        self._fn = jax.jit(epoch_fn if self.scan else step_fn, donate_argnums=(0,))
        self._predict = jax.jit(predict_fn)
        self._compiled = None

    def state(self) -> list[list[Any]]:
        return [[v.value for v in self.model.trainable_variables],
                [v.value for v in self.model.non_trainable_variables],
                [v.value for v in self.opt.variables]]

    def compile(self, state: list[list[Any]]) -> float:
        """Compiles the epoch and the evaluation ahead of time; returns the seconds it took."""
        import jax
        import jax.numpy as jnp

        t0 = time.perf_counter()
        order = self.order(0)
        args = (order, 0) if self.scan else (order[0], 0, jnp.uint32(0))
        self._compiled = self._fn.lower(state, self.x_train, self.y_train, *args).compile()
        eval_shape = jax.ShapeDtypeStruct((min(EVAL_BATCH, len(self.x_test)), *self.x_test.shape[1:]),
                                          self.x_test.dtype)
        self._compiled_predict = self._predict.lower(state[0], state[1], eval_shape).compile()
        return time.perf_counter() - t0

    def run_epoch(self, state: list[list[Any]], epoch: int) -> tuple[list[list[Any]], float, float, float]:
        import jax.numpy as jnp

        seed = _epoch_seed(self.cfg.seed, epoch)
        order = self.order(epoch)
        t0 = time.perf_counter()
        if self.scan:
            state, loss, acc = self._compiled(state, self.x_train, self.y_train, order, seed)
        else:  # steps are dispatched asynchronously: the host does not wait for one before the next
            losses, accs = [], []
            for i in range(len(order)):
                state, loss, acc = self._compiled(state, self.x_train, self.y_train, order[i], seed, jnp.uint32(i))
                losses.append(loss)
                accs.append(acc)
            loss, acc = jnp.mean(jnp.stack(losses)), jnp.mean(jnp.stack(accs))
        loss, acc = float(loss), float(acc)  # blocks until the epoch is done
        return state, loss, acc, time.perf_counter() - t0

    def order(self, epoch: int) -> Any:
        """The epoch's batches as rows of image indices, from (seed, epoch) alone (see `_epoch_seed`)."""
        import jax

        return jax.device_put(epoch_order(self.n_train, self.cfg.batch_size, self.cfg.seed, epoch))

    def predict(self, state: list[list[Any]]) -> tuple[np.ndarray, np.ndarray]:
        """Softmax probabilities on the test set: plain and with flip TTA."""
        b = min(EVAL_BATCH, len(self.x_test))
        ps, pts = [], []
        for i in range(0, len(self.x_test), b):
            chunk = self.x_test[i:i + b]
            n = len(chunk)
            if n < b:  # pad the last chunk to the compiled shape
                chunk = np.concatenate([chunk, np.zeros((b - n, *chunk.shape[1:]), chunk.dtype)])
            p, pt = self._compiled_predict(state[0], state[1], chunk)
            ps.append(np.asarray(p)[:n])
            pts.append(np.asarray(pt)[:n])
        return np.concatenate(ps), np.concatenate(pts)

    def to_numpy(self, state: list[list[Any]]) -> list[list[np.ndarray]]:
        return [[np.asarray(a) for a in part] for part in state]

    def from_numpy(self, parts: list[list[np.ndarray]]) -> list[list[Any]]:
        import jax

        return jax.tree_util.tree_map(jax.numpy.asarray, parts)

    def finish(self, state: list[list[Any]]) -> None:
        """Writes the final state back into the Keras model (so the caller can use `model`)."""
        for var, value in zip(self.model.trainable_variables + self.model.non_trainable_variables
                              + self.opt.variables, [*state[0], *state[1], *state[2]], strict=True):
            var.assign(value)


# ----------------------------------------------------------------------------- the model.fit path (TF)

class _KerasRunner:
    """Plain `model.fit`, one epoch per call: tf.data on TensorFlow, a PyDataset on JAX."""

    def __init__(self, model: Any, opt: Any, cfg: TrainConfig, mean: np.ndarray, std: np.ndarray,
                 x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, n_devices: int) -> None:
        import keras

        from fenwicks_lite import data as fw_data

        self.model, self.opt, self.cfg = model, opt, cfg
        self.mean, self.std = mean, std
        self.x_train = fw_data.normalize(x_train, mean, std)
        self.y_train = y_train.astype(np.int32)
        self.x_test = fw_data.normalize(x_test, mean, std)
        self.steps = steps_per_epoch(len(x_train), cfg.batch_size)
        model.compile(optimizer=opt, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])

    def state(self) -> list[list[Any]]:
        import keras

        return [[keras.ops.convert_to_numpy(v.value) for v in vs]
                for vs in (self.model.trainable_variables, self.model.non_trainable_variables,
                           self.model.optimizer.variables)]

    def compile(self, state: list[list[Any]]) -> float:
        """Compiles Keras's train step by running it twice on one batch (the first call traces and
        compiles, the second only runs; `model.fit` then reuses the compiled step), then puts the
        weights and optimizer state back as they were. Returns first minus second call."""
        snapshot = self.state()
        bs = self.cfg.batch_size
        times = []
        for _ in range(2):
            t0 = time.perf_counter()
            self.model.train_on_batch(self.x_train[:bs], self.y_train[:bs])
            times.append(time.perf_counter() - t0)
        self.from_numpy(snapshot)
        return max(0.0, times[0] - times[1])

    def _dataset(self, epoch: int) -> Any:
        import keras

        from fenwicks_lite import transform

        seed = _epoch_seed(self.cfg.seed, epoch)
        order = epoch_order(len(self.x_train), self.cfg.batch_size, self.cfg.seed, epoch).reshape(-1)
        bs, cutout = self.cfg.batch_size, self.cfg.cutout
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            ds = tf.data.Dataset.from_tensor_slices((self.x_train[order], self.y_train[order]))
            ds = ds.batch(bs, drop_remainder=True)  # static batch shape for augment_batch

            def aug(i: Any, xy: Any) -> Any:
                return transform.augment_batch(xy[0], transform.step_seed(seed, i), cutout=cutout), xy[1]

            return ds.enumerate().map(aug, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
        x, y = self.x_train[order], self.y_train[order]

        class Batches(keras.utils.PyDataset):
            def __len__(self) -> int:
                return len(x) // bs

            def __getitem__(self, i: int) -> Any:
                xb = transform.augment_batch(x[i * bs:(i + 1) * bs], transform.step_seed(seed, i), cutout=cutout)
                return np.asarray(xb), y[i * bs:(i + 1) * bs]

        return Batches()

    def run_epoch(self, state: Any, epoch: int) -> tuple[Any, float, float, float]:
        ds = self._dataset(epoch)
        t0 = time.perf_counter()
        # A progress bar in a terminal; one line per epoch in a notebook or a log file.
        verbose = (1 if sys.stdout.isatty() else 2) if self.cfg.verbose else 0
        h = self.model.fit(ds, epochs=epoch + 1, initial_epoch=epoch, shuffle=False, verbose=verbose)
        dt = time.perf_counter() - t0
        return None, float(h.history["loss"][-1]), float(h.history["accuracy"][-1]), dt

    def predict(self, state: Any) -> tuple[np.ndarray, np.ndarray]:
        import keras

        def probs(x: np.ndarray) -> np.ndarray:
            logits = self.model.predict(x, batch_size=EVAL_BATCH, verbose=0)
            return np.asarray(keras.ops.softmax(keras.ops.cast(logits, "float32")))

        p = probs(self.x_test)
        return p, (p + probs(self.x_test[:, :, ::-1])) / 2

    def to_numpy(self, state: Any) -> list[list[np.ndarray]]:
        return self.state()

    def from_numpy(self, parts: list[list[np.ndarray]]) -> None:
        for vs, values in zip((self.model.trainable_variables, self.model.non_trainable_variables,
                               self.model.optimizer.variables), parts, strict=True):
            for v, a in zip(vs, values, strict=True):
                v.assign(a)
        return None

    def finish(self, state: Any) -> None:
        pass


# ---------------------------------------------------------------------------------------------- train

def _load_data(cfg: TrainConfig) -> Any:
    from fenwicks_lite import data as fw_data

    ds = fw_data.load_profile_data(PROFILES[cfg.profile])
    ds.x_train, ds.y_train = ds.x_train[: cfg.train_limit], ds.y_train[: cfg.train_limit]
    ds.x_test, ds.y_test = ds.x_test[: cfg.test_limit], ds.y_test[: cfg.test_limit]
    return ds


def train(config: TrainConfig | None = None, *, data: Any = None, **overrides: Any) -> Result:
    """Trains DavidNet under `config` (default: the active profile's recipe) and returns its `Result`.

    `data` is a `fw.data.Dataset` (default: the profile's, cut to the config's limits). Checkpoints go to
    `config.work_dir` after every epoch; with ``resume=True`` the run continues from the last one.
    The global Keras dtype policy is restored afterwards. Explained in chapters 8 and 9.
    """
    import keras

    from fenwicks_lite import accel
    from fenwicks_lite import data as fw_data

    t_start = time.perf_counter()
    started = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    cfg = dataclasses.replace(config, **overrides) if config else TrainConfig.from_profile(**overrides)
    cfg.validate()
    backend = accel.check_backend(keras.backend.backend())
    if cfg.work_dir is None:
        if cfg.resume:
            raise ValueError("resume=True needs the work_dir of the run to continue.")
        work_dir = Path(tempfile.mkdtemp(prefix="fenwicks-run-"))
    else:
        work_dir = _writable_dir(cfg.work_dir, "work_dir")
    ckpt = load_checkpoint(work_dir)
    if ckpt is not None and not cfg.resume:
        raise FileExistsError(
            f"{work_dir / CHECKPOINT_FILE} holds a checkpoint of an earlier run (epoch {ckpt[0].get('epoch')}): "
            f"pass resume=True (--resume) to continue it, or choose an empty work_dir. Nothing was changed."
        )

    ds = data if data is not None else _load_data(cfg)
    mean, std = fw_data.channel_stats(ds.x_train)
    policy_before = keras.mixed_precision.global_policy().name
    distribution_before = keras.distribution.distribution()
    try:
        acc = accel.setup(cfg.precision, verbose=bool(cfg.verbose))
        accel.check_batch_size(cfg.batch_size, acc.replicas)
        keras.utils.set_random_seed(cfg.seed)
        steps = steps_per_epoch(len(ds.x_train), cfg.batch_size)
        fast = backend == "jax" and cfg.fast
        with acc.scope():
            model, opt = build(cfg, steps)
            args = (model, opt, cfg, mean, std, ds.x_train, ds.y_train, ds.x_test, acc.replicas)
            runner = _JaxRunner(*args, scan=cfg.scan) if fast else _KerasRunner(*args)
        state = runner.state()
        history: list[dict[str, Any]] = []
        start_epoch = 0
        if ckpt is not None:
            meta, parts = ckpt
            shapes = [[tuple(np.shape(a)) for a in p] for p in runner.to_numpy(state)]
            _check_checkpoint(meta, parts, cfg, shapes, work_dir / CHECKPOINT_FILE)
            state = runner.from_numpy(parts)
            history, start_epoch = meta["history"], meta["epoch"]
            _log(cfg, f"resuming from the checkpoint after epoch {start_epoch} in {work_dir}")
        compile_s = runner.compile(state)
        lr_func = lr_schedule(cfg, steps)
        train_s = eval_s = 0.0
        for epoch in range(start_epoch, cfg.epochs):
            state, loss, tr_acc, dt = runner.run_epoch(state, epoch)
            t0 = time.perf_counter()
            p, p_tta = runner.predict(state)
            eval_s += time.perf_counter() - t0
            h = {"epoch": epoch + 1, "lr": _lr_at(lr_func, (epoch + 1) * steps - 1), "train_loss": loss,
                 "train_acc": tr_acc, "test_acc": float(np.mean(p.argmax(1) == ds.y_test)), "train_s": dt}
            history.append(h)
            _log(cfg, _epoch_line(cfg, h))
            meta = {"run_key": cfg.run_key(), "history": history}
            save_checkpoint(work_dir, epoch + 1, runner.to_numpy(state), meta)
        train_s = sum(h["train_s"] for h in history)
        method = ("ahead-of-time lower().compile()" if fast else
                  "first train_on_batch call minus the second (model.fit reuses the compiled step)")
        if start_epoch == cfg.epochs:  # a finished run resumed: nothing trained, evaluate once
            t0 = time.perf_counter()
            p, p_tta = runner.predict(state)
            eval_s += time.perf_counter() - t0
        runner.finish(state)
        precision = acc.precision
        device = acc.device
    finally:  # the run's precision and device layout do not leak into the caller's later models
        keras.mixed_precision.set_global_policy(policy_before)
        if keras.backend.backend() == "jax":
            keras.distribution.set_distribution(distribution_before)
    finished = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    result = Result(
        profile=cfg.profile, seed=cfg.seed,
        test_acc=float(np.mean(p.argmax(1) == ds.y_test)),
        test_acc_tta=float(np.mean(p_tta.argmax(1) == ds.y_test)),
        epochs=cfg.epochs, batch_size=cfg.batch_size, steps_per_epoch=steps,
        n_train=len(ds.x_train), n_test=len(ds.x_test), dataset=ds.describe(),
        timings={"compile_s": compile_s, "train_s": train_s, "eval_s": eval_s,
                 "total_s": time.perf_counter() - t_start, "compile_method": method},
        history=history, backend=backend, precision=precision,
        hardware={"device": str(device), "platform": device.platform, "count": device.count,
                  "name": device.name, "cpu": accel.cpu_name()},
        versions=versions(), git_commit=git_commit(), config=dataclasses.asdict(cfg),
        resumed_from_epoch=start_epoch,
        test_true=[int(i) for i in ds.y_test], test_pred=[int(i) for i in p.argmax(1)],
        test_conf=[round(float(c), 5) for c in p.max(1)],
        started=started, finished=finished,
    )
    result.model = model  # not a dataclass field: not in the JSON; for notebooks that look further
    _log(cfg, result.summary())
    return result


# ------------------------------------------------------------------------------------- a step benchmark

def benchmark(config: TrainConfig, x: np.ndarray, y: np.ndarray, steps: int = 5) -> dict[str, Any]:
    """Times XLA compilation apart from training steps, for chapter 8's compile-vs-step and bf16-vs-fp32
    measurements: the same DavidNet and SGD as `train`, through Keras's `train_on_batch` with
    ``jit_compile=True`` on either backend.

    The first call traces, compiles and runs one step; the next `steps` calls only run. Each call returns
    the loss to the host, so every timing includes the device finishing its work. `x` (uint8 images) and
    `y` need at least one batch. Returns first_call_s, step_s (median), compile_s (their difference),
    images_per_s, precision and the device. The global dtype policy is restored afterwards.
    """
    import keras

    from fenwicks_lite import accel
    from fenwicks_lite import data as fw_data

    bs = config.batch_size
    if len(x) < bs:
        raise ValueError(f"benchmark needs at least one batch: {len(x)} images < batch size {bs}.")
    mean, std = fw_data.channel_stats(x)
    xb, yb = fw_data.normalize(x[:bs], mean, std), np.asarray(y[:bs], np.int32)
    policy_before = keras.mixed_precision.global_policy().name
    try:
        acc = accel.setup(config.precision, verbose=False)
        keras.utils.set_random_seed(config.seed)
        with acc.scope():
            model, opt = build(config, steps_per_epoch(len(x), bs))
            model.compile(optimizer=opt, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                          jit_compile=True)
        t0 = time.perf_counter()
        model.train_on_batch(xb, yb)
        first = time.perf_counter() - t0
        times = []
        for _ in range(steps):
            t0 = time.perf_counter()
            model.train_on_batch(xb, yb)
            times.append(time.perf_counter() - t0)
    finally:
        keras.mixed_precision.set_global_policy(policy_before)
    step = float(np.median(times))
    return {"precision": acc.precision, "device": str(acc.device), "batch_size": bs, "width": config.width,
            "first_call_s": first, "step_s": step, "compile_s": max(0.0, first - step),
            "images_per_s": bs / step}


# ------------------------------------------------------------------------------------------------ CLI

def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m fenwicks_lite.train",
        description="Train DavidNet on CIFAR-10 (chapter 9). Each seed's result is written as JSON to --out; "
                    "checkpoints go to --work-dir/seedN (default --out/checkpoints/seedN) and --resume "
                    "continues an interrupted run.")
    p.add_argument("--profile", default=None, help=f"one of {sorted(PROFILES)} (default: by hardware)")
    p.add_argument("--backend", default=None,
                   help="Keras backend, tensorflow or jax (default: $KERAS_BACKEND, else Keras's default)")
    p.add_argument("--seeds", type=int, default=1, help="how many seeds to run (default 1)")
    p.add_argument("--seed", type=int, default=0, help="the first seed (default 0)")
    p.add_argument("--out", type=Path, default=Path("results"), help="folder for result JSON (default results/)")
    p.add_argument("--work-dir", type=Path, default=None,
                   help="folder for the per-seed checkpoints (default: --out/checkpoints); each seed uses seedN/")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoints in --work-dir")
    p.add_argument("--precision", default="auto", help="auto, float32, mixed_bfloat16 or mixed_float16")
    p.add_argument("--no-fast", dest="fast", action="store_false", help="JAX: use model.fit, not the scan path")
    p.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    for name, typ in (("epochs", int), ("width", int), ("batch-size", int), ("train-limit", int),
                      ("test-limit", int), ("peak-lr", float), ("warmup-epochs", float), ("cutout", int)):
        p.add_argument(f"--{name}", type=typ, default=None, help="override the profile's value")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m fenwicks_lite.train``: runs `--seeds` seeds, writes one JSON each and a summary."""
    args = _parser().parse_args(argv)
    if args.backend is not None:
        from fenwicks_lite import accel

        try:
            backend = accel.check_backend(args.backend)
        except ValueError as e:
            raise SystemExit(f"error: {e}") from None
        if "keras" in sys.modules and sys.modules["keras"].backend.backend() != backend:
            raise SystemExit(f"keras is already imported with backend {sys.modules['keras'].backend.backend()}: "
                             f"set KERAS_BACKEND={backend} before starting Python instead of --backend.")
        os.environ["KERAS_BACKEND"] = backend
    elif "KERAS_BACKEND" not in os.environ and "keras" not in sys.modules:
        import importlib.util

        if importlib.util.find_spec("tensorflow") is None:  # Keras's default backend is not installed
            os.environ["KERAS_BACKEND"] = "jax"  # the GPU machine and Colab TPU runtimes: JAX only
    if args.seeds < 1:
        raise SystemExit("--seeds must be at least 1.")
    try:
        overrides = {k: getattr(args, k) for k in ("epochs", "width", "batch_size", "train_limit", "test_limit",
                                                   "peak_lr", "warmup_epochs", "cutout")
                     if getattr(args, k) is not None}
        base = TrainConfig.from_profile(args.profile, precision=args.precision, fast=args.fast,
                                        verbose=0 if args.quiet else 1, **overrides)
        out = _writable_dir(args.out, "--out")
    except (ValueError, PermissionError) as e:
        raise SystemExit(f"error: {e}") from None
    results, paths = [], []
    for seed in range(args.seed, args.seed + args.seeds):
        stem = f"{base.profile}-seed{seed}"
        if args.resume and (out / f"{stem}.json").is_file():
            print(f"seed {seed}: already finished ({out.name}/{stem}.json), skipped")
            results.append(Result.from_json((out / f"{stem}.json").read_text()))
            continue
        ckpt_root = args.work_dir if args.work_dir is not None else out / "checkpoints"
        cfg = dataclasses.replace(base, seed=seed, work_dir=str(ckpt_root / f"seed{seed}"), resume=args.resume)
        try:
            result = train(cfg)
        except (ValueError, FileExistsError, PermissionError) as e:
            raise SystemExit(f"error: {e}") from None
        path = write_result(result, out, stem)
        print(f"wrote {path}")
        results.append(result)
        paths.append(path)
    summary = summarize(results)
    spath = write_result_summary(summary, out, f"{base.profile}-summary")
    print(f"{summary['n']} seeds: test accuracy {summary['test_acc_mean']:.2%} ± {summary['test_acc_std']:.2%} "
          f"(TTA {summary['test_acc_tta_mean']:.2%}); train {summary['train_s_mean']:.1f} s, compile "
          f"{summary['compile_s_mean']:.1f} s per seed; wrote {spath}")
    return 0


def summarize(results: Sequence[Result]) -> dict[str, Any]:
    """Mean and standard deviation (ddof=1 when there are several seeds) of the headline numbers."""
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
    if results:
        out.update(hardware=results[0].hardware, backend=results[0].backend, precision=results[0].precision,
                   profile=results[0].profile, epochs=results[0].epochs, git_commit=results[0].git_commit)
    return out


def write_result_summary(summary: dict[str, Any], out_dir: Path, stem: str) -> Path:
    """Writes the summary JSON, never overwriting (like `write_result`)."""
    for n in range(10_000):
        path = out_dir / (f"{stem}.json" if n == 0 else f"{stem}-{n}.json")
        try:
            with open(path, "x", encoding="utf-8") as f:
                json.dump(summary, f, indent=1)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"{out_dir} holds 10,000 summaries: choose another --out folder.")


if __name__ == "__main__":
    sys.exit(main())
