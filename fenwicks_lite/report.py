"""Tables and figures of the finale, read from the result JSON that the training CLI writes (Chapter 9).

Chapter 9 shows a real full run: `python -m fenwicks_lite.train --profile full --seeds 5 --out results/`
writes one `Result` per seed (`fenwicks_lite.records`), and the chapter only reads those files. Everything
here works from the records (and the test labels), so a figure can always be traced to a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fenwicks_lite.fit import lr_schedule
from fenwicks_lite.records import Result, TrainConfig, summarize

#: Reference points quoted from the sources (not measured by this book): the 2019 seed on a Colab TPU
#: (yang2019) and Page's DAWNBench record on one V100 (page2018). Seconds and test accuracy.
QUOTED = (
    {"run": "Yang 2019: Colab TPU v2, TF1 + fenwicks", "train_s": 30.0, "total_s": 64.0, "test_acc": 0.942,
     "note": "about 30 s of steps, about 64 s in all; best run"},
    {"run": "Page 2018: one V100, PyTorch", "train_s": None, "total_s": 79.0, "test_acc": 0.9408,
     "note": "DAWNBench time to 94%"},
)


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], n_classes: int = 10) -> np.ndarray:
    """Counts ``cm[true, predicted]``: row i says where the images of class i went."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in length ({y_true.shape} vs {y_pred.shape}): the "
                         f"predictions must come from the same test images, in order.")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(f"{name} holds labels outside 0..{n_classes - 1}.")
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def per_class_accuracy(cm: np.ndarray) -> np.ndarray:
    """The fraction of each class's images classified correctly (the recall): diagonal / row sum."""
    totals = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(cm) / np.maximum(totals, 1), np.nan)


def most_confident_wrong(result: Result, y_test: Sequence[int], k: int = 8) -> np.ndarray:
    """Indices of the `k` misclassified test images the network was most sure about, surest first:
    often label noise or genuinely ambiguous images, sometimes a systematic confusion."""
    y = np.asarray(y_test)
    pred, conf = np.asarray(result.test_pred), np.asarray(result.test_conf)
    if len(y) != len(pred):
        raise ValueError(f"{len(y)} labels for {len(pred)} predictions: pass the test labels of the run "
                         f"(its n_test is {result.n_test}).")
    wrong = np.flatnonzero(pred != y)
    return wrong[np.argsort(-conf[wrong], kind="stable")][:k]


def seed_table(results: Sequence[Result]) -> str:
    """One row per seed and a mean ± std row (sample std over seeds): accuracy and the three timings."""
    head = f"{'seed':>4} | {'test acc':>8} | {'with TTA':>8} | {'train s':>7} | {'compile s':>9} | {'total s':>7}"
    rows = [head, "-" * len(head)]
    for r in results:
        t = r.timings
        rows.append(f"{r.seed:>4} | {r.test_acc:8.2%} | {r.test_acc_tta:8.2%} | {t['train_s']:7.1f} | "
                    f"{t['compile_s']:9.1f} | {t['total_s']:7.1f}")
    s = summarize(results)
    rows.append("-" * len(head))
    rows.append(f"{'mean':>4} | {s['test_acc_mean']:8.2%} | {s['test_acc_tta_mean']:8.2%} | "
                f"{s['train_s_mean']:7.1f} | {s['compile_s_mean']:9.1f} | {s['total_s_mean']:7.1f}")
    rows.append(f"{'std':>4} | {s['test_acc_std']:8.2%} | {s['test_acc_tta_std']:8.2%} | "
                f"{s['train_s_std']:7.1f} | {s['compile_s_std']:9.1f} | {s['total_s_std']:7.1f}")
    return "\n".join(rows)


def comparison_table(results: Sequence[Result]) -> str:
    """This run's mean (and best) against the quoted 2019 seed and Page's 2018 record (`QUOTED`)."""
    s = summarize(results)
    best = max(r.test_acc for r in results)
    w = 60
    rows = [f"{'run':<{w}} | {'train s':>7} | {'total s':>7} | {'test acc':>17}", "-" * (w + 40)]
    ours = f"this book: {s['hardware']['device']}, {s['backend']}, {s['precision']}"[:w]
    rows.append(f"{ours:<{w}} | {s['train_s_mean']:7.1f} | {s['total_s_mean']:7.1f} | "
                f"{s['test_acc_mean']:6.2%} (best {best:.2%})")
    for q in QUOTED:
        train = f"{q['train_s']:7.1f}" if q["train_s"] is not None else f"{'-':>7}"
        rows.append(f"{q['run']:<{w}} | {train} | {q['total_s']:7.1f} | {q['test_acc']:>17.2%}")
    return "\n".join(rows)


def lr_curve(result: Result) -> np.ndarray:
    """The learning rate at every optimizer step of the run, recomputed from its recorded settings."""
    cfg = TrainConfig.from_record(result.config)
    f = lr_schedule(cfg, result.steps_per_epoch)
    return np.array([float(np.asarray(f(i))) for i in range(cfg.epochs * result.steps_per_epoch)])


def plot_learning_curves(results: Sequence[Result], ax: Any = None) -> Any:
    """Training loss (left axis) and test accuracy (right axis) per epoch, one line per seed."""
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(7, 3.2), dpi=90)[1]
    ax2 = ax.twinx()
    for r in results:
        ep = [h["epoch"] for h in r.history]
        ax.plot(ep, [h["train_loss"] for h in r.history], color="tab:blue", alpha=0.6)
        ax2.plot(ep, [h["test_acc"] for h in r.history], color="tab:orange", alpha=0.6)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss", color="tab:blue")
    ax2.set_ylabel("test accuracy", color="tab:orange")
    ax.set_title(f"{len(results)} seed(s): loss (blue) and test accuracy (orange)", fontsize=9)
    return ax


def plot_lr(result: Result, ax: Any = None) -> Any:
    """The triangular learning rate of the run, per epoch (Chapter 7's schedule, as trained)."""
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(6, 2.4), dpi=90)[1]
    lr = lr_curve(result)
    ax.plot(np.arange(len(lr)) / result.steps_per_epoch, lr)
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate")
    return ax


def plot_confusion(cm: np.ndarray, class_names: Sequence[str], ax: Any = None) -> Any:
    """The confusion matrix as row fractions, with the counts written in the cells."""
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(5.5, 5), dpi=90)[1]
    frac = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    n = len(class_names)
    ax.set_xticks(range(n), class_names, rotation=60, fontsize=8)
    ax.set_yticks(range(n), class_names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(n):
        for j in range(n):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=6,
                    color="white" if frac[i, j] > 0.5 else "black")
    return ax


def plot_confident_wrong(x_test: np.ndarray, y_test: Sequence[int], result: Result,
                         class_names: Sequence[str], k: int = 8) -> Any:
    """The `k` most confidently wrong test images, titled 'true -> predicted (confidence)'."""
    import matplotlib.pyplot as plt

    idx = most_confident_wrong(result, y_test, k)
    fig, axes = plt.subplots(1, max(len(idx), 1), figsize=(1.6 * max(len(idx), 1), 2.0), dpi=90, squeeze=False)
    for ax, i in zip(axes[0], idx, strict=False):
        ax.imshow(x_test[i])
        ax.set_title(f"{class_names[int(y_test[i])]} ->\n{class_names[result.test_pred[i]]} "
                     f"({result.test_conf[i]:.0%})", fontsize=7)
    for ax in axes[0]:
        ax.axis("off")
    return fig
