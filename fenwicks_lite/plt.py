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
