"""Input pipelines (fw.pipeline, Chapter 5): the on-device DeviceDataset (any backend) and the tf.data
`tfrecord_ds` (TensorFlow only), their guarantees and every documented bad input."""

from __future__ import annotations

import no_tensorflow
import numpy as np
import pytest

from fenwicks_lite import pipeline as P
from fenwicks_lite import transform as T

MEAN, STD = (125.0, 123.0, 114.0), (63.0, 62.0, 66.0)


def _np(x):
    from keras import ops

    return np.asarray(ops.convert_to_numpy(x))


def _data(n=300, h=8, w=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(1, 256, (n, h, w, 3)).astype(np.uint8), np.arange(n, dtype=np.int32)


# ---------------------------------------------------------------- DeviceDataset (backend-agnostic)

@pytest.mark.backend
def test_device_epochs_are_seeded_permutations_with_remainder_dropped():
    x, y = _data(300)
    d = P.DeviceDataset(x, y, 64, seed=3, mean=MEAN, std=STD)
    assert d.steps_per_epoch == len(d) == 4
    e0, e1 = d.epoch_indices(0), d.epoch_indices(1)
    assert e0.shape == (4, 64) and e0.dtype == np.int32
    assert len(np.unique(e0)) == 256 and e0.min() >= 0 and e0.max() < 300  # no repeats, 44 sit out
    assert not np.array_equal(e0, e1)
    assert np.array_equal(e0, P.DeviceDataset(x, y, 64, seed=3, mean=MEAN, std=STD).epoch_indices(0))
    assert not np.array_equal(e0, P.DeviceDataset(x, y, 64, seed=4, mean=MEAN, std=STD).epoch_indices(0))


@pytest.mark.backend
def test_device_batches_are_the_normalized_augmented_images_of_their_indices():
    x, y = _data(300)
    plain = P.DeviceDataset(x, y, 64, seed=1, augment=False, mean=MEAN, std=STD)
    aug = P.DeviceDataset(x, y, 64, seed=1, mean=MEAN, std=STD)
    idx = plain.epoch_indices(2)
    batches, aug_batches = list(plain.epoch(2)), list(aug.epoch(2))
    assert len(batches) == 4
    norm = (x.astype(np.float32) - np.float32(MEAN)) / np.float32(STD)
    for i, ((xb, yb), (xa, ya)) in enumerate(zip(batches, aug_batches, strict=True)):
        assert np.array_equal(_np(yb), y[idx[i]]) and np.array_equal(_np(ya), y[idx[i]])
        np.testing.assert_allclose(_np(xb), norm[idx[i]], rtol=1e-6, atol=1e-6)
        # the compiled step equals Chapter 4's augment_batch with the step's seed, eagerly
        want = _np(T.augment_batch(norm[idx[i]], T.step_seed(1, 2 * 4 + i)))
        np.testing.assert_allclose(_np(xa), want, rtol=1e-6, atol=1e-6)
        assert _np(xa).dtype == np.float32
    assert not np.allclose(_np(aug_batches[0][0]), _np(batches[0][0]))


@pytest.mark.backend
def test_device_accepts_normalized_floats_and_iterates_epoch_zero():
    x, y = _data(130)
    xf = (x.astype(np.float32) - 128) / 64
    d = P.DeviceDataset(xf, y, 64, seed=0, augment=False)
    got = [(_np(a), _np(b)) for a, b in d]
    idx = d.epoch_indices(0)
    assert len(got) == 2 and all(np.array_equal(a, xf[i]) for (a, _), i in zip(got, idx, strict=True))


@pytest.mark.backend
def test_device_batch_runs_inside_a_jitted_step():
    import keras

    x, y = _data(128)
    xf = (x.astype(np.float32) - 128) / 64
    idx = np.arange(64, dtype=np.int32)
    if keras.backend.backend() == "jax":
        import jax

        fn = jax.jit(lambda i, s: P.device_batch(xf, y, i, s, seed=5, cutout=4))
    else:
        import tensorflow as tf

        fn = tf.function(lambda i, s: P.device_batch(xf, y, i, s, seed=5, cutout=4))
    a, b = _np(fn(idx, np.int32(7))[0]), _np(fn(idx, np.int32(8))[0])
    assert not np.array_equal(a, b)
    eager = P.device_batch(xf, y, idx, np.int32(7), seed=5, cutout=4)[0]
    np.testing.assert_allclose(a, _np(eager), atol=1e-6)


@pytest.mark.backend
def test_device_bad_inputs_say_what_to_do():
    x, y = _data(100)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="batch_size must be a positive int"):
            P.DeviceDataset(x, y, bad, mean=MEAN, std=STD)
    with pytest.raises(ValueError, match="cannot fill one batch"):
        P.DeviceDataset(x, y, 101, mean=MEAN, std=STD)
    with pytest.raises(ValueError, match="mean= and std="):
        P.DeviceDataset(x, y, 10)
    with pytest.raises(ValueError, match="both mean and std"):
        P.DeviceDataset(x.astype(np.float32), y, 10, mean=MEAN)
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        P.DeviceDataset(x[..., 0], y, 10, mean=MEAN, std=STD)
    with pytest.raises(ValueError, match="one label per image"):
        P.DeviceDataset(x, y[:50], 10, mean=MEAN, std=STD)
    with pytest.raises(ValueError, match="larger than the 8 x 8"):
        P.DeviceDataset(x, y, 10, mean=MEAN, std=STD, cutout=9)


# ---------------------------------------------------------------- tfrecord_ds (TensorFlow only)

@pytest.fixture()
def records(tmp_path):
    from fenwicks_lite import io

    x, y = _data(300)
    io.numpy_tfrecord(x, y, tmp_path / "train.tfrec", shards=3)
    return str(tmp_path / "train.tfrec*"), x, y


def _parser(e):
    from fenwicks_lite import io

    return io.tfexample_numpy_image_parser(e, 8, 8, dtype="uint8")


def _labels(ds):
    return [b[1].numpy() for b in ds]


def test_eval_pipeline_keeps_order_and_the_last_partial_batch(records):
    pattern, x, y = records
    batches = list(P.tfrecord_ds(pattern, _parser, 64, training=False))
    assert [len(b[1]) for b in batches] == [64, 64, 64, 64, 44]
    got_x = np.concatenate([b[0].numpy() for b in batches])
    got_y = np.concatenate([b[1].numpy() for b in batches])
    order = np.argsort(got_y)  # the interleave of 3 shards mixes the order; every image exactly once
    assert np.array_equal(got_y[order], y) and np.array_equal(got_x[order], x)


def test_training_pipeline_shuffles_full_epochs_deterministically(records):
    pattern, _, _ = records

    def make(seed):
        return P.tfrecord_ds(pattern, _parser, 64, seed=seed, batch_transform=P.tf_augment(mean=MEAN, std=STD))

    ds = make(7)
    e1, e2 = _labels(ds), _labels(ds)  # two epochs of one dataset
    assert [len(b) for b in e1] == [64] * 4  # drop_remainder
    assert len(np.unique(np.concatenate(e1))) == 256  # a permutation, 44 sit out
    assert not np.array_equal(np.concatenate(e1), np.concatenate(e2))  # each epoch reshuffled
    assert e1[0].max() > 150  # a full-epoch buffer: the first batch draws from the whole set
    again = make(7)
    first = [(b[0].numpy(), b[1].numpy()) for b in again]
    assert all(np.array_equal(a, b[1]) for a, b in zip(e1, first, strict=True))  # same seed, same order
    first2 = [(b[0].numpy(), b[1].numpy()) for b in make(7)]
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(first, first2, strict=True))  # ... same augmentation
    assert not np.array_equal(np.concatenate(_labels(make(8))), np.concatenate(e1))


def test_batch_transform_normalizes_and_augments_the_batch(records):
    pattern, x, _ = records
    # a 4 x 4 hole: the default 8 x 8 one would cover the 8 x 8 test images whole
    augment = P.tf_augment(cutout=4, mean=MEAN, std=STD)
    ds = P.tfrecord_ds(pattern, _parser, 64, seed=0, cache="parsed", batch_transform=augment)
    xb, yb = next(iter(ds))
    assert xb.dtype.name == "float32" and tuple(xb.shape) == (64, 8, 8, 3)
    norm = (x.astype(np.float32) - np.float32(MEAN)) / np.float32(STD)
    plain = P.tfrecord_ds(pattern, _parser, 64, seed=0, cache="parsed",
                          batch_transform=P.tf_augment(pad=0, cutout=0, flip=False, mean=MEAN, std=STD))
    pb, pyb = next(iter(plain))
    np.testing.assert_allclose(pb.numpy(), norm[pyb.numpy()], rtol=1e-6)
    assert not np.allclose(xb.numpy(), norm[yb.numpy()])  # augmented
    # the seed's cutout: every hole whole (4 x 4), at more than one place
    zero = (xb.numpy() == 0).all(axis=-1)
    assert (zero.sum(axis=(1, 2)) == 16).all()
    assert len({tuple(np.argwhere(z)[0]) for z in zero}) > 1


def test_tfrecord_ds_bad_inputs_say_what_to_do(records, tmp_path):
    pattern, _, _ = records
    for bad in (0, -3):
        with pytest.raises(ValueError, match="batch_size must be a positive int"):
            P.tfrecord_ds(pattern, _parser, bad)
    missing = str(tmp_path / "nothing*.tfrec")
    with pytest.raises(FileNotFoundError, match="nothing\\*.tfrec"):
        P.tfrecord_ds(missing, _parser, 8)
    with pytest.raises(TypeError, match=r"must return \(image, label\)"):
        P.tfrecord_ds(pattern, lambda e: _parser(e)[0], 8)
    with pytest.raises(TypeError, match=r"must return \(image, label\)"):
        P.tfrecord_ds(pattern, lambda e: (_parser(e)[0][0], _parser(e)[1]), 8)  # rank-2 image
    with pytest.raises(TypeError, match="bind the rest"):
        P.tfrecord_ds(pattern, lambda e, h: _parser(e), 8)
    with pytest.raises(ValueError, match="freezes"):
        P.tfrecord_ds(pattern, _parser, 8, cache="parsed")
    with pytest.raises(ValueError, match="cache must be"):
        P.tfrecord_ds(pattern, _parser, 8, cache="disk")
    with pytest.raises(TypeError, match="batch_transform must return"):
        P.tfrecord_ds(pattern, _parser, 8, batch_transform=lambda x, y, s: x)
    # 300 records, batches of 512 with the remainder dropped: an empty epoch, refused
    with pytest.raises(IsADirectoryError, match="is a folder: pass the TFRecord files in it"):
        P.tfrecord_ds(str(tmp_path), _parser, 8)
    with pytest.raises(ValueError, match="300 images cannot fill one batch of 512"):
        P.tfrecord_ds(pattern, _parser, 512)
    assert len(list(P.tfrecord_ds(pattern, _parser, 512, training=False))) == 1


def test_io_forwarder_is_this_pipeline(records):
    from fenwicks_lite import io

    pattern, _, _ = records
    ds = io.tfrecord_ds(pattern, _parser, 100, training=False)
    assert [len(b[1]) for b in ds] == [100, 100, 100]


# ----------------------------------------------------------------------------------- without TensorFlow

def test_without_tensorflow_the_tf_data_functions_say_what_to_install_and_what_instead():
    """A JAX-only install: `tfrecord_ds` and `tf_augment` name themselves, the install line and
    DeviceDataset (which works there) instead of failing on a bare import."""
    got = no_tensorflow.errors_without_tensorflow({
        "tfrecord_ds": "fw.pipeline.tfrecord_ds('data/train*.tfrec', None, 512)",
        "tf_augment": "fw.pipeline.tf_augment(mean=(125.0,) * 3, std=(63.0,) * 3)",
        "DeviceDataset": "len(fw.pipeline.DeviceDataset(np.zeros((8, 16, 16, 3), np.float32), "
                         "np.arange(8), 4))",
    })
    for name in ("tfrecord_ds", "tf_augment"):
        no_tensorflow.assert_says_what_to_install(got[name], f"fw.pipeline.{name}",
                                                  "fw.pipeline.DeviceDataset")
    assert got["DeviceDataset"] == {"returned": "2"}
