"""The training loop, fenwicks_lite.fit (chapters 8 and 9): real tiny runs on either backend
(TF: `model.fit` on tf.data; JAX: the compiled epoch and `model.fit`), resume, bad input, and
the one step count and epoch seed that every part of the library shares.

The command line is tested in test_cli.py, the runners' own properties in test_jax_runner.py
and test_keras_runner.py.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fenwicks_lite import checkpoint, fit, optim, pipeline
from fenwicks_lite import data as fw_data

backend = pytest.mark.backend
#: tiny settings for real runs on two CPU cores: 4 steps per epoch of a width-8 DavidNet
TINY = dict(width=8, batch_size=64, train_limit=256, test_limit=128, warmup_epochs=0.5,
            verbose=0)


@pytest.fixture(scope="module")
def tiny_data() -> fw_data.Dataset:
    (xtr, ytr), (xte, yte) = fw_data.synthetic_cifar10(256, 128, seed=1)
    return fw_data.Dataset(xtr, ytr, xte, yte, "synthetic")


# ------------------------------------------------- one step count, one epoch seed (shared)

@backend
def test_steps_per_epoch_is_one_function_everywhere():
    assert fit.steps_per_epoch is pipeline.steps_per_epoch  # what chapter 8 calls
    assert pipeline.steps_per_epoch(50_000, 512) == 97  # Page's 97 steps, 336 left out
    assert pipeline.steps_per_epoch(2_500, 128) == 19
    assert optim.schedule_steps(2_500, 128, 2, 0.5)[0] == 19
    x, y = np.zeros((130, 32, 32, 3), np.float32), np.zeros(130, np.int32)
    assert pipeline.DeviceDataset(x, y, 64).steps_per_epoch == 2
    for call in (lambda: pipeline.steps_per_epoch(100, 512),
                 lambda: optim.schedule_steps(100, 512, 1, 0),
                 lambda: pipeline.DeviceDataset(x[:100], y[:100], 512)):
        with pytest.raises(ValueError, match="100 images cannot fill one batch of 512.*"
                                             "use a smaller batch size"):
            call()


@backend
@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 3000), bs=st.integers(1, 512), seed=st.integers(0, 2**20),
       epoch=st.integers(0, 50))
def test_epoch_order_is_a_reproducible_shuffle(n, bs, seed, epoch):
    if bs > n:
        return
    order = pipeline.epoch_indices(n, bs, pipeline.epoch_seed(seed, epoch))
    assert order.shape == (n // bs, bs)
    flat = order.reshape(-1)
    assert len(np.unique(flat)) == flat.size and flat.min() >= 0 and flat.max() < n
    again = pipeline.epoch_indices(n, bs, pipeline.epoch_seed(seed, epoch))
    np.testing.assert_array_equal(order, again)


@backend
def test_epoch_seeds_differ_by_seed_and_epoch_and_refuse_negatives():
    seeds = {pipeline.epoch_seed(s, e) for s in range(20) for e in range(20)}
    assert len(seeds) == 400 and all(isinstance(v, int) and v >= 0 for v in seeds)
    with pytest.raises(ValueError, match="seed and epoch must be >= 0"):
        pipeline.epoch_seed(-1, 0)
    # the device dataset and the loop's runners draw the same order from the same seed
    x, y = np.zeros((300, 32, 32, 3), np.float32), np.zeros(300, np.int32)
    dev = pipeline.DeviceDataset(x, y, 64, seed=5)
    np.testing.assert_array_equal(
        dev.epoch_indices(3), pipeline.epoch_indices(300, 64, pipeline.epoch_seed(5, 3)))


@backend
def test_epoch_line_is_the_log_format():
    cfg = fit.TrainConfig.from_profile("full")
    h = {"epoch": 3, "lr": 0.24, "train_loss": 0.8123, "train_acc": 0.7, "test_acc": 0.655,
         "train_s": 1.234}
    assert fit.epoch_line(cfg, h) == ("epoch  3/24 | lr 0.2400 | train loss 0.812 acc "
                                      "70.00% | test acc 65.50% | 1.23 s")


# ------------------------------------------------------------------------------ bad input

@backend
def test_existing_checkpoint_without_resume_is_left_alone(tmp_path, tiny_data):
    cfg = fit.TrainConfig.from_profile("quick", work_dir=str(tmp_path), **TINY)
    state = [[np.zeros(3)], [], []]
    checkpoint.save_checkpoint(tmp_path, 1, state, {"run_key": cfg.run_key(), "history": []})
    before = (tmp_path / fit.CHECKPOINT_FILE).read_bytes()
    with pytest.raises(FileExistsError, match="pass resume=True .* or choose an empty work_dir"):
        fit.train(cfg, data=tiny_data)
    assert (tmp_path / fit.CHECKPOINT_FILE).read_bytes() == before


@backend
def test_unwritable_work_dir_and_resume_without_one(tmp_path, tiny_data):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    cfg = fit.TrainConfig.from_profile("quick", work_dir=str(blocker / "sub"), **TINY)
    with pytest.raises(PermissionError, match="work_dir folder .* is not writable"):
        fit.train(cfg, data=tiny_data)
    with pytest.raises(ValueError, match="resume=True needs the work_dir"):
        fit.train(fit.TrainConfig.from_profile("quick", resume=True, **TINY), data=tiny_data)


@backend
def test_a_run_without_work_dir_writes_no_checkpoint(tmp_path, tiny_data, monkeypatch):
    """Nothing could resume it, so nothing is left behind: no temporary folder either."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    saved = []
    monkeypatch.setattr(fit, "save_checkpoint", lambda *a, **k: saved.append(a[0]))
    r = fit.train(fit.TrainConfig.from_profile("quick", epochs=1, **TINY), data=tiny_data)
    assert [h["epoch"] for h in r.history] == [1]
    assert saved == [] and list(tmp_path.rglob("*.npz")) == []
    assert [p for p in tmp_path.iterdir() if p.is_dir()] == []  # (TF's autograph leaves .py)


@backend
def test_bad_data_is_refused_before_any_training(tmp_path, tiny_data, monkeypatch):
    """Shapes are checked up front: not a crash in the step or after the last epoch."""
    monkeypatch.setattr(fit, "build", lambda *a: pytest.fail("built before the check"))
    cfg = fit.TrainConfig.from_profile("quick", epochs=1, work_dir=str(tmp_path), **TINY)
    d = tiny_data
    for bad, match in [
        (dict(x_test=d.x_test.transpose(0, 3, 1, 2)),
         r"x_test must be images shaped \(N, 32, 32, 3\).*transpose\(0, 2, 3, 1\)"),
        (dict(y_train=d.y_train[:100]), r"y_train must hold one label per image.*\(256,\)"),
        (dict(y_test=np.eye(10, dtype=int)[d.y_test]), r"y_test.*one-hot.*argmax\(1\)"),
        (dict(y_test=d.y_test.astype(float)), r"integer class labels.*astype"),
        (dict(y_train=d.y_train + 1), r"y_train holds labels 1..10, outside the classes"),
    ]:
        with pytest.raises(ValueError, match=match):
            fit.train(cfg, data=dataclasses.replace(d, **bad))
    assert list(tmp_path.iterdir()) == []


@backend
def test_keras_shaped_labels_are_flattened(tiny_data):
    """`keras.datasets.cifar10.load_data()` gives labels (N, 1): the run is the same."""
    d = tiny_data
    keras_like = dataclasses.replace(d, y_train=d.y_train[:, None],
                                     y_test=d.y_test[:, None].astype(np.uint8))
    cfg = fit.TrainConfig.from_profile("quick", epochs=1, **TINY)
    r = fit.train(cfg, data=keras_like)
    assert r.test_true == d.y_test.tolist()
    assert math.isclose(r.test_acc, np.mean(np.array(r.test_pred) == d.y_test))
    assert math.isclose(r.history[-1]["test_acc"], r.test_acc)


@backend
def test_resume_on_other_data_is_refused(tmp_path, tiny_data, monkeypatch):
    cfg = fit.TrainConfig.from_profile("quick", epochs=1, work_dir=str(tmp_path), **TINY)
    fit.train(cfg, data=tiny_data)
    meta, _ = checkpoint.load_checkpoint(tmp_path)
    assert meta["data"] == tiny_data.identity() and meta["data"]["n_train"] == 256
    monkeypatch.setattr(fit, "build", lambda *a: pytest.fail("built before the check"))
    d = tiny_data
    more = dataclasses.replace(d, x_train=np.concatenate([d.x_train, d.x_train]),
                               y_train=np.concatenate([d.y_train, d.y_train]))
    with pytest.raises(ValueError, match=r"other data \(.*n_train: 256 there vs 512 now"
                                         r".*resume with the same data"):
        fit.train(cfg.replace(resume=True), data=more)
    relabelled = dataclasses.replace(d, y_train=(d.y_train + 1) % 10)  # same sizes
    with pytest.raises(ValueError, match=r"other data \(crc32: "):
        fit.train(cfg.replace(resume=True), data=relabelled)


# ------------------------------------------------------------------------------ real runs

def _variants() -> list[dict]:
    # On TF, `fast` is ignored (model.fit); on JAX, both the compiled path and model.fit.
    return [dict(fast=True), dict(fast=False)] if keras.backend.backend() == "jax" else [{}]


@backend
@pytest.mark.parametrize("variant", _variants(), ids=str)
def test_tiny_run_returns_a_complete_record(tmp_path, tiny_data, variant):
    policy = keras.mixed_precision.global_policy().name
    cfg = fit.TrainConfig.from_profile("quick", epochs=2, seed=3, work_dir=str(tmp_path),
                                       **TINY, **variant)
    r = fit.train(cfg, data=tiny_data)
    assert keras.mixed_precision.global_policy().name == policy  # restored after the run
    assert (r.epochs, r.batch_size, r.steps_per_epoch, r.n_train, r.n_test) == \
        (2, 64, 4, 256, 128)
    assert [h["epoch"] for h in r.history] == [1, 2] and r.seed == 3
    assert r.resumed_from_epoch == 0 and 0 <= r.test_acc <= 1 and 0 <= r.test_acc_tta <= 1
    assert len(r.test_pred) == len(r.test_conf) == 128
    assert r.test_true == tiny_data.y_test.tolist()
    # The reported accuracy is the one of the reported predictions.
    assert math.isclose(r.test_acc, np.mean(np.array(r.test_pred) == tiny_data.y_test))
    assert math.isclose(r.history[-1]["test_acc"], r.test_acc)
    assert all(0.1 <= c <= 1 for c in r.test_conf)
    t = r.timings
    assert t["train_s"] > 0 and t["compile_s"] >= 0
    assert t["total_s"] >= t["train_s"] + t["eval_s"] and isinstance(t["compiled"], bool)
    assert r.backend == keras.backend.backend() and r.precision == "float32"  # a CPU
    assert r.versions["keras"] == keras.__version__ and r.hardware["platform"] == "cpu"
    # The config in the record is the one trained, the Profile inside it.
    assert fit.TrainConfig.from_record(r.config) == cfg
    # The triangular schedule ends near 0 and the loss is finite.
    assert r.history[-1]["lr"] < r.history[0]["lr"]
    assert all(np.isfinite(h["train_loss"]) for h in r.history)
    assert fit.Result.from_json(r.to_json()).to_json() == r.to_json()
    # The checkpoint holds the finished run; resuming it trains nothing, reports the same.
    again = fit.train(cfg.replace(resume=True), data=tiny_data)
    assert again.resumed_from_epoch == 2 and again.history == r.history
    assert again.test_pred == r.test_pred



@backend
def test_float16_run_scales_its_loss(tiny_data):
    """What a Colab T4 gets (`accel.choose_precision`: mixed_float16, chapter 8): the
    optimizer is wrapped in Keras's LossScaleOptimizer, the run trains, its loss is
    finite and its record says so (on TensorFlow through model.fit, on JAX compiled)."""
    cfg = fit.TrainConfig.from_profile("quick", **{**TINY, "epochs": 1})
    r = fit.train(cfg.replace(precision="mixed_float16"), data=tiny_data)
    assert r.precision == "mixed_float16" and len(r.test_pred) == 128
    assert all(np.isfinite(h["train_loss"]) for h in r.history)
    policy = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        _, opt = fit.build(cfg, steps=4)
    finally:
        keras.mixed_precision.set_global_policy(policy)
    assert isinstance(opt, keras.optimizers.LossScaleOptimizer)

@backend
def test_train_takes_overrides(tiny_data):
    r = fit.train(fit.TrainConfig.from_profile("quick", **TINY), data=tiny_data, epochs=1,
                  seed=2)
    assert r.epochs == 1 and r.seed == 2 and len(r.history) == 1


# ------------------------------------------------------------ the step benchmark (ch. 8)

@backend
def test_benchmark_times_the_first_call_apart_from_the_steps(tiny_data):
    """Chapter 8's compile-vs-step figure and its noise line: the steps' own times come
    back, step_s is their median, compile_s the first call less one step; the global
    policy is restored; too few images or steps say what to pass instead."""
    policy = keras.mixed_precision.global_policy().name
    cfg = fit.TrainConfig.from_profile("quick", **TINY)
    b = fit.benchmark(cfg.replace(precision="mixed_bfloat16"), tiny_data.x_train,
                      tiny_data.y_train, steps=3)
    assert keras.mixed_precision.global_policy().name == policy
    assert b["precision"] == "mixed_bfloat16" and (b["batch_size"], b["width"]) == (64, 8)
    times = b["step_times_s"]
    assert len(times) == 3 and all(t > 0 for t in times)
    assert b["step_s"] == float(np.median(times))
    assert math.isclose(b["compile_s"], max(0.0, b["first_call_s"] - b["step_s"]))
    assert math.isclose(b["images_per_s"], 64 / b["step_s"])
    with pytest.raises(ValueError, match="at least one batch: 10 images < batch size 64"):
        fit.benchmark(cfg, tiny_data.x_train[:10], tiny_data.y_train[:10])
    with pytest.raises(ValueError, match="steps=0; pass steps=1 or more"):
        fit.benchmark(cfg, tiny_data.x_train, tiny_data.y_train, steps=0)
