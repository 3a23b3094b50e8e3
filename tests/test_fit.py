"""The training loop (chapters 8 and 9): config, record, checkpoints and resume, the CLI, bad input.

The in-process runs are backend-agnostic (TF: `model.fit` on tf.data; JAX: the compiled-epoch path).
The CLI tests start `python -m fenwicks_lite.train` in subprocesses under JAX with TensorFlow blocked, as
on the GPU machine; they carry no backend marker, so `make test` runs them once.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import keras
import no_tensorflow
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fenwicks_lite import data as fw_data
from fenwicks_lite import fit
from fenwicks_lite.profiles import QUICK

ROOT = Path(__file__).resolve().parent.parent
backend = pytest.mark.backend
#: tiny settings for real runs on two CPU cores: 4 steps per epoch of a width-8 DavidNet
TINY = dict(width=8, batch_size=64, train_limit=256, test_limit=128, warmup_epochs=0.5, verbose=0)


@pytest.fixture(scope="module")
def tiny_data() -> fw_data.Dataset:
    (xtr, ytr), (xte, yte) = fw_data.synthetic_cifar10(256, 128, seed=1)
    return fw_data.Dataset(xtr, ytr, xte, yte, "synthetic")


# ----------------------------------------------------------------------------------------- config

@backend
def test_config_from_profile_is_the_recipe():
    cfg = fit.TrainConfig.from_profile("full")
    assert (cfg.width, cfg.epochs, cfg.batch_size, cfg.peak_lr, cfg.warmup_epochs) == (64, 24, 512, 0.4, 5)
    assert (cfg.weight_decay, cfg.momentum, cfg.cutout, cfg.train_limit) == (5e-4, 0.9, 8, None)
    assert fit.TrainConfig.from_profile(QUICK, epochs=1).epochs == 1
    assert fit.TrainConfig.from_profile("quick").width == QUICK.width


@backend
@pytest.mark.parametrize("overrides, match", [
    (dict(epochs=0), "epochs must be a positive integer"),
    (dict(batch_size=-1), "batch_size must be a positive integer"),
    (dict(warmup_epochs=30), r"warmup_epochs must lie in \[0, epochs=24\]"),
    (dict(precision="float8"), "precision must be one of"),
    (dict(train_limit=0), "train_limit must be a positive number"),
])
def test_config_rejects_bad_values(overrides, match):
    with pytest.raises(ValueError, match=match):
        fit.TrainConfig.from_profile("full", **overrides)


@backend
def test_config_rejects_unknown_profile_and_field():
    with pytest.raises(ValueError, match="Unknown profile 'medium'"):
        fit.TrainConfig.from_profile("medium")
    with pytest.raises(TypeError, match=r"unknown TrainConfig fields \['epochz'\]"):
        fit.TrainConfig.from_profile("quick", epochz=3)


@backend
def test_run_key_ignores_where_and_how_not_what():
    a = fit.TrainConfig.from_profile("quick", work_dir="/a", verbose=0)
    assert a.run_key() == dataclasses.replace(a, work_dir="/b", resume=True, verbose=1).run_key()
    assert a.run_key() != dataclasses.replace(a, seed=1).run_key()


# ------------------------------------------------------------------------------------- data order

@backend
def test_steps_per_epoch_drops_the_partial_batch():
    assert fit.steps_per_epoch(50_000, 512) == 97  # Page's 97 steps, 336 images left out each epoch
    assert fit.steps_per_epoch(2_500, 128) == 19
    with pytest.raises(ValueError, match="batch size 512 exceeds the 100 training images"):
        fit.steps_per_epoch(100, 512)


@backend
@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 3000), bs=st.integers(1, 512), seed=st.integers(0, 2**20), epoch=st.integers(0, 50))
def test_epoch_order_is_a_reproducible_shuffle(n, bs, seed, epoch):
    if bs > n:
        return
    order = fit.epoch_order(n, bs, seed, epoch)
    assert order.shape == (n // bs, bs)
    flat = order.reshape(-1)
    assert len(np.unique(flat)) == flat.size and flat.min() >= 0 and flat.max() < n
    np.testing.assert_array_equal(order, fit.epoch_order(n, bs, seed, epoch))


@backend
def test_epochs_are_shuffled_differently():
    a, b = fit.epoch_order(1000, 100, 0, 0), fit.epoch_order(1000, 100, 0, 1)
    assert not np.array_equal(a, b)
    assert not np.array_equal(a, fit.epoch_order(1000, 100, 1, 0))


# ----------------------------------------------------------------------------- checkpoint, result

def _state(width: int = 8) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(0)
    return [[rng.normal(size=(3, 3, 3, width)).astype(np.float32), rng.normal(size=(width,))],
            [np.zeros(width)], [np.array(5, np.int64), rng.normal(size=(3, 3, 3, width))]]


@backend
def test_checkpoint_round_trip_is_exact_and_atomic(tmp_path):
    cfg = fit.TrainConfig.from_profile("quick", work_dir=str(tmp_path))
    state = _state()
    fit.save_checkpoint(tmp_path, 3, state, {"run_key": cfg.run_key(), "history": [{"epoch": 1}]})
    fit.save_checkpoint(tmp_path, 4, state, {"run_key": cfg.run_key(), "history": [{"epoch": 2}]})
    assert sorted(p.name for p in tmp_path.iterdir()) == [fit.CHECKPOINT_FILE]  # no temporary left
    meta, parts = fit.load_checkpoint(tmp_path)
    assert meta["epoch"] == 4 and meta["history"] == [{"epoch": 2}] and meta["run_key"] == cfg.run_key()
    for got, want in zip(parts, state, strict=True):
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, w)
    assert fit.load_checkpoint(tmp_path / "empty") is None


@backend
def test_checkpoint_from_another_model_or_run_is_refused(tmp_path):
    cfg = fit.TrainConfig.from_profile("quick")
    state = _state(8)
    fit.save_checkpoint(tmp_path, 1, state, {"run_key": cfg.run_key(), "history": []})
    meta, parts = fit.load_checkpoint(tmp_path)
    shapes = [[a.shape for a in p] for p in state]
    fit._check_checkpoint(meta, parts, cfg, shapes, tmp_path)  # the same run: accepted
    wider = [[a.shape for a in p] for p in _state(16)]
    with pytest.raises(ValueError, match="written by a different model.*use another work_dir"):
        fit._check_checkpoint(meta, parts, cfg, wider, tmp_path)
    with pytest.raises(ValueError, match="other settings.*epochs: 2 there vs 3 now"):
        fit._check_checkpoint(meta, parts, dataclasses.replace(cfg, epochs=3), shapes, tmp_path)


@backend
def test_corrupt_checkpoint_gives_a_clear_error(tmp_path):
    (tmp_path / fit.CHECKPOINT_FILE).write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable fenwicks_lite checkpoint.*move it away"):
        fit.load_checkpoint(tmp_path)


@backend
def test_existing_checkpoint_without_resume_is_left_alone(tmp_path, tiny_data):
    cfg = fit.TrainConfig.from_profile("quick", work_dir=str(tmp_path), **TINY)
    fit.save_checkpoint(tmp_path, 1, _state(), {"run_key": cfg.run_key(), "history": []})
    before = (tmp_path / fit.CHECKPOINT_FILE).read_bytes()
    with pytest.raises(FileExistsError, match="pass resume=True .* or choose an empty work_dir"):
        fit.train(cfg, data=tiny_data)
    assert (tmp_path / fit.CHECKPOINT_FILE).read_bytes() == before


@backend
def test_unwritable_work_dir_and_resume_without_one(tmp_path, tiny_data):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(PermissionError, match="work_dir folder .* is not writable"):
        fit.train(fit.TrainConfig.from_profile("quick", work_dir=str(blocker / "sub"), **TINY), data=tiny_data)
    with pytest.raises(ValueError, match="resume=True needs the work_dir"):
        fit.train(fit.TrainConfig.from_profile("quick", resume=True, **TINY), data=tiny_data)


def _result(**kw) -> fit.Result:
    base = dict(profile="quick", seed=0, test_acc=0.5, test_acc_tta=0.6, epochs=1, batch_size=64,
                steps_per_epoch=4, n_train=256, n_test=128, dataset="d", timings={"train_s": 1.0,
                "compile_s": 2.0, "total_s": 4.0}, history=[], backend="jax", precision="float32",
                hardware={"device": "cpu"}, versions={}, git_commit=None, config={}, resumed_from_epoch=0,
                test_true=[1], test_pred=[1], test_conf=[0.5], started="s", finished="f")
    return fit.Result(**{**base, **kw})


@backend
def test_write_result_never_overwrites(tmp_path):
    first = fit.write_result(_result(test_acc=0.1), tmp_path)
    second = fit.write_result(_result(test_acc=0.2), tmp_path)
    third = fit.write_result(_result(test_acc=0.3), tmp_path)
    assert [p.name for p in (first, second, third)] == ["quick-seed0.json", "quick-seed0-1.json",
                                                         "quick-seed0-2.json"]
    assert [r.test_acc for r in fit.load_results([first, second, third])] == [0.1, 0.2, 0.3]


@backend
def test_summarize_mean_and_sample_std():
    s = fit.summarize([_result(seed=i, test_acc=a) for i, a in enumerate([0.93, 0.94, 0.95])])
    assert s["n"] == 3 and s["seeds"] == [0, 1, 2]
    assert math.isclose(s["test_acc_mean"], 0.94) and math.isclose(s["test_acc_std"], 0.01)
    assert fit.summarize([_result()])["test_acc_std"] == 0.0


# ------------------------------------------------------------------------------------- real runs

def _variants() -> list[dict]:
    # On TF, `fast` is ignored (model.fit); on JAX, both the compiled path and model.fit.
    return [dict(fast=True), dict(fast=False)] if keras.backend.backend() == "jax" else [dict()]


@backend
@pytest.mark.parametrize("variant", _variants(), ids=str)
def test_tiny_run_returns_a_complete_record(tmp_path, tiny_data, variant):
    policy = keras.mixed_precision.global_policy().name
    cfg = fit.TrainConfig.from_profile("quick", epochs=2, seed=3, work_dir=str(tmp_path), **TINY, **variant)
    r = fit.train(cfg, data=tiny_data)
    assert keras.mixed_precision.global_policy().name == policy  # restored after the run
    assert (r.epochs, r.batch_size, r.steps_per_epoch, r.n_train, r.n_test) == (2, 64, 4, 256, 128)
    assert [h["epoch"] for h in r.history] == [1, 2] and r.seed == 3 and r.resumed_from_epoch == 0
    assert 0 <= r.test_acc <= 1 and 0 <= r.test_acc_tta <= 1
    assert len(r.test_pred) == len(r.test_conf) == 128 and r.test_true == tiny_data.y_test.tolist()
    # The reported accuracy is the one of the reported predictions.
    assert math.isclose(r.test_acc, np.mean(np.array(r.test_pred) == tiny_data.y_test))
    assert math.isclose(r.history[-1]["test_acc"], r.test_acc)
    assert all(0.1 <= c <= 1 for c in r.test_conf)
    t = r.timings
    assert t["train_s"] > 0 and t["compile_s"] >= 0 and t["total_s"] >= t["train_s"] + t["eval_s"]
    assert r.backend == keras.backend.backend() and r.precision == "float32"  # a CPU: float32
    assert r.versions["keras"] == keras.__version__ and r.hardware["platform"] == "cpu"
    # The triangular schedule ends near 0 and the loss is finite.
    assert r.history[-1]["lr"] < r.history[0]["lr"] and all(np.isfinite(h["train_loss"]) for h in r.history)
    assert fit.Result.from_json(r.to_json()).to_json() == r.to_json()
    # The checkpoint holds the finished run; resuming it trains nothing and reports the same.
    again = fit.train(dataclasses.replace(cfg, resume=True), data=tiny_data)
    assert again.resumed_from_epoch == 2 and again.history == r.history
    assert again.test_pred == r.test_pred


# ------------------------------------------------------------------------------ the CLI (JAX, no TF)

CLI = no_tensorflow.SOURCE + textwrap.dedent("""
    import runpy, sys
    sys.argv = ["fenwicks_lite.train", *sys.argv[1:]]
    runpy.run_module("fenwicks_lite.train", run_name="__main__")
""")


def _cli(args: list[str], env_extra: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, "KERAS_BACKEND": "jax", "FENWICKS_LITE_PROFILE": "quick", **(env_extra or {})}
    env.pop("CIFAR10_DIR", None)  # the quick profile's mini sample (or synthetic data)
    return subprocess.Popen([sys.executable, "-c", CLI, *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


TINY_CLI = ["--profile", "quick", "--width", "8", "--batch-size", "64", "--train-limit", "256",
            "--test-limit", "128", "--warmup-epochs", "0.5"]


def _run(args: list[str], timeout: int = 300, **kw) -> tuple[int, str]:
    p = _cli(args, **kw)
    out, _ = p.communicate(timeout=timeout)
    return p.returncode, out


def test_cli_tiny_run_under_jax_without_tensorflow(tmp_path):
    rc, out = _run([*TINY_CLI, "--epochs", "1", "--seeds", "2", "--out", str(tmp_path)])
    assert rc == 0, out[-3000:]
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["seed0", "seed1"]
    for seed in (0, 1):
        r = json.loads((tmp_path / f"quick-seed{seed}.json").read_text())
        assert r["backend"] == "jax" and r["seed"] == seed and r["epochs"] == 1 and len(r["history"]) == 1
        assert r["n_train"] == 256 and r["config"]["width"] == 8 and "tensorflow" not in r["versions"]
        assert r["timings"]["compile_method"].startswith("ahead-of-time")
    s = json.loads((tmp_path / "quick-summary.json").read_text())
    assert s["n"] == 2 and s["seeds"] == [0, 1] and "test accuracy" in out
    # A second run into the same folder is refused (its checkpoints are there); nothing is touched.
    before = (tmp_path / "quick-seed0.json").read_text()
    rc, out = _run([*TINY_CLI, "--epochs", "1", "--out", str(tmp_path), "--quiet"])
    assert rc != 0 and "pass resume=True (--resume) to continue it" in out and "Traceback" not in out
    assert (tmp_path / "quick-seed0.json").read_text() == before
    # --resume finds both seeds finished and only writes a new summary beside the old one.
    rc, out = _run([*TINY_CLI, "--epochs", "1", "--seeds", "2", "--out", str(tmp_path), "--resume"])
    assert rc == 0 and out.count("already finished") == 2, out[-3000:]
    assert (tmp_path / "quick-seed0.json").read_text() == before
    assert json.loads((tmp_path / "quick-summary-1.json").read_text())["test_acc_mean"] == s["test_acc_mean"]


def test_cli_killed_run_resumes_to_the_same_history(tmp_path):
    args = [*TINY_CLI, "--epochs", "4", "--quiet"]
    # The uninterrupted run, for comparison.
    rc, out = _run([*args, "--out", str(tmp_path / "whole"), "--work-dir", str(tmp_path / "ckpt")])
    assert rc == 0, out[-3000:]
    assert (tmp_path / "ckpt" / "seed0" / fit.CHECKPOINT_FILE).is_file()  # --work-dir, not --out
    assert not (tmp_path / "whole" / "checkpoints").exists()
    whole = json.loads((tmp_path / "whole" / "quick-seed0.json").read_text())
    # The same run, killed (SIGKILL: no clean-up) as soon as its first checkpoint lands.
    ckpt = tmp_path / "cut" / "checkpoints" / "seed0" / fit.CHECKPOINT_FILE
    p = _cli([*args, "--out", str(tmp_path / "cut")])
    deadline = time.time() + 300
    while not ckpt.exists() and p.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=60)
    assert p.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert not (tmp_path / "cut" / "quick-seed0.json").exists()
    done_epochs = json.loads(str(np.load(ckpt)["meta"]))["epoch"]
    assert 1 <= done_epochs < 4
    # Resumed: the same epochs, the same history (the data order depends on (seed, epoch) only).
    rc, out = _run([*args, "--out", str(tmp_path / "cut"), "--resume"])
    assert rc == 0, out[-3000:]
    resumed = json.loads((tmp_path / "cut" / "quick-seed0.json").read_text())
    assert resumed["resumed_from_epoch"] == done_epochs and resumed["epochs"] == 4
    assert [h["epoch"] for h in resumed["history"]] == [1, 2, 3, 4]
    for a, b in zip(resumed["history"], whole["history"], strict=True):
        for key in ("lr", "train_loss", "train_acc", "test_acc"):
            assert math.isclose(a[key], b[key], rel_tol=1e-4, abs_tol=1e-4), (key, a, b)
    assert math.isclose(resumed["test_acc"], whole["test_acc"], abs_tol=1e-9)


@pytest.mark.parametrize("args, message", [
    (["--profile", "medium"], "Unknown profile 'medium'"),
    (["--backend", "torch"], "KERAS_BACKEND to one of tensorflow, jax"),
    (["--epochs", "0"], "epochs must be a positive integer"),
    (["--seeds", "0"], "--seeds must be at least 1"),
])
def test_cli_bad_input_says_what_to_do(tmp_path, args, message):
    rc, out = _run([*TINY_CLI, "--out", str(tmp_path), *args], timeout=120)
    assert rc != 0 and message in out and "Traceback" not in out


def test_cli_batch_must_divide_over_devices(tmp_path):
    """Two (simulated) CPU devices: a batch of 63 cannot be split evenly between them."""
    flags = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    rc, out = _run([*TINY_CLI, "--batch-size", "63", "--out", str(tmp_path)], env_extra=flags, timeout=120)
    assert rc != 0 and "batch size 63 does not divide over 2 devices" in out and "Traceback" not in out


@backend
@pytest.mark.skipif(keras.backend.backend() != "jax", reason="the scanned epoch is the JAX path")
def test_scanned_epoch_equals_step_by_step(tmp_path, tiny_data):
    """The GPU/TPU path (one `lax.scan` call per epoch) computes exactly what the CPU path (one call per
    step) computes: same batches, same augmentation, same updates."""
    small = fw_data.Dataset(tiny_data.x_train[:128], tiny_data.y_train[:128], tiny_data.x_test,
                            tiny_data.y_test, "synthetic")
    cfg = fit.TrainConfig.from_profile("quick", epochs=2, **{**TINY, "train_limit": 128})
    by_step = fit.train(dataclasses.replace(cfg, scan=False), data=small)
    scanned = fit.train(dataclasses.replace(cfg, scan=True), data=small)
    for a, b in zip(by_step.history, scanned.history, strict=True):
        for key in ("train_loss", "train_acc", "test_acc"):
            assert math.isclose(a[key], b[key], rel_tol=1e-4, abs_tol=1e-5), (key, a, b)
    assert by_step.test_pred == scanned.test_pred
