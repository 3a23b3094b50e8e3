"""fw.plt image grid and channel histograms (Chapter 2): what they draw, and their errors. No TensorFlow."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fenwicks_lite import plt as fwplt  # noqa: E402

pytestmark = pytest.mark.backend


def test_grid_has_one_row_per_class_and_shows_only_that_class(rng):
    x = np.zeros((30, 4, 4, 3), np.uint8)
    y = np.repeat(np.arange(3), 10)
    x[:, 0, 0, 0] = y * 100  # a pixel that encodes the class
    fig = fwplt.show_image_grid(x, y, ["a", "b", "c"], per_class=4)
    axes = np.array(fig.axes).reshape(3, 4)
    for row in range(3):
        assert axes[row, 0].get_ylabel() == "abc"[row]
        for ax in axes[row]:
            [img] = ax.get_images()
            assert img.get_array()[0, 0, 0] == row * 100
    plt.close(fig)


def test_grid_with_too_few_images_leaves_cells_empty():
    x = np.zeros((3, 4, 4, 3), np.uint8)
    fig = fwplt.show_image_grid(x, np.array([0, 0, 1]), ["a", "b"], per_class=3)
    counts = [len(ax.get_images()) for ax in fig.axes]
    assert counts == [1, 1, 0, 1, 0, 0]
    plt.close(fig)


@pytest.mark.parametrize("x, y, kw, match", [
    (np.zeros((3, 4, 4)), np.zeros(3, int), {}, r"\(N, H, W, C\)"),
    (np.zeros((3, 4, 4, 3)), np.zeros(2, int), {}, "one label each"),
    (np.zeros((3, 4, 4, 3)), np.zeros(3, int), {"per_class": 0}, "per_class"),
])
def test_grid_bad_input(x, y, kw, match):
    with pytest.raises(ValueError, match=match):
        fwplt.show_image_grid(x, y, ["a"], **kw)


def test_histograms_one_curve_per_channel_with_density_one(rng):
    x = rng.integers(0, 256, (10, 4, 4, 3)).astype(np.uint8)
    ax = fwplt.plot_channel_histograms(x, bins=16, value_range=(0, 256), title="t")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["red", "green", "blue"]
    assert len(ax.patches) == 3 and ax.get_title() == "t"
    plt.close(ax.figure)


def test_histograms_need_three_channels():
    with pytest.raises(ValueError, match="3 colour channels"):
        fwplt.plot_channel_histograms(np.zeros((2, 2, 2, 1)))
