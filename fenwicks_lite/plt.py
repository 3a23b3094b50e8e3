"""Pictures for the chapters (Chapters 2, 4, 5, 6, 7 and 8): image grids, pixel
histograms, learning-rate curves, the architecture, pipelines and TPUs as diagrams.

Each function draws on a new matplotlib figure and returns it, so a notebook cell shows
it once. Figures are kept small (dpi set by the caller's matplotlib defaults) so the
committed notebooks stay light.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

#: matplotlib colours for the red, green and blue channels in histograms.
CHANNEL_COLOURS = ("tab:red", "tab:green", "tab:blue")


def show_image_grid(
    x: np.ndarray,
    y: np.ndarray,
    class_names: Sequence[str],
    per_class: int = 8,
    seed: int = 0,
) -> Any:
    """A grid with one row per class and `per_class` random images of it (Chapter 2).

    uint8 images are shown as they are; float images must be in [0, 1]. Classes without
    enough images show what there is.
    """
    import matplotlib.pyplot as plt

    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 4 or len(x) != len(y):
        raise ValueError(
            f"x must be images (N, H, W, C) with one label each; got {x.shape} and "
            f"{y.shape}."
        )
    if per_class < 1:
        raise ValueError(f"per_class must be at least 1, got {per_class}.")
    rng = np.random.default_rng(seed)
    k = len(class_names)
    side = min(0.8, (FIGURE_WIDTH - 0.8) / per_class)  # inches per image; 0.8 for names
    fig, axes = plt.subplots(
        k, per_class, figsize=(per_class * side, k * side), squeeze=False
    )
    for row, name in enumerate(class_names):
        idx = np.flatnonzero(y == row)
        pick = (
            rng.choice(idx, size=min(per_class, len(idx)), replace=False)
            if len(idx)
            else []
        )
        for col in range(per_class):
            ax = axes[row, col]
            ax.set_xticks([])
            ax.set_yticks([])
            for s in ax.spines.values():
                s.set_visible(False)
            if col < len(pick):
                ax.imshow(x[pick[col]], interpolation="nearest")
        axes[row, 0].set_ylabel(name, rotation=0, ha="right", va="center",
                                fontsize=MIN_TEXT_PT + 2)
    fig.subplots_adjust(wspace=0.05, hspace=0.05)
    return fig


def plot_channel_histograms(
    x: np.ndarray,
    ax: Any = None,
    bins: int = 64,
    title: str = "",
    value_range: tuple[float, float] | None = None,
) -> Any:
    """Histograms of the red, green and blue values of images `x` (N, H, W, 3), on one
    axis (Chapter 2).

    Returns the axis. `value_range` defaults to the data's own min..max.
    """
    import matplotlib.pyplot as plt

    x = np.asarray(x)
    if x.ndim < 1 or x.shape[-1] != 3:
        raise ValueError(f"x must have 3 colour channels last, got shape {x.shape}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(FIGURE_WIDTH, 3))
    flat = x.reshape(-1, 3)
    rng = value_range or (float(flat.min()), float(flat.max()))
    for c, (colour, name) in enumerate(
        zip(CHANNEL_COLOURS, ("red", "green", "blue"), strict=True)
    ):
        ax.hist(
            flat[:, c],
            bins=bins,
            range=rng,
            histtype="step",
            color=colour,
            label=name,
            density=True,
        )
    ax.set_xlabel("value")
    ax.set_ylabel("density")
    ax.legend(fontsize=MIN_TEXT_PT)
    if title:
        ax.set_title(title)
    return ax


def checked_class_names(labels: np.ndarray,
                        class_names: Sequence[str] | None) -> list[str]:
    """`class_names` (default CIFAR-10's, `fw.data.CLASS_NAMES`) as a list, once
    `labels` are checked to be integer class ids that index them (`plot_counts_pie`,
    `fw.anim.show_input_func`).

    Chapter 2's class pictures (`plot_counts_pie`) and Chapter 5's batches
    (`fw.anim`) check their names with it.
    """
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"labels must be integer class ids, got dtype {labels.dtype}: one id per "
            "image (argmax one-hot labels first, or .astype(int) ids stored as "
            "floats).")
    if class_names is None:
        from fenwicks_lite.data import CLASS_NAMES as class_names
    names = list(class_names)
    if labels.size and (labels.min() < 0 or labels.max() >= len(names)):
        raise ValueError(
            f"labels run from {labels.min()} to {labels.max()}, but there are "
            f"{len(names)} class names: pass class_names=[...] with one name per class "
            "id.")
    return names


def plot_counts_pie(
    labels: Any,
    class_names: Sequence[str] | None = None,
    max_items: int | None = None,
    ax: Any = None,
) -> Any:
    """A pie of how many images each class has, largest first, the seed's May 2019
    `fw.plt.plot_counts_pie(y_train.reshape(-1))` (Chapter 2: CIFAR-10 is balanced,
    every wedge a tenth).

    `labels` are class ids (integers 0..K-1, any shape); `class_names` name them
    (default CIFAR-10's, `fw.data.CLASS_NAMES`; the seed, given no names, wrote the
    ids).
    With `max_items`, the classes beyond the largest `max_items` share one wedge,
    "others" (the seed dropped them; its note said to merge them). Returns the axis;
    each wedge is one of ``ax.patches``, its label the name and the count.
    """
    import matplotlib.pyplot as plt

    y = np.asarray(labels)
    if y.size == 0:
        raise ValueError("labels is empty: pass the class ids of the images, e.g. "
                         "y_train.reshape(-1).")
    names = checked_class_names(y, class_names)
    if max_items is not None and (isinstance(max_items, bool)
                                  or not isinstance(max_items, int | np.integer)
                                  or max_items < 1):
        raise ValueError(f"max_items must be a whole number >= 1 or None, got "
                         f"{max_items!r}.")
    counts = np.bincount(y.reshape(-1), minlength=len(names))
    order = [int(k) for k in np.argsort(-counts, kind="stable") if counts[k] > 0]
    items = [(names[k], int(counts[k])) for k in order]
    if max_items is not None and len(items) > max_items:
        rest = sum(c for _, c in items[max_items:])
        items = [*items[:max_items], ("others", rest)]
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 4.2))
    ax.pie(
        [c for _, c in items],
        labels=[f"{name} ({c:,})" for name, c in items],
        startangle=90,
        counterclock=False,
        wedgeprops={"width": 0.8, "edgecolor": "white"},
        textprops={"fontsize": MIN_TEXT_PT},
    )
    ax.set_aspect("equal")
    return ax


# ------------------------------------------------------------ learning rate (Chapter 7)

def lr_values(lr_func: Any, total_steps: int) -> np.ndarray:
    """The learning rate at steps 0..total_steps, as float64 (Chapter 7).

    Keras schedules (such as `fw.train.triangular_lr`) take the whole step array at
    once; a plain Python function of one step, as the seed allowed, is called step by
    step.
    """
    import keras

    if (
        isinstance(total_steps, bool)
        or not isinstance(total_steps, int | np.integer)
        or total_steps < 1
    ):
        raise ValueError(
            f"total_steps must be a whole number of steps >= 1, got {total_steps!r}"
        )
    steps = np.arange(total_steps + 1)
    try:
        lrs = np.asarray(keras.ops.convert_to_numpy(lr_func(steps)), dtype=np.float64)
    except (TypeError, ValueError):  # a scalar-only function: one call per step
        lrs = None
    if lrs is None or lrs.shape != steps.shape:
        lrs = np.array(
            [float(keras.ops.convert_to_numpy(lr_func(int(s)))) for s in steps]
        )
    return lrs


def plot_lr_func(
    lr_func: Any,
    total_steps: int,
    ax: Any = None,
    steps_per_epoch: int | None = None,
    label: str | None = None,
) -> Any:
    """Draws the learning rate over training, as the seed's `fw.plt.plot_lr_func` did
    (Chapter 7).

    With `steps_per_epoch`, a second x axis at the top counts epochs. Returns the axis.
    """
    import matplotlib.pyplot as plt

    lrs = lr_values(lr_func, total_steps)
    if ax is None:
        _, ax = plt.subplots(figsize=(FIGURE_WIDTH, 2.6))
    ax.plot(np.arange(total_steps + 1), lrs, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    ax.set_xlim(0, total_steps)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    if steps_per_epoch:
        top = ax.secondary_xaxis(
            "top",
            functions=(lambda s: s / steps_per_epoch, lambda e: e * steps_per_epoch),
        )
        top.set_xlabel("epoch")
    return ax


def lr_widget(
    steps_per_epoch: int,
    peak_lr: float = 0.4,
    epochs: int = 24,
    warmup_epochs: float = 5,
    max_epochs: int = 100,
) -> Any:
    """Sliders for the peak learning rate, warm-up and epochs above the triangular
    schedule they make.

    The picture is an ordinary cell output (an SVG shown with a display id) that the
    sliders replace in place: a live notebook redraws it, and a static page (the book,
    nbviewer) still shows the first one. Settings the schedule refuses (warm-up >=
    length) are reported in the picture's place, not raised. Returns the slider box
    (Chapter 7).
    """
    import io

    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import SVG, display

    from fenwicks_lite import optim  # fw.train.triangular_lr is optim's

    peak = widgets.FloatSlider(
        value=peak_lr, min=0.0, max=max(2.0, peak_lr), step=0.05, description="peak LR"
    )
    warm = widgets.FloatSlider(
        value=warmup_epochs,
        min=0.0,
        max=float(max_epochs),
        step=0.5,
        description="warm-up ep.",
    )
    ep = widgets.IntSlider(value=epochs, min=1, max=max_epochs, description="epochs")

    def picture() -> Any:
        total, warmup = (
            round(ep.value * steps_per_epoch),
            round(warm.value * steps_per_epoch),
        )
        try:
            sched = optim.triangular_lr(peak.value, total, warmup)
        except ValueError as e:
            return f"not a valid schedule: {e}"
        fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 2.6))
        plot_lr_func(sched, total, ax=ax, steps_per_epoch=steps_per_epoch)
        ax.set_title(
            f"peak {peak.value:g} at epoch {warm.value:g} of {ep.value}",
            fontsize=10,
            pad=10,  # clear of the epoch axis's label above the plot
        )
        buf = io.BytesIO()  # SVG: sharp at any width (fw.book.sharp_figures)
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
        plt.close(fig)
        return SVG(data=buf.getvalue())

    handle = display(picture(), display_id=True)

    def redraw(_change: Any) -> None:
        handle.update(picture())

    for slider in (peak, warm, ep):
        slider.observe(redraw, names="value")
    return widgets.HBox([peak, warm, ep])


# ------------------------------------------------------------- architecture (Chapter 6)

#: colours of the architecture diagram, one per kind of operation.
ARCH_COLOURS = {
    "conv": "#4c72b0",
    "pool": "#dd8452",
    "add": "#8c8c8c",
    "dense": "#55a868",
}


def architecture_boxes(model: Any, input_shape: tuple[int, int, int] = (32, 32, 3)
                       ) -> tuple[list[dict[str, Any]], list[tuple[int, int]]]:
    """The diagram's content, read from the model's own layers: boxes in forward order
    and residual skips.

    Each box is ``{"kind", "label", "block", "shape"}`` (shape: the output, without the
    batch axis); each skip is ``(from_box, to_box)``: the input of box `from_box` is
    added at box `to_box` (Chapter 6).
    """
    import keras

    from fenwicks_lite import layers

    boxes: list[dict[str, Any]] = []
    skips: list[tuple[int, int]] = []
    shape: tuple = (1, *input_shape)

    def add(kind: str, label: str, block: str, layer: Any) -> None:
        nonlocal shape
        shape = tuple(layer.compute_output_shape(shape))
        boxes.append({"kind": kind, "label": label, "block": block, "shape": shape[1:]})

    def conv_bn(layer: Any, block: str) -> None:
        k = layer.conv.kernel_size[0]  # the legend says: conv, BatchNorm, ReLU
        add("conv", f"{k}x{k}\n{layer.c}", block, layer)

    for layer in model.layers:
        block = layer.name
        if isinstance(layer, layers.ConvBN):
            conv_bn(layer, block)
        elif isinstance(layer, layers.ConvBlk):
            for sub in layer.conv_bns:
                conv_bn(sub, block)
            p = layer.pool.pool_size[0]
            add("pool", f"max\n{p}x{p}", block, layer.pool)
            if isinstance(layer, layers.ConvResBlk):
                start = len(boxes)
                for sub in layer.res:
                    conv_bn(sub, block)
                boxes.append(
                    {"kind": "add", "label": "+", "block": block, "shape": shape[1:]}
                )
                skips.append((start, len(boxes) - 1))
        elif isinstance(layer, keras.layers.GlobalMaxPooling2D):
            add("pool", "global\nmax", block, layer)
        elif isinstance(layer, layers.Classifier):
            add(
                "dense",
                f"{layer.n_classes}\nx{layer.weight:g}",
                block,
                layer,
            )
        else:
            add(
                "dense" if isinstance(layer, keras.layers.Dense) else "pool",
                type(layer).__name__,
                block,
                layer,
            )
    return boxes, skips


#: The book's figures are read on phones too: a 400 px screen shows a figure 352 px
#: wide, where text of s pt in a figure w inches wide reads s * 352 / (72 w) px. So a
#: chart is at most `FIGURE_WIDTH` inches wide and its text at least `MIN_TEXT_PT`:
#: 9 pt at 5.2 in is 8.5 px on a phone and 12 px at the figure's own size on a wide
#: screen (tests/test_plt.py and tests/test_site.py measure both).
FIGURE_WIDTH = 5.2
#: the smallest text of a figure, in points.
MIN_TEXT_PT = 9
#: The smallest text of the book's diagrams, in points: 7.5 pt is 10 px on a page that
#: shows the figure at its own size; a diagram is at most `PAGE_WIDTH` inches wide, so
#: a wide screen shows it at its own size (its content column is 752 px at 1280 px),
#: and a phone lets it scroll sideways at 600 px (the cell's `wide-figure` tag,
#: fwbook.css) rather than shrink its text below 8 px.
TEXT_PT = 7.5
#: a diagram's widest, in inches.
PAGE_WIDTH = 7.6
#: What each kind of box of the architecture diagram stands for (its legend).
ARCH_LEGEND = {
    "conv": "k x k conv, BatchNorm, ReLU (channels)",
    "pool": "max-pool",
    "dense": "dense, no bias (classes, scale)",
}


def plot_architecture(
    model: Any, input_shape: tuple[int, int, int] = (32, 32, 3)
) -> Any:
    """DavidNet (or any model of `fw.layers` blocks) as a left-to-right diagram; returns
    the figure.

    Box heights follow the feature map's side (32, 16, 8, 4 pixels), the text under a
    box its kernel and channels, arcs are the residual connections and brackets above
    name Page's blocks with their output shape (Chapter 6). At most `PAGE_WIDTH` inches
    wide, no text under `TEXT_PT` points: legible at the page's width.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, Patch, Rectangle

    boxes, skips = architecture_boxes(model, input_shape)
    fig, ax = plt.subplots(figsize=(min(PAGE_WIDTH, 0.46 * len(boxes) + 0.7), 3.3))
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1)  # the diagram is the figure
    side0 = input_shape[0]
    xs = []
    for i, b in enumerate(boxes):
        x = 1.0 + i
        xs.append(x)
        side = b["shape"][0] if len(b["shape"]) == 3 else 1
        h = 0.4 + 1.6 * side / side0
        if b["kind"] == "add":
            ax.add_patch(plt.Circle((x, 0), 0.2, color=ARCH_COLOURS["add"]))
            ax.text(x, 0, "+", ha="center", va="center", color="white",
                    fontsize=TEXT_PT + 3, fontweight="bold")
        else:
            ax.add_patch(Rectangle((x - 0.35, -h / 2), 0.7, h,
                                   color=ARCH_COLOURS[b["kind"]], alpha=0.85))
            ax.text(x, -h / 2 - 0.08, b["label"], ha="center", va="top",
                    fontsize=TEXT_PT)
        if i:
            ax.annotate("", (x - 0.36, 0), (xs[i - 1] + 0.36, 0),
                        arrowprops={"arrowstyle": "->", "lw": 0.8})
    ax.text(-0.1, 0, f"image\n{input_shape[0]}x{input_shape[1]}\nx{input_shape[2]}",
            ha="center", va="center", fontsize=TEXT_PT)
    ax.annotate("", (0.64, 0), (0.35, 0), arrowprops={"arrowstyle": "->", "lw": 0.8})
    for a, b in skips:
        ax.add_patch(FancyArrowPatch((xs[a] - 0.5, 1.05), (xs[b], 0.22),
                                     connectionstyle="arc3,rad=-0.35", arrowstyle="->",
                                     lw=1.0, color=ARCH_COLOURS["add"]))
    # block names above, spanning their boxes; of two neighbours one box wide each, the
    # second's name goes higher, so that the names do not run into each other
    start, after_narrow, raised = 0, False, False
    for i in range(1, len(boxes) + 1):
        if i == len(boxes) or boxes[i]["block"] != boxes[start]["block"]:
            b = boxes[start]
            shape = "x".join(str(s) for s in boxes[i - 1]["shape"])
            narrow = i - start == 1
            raised = narrow and after_narrow and not raised
            after_narrow = narrow
            ax.text((xs[start] + xs[i - 1]) / 2, 1.5 + 0.55 * raised,
                    f"{b['block']}\n{shape}", ha="center", va="bottom",
                    fontsize=TEXT_PT, color="#333333")
            # a bracket over exactly this block's boxes, so that each box's block is
            # unambiguous
            left, right = xs[start] - 0.38, xs[i - 1] + 0.38
            ax.plot([left, left, right, right], [1.3, 1.42, 1.42, 1.3],
                    color="#555555", lw=0.8)
            start = i
    kinds = [k for k in ARCH_LEGEND if any(b["kind"] == k for b in boxes)]
    ax.legend([Patch(color=ARCH_COLOURS[k], alpha=0.85) for k in kinds],
              [ARCH_LEGEND[k] for k in kinds], loc="lower center", ncol=len(kinds),
              fontsize=TEXT_PT, frameon=False, bbox_to_anchor=(0.5, -0.02),
              handlelength=1.2, columnspacing=1.2)
    ax.set_xlim(-0.6, len(boxes) + 0.8)
    ax.set_ylim(-2.4, 2.6)
    ax.axis("off")
    return fig


# -------------------------------------------------- boxes and arrows (Chapters 5 and 8)

def _box(ax: Any, x: float, y: float, w: float, h: float, text: str, colour: str,
         **text_kw: Any) -> None:
    """A rounded box centred at (x, y) with `text` in it."""
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, facecolor=colour,
                                edgecolor="#555555", lw=0.8,
                                boxstyle="round,pad=0.02,rounding_size=0.06"))
    ax.text(x, y, text, ha="center", va="center", fontsize=TEXT_PT, **text_kw)


def _arrow(ax: Any, start: tuple[float, float], end: tuple[float, float],
           label: str = "", **kw: Any) -> None:
    """An arrow from `start` to `end`, with `label` above its middle."""
    ax.annotate("", end, start, arrowprops={"arrowstyle": "->", "lw": 0.9, **kw})
    if label:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.08, label,
                ha="center", va="bottom", fontsize=TEXT_PT, color="#333333")


def plot_stages(rows: dict[str, Sequence[str]], colours: Sequence[str] | None = None
                ) -> Any:
    """Pipelines as rows of stages joined by arrows, one row per pipeline, its name on
    the left (Chapter 5: the seed's `tf.data` stages, the tuned ones, the device
    pipeline). Stage names may hold ``\\n``. Returns the figure.
    """
    import matplotlib.pyplot as plt

    if not rows or any(len(stages) == 0 for stages in rows.values()):
        raise ValueError("rows must map each pipeline's name to its stages (at least "
                         "one each), e.g. {'tf.data': ['read', 'batch']}")
    colours = list(colours or ["#dbe6f4", "#fbe3d2", "#dcefdc", "#eeeeee"])
    n = max(len(stages) for stages in rows.values())
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH, 0.85 * len(rows) + 0.2))
    fig.subplots_adjust(left=0, right=1, bottom=0, top=1)
    for r, (name, stages) in enumerate(rows.items()):
        y = -r
        ax.text(-0.1, y, name, ha="right", va="center", fontsize=TEXT_PT,
                fontweight="bold")
        for i, stage in enumerate(stages):
            _box(ax, i + 0.5, y, 0.82, 0.62, stage, colours[r % len(colours)])
            if i:
                _arrow(ax, (i - 0.09, y), (i + 0.09, y))
    ax.set_xlim(-1.6, n)
    ax.set_ylim(-len(rows) + 0.55, 0.45)
    ax.axis("off")
    return fig


def plot_tpu_then_now() -> Any:
    """Chapter 8's picture: the 2019 TPU *Node* (a notebook VM that reached a remote TPU
    over gRPC; the TPU read and wrote only Cloud Storage) next to today's TPU *VM* (the
    chip attached to the machine the notebook runs on, local files included).
    """
    import matplotlib.pyplot as plt

    fig, (then, now) = plt.subplots(1, 2, figsize=(PAGE_WIDTH, 2.9))
    vm, tpu, gcs, disk = "#dbe6f4", "#dcefdc", "#fbe3d2", "#eeeeee"
    then.set_title("2019: TPU Node", fontsize=TEXT_PT + 1.5)
    _box(then, 0.0, 1.0, 1.5, 0.7, "Colab VM\nnotebook, TF 1 graph", vm)
    _box(then, 2.3, 1.0, 1.3, 0.7, "TPU host\nv2-8, 8 cores", tpu)
    _box(then, 1.15, -0.55, 1.6, 0.6, "Cloud Storage bucket\nTFRecords, checkpoints",
         gcs)
    _box(then, 0.0, -1.45, 1.3, 0.45, "VM's local disk", disk)
    _arrow(then, (0.78, 1.0), (1.62, 1.0), "gRPC")
    _arrow(then, (2.1, 0.62), (1.6, -0.22), color="#aa5500")
    _arrow(then, (0.2, 0.62), (0.7, -0.22), color="#aa5500")
    _arrow(then, (-0.4, 0.62), (-0.4, -1.2))
    then.text(2.5, -1.2, "the TPU cannot\nread the VM's disk", ha="center", va="center",
              fontsize=TEXT_PT, color="#aa0000")
    then.set_xlim(-0.9, 3.1)
    then.set_ylim(-1.85, 1.5)
    now.set_title("Now: TPU VM", fontsize=TEXT_PT + 1.5)
    from matplotlib.patches import FancyBboxPatch

    now.add_patch(FancyBboxPatch((-0.75, -1.15), 3.6, 2.5, facecolor="#f7f9fc",
                                 edgecolor="#555555", lw=0.8,
                                 boxstyle="round,pad=0.02,rounding_size=0.08"))
    now.text(1.05, 1.2, "one machine (Colab TPU runtime)", ha="center", va="center",
             fontsize=TEXT_PT)
    _box(now, 0.1, 0.45, 1.3, 0.7, "notebook\nKeras 3, JAX/TF", vm)
    _box(now, 2.0, 0.45, 1.2, 0.7, "TPU chip(s)\nattached", tpu)
    _box(now, 1.05, -0.65, 1.6, 0.55, "local disk: data,\ncheckpoints", disk)
    _arrow(now, (0.78, 0.45), (1.38, 0.45), "PCIe")
    _arrow(now, (0.3, 0.08), (0.7, -0.36))
    now.text(1.05, -1.55, "no bucket needed", ha="center", va="center",
             fontsize=TEXT_PT, color="#006600")
    now.set_xlim(-0.9, 3.0)
    now.set_ylim(-1.85, 1.5)
    for ax in (then, now):
        ax.axis("off")
    fig.tight_layout()
    return fig
