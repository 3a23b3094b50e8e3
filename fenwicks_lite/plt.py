"""Pictures for the chapters (Chapters 2, 4 and 7): image grids, pixel histograms, learning-rate curves.

Each function draws on a new matplotlib figure and returns it, so a notebook cell shows it once. Figures
are kept small (dpi set by the caller's matplotlib defaults) so the committed notebooks stay light.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

#: matplotlib colours for the red, green and blue channels in histograms.
CHANNEL_COLOURS = ("tab:red", "tab:green", "tab:blue")


def show_image_grid(x: np.ndarray, y: np.ndarray, class_names: Sequence[str], per_class: int = 8,
                    seed: int = 0) -> Any:
    """A grid with one row per class and `per_class` random images of it (Chapter 2).

    uint8 images are shown as they are; float images must be in [0, 1]. Classes without enough images
    show what there is.
    """
    import matplotlib.pyplot as plt

    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 4 or len(x) != len(y):
        raise ValueError(f"x must be images (N, H, W, C) with one label each; got {x.shape} and {y.shape}.")
    if per_class < 1:
        raise ValueError(f"per_class must be at least 1, got {per_class}.")
    rng = np.random.default_rng(seed)
    k = len(class_names)
    fig, axes = plt.subplots(k, per_class, figsize=(per_class * 0.8, k * 0.8), squeeze=False)
    for row, name in enumerate(class_names):
        idx = np.flatnonzero(y == row)
        pick = rng.choice(idx, size=min(per_class, len(idx)), replace=False) if len(idx) else []
        for col in range(per_class):
            ax = axes[row, col]
            ax.set_xticks([])
            ax.set_yticks([])
            for s in ax.spines.values():
                s.set_visible(False)
            if col < len(pick):
                ax.imshow(x[pick[col]], interpolation="nearest")
        axes[row, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    fig.subplots_adjust(wspace=0.05, hspace=0.05)
    return fig


def plot_channel_histograms(x: np.ndarray, ax: Any = None, bins: int = 64, title: str = "",
                            value_range: tuple[float, float] | None = None) -> Any:
    """Histograms of the red, green and blue values of images `x` (N, H, W, 3), on one axis (Chapter 2).

    Returns the axis. `value_range` defaults to the data's own min..max.
    """
    import matplotlib.pyplot as plt

    x = np.asarray(x)
    if x.ndim < 1 or x.shape[-1] != 3:
        raise ValueError(f"x must have 3 colour channels last, got shape {x.shape}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    flat = x.reshape(-1, 3)
    rng = value_range or (float(flat.min()), float(flat.max()))
    for c, (colour, name) in enumerate(zip(CHANNEL_COLOURS, ("red", "green", "blue"))):
        ax.hist(flat[:, c], bins=bins, range=rng, histtype="step", color=colour, label=name, density=True)
    ax.set_xlabel("value")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax


# ------------------------------------------------------------------------- learning rate (Chapter 7)

def lr_values(lr_func: Any, total_steps: int) -> np.ndarray:
    """The learning rate at steps 0..total_steps, as float64 (Chapter 7).

    Keras schedules (such as `fw.train.triangular_lr`) take the whole step array at once; a plain Python
    function of one step, as the seed allowed, is called step by step.
    """
    import keras

    if isinstance(total_steps, bool) or not isinstance(total_steps, int | np.integer) or total_steps < 1:
        raise ValueError(f"total_steps must be a whole number of steps >= 1, got {total_steps!r}")
    steps = np.arange(total_steps + 1)
    try:
        lrs = np.asarray(keras.ops.convert_to_numpy(lr_func(steps)), dtype=np.float64)
    except (TypeError, ValueError):  # a scalar-only function: one call per step
        lrs = None
    if lrs is None or lrs.shape != steps.shape:
        lrs = np.array([float(keras.ops.convert_to_numpy(lr_func(int(s)))) for s in steps])
    return lrs


def plot_lr_func(lr_func: Any, total_steps: int, ax: Any = None, steps_per_epoch: int | None = None,
                 label: str | None = None) -> Any:
    """Draws the learning rate over training, as the seed's `fw.plt.plot_lr_func` did (Chapter 7).

    With `steps_per_epoch`, a second x axis at the top counts epochs. Returns the axis.
    """
    import matplotlib.pyplot as plt

    lrs = lr_values(lr_func, total_steps)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 2.6))
    ax.plot(np.arange(total_steps + 1), lrs, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    ax.set_xlim(0, total_steps)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    if steps_per_epoch:
        top = ax.secondary_xaxis("top", functions=(lambda s: s / steps_per_epoch, lambda e: e * steps_per_epoch))
        top.set_xlabel("epoch")
    return ax


def lr_widget(steps_per_epoch: int, peak_lr: float = 0.4, epochs: int = 24, warmup_epochs: float = 5,
              max_epochs: int = 100) -> Any:
    """Sliders for the peak learning rate, warm-up and epochs above the triangular schedule they make.

    The picture is an ordinary cell output (a PNG shown with a display id) that the sliders replace in
    place: a live notebook redraws it, and a static page (the book, nbviewer) still shows the first one.
    Settings the schedule refuses (warm-up >= length) are reported in the picture's place, not raised.
    Returns the slider box (Chapter 7).
    """
    import io

    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    from fenwicks_lite import train

    peak = widgets.FloatSlider(value=peak_lr, min=0.0, max=max(2.0, peak_lr), step=0.05, description="peak LR")
    warm = widgets.FloatSlider(value=warmup_epochs, min=0.0, max=float(max_epochs), step=0.5,
                               description="warm-up ep.")
    ep = widgets.IntSlider(value=epochs, min=1, max=max_epochs, description="epochs")

    def picture() -> Any:
        total, warmup = round(ep.value * steps_per_epoch), round(warm.value * steps_per_epoch)
        try:
            sched = train.triangular_lr(peak.value, total, warmup)
        except ValueError as e:
            return f"not a valid schedule: {e}"
        fig, ax = plt.subplots(figsize=(6, 2.6))
        plot_lr_func(sched, total, ax=ax, steps_per_epoch=steps_per_epoch)
        ax.set_title(f"peak {peak.value:g} at epoch {warm.value:g} of {ep.value}", fontsize=10)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
        plt.close(fig)
        return Image(data=buf.getvalue())

    handle = display(picture(), display_id=True)

    def redraw(_change: Any) -> None:
        handle.update(picture())

    for slider in (peak, warm, ep):
        slider.observe(redraw, names="value")
    return widgets.HBox([peak, warm, ep])
