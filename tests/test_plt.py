"""fenwicks_lite.plt: the pictures (chapters 2, 6, 7). Backend-agnostic (matplotlib's Agg backend, no display)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import figure_text  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fenwicks_lite import anim, data, train  # noqa: E402
from fenwicks_lite import plt as fw_plt  # noqa: E402

pytestmark = pytest.mark.backend


def test_lr_values_of_a_schedule_and_of_a_plain_function_agree():
    sched = train.triangular_lr(0.4, 24, 5)

    def by_hand(step):  # the seed allowed any function of one step
        return 0.4 * step / 5 if step < 5 else 0.4 * (24 - step) / 19

    a, b = fw_plt.lr_values(sched, 24), fw_plt.lr_values(by_hand, 24)
    assert a.shape == (25,) and a[5] == pytest.approx(0.4) and a[0] == a[24] == 0
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_plot_lr_func_draws_the_schedule():
    ax = fw_plt.plot_lr_func(train.triangular_lr(0.4, 100, 20), 100, steps_per_epoch=10)
    x, y = ax.lines[0].get_data()
    assert len(x) == 101 and y.max() == pytest.approx(0.4) and x[np.argmax(y)] == 20
    assert ax.get_xlabel() == "step" and ax.get_ylabel() == "learning rate"


@pytest.mark.parametrize("steps", [0, 2.5, "10"])
def test_plot_lr_func_bad_steps(steps):
    with pytest.raises(ValueError, match="total_steps must be a whole number of steps >= 1"):
        fw_plt.plot_lr_func(train.triangular_lr(0.4, 10, 2), steps)


def test_lr_widget_shows_a_picture_and_redraws_it(monkeypatch):
    pytest.importorskip("ipywidgets")
    shown = []

    class Handle:
        def update(self, obj):
            shown.append(obj)

    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda obj, display_id=None: shown.append(obj) or Handle())
    box = fw_plt.lr_widget(steps_per_epoch=10, peak_lr=0.4, epochs=24, warmup_epochs=5)
    peak, warm, ep = box.children
    assert type(shown[0]).__name__ == "SVG" and "<svg" in shown[0].data
    peak.value = 0.8
    assert len(shown) == 2 and type(shown[1]).__name__ == "SVG" and shown[1].data != shown[0].data
    warm.value = 30.0  # warm-up longer than training: said in the picture's place, not raised
    assert isinstance(shown[2], str) and "must be smaller than total_steps" in shown[2]


def test_architecture_boxes_follow_the_model():
    from fenwicks_lite import layers

    boxes, skips = fw_plt.architecture_boxes(layers.davidnet(8))
    kinds = "".join({"conv": "c", "pool": "p", "add": "+", "dense": "d"}[b["kind"]] for b in boxes)
    assert kinds == "c" + "cpcc+" + "cp" + "cpcc+" + "pd"
    assert skips == [(3, 5), (10, 12)]  # from the pooled output, round the two residual convs, to the +
    assert boxes[0]["shape"] == (32, 32, 8) and boxes[-1]["shape"] == (10,)
    assert [b["block"] for b in boxes if b["kind"] == "add"] == ["layer1", "layer3"]


def test_plot_architecture_draws_one_box_per_operation():
    from matplotlib.patches import Rectangle

    from fenwicks_lite import layers

    fig = fw_plt.plot_architecture(layers.davidnet(4))
    rects = [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]
    assert len(rects) == 13  # 15 operations less the two additions, drawn as circles


# ------------------------------------------------------------ image grid and channel histograms (chapter 2)
def test_grid_has_one_row_per_class_and_shows_only_that_class(rng):
    x = np.zeros((30, 4, 4, 3), np.uint8)
    y = np.repeat(np.arange(3), 10)
    x[:, 0, 0, 0] = y * 100  # a pixel that encodes the class
    fig = fw_plt.show_image_grid(x, y, ["a", "b", "c"], per_class=4)
    axes = np.array(fig.axes).reshape(3, 4)
    for row in range(3):
        assert axes[row, 0].get_ylabel() == "abc"[row]
        for ax in axes[row]:
            [img] = ax.get_images()
            assert img.get_array()[0, 0, 0] == row * 100
    plt.close(fig)


def test_grid_with_too_few_images_leaves_cells_empty():
    x = np.zeros((3, 4, 4, 3), np.uint8)
    fig = fw_plt.show_image_grid(x, np.array([0, 0, 1]), ["a", "b"], per_class=3)
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
        fw_plt.show_image_grid(x, y, ["a"], **kw)


def test_histograms_one_curve_per_channel_with_density_one(rng):
    x = rng.integers(0, 256, (10, 4, 4, 3)).astype(np.uint8)
    ax = fw_plt.plot_channel_histograms(x, bins=16, value_range=(0, 256), title="t")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["red", "green", "blue"]
    assert len(ax.patches) == 3 and ax.get_title() == "t"
    plt.close(ax.figure)


def test_histograms_need_three_channels():
    with pytest.raises(ValueError, match="3 colour channels"):
        fw_plt.plot_channel_histograms(np.zeros((2, 2, 2, 1)))


def test_architecture_text_is_legible_at_the_page_width_and_never_overlaps():
    """Chapter 6's diagram: no wider than the page shows at its own size, no text under TEXT_PT points
    (10 px there), and no two texts (labels, block names, legend) overlapping."""
    from fenwicks_lite import layers

    fig = fw_plt.plot_architecture(layers.davidnet(64))
    ax = fig.axes[0]
    _texts_legible_and_apart(fig, [*ax.texts, *ax.get_legend().get_texts()])
    plt.close(fig)


def _texts_legible_and_apart(fig, texts=None):
    """No text under TEXT_PT points, no two texts overlapping, no wider than the page;
    `texts`: the artists to check (default: every axes' texts and titles)."""
    assert fig.get_size_inches()[0] <= fw_plt.PAGE_WIDTH
    if texts is None:
        texts = [t for ax in fig.axes for t in [*ax.texts, ax.title]]
    texts = [t for t in texts if t.get_text().strip()]
    assert min(t.get_fontsize() for t in texts) >= fw_plt.TEXT_PT
    fig.canvas.draw()
    extents = [t.get_window_extent(fig.canvas.get_renderer()) for t in texts]
    clashes = [(texts[i].get_text(), texts[j].get_text()) for i in range(len(texts))
               for j in range(i + 1, len(texts)) if extents[i].overlaps(extents[j])]
    assert not clashes, clashes
    return texts


def test_plot_stages_draws_each_pipeline_as_a_row_of_boxes():
    from matplotlib.patches import FancyBboxPatch

    fig = fw_plt.plot_stages({"seed": ["read", "parse +\naugment", "batch"], "device": ["gather", "augment"]})
    ax = fig.axes[0]
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    assert len(boxes) == 5
    texts = [t.get_text() for t in _texts_legible_and_apart(fig)]
    assert texts[:4] == ["seed", "read", "parse +\naugment", "batch"] and "device" in texts
    plt.close(fig)


@pytest.mark.parametrize("rows", [{}, {"seed": []}])
def test_plot_stages_bad_rows(rows):
    with pytest.raises(ValueError, match="rows must map each pipeline's name to its stages"):
        fw_plt.plot_stages(rows)


def test_tpu_then_and_now_is_legible():
    fig = fw_plt.plot_tpu_then_now()
    texts = " ".join(t.get_text() for t in _texts_legible_and_apart(fig))
    for said in ("TPU Node", "TPU VM", "gRPC", "Cloud Storage", "v2-8", "local disk"):
        assert said in texts
    plt.close(fig)


# ------------------------------------------- the seed's May 2019 plot_counts_pie (Chapter 2)

def _wedge_fractions(ax):
    spans = np.array([w.theta2 - w.theta1 for w in ax.patches])
    return spans / 360.0


def test_counts_pie_one_wedge_per_class_sized_by_its_count():
    counts = np.array([5, 1, 3, 0, 2, 4, 6, 7, 9, 8])
    y = np.repeat(np.arange(10), counts).astype(np.uint8).reshape(-1, 1)  # as the seed's
    ax = fw_plt.plot_counts_pie(y)
    assert len(ax.patches) == 9  # "cat" has no image, no wedge
    np.testing.assert_allclose(_wedge_fractions(ax), np.sort(counts)[::-1][:9] / counts.sum())
    texts = [t.get_text() for t in ax.texts]
    assert texts[:3] == ["ship (9)", "truck (8)", "horse (7)"] and not any("cat" in t for t in texts)
    plt.close(ax.figure)


def test_counts_pie_of_a_balanced_set_has_equal_wedges_and_own_names():
    ax = fw_plt.plot_counts_pie(np.tile(np.arange(3), 50), class_names=["a", "b", "c"])
    np.testing.assert_allclose(_wedge_fractions(ax), [1 / 3] * 3)
    assert sorted(t.get_text() for t in ax.texts) == ["a (50)", "b (50)", "c (50)"]
    plt.close(ax.figure)


def test_counts_pie_max_items_merges_the_rest_into_others():
    y = np.repeat(np.arange(10), np.arange(1, 11))
    ax = fw_plt.plot_counts_pie(y, max_items=3)
    assert [t.get_text() for t in ax.texts] == ["truck (10)", "ship (9)", "horse (8)",
                                                "others (28)"]
    np.testing.assert_allclose(_wedge_fractions(ax), np.array([10, 9, 8, 28]) / 55)
    plt.close(ax.figure)


@pytest.mark.parametrize("y, kw, match", [
    (np.array([], dtype=int), {}, "labels is empty"),
    (np.array([0.0, 1.0, 2.5]), {}, "integer class ids, got dtype float64"),
    (np.array(["cat", "dog"]), {}, "integer class ids"),
    (np.array([0, 1, 10]), {}, "from 0 to 10, but there are 10 class names: pass class_names"),
    (np.array([-1, 1]), {}, "pass class_names"),
    (np.array([0, 1]), {"max_items": 0}, "max_items must be a whole number >= 1"),
])
def test_counts_pie_bad_input(y, kw, match):
    with pytest.raises(ValueError, match=match):
        fw_plt.plot_counts_pie(y, **kw)


def _images(n=200, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 32, 32, 3)).astype(np.uint8), np.arange(n) % 10


CHARTS = {
    "show_image_grid": lambda: fw_plt.show_image_grid(*_images(), data.CLASS_NAMES),
    "plot_channel_histograms": lambda: fw_plt.plot_channel_histograms(_images()[0]).figure,
    "plot_counts_pie": lambda: fw_plt.plot_counts_pie(_images()[1]).figure,
    "plot_lr_func": lambda: fw_plt.plot_lr_func(train.triangular_lr(0.4, 2328, 485), 2328,
                                                steps_per_epoch=97).figure,
    "show_input_func": lambda: anim.show_input_func(_images()),
}


@pytest.mark.parametrize("name", CHARTS)
def test_charts_read_on_a_phone(name):
    """A chart keeps to FIGURE_WIDTH inches and MIN_TEXT_PT: at least 8 px of text on a 400 px
    phone, and 9 px at its own size on a wide screen (the diagrams scroll instead)."""
    svg = figure_text.svg_of(CHARTS[name]())
    assert figure_text.view_width(svg) <= 72 * fw_plt.FIGURE_WIDTH * 1.15, name  # labels may stick out
    assert figure_text.smallest_text_px(svg) >= figure_text.PHONE_MIN_PX, name
    own = figure_text.view_width(svg) * 4 / 3
    assert figure_text.smallest_text_px(svg, own) >= 9, name

