"""Pictures of what the input pipeline yields (Chapter 5, The input pipeline).

The seed's May 2019 tutorial checked its `tf.data` pipeline by looking at it:

    converter = fw.transform.tfm_reverse_standard_scaler(X_train_mean/255,
                                                         X_train_std/255)
    fw.anim.show_input_func(eval_input_func, converter=converter)

That call reads the same here. The seed's `fw.anim` played the images as an animation
(one a second, an HTML5 video); this module draws them as one matplotlib grid, which a
printed page and a committed notebook can show.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fenwicks_lite.plt import FIGURE_WIDTH, MIN_TEXT_PT, checked_class_names

#: how far converted float pixels may stray outside [0, 1] (rounding) before it is an
#: error rather than something to clip
RANGE_SLACK = 0.01


def _first_batch(source: Any, n_img: int) -> Any:
    """The first element of `source`: a batch, or a callable's dataset's first batch."""
    if isinstance(source, tuple) and len(source) == 2 and hasattr(source[0], "shape"):
        return source  # one (images, labels) batch
    if callable(source) and not hasattr(source, "__iter__"):
        try:
            wants_params = any(
                p.default is p.empty and p.kind in (p.POSITIONAL_ONLY,
                                                    p.POSITIONAL_OR_KEYWORD)
                for p in inspect.signature(source).parameters.values())
        except (TypeError, ValueError):  # no signature (a builtin): the seed's call
            wants_params = True
        # the seed's input functions took TPUEstimator's params: {'batch_size': ...}
        source = source({"batch_size": n_img}) if wants_params else source()
    try:
        it = iter(source)
    except TypeError:
        raise ValueError(
            f"input_func must be a tf.data.Dataset, an iterable of (images, labels) "
            f"batches, or a function returning one; got {type(source).__name__}."
        ) from None
    try:
        return next(it)
    except StopIteration:
        raise ValueError("input_func gave no batch: the dataset is empty.") from None


def _split(batch: Any) -> tuple[np.ndarray, np.ndarray | None]:
    if isinstance(batch, dict):
        raise ValueError(
            f"a batch is a dict with keys {sorted(batch)}: pass batches of (images, "
            "labels), e.g. ds.map(lambda d: (d['image'], d['label'])).")
    if isinstance(batch, tuple | list):
        images, labels = batch[0], (batch[1] if len(batch) > 1 else None)
    else:
        images, labels = batch, None
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(
            f"images must be a batch (N, H, W, C), got shape {images.shape}: batch the "
            "dataset (ds.batch(n)) or pass a batched input function.")
    if len(images) == 0:
        raise ValueError("the first batch holds no image: check the dataset's size.")
    if labels is not None:
        labels = np.asarray(labels)
        if labels.ndim == 2 and labels.shape[1] > 1:  # one-hot
            labels = labels.argmax(axis=1)
        labels = labels.reshape(len(labels), -1)[:, 0] if labels.ndim else labels
        if labels.shape != (len(images),):
            raise ValueError(
                f"{len(images)} images but labels of shape {labels.shape}: one label "
                "per image.")
    return images, labels


def _displayable(images: np.ndarray) -> np.ndarray:
    if images.dtype == np.uint8:
        return images
    x = images.astype(np.float32)
    lo, hi = float(x.min()), float(x.max())
    if lo < -RANGE_SLACK or hi > 1 + RANGE_SLACK:
        raise ValueError(
            f"pixels run from {lo:.3g} to {hi:.3g}, not [0, 1]: pass converter="
            "fw.transform.tfm_reverse_standard_scaler(mean / 255, std / 255) for "
            "normalized images, or divide 0..255 pixels by 255.")
    return np.clip(x, 0.0, 1.0)


def show_input_func(
    input_func: Any,
    n_img: int = 10,
    converter: Callable[[Any], Any] | None = None,
    class_names: Sequence[str] | None = None,
    ncols: int = 5,
) -> Any:
    """A grid of the first `n_img` images of the first batch an input pipeline yields,
    each titled with its class: the seed's May 2019 `fw.anim.show_input_func`
    (Chapter 5). Returns the matplotlib figure.

    `input_func` is what our chapters have: a `tf.data.Dataset` of (images, labels)
    batches, any iterable of such batches (`fw.pipeline.DeviceDataset`, a list, a
    generator), one (images, labels) batch, or a function returning one of these - a
    function of one argument gets the seed's TPUEstimator params, ``{"batch_size":
    n_img}``. `converter` maps the images back to pixels (for normalized images:
    `fw.transform.tfm_reverse_standard_scaler`); float pixels must then lie in [0, 1].
    `class_names` default to CIFAR-10's (`fw.data.CLASS_NAMES`). The seed played the
    images as an animation; this draws them side by side.
    """
    import matplotlib.pyplot as plt

    for name, v in (("n_img", n_img), ("ncols", ncols)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
            raise ValueError(f"{name} must be a whole number >= 1, got {v!r}.")
    images, labels = _split(_first_batch(input_func, n_img))
    images, labels = images[:n_img], (None if labels is None else labels[:n_img])
    if converter is not None:
        images = np.asarray(converter(images))
    images = _displayable(images)
    names = checked_class_names(np.arange(0) if labels is None else labels, class_names)
    n = len(images)
    cols = min(ncols, n)
    rows = -(-n // cols)
    side = min(1.3, FIGURE_WIDTH / cols)  # inches per image: the row fits a phone
    fig, axes = plt.subplots(rows, cols, figsize=(cols * side, rows * (side + 0.15)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            img = images[i]
            ax.imshow(img[..., 0] if img.shape[-1] == 1 else img,
                      cmap="gray" if img.shape[-1] == 1 else None,
                      interpolation="nearest")
            if labels is not None:
                ax.set_title(names[int(labels[i])], fontsize=MIN_TEXT_PT)
    fig.subplots_adjust(wspace=0.08, hspace=0.3)
    return fig
