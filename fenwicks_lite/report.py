"""Tables and figures of the finale, read from the result JSON that the training CLI
writes (Chapter 9).

Chapter 9 shows a real full run:
`python -m fenwicks_lite.train --profile full --seeds 5 --out results/` writes one
`Result` per seed (`fenwicks_lite.records`), and the chapter only reads those files.
Everything here works from the records (and the test labels), so a figure can always be
traced to a file. Until the run is committed (fewer than `MIN_SEEDS` records) the
chapter is *pending*: `run_status` says so, `recipe_text` and `schedule_curve` show the
recipe as it will train, and `train_seed` / `live_table` let a reader with a GPU or TPU
run one seed and see it beside the committed runs.

Chapter 1's "Run it in Colab" reads the other record kept here: minutes per chapter as a
reader runs them (`chapter_minutes`, from ``reader_times.json``).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np

from fenwicks_lite.fit import epoch_line, lr_schedule
from fenwicks_lite.plt import FIGURE_WIDTH, MIN_TEXT_PT
from fenwicks_lite.records import Result, TrainConfig, load_results, summarize

#: The published figures the book sets its runs beside, quoted, not measured here:
#: chapter 9's comparison table (the rows whose ``recipe`` is "seed": the seed's
#: DavidNet recipe, 24 epochs) and chapter 10's final table (all rows; "fast": the later
#: speed runs). Each row names its source (URL, file and commit where there is one)
#: and quotes the sentence or table line its figures come from; `check_published` makes
#: sure each figure appears in its quote.
PUBLISHED: tuple[dict[str, str], ...] = (
    {
        "who": "Yang 2019, fenwicks tutorial 2 (the seed)",
        "recipe": "seed",
        "hardware": "Colab TPU v2",
        "acc": "94.24%",
        "time": "64 s",
        "note": "the best of the notebook's saved runs; the training cell by its log's "
        "clock, about 31 s of it training steps (chapter 8 reads the log)",
        "source": "yang2019, https://github.com/fenwickslab/fenwicks/blob/master/"
        "tutorials/tutorial2_cifar10.ipynb at commit 04cbdc7, the outputs of the "
        "training and evaluation cells",
        "quote": "Saving checkpoints for 0 into gs://gs_colab/work/tutorial2/"
        "2019-05-22-17:51:35/model.ckpt. [...] Starting evaluation at "
        "2019-05-22T17:52:39Z [...] Test results: accuracy= 94.24%, loss= 196.00.",
        "derived": "64 s from 17:51:35 (the checkpoint folder's stamp: the clock when "
        "the training cell made the estimator) to 17:52:39 (evaluation starts)",
    },
    {
        "who": "Page 2018, DavidNet, 24 epochs (part 4)",
        "recipe": "seed",
        "hardware": "1 V100",
        "acc": "94.08%",
        "time": "79s",
        "note": "median of 50 runs, 35 of which reached 94%",
        "source": "https://github.com/davidcpage/cifar10-fast, README.md (commit "
        "97c62fc); https://myrtle.ai/learn/how-to-train-your-resnet/",
        "quote": "In my test, 35 out of 50 runs reached 94% test set accuracy with a "
        "median of 94.08%. Runtime for 24 epochs is roughly 79s.",
    },
    {
        "who": "Page 2019, bag of tricks, 10 epochs (part 8)",
        "recipe": "fast",
        "hardware": "1 V100",
        "acc": "94.1%",
        "time": "26s",
        "note": "with flip TTA (mirror only); 34 s for 94.1% without TTA, 13 epochs",
        "source": "https://myrtle.ai/how-to-train-your-resnet-8-bag-of-tricks/ "
        "(19 August 2019; also davidcpage/cifar10-fast bag_of_tricks.ipynb)",
        "quote": "we can reduce training to 10 epochs (!) and achieve a TTA test "
        "accuracy of 94.1% in 26s!",
    },
    {
        "who": "airbench94.py (PyTorch, paper)",
        "recipe": "fast",
        "hardware": "1 A100",
        "acc": "94.01%",
        "time": "3.83 seconds",
        "note": "mean of n=1000 runs (airbench94.py's header), flip + translate "
        "TTA (tta_level 2)",
        "source": "Jordan 2024, https://arxiv.org/abs/2404.00498, section 1; "
        "KellerJordan/cifar10-airbench airbench94.py (commit 01a2367)",
        "quote": "airbench94.py: 94.01% accuracy in 3.83 seconds",
    },
    {
        "who": "airbench94_compiled.py (torch.compile, paper)",
        "recipe": "fast",
        "hardware": "1 A100",
        "acc": "94.01%",
        "time": "3.29 seconds",
        "note": "the paper's headline; its README later timed 3.09 s (torch 2.4.1)",
        "source": "Jordan 2024, https://arxiv.org/abs/2404.00498, section 1",
        "quote": "airbench94_compiled.py: 94.01% accuracy in 3.29 seconds",
    },
    {
        "who": "airbench94_muon.py (Muon optimizer)",
        "recipe": "fast",
        "hardware": "1 A100 (400 W)",
        "acc": "94.01%",
        "time": "2.59s",
        "note": "the record after the paper; torch 2.4.1",
        "source": "https://github.com/KellerJordan/cifar10-airbench, README.md",
        "quote": "airbench94_muon.py | 94.01% | 2.59s | 0.29",
    },
)


def check_published(rows: Sequence[dict[str, str]] = PUBLISHED) -> None:
    """Raises ValueError unless every row has a source and a quote that contains its
    accuracy and time verbatim: a figure cannot drift from the sentence it cites. A
    time the source does not print but that follows from what it prints (the seed's:
    two clock readings of its log) may instead be stated, with its arithmetic, in the
    row's ``derived``, which must then contain it.

    Chapters 9 and 10 show the published figures it checks.
    """
    for r in rows:
        missing = [k for k in ("who", "recipe", "hardware", "acc", "time", "source",
                             "quote") if not r.get(k)]
        if missing:
            raise ValueError(f"{r.get('who')!r} lacks {missing}: name the source.")
        for k in ("acc", "time"):  # as a whole figure: "3 s" is not in "3.83 s"
            derived = k == "time" and bool(r.get("derived"))
            where = r["derived"] if derived else r["quote"]
            if not re.search(rf"(?<![\d.]){re.escape(r[k])}(?!\d)", where):
                raise ValueError(
                    f"{r['who']!r}: its {k} {r[k]!r} is not in its "
                    f"{'derivation' if derived else 'quote'}; quote the "
                    "sentence the figure comes from (or, for a time, say how it "
                    "follows from the quote in 'derived')."
                )


#: Chapter 9 shows its tables and figures once this many full-profile records are
#: committed (issue 10: never fewer than 5 seeds); below it the run is *pending*.
MIN_SEEDS = 5


def confusion_matrix(
    y_true: Sequence[int], y_pred: Sequence[int], n_classes: int = 10
) -> np.ndarray:
    """Counts ``cm[true, predicted]``: row i says where the images of class i went.

    Chapter 9 shows it for the committed run.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in length ({y_true.shape} vs "
                         f"{y_pred.shape}): the predictions must come from the same "
                         "test images, in order.")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        if y.size and (y.min() < 0 or y.max() >= n_classes):
            raise ValueError(f"{name} holds labels outside 0..{n_classes - 1}.")
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def per_class_accuracy(cm: np.ndarray) -> np.ndarray:
    """The fraction of each class's images classified correctly (the recall):
    diagonal / row sum.

    Chapter 9 shows it for the committed run.
    """
    totals = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(cm) / np.maximum(totals, 1), np.nan)


def most_confident_wrong(
    result: Result, y_test: Sequence[int], k: int = 8
) -> np.ndarray:
    """Indices of the `k` misclassified test images the network was most sure about,
    surest first: often label noise or genuinely ambiguous images, sometimes a
    systematic confusion.

    Chapter 9 shows these images (`plot_confident_wrong`).
    """
    y = np.asarray(y_test)
    pred, conf = np.asarray(result.test_pred), np.asarray(result.test_conf)
    if len(y) != len(pred):
        raise ValueError(f"{len(y)} labels for {len(pred)} predictions: pass the test "
                         f"labels of the run (its n_test is {result.n_test}).")
    wrong = np.flatnonzero(pred != y)
    return wrong[np.argsort(-conf[wrong], kind="stable")][:k]


def seed_table(results: Sequence[Result]) -> str:
    """One row per seed and a mean ± std row (sample std over seeds): accuracy and the
    three timings.

    Chapter 9 shows it for the committed run.
    """
    head = (f"{'seed':>4} | {'test acc':>8} | {'with TTA':>8} | "
            f"{'train s':>7} | {'compile s':>9} | {'total s':>7}")
    rows = [head, "-" * len(head)]
    for r in results:
        t = r.timings
        rows.append(f"{r.seed:>4} | {r.test_acc:8.2%} | {r.test_acc_tta:8.2%} | "
                    f"{t['train_s']:7.1f} | {t['compile_s']:9.1f} | "
                    f"{t['total_s']:7.1f}")
    s = summarize(results)
    rows.append("-" * len(head))
    for stat in ("mean", "std"):
        rows.append(f"{stat:>4} | {s[f'test_acc_{stat}']:8.2%} | "
                    f"{s[f'test_acc_tta_{stat}']:8.2%} | {s[f'train_s_{stat}']:7.1f} | "
                    f"{s[f'compile_s_{stat}']:9.1f} | {s[f'total_s_{stat}']:7.1f}")
    return "\n".join(rows)


def comparison_table(results: Sequence[Result]) -> str:
    """This book's run (its mean over seeds, on its hardware) beside the published
    figures for the seed's recipe (`PUBLISHED` rows of recipe "seed"), each with its
    hardware, accuracy and time as its source gives them, what the figure is, and the
    source with its quote. Without records the book's row says *pending* (chapter 9
    before its GPU run)."""
    seed_rows = [p for p in PUBLISHED if p["recipe"] == "seed"]
    return published_table([finale_row(results), *seed_rows])


def finale_row(results: Sequence[Result]) -> dict[str, str]:
    """Chapter 9's run as a row of `published_table`: the mean test accuracy over the
    committed seeds, the mean seconds of training steps, the hardware; "pending" while
    fewer than `MIN_SEEDS` records exist (`is_ready`)."""
    where = "fenwicks_lite/results/full-seed*.json"
    if not is_ready(results):
        return {"who": "this book, chapter 9 (the seed's recipe)",
                "hardware": "pending", "acc": "pending", "time": "pending",
                "note": "no full run committed yet", "source": f"{where} (not yet run)"}
    s = summarize(results)
    best = max(r.test_acc for r in results)
    return {"who": "this book, chapter 9 (the seed's recipe)",
            "hardware": s["hardware"]["device"], "acc": f"{s['test_acc_mean']:.2%}",
            "time": f"{s['train_s_mean']:.1f} s",
            "note": (f"mean of {s['n']} seeds, best {best:.2%}, "
                     f"{s['test_acc_tta_mean']:.2%} with flip TTA; seconds of "
                     f"training steps, {s['total_s_mean']:.0f} s in all; "
                     f"{s['precision']}"),
            "source": where}


def published_table(rows: Sequence[dict[str, str]], width: int = 88) -> str:
    """`rows` (dicts like `PUBLISHED`'s) as text: per row its name, then hardware |
    accuracy | time, what the figures are, the source with its quote and, where a
    figure is derived from the quote, how; wrapped to `width` columns (chapter 9's
    comparison table, chapter 10's final table). A word too long for its indent (a
    URL) keeps what indent still fits: a page wraps a wider line at its indent, which
    sends the word to the left margin under a blank line."""
    out = []
    for r in rows:
        out.append(r["who"])
        for text in (f"{r['hardware']} | {r['acc']} | {r['time']}", r.get("note", ""),
                     r["source"] + (f': "{r["quote"]}"' if r.get("quote") else ""),
                     r.get("derived", "")):
            if text:
                out += [_within(line, width)
                        for line in textwrap.wrap(text, width, initial_indent="    ",
                                                  subsequent_indent="      ",
                                                  break_long_words=False,
                                                  break_on_hyphens=False)]
    return "\n".join(out)


def _within(line: str, width: int) -> str:
    """`line` less as much of its indent as it runs past `width` (a URL wider than its
    indented line; a word wider than `width` itself keeps no indent and stays whole)."""
    indent = len(line) - len(line.lstrip())
    return line[min(indent, max(len(line) - width, 0)):]


def schedule_curve(cfg: TrainConfig, n_train: int | None = None) -> np.ndarray:
    """The learning rate at every optimizer step of a run of `cfg` on `n_train` images
    (default: the config's ``train_limit``, else all of CIFAR-10's training images):
    the schedule exactly as `fit.train` builds it (chapter 9, before and after the
    run)."""
    return _lr_steps(cfg, _images_and_steps(cfg, n_train)[1])


def _images_and_steps(cfg: TrainConfig, n_train: int | None) -> tuple[int, int]:
    """`n_train` (default: the config's ``train_limit``, else all of CIFAR-10's training
    images) and the steps per epoch a run of `cfg` takes on them."""
    from fenwicks_lite.data import FULL_SIZES
    from fenwicks_lite.pipeline import steps_per_epoch

    n = n_train or cfg.train_limit or FULL_SIZES[0]
    return n, steps_per_epoch(n, cfg.batch_size)


def _lr_steps(cfg: TrainConfig, steps: int) -> np.ndarray:
    f = lr_schedule(cfg, steps)  # vectorized: one call for every step
    return np.asarray(f(np.arange(cfg.epochs * steps)), dtype=np.float64)


def lr_curve(result: Result) -> np.ndarray:
    """The learning rate at every optimizer step of the run, recomputed from its
    recorded settings.

    Chapter 9 shows it for the committed run.
    """
    return _lr_steps(TrainConfig.from_record(result.config), result.steps_per_epoch)


def plot_learning_curves(results: Sequence[Result], ax: Any = None) -> Any:
    """Training loss (left axis) and test accuracy (right axis) per epoch, one line per
    seed.

    Chapter 9 shows it for the committed run.
    """
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(FIGURE_WIDTH, 3.0), dpi=90)[1]
    ax2 = ax.twinx()
    for r in results:
        ep = [h["epoch"] for h in r.history]
        ax.plot(ep, [h["train_loss"] for h in r.history], color="tab:blue", alpha=0.6)
        ax2.plot(ep, [h["test_acc"] for h in r.history], color="tab:orange", alpha=0.6)
    if results:  # the axis ends with the run, not at the next round tick
        ax.set_xlim(0, max(h["epoch"] for r in results for h in r.history))
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss", color="tab:blue")
    ax2.set_ylabel("test accuracy", color="tab:orange")
    ax.set_title(f"{len(results)} seed(s): loss (blue) and test accuracy (orange)",
                 fontsize=9)
    return ax


def plot_lr(result: Result, ax: Any = None) -> Any:
    """The triangular learning rate of the run, per epoch (Chapter 7's schedule, as
    trained)."""
    return _plot_lr_by_epoch(lr_curve(result), result.steps_per_epoch, ax)


def plot_schedule(cfg: TrainConfig, n_train: int | None = None, ax: Any = None) -> Any:
    """The learning rate a run of `cfg` will follow, per epoch (`schedule_curve`):
    chapter 9 draws it before the run exists."""
    n, steps = _images_and_steps(cfg, n_train)
    return _plot_lr_by_epoch(schedule_curve(cfg, n), steps, ax)


def _plot_lr_by_epoch(lr: np.ndarray, steps_per_epoch: int, ax: Any = None) -> Any:
    """`lr` (one learning rate a step) against epochs, the axis ending with the run
    (`plot_lr`, `plot_schedule`)."""
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(FIGURE_WIDTH, 2.4), dpi=90)[1]
    ax.plot(np.arange(len(lr)) / steps_per_epoch, lr)
    ax.set_xlim(0, len(lr) / steps_per_epoch)
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate")
    return ax


def plot_confusion(cm: np.ndarray, class_names: Sequence[str], ax: Any = None) -> Any:
    """The confusion matrix as row fractions, with the counts written in the cells.

    Chapter 9 shows it for the committed run.
    """
    import matplotlib.pyplot as plt

    ax = ax or plt.subplots(figsize=(4.4, 4.4), dpi=90)[1]
    frac = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    ax.imshow(frac, cmap="Blues", vmin=0, vmax=1)
    n = len(class_names)
    ax.set_xticks(range(n), class_names, rotation=60, fontsize=MIN_TEXT_PT)
    ax.set_yticks(range(n), class_names, fontsize=MIN_TEXT_PT)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(n):
        for j in range(n):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=MIN_TEXT_PT,
                    color="white" if frac[i, j] > 0.5 else "black")
    return ax


def plot_confident_wrong(x_test: np.ndarray, y_test: Sequence[int], result: Result,
                         class_names: Sequence[str], k: int = 8) -> Any:
    """The `k` most confidently wrong test images, each titled
    'true -> predicted (confidence)'.

    Chapter 9 shows it for the committed run.
    """
    import matplotlib.pyplot as plt

    idx = most_confident_wrong(result, y_test, k)
    n = max(len(idx), 1)
    cols = min(n, 4)  # four to a row: the titles stay readable on a phone
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(FIGURE_WIDTH, 1.75 * rows), dpi=90,
                             squeeze=False)
    for ax, i in zip(axes.flat, idx, strict=False):
        ax.imshow(x_test[i])
        ax.set_title(f"{class_names[int(y_test[i])]} ->\n"
                     f"{class_names[result.test_pred[i]]} "
                     f"({result.test_conf[i]:.0%})", fontsize=MIN_TEXT_PT)
    for ax in axes.flat:
        ax.axis("off")
    return fig


# ---------------------------------------------- the committed records (package data)

#: ``FENWICKS_LITE_RESULTS=<folder>`` makes `committed_results` read another folder
#: (tests).
RESULTS_ENV_VAR = "FENWICKS_LITE_RESULTS"


def committed_results(pattern: str = "full-seed*.json") -> list[Any]:
    """The paths of chapter 9's committed run records, sorted: the JSON files in the
    package's own ``fenwicks_lite/results/`` (package data, so they travel with the
    wheel), or in ``$FENWICKS_LITE_RESULTS`` when set. Read them with
    `fenwicks_lite.fit.load_results`.
    """
    import os
    from pathlib import Path

    folder = os.environ.get(RESULTS_ENV_VAR)
    root = Path(folder) if folder else _packaged_results()
    if not root.is_dir():
        raise FileNotFoundError(f"no results folder at {root}: set {RESULTS_ENV_VAR} "
                                "to a folder of run records, or reinstall "
                                "fenwicks_lite (it ships them).")
    return sorted(root.glob(pattern))


def _packaged_results() -> Any:
    """The package's own ``fenwicks_lite/results/`` folder (package data)."""
    from importlib import resources
    from pathlib import Path

    return Path(str(resources.files("fenwicks_lite") / "results"))


# ------------------------------------- chapter 9 before and after its run is committed

#: ``FENWICKS_LITE_LIVE_SEED=1`` lets chapter 9's "Run one seed yourself" train on a
#: runtime without a GPU or TPU (it never does so unasked).
LIVE_SEED_ENV_VAR = "FENWICKS_LITE_LIVE_SEED"

#: The command of the book's full run (chapter 9; book/scripts/gpu_run.sh runs it with
#: the data staging, ten seeds as issue 10 asks; `make train` runs it with SEEDS=5 by
#: default, enough for every table).
RUN_COMMAND = ("KERAS_BACKEND=jax python -m fenwicks_lite.train --profile full \\\n"
               "    --seeds 10 --out fenwicks_lite/results/")


def full_run(paths: Sequence[Any] | None = None) -> list[Result]:
    """The committed records of chapter 9's full run (`committed_results`, or `paths`):
    only full-profile runs, in seed order."""
    found = committed_results() if paths is None else paths
    runs = [r for r in load_results(found) if r.profile == "full"]
    return sorted(runs, key=lambda r: r.seed)


def is_ready(results: Sequence[Result]) -> bool:
    """Whether chapter 9 has its run: at least `MIN_SEEDS` full-profile records."""
    return sum(r.profile == "full" for r in results) >= MIN_SEEDS


def pending(what: str) -> str:
    """The one line a chapter-9 cell prints instead of `what` while the run is
    pending.

    Chapter 9 prints it in place of each result while its run is pending.
    """
    return f"pending: {what}, from the committed full run once it exists"


def run_status(results: Sequence[Result]) -> str:
    """Chapter 9's first output: which committed records it reads and where they ran,
    or, while fewer than `MIN_SEEDS` exist, that the run is pending, what it will show
    and how to run it."""
    if not is_ready(results):
        return "\n".join([
            "pending: chapter 9's GPU run is not committed yet:",
            f"  {len(results)} full-profile records in fenwicks_lite/results/, "
            f"{MIN_SEEDS} needed.",
            "It will show, per seed and over the seeds, with the hardware that gave "
            "them:",
            "  test accuracy with and without flip TTA, its mean, spread and how many",
            "  seeds reach 94%; compile, training and total seconds; the learning",
            "  curves, the confusion matrix, per-class accuracy and the most",
            "  confidently wrong test images; the 2019 sources beside it.",
            "To make it (a GPU or TPU; chapter 8, 'Running the finale yourself'):",
            *(f"  {line}" for line in RUN_COMMAND.splitlines()),
            "  then commit the JSON records and re-execute this chapter.",
        ])
    r0 = results[0]
    version = r0.versions.get(r0.backend, "")
    return "\n".join([
        f"{len(results)} full-run records committed (seeds "
        f"{', '.join(str(r.seed) for r in results)}), read from the package's "
        "records",
        f"hardware: {r0.hardware['device']} | backend {r0.backend} {version} | "
        f"precision {r0.precision}",
        f"git commit {(r0.git_commit or 'unknown')[:10]} | finished {r0.finished}",
    ])


def recipe_text(cfg: TrainConfig, n_train: int | None = None) -> str:
    """The recipe of `cfg` as `fit.train` will run it on `n_train` images (default:
    the config's limit, else all of CIFAR-10): the numbers come from the config, the
    schedule and `fw.accel.choose_precision` (chapter 9, before and after its run)."""
    from fenwicks_lite import accel, transform

    n, steps = _images_and_steps(cfg, n_train)
    lr = schedule_curve(cfg, n)
    peak = int(np.argmax(lr))
    c = cfg.width
    tpu, new, old, cpu = (accel.choose_precision("tpu"),
                          accel.choose_precision("gpu", (8, 0)),
                          accel.choose_precision("gpu", (7, 5)),
                          accel.choose_precision("cpu"))
    return "\n".join([
        f"profile {cfg.profile.name}: DavidNet of width {c} (channels {c}, {2 * c}, "
        f"{4 * c}, {8 * c})",
        f"data:          {n:,} training images",
        f"batch:         {cfg.batch_size} images, {steps} steps per epoch "
        f"({n - steps * cfg.batch_size} left out, a new draw each epoch)",
        f"epochs:        {cfg.epochs}, {len(lr):,} steps in all",
        f"learning rate: linear from 0 to {lr[peak]:g} at step {peak:,} (epoch "
        f"{peak / steps:g}), then linear",
        f"               to 0 at step {len(lr):,} (epoch {len(lr) / steps:g})",
        f"optimizer:     SGD, Nesterov momentum {cfg.momentum}, coupled weight decay "
        f"{cfg.weight_decay:g}",
        f"augmentation:  pad {transform.PAD} px and crop back to 32x32, flip, "
        f"{cfg.cutout}x{cfg.cutout} cutout",
        f"precision:     by hardware (fw.accel.choose_precision): TPU {tpu};",
        f"               GPU of compute capability >= 8.0 (A100, L4, H100) {new};",
        f"               older GPU (T4) {old}; CPU {cpu}",
    ])


def headline(results: Sequence[Result]) -> str:
    """The run in three lines: accuracy (mean ± sample std, with TTA), time per seed
    and compile time, and how many seeds reach 94%.

    Chapter 9 prints it for the committed run.
    """
    s = summarize(results)
    return "\n".join([
        f"test accuracy {s['test_acc_mean']:.2%} ± {s['test_acc_std']:.2%} over "
        f"{s['n']} seeds (with flip TTA {s['test_acc_tta_mean']:.2%} ± "
        f"{s['test_acc_tta_std']:.2%})",
        f"training {s['train_s_mean']:.1f} ± {s['train_s_std']:.1f} s per seed; "
        f"compile {s['compile_s_sum']:.1f} s in all ({s['compiles']} compile(s) for "
        f"{s['n']} seeds)",
        f"{s['reach_94']} of {s['n']} seeds reach 94% without TTA",
    ])


def what_to_expect(results: Sequence[Result]) -> str:
    """Chapter 8's "What to expect" from chapter 9's committed run: where it ran, the
    accuracy, the compile time and the seconds per epoch and per seed; while the run is
    pending, one line that says so (the book states no GPU figure of its own before)."""
    if not is_ready(results):
        return ("pending: chapter 9's GPU run is not committed yet, so this book "
                "states no GPU time\nor accuracy of its own.")
    s = summarize(results)
    r0 = results[0]
    epoch_s = float(np.median([h["train_s"] for r in results for h in r.history]))
    return "\n".join([
        f"chapter 9's run: {s['n']} seeds on {r0.hardware['device']}",
        f"  ({r0.backend}, {r0.precision}, the {r0.profile} profile, "
        f"{r0.epochs} epochs)",
        f"accuracy: {s['test_acc_mean']:.2%} ± {s['test_acc_std']:.2%} on the test "
        f"set, {s['test_acc_tta_mean']:.2%} with flip TTA;",
        f"  {s['reach_94']} of {s['n']} seeds reach 94% without TTA",
        f"time: compile {s['compile_s_sum']:.1f} s ({s['compiles']} compile(s) in "
        f"all), then {epoch_s:.2f} s per epoch",
        f"  (median), {s['train_s_mean']:.1f} s of training per seed",
    ])


def epoch_log(result: Result, every: int = 4) -> str:
    """The run's log reprinted from its record: every `every`-th epoch and the last
    (the 2019 log printed about every two epochs).

    Chapter 9 shows it for the committed run.
    """
    cfg = TrainConfig.from_record(result.config)
    n = len(result.history)
    shown = sorted({*range(0, n, every), n - 1}) if n else []
    return "\n".join(epoch_line(cfg, result.history[i]) for i in shown)


def live_seed_plan(device: Any = None, env: dict[str, str] | None = None,
                   on_cpu: str = "A CPU run of the full recipe is impractical"
                   ) -> tuple[bool, str]:
    """Whether chapter 9's "Run one seed yourself" trains here, and one line why.

    It trains where `fw.accel` finds a GPU or TPU (`device`, default: this runtime's),
    or where the reader opted in with ``FENWICKS_LITE_LIVE_SEED=1`` (`env`, default:
    the environment); otherwise it says what to do instead, starting with `on_cpu`
    (chapter 10 names its own recipe there). The quick profile on a CPU (CI) never
    trains here.
    """
    import os

    from fenwicks_lite import accel

    dev = device if device is not None else accel.device_info()
    env = os.environ if env is None else env
    opted_in = env.get(LIVE_SEED_ENV_VAR, "").strip().lower() in ("1", "true", "yes")
    if dev.platform in ("gpu", "tpu"):
        return True, f"training one seed on this runtime: {dev}"
    if opted_in:
        return True, (f"training one seed on this runtime: {dev}\n({LIVE_SEED_ENV_VAR} "
                      "is set; the full recipe is impractical on a CPU)")
    return False, "\n".join([
        f"not run: no GPU or TPU on this runtime ({dev}).",
        f"{on_cpu} (chapter 8 times one step of a",
        "quarter-width DavidNet on a CPU). In Colab: Runtime -> Change runtime type ->",
        "a GPU or TPU, then run the chapter again. To train here anyway (say, in the",
        f"quick profile), set {LIVE_SEED_ENV_VAR}=1.",
    ])


def train_seed(config: TrainConfig | None = None, *, seed: int | None = None,
               data: Any = None, verbose: int = 1) -> Result:
    """Chapter 9's "Run one seed yourself": one seed of the chapter's recipe (default:
    the full profile's `TrainConfig`, seed 0) trained on this runtime by `fit.train`,
    returned as its record; `live_table` puts it beside the committed runs.

    `data` is a `fw.data.Dataset` (default: the profile's). Nothing is written to the
    package's records: a live run is the reader's, not the book's.
    """
    from fenwicks_lite.fit import train

    cfg = config if config is not None else TrainConfig.from_profile("full")
    cfg = cfg.replace(verbose=verbose, **({} if seed is None else {"seed": seed}))
    return train(cfg, data=data)


def live_table(live: Result, committed: Sequence[Result]) -> str:
    """A live seed (`train_seed`) beside the committed runs (or beside *pending* when
    there are none): one row each and their mean, every row with its hardware and
    precision (`beside_table`).

    Chapter 9's "Run one seed yourself" prints it.
    """
    runs = [(r.seed, r.hardware["device"], r.precision, r.test_acc, r.test_acc_tta,
             r.timings["train_s"]) for r in committed if r.profile == "full"]
    return beside_table(live, runs, "pending: no full run committed yet", digits=1)


def beside_table(live: Result, runs: Sequence[tuple], pending_text: str,
                 digits: int = 1) -> str:
    """The table of a live run beside committed ones (chapter 9's seed, chapter 10's
    fast recipe): `runs` are (seed, device, precision, accuracy, accuracy with the
    recipe's TTA, training seconds), then their mean, or `pending_text` without them;
    `live` (a `Result`) last; seconds to `digits` decimals."""
    w = 22
    head = (f"{'run':<14} | {'hardware':<{w}} | {'precision':<14} | {'test acc':>8} | "
            f"{'with TTA':>8} | {'train s':>7}")
    rows = [head, "-" * len(head)]

    def row(name: str, device: str, precision: str, acc: float, tta: float,
            train_s: float) -> str:
        return (f"{name:<14} | {str(device)[:w]:<{w}} | {precision:<14} | {acc:8.2%} | "
                f"{tta:8.2%} | {train_s:7.{digits}f}")

    for seed, *rest in runs:
        rows.append(row(f"committed {seed}", *rest))
    if runs:
        mean = [float(np.mean([r[k] for r in runs])) for k in (3, 4, 5)]
        rows.append(row("committed mean", f"{len(runs)} seeds", "", *mean))
    else:
        rows.append(f"{'committed':<14} | {pending_text}")
    rows.append("-" * len(head))
    label = "this runtime" if live.profile == "full" else f"here ({live.profile})"
    rows.append(row(label[:14], live.hardware["device"], live.precision, live.test_acc,
                    live.test_acc_tta, live.timings["train_s"]))
    return "\n".join(rows)


# ======================================================================================
# Minutes per chapter as a reader runs it (Chapter 1, "Run it in Colab")
# --------------------------------------------------------------------------------------
# Read from the committed record fenwicks_lite/results/reader_times.json, written by the
# reader test (tests/test_reader_runtime.py with FENWICKS_LITE_READER_TIMES=<path>).
# ======================================================================================

#: The record `chapter_minutes` reads: package data beside chapter 9's records.
READER_TIMES = "reader_times.json"

#: The reader test's two passes: the column headings of `chapter_minutes`.
READER_PASSES = {
    "cpu": "CPU",
    "tpu": "TPU-like",
}

#: What each pass stands for, in the notes under `chapter_minutes`' table.
READER_RUNTIMES = {
    "cpu": "as a Colab CPU runtime",
    "tpu": "as a Colab TPU runtime",
}

#: `chapter_minutes` fits its lines in this many columns (wider only where a "not
#: measured" cell needs it): a 400 px phone shows about 42 of the book's code font
#: (Chapter 1).
PHONE_COLUMNS = 40

_REDO = ("re-create it with FENWICKS_LITE_READER_TIMES=<path> python -m pytest -m "
         "notebooks tests/test_reader_runtime.py (a checkout of the book), or "
         "reinstall fenwicks_lite (it ships the record)")


def reader_times(path: Any = None) -> dict[str, Any]:
    """The reader test's record of seconds per chapter (Chapter 1), checked.

    `path` defaults to the package's own ``fenwicks_lite/results/reader_times.json``.
    A missing or malformed record is an error that says how to make a new one.
    """
    import json
    from pathlib import Path

    path = _packaged_results() / READER_TIMES if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no reader-times record at {path}: {_REDO}.")
    try:
        record = json.loads(path.read_text())
    except ValueError as e:
        raise ValueError(f"{path} is not JSON ({e}): {_REDO}.") from None
    problem = _reader_times_problem(record)
    if problem:
        raise ValueError(f"{path} is not a reader-times record ({problem}): {_REDO}.")
    return record


def _reader_times_problem(record: Any) -> str:
    """What is wrong with a reader-times record, or "" when nothing is."""
    if not isinstance(record, dict):
        return "not a JSON object"
    toc = record.get("toc")
    if not isinstance(toc, list) or not all(isinstance(s, str) for s in toc):
        return "'toc' must list the chapters' file stems"
    passes = record.get("passes")
    if not isinstance(passes, dict) or not passes:
        return "no 'passes'"
    for name, p in passes.items():
        if name not in READER_PASSES:
            return f"unknown pass {name!r} (known: {', '.join(READER_PASSES)})"
        if not isinstance(p, dict):
            return f"pass {name!r} is not an object"
        for key in ("chapters", "machine", "date"):
            if key not in p:
                return f"pass {name!r} has no {key!r}"
        if not isinstance(p["chapters"], dict):
            return f"pass {name!r}: 'chapters' is not an object"
        for stem, t in p["chapters"].items():
            s = _seconds(t) if isinstance(t, dict) else None
            if not isinstance(s, (int, float)) or s < 0:
                return f"pass {name!r}, {stem}: no seconds (wall_s or cells_s >= 0)"
    return ""


def _seconds(times: dict[str, Any]) -> Any:
    """A chapter's seconds in a pass: its kernel's wall time (``wall_s``), or the sum of
    its cells' times where the record has only that (``cells_s``)."""
    return times.get("wall_s", times.get("cells_s"))


def reader_minutes(record: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """``{chapter: {"cpu": minutes, "tpu": minutes}}`` for every chapter of the record's
    table of contents, in its order; None where a pass did not measure the chapter.

    Minutes are a chapter's wall time in its own kernel (``wall_s``), or the sum of its
    cells' times where the record has only that (``cells_s``).

    Chapter 1 prints the table of minutes per chapter (`chapter_minutes`).
    """
    return _minutes_of(reader_times() if record is None else _checked(record))


def _checked(record: Any) -> dict[str, Any]:
    """`record` if it is a reader-times record, else the error that says what to do."""
    if problem := _reader_times_problem(record):
        raise ValueError(f"not a reader-times record ({problem}): {_REDO}.")
    return record


def _minutes_of(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    passes = record["passes"]
    out: dict[str, dict[str, Any]] = {}
    for stem in record["toc"]:
        row = {}
        for name in READER_PASSES:
            t = passes.get(name, {}).get("chapters", {}).get(stem)
            row[name] = None if t is None else _seconds(t) / 60
        out[stem] = row
    return out


def format_minutes(minutes: float | None) -> str:
    """One cell of `chapter_minutes`: minutes to one decimal, "< 0.1", or "not
    measured".

    Chapter 1 prints the table of minutes per chapter (`chapter_minutes`).
    """
    if minutes is None:
        return "not measured"
    return "< 0.1" if minutes < 0.05 else f"{minutes:.1f}"


def chapter_minutes(record: dict[str, Any] | None = None) -> str:
    """Chapter 1's table: minutes per chapter in the quick profile, as the reader test
    measured them, with the machine and the date of each pass.

    ``CPU`` is the pass as a Colab CPU runtime (Keras on TensorFlow) on a 2-core CPU,
    the cores Colab's free CPU runtime has. ``TPU-like`` is the pass as a Colab TPU
    runtime (Keras on JAX, TensorFlow only where a chapter installs it), run on the
    same kind of CPU: measured on a CPU with JAX, NOT on a TPU. A chapter of the book's
    contents that a pass did not run shows "not measured". Every line fits
    `PHONE_COLUMNS` (the notes are wrapped), so the table reads on a phone without
    wrapping. `record` defaults to the package's `reader_times`.
    """
    import textwrap

    source = f"fenwicks_lite/results/{READER_TIMES}" if record is None else None
    record = reader_times() if record is None else _checked(record)
    rows = _minutes_of(record)
    cells = {stem: [format_minutes(row[p]) for p in READER_PASSES]
             for stem, row in rows.items()}
    totals = []
    for p in READER_PASSES:
        measured = [row[p] for row in rows.values() if row[p] is not None]
        totals.append(format_minutes(sum(measured)) if measured else "not measured")
    cells["all measured"] = totals
    width = max([len("chapter"), *map(len, cells)])
    cols = [max(len(label), *(len(c[i]) for c in cells.values()))
            for i, label in enumerate(READER_PASSES.values())]

    def line(first: str, rest: list[str]) -> str:
        return " | ".join([f"{first:<{width}}",
                           *(f"{c:>{w}}" for c, w in zip(rest, cols, strict=True))])

    head = line("chapter", list(READER_PASSES.values()))
    lines = [head, "-" * len(head)]
    lines += [line(stem, row) for stem, row in cells.items()]
    notes = [f"minutes per chapter, {record.get('profile', 'quick')} profile, each "
             "chapter in its own kernel" + (f", from {source}" if source else "")]
    for p, label in READER_PASSES.items():
        if p not in record["passes"]:
            notes.append(f"{label}: not measured")
            continue
        run = record["passes"][p]
        m = run["machine"]
        date, commit = str(run["date"])[:10], str(run.get("git_commit", "?"))[:7]
        where = f"{m.get('cpu', '?')}, {m.get('cores', '?')} cores"
        notes.append(f"{label}: {READER_RUNTIMES[p]}, Keras on "
                     f"{run.get('backend', '?')}; measured {date} on {where}, "
                     f"commit {commit}"
                     + (" - on a CPU, NOT on a TPU" if p == "tpu" else ""))
    if record.get("note"):
        notes.append(f"note: {record['note']}")
    fit = max(PHONE_COLUMNS, len(head))
    return "\n".join([*lines, ""] + [textwrap.fill(n, fit, break_on_hyphens=False)
                                      for n in notes])
