"""The training loop (Chapters 8 and 9): one `train(config)` for every caller.

The 2019 seed handed a `model_fn` to a `TPUEstimator` and called `est.train(...)`. Here
one function does the whole run and returns a `Result` record (also written as JSON):
DavidNet (Chapter 6), Page's triangular learning rate and PyTorch-style Nesterov SGD
(Chapter 7), the device augmentation (Chapters 4 and 5), on the accelerator that
`fw.accel.setup` chose (Chapter 8). `fw.train.train` is this function under the seed's
module name.

The layers below it, each a module (imports run one way, downwards):

* `fenwicks_lite.records`: `TrainConfig` (a `Profile` plus how to run it), `Result`,
  `write_result` / `load_results`, `summarize`;
* `fenwicks_lite.checkpoint`: a checkpoint after every epoch, and resuming from it;
* `fenwicks_lite.jax_runner`: JAX, one compiled call per epoch, compiled once;
* `fenwicks_lite.keras_runner`: `model.fit` (TensorFlow, and JAX with ``fast=False``);
* `fenwicks_lite.optim`: the schedule and the optimizer (re-exported as `fw.train`).

Above it, `fenwicks_lite.cli` is ``python -m fenwicks_lite.train``. Importing this
module imports neither TensorFlow nor JAX.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from fenwicks_lite import optim
from fenwicks_lite.checkpoint import (
    CHECKPOINT_FILE,
    check_checkpoint,
    check_data,
    load_checkpoint,
    save_checkpoint,
)
from fenwicks_lite.pipeline import steps_per_epoch
from fenwicks_lite.records import (
    N_CLASSES,
    Result,
    TrainConfig,
    load_results,
    now,
    provenance,
    summarize,
    writable_dir,
    write_result,
)

__all__ = ["CHECKPOINT_FILE", "Result", "TrainConfig", "benchmark", "build",
           "epoch_line", "load_checkpoint", "load_results", "lr_schedule",
           "save_checkpoint", "steps_per_epoch", "summarize", "train", "write_result"]


# ---------------------------------------------------------------------- building blocks

def lr_schedule(cfg: TrainConfig, steps: int) -> Callable[[Any], Any]:
    """Page's triangular learning rate over the run, in optimizer steps (Chapter 7)."""
    return optim.triangular_lr(cfg.peak_lr, cfg.epochs * steps,
                               round(cfg.warmup_epochs * steps))


def build(cfg: TrainConfig, steps: int) -> tuple[Any, Any]:
    """DavidNet of width `cfg.width` and its SGD optimizer (built: variables exist).

    Chapter 8's training loop ("The training loop") builds its model with it.
    """
    import keras

    from fenwicks_lite import layers

    model = layers.davidnet(c=cfg.width, n_classes=N_CLASSES)
    opt = optim.sgd_optimizer(lr_schedule(cfg, steps), mom=cfg.momentum,
                              wd=cfg.weight_decay, nesterov=True)
    if keras.mixed_precision.global_policy().name == "mixed_float16":
        # float16 gradients underflow without loss scaling; Keras's wrapper scales them.
        opt = keras.optimizers.LossScaleOptimizer(opt)
    opt.build(model.trainable_variables)
    return model, opt


def epoch_line(cfg: TrainConfig, h: dict[str, Any]) -> str:
    """The log line of one epoch's record `h` (an entry of `Result.history`), as `train`
    prints it and chapter 9 reprints it from the JSON."""
    return (f"epoch {h['epoch']:>2}/{cfg.epochs} | lr {h['lr']:.4f} | "
            f"train loss {h['train_loss']:.3f} acc {h['train_acc']:.2%} | "
            f"test acc {h['test_acc']:.2%} | {h['train_s']:.2f} s")


def _log(cfg: TrainConfig, text: str) -> None:
    if cfg.verbose:
        print(text, flush=True)


def _load_data(cfg: TrainConfig) -> Any:
    from fenwicks_lite import data as fw_data

    return fw_data.load_profile_data(cfg.profile)  # its limits, overrides included


def _work_dir(cfg: TrainConfig) -> Path | None:
    """The run's checkpoint folder; None (no work_dir): no checkpoints, as nothing could
    resume from them (`fw.fast.fit_fast` does the same)."""
    if cfg.work_dir is not None:
        return writable_dir(cfg.work_dir, "work_dir")
    if cfg.resume:
        raise ValueError("resume=True needs the work_dir of the run to continue.")
    return None


# -------------------------------------------------------------------------------- train

def train(config: TrainConfig | None = None, *, data: Any = None,
          **overrides: Any) -> Result:
    """Trains DavidNet under `config` (default: the active profile's recipe) and returns
    its `Result`; `overrides` change the config (``epochs=1``, ``seed=3``).

    `data` is a `fw.data.Dataset` (default: the profile's, cut to the config's limits),
    checked first (`fw.data.checked`: labels shaped (N, 1) are flattened).
    Checkpoints go to `config.work_dir` after every epoch (none without one); with
    ``resume=True`` the run continues from the last one. On JAX a second run in the same
    process with the same shapes reuses the compiled epoch. The global Keras dtype
    policy is restored after.
    Explained in chapters 8 and 9.
    """
    import keras

    from fenwicks_lite import accel
    from fenwicks_lite import data as fw_data

    t_start, started = time.perf_counter(), now()
    cfg = (config or TrainConfig.from_profile()).replace(**overrides)
    backend = accel.check_backend(keras.backend.backend())
    work_dir = _work_dir(cfg)
    ckpt = None if work_dir is None else load_checkpoint(work_dir)
    if ckpt is not None and not cfg.resume:
        raise FileExistsError(
            f"{work_dir / CHECKPOINT_FILE} holds a checkpoint of an earlier run (epoch "
            f"{ckpt[0].get('epoch')}): pass resume=True (--resume) to continue it, or "
            f"choose an empty work_dir. Nothing was changed.")
    fast = backend == "jax" and cfg.fast
    if fast and cfg.compile_cache:
        from fenwicks_lite.jax_runner import enable_compile_cache

        enable_compile_cache(cfg.compile_cache)

    # Checked before any work: a bad shape must not crash after the last epoch.
    ds = fw_data.checked(data if data is not None else _load_data(cfg))
    # the data's identity (a CRC of every image) only where a checkpoint records it
    data_id = None if work_dir is None else ds.identity()
    if ckpt is not None:  # other data than the checkpoint's: refused before building
        check_data(ckpt[0], data_id, work_dir / CHECKPOINT_FILE)
    mean, std = fw_data.channel_stats(ds.x_train)
    policy_before = keras.mixed_precision.global_policy().name
    distribution_before = keras.distribution.distribution()
    try:
        acc = accel.setup(cfg.precision, verbose=bool(cfg.verbose))
        accel.check_batch_size(cfg.batch_size, acc.replicas)
        keras.utils.set_random_seed(cfg.seed)
        steps = steps_per_epoch(len(ds.x_train), cfg.batch_size)
        with acc.scope():
            model, opt = build(cfg, steps)
            args = (model, opt, cfg, mean, std, ds.x_train, ds.y_train, ds.x_test,
                    acc.replicas)
            if fast:
                from fenwicks_lite.jax_runner import JaxRunner

                runner: Any = JaxRunner(*args, scan=cfg.scan)
            else:
                from fenwicks_lite.keras_runner import KerasRunner

                runner = KerasRunner(*args)
        state = runner.state()
        history: list[dict[str, Any]] = []
        start_epoch = 0
        if ckpt is not None:
            meta, parts = ckpt
            shapes = [[np.shape(a) for a in p] for p in runner.to_numpy(state)]
            check_checkpoint(meta, parts, cfg, shapes, work_dir / CHECKPOINT_FILE)
            state = runner.from_numpy(parts)
            history, start_epoch = meta["history"], meta["epoch"]
            _log(cfg, f"resuming from the checkpoint after epoch {start_epoch} in "
                      f"{work_dir}")
        compile_s, compiled = runner.compile(state)
        lr_func = lr_schedule(cfg, steps)
        eval_s = 0.0
        p = p_tta = None
        for epoch in range(start_epoch, cfg.epochs):
            state, loss, tr_acc, dt = runner.run_epoch(state, epoch)
            t0 = time.perf_counter()
            p, p_tta = runner.predict(state)
            eval_s += time.perf_counter() - t0
            lr = float(np.asarray(lr_func((epoch + 1) * steps - 1)))
            h = {"epoch": epoch + 1, "lr": lr, "train_loss": loss, "train_acc": tr_acc,
                 "test_acc": float(np.mean(p.argmax(1) == ds.y_test)), "train_s": dt}
            history.append(h)
            _log(cfg, epoch_line(cfg, h))
            if work_dir is not None:
                meta = {"run_key": cfg.run_key(), "data": data_id,
                        "history": history}
                save_checkpoint(work_dir, epoch + 1, runner.to_numpy(state), meta)
        if p is None:  # a finished run resumed: nothing trained, evaluate once
            t0 = time.perf_counter()
            p, p_tta = runner.predict(state)
            eval_s += time.perf_counter() - t0
        runner.finish(state)
        precision, device = acc.precision, acc.device
    finally:  # the run's precision and device layout do not leak into later models
        keras.mixed_precision.set_global_policy(policy_before)
        if keras.backend.backend() == "jax":
            keras.distribution.set_distribution(distribution_before)
    if not fast:
        method = ("first train_on_batch call minus the second (model.fit reuses the "
                  "compiled step)")
    elif compiled:
        method = "ahead-of-time lower().compile()"
    else:
        method = "reused: compiled by an earlier run in this process"
    result = Result(
        profile=cfg.profile.name, seed=cfg.seed,
        test_acc=float(np.mean(p.argmax(1) == ds.y_test)),
        test_acc_tta=float(np.mean(p_tta.argmax(1) == ds.y_test)),
        epochs=cfg.epochs, batch_size=cfg.batch_size, steps_per_epoch=steps,
        n_train=len(ds.x_train), n_test=len(ds.x_test), dataset=ds.describe(),
        timings={"compile_s": compile_s, "compiled": compiled, "compile_method": method,
                 "train_s": sum(h["train_s"] for h in history), "eval_s": eval_s,
                 "total_s": time.perf_counter() - t_start},
        history=history, **provenance(device, precision, backend),
        config=cfg.to_record(),
        resumed_from_epoch=start_epoch,
        test_true=[int(i) for i in ds.y_test], test_pred=[int(i) for i in p.argmax(1)],
        test_conf=[round(float(c), 5) for c in p.max(1)],
        started=started, finished=now(),
    )
    result.model = model  # not a dataclass field, not in the JSON: for notebooks
    _log(cfg, result.summary())
    return result


# --------------------------------------------------------------------- a step benchmark

def benchmark(config: TrainConfig, x: np.ndarray, y: np.ndarray,
              steps: int = 5) -> dict[str, Any]:
    """Times XLA compilation apart from training steps (chapter 8's compile-vs-step and
    bf16-vs-fp32 measurements): the same DavidNet and SGD as `train`, through Keras's
    `train_on_batch` with ``jit_compile=True`` on either backend.

    The first call traces, compiles and runs one step; the next `steps` calls only run.
    Each call returns the loss to the host, so every timing includes the device
    finishing its work. `x` (uint8 images) and `y` need at least one batch. Returns
    first_call_s, step_s (the median of step_times_s, each later call's seconds),
    compile_s (their difference), images_per_s, precision and the device. The global
    dtype policy is restored afterwards.
    """
    import keras

    from fenwicks_lite import accel
    from fenwicks_lite import data as fw_data

    bs = config.batch_size
    if steps < 1:
        raise ValueError(f"benchmark times at least one step after the first call: "
                         f"steps={steps}; pass steps=1 or more.")
    if len(x) < bs:
        raise ValueError(f"benchmark needs at least one batch: {len(x)} images < batch "
                         f"size {bs}.")
    mean, std = fw_data.channel_stats(x)
    xb = fw_data.normalize(x[:bs], mean, std)
    yb = np.asarray(y[:bs], np.int32)
    policy_before = keras.mixed_precision.global_policy().name
    try:
        acc = accel.setup(config.precision, verbose=False)
        keras.utils.set_random_seed(config.seed)
        with acc.scope():
            model, opt = build(config, steps_per_epoch(len(x), bs))
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            model.compile(optimizer=opt, loss=loss, jit_compile=True)
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
    return {"precision": acc.precision, "device": str(acc.device), "batch_size": bs,
            "width": config.width, "first_call_s": first, "step_s": step,
            "compile_s": max(0.0, first - step), "images_per_s": bs / step,
            "step_times_s": times}
