"""The JAX fast path of the training loop: one compiled call per epoch (Ch. 8, 9).

A whole epoch is ONE call: `jax.lax.scan` over its steps, with Keras's stateless APIs
(`model.stateless_call`, `optimizer.stateless_apply`), the training set resident on the
device (uint8), normalization and augmentation fused into the step, the state's buffers
donated. No host round trip per step. On a CPU each step is its own call instead
(XLA:CPU runs convolutions inside a loop body slowly, chapter 8).

Compiled once per process: the executable is kept, keyed by everything the compiled
program depends on (shapes, dtypes, the recipe, the precision; not the seed, which is an
argument), so the second seed of a run reuses the first one's. `enable_compile_cache`
adds XLA's persistent cache on disk for the next process. `fenwicks_lite.fit` drives it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from fenwicks_lite import pipeline
from fenwicks_lite.records import EVAL_BATCH, TrainConfig, writable_dir

#: compiled (epoch, predict) executables of this process, by `JaxRunner.key`
_EXECUTABLES: dict[tuple, tuple[Any, Any]] = {}


def enable_compile_cache(path: str | Path, min_compile_s: float = 1.0) -> Path:
    """Turns on JAX's persistent compilation cache in folder `path`: a later process
    that compiles the same program loads it from there (compiles over `min_compile_s`
    seconds are stored). JAX reads the setting once, at its first compile: call this
    first.

    `fit.train` turns it on for Chapter 8's and Chapter 9's runs (the CLI's
    ``--compile-cache``).
    """
    import jax

    folder = writable_dir(path, "compile_cache")
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs",
                      float(min_compile_s))
    return folder


def forget_compiled() -> None:
    """Drops this process's compiled epochs (the next run compiles again).

    Explained in Chapter 8, "The training loop" (the compiled epoch it drops).
    """
    _EXECUTABLES.clear()


class JaxRunner:
    """Runs `cfg`'s epochs of `model` with `opt` on JAX (see the module docstring).

    `x_train` and `x_test` are uint8 images, normalized inside the step with `mean` and
    `std` (per channel, pixel units); `n_devices` > 1 splits each batch over the
    devices.

    Explained in Chapter 8, "The training loop" (on JAX one epoch is a single
    compiled call).
    """

    def __init__(self, model: Any, opt: Any, cfg: TrainConfig, mean: np.ndarray,
                 std: np.ndarray, x_train: np.ndarray, y_train: np.ndarray,
                 x_test: np.ndarray, n_devices: int, scan: bool | None = None) -> None:
        import jax
        import jax.numpy as jnp
        import keras

        from fenwicks_lite import transform

        self.model, self.opt, self.cfg = model, opt, cfg
        self.n_train = len(x_train)
        self.steps = pipeline.steps_per_epoch(self.n_train, cfg.batch_size)
        self.n_devices = n_devices
        self.mesh = None
        if n_devices > 1:  # data parallel: batches split over devices, weights copied
            self.mesh = jax.sharding.Mesh(np.array(jax.devices()), ("batch",))
            rep = jax.sharding.NamedSharding(self.mesh, jax.sharding.PartitionSpec())

            def put(a: Any) -> Any:
                return jax.device_put(a, rep)
        else:
            put = jax.device_put
        # uint8 on the device: 4x less memory and transfer than float; normalized in the
        # step.
        self.x_train, self.y_train = put(x_train), put(y_train.astype(np.int32))
        self.x_test = x_test
        self.mean = jnp.asarray(mean, jnp.float32)
        self.std = jnp.asarray(std, jnp.float32)
        mesh = self.mesh
        opt_vars_ref = opt.variables

        def loss_fn(trainable, non_trainable, opt_vars, x, y):  # noqa: ANN001, ANN202
            logits, non_trainable = model.stateless_call(trainable, non_trainable, x,
                                                         training=True)
            logits = logits.astype(jnp.float32)
            logp = jax.nn.log_softmax(logits)
            loss = -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))
            # A LossScaleOptimizer (mixed_float16) scales the loss by its current scale.
            mapping = list(zip(opt_vars_ref, opt_vars, strict=True))
            with keras.StatelessScope(state_mapping=mapping):
                scaled = opt.scale_loss(loss)
            acc = jnp.mean((jnp.argmax(logits, axis=1) == y).astype(jnp.float32))
            return scaled, (non_trainable, loss, acc)

        grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

        def step(carry, inp):  # noqa: ANN001, ANN202
            """One SGD step on images `idx`; global step `k` seeds the augmentation."""
            state, data = carry
            x_all, y_all, seed, mean, std = data
            trainable, non_trainable, opt_vars = state
            idx, k = inp
            x = (x_all[idx].astype(jnp.float32) - mean) / std
            if mesh is not None:
                spec = jax.sharding.PartitionSpec("batch")
                x = jax.lax.with_sharding_constraint(
                    x, jax.sharding.NamedSharding(mesh, spec))
            # Page's augmentation (chapter 4): pad-and-crop, flip, cutout of cfg.cutout;
            # the same seeds as fw.pipeline.DeviceDataset (chapter 5).
            x = transform.augment_batch(x, transform.step_seed(seed, k),
                                        cutout=cfg.cutout)
            (_, (non_trainable, loss, acc)), grads = grad_fn(
                trainable, non_trainable, opt_vars, x, y_all[idx])
            trainable, opt_vars = opt.stateless_apply(opt_vars, grads, trainable)
            state = [list(trainable), list(non_trainable), list(opt_vars)]
            return (state, data), (loss, acc)

        def epoch_fn(state, data, order, first_step):  # noqa: ANN001, ANN202
            """All the epoch's steps in one call: no host round trip between steps."""
            ks = first_step + jnp.arange(len(order), dtype=jnp.uint32)
            (state, _), (losses, accs) = jax.lax.scan(step, (state, data), (order, ks))
            return state, jnp.mean(losses), jnp.mean(accs)

        def step_fn(state, data, idx, k):  # noqa: ANN001, ANN202
            (state, _), (loss, acc) = step((state, data), (idx, k))
            return state, loss, acc

        def predict_fn(trainable, non_trainable, x, mean, std):  # noqa: ANN001, ANN202
            x = (x.astype(jnp.float32) - mean) / std

            def probs(images):  # noqa: ANN001, ANN202
                logits = model.stateless_call(trainable, non_trainable, images,
                                              training=False)[0]
                return jax.nn.softmax(logits.astype(jnp.float32))

            p = probs(x)
            return p, (p + probs(x[:, :, ::-1])) / 2

        # Donating the state lets XLA update the weights in place instead of copying
        # them.
        self.scan = jax.devices()[0].platform != "cpu" if scan is None else scan
        self._fn = jax.jit(epoch_fn if self.scan else step_fn, donate_argnums=(0,))
        self._predict = jax.jit(predict_fn)
        self._compiled: Any = None
        self._compiled_predict: Any = None

    def state(self) -> list[list[Any]]:
        """The variables' values: trainable, non-trainable, optimizer."""
        return [[v.value for v in self.model.trainable_variables],
                [v.value for v in self.model.non_trainable_variables],
                [v.value for v in self.opt.variables]]

    def _data(self) -> tuple[Any, ...]:
        seed = np.uint32(self.cfg.seed)
        return (self.x_train, self.y_train, seed, self.mean, self.std)

    def _eval_shape(self) -> Any:
        import jax

        b = min(EVAL_BATCH, len(self.x_test))
        return jax.ShapeDtypeStruct((b, *self.x_test.shape[1:]), self.x_test.dtype)

    def key(self, state: list[list[Any]]) -> tuple:
        """Everything the compiled programs depend on: the state's and data's shapes and
        dtypes, the recipe (schedule, decay, cutout are constants in the program), the
        precision, the path and the devices. Not the seed: that is an argument."""
        import jax
        import keras

        recipe = {k: v for k, v in self.cfg.run_key().items()
                  if k not in ("seed", "profile")}
        leaves, tree = jax.tree_util.tree_flatten(state)
        return (keras.mixed_precision.global_policy().name, self.scan, self.n_devices,
                str(jax.devices()[0]), str(tree),
                tuple((tuple(a.shape), str(a.dtype)) for a in leaves),
                tuple(self.x_train.shape), str(self.x_train.dtype),
                tuple(self._eval_shape().shape), tuple(sorted(recipe.items())))

    def compile(self, state: list[list[Any]]) -> tuple[float, bool]:
        """Compiles the epoch (or step) and the evaluation ahead of time, or takes them
        from this process's earlier run with the same `key`. Returns (seconds, whether
        it compiled)."""
        import jax.numpy as jnp

        t0 = time.perf_counter()
        key = self.key(state)
        if key in _EXECUTABLES:
            self._compiled, self._compiled_predict = _EXECUTABLES[key]
            return time.perf_counter() - t0, False
        order = jnp.asarray(self.order(0))
        args = (order, jnp.uint32(0)) if self.scan else (order[0], jnp.uint32(0))
        self._compiled = self._fn.lower(state, self._data(), *args).compile()
        self._compiled_predict = self._predict.lower(
            state[0], state[1], self._eval_shape(), self.mean, self.std).compile()
        _EXECUTABLES[key] = (self._compiled, self._compiled_predict)
        return time.perf_counter() - t0, True

    def order(self, epoch: int) -> np.ndarray:
        """The epoch's batches as rows of image indices (`fw.pipeline.epoch_indices`
        from `fw.pipeline.epoch_seed(seed, epoch)`, as `DeviceDataset` draws them)."""
        return pipeline.epoch_indices(self.n_train, self.cfg.batch_size,
                                      pipeline.epoch_seed(self.cfg.seed, epoch))

    def run_epoch(self, state: list[list[Any]],
                  epoch: int) -> tuple[list[list[Any]], float, float, float]:
        """Trains one epoch; returns (state, mean loss, mean accuracy, seconds)."""
        import jax
        import jax.numpy as jnp

        order = jax.device_put(self.order(epoch))
        first = epoch * self.steps
        data = self._data()
        t0 = time.perf_counter()
        if self.scan:
            state, loss, acc = self._compiled(state, data, order, jnp.uint32(first))
        else:  # dispatched asynchronously: the host does not wait for one step
            losses, accs = [], []
            for i in range(len(order)):
                state, loss, acc = self._compiled(state, data, order[i],
                                                  jnp.uint32(first + i))
                losses.append(loss)
                accs.append(acc)
            loss, acc = jnp.mean(jnp.stack(losses)), jnp.mean(jnp.stack(accs))
        loss, acc = float(loss), float(acc)  # blocks until the epoch is done
        return state, loss, acc, time.perf_counter() - t0

    def predict(self, state: list[list[Any]]) -> tuple[np.ndarray, np.ndarray]:
        """Softmax probabilities on the test set: plain and with flip TTA."""
        b = min(EVAL_BATCH, len(self.x_test))
        ps, pts = [], []
        for i in range(0, len(self.x_test), b):
            chunk = self.x_test[i:i + b]
            n = len(chunk)
            if n < b:  # pad the last chunk to the compiled shape
                pad = np.zeros((b - n, *chunk.shape[1:]), chunk.dtype)
                chunk = np.concatenate([chunk, pad])
            p, pt = self._compiled_predict(state[0], state[1], chunk, self.mean,
                                           self.std)
            ps.append(np.asarray(p)[:n])
            pts.append(np.asarray(pt)[:n])
        return np.concatenate(ps), np.concatenate(pts)

    def to_numpy(self, state: list[list[Any]]) -> list[list[np.ndarray]]:
        return [[np.asarray(a) for a in part] for part in state]

    def from_numpy(self, parts: list[list[np.ndarray]]) -> list[list[Any]]:
        import jax

        return jax.tree_util.tree_map(jax.numpy.asarray, parts)

    def finish(self, state: list[list[Any]]) -> None:
        """Writes the final state back into the Keras model, for the caller."""
        variables = (self.model.trainable_variables + self.model.non_trainable_variables
                     + self.opt.variables)
        values = [*state[0], *state[1], *state[2]]
        for var, value in zip(variables, values, strict=True):
            var.assign(value)
