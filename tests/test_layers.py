"""fenwicks_lite.layers (Chapter 6): DavidNet's shapes, parameter count, init, FLOPs, the seed's build_nn, saving.

Backend-agnostic: run under TensorFlow and under JAX with TensorFlow blocked.
"""

from __future__ import annotations

import math
import types

import keras
import numpy as np
import pytest

import fenwicks_lite as fw
from fenwicks_lite import layers

pytestmark = pytest.mark.backend


def _conv(c_in: int, c_out: int) -> int:
    """Weights of a 3x3 conv without bias."""
    return 9 * c_in * c_out


def expected_params(c: int, n_classes: int = 10) -> tuple[int, int]:
    """(trainable, non-trainable) of DavidNet, counted by hand: BN has 2 trainable + 2 moving per channel."""
    convs = [(3, c), (c, 2 * c), (2 * c, 2 * c), (2 * c, 2 * c), (2 * c, 4 * c), (4 * c, 8 * c),
             (8 * c, 8 * c), (8 * c, 8 * c)]
    bn_channels = sum(out for _, out in convs)
    trainable = sum(_conv(i, o) for i, o in convs) + 2 * bn_channels + 8 * c * n_classes
    return trainable, 2 * bn_channels


def _count(weights) -> int:
    return int(sum(np.prod(w.shape) for w in weights))


@pytest.mark.parametrize("c", [1, 4, 16])
def test_output_and_block_shapes(c):
    model = layers.davidnet(c)
    x = np.random.default_rng(0).normal(size=(3, 32, 32, 3)).astype("float32")
    assert tuple(model(x, training=False).shape) == (3, 10)
    shape = (3, 32, 32, 3)
    got = []
    for layer in model.layers:
        shape = tuple(layer.compute_output_shape(shape))
        got.append(shape)
    assert got == [(3, 32, 32, c), (3, 16, 16, 2 * c), (3, 8, 8, 4 * c), (3, 4, 4, 8 * c), (3, 8 * c), (3, 10)]


@pytest.mark.parametrize("c", [2, 8, 64])
def test_exact_parameter_count(c):
    model = layers.davidnet(c)
    trainable, non_trainable = expected_params(c)
    assert _count(model.trainable_weights) == trainable
    assert _count(model.non_trainable_weights) == non_trainable
    if c == 64:  # Page's ResNet-9: 6,573,120 trainable parameters
        assert trainable == 6_573_120 and model.count_params() == 6_577_600


def test_batchnorm_uses_pytorch_settings():
    bns = [lyr for lyr in _leaves(layers.davidnet(4)) if isinstance(lyr, keras.layers.BatchNormalization)]
    assert len(bns) == 8
    assert all(b.momentum == 0.9 and b.epsilon == 1e-5 for b in bns)


def _leaves(layer):
    found = []
    layers.walk_layers(layer, (1, 32, 32, 3), lambda leaf, i, o: found.append(leaf))
    return found


def test_init_pytorch_bound_and_fresh_values():
    keras.utils.set_random_seed(1)
    model = layers.davidnet(16)
    kernels = [lyr.kernel for lyr in _leaves(model) if isinstance(lyr, keras.layers.Conv2D | keras.layers.Dense)]
    assert len(kernels) == 9
    for k in kernels:
        w = keras.ops.convert_to_numpy(k)
        bound = 1 / math.sqrt(np.prod(w.shape[:-1]))
        assert np.abs(w).max() <= bound * (1 + 1e-6)
        assert np.abs(w).max() > 0.95 * bound  # uniform fills the interval: thousands of draws reach its edge
        assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound  # the std of uniform(-a, a) is a / sqrt(3)
    # two same-shape kernels (the residual convs) get different values: the shared initializer is not frozen
    res = [lyr for lyr in _leaves(model.layers[1]) if isinstance(lyr, keras.layers.Conv2D)][1:]
    assert not np.allclose(keras.ops.convert_to_numpy(res[0].kernel), keras.ops.convert_to_numpy(res[1].kernel))


def test_init_pytorch_equals_variance_scaling_third_bound_and_is_reproducible():
    shape = (3, 3, 64, 128)
    limit = math.sqrt(3 * (1 / 3) / (3 * 3 * 64))  # VarianceScaling(1/3, fan_in, uniform)'s limit
    assert limit == pytest.approx(1 / math.sqrt(layers.fan_in(shape)))
    keras.utils.set_random_seed(7)
    a = keras.ops.convert_to_numpy(fw.layers.init_pytorch(shape))
    keras.utils.set_random_seed(7)
    b = keras.ops.convert_to_numpy(fw.layers.init_pytorch(shape))
    np.testing.assert_array_equal(a, b)
    assert np.abs(a).max() <= limit


def test_seed_build_nn_runs_unchanged():
    """The seed's code, verbatim but for `tf`: under JAX there is no TensorFlow, so `tf.keras` is Keras 3."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
    else:
        tf = types.SimpleNamespace(keras=keras)  # TensorFlow is blocked in the JAX run
    n_classes = 10

    def build_nn(c=64, weight=0.125):
        model = fw.Sequential()
        model.add(fw.layers.ConvBN(c, **fw.layers.PYTORCH_CONV_PARAMS))
        model.add(fw.layers.ConvResBlk(c*2, res_convs=2, **fw.layers.PYTORCH_CONV_PARAMS))
        model.add(fw.layers.ConvBlk(c*4, **fw.layers.PYTORCH_CONV_PARAMS))
        model.add(fw.layers.ConvResBlk(c*8, res_convs=2, **fw.layers.PYTORCH_CONV_PARAMS))
        model.add(tf.keras.layers.GlobalMaxPool2D())
        model.add(fw.layers.Classifier(n_classes, kernel_initializer=fw.layers.init_pytorch, weight=weight))
        return model

    model = build_nn(c=8)
    out = model(np.zeros((2, 32, 32, 3), "float32"), training=False)
    assert tuple(out.shape) == (2, 10)
    assert _count(model.trainable_weights) == expected_params(8)[0]


def test_classifier_scales_logits():
    clf = layers.Classifier(10, kernel_initializer="ones", weight=0.125)
    x = np.arange(12, dtype="float32").reshape(2, 6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(clf(x)), 0.125 * x.sum(1, keepdims=True) * np.ones((2, 10)))


def test_save_and_reload_gives_identical_outputs(tmp_path):
    model = layers.davidnet(4)
    x = np.random.default_rng(1).normal(size=(4, 32, 32, 3)).astype("float32")
    model(x, training=True)  # moves the BatchNorm statistics away from their initial values
    before = keras.ops.convert_to_numpy(model(x, training=False))
    path = tmp_path / "davidnet.keras"
    model.save(path)
    again = keras.models.load_model(path)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(again(x, training=False)), before)
    assert [type(lyr).__name__ for lyr in again.layers] == [type(lyr).__name__ for lyr in model.layers]


def test_blocks_round_trip_their_config():
    blk = layers.ConvResBlk(8, pool=keras.layers.AveragePooling2D(2), res_convs=3,
                            kernel_initializer=layers.init_pytorch, bn_mom=0.9, bn_eps=1e-5)
    again = layers.ConvResBlk.from_config(blk.get_config())
    assert isinstance(again.pool, keras.layers.AveragePooling2D) and len(again.res) == 3
    assert isinstance(again.kernel_initializer, layers.PyTorchUniform)
    default = layers.ConvBlk.from_config(layers.ConvBlk(8).get_config())
    assert isinstance(default.pool, keras.layers.MaxPooling2D)


def test_flops_exact_and_by_hand_for_one_layer():
    prep = layers.ConvBN(64)
    assert layers.flops_per_image(prep) == 2 * 32 * 32 * 3 * 3 * 3 * 64 == layers.conv_flops(32, 32, 3, 3, 64)
    c = 64
    by_hand = (layers.conv_flops(32, 32, 3, 3, c) + layers.conv_flops(32, 32, 3, c, 2 * c)
               + 2 * layers.conv_flops(16, 16, 3, 2 * c, 2 * c) + layers.conv_flops(16, 16, 3, 2 * c, 4 * c)
               + layers.conv_flops(8, 8, 3, 4 * c, 8 * c) + 2 * layers.conv_flops(4, 4, 3, 8 * c, 8 * c)
               + layers.dense_flops(8 * c, 10))
    assert layers.flops_per_image(layers.davidnet(c)) == by_hand
    # FLOPs scale with c^2 except the first conv and the classifier (linear in c)
    assert layers.flops_per_image(layers.davidnet(32)) < layers.flops_per_image(layers.davidnet(64)) / 3.9


def test_receptive_field():
    # prep 3; layer1 conv +2, pool +1 (jump 2), res +4 +4; layer2 conv +4, pool +2 (jump 4);
    # layer3 conv +8, pool +4 (jump 8), res +16 +16 -> 64 pixels, jump 8
    assert layers.receptive_field(layers.davidnet(2)) == (64, 8)
    assert layers.receptive_field(layers.ConvBN(4)) == (3, 1)


@pytest.mark.parametrize("make, match", [
    (lambda: layers.ConvBN(0), "c \\(output channels\\) must be an integer >= 1"),
    (lambda: layers.ConvBN(8, bn_mom=1.0), "PyTorch's momentum 0.1 is Keras's 0.9"),
    (lambda: layers.ConvBN(8, bn_eps=0), "bn_eps must be > 0"),
    (lambda: layers.ConvBlk(8, convs=0), "convs must be an integer >= 1"),
    (lambda: layers.ConvResBlk(8, res_convs=2.5), "res_convs must be an integer"),
    (lambda: layers.Classifier(1), "n_classes must be an integer >= 2"),
    (lambda: layers.Scaling(0.0), "weight must be a finite number > 0"),
    (lambda: layers.davidnet(c=-1), "base width"),
    (lambda: layers.fan_in((5,)), "rank >= 2"),
])
def test_bad_arguments_say_what_to_do(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_walk_layers_visits_leaves_in_forward_order_with_shapes():
    model = layers.davidnet(4)
    seen = []
    out = layers.walk_layers(model, (2, 32, 32, 3), lambda leaf, i, o: seen.append((leaf, i, o)))
    assert out == (2, 10)
    kinds = [type(leaf).__name__ for leaf, _, _ in seen]
    # prep, layer1 (conv, pool, 2 residual convs), layer2 (conv, pool), layer3 (like layer1)
    conv_bn = ["Conv2D", "BatchNormalization", "ReLU"]
    residual = [*conv_bn, "MaxPooling2D", *conv_bn, *conv_bn]
    assert kinds == [*conv_bn, *conv_bn, *residual[3:], *conv_bn, "MaxPooling2D",
                     *conv_bn, *residual[3:], "GlobalMaxPooling2D", "Dense", "Scaling"]
    assert seen[0][1] == (2, 32, 32, 3) and seen[0][2] == (2, 32, 32, 4)
    for (_, _, o), (_, i, _) in zip(seen[:-1], seen[1:], strict=True):
        assert o == i  # each leaf starts where the previous one ended


def test_numpy_integer_sizes_are_accepted_as_the_seed_passed_them():
    """The seed built the classifier with n_classes = y_train.max() + 1, a NumPy int."""
    head = layers.Classifier(np.int64(10), weight=0.125)
    assert head.n_classes == 10 and type(head.n_classes) is int
    assert head.get_config()["n_classes"] == 10
    with pytest.raises(ValueError, match="n_classes must be an integer >= 2"):
        layers.Classifier(np.int64(1))
    with pytest.raises(ValueError, match="integer >= 2"):
        layers.Classifier(True)


def test_counts_refuse_a_functional_model_instead_of_reading_zero():
    """A functional model hides its layers from walk_layers: before, flops_per_image
    read 0 and receptive_field (1, 1) for it, silently."""
    inp = keras.Input((32, 32, 3))
    out = keras.layers.Dense(10)(keras.layers.GlobalMaxPooling2D()(
        keras.layers.Conv2D(8, 3, padding="same")(inp)))
    functional = keras.Model(inp, out, name="mine")
    for count in (layers.flops_per_image, layers.receptive_field):
        with pytest.raises(TypeError, match="'mine' is a functional or subclassed model"):
            count(functional)
    # the same layers as a Sequential are counted: 2 * 32*32 * 3*3*3 * 8 + 2 * 8 * 10
    seq = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Conv2D(8, 3, padding="same"),
                            keras.layers.GlobalMaxPooling2D(), keras.layers.Dense(10)])
    assert layers.flops_per_image(seq) == 2 * 32 * 32 * 27 * 8 + 2 * 8 * 10
