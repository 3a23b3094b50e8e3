"""fenwicks_lite.anim (Chapter 5; the seed's May 2019 `fw.anim.show_input_func`): a grid of
the first batch an input pipeline yields, converted back to pixels, titled with class names."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fenwicks_lite import anim, data  # noqa: E402
from fenwicks_lite import transform as T  # noqa: E402

MEAN, STD = np.array([0.49, 0.48, 0.45]), np.array([0.25, 0.24, 0.26])


def _batches(n_batches=2, n=6, seed=0):
    """Normalized float batches (as the chapters' pipelines yield) and their pixels."""
    rng = np.random.default_rng(seed)
    pixels = rng.uniform(size=(n_batches, n, 4, 4, 3)).astype(np.float32)
    labels = rng.integers(0, 10, size=(n_batches, n))
    return [((p - MEAN) / STD, y) for p, y in zip(pixels, labels, strict=True)], pixels, labels


def _shown(fig):
    """(image arrays, titles) of the axes that show an image."""
    axes = [ax for ax in fig.axes if ax.images]
    return [np.asarray(ax.images[0].get_array()) for ax in axes], [ax.get_title() for ax in axes]


def test_shows_the_first_batch_converted_and_named():
    batches, pixels, labels = _batches()
    fig = anim.show_input_func(batches, n_img=4, converter=T.tfm_reverse_standard_scaler(MEAN, STD))
    images, titles = _shown(fig)
    assert len(images) == 4 and len(fig.axes) == 4
    assert titles == [data.CLASS_NAMES[k] for k in labels[0, :4]]
    want = np.clip(T.tfm_reverse_standard_scaler(MEAN, STD)(batches[0][0][:4]), 0, 1)
    np.testing.assert_array_equal(np.stack(images), want)
    np.testing.assert_allclose(np.stack(images), pixels[0, :4], atol=1e-6)
    plt.close(fig)


def test_takes_a_generator_a_seed_style_function_and_one_batch():
    batches, _, labels = _batches()
    seen = []

    def input_func(params):  # the seed's: TPUEstimator's params
        seen.append(params)
        return iter(batches)

    conv = T.tfm_reverse_standard_scaler(MEAN, STD)
    for source in (input_func, lambda: (b for b in batches), batches[0], iter(batches)):
        fig = anim.show_input_func(source, n_img=3, converter=conv)
        assert _shown(fig)[1] == [data.CLASS_NAMES[k] for k in labels[0, :3]]
        plt.close(fig)
    assert seen == [{"batch_size": 3}]


def test_grid_rows_one_hot_labels_own_names_and_uint8():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, size=(7, 4, 4, 3), dtype=np.uint8)
    y = np.eye(3)[[0, 2, 1, 1, 0, 2, 2]]
    fig = anim.show_input_func([(x, y)], n_img=10, class_names=["a", "b", "c"], ncols=3)
    images, titles = _shown(fig)
    assert len(fig.axes) == 9 and len(images) == 7  # 3 x 3 grid, 2 cells empty
    assert titles == ["a", "c", "b", "b", "a", "c", "c"]
    np.testing.assert_array_equal(np.stack(images), x)
    plt.close(fig)


def test_images_without_labels_have_no_titles():
    fig = anim.show_input_func([np.full((2, 3, 3, 3), 0.5)])
    assert _shown(fig)[1] == ["", ""]
    plt.close(fig)


@pytest.mark.parametrize("source, kw, match", [
    (5, {}, "must be a tf.data.Dataset, an iterable of .images, labels. batches"),
    ([], {}, "gave no batch: the dataset is empty"),
    ([np.zeros((4, 4, 3))], {}, r"batch \(N, H, W, C\), got shape \(4, 4, 3\): batch the dataset"),
    ([(np.zeros((2, 4, 4, 3)), np.zeros(3, int))], {}, "2 images but labels of shape"),
    ([{"image": np.zeros((2, 4, 4, 3))}], {}, "dict with keys .'image'.: pass batches of"),
    ([(np.full((2, 4, 4, 3), -1.5), np.zeros(2, int))], {},
     "not .0, 1.: pass converter=fw.transform.tfm_reverse_standard_scaler"),
    ([(np.full((2, 4, 4, 3), 200.0), np.zeros(2, int))], {}, "divide 0..255 pixels by 255"),
    ([(np.zeros((2, 4, 4, 3)), np.array([0, 10]))], {}, "10 class names: pass class_names"),
    ([(np.zeros((2, 4, 4, 3)), np.array([0.0, 1.0]))], {}, "integer class ids"),
    ([np.zeros((2, 4, 4, 3))], {"n_img": 0}, "n_img must be a whole number >= 1"),
])
def test_bad_input_says_what_to_do(source, kw, match):
    with pytest.raises(ValueError, match=match):
        anim.show_input_func(source, **kw)


def test_a_tf_data_pipeline_as_the_seed_passed_it():
    """TensorFlow only (the JAX pass runs `-m backend`): the seed's input function returned a
    batched tf.data.Dataset."""
    tf = pytest.importorskip("tensorflow")
    batches, pixels, labels = _batches(1, n=8)
    x, y = batches[0]
    ds = tf.data.Dataset.from_tensor_slices((x.astype(np.float32), y))
    conv = T.tfm_reverse_standard_scaler(MEAN, STD)
    for source in (ds.batch(5), lambda params: ds.batch(params["batch_size"])):
        fig = anim.show_input_func(source, n_img=5, converter=conv)
        images, titles = _shown(fig)
        assert titles == [data.CLASS_NAMES[k] for k in labels[0, :5]]
        np.testing.assert_allclose(np.stack(images), pixels[0, :5], atol=1e-6)
        plt.close(fig)
