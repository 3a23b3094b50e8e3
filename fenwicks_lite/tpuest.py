"""The seed's TPUEstimator calls on Keras (Appendix, the 2019 notebook, run today).

In 2019 `fw.tpuest.get_clf_model_func(build_nn, opt_func, reduction=...)` wrapped a
Keras model into a TensorFlow 1 `model_fn`, `fw.tpuest.get_tpu_estimator(n_train,
n_test, model_func, work_dir, trn_bs=...)` built a `tf.contrib.tpu.TPUEstimator`
around it, and `est.train(input_fn, steps=...)` / `est.evaluate(input_fn, steps=1)`
ran it on the TPU. `tf.contrib` went with TensorFlow 2.0 and `TPUEstimator` with 2.16.

This module keeps the four calls, names and argument order, as a thin bridge onto
plain Keras: the model function builds the seed's network and compiles it with the
seed's loss (sparse softmax cross-entropy on logits, SUM or MEAN over the batch),
optimizer and accuracy metric; `train` runs `model.fit` for exactly `steps` steps on
what the input function returns, `evaluate` runs `model.evaluate`. One device,
whatever Keras backend is running: a `tf.data` input function needs TensorFlow
(TF or JAX backend with TF installed); an input function returning NumPy arrays
``(x, y)`` runs anywhere. What a TPU needed (a cluster, `iterations_per_loop`, warm
starts, hooks) is refused with a message saying what to do instead. The book's own
training loop (Chapters 8 and 9) is the faster and fuller path.
"""

from __future__ import annotations

import inspect
import math
import numbers
import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

#: loss reductions by name: Keras 3's and TensorFlow 1's (`tf.compat.v1.losses.
#: Reduction.SUM` is "weighted_sum"; with unit weights MEAN, SUM_OVER_BATCH_SIZE and
#: SUM_BY_NONZERO_WEIGHTS are all the batch mean).
REDUCTIONS = {
    "sum": "sum",
    "weighted_sum": "sum",
    "mean": "sum_over_batch_size",
    "sum_over_batch_size": "sum_over_batch_size",
    "weighted_mean": "sum_over_batch_size",
    "weighted_sum_over_batch_size": "sum_over_batch_size",
    "weighted_sum_by_nonzero_weights": "sum_over_batch_size",
}


def _keras_reduction(reduction: Any) -> str:
    key = str(getattr(reduction, "value", reduction)).lower()
    if key not in REDUCTIONS:
        raise ValueError(
            f"reduction {reduction!r} is not supported: pass 'sum' (the seed's "
            "tf.losses.Reduction.SUM, used with lr / BATCH_SIZE and wd * BATCH_SIZE) "
            "or 'mean' (the default)."
        )
    return REDUCTIONS[key]


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


class ClfModelFunc:
    """What `get_clf_model_func` returns: how to build and compile the classifier.

    `build_nn()` returns a Keras model producing logits; `opt_func` is a Keras
    optimizer or a function returning one (the seed's `opt_func`); `reduction` is the
    Keras name of the loss reduction.

    Explained in the Appendix, the 2019 notebook, run today.
    """

    def __init__(self, build_nn: Callable[[], Any], opt_func: Any, reduction: str):
        self.build_nn, self.opt_func, self.reduction = build_nn, opt_func, reduction

    def compiled_model(self) -> Any:
        """A new model from `build_nn`, compiled with the optimizer, loss and metric."""
        import keras

        model = self.build_nn()
        if not isinstance(model, keras.Model):
            raise TypeError(
                f"build_nn() must return a Keras model, got {type(model).__name__}."
            )
        opt = self.opt_func
        if not isinstance(opt, keras.optimizers.Optimizer):
            opt = opt()
        if not isinstance(opt, keras.optimizers.Optimizer):
            raise TypeError(
                "opt_func must be a Keras optimizer, or a function returning one, e.g. "
                f"fw.train.sgd_optimizer(lr_func, mom, wd); got {type(opt).__name__}."
            )
        loss = keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction=self.reduction
        )
        model.compile(optimizer=opt, loss=loss, metrics=["accuracy"])
        return model


def get_clf_model_func(
    build_nn: Callable[[], Any], opt_func: Any, reduction: Any = "mean"
) -> ClfModelFunc:
    """The seed's `fw.tpuest.get_clf_model_func` (Appendix): a classifier of logits
    from `build_nn()`, trained with sparse softmax cross-entropy reduced by `reduction`
    ('sum' or 'mean'; TensorFlow 1's `tf.compat.v1.losses.Reduction` values work too)
    and optimizer `opt_func`, with accuracy as the metric.
    """
    import keras

    if not callable(build_nn) or isinstance(build_nn, keras.Model):
        raise TypeError(
            "build_nn must be a function that returns a new Keras model, e.g. the "
            "seed's build_nn (pass the function, not build_nn())."
        )
    return ClfModelFunc(build_nn, opt_func, _keras_reduction(reduction))


def _input(input_fn: Callable[..., Any], batch_size: int) -> Any:
    """Calls the input function as TPUEstimator did, with ``params={'batch_size': ...}``
    (or without arguments if it takes none)."""
    if not callable(input_fn):
        raise TypeError(
            "input_fn must be a function, e.g. lambda params: "
            "fw.io.tfrecord_ds(train_fn, parser_train, params['batch_size'])."
        )
    try:
        takes_params = bool(inspect.signature(input_fn).parameters)
    except (TypeError, ValueError):
        takes_params = True
    return input_fn({"batch_size": batch_size}) if takes_params else input_fn()


def _is_dataset(data: Any) -> bool:
    return hasattr(data, "element_spec") and hasattr(data, "repeat")


def _arrays(data: Any) -> tuple[np.ndarray, np.ndarray] | None:
    if isinstance(data, tuple) and len(data) == 2:
        x, y = (np.asarray(a) for a in data)
        if x.ndim < 2 or len(x) != len(y):
            raise ValueError(
                f"the input function returned arrays of shapes {x.shape} and {y.shape}:"
                " give images (N, ...) and N labels."
            )
        return x, y.reshape(len(y), -1)[:, 0] if y.ndim > 1 else y
    return None


def _batches(x: np.ndarray, y: np.ndarray, bs: int, shuffle: bool) -> Iterator:
    """Batches of NumPy arrays: reshuffled each pass and only full batches when
    training (like the seed's pipeline), in order with the last partial batch when
    evaluating."""
    rng = np.random.default_rng(0)
    while True:
        order = rng.permutation(len(x)) if shuffle else np.arange(len(x))
        stop = len(x) - len(x) % bs if shuffle else len(x)
        for i in range(0, stop, bs):
            idx = order[i:i + bs]
            yield x[idx], y[idx]
        if not shuffle:
            return


class KerasEstimator:
    """What `get_tpu_estimator` returns: `train` and `evaluate` as TPUEstimator had
    them, on a Keras model (`.model`, built at the first call).

    Explained in the Appendix, the 2019 notebook, run today.
    """

    def __init__(self, n_trn: int, n_val: int, model_func: ClfModelFunc, work_dir: str,
                 trn_bs: int, val_bs: int, verbose: int) -> None:
        self.n_trn, self.n_val, self.model_func = n_trn, n_val, model_func
        self.work_dir, self.trn_bs, self.val_bs = work_dir, trn_bs, val_bs
        self.steps_per_epoch = n_trn // trn_bs
        self.verbose, self.model, self.epochs_done = verbose, None, 0

    def __repr__(self) -> str:
        return (f"KerasEstimator(n_trn={self.n_trn}, n_val={self.n_val}, "
                f"trn_bs={self.trn_bs}, val_bs={self.val_bs}, "
                f"global_step={self.global_step})")

    @property
    def global_step(self) -> int:
        """Optimizer steps taken so far (TPUEstimator's global step)."""
        return 0 if self.model is None else int(self.model.optimizer.iterations)

    def train(self, input_fn: Callable[..., Any], hooks: Any = None,
              steps: int | None = None, max_steps: int | None = None,
              saving_listeners: Any = None) -> KerasEstimator:
        """Trains for `steps` more steps (or up to `max_steps` in all) on the batches
        `input_fn({'batch_size': trn_bs})` returns, repeated as needed; logs one line
        per `n_train // trn_bs` steps and saves the weights to
        ``work_dir/model.weights.h5``. Returns the estimator, as TPUEstimator did."""
        if hooks or saving_listeners:
            raise NotImplementedError(
                "session hooks and saving listeners were TensorFlow 1 features: use "
                "Keras callbacks with est.model.fit(...) instead."
            )
        if (steps is None) == (max_steps is None):
            raise ValueError(
                "pass exactly one of steps= (the seed: total_steps) or max_steps=; "
                "training until the input ends is not supported (the data repeats)."
            )
        if self.model is None:
            self.model = self.model_func.compiled_model()
        todo = (_positive_int("steps", steps) if steps is not None
                else _positive_int("max_steps", max_steps) - self.global_step)
        if todo <= 0:
            return self
        data = _input(input_fn, self.trn_bs)
        arrays = _arrays(data)
        if arrays is not None:
            data = _batches(*arrays, self.trn_bs, shuffle=True)
        elif _is_dataset(data):
            data = data.repeat()
        else:
            raise TypeError(
                "the input function must return a tf.data.Dataset of (images, labels) "
                "batches or a tuple of NumPy arrays (x, y); it returned "
                f"{type(data).__name__}."
            )
        # one fit call for the whole epochs keeps one pass through the data going;
        # a remainder of steps (not the seed's case) runs as one more, shorter epoch
        per_epoch = min(self.steps_per_epoch, todo)
        for epochs, n in ((todo // per_epoch, per_epoch), (1, todo % per_epoch)):
            if epochs and n:
                self.model.fit(data, steps_per_epoch=n, initial_epoch=self.epochs_done,
                               epochs=self.epochs_done + epochs, shuffle=False,
                               verbose=self.verbose)
                self.epochs_done += epochs
        if "://" not in self.work_dir:
            os.makedirs(self.work_dir, exist_ok=True)
        self.model.save_weights(os.path.join(self.work_dir, "model.weights.h5"))
        return self

    def evaluate(self, input_fn: Callable[..., Any], steps: int | None = None,
                 hooks: Any = None, checkpoint_path: str | None = None,
                 name: str | None = None) -> dict[str, float]:
        """Evaluates on `steps` batches of ``input_fn({'batch_size': val_bs})`` (all of
        them if None; the seed's val_bs is the whole test set, so steps=1). Returns
        ``{'accuracy', 'loss', 'global_step'}``; the loss uses the training reduction
        (the seed's SUM: summed over the batch)."""
        if hooks or checkpoint_path or name:
            raise NotImplementedError(
                "hooks, checkpoint_path and name are not supported: load weights with "
                "est.model.load_weights(path) and call evaluate again."
            )
        if self.model is None:
            raise ValueError(
                "nothing to evaluate yet: call est.train(input_fn, steps=...) first "
                "(TPUEstimator also needed a trained checkpoint)."
            )
        if steps is not None:
            steps = _positive_int("steps", steps)
        data = _input(input_fn, self.val_bs)
        arrays = _arrays(data)
        if arrays is not None:
            data = _batches(*arrays, self.val_bs, shuffle=False)
            steps = steps or math.ceil(len(arrays[0]) / self.val_bs)
        elif not _is_dataset(data):
            raise TypeError(
                "the input function must return a tf.data.Dataset of (images, labels) "
                f"batches or a tuple of NumPy arrays (x, y); it returned "
                f"{type(data).__name__}."
            )
        result = self.model.evaluate(data, steps=steps, verbose=0, return_dict=True)
        return {"accuracy": float(result["accuracy"]), "loss": float(result["loss"]),
                "global_step": self.global_step}


#: TPUEstimator/RunConfig settings that have no meaning here, and what to do instead.
_TPU_ONLY = {
    "use_tpu": "there is no TPU switch: Keras runs on the device the backend sees",
    "tpu": "there is no TPU cluster to name: Keras runs on the device the backend sees",
    "iterations_per_loop": "Keras compiles the train step; nothing to set",
    "config": "no RunConfig: the estimator logs one line per epoch",
    "params": "input functions receive {'batch_size': ...} as in 2019",
}


def get_tpu_estimator(n_trn: int, n_val: int, model_func: ClfModelFunc, work_dir: str,
                      ws_dir: str | None = None, ws_vars: Any = None, trn_bs: int = 128,
                      val_bs: int | None = None, *, verbose: int = 2,
                      **tpu_kwargs: Any) -> KerasEstimator:
    """The seed's `fw.tpuest.get_tpu_estimator(n_train, n_test, model_func, work_dir,
    trn_bs=...)` (Appendix): an estimator whose `train` / `evaluate` run the Keras model
    of `model_func` (from `get_clf_model_func`) with training batches of `trn_bs` and
    evaluation batches of `val_bs` (default: all `n_val` images at once, as in 2019).
    One epoch is ``n_trn // trn_bs`` steps. `verbose` is Keras's (2: a line per epoch).
    """
    if tpu_kwargs:
        key = next(iter(tpu_kwargs))
        why = _TPU_ONLY.get(key, "TPUEstimator settings have no Keras counterpart here")
        raise TypeError(f"get_tpu_estimator() does not take {key!r}: {why}.")
    if ws_dir is not None or ws_vars is not None:
        raise NotImplementedError(
            "warm starts are not supported: load weights in build_nn (model."
            "load_weights(path)) or call est.model.load_weights(path) after est.train."
        )
    if not isinstance(model_func, ClfModelFunc):
        raise TypeError(
            "model_func must come from fw.tpuest.get_clf_model_func(build_nn, opt_func)"
            "; a TensorFlow 1 model_fn(features, labels, mode, params) cannot run on "
            "Keras 3."
        )
    n_trn, n_val = _positive_int("n_trn", n_trn), _positive_int("n_val", n_val)
    trn_bs = _positive_int("trn_bs", trn_bs)
    if trn_bs > n_trn:
        raise ValueError(f"trn_bs={trn_bs} is larger than the {n_trn} training images.")
    val_bs = n_val if val_bs is None else _positive_int("val_bs", val_bs)
    if not isinstance(work_dir, str | os.PathLike) or not os.fspath(work_dir):
        raise ValueError("work_dir must name a folder, e.g. the seed's work_dir.")
    return KerasEstimator(n_trn, n_val, model_func, os.fspath(work_dir), trn_bs, val_bs,
                          verbose)
