"""The learning-rate schedule and the optimizer (Chapter 7, The schedule and SGD).

Readers call them by the 2019 names, which `fenwicks_lite.train` re-exports:

    lr_func = fw.train.triangular_lr(LEARNING_RATE / BATCH_SIZE, total_steps,
                                     warmup_steps=WARMUP * steps_per_epoch)
    opt = fw.train.sgd_optimizer(lr_func, mom=MOMENTUM, wd=WEIGHT_DECAY * BATCH_SIZE)

Both are backend-agnostic Keras 3 objects (a `LearningRateSchedule` and an `Optimizer`
written with `keras.ops`), serializable, and run inside a jit-compiled train step on
TensorFlow and JAX. This module sits below the training loop (`fenwicks_lite.fit`,
Chapter 9), which uses them; it imports nothing of the loop.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from fenwicks_lite.pipeline import steps_per_epoch as _steps_per_epoch

#: the package name the schedules are registered under for Keras serialization.
PACKAGE = "fenwicks_lite"


# ----------------------------------------------------------------- argument checks

def _as_steps(name: str, value: Any, minimum: int = 0) -> int:
    """`value` as an int step count; a fractional float is an error, not rounded."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not math.isfinite(value)):
        raise ValueError(f"{name} must be a whole number of steps, got {value!r}")
    if value != int(value):
        raise ValueError(
            f"{name} must be a whole number of steps, got {value!r}: round it yourself "
            f"(e.g. round(warmup_epochs * steps_per_epoch)) or use "
            f"fw.train.schedule_steps.")
    if int(value) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)


def _non_negative(name: str, value: Any, hint: str = "") -> float:
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not math.isfinite(value) or value < 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}{hint}")
    return float(value)


# ------------------------------------------------------------------------ schedule

def schedule_steps(n_train: int, batch_size: int, epochs: float,
                   warmup_epochs: float) -> tuple[int, int, int]:
    """``(steps_per_epoch, total_steps, warmup_steps)`` for the triangular schedule.

    As in the seed, an epoch is ``n_train // batch_size`` full batches
    (`fw.pipeline.steps_per_epoch`: the last partial batch is dropped, so every step has
    the same batch size, which the SUM-loss convention needs). The warm-up is rounded to
    whole steps. Chapter 7.
    """
    n_train = _as_steps("n_train", n_train, minimum=1)
    batch_size = _as_steps("batch_size", batch_size, minimum=1)
    steps_per_epoch = _steps_per_epoch(n_train, batch_size)
    total = round(epochs * steps_per_epoch)
    warmup = round(warmup_epochs * steps_per_epoch)
    if total < 1:
        raise ValueError(f"epochs={epochs!r} gives no training step "
                         f"({steps_per_epoch} steps per epoch)")
    return steps_per_epoch, total, warmup


def _triangle_steps(total_steps: Any, warmup_steps: Any) -> tuple[int, int]:
    """`total_steps` and `warmup_steps` of a triangle, checked: warm-up shorter than the
    whole (shared by `TriangularLR` and `OneCycleLR`)."""
    total = _as_steps("total_steps", total_steps, minimum=1)
    warmup = _as_steps("warmup_steps", warmup_steps, minimum=0)
    if warmup >= total:
        raise ValueError(
            f"warmup_steps={warmup_steps!r} must be smaller than "
            f"total_steps={total_steps!r}: the learning rate has to come down "
            "again (Page: 5 of 24 epochs warm-up).")
    return total, warmup


@keras.saving.register_keras_serializable(package=PACKAGE)
class TriangularLR(keras.optimizers.schedules.LearningRateSchedule):
    """One triangle: 0 -> `peak_lr` linearly over `warmup_steps`, then linearly to 0 at
    `total_steps`.

    Page's "one-cycle"-style schedule (Smith 2017, 2018): the warm-up lets BatchNorm
    statistics and the momentum buffer settle before large steps, and the long linear
    decay anneals to a sharp minimum. The learning rate at step `s` (the optimizer's
    iteration count before the update, starting at 0) is ``peak * s / warmup`` for
    s < warmup and ``peak * (total - s) / (total - warmup)`` after, never below 0.

    Chapter 7, "The triangular schedule" draws it.
    """

    def __init__(self, peak_lr: float, total_steps: int, warmup_steps: int) -> None:
        self.peak_lr = _non_negative("peak_lr (the learning rate)", peak_lr)
        self.total_steps, self.warmup_steps = _triangle_steps(total_steps, warmup_steps)

    def __call__(self, step: Any) -> Any:
        s = ops.cast(step, "float32")
        # max(): no 0/0 when there is no warm-up
        up = self.peak_lr * s / max(self.warmup_steps, 1)
        down = (self.peak_lr * (self.total_steps - s)
                / (self.total_steps - self.warmup_steps))
        return ops.maximum(ops.where(s < self.warmup_steps, up, down), 0.0)

    def get_config(self) -> dict[str, Any]:
        return {"peak_lr": self.peak_lr, "total_steps": self.total_steps,
                "warmup_steps": self.warmup_steps}


def triangular_lr(peak_lr: float, total_steps: int, warmup_steps: int) -> TriangularLR:
    """The seed's `fw.train.triangular_lr`: a `TriangularLR` schedule (Chapter 7)."""
    return TriangularLR(peak_lr, total_steps, warmup_steps)


@keras.saving.register_keras_serializable(package=PACKAGE)
class LinearDecay:
    """``lr * (decay_steps - min(step, decay_steps)) / decay_steps``: from `lr` at step
    0 straight down to 0 at `decay_steps`, then 0 (Chapter 7).

    What the seed's `linear_decay()` handed to `one_cycle_lr` (TF 1's
    `tf.train.polynomial_decay` with power 1 and end 0, no cycling), written with
    `keras.ops`. Called as ``decay(lr, step, decay_steps)``.
    """

    def __call__(self, lr: Any, step: Any, decay_steps: int) -> Any:
        left = decay_steps - ops.minimum(ops.cast(step, "float32"), decay_steps)
        return lr * left / decay_steps

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LinearDecay:
        return cls(**config)


def linear_decay() -> LinearDecay:
    """The seed's May 2019 `fw.train.linear_decay()`: the linear decay that
    `one_cycle_lr` takes (Chapter 7). It was the only decay the seed's library defined;
    with it `one_cycle_lr` is `triangular_lr`.
    """
    return LinearDecay()


@keras.saving.register_keras_serializable(package=PACKAGE)
class OneCycleLR(keras.optimizers.schedules.LearningRateSchedule):
    """A linear warm-up from 0 to `init_lr` over `warmup_steps`, then
    ``decay_sched(init_lr, step - warmup_steps, total_steps - warmup_steps)``
    (Chapter 7).

    The seed's May 2019 form of the triangle: the descent is a function of its own
    (`decay_sched`), so that other tutorials could pass a cosine. `decay_sched` is any
    function ``(lr, step, decay_steps) -> learning rate`` written with `keras.ops`,
    e.g. `linear_decay()`; with that, every step gives what `TriangularLR` gives.
    """

    def __init__(self, init_lr: float, total_steps: int, warmup_steps: int,
                 decay_sched: Callable) -> None:
        self.init_lr = _non_negative("init_lr (the peak learning rate)", init_lr)
        self.total_steps, self.warmup_steps = _triangle_steps(total_steps, warmup_steps)
        self.decay_sched = _check_decay(decay_sched, self.init_lr,
                                        self.total_steps - self.warmup_steps)

    def __call__(self, step: Any) -> Any:
        s = ops.cast(step, "float32")
        w = self.warmup_steps
        down = self.decay_sched(self.init_lr, s - w, self.total_steps - w)
        if w == 0:
            return down
        return ops.where(s < w, self.init_lr * s / w, down)

    def get_config(self) -> dict[str, Any]:
        return {"init_lr": self.init_lr, "total_steps": self.total_steps,
                "warmup_steps": self.warmup_steps,
                "decay_sched": keras.saving.serialize_keras_object(self.decay_sched)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> OneCycleLR:
        decay = keras.saving.deserialize_keras_object(config.pop("decay_sched"))
        return cls(decay_sched=decay, **config)


def _check_decay(decay_sched: Any, lr: float, decay_steps: int) -> Callable:
    """`decay_sched` if it gives one number for ``(lr, step, decay_steps)``, else a
    ValueError that says what to pass."""
    what = ("decay_sched must be a function (lr, step, decay_steps) -> learning rate "
            "written with keras.ops, such as fw.train.linear_decay()")
    if decay_sched is None or not callable(decay_sched):
        raise ValueError(f"{what}; got {decay_sched!r}.")
    try:
        value = decay_sched(lr, ops.convert_to_tensor(0.0), decay_steps)
        value = np.asarray(ops.convert_to_numpy(value), dtype=np.float64)
    except Exception as e:  # noqa: BLE001 - any failure gets the same advice
        raise ValueError(
            f"{what}; {decay_sched!r} failed on (lr={lr}, step=0, "
            f"decay_steps={decay_steps}): {type(e).__name__}: {e}. TF 1's "
            "tf.train.*_decay functions (the seed's other tutorials passed "
            "tf.train.cosine_decay_restarts) do not run in Keras 3.") from e
    if value.shape != ():
        raise ValueError(f"{what}; {decay_sched!r} gave shape {value.shape} at "
                         "step 0, not one number.")
    return decay_sched


def one_cycle_lr(init_lr: float, total_steps: int, warmup_steps: int,
                 decay_sched: Callable) -> OneCycleLR:
    """The seed's May 2019 `fw.train.one_cycle_lr`: warm-up, then `decay_sched`
    (Chapter 7). ``one_cycle_lr(peak, total, warmup, linear_decay())`` equals
    ``triangular_lr(peak, total, warmup)``, April's name of the same schedule.
    """
    return OneCycleLR(init_lr, total_steps, warmup_steps, decay_sched)


# ----------------------------------------------------------------------- optimizer

@keras.saving.register_keras_serializable(package=PACKAGE)
class NesterovSGD(keras.optimizers.Optimizer):
    """PyTorch's `torch.optim.SGD` (Page's and the seed's optimizer) as a Keras 3
    optimizer (Chapter 7).

    For each trainable variable w with gradient grad, at learning rate lr (dampening 0):

        g = grad + wd * w   # *coupled* L2 weight decay: part of the gradient
        b = mom * b + g     # momentum buffer; b starts at 0: the first step gives b = g
        g = g + mom * b     # Nesterov (with nesterov=False: g = b)
        w = w - lr * g

    Why not `keras.optimizers.SGD(weight_decay=...)`? Keras's weight decay is
    *decoupled* (w -= lr * wd * w, outside the momentum), and Keras keeps lr *inside*
    its velocity (v = mom * v - lr * g), so when the learning rate changes every step -
    as it does here - old gradients keep their old learning rates. Chapter 7 shows it.

    Every trainable variable is decayed, BatchNorm's gamma and beta included, as in
    Page's code (his optimizer got all parameters); BatchNorm's moving statistics are
    not trainable and never touched.
    """

    def __init__(self, learning_rate: Any = 0.01, momentum: float = 0.9,
                 l2: float = 0.0, nesterov: bool = True, name: str = "nesterov_sgd",
                 **kwargs: Any) -> None:
        if kwargs.get("weight_decay"):
            raise ValueError(
                "NesterovSGD's decay is coupled L2: pass l2= (or wd= to "
                "fw.train.sgd_optimizer); Keras's weight_decay= is the decoupled kind "
                "(see Chapter 7).")
        kwargs.pop("weight_decay", None)
        if isinstance(learning_rate, numbers.Real):
            _non_negative("learning_rate", learning_rate)
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if (isinstance(momentum, bool) or not isinstance(momentum, numbers.Real)
                or not 0 <= momentum < 1):
            raise ValueError(
                f"momentum must be a number in [0, 1) (Page: 0.9), got {momentum!r}")
        self.momentum = float(momentum)
        self.l2 = _non_negative("weight decay (l2 / wd)", l2,
                                " (Page: 5e-4 with a MEAN loss)")
        if nesterov and self.momentum == 0:
            raise ValueError("Nesterov momentum needs momentum > 0 (as in PyTorch); "
                             "pass nesterov=False")
        self.nesterov = bool(nesterov)

    def build(self, var_list: list) -> None:
        if self.built:
            return
        super().build(var_list)
        self.momentums = [self.add_variable_from_reference(v, "momentum")
                          for v in var_list]

    def update_step(self, gradient: Any, variable: Any, learning_rate: Any) -> None:
        lr = ops.cast(learning_rate, variable.dtype)
        g = ops.cast(gradient, variable.dtype)
        if self.l2:
            g = ops.add(g, ops.multiply(ops.cast(self.l2, variable.dtype), variable))
        b = self.momentums[self._get_variable_index(variable)]
        mom = ops.cast(self.momentum, variable.dtype)
        self.assign(b, ops.add(ops.multiply(mom, b), g))
        step = ops.add(g, ops.multiply(mom, b)) if self.nesterov else b
        self.assign_sub(variable, ops.multiply(lr, step))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("weight_decay", None)
        return {**config, "momentum": self.momentum, "l2": self.l2,
                "nesterov": self.nesterov}


def sgd_optimizer(lr_func: Any, mom: float = 0.9, wd: float = 0.0,
                  nesterov: bool = True) -> NesterovSGD:
    """The seed's `fw.train.sgd_optimizer`: Nesterov SGD with coupled L2 decay `wd`.

    `lr_func` is a schedule such as `triangular_lr(...)` or a fixed number. In the
    seed's SUM-loss convention pass ``lr / BATCH_SIZE`` and ``wd * BATCH_SIZE``; with a
    MEAN loss pass lr and wd as they are: the updates are identical (proof: Chapter 7).
    """
    return NesterovSGD(learning_rate=lr_func, momentum=mom, l2=wd, nesterov=nesterov)


def sgd_triangle_one_cycle(total_steps: int, lr: float, warmup_steps: int,
                           mom: float = 0.9) -> NesterovSGD:
    """The seed's first (April 11, 2019) `fw.train.sgd_triangle_one_cycle`: Nesterov
    SGD on the triangle, ``sgd_optimizer(triangular_lr(lr, total_steps,
    warmup_steps), mom=mom)`` without weight decay, as that version had none
    (Chapter 7).
    """
    return sgd_optimizer(triangular_lr(lr, total_steps, warmup_steps), mom=mom, wd=0.0)


def torch_sgd_numpy(w: np.ndarray, grad_fn: Callable[[np.ndarray], np.ndarray],
                    lrs: Sequence[float], mom: float = 0.9, wd: float = 0.0,
                    nesterov: bool = True) -> np.ndarray:
    """PyTorch's SGD in NumPy (float64), one step per entry of `lrs` (Chapter 7).

    `grad_fn(w)` is the loss gradient at the current weights. The lines follow
    `torch.optim.SGD`'s documented algorithm with dampening 0.
    """
    w = np.array(w, dtype=np.float64)
    b = np.zeros_like(w)
    for t, lr in enumerate(lrs):
        g = grad_fn(w) + wd * w
        b = g.copy() if t == 0 else mom * b + g
        g = g + mom * b if nesterov else b
        w = w - lr * g
    return w
