"""DavidNet's building blocks, as the 2019 `fenwicks.layers` named them (Chapter 6, The
architecture).

David Page's ResNet-9 ("DavidNet", [Page, 2018]) is four blocks of 3x3 convolutions:

    prep   ConvBN(c)                                   32x32 x c
    layer1 ConvResBlk(2c) = ConvBN + max-pool + 2 ConvBN residual    16x16 x 2c
    layer2 ConvBlk(4c)    = ConvBN + max-pool                        8x8 x 4c
    layer3 ConvResBlk(8c)                                            4x4 x 8c
    head   global max-pool, Dense(10) without bias, logits x 0.125

The seed's `build_nn` runs unchanged with ``fw = fenwicks_lite``: `ConvBN`, `ConvBlk`,
`ConvResBlk`, `Classifier`, `init_pytorch` and `PYTORCH_CONV_PARAMS` keep their 2019
names and arguments.

Everything here is plain Keras 3 (Conv2D without bias, BatchNormalization, ReLU,
channels-last) and backend-agnostic: under ``KERAS_BACKEND=jax`` TensorFlow is never
imported, and no layer runs Python-side logic per step, so the whole model compiles into
one XLA program (Chapter 8). Every custom layer is registered as Keras-serializable: a
model saves to ``.keras`` and reloads with identical outputs.
"""

from __future__ import annotations

import math
import numbers
import random
from collections.abc import Callable
from typing import Any

import keras
from keras import ops

#: the package name the layers are registered under for Keras serialization.
PACKAGE = "fenwicks_lite"


# -------------------------------------------------------------------------- initializer

@keras.saving.register_keras_serializable(package=PACKAGE)
class PyTorchUniform(keras.initializers.Initializer):
    """PyTorch's default init of `nn.Conv2d` / `nn.Linear` weights:
    uniform(-1/sqrt(fan_in), +1/sqrt(fan_in)).

    Why (Chapter 6): Page's net was tuned in PyTorch, whose layers call
    ``kaiming_uniform_(w, a=sqrt(5))``: bound = gain * sqrt(3 / fan_in) with gain =
    sqrt(2 / (1 + 5)), i.e. exactly 1/sqrt(fan_in). Keras's default (Glorot uniform)
    uses fan_in + fan_out and gives other scales, and with the fixed 0.125 logit scale
    and the tuned learning rate the scale of the initial weights matters. In Keras terms
    it is ``VarianceScaling(scale=1/3, mode="fan_in", distribution="uniform")`` (limit =
    sqrt(3 * scale / fan_in)). fan_in is the product of all but the last kernel
    dimension: kh * kw * c_in for a conv kernel (kh, kw, c_in, c_out), n_in for a dense
    kernel (n_in, n_out).

    Unlike an unseeded Keras initializer (which returns the same values at every call),
    each call draws fresh numbers, so the one shared `init_pytorch` object gives every
    layer its own weights; the seed is drawn from Python's `random`, which
    `keras.utils.set_random_seed` seeds (reproducible runs).
    """

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed

    def __call__(self, shape: tuple[int, ...], dtype: Any = None) -> Any:
        bound = 1.0 / math.sqrt(fan_in(shape))
        seed = self.seed if self.seed is not None else random.randint(0, 2**31 - 1)
        return keras.random.uniform(
            shape, minval=-bound, maxval=bound, dtype=dtype, seed=seed
        )

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}

    def __repr__(self) -> str:  # printed in Chapter 6: no memory address
        return f"PyTorchUniform(seed={self.seed})"


def fan_in(shape: tuple[int, ...]) -> int:
    """Inputs feeding one output unit: the product of all kernel dimensions but the last
    (Chapter 6)."""
    if len(shape) < 2:
        raise ValueError(
            f"fan_in needs a kernel of rank >= 2 (dense or conv), got shape "
            f"{tuple(shape)}"
        )
    return int(math.prod(shape[:-1]))


#: The seed called it as a function, ``init_pytorch(shape, dtype)``; an initializer
#: object is one.
init_pytorch = PyTorchUniform()

#: BatchNorm in PyTorch's convention, written in Keras's. PyTorch updates running
#: statistics as ``running = (1 - momentum) * running + momentum * batch`` with momentum
#: 0.1; Keras writes ``moving = momentum * moving + (1 - momentum) * batch``, so the
#: same update is Keras momentum 0.9. Epsilon (added to the variance) means the same in
#: both: PyTorch's default 1e-5 (Keras's default: 1e-3).
PYTORCH_BN_MOM = 0.9
#: BatchNorm's epsilon, PyTorch's default (Keras's is 1e-3).
PYTORCH_BN_EPS = 1e-5
#: The seed's keyword set for every conv block: PyTorch's init and BatchNorm settings.
PYTORCH_CONV_PARAMS: dict[str, Any] = {
    "kernel_initializer": init_pytorch,
    "bn_mom": PYTORCH_BN_MOM,
    "bn_eps": PYTORCH_BN_EPS,
}
#: The 2019 library's other spelling of the same dictionary.
PYTORCH_PARAMS = PYTORCH_CONV_PARAMS

# Keras's own defaults, which the 2019 signatures kept (so `ConvBN(c)` alone is a
# Keras-style block).
_KERAS_BN_MOM = 0.99
_KERAS_BN_EPS = 1e-3


def _check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    """`value` as an int; NumPy integers too (the seed passed ``y_train.max() + 1``)."""
    integral = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if not integral or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_bn(bn_mom: float, bn_eps: float) -> None:
    if not 0.0 <= bn_mom < 1.0:
        raise ValueError(
            f"bn_mom={bn_mom!r} is Keras's BatchNorm momentum, in [0, 1): the weight "
            f"of the old running "
            "average. PyTorch's momentum 0.1 is Keras's 0.9 "
            "(fw.layers.PYTORCH_BN_MOM).")
    if bn_eps <= 0:
        raise ValueError(
            f"bn_eps must be > 0 (it keeps the division by sqrt(var + eps) finite), "
            f"got {bn_eps!r}"
        )


# ------------------------------------------------------------------------------- blocks

@keras.saving.register_keras_serializable(package=PACKAGE)
class ConvBN(keras.layers.Layer):
    """Conv2D (3x3, 'same', no bias) -> BatchNormalization -> ReLU: DavidNet's only kind
    of conv (Chapter 6).

    No bias: BatchNorm subtracts the batch mean right after, which would cancel any
    bias, and its beta is the bias. `bn_mom` / `bn_eps` are in Keras's convention (see
    `PYTORCH_BN_MOM`).
    """

    def __init__(
        self,
        c: int,
        kernel_size: int = 3,
        strides: int | tuple[int, int] = (1, 1),
        kernel_initializer: Any = "glorot_uniform",
        bn_mom: float = _KERAS_BN_MOM,
        bn_eps: float = _KERAS_BN_EPS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        _check_positive_int("c (output channels)", c)
        _check_bn(bn_mom, bn_eps)
        self.c, self.kernel_size, self.strides = c, kernel_size, strides
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bn_mom, self.bn_eps = bn_mom, bn_eps
        self.conv = keras.layers.Conv2D(
            c,
            kernel_size,
            strides=strides,
            padding="same",
            use_bias=False,
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name="conv",
        )
        self.bn = keras.layers.BatchNormalization(
            momentum=bn_mom, epsilon=bn_eps, dtype=self.dtype_policy, name="bn"
        )
        self.relu = keras.layers.ReLU(dtype=self.dtype_policy, name="relu")

    def build(self, input_shape: tuple) -> None:
        self.conv.build(input_shape)
        self.bn.build(self.conv.compute_output_shape(input_shape))
        self.relu.build(self.conv.compute_output_shape(input_shape))

    def call(self, x: Any, training: bool | None = None) -> Any:
        return self.relu(self.bn(self.conv(x), training=training))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return self.conv.compute_output_shape(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "c": self.c,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bn_mom": self.bn_mom,
            "bn_eps": self.bn_eps,
        }


@keras.saving.register_keras_serializable(package=PACKAGE)
class ConvBlk(keras.layers.Layer):
    """`convs` ConvBN layers then a pooling layer (default: 2x2 max-pool, halving height
    and width).

    Page's "layer2" is ``ConvBlk(4c)``; the residual blocks build on it (Chapter 6).
    """

    def __init__(
        self,
        c: int,
        pool: keras.layers.Layer | None = None,
        convs: int = 1,
        kernel_size: int = 3,
        kernel_initializer: Any = "glorot_uniform",
        bn_mom: float = _KERAS_BN_MOM,
        bn_eps: float = _KERAS_BN_EPS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        _check_positive_int("convs", convs)
        self.c, self.convs, self.kernel_size = c, convs, kernel_size
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bn_mom, self.bn_eps = bn_mom, bn_eps
        self.conv_bns = [
            ConvBN(
                c,
                kernel_size,
                kernel_initializer=self.kernel_initializer,
                bn_mom=bn_mom,
                bn_eps=bn_eps,
                dtype=self.dtype_policy,
                name=f"conv_bn_{i}",
            )
            for i in range(convs)
        ]
        self.pool = (
            pool
            if pool is not None
            else keras.layers.MaxPooling2D(dtype=self.dtype_policy, name="pool")
        )

    def _blk_shapes(self, input_shape: tuple) -> tuple:
        shape = input_shape
        for layer in self.conv_bns:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        self.pool.build(shape)
        return self.pool.compute_output_shape(shape)

    def build(self, input_shape: tuple) -> None:
        self._blk_shapes(input_shape)

    def call(self, x: Any, training: bool | None = None) -> Any:
        for layer in self.conv_bns:
            x = layer(x, training=training)
        return self.pool(x)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        shape = input_shape
        for layer in self.conv_bns:
            shape = layer.compute_output_shape(shape)
        return self.pool.compute_output_shape(shape)

    def get_config(self) -> dict[str, Any]:
        pool_default = (
            isinstance(self.pool, keras.layers.MaxPooling2D)
            and self.pool.name == "pool"
            and tuple(self.pool.pool_size) == (2, 2)
        )
        return {
            **super().get_config(),
            "c": self.c,
            "convs": self.convs,
            "kernel_size": self.kernel_size,
            "pool": None if pool_default else keras.layers.serialize(self.pool),
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bn_mom": self.bn_mom,
            "bn_eps": self.bn_eps,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ConvBlk:
        config = dict(config)
        if config.get("pool") is not None:
            config["pool"] = keras.layers.deserialize(config["pool"])
        return cls(**config)


@keras.saving.register_keras_serializable(package=PACKAGE)
class ConvResBlk(ConvBlk):
    """A `ConvBlk` whose pooled output h goes on as ``h + res(h)``, res = `res_convs`
    ConvBN layers.

    Page's "layer1" and "layer3" (Chapter 6): the residual path doubles the depth (and
    the receptive field growth) of the block while the identity path keeps gradients
    flowing (He et al. 2016).
    """

    def __init__(
        self,
        c: int,
        pool: keras.layers.Layer | None = None,
        convs: int = 1,
        res_convs: int = 2,
        kernel_size: int = 3,
        kernel_initializer: Any = "glorot_uniform",
        bn_mom: float = _KERAS_BN_MOM,
        bn_eps: float = _KERAS_BN_EPS,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            c,
            pool=pool,
            convs=convs,
            kernel_size=kernel_size,
            kernel_initializer=kernel_initializer,
            bn_mom=bn_mom,
            bn_eps=bn_eps,
            **kwargs,
        )
        _check_positive_int("res_convs", res_convs)
        self.res_convs = res_convs
        self.res = [
            ConvBN(
                c,
                kernel_size,
                kernel_initializer=self.kernel_initializer,
                bn_mom=bn_mom,
                bn_eps=bn_eps,
                dtype=self.dtype_policy,
                name=f"res_{i}",
            )
            for i in range(res_convs)
        ]

    def build(self, input_shape: tuple) -> None:
        shape = self._blk_shapes(input_shape)
        for layer in self.res:
            layer.build(shape)

    def call(self, x: Any, training: bool | None = None) -> Any:
        h = super().call(x, training=training)
        r = h
        for layer in self.res:
            r = layer(r, training=training)
        return h + r

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "res_convs": self.res_convs}


@keras.saving.register_keras_serializable(package=PACKAGE)
class Scaling(keras.layers.Layer):
    """Multiplies its input by a fixed, non-trainable `weight` (the seed's
    `fw.layers.Scaling`).

    Before a softmax this is a temperature: softmax(z * 0.125) = softmax(z / 8):
    Chapter 6, "The logit scale 0.125 is a softmax temperature".
    """

    def __init__(self, weight: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not math.isfinite(weight) or weight <= 0:
            raise ValueError(
                f"weight must be a finite number > 0 (a softmax temperature 1/weight), "
                f"got {weight!r}"
            )
        self.weight = float(weight)

    def call(self, x: Any) -> Any:
        return x * ops.cast(self.weight, x.dtype)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "weight": self.weight}


@keras.saving.register_keras_serializable(package=PACKAGE)
class Classifier(keras.layers.Layer):
    """Dense(n_classes) without bias, logits multiplied by `weight` (Page: 0.125)
    (Chapter 6).

    Why scale: the max-pooled features are large and the initial logits would make a
    confident softmax that trains slowly; 0.125 is a softmax temperature of 8 that Page
    found by hand.
    """

    def __init__(
        self,
        n_classes: int,
        kernel_initializer: Any = "glorot_uniform",
        weight: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.n_classes = _check_positive_int("n_classes", n_classes, minimum=2)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.dense = keras.layers.Dense(
            self.n_classes,
            use_bias=False,
            kernel_initializer=self.kernel_initializer,
            dtype=self.dtype_policy,
            name="dense",
        )
        self.scaling = Scaling(weight, dtype=self.dtype_policy, name="scaling")
        self.weight = self.scaling.weight

    def build(self, input_shape: tuple) -> None:
        self.dense.build(input_shape)

    def call(self, x: Any) -> Any:
        return self.scaling(self.dense(x))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return self.dense.compute_output_shape(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "n_classes": self.n_classes,
            "weight": self.weight,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }


# ------------------------------------------------------------------------------- models

#: CIFAR-10 images: 32 x 32 pixels, 3 channels, channels last.
INPUT_SHAPE = (32, 32, 3)


def davidnet(c: int = 64, n_classes: int = 10, weight: float = 0.125,
             input_shape: tuple[int, int, int] = INPUT_SHAPE) -> keras.Sequential:
    """Page's ResNet-9 as the seed's `build_nn` built it, with an Input so it is built
    at once (Chapter 6).

    `c` is the base width (Page: 64; the quick profile: `profile.width`); `weight` the
    logit scale. Returns logits (no softmax): the loss applies the softmax
    (``from_logits=True``).
    """
    _check_positive_int("c (base width)", c)
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            ConvBN(c, **PYTORCH_CONV_PARAMS, name="prep"),
            ConvResBlk(c * 2, res_convs=2, **PYTORCH_CONV_PARAMS, name="layer1"),
            ConvBlk(c * 4, **PYTORCH_CONV_PARAMS, name="layer2"),
            ConvResBlk(c * 8, res_convs=2, **PYTORCH_CONV_PARAMS, name="layer3"),
            keras.layers.GlobalMaxPool2D(name="pool"),
            Classifier(
                n_classes,
                kernel_initializer=init_pytorch,
                weight=weight,
                name="classifier",
            ),
        ],
        name="davidnet",
    )


# --------------------------------------------------------------- FLOPs, receptive field

def conv_flops(h_out: int, w_out: int, k: int, c_in: int, c_out: int) -> int:
    """FLOPs of one image through a k x k convolution: 2 (multiply + add) per weight per
    output pixel (Chapter 6, "FLOPs per image")."""
    return 2 * h_out * w_out * k * k * c_in * c_out


def dense_flops(n_in: int, n_out: int) -> int:
    """FLOPs of one input vector through a dense layer: 2 per weight (a helper of
    `flops_per_image`, Chapter 6, "FLOPs per image")."""
    return 2 * n_in * n_out


def walk_layers(
    layer: keras.layers.Layer,
    shape: tuple,
    visit: Callable[[keras.layers.Layer, tuple, tuple], None],
) -> tuple:
    """Calls ``visit(leaf, in_shape, out_shape)`` for each leaf layer in forward order;
    returns the output shape.

    Follows both paths of a residual block (the residual path starts at the pooled
    output). The walk behind `flops_per_image` and `receptive_field`; Chapter 6,
    "FLOPs per image" calls it to count activations.
    """
    if isinstance(layer, keras.Sequential):
        for sub in layer.layers:
            shape = walk_layers(sub, shape, visit)
        return shape
    if isinstance(layer, ConvBN):
        for sub in (layer.conv, layer.bn, layer.relu):
            shape = walk_layers(sub, shape, visit)
        return shape
    if isinstance(layer, ConvBlk):
        for sub in [*layer.conv_bns, layer.pool]:
            shape = walk_layers(sub, shape, visit)
        if isinstance(layer, ConvResBlk):
            res_shape = shape
            for sub in layer.res:
                res_shape = walk_layers(sub, res_shape, visit)
        return shape
    if isinstance(layer, Classifier):
        shape = walk_layers(layer.dense, shape, visit)
        return walk_layers(layer.scaling, shape, visit)
    if isinstance(layer, keras.Model):  # functional or subclassed: its graph is its own
        raise TypeError(
            f"{type(layer).__name__} {layer.name!r} is a functional or subclassed "
            "model: the FLOP and receptive-field counts follow keras.Sequential models "
            "of layers and fw.layers blocks only; build it as a keras.Sequential (as "
            "fw.layers.davidnet does)."
        )
    out = tuple(layer.compute_output_shape(shape))
    visit(layer, shape, out)
    return out


def flops_per_image(
    model: keras.layers.Layer, input_shape: tuple[int, int, int] = INPUT_SHAPE
) -> int:
    """Forward-pass FLOPs of one image: convolutions and dense layers (2 per
    multiply-add) (Chapter 6).

    BatchNorm, ReLU, pooling and the residual additions cost about one operation per
    activation, well under 1% of the total for DavidNet; they are left out, as is
    customary. A training step costs about three times this (forward, plus gradients
    with respect to inputs and weights).
    """
    total = 0

    def visit(leaf: keras.layers.Layer, shape_in: tuple, shape_out: tuple) -> None:
        nonlocal total
        if isinstance(leaf, keras.layers.Conv2D):
            kh, kw = leaf.kernel_size
            total += (
                2 * shape_out[1] * shape_out[2] * kh * kw * shape_in[-1] * shape_out[-1]
            )
        elif isinstance(leaf, keras.layers.Dense):
            total += dense_flops(shape_in[-1], shape_out[-1])

    walk_layers(model, (1, *input_shape), visit)
    return total


def receptive_field(
    model: keras.layers.Layer, input_shape: tuple[int, int, int] = INPUT_SHAPE
) -> tuple[int, int]:
    """(receptive field in pixels, jump) of the last spatial feature map, before any
    global pooling.

    The usual recursion (Chapter 6): a k x k layer with stride s grows the field by
    ``(k - 1) * jump``, then ``jump *= s``. A residual block's field is that of its
    longer path, the residual one, which starts at the pooled output: walking the main
    path and then the residual path in sequence gives exactly that.
    """
    field, jump = 1, 1

    def visit(leaf: keras.layers.Layer, shape_in: tuple, shape_out: tuple) -> None:
        nonlocal field, jump
        if isinstance(
            leaf,
            keras.layers.Conv2D
            | keras.layers.MaxPooling2D
            | keras.layers.AveragePooling2D,
        ):
            k = (
                leaf.kernel_size[0]
                if isinstance(leaf, keras.layers.Conv2D)
                else leaf.pool_size[0]
            )
            s = leaf.strides[0]
            field += (k - 1) * jump
            jump *= s

    walk_layers(model, (1, *input_shape), visit)
    return field, jump
