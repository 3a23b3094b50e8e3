"""The `model.fit` path of the training loop (Chapters 8 and 9): TensorFlow, and JAX
with ``fast=False``.

Plain Keras, one epoch per `fit` call so that a checkpoint follows every epoch: a
`tf.data` pipeline on TensorFlow, a `keras.utils.PyDataset` on JAX. The batches and
their augmentation are those of the JAX path and of `fw.pipeline.DeviceDataset`: epoch
e's order from `fw.pipeline.epoch_seed(seed, e)`, step k augmented with
``fw.transform.step_seed(seed, k)``. `fenwicks_lite.fit` drives it.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from fenwicks_lite import pipeline
from fenwicks_lite.records import EVAL_BATCH, TrainConfig


class KerasRunner:
    """Runs `cfg`'s epochs with `model.fit` (same constructor as `JaxRunner`).

    Explained in Chapter 8, "The training loop" (on TensorFlow, plain `model.fit` on
    a `tf.data` pipeline).
    """

    def __init__(self, model: Any, opt: Any, cfg: TrainConfig, mean: np.ndarray,
                 std: np.ndarray, x_train: np.ndarray, y_train: np.ndarray,
                 x_test: np.ndarray, n_devices: int) -> None:
        import keras

        from fenwicks_lite import data as fw_data

        self.model, self.opt, self.cfg = model, opt, cfg
        self.x_train = fw_data.normalize(x_train, mean, std)
        self.y_train = y_train.astype(np.int32)
        self.x_test = fw_data.normalize(x_test, mean, std)
        self.steps = pipeline.steps_per_epoch(len(x_train), cfg.batch_size)
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        model.compile(optimizer=opt, loss=loss, metrics=["accuracy"])

    def _variables(self) -> tuple[list, list, list]:
        return (self.model.trainable_variables, self.model.non_trainable_variables,
                self.model.optimizer.variables)

    def state(self) -> list[list[Any]]:
        """The variables' values (NumPy): trainable, non-trainable, optimizer."""
        import keras

        return [[keras.ops.convert_to_numpy(v.value) for v in vs]
                for vs in self._variables()]

    def compile(self, state: list[list[Any]]) -> tuple[float, bool]:
        """Compiles Keras's train step by running it twice on one batch (the first call
        traces and compiles, the second only runs; `model.fit` then reuses the step),
        then puts the weights and optimizer state back. Returns (first minus second
        call, True): `model.fit` compiles once per model, so every run compiles."""
        snapshot = self.state()
        bs = self.cfg.batch_size
        times = []
        for _ in range(2):
            t0 = time.perf_counter()
            self.model.train_on_batch(self.x_train[:bs], self.y_train[:bs])
            times.append(time.perf_counter() - t0)
        self.from_numpy(snapshot)
        return max(0.0, times[0] - times[1]), True

    def order(self, epoch: int) -> np.ndarray:
        """The epoch's batches as rows of image indices (as `JaxRunner.order`)."""
        return pipeline.epoch_indices(len(self.x_train), self.cfg.batch_size,
                                      pipeline.epoch_seed(self.cfg.seed, epoch))

    def _dataset(self, epoch: int) -> Any:
        import keras

        from fenwicks_lite import transform

        order = self.order(epoch).reshape(-1)
        seed, first = self.cfg.seed, epoch * self.steps
        bs, cutout = self.cfg.batch_size, self.cfg.cutout
        x, y = self.x_train[order], self.y_train[order]
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            ds = tf.data.Dataset.from_tensor_slices((x, y))
            ds = ds.batch(bs, drop_remainder=True)  # static shape for augment_batch

            def aug(i: Any, xy: Any) -> Any:
                s = transform.step_seed(seed, tf.cast(i, tf.int32) + first)
                return transform.augment_batch(xy[0], s, cutout=cutout), xy[1]

            ds = ds.enumerate().map(aug, num_parallel_calls=tf.data.AUTOTUNE)
            return ds.prefetch(tf.data.AUTOTUNE)

        class Batches(keras.utils.PyDataset):
            def __len__(self) -> int:
                return len(x) // bs

            def __getitem__(self, i: int) -> Any:
                # the end of a plain `for` (Keras < 3.11's PyDataset has no __iter__)
                if not 0 <= i < len(self):
                    raise IndexError(f"batch {i} of {len(self)}")
                s = transform.step_seed(seed, first + i)
                xb = transform.augment_batch(x[i * bs:(i + 1) * bs], s, cutout=cutout)
                return np.asarray(xb), y[i * bs:(i + 1) * bs]

        return Batches()

    def run_epoch(self, state: Any, epoch: int) -> tuple[Any, float, float, float]:
        """Trains one epoch; returns (None, loss, accuracy, seconds)."""
        ds = self._dataset(epoch)
        t0 = time.perf_counter()
        # Keras's progress bar in a terminal only; in a notebook or a log file the
        # library's own line per epoch (fit.epoch_line) is the one line printed.
        verbose = 1 if self.cfg.verbose and sys.stdout.isatty() else 0
        h = self.model.fit(ds, epochs=epoch + 1, initial_epoch=epoch, shuffle=False,
                           verbose=verbose)
        dt = time.perf_counter() - t0
        return None, float(h.history["loss"][-1]), float(h.history["accuracy"][-1]), dt

    def predict(self, state: Any) -> tuple[np.ndarray, np.ndarray]:
        """Softmax probabilities on the test set: plain and with flip TTA."""
        import keras

        def probs(x: np.ndarray) -> np.ndarray:
            logits = self.model.predict(x, batch_size=EVAL_BATCH, verbose=0)
            return np.asarray(keras.ops.softmax(keras.ops.cast(logits, "float32")))

        p = probs(self.x_test)
        return p, (p + probs(self.x_test[:, :, ::-1])) / 2

    def to_numpy(self, state: Any) -> list[list[np.ndarray]]:
        return self.state()

    def from_numpy(self, parts: list[list[np.ndarray]]) -> None:
        for vs, values in zip(self._variables(), parts, strict=True):
            for v, a in zip(vs, values, strict=True):
                v.assign(a)
        return None

    def finish(self, state: Any) -> None:
        """Nothing to do: `model.fit` trained the model's own variables."""
