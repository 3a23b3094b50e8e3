"""``python -m fenwicks_lite.train``: the full run from a terminal (Chapter 9).

    python -m fenwicks_lite.train --profile full --seeds 5 --out results/

runs the seeds one after another in ONE process (the JAX epoch is compiled once and
reused by every seed), writes one `Result` JSON per seed and a summary to ``--out``,
and prints one line per seed. Checkpoints go to ``--work-dir/seedN`` (default
``--out/checkpoints/seedN``); ``--resume`` continues an interrupted run. XLA's
persistent compilation cache (``--compile-cache``, default ``--work-dir/jax-cache``)
saves the compile in a second process.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from fenwicks_lite.checkpoint import differences
from fenwicks_lite.profiles import PROFILES
from fenwicks_lite.records import (
    Result,
    TrainConfig,
    load_results,
    summarize,
    writable_dir,
    write_result,
    write_summary,
)

#: the recipe settings the command line can override (flag name, type)
OVERRIDES = (("epochs", int), ("width", int), ("batch-size", int), ("train-limit", int),
             ("test-limit", int), ("peak-lr", float), ("warmup-epochs", float),
             ("cutout", int))


def parser() -> argparse.ArgumentParser:
    """The command line's arguments (``--help`` prints them).

    Chapter 9 (and Chapter 8's "Running the finale yourself") gives the command.
    """
    p = argparse.ArgumentParser(
        prog="python -m fenwicks_lite.train",
        description="Train DavidNet on CIFAR-10 (chapter 9). Each seed's result is "
                    "written as JSON to --out; checkpoints go to --work-dir/seedN "
                    "(default --out/checkpoints/seedN) and --resume continues an "
                    "interrupted run.")
    p.add_argument("--profile", default=None,
                   help=f"one of {sorted(PROFILES)} (default: by hardware)")
    p.add_argument("--backend", default=None,
                   help="Keras backend, tensorflow or jax (default: "
                        "$KERAS_BACKEND, else tensorflow, Keras's default, or jax "
                        "where TensorFlow is not installed)")
    p.add_argument("--recipe", choices=("seed", "fast"), default="seed",
                   help="seed: DavidNet as in 2019 (chapter 9, default); fast: "
                        "fw.fast.FAST, airbench's recipe (chapter 10, JAX only)")
    p.add_argument("--seeds", type=int, default=1, help="how many seeds (default 1)")
    p.add_argument("--seed", type=int, default=0, help="the first seed (default 0)")
    p.add_argument("--out", type=Path, default=Path("results"),
                   help="folder for result JSON (default results/)")
    p.add_argument("--work-dir", type=Path, default=None,
                   help="folder for the per-seed checkpoints (default: "
                        "--out/checkpoints); each seed uses seedN/")
    p.add_argument("--compile-cache", default=None,
                   help="JAX: folder for XLA's persistent compilation cache (default: "
                        "--work-dir/jax-cache; 'off' for none)")
    p.add_argument("--resume", action="store_true",
                   help="continue from the checkpoints in --work-dir")
    p.add_argument("--precision", default="auto",
                   help="auto, float32, mixed_bfloat16 or mixed_float16")
    p.add_argument("--no-fast", dest="fast", action="store_false",
                   help="JAX: use model.fit, not the compiled-epoch path")
    p.add_argument("--quiet", action="store_true",
                   help="no per-epoch lines (the line per seed stays)")
    for name, typ in OVERRIDES:
        p.add_argument(f"--{name}", type=typ, default=None,
                       help="override the profile's value")
    return p


def _choose_backend(name: str | None) -> None:
    """Sets ``KERAS_BACKEND`` from ``--backend`` before Keras is imported; without it,
    `import fenwicks_lite` has chosen JAX where TensorFlow (Keras's default) is not
    installed."""
    if name is not None:
        from fenwicks_lite import accel

        try:
            backend = accel.check_backend(name)
        except ValueError as e:
            raise SystemExit(f"error: {e}") from None
        keras = sys.modules.get("keras")
        if keras is not None and keras.backend.backend() != backend:
            raise SystemExit(f"keras is already imported with backend "
                             f"{keras.backend.backend()}: set KERAS_BACKEND={backend} "
                             f"before starting Python instead of --backend.")
        os.environ["KERAS_BACKEND"] = backend


def main(argv: Sequence[str] | None = None) -> int:
    """Runs ``--seeds`` seeds in this process; writes one JSON each and a summary.

    Chapter 9 (and Chapter 8's "Running the finale yourself") gives the command.
    """
    args = parser().parse_args(argv)
    _choose_backend(args.backend)
    try:
        from fenwicks_lite.fit import train  # imports Keras: after --backend has chosen
    except ModuleNotFoundError as e:  # the backend is not installed: say which extra
        if e.name not in ("tensorflow", "jax"):
            raise
        raise SystemExit(f"error: {e}") from None

    if args.seeds < 1:
        raise SystemExit("--seeds must be at least 1.")
    out_root = args.out
    ckpt_root = args.work_dir if args.work_dir is not None else out_root / "checkpoints"
    cache = args.compile_cache or str(ckpt_root / "jax-cache")
    try:
        overrides = {k.replace("-", "_"): getattr(args, k.replace("-", "_"))
                     for k, _ in OVERRIDES}
        base = TrainConfig.from_profile(
            args.profile, precision=args.precision, fast=args.fast,
            verbose=0 if args.quiet else 1,
            compile_cache=None if cache == "off" else cache,
            **{k: v for k, v in overrides.items() if v is not None})
        out = writable_dir(out_root, "--out")
    except (ValueError, PermissionError) as e:
        raise SystemExit(f"error: {e}") from None
    if args.recipe == "fast":
        return _main_fast(args, out, ckpt_root, overrides)

    def run(seed: int) -> Result:
        return train(base.replace(seed=seed, work_dir=str(ckpt_root / f"seed{seed}"),
                                  resume=args.resume))

    def key(seed: int) -> dict:
        return base.replace(seed=seed).run_key()

    def settings(result: Result) -> dict:
        return TrainConfig.from_record(result.config).run_key()

    return _run_seeds(args, out, f"{base.profile.name}-seed", run,
                      f"{base.profile.name}-summary", "", key, settings)


def _finished(done: Path, key: dict | None,
              settings: Callable[[Result], dict]) -> Result:
    """The record of a seed that a resumed run finds finished, if it was trained with
    this run's settings (`key`, compared with `settings` of the record; None: not
    checked); else a one-line error, as a summary mixing settings would be wrong."""
    try:
        (result,) = load_results([done])
        if key is None:
            return result
        theirs = settings(result)
    except (ValueError, TypeError) as e:
        raise SystemExit(f"error: {e}") from None
    said = differences(theirs, key)
    if said:
        raise SystemExit(f"error: {done} was trained with other settings ({said}): "
                         f"use another --out for this run, or delete {done.name} to "
                         f"train that seed again.")
    return result


def _run_seeds(args: argparse.Namespace, out: Path, stem: str,
               run: Callable[[int], Result], summary_stem: str, label: str,
               key: Callable[[int], dict] | None = None,
               settings: Callable[[Result], dict] | None = None) -> int:
    """Seeds ``args.seed ..`` one after the other in this process (so one compile
    serves them all): skips those a resumed run already finished (with the same
    settings: `key` gives a seed's, `settings` a record's), writes one JSON per seed
    (`stem` + seed) and the summary, and prints one line each."""
    results = []
    for seed in range(args.seed, args.seed + args.seeds):
        done = out / f"{stem}{seed}.json"
        if args.resume and done.is_file():
            result = _finished(done, None if key is None else key(seed), settings)
            print(f"seed {seed}: already finished ({out.name}/{done.name}), skipped")
            results.append(result)
            continue
        try:
            result = run(seed)
        except (ValueError, FileExistsError, PermissionError) as e:
            raise SystemExit(f"error: {e}") from None
        path = write_result(result, out, f"{stem}{seed}")
        # the run printed its summary line already, unless --quiet
        print(f"{result.summary()} | wrote {path}" if args.quiet
              else f"seed {seed}: wrote {path}", flush=True)
        results.append(result)
    s = summarize(results)
    spath = write_summary(s, out, summary_stem)
    seeds = f"{s['n']} seed{'s' * (s['n'] != 1)}"
    print(f"{seeds}{label}: test accuracy {s['test_acc_mean']:.2%} ± "
          f"{s['test_acc_std']:.2%} (TTA {s['test_acc_tta_mean']:.2%}), "
          f"{s['reach_94']} reach 94%; train {s['train_s_mean']:.1f} s per seed, "
          f"compile {s['compile_s_sum']:.1f} s in all ({s['compiles']} compile(s)); "
          f"wrote {spath}", flush=True)
    return 0


def _main_fast(args: argparse.Namespace, out: Path, ckpt_root: Path,
               overrides: dict) -> int:
    """``--recipe fast``: `fw.fast.fit_fast` per seed (one compile for all of them),
    the same Result JSON, summary and per-epoch checkpoints (``fast-seedN/``)."""
    import keras

    from fenwicks_lite import fast
    from fenwicks_lite.profiles import get_profile

    if any(v is not None for v in overrides.values()):
        raise SystemExit("error: --recipe fast takes no recipe overrides: its numbers "
                         "live in fw.fast.FAST (chapter 10).")
    if keras.backend.backend() != "jax":
        raise SystemExit("error: --recipe fast runs on JAX only: set KERAS_BACKEND=jax "
                         "(or --backend jax).")
    profile = get_profile(args.profile).name

    def run(seed: int) -> Result:
        return fast.fit_fast(profile, seed, work_dir=ckpt_root / f"fast-seed{seed}",
                             resume=args.resume, verbose=not args.quiet)

    # A finished seed is skipped only if its record has this recipe, else the summary
    # would mix (only the recipe's keys are compared: the record also holds its steps).
    recipe = fast.recipe_record(fast.scale_recipe(fast.FAST, profile))
    return _run_seeds(args, out, f"{profile}-fast-seed", run, f"{profile}-fast-summary",
                      " (fast recipe)", lambda seed: recipe,
                      lambda result: result.config or {})
