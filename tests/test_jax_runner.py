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
        # public since jax 0.8.1; before, only a private function did it
        unregister = getattr(jax.monitoring, "unregister_event_duration_listener", None)
        if unregister is None:
            from jax._src.monitoring import _unregister_event_duration_listener_by_callback as unregister
        unregister(listen)


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
    """The GPU/TPU path (one `lax.scan` call per epoch) computes what the CPU path (one
    call per step) computes: same batches, same augmentation, same updates. The two are
    compiled apart, so their floats may differ in the last bits (losses to ~1e-6), and a
    test image at a near-tie between two classes may flip: at most one of 128 (jax 0.6.1
    and 0.6.2 flip one, `make test-lowest`; jax 0.10.2 none). Different batches or
    updates would move the losses and many predictions."""
    cfg = fit.TrainConfig.from_profile("quick", **TINY)
    by_step = fit.train(cfg.replace(scan=False), data=small)
    scanned = fit.train(cfg.replace(scan=True), data=small)
    for a, b in zip(by_step.history, scanned.history, strict=True):
        for key in ("train_loss", "train_acc", "test_acc"):
            assert math.isclose(a[key], b[key], rel_tol=1e-4, abs_tol=1e-5), (key, a, b)
    assert len(by_step.test_pred) == len(scanned.test_pred) == 128
    flipped = sum(a != b for a, b in zip(by_step.test_pred, scanned.test_pred, strict=True))
    assert flipped <= 1, f"{flipped} of 128 test predictions differ"



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


def test_steps_are_pytorch_sgd_on_the_mean_loss():
    """The compiled steps do what Page's training loop does (cifar10-fast, dawn.py at
    a78fd5e; checked against torch.optim.SGD on his PyTorch net by the GPU audit): each
    step's gradient of the MEAN cross-entropy over its augmented batch, coupled L2 on
    every trainable weight (BatchNorm's too), Nesterov momentum carried from step to
    step, and the learning rate of Page's piecewise-linear schedule at the step's index
    (0 at step 0). A reference written from those words, in NumPy, must land on the same
    weights and BatchNorm statistics."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from fenwicks_lite import pipeline, transform

    rng = np.random.default_rng(2)
    x = rng.integers(0, 256, (48, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, 48).astype(np.int32)
    cfg = fit.TrainConfig.from_profile("quick", width=4, batch_size=16, epochs=2,
                                       warmup_epochs=1, precision="float32", seed=5,
                                       verbose=0)
    policy = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy("float32")
    try:
        keras.utils.set_random_seed(cfg.seed)
        steps = pipeline.steps_per_epoch(len(x), cfg.batch_size)
        model, opt = fit.build(cfg, steps)
        mean, std = fw_data.channel_stats(x)
        w = [np.asarray(v.value, np.float64) for v in model.trainable_variables]
        w0 = [a.copy() for a in w]
        nt = [jnp.array(v.value) for v in model.non_trainable_variables]  # copies: the
        # runner donates the variables' own buffers to its first step
        runner = jax_runner.JaxRunner(model, opt, cfg, mean, std, x, y, x[:16], 1,
                                      scan=False)
        state = runner.state()
        runner.compile(state)
        for epoch in range(cfg.epochs):
            state, *_ = runner.run_epoch(state, epoch)

        def loss(trainable, non_trainable, xb, yb):  # noqa: ANN001, ANN202
            logits, non_trainable = model.stateless_call(trainable, non_trainable, xb,
                                                         training=True)
            logp = jax.nn.log_softmax(logits)
            return -jnp.mean(logp[jnp.arange(len(yb)), yb]), non_trainable

        grad = jax.grad(loss, has_aux=True)
        buf = [np.zeros_like(a) for a in w]
        for k in range(cfg.epochs * steps):
            idx = runner.order(k // steps)[k % steps]
            xb = (x[idx].astype(np.float32) - mean.astype(np.float32)) / std.astype(
                np.float32)
            seed = transform.step_seed(cfg.seed, k)
            xb = transform.augment_batch(jnp.asarray(xb), seed, cutout=cfg.cutout)
            g, nt = grad([jnp.asarray(a, jnp.float32) for a in w], nt, xb, y[idx])
            lr = np.interp(k / steps, [0, cfg.warmup_epochs, cfg.epochs],
                           [0, cfg.peak_lr, 0])
            for i, gi in enumerate(g):  # torch.optim.SGD, dampening 0, nesterov
                d = np.asarray(gi, np.float64) + cfg.weight_decay * w[i]
                buf[i] = cfg.momentum * buf[i] + d
                w[i] = w[i] - lr * (d + cfg.momentum * buf[i])
    finally:
        keras.mixed_precision.set_global_policy(policy)
    for ours, ref in zip([*state[0], *state[1]], [*w, *nt], strict=True):
        ours, ref = np.asarray(ours), np.asarray(ref)
        assert np.abs(ours - ref).max() <= 1e-4 * np.abs(ref).max() + 1e-7
    # and the steps did train: the weights moved well beyond that tolerance
    kernels = [(a, b) for a, b in zip(w, w0, strict=True) if b.ndim > 1]
    assert max(np.abs(a - b).max() / np.abs(b).max() for a, b in kernels) > 0.1
