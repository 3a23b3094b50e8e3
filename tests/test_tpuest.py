"""The seed's TPUEstimator calls on Keras (fw.tpuest, Appendix).

Tests marked `backend` feed NumPy arrays and run under TensorFlow and JAX; the tf.data
ones need TensorFlow.
"""

from __future__ import annotations

import numpy as np
import pytest

from fenwicks_lite import layers, tpuest, train


def _data(n=96, seed=0):
    """Two linearly separable classes of 8 x 8 x 3 images: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, 8, 8, 3)).astype(np.float32) + (2.0 * y - 1)[:, None, None, None]
    return x, y


def _build_nn():
    import keras

    return keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(),
                             keras.layers.Dense(2, kernel_initializer="zeros")])


def _estimator(tmp_path, reduction="sum", lr=0.01, n=96, bs=32, **kw):
    opt_func = train.sgd_optimizer(lr, mom=0.9, wd=0.0)
    model_func = tpuest.get_clf_model_func(_build_nn, opt_func, reduction=reduction)
    return tpuest.get_tpu_estimator(n, n, model_func, str(tmp_path / "work"), trn_bs=bs,
                                    verbose=0, **kw)


@pytest.mark.backend
def test_train_takes_exactly_the_steps_asked_and_learns(tmp_path):
    x, y = _data()
    est = _estimator(tmp_path)
    assert est.steps_per_epoch == 3
    est.train(lambda params: (x, y), steps=7)  # 2 epochs of 3 steps + 1
    assert est.global_step == 7 and est.epochs_done == 3
    est.train(lambda params: (x, y), max_steps=9)
    assert est.global_step == 9
    est.train(lambda params: (x, y), max_steps=5)  # already past: nothing to do
    assert est.global_step == 9
    result = est.evaluate(lambda params: (x, y), steps=1)
    assert set(result) == {"accuracy", "loss", "global_step"} and result["global_step"] == 9
    assert result["accuracy"] > 0.9  # val_bs = n: one batch holds the whole set
    assert (tmp_path / "work" / "model.weights.h5").exists()


@pytest.mark.backend
def test_sum_and_mean_reductions_give_the_seeds_loss():
    """SUM adds the per-image losses, MEAN averages them (zero weights: log 2 each)."""
    x, y = _data(n=64)
    for reduction, expected in (("sum", 64 * np.log(2)), ("mean", np.log(2))):
        mf = tpuest.get_clf_model_func(_build_nn, train.sgd_optimizer(0.0), reduction)
        model = mf.compiled_model()
        loss = model.evaluate(x, y, batch_size=64, verbose=0, return_dict=True)["loss"]
        assert loss == pytest.approx(expected, rel=1e-5)


@pytest.mark.backend
def test_input_fn_gets_the_batch_size_as_params_like_tpuestimator(tmp_path):
    x, y = _data()
    seen = []

    def input_fn(params):
        seen.append(params["batch_size"])
        return x, y

    est = _estimator(tmp_path, bs=32, val_bs=48)
    est.train(input_fn, steps=1)
    est.evaluate(input_fn)
    est.evaluate(lambda: (x, y[:, None]))  # no params and (N, 1) labels work too
    assert seen == [32, 48]


@pytest.mark.backend
def test_the_seeds_davidnet_and_schedule_plug_in(tmp_path):
    """build_nn from fw.layers, triangular_lr and sgd_optimizer as the seed called them."""
    x = np.random.default_rng(0).normal(size=(16, 32, 32, 3)).astype(np.float32)
    y = np.arange(16) % 10
    lr_func = train.triangular_lr(0.4 / 8, total_steps=4, warmup_steps=1)
    opt_func = train.sgd_optimizer(lr_func, mom=0.9, wd=5e-4 * 8)
    model_func = tpuest.get_clf_model_func(lambda: layers.davidnet(4), opt_func,
                                           reduction="weighted_sum")
    est = tpuest.get_tpu_estimator(16, 16, model_func, str(tmp_path), trn_bs=8, verbose=0)
    est.train(lambda params: (x, y), steps=4)
    assert est.global_step == 4 and 0.0 <= est.evaluate(lambda p: (x, y))["accuracy"] <= 1


@pytest.mark.backend
def test_unsupported_calls_say_what_to_do(tmp_path):
    x, y = _data()
    mf = tpuest.get_clf_model_func(_build_nn, train.sgd_optimizer(0.1))
    est = tpuest.get_tpu_estimator(96, 96, mf, str(tmp_path), trn_bs=32)
    with pytest.raises(ValueError, match="train.*first"):
        est.evaluate(lambda p: (x, y))
    with pytest.raises(ValueError, match="exactly one of steps="):
        est.train(lambda p: (x, y))
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        est.train(lambda p: (x, y), steps=0)
    with pytest.raises(NotImplementedError, match="Keras callbacks"):
        est.train(lambda p: (x, y), steps=1, hooks=[object()])
    with pytest.raises(TypeError, match="tf.data.Dataset.*NumPy"):
        est.train(lambda p: [1, 2, 3], steps=1)
    with pytest.raises(TypeError, match="does not take 'use_tpu'"):
        tpuest.get_tpu_estimator(96, 96, mf, str(tmp_path), use_tpu=True)
    with pytest.raises(NotImplementedError, match="load_weights"):
        tpuest.get_tpu_estimator(96, 96, mf, str(tmp_path), ws_dir="gs://b/ckpt")
    with pytest.raises(TypeError, match="get_clf_model_func"):
        tpuest.get_tpu_estimator(96, 96, lambda f, lab, m, p: None, str(tmp_path))
    with pytest.raises(ValueError, match="larger than the 96"):
        tpuest.get_tpu_estimator(96, 96, mf, str(tmp_path), trn_bs=128)
    with pytest.raises(ValueError, match="reduction 'none'"):
        tpuest.get_clf_model_func(_build_nn, train.sgd_optimizer(0.1), reduction="none")
    with pytest.raises(TypeError, match="pass the function"):
        tpuest.get_clf_model_func(_build_nn(), train.sgd_optimizer(0.1))
    with pytest.raises(TypeError, match="Keras optimizer"):
        tpuest.get_clf_model_func(_build_nn, lambda: "sgd").compiled_model()


def test_a_tf_data_input_fn_as_the_seed_wrote_it(tmp_path):
    """TFRecords written from float arrays, read with the seed's parser call, batched by
    fw.io.tfrecord_ds with params['batch_size'], trained and evaluated."""
    tf = pytest.importorskip("tensorflow")
    from fenwicks_lite import io

    x, y = _data()
    train_fn, test_fn = str(tmp_path / "train.tfrec"), str(tmp_path / "test.tfrec")
    io.numpy_tfrecord(x, y, train_fn)
    io.numpy_tfrecord(x, y, test_fn)
    parser = lambda e: io.tfexample_numpy_image_parser(e, 8, 8)  # noqa: E731
    train_input_func = lambda params: io.tfrecord_ds(  # noqa: E731
        train_fn, parser, batch_size=params["batch_size"], training=True)
    eval_input_func = lambda params: io.tfrecord_ds(  # noqa: E731
        test_fn, parser, batch_size=params["batch_size"], training=False)
    est = _estimator(tmp_path, bs=32)
    est.train(train_input_func, steps=9)  # 3 passes over 3 batches: the data repeats
    result = est.evaluate(eval_input_func, steps=1)
    assert est.global_step == 9 and result["accuracy"] > 0.9
    assert isinstance(eval_input_func({"batch_size": 96}), tf.data.Dataset)
