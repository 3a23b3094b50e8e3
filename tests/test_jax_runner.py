"""fenwicks_lite.jax_runner (chapters 8 and 9): the compiled epoch, compiled ONCE per process
for every seed, XLA's persistent cache for the next process, and the scanned epoch equal to
the step-by-step one. JAX only."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap

import keras
import no_tensorflow
import pytest

from fenwicks_lite import data as fw_data
from fenwicks_lite import fit, jax_runner

pytestmark = [pytest.mark.backend,
              pytest.mark.skipif(keras.backend.backend() != "jax",
                                 reason="the compiled-epoch path is JAX's")]
TINY = dict(width=8, batch_size=64, train_limit=128, test_limit=128, warmup_epochs=0.5,
            epochs=2, verbose=0)
#: the names of the runner's jitted functions, as JAX reports their lowering and compiling
OURS = ("epoch_fn", "step_fn", "predict_fn")


@pytest.fixture(scope="module")
def small() -> fw_data.Dataset:
    (xtr, ytr), (xte, yte) = fw_data.synthetic_cifar10(128, 128, seed=1)
    return fw_data.Dataset(xtr, ytr, xte, yte, "synthetic")


def _compiles_during(fn):
    """(fn's result, the names of OUR functions that JAX lowered or compiled meanwhile)."""
    import jax
    from jax._src import dispatch

    watched = (dispatch.JAXPR_TO_MLIR_MODULE_EVENT, dispatch.BACKEND_COMPILE_EVENT)
    seen: list[str] = []

    def listen(event, duration, **kw):  # noqa: ANN001, ANN003, ANN202
        if event in watched and any(n in str(kw.get("fun_name")) for n in OURS):
            seen.append(f"{event.rsplit('/', 1)[-1]}:{kw.get('fun_name')}")

    jax.monitoring.register_event_duration_secs_listener(listen)
    try:
        return fn(), seen
    finally:
        jax.monitoring.unregister_event_duration_listener(listen)


def test_second_seed_reuses_the_compiled_epoch(small):
    jax_runner.forget_compiled()
    cfg = fit.TrainConfig.from_profile("quick", **TINY)
    r0, first = _compiles_during(lambda: fit.train(cfg.replace(seed=0), data=small))
    r1, second = _compiles_during(lambda: fit.train(cfg.replace(seed=1), data=small))
    assert any("backend_compile" in s for s in first), first  # the watch does see compiles
    assert second == [], second  # nothing of ours lowered or compiled for seed 1
    assert r0.timings["compiled"] and not r1.timings["compiled"]
    assert r1.timings["compile_s"] < 0.1 * r0.timings["compile_s"]
    assert r1.timings["compile_method"].startswith("reused")
    assert r0.history != r1.history  # another seed: another run, not a replay
    # The reused executable computes what a fresh compile computes (no stale seed or data).
    jax_runner.forget_compiled()
    fresh, third = _compiles_during(lambda: fit.train(cfg.replace(seed=1), data=small))
    assert third and fresh.timings["compiled"]
    for a, b in zip(fresh.history, r1.history, strict=True):
        for key in ("train_loss", "train_acc", "test_acc"):
            assert math.isclose(a[key], b[key], rel_tol=1e-5, abs_tol=1e-6), (key, a, b)
    assert fresh.test_pred == r1.test_pred


def test_another_recipe_compiles_anew(small):
    jax_runner.forget_compiled()
    cfg = fit.TrainConfig.from_profile("quick", **{**TINY, "epochs": 1})
    fit.train(cfg, data=small)
    other, seen = _compiles_during(lambda: fit.train(cfg.replace(cutout=4), data=small))
    assert other.timings["compiled"] and seen  # cutout is a constant of the program


def test_scanned_epoch_equals_step_by_step(small):
    """The GPU/TPU path (one `lax.scan` call per epoch) computes exactly what the CPU path
    (one call per step) computes: same batches, same augmentation, same updates."""
    cfg = fit.TrainConfig.from_profile("quick", **TINY)
    by_step = fit.train(cfg.replace(scan=False), data=small)
    scanned = fit.train(cfg.replace(scan=True), data=small)
    for a, b in zip(by_step.history, scanned.history, strict=True):
        for key in ("train_loss", "train_acc", "test_acc"):
            assert math.isclose(a[key], b[key], rel_tol=1e-4, abs_tol=1e-5), (key, a, b)
    assert by_step.test_pred == scanned.test_pred



def test_scanned_epoch_in_bfloat16_is_the_gpu_path(small):
    """What an H100/H200 runs (`accel.choose_precision`: mixed_bfloat16, one scanned call
    per epoch), rehearsed on the CPU: it trains, the loss is finite, the record says so."""
    cfg = fit.TrainConfig.from_profile("quick", **{**TINY, "epochs": 1})
    r = fit.train(cfg.replace(scan=True, precision="mixed_bfloat16"), data=small)
    assert r.precision == "mixed_bfloat16" and r.timings["compiled"]
    assert all(math.isfinite(h["train_loss"]) for h in r.history)
    assert 0 <= r.test_acc <= 1 and len(r.test_pred) == 128

PERSIST = no_tensorflow.SOURCE + textwrap.dedent("""
    import sys
    import jax, jax.numpy as jnp
    from fenwicks_lite import jax_runner
    jax_runner.enable_compile_cache(sys.argv[1], min_compile_s=0)
    hits = []
    jax.monitoring.register_event_duration_secs_listener(
        lambda event, d, **kw: hits.append(event) if "compile_time_saved" in event else None)
    jax.jit(lambda x: jnp.tanh(x) @ x.T + 1.5)(jnp.ones((8, 8))).block_until_ready()
    print("hits", len(hits))
""")


def test_persistent_cache_serves_a_second_process(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "jax"}

    def run() -> str:
        out = subprocess.run([sys.executable, "-c", PERSIST, str(tmp_path / "cache")],
                             env=env, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr[-3000:]
        return out.stdout.split()[-1]

    assert run() == "0" and any((tmp_path / "cache").iterdir())  # compiled and stored
    assert int(run()) >= 1  # the second process loads them instead of compiling
