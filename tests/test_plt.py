"""fenwicks_lite.plt: the pictures. Backend-agnostic (matplotlib's Agg backend, no display needed)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fenwicks_lite import plt as fw_plt  # noqa: E402
from fenwicks_lite import train  # noqa: E402

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
    assert type(shown[0]).__name__ == "Image" and shown[0].data[:4] == b"\x89PNG"
    peak.value = 0.8
    assert len(shown) == 2 and type(shown[1]).__name__ == "Image"
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
