"""fenwicks_lite.keras_runner (chapters 8 and 9): the `model.fit` path feeds exactly the batches
of `fw.pipeline.DeviceDataset` (one epoch seed, one step seed for the whole library), and it
reports that it compiled. Its full runs are in test_fit.py."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from fenwicks_lite import data as fw_data
from fenwicks_lite import fit, keras_runner, pipeline

pytestmark = pytest.mark.backend


def test_batches_are_the_device_datasets():
    (x, y), (xt, _) = fw_data.synthetic_cifar10(200, 64, seed=3)
    cfg = fit.TrainConfig.from_profile("quick", width=8, batch_size=64, seed=7, verbose=0)
    mean, std = fw_data.channel_stats(x)
    model, opt = fit.build(cfg, 3)
    runner = keras_runner.KerasRunner(model, opt, cfg, mean, std, x, y, xt, 1)
    dev = pipeline.DeviceDataset(fw_data.normalize(x, mean, std), y, 64, seed=7,
                                 cutout=cfg.cutout)
    for epoch in (0, 2):
        np.testing.assert_array_equal(runner.order(epoch), dev.epoch_indices(epoch))
        ours = list(runner._dataset(epoch))
        theirs = list(dev.epoch(epoch))
        assert len(ours) == len(theirs) == runner.steps == 3
        for (xa, ya), (xb, yb) in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(keras.ops.convert_to_numpy(xa),
                                       keras.ops.convert_to_numpy(xb), atol=1e-5)
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(ya),
                                          keras.ops.convert_to_numpy(yb))


def test_compile_reports_seconds_and_leaves_the_weights():
    (x, y), (xt, _) = fw_data.synthetic_cifar10(128, 64, seed=3)
    cfg = fit.TrainConfig.from_profile("quick", width=8, batch_size=64, verbose=0)
    mean, std = fw_data.channel_stats(x)
    model, opt = fit.build(cfg, 2)
    runner = keras_runner.KerasRunner(model, opt, cfg, mean, std, x, y, xt, 1)
    before = runner.state()
    seconds, compiled = runner.compile(before)
    assert seconds >= 0 and compiled is True
    for a, b in zip(sum(before, []), sum(runner.state(), []), strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_jax_batches_end_where_the_epoch_does():
    """On JAX an epoch's batches are a PyDataset: past its last batch it raises IndexError, so a
    plain `for` over it ends (Keras < 3.11's PyDataset has no __iter__; Python then indexes on until
    IndexError, and empty batches came for ever)."""
    if keras.backend.backend() != "jax":
        pytest.skip("TensorFlow's batches are a tf.data pipeline")
    (x, y), (xt, _) = fw_data.synthetic_cifar10(200, 64, seed=3)
    cfg = fit.TrainConfig.from_profile("quick", width=8, batch_size=64, seed=7, verbose=0)
    mean, std = fw_data.channel_stats(x)
    model, opt = fit.build(cfg, 3)
    batches = keras_runner.KerasRunner(model, opt, cfg, mean, std, x, y, xt, 1)._dataset(0)
    assert len(batches) == 3 and batches[2][0].shape == (64, 32, 32, 3)
    for past in (3, -1):
        with pytest.raises(IndexError, match=f"batch {past} of 3"):
            batches[past]
