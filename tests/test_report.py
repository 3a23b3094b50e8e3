"""The finale's tables and figures (chapter 9), on a real quick-run JSON and on exact small cases."""

from __future__ import annotations

import math
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import figure_text  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from notebook_outputs import committed_runtime, printed  # noqa: E402

from fenwicks_lite import data as fw_data  # noqa: E402
from fenwicks_lite import fit, records, report  # noqa: E402

pytestmark = pytest.mark.backend


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A real tiny run, written as JSON and read back, as chapter 9 reads the GPU run's files."""
    (xtr, ytr), (xte, yte) = fw_data.synthetic_cifar10(256, 128, seed=2)
    ds = fw_data.Dataset(xtr, ytr, xte, yte, "synthetic")
    out = tmp_path_factory.mktemp("results")
    paths = []
    for seed in (0, 1):
        cfg = fit.TrainConfig.from_profile("quick", seed=seed, epochs=2, width=8, batch_size=64, train_limit=256,
                                           test_limit=128, warmup_epochs=0.5, verbose=0)
        paths.append(fit.write_result(fit.train(cfg, data=ds), out))
    return fit.load_results(paths), ds


def test_confusion_matrix_exact():
    cm = report.confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], n_classes=3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    np.testing.assert_allclose(report.per_class_accuracy(cm), [0.5, 1.0, 2 / 3])
    assert np.isnan(report.per_class_accuracy(np.zeros((2, 2), int))).all()  # no images: undefined


@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)), min_size=1, max_size=200))
def test_confusion_matrix_counts_everything(pairs):
    y, p = map(np.array, zip(*pairs, strict=True))
    cm = report.confusion_matrix(y, p)
    assert cm.sum() == len(y) and math.isclose(np.trace(cm) / len(y), float(np.mean(y == p)))
    np.testing.assert_array_equal(cm.sum(axis=1), np.bincount(y, minlength=10))


def test_confusion_matrix_bad_input():
    with pytest.raises(ValueError, match="differ in length"):
        report.confusion_matrix([0, 1], [0])
    with pytest.raises(ValueError, match=r"y_pred holds labels outside 0..9"):
        report.confusion_matrix([0], [10])


def test_tables_from_the_json(run):
    results, _ = run
    table = report.seed_table(results)
    lines = table.splitlines()
    assert len(lines) == 2 + 2 + 3  # header, rule, 2 seeds, rule, mean, std
    mean = np.mean([r.test_acc for r in results])
    assert f"{mean:8.2%}" in lines[-2] and lines[2].strip().startswith("0 |")
    comp = report.comparison_table(results)  # quick-profile runs: not the full run
    assert "Yang 2019" in comp and "Page 2018" in comp and f"{mean:.2%}" not in comp
    assert "pending | pending | pending" in comp
    assert "94.24%" in comp and "94.08%" in comp


def test_confident_wrong_are_wrong_and_sorted(run):
    results, ds = run
    r = results[0]
    idx = report.most_confident_wrong(r, ds.y_test, k=5)
    pred, conf = np.array(r.test_pred), np.array(r.test_conf)
    assert (pred[idx] != ds.y_test[idx]).all()
    assert list(conf[idx]) == sorted(conf[idx], reverse=True)
    wrong = pred != ds.y_test
    if wrong.sum() > len(idx):  # nothing left out is surer than the last one shown
        assert conf[wrong].max() == conf[idx[0]]
    with pytest.raises(ValueError, match="pass the test labels of the run"):
        report.most_confident_wrong(r, ds.y_test[:10])


def test_lr_curve_is_the_recorded_schedule(run):
    results, _ = run
    r = results[0]
    lr = report.lr_curve(r)
    assert len(lr) == r.epochs * r.steps_per_epoch
    assert math.isclose(lr.max(), r.config["profile"]["peak_lr"], rel_tol=1e-5)
    assert lr[-1] < lr.max()
    for h in r.history:  # the history's end-of-epoch lr is the curve's value at that step
        assert math.isclose(lr[h["epoch"] * r.steps_per_epoch - 1], h["lr"], rel_tol=1e-5)


def test_lr_curve_reads_records_of_the_old_flat_shape(run):
    """Records written before TrainConfig held a Profile: the recipe beside the name."""
    r = run[0][0]
    flat = {**{k: v for k, v in r.config.items() if k != "profile"},
            **r.config["profile"], "profile": r.config["profile"]["name"]}
    del flat["name"]
    old = records.Result(**{**r.__dict__, "config": flat})
    np.testing.assert_array_equal(report.lr_curve(old), report.lr_curve(r))


def test_figures_draw(run):
    import matplotlib.pyplot as plt

    results, ds = run
    ax = report.plot_learning_curves(results)
    assert len(ax.lines) == len(results)
    epochs = results[0].epochs  # every axis ends with the run (not at the next tick)
    assert ax.get_xlim() == (0, epochs)
    assert report.plot_lr(results[0]).get_xlim() == (0, epochs)
    full = fit.TrainConfig.from_profile("full")
    assert report.plot_schedule(full, n_train=50_000).get_xlim() == (0, full.epochs)
    cm = report.confusion_matrix(ds.y_test, results[0].test_pred)
    ax = report.plot_confusion(cm, ds.class_names)
    assert len(ax.texts) == 100
    fig = report.plot_confident_wrong(ds.x_test, ds.y_test, results[0], ds.class_names, k=4)
    assert len(fig.axes) == min(4, int((np.array(results[0].test_pred) != ds.y_test).sum())) or len(fig.axes) == 1
    plt.close("all")


def test_figures_read_on_a_phone(run):
    """Chapter 9's figures keep to fw.plt.FIGURE_WIDTH and MIN_TEXT_PT: at least 8 px of text
    on a 400 px phone and 9 px at their own size (tests/figure_text.py)."""
    import matplotlib.pyplot as plt

    results, ds = run
    cm = report.confusion_matrix(ds.y_test, results[0].test_pred)
    wrong = [0, *np.flatnonzero(np.array(results[0].test_pred) != ds.y_test)]
    y = np.array(ds.y_test)
    y[wrong[0]] = (results[0].test_pred[wrong[0]] + 1) % 10  # at least one wrong image
    for fig in (report.plot_learning_curves(results).figure, report.plot_lr(results[0]).figure,
                report.plot_confusion(cm, ds.class_names).figure,
                report.plot_confident_wrong(ds.x_test, y, results[0], ds.class_names, k=8)):
        svg = figure_text.svg_of(fig)
        assert figure_text.smallest_text_px(svg) >= figure_text.PHONE_MIN_PX
        assert figure_text.smallest_text_px(svg, figure_text.view_width(svg) * 4 / 3) >= 9
    plt.close("all")


# ------------------------------------------- chapter 9 pending, and its live seed

def _fake_full_run(results, n=report.MIN_SEEDS):
    """`n` full-profile records made from the tiny run's (seeds and accuracies
    changed), enough for chapter 9 to count as run."""
    import dataclasses

    return [dataclasses.replace(results[i % len(results)], profile="full", seed=i,
                                test_acc=0.9 + i / 1000, test_acc_tta=0.91 + i / 1000)
            for i in range(n)]


def test_pending_until_min_seeds_full_records(run, tmp_path, monkeypatch):
    results, _ = run
    assert not report.is_ready(results)  # quick-profile records never count
    fake = _fake_full_run(results)
    assert report.is_ready(fake) and not report.is_ready(fake[:-1])
    status = report.run_status(fake[:-1])
    assert status.startswith("pending:") and f"{report.MIN_SEEDS - 1} full-profile" in status
    assert "--profile full" in status and not re.search(r"\d+\.\d+%", status)
    done = report.run_status(fake)
    assert done.startswith(f"{report.MIN_SEEDS} full-run records") and "pending" not in done
    assert report.pending("the table") == ("pending: the table, from the committed full "
                                           "run once it exists")
    # full_run reads the folder of records, keeps full-profile runs, in seed order
    for r in reversed(fake[:2]):
        fit.write_result(r, tmp_path, f"full-seed{r.seed}")
    fit.write_result(results[0], tmp_path, "full-seed9")  # a quick run misnamed
    monkeypatch.setenv(report.RESULTS_ENV_VAR, str(tmp_path))
    assert [r.seed for r in report.full_run()] == [0, 1]


def test_run_status_names_the_commit_or_says_it_is_unknown(run):
    """Records from a copy of the tree without .git (the GPU machine's) name no commit:
    chapter 9 printed 'git commit None'."""
    import dataclasses

    fake = _fake_full_run(run[0])
    named = [dataclasses.replace(r, git_commit="0123456789abcdef") for r in fake]
    assert "\ngit commit 0123456789 | finished " in report.run_status(named)
    unnamed = [dataclasses.replace(r, git_commit=None) for r in fake]
    assert "\ngit commit unknown | finished " in report.run_status(unnamed)


def test_what_to_expect_is_the_committed_run_or_pending(run):
    results, _ = run
    pending = report.what_to_expect(results[:1])
    assert pending.startswith("pending: chapter 9's GPU run is not committed yet")
    assert not re.search(r"\d[%s]", pending)  # no figure of its own before the run
    fake = _fake_full_run(results)
    for r in fake:  # epochs of 1, 2, 3 and 4 s in every seed: the median is 2.5 s
        r.history = [{**r.history[0], "train_s": float(j)} for j in (1, 2, 3, 4)]
    text = report.what_to_expect(fake)
    s = records.summarize(fake)
    assert text.splitlines()[0] == (f"chapter 9's run: {len(fake)} seeds on "
                                    f"{fake[0].hardware['device']}")
    assert f"accuracy: {s['test_acc_mean']:.2%} ± {s['test_acc_std']:.2%} on" in text
    assert f"{s['test_acc_tta_mean']:.2%} with flip TTA" in text
    assert "0 of 5 seeds reach 94% without TTA" in text  # 90.0% .. 90.4%
    assert "then 2.50 s per epoch\n  (median)" in text
    assert f"{s['train_s_mean']:.1f} s of training per seed" in text
    assert max(len(line) for line in text.splitlines()) <= 88


def test_chapter8_says_what_to_expect_from_the_committed_run():
    """Chapter 8's "What to expect" prints `what_to_expect` of the committed records:
    committing chapter 9's run makes this fail until chapter 8 is re-executed."""
    import nbformat

    nb = nbformat.read(CHAPTER9.with_name("08_accelerators.ipynb"), as_version=4)
    (cell,) = [c for c in nb.cells if "report.what_to_expect(" in c.source]
    assert printed(cell) == report.what_to_expect(report.full_run()), (
        "re-execute chapter 8 in the full profile")


def test_recipe_text_reads_the_config_and_the_schedule():
    cfg = fit.TrainConfig.from_profile("full")
    text = report.recipe_text(cfg)
    assert "512 images, 97 steps per epoch (336 left out, a new draw each epoch)" in text
    assert "24, 2,328 steps in all" in text
    assert "0 to 0.4 at step 485 (epoch 5)" in text
    assert "momentum 0.9" in text and "weight decay 0.0005" in text
    assert "pad 4 px" in text and "8x8 cutout" in text
    assert "TPU mixed_bfloat16" in text and "(T4) mixed_float16; CPU float32" in text
    other = report.recipe_text(
        cfg.replace(peak_lr=0.2, warmup_epochs=4, batch_size=256))
    assert "0 to 0.2 at step 780 (epoch 4)" in other and "195 steps per epoch" in other
    curve = report.schedule_curve(cfg)
    assert len(curve) == 2328 and curve.argmax() == 485 and curve[0] == 0


def test_comparison_table_without_records_quotes_only_sourced_figures():
    comp = report.comparison_table([])
    assert comp.startswith("this book, chapter 9 (the seed's recipe)\n"
                           "    pending | pending | pending")
    assert sorted(re.findall(r"\d+\.\d+%", comp)) == ["94.08%", "94.08%", "94.24%",
                                                      "94.24%"]
    seed_rows = [p for p in report.PUBLISHED if p["recipe"] == "seed"]
    assert len(seed_rows) == 2
    flat = " ".join(comp.split())
    for p in seed_rows:
        assert f"{p['hardware']} | {p['acc']} | {p['time']}" in comp
        assert " ".join(p["quote"].split()) in flat


def test_published_table_keeps_every_line_within_the_width():
    """Chapters 9 and 10 print it into an 88-column output box: a longer line (the
    seed's notebook URL behind a 6-space indent was 91) wraps at its indent on the
    page, leaving a blank line and the URL at the margin. A word too long for its
    indent keeps what indent still fits, whole and unbroken."""
    for text in (report.comparison_table([]), report.published_table(report.PUBLISHED)):
        assert max(map(len, text.splitlines())) <= 88, text
    url = "https://example.org/" + "x" * 59 + ".ipynb"  # 85 characters
    row = {"who": "w", "hardware": "h", "acc": "1%", "time": "1 s",
           "source": f"key, {url} at commit 0123456"}
    assert report.published_table([row]).splitlines() == [
        "w", "    h | 1% | 1 s", "    key,", "   " + url, "      at commit 0123456"]
    longer = {**row, "source": f"key, {url}xxxxx"}  # 90: no indent is left for it
    assert report.published_table([longer]).splitlines()[3] == url + "xxxxx"


def test_comparison_table_with_records_names_the_run(run):
    results, _ = run
    fake = _fake_full_run(results)
    comp = report.comparison_table(fake)
    s = records.summarize(fake)
    assert comp.startswith("this book, chapter 9 (the seed's recipe)\n    "
                           f"{s['hardware']['device']} | {s['test_acc_mean']:.2%} | "
                           f"{s['train_s_mean']:.1f} s\n")
    assert f"mean of {len(fake)} seeds" in comp


def test_published_rows_quote_their_figures() -> None:
    report.check_published()
    assert len(report.PUBLISHED) >= 5
    assert {p["recipe"] for p in report.PUBLISHED} == {"seed", "fast"}
    assert all("http" in r["source"] for r in report.PUBLISHED)
    page8 = [r for r in report.PUBLISHED if "part 8" in r["who"]][0]
    assert (page8["acc"], page8["time"]) == ("94.1%", "26s")
    assert page8["hardware"] == "1 V100"
    drifted = [
        {**report.PUBLISHED[2], "acc": "94%"},
        {**report.PUBLISHED[3], "time": "3 s"},  # inside "3.83 seconds": not a match
        {**report.PUBLISHED[3], "time": "3.29 seconds"},  # the other script's
    ]
    for row in drifted:
        with pytest.raises(ValueError, match="not in its quote"):
            report.check_published([row])
    for key in ("source", "recipe"):
        with pytest.raises(ValueError, match="lacks"):
            report.check_published([{**report.PUBLISHED[0], key: ""}])
    # the seed's time is derived from two clock readings of its log: it must be in
    # the derivation, which must rest on the quote's readings
    seed = report.PUBLISHED[0]
    assert seed["time"] == "64 s" and "17:51:35" in seed["quote"]
    assert "17:52:39" in seed["quote"] and "17:51:35" in seed["derived"]
    with pytest.raises(ValueError, match="not in its derivation"):
        report.check_published([{**seed, "time": "65 s"}])
    with pytest.raises(ValueError, match="not in its quote"):
        report.check_published([{**seed, "derived": ""}])  # 64 s is not printed
    with pytest.raises(ValueError, match="not in its quote"):
        report.check_published([{**seed, "acc": "94.2%"}])  # a rounded figure


def test_live_seed_runs_only_on_an_accelerator_or_when_asked():
    from fenwicks_lite.accel import DeviceInfo

    cpu, gpu = DeviceInfo("cpu", 1, "Test CPU (2 cores)"), DeviceInfo("gpu", 1, "T4")
    go, why = report.live_seed_plan(cpu, env={})
    assert not go and why.startswith("not run") and "Change runtime type" in why
    assert "impractical" in why and report.LIVE_SEED_ENV_VAR in why
    assert report.live_seed_plan(gpu, env={})[0]
    assert report.live_seed_plan(DeviceInfo("tpu", 1, "TPU v5 lite"), env={})[0]
    assert report.live_seed_plan(cpu, env={report.LIVE_SEED_ENV_VAR: "1"})[0]
    assert not report.live_seed_plan(cpu, env={report.LIVE_SEED_ENV_VAR: "0"})[0]


def test_train_seed_defaults_to_the_full_recipe(monkeypatch):
    seen = {}
    monkeypatch.setattr(fit, "train",
                        lambda cfg, data=None: seen.setdefault("cfg", cfg))
    report.train_seed(seed=3, verbose=0)
    assert seen["cfg"].profile == fit.TrainConfig.from_profile("full").profile
    assert (seen["cfg"].seed, seen["cfg"].verbose) == (3, 0)


def test_train_seed_trains_and_sits_beside_the_committed_runs(run):
    results, ds = run
    cfg = fit.TrainConfig.from_profile("quick", epochs=1, width=8, batch_size=64,
                                       warmup_epochs=0.5, train_limit=256,
                                       test_limit=128)
    live = report.train_seed(cfg, seed=5, data=ds, verbose=0)
    assert (live.seed, live.epochs, live.n_train) == (5, 1, 256)
    pending_table = report.live_table(live, [])
    assert "pending: no full run committed" in pending_table
    assert f"{live.test_acc:8.2%}" in pending_table.splitlines()[-1]
    assert live.hardware["device"][:22] in pending_table
    assert max(map(len, pending_table.splitlines())) <= 88
    fake = _fake_full_run(results)
    table = report.live_table(live, fake)
    mean = np.mean([r.test_acc for r in fake])
    rows = table.splitlines()
    # one row per committed seed and their mean
    assert sum(r.startswith("committed ") for r in rows) == len(fake) + 1
    assert f"{mean:8.2%}" in next(r for r in rows if r.startswith("committed mean"))
    assert table.splitlines()[-1].startswith("here (quick)")


# ----------------------------- chapter 9's committed outputs against its records

CHAPTER9 = Path(__file__).resolve().parent.parent / "book" / "09_full_run.ipynb"
#: accuracy figures chapter 9 may print without a record: the quoted sources' and the
#: 94% target
SOURCED = {p["acc"] for p in report.PUBLISHED if p["recipe"] == "seed"} | {"94%"}


def chapter9_expected(results, device):
    """Cell id -> what the cell must print, recomputed from the records: the text, or
    None (a figure, no text)."""
    ready, p = report.is_ready(results), report.pending
    r0 = results[0] if ready else None
    return {
        "75461354": report.run_status(results),
        "c41d2e6b": report.recipe_text(fit.TrainConfig.from_profile("full")),
        "d9e0f1a2": None,
        "26e861aa": report.seed_table(results) if ready else p("the table of seeds"),
        "4d6d8def": (report.headline(results) if ready
                     else p("the mean and spread over seeds")),
        "d4a3ef8f": report.comparison_table(results),
        "a3cbe0f4": None if ready else p("the learning curves"),
        "a44e1813": report.epoch_log(r0, every=4) if ready else p("the training log"),
        "a7fc4f71": None if ready else p("the confusion matrix"),
        "bf7583bd": None if ready else p("the accuracy per class"),
        "7d2aa5ef": None if ready else p("the most confidently wrong images"),
        "f4a5b6c7": (report.live_seed_plan(device, env={})[1]
                     if device is not None else "a CPU run: no live seed"),
    }


def chapter9_problems(nb, results) -> list[str]:
    """Every way chapter 9's committed outputs differ from the records: a printed text
    that is not the recomputation, a text the test cannot recompute, and while the
    run is pending any accuracy figure that is not a quoted source's."""
    import nbformat

    expected = chapter9_expected(results, committed_runtime(nb)[0])
    code = [c for c in nb.cells if c.cell_type == "code"]
    found, problems = set(), []
    for i, cell in enumerate(code):
        text = printed(cell)
        if i < 2 or "fw.exercises.check(" in cell.source:
            continue  # setup, environment line (test_book), the self-checks
        if cell.id in expected:
            found.add(cell.id)
            want = expected[cell.id]
            if want is None and text:
                problems.append(f"cell {cell.id} should print no text, prints "
                                f"{text[:80]!r}")
            elif want is not None and text != want:
                problems.append(f"cell {cell.id} prints {text[:200]!r}, the records "
                                f"give {want[:200]!r}")
        elif text:
            problems.append(f"cell {cell.id} prints text this test cannot recompute: "
                            f"{text[:80]!r}")
    problems += [f"cell {k} is missing" for k in set(expected) - found]
    if not report.is_ready(results):
        everything = nbformat.writes(nb)
        for figure in re.findall(r"\d+(?:\.\d+)?%", "\n".join(
                printed(c) for c in code)):
            if figure not in SOURCED:
                problems.append(f"pending, yet an output shows {figure}")
        problems += ["pending, yet a figure is drawn from records"
                     for _ in re.findall(r"confusion matrix, \d+ seeds", everything)]
    return problems


def test_chapter9_prints_exactly_what_its_committed_records_give():
    """Every number chapter 9 prints equals its recomputation from the committed JSON
    (or, while the run is pending, says so and quotes only sourced figures)."""
    import nbformat

    nb = nbformat.read(CHAPTER9, as_version=4)
    results = report.full_run()
    problems = chapter9_problems(nb, results)
    assert not problems, ("re-execute chapter 9 in the full profile (`python -m "
                          "fwbook.notebooks execute --profile full "
                          "book/09_full_run.ipynb`):\n" + "\n".join(problems))
    if not report.is_ready(results):
        status = printed(next(c for c in nb.cells if c.get("id") == "75461354"))
        assert status.startswith("pending: chapter 9's GPU run is not committed")


def _with_output(nb, cell_id, text):
    import copy

    from nbformat.v4 import new_output

    nb = copy.deepcopy(nb)
    cell = next(c for c in nb.cells if c.get("id") == cell_id)
    cell.outputs = [new_output("stream", name="stdout", text=text + "\n")]
    return nb


def test_chapter9_check_catches_stale_numbers(run):
    import nbformat

    nb = nbformat.read(CHAPTER9, as_version=4)
    # pending: a number left behind anywhere is caught
    stale = _with_output(nb, "a3cbe0f4", "test accuracy 94.31% over 5 seeds")
    assert any("94.31%" in p for p in chapter9_problems(stale, []))
    # a run: every printed text equals the recomputation, to the last digit
    fake = _fake_full_run(run[0])
    ready = nb
    for cid, text in chapter9_expected(fake, committed_runtime(nb)[0]).items():
        ready = _with_output(ready, cid, text) if text is not None else ready
        if text is None:
            next(c for c in ready.cells if c.get("id") == cid).outputs = []
    assert chapter9_problems(ready, fake) == []
    table = report.seed_table(fake)
    acc = fake[0].test_acc
    off = table.replace(f"{acc:8.2%}", f"{acc + 1e-4:8.2%}", 1)
    assert off != table
    assert chapter9_problems(_with_output(ready, "26e861aa", off), fake)
    assert chapter9_problems(_with_output(ready, "a7fc4f71", "94.1%"), fake)
    # pending outputs left in place after the records arrive are stale too
    assert chapter9_problems(nb, fake)


# ---------------------------------------------- minutes per chapter (chapter 1's table)

def _times_record():
    """A small reader-times record: two chapters measured, one (09) in the contents only."""
    machine = {"cpu": "Test CPU 9000", "cores": 2}
    return {
        "profile": "quick",
        "toc": ["01_data_location", "02_cifar10", "09_full_run"],
        "note": "a fixture",
        "passes": {
            "cpu": {"backend": "tensorflow", "machine": machine,
                    "date": "2026-11-28T00:10:00+00:00", "git_commit": "abcdef0123456789",
                    "chapters": {"01_data_location": {"cells_s": 20.0, "wall_s": 24.0},
                                 "02_cifar10": {"cells_s": 90.0, "wall_s": 96.0}}},
            "tpu": {"backend": "jax", "machine": machine,
                    "date": "2026-11-28T00:20:00+00:00", "git_commit": "abcdef0123456789",
                    "chapters": {"01_data_location": {"cells_s": 1.0},
                                 "02_cifar10": {"cells_s": 150.0, "wall_s": 162.0}}},
        },
    }


def test_chapter_minutes_from_a_record(tmp_path):
    import json

    record = _times_record()
    assert report.reader_minutes(record) == {
        "01_data_location": {"cpu": 0.4, "tpu": 1 / 60},
        "02_cifar10": {"cpu": 1.6, "tpu": 2.7},
        "09_full_run": {"cpu": None, "tpu": None},
    }
    path = tmp_path / "reader_times.json"
    path.write_text(json.dumps(record))
    table = report.chapter_minutes(report.reader_times(path))
    # a "not measured" cell widens its column; the notes are wrapped to the table's width
    assert table.splitlines()[:7] == [
        "chapter          |          CPU |     TPU-like",
        "-" * 46,
        "01_data_location |          0.4 |        < 0.1",
        "02_cifar10       |          1.6 |          2.7",
        "09_full_run      | not measured | not measured",
        "all measured     |          2.0 |          2.7",
        "",
    ]
    assert max(map(len, table.splitlines())) == 46
    words = " ".join(table.split())
    assert ("CPU: as a Colab CPU runtime, Keras on tensorflow; measured 2026-11-28 on Test "
            "CPU 9000, 2 cores, commit abcdef0") in words
    assert ("TPU-like: as a Colab TPU runtime, Keras on jax; measured 2026-11-28 on Test "
            "CPU 9000, 2 cores, commit abcdef0 - on a CPU, NOT on a TPU") in words
    assert "note: a fixture" in words


def test_chapter_minutes_fit_a_phone():
    """With every chapter measured (the committed record), each line of chapter 1's
    table and notes fits PHONE_COLUMNS, the columns a 400 px page shows without
    wrapping; the columns shrink to their widest cell."""
    record = _times_record()
    record["toc"].remove("09_full_run")
    table = report.chapter_minutes(record)
    assert table.splitlines()[:3] == [
        "chapter          | CPU | TPU-like",
        "-" * 33,
        "01_data_location | 0.4 |    < 0.1",
    ]
    for committed in (None, report.reader_times()):
        lines = report.chapter_minutes(committed).splitlines()
        assert max(map(len, lines)) <= report.PHONE_COLUMNS, lines
    assert "fenwicks_lite/results/reader_times.json" in report.chapter_minutes()


def test_chapter_minutes_with_one_pass_only():
    record = _times_record()
    del record["passes"]["tpu"]
    table = report.chapter_minutes(record)
    assert "02_cifar10       |          1.6 | not measured" in table
    assert "TPU-like: not measured" in table and "NOT on a TPU" not in table


def test_the_committed_reader_times_cover_the_contents():
    """The record the wheel ships: every chapter of _toc.yml has a row, measured or not."""
    from pathlib import Path

    import yaml

    record = report.reader_times()
    root = Path(report.__file__).resolve().parent.parent
    if (root / "_toc.yml").is_file():  # a checkout: the contents the record was made for
        toc = yaml.safe_load((root / "_toc.yml").read_text())
        chapters = [Path(c["file"]).name for part in toc["parts"]
                    if part["caption"] in ("Chapters", "Appendix") for c in part["chapters"]]
        assert set(chapters) <= set(record["toc"]), (chapters, record["toc"])
    assert set(record["passes"]) == {"cpu", "tpu"}
    rows = report.chapter_minutes(record).splitlines()
    assert all(any(line.startswith(f"{stem} ") for line in rows) for stem in record["toc"])


def test_reader_times_errors_say_what_to_do(tmp_path):
    import json

    with pytest.raises(FileNotFoundError, match=r"no reader-times record at .*nope.json: "
                       r"re-create it with FENWICKS_LITE_READER_TIMES=<path>"):
        report.reader_times(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match=r"is not JSON .*reinstall fenwicks_lite"):
        report.reader_times(bad)
    for broken, why in [
        ([], "not a JSON object"),
        ({"toc": "01", "passes": {}}, "'toc' must list"),
        ({"toc": [], "passes": {}}, "no 'passes'"),
        ({"toc": [], "passes": {"gpu": {}}}, "unknown pass 'gpu'"),
        ({"toc": [], "passes": {"cpu": {"chapters": {}, "date": "x"}}}, "pass 'cpu' has no 'machine'"),
        ({"toc": [], "passes": {"cpu": {"chapters": {"01": {"cells_s": -1}}, "date": "x",
                                        "machine": {}}}}, r"pass 'cpu', 01: no seconds"),
    ]:
        bad.write_text(json.dumps(broken))
        with pytest.raises(ValueError, match=f"not a reader-times record \\({why}"):
            report.reader_times(bad)
        with pytest.raises(ValueError, match="re-create it with"):
            report.chapter_minutes(broken)


def test_readme_quotes_the_committed_reader_times():
    """README's "Run it in Colab" table of minutes is the committed record's, row for row, and names
    the machine and the date of each pass."""
    from pathlib import Path

    readme = (Path(report.__file__).resolve().parent.parent / "README.md").read_text()
    record = report.reader_times()
    expected = {}  # the rows chapter_minutes prints: every chapter and "all measured"
    for line in report.chapter_minutes(record).splitlines()[2:]:
        if not line:
            break
        stem, *cells = (c.strip() for c in line.split("|"))
        expected[stem] = cells
    assert set(record["toc"]) | {"all measured"} == set(expected)
    quoted = {}
    for line in readme.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] in expected:
            quoted[cells[0]] = cells[1:]
    assert quoted == expected, "README.md's minutes differ from fenwicks_lite/results/reader_times.json"
    assert report.READER_TIMES in readme
    for run in record["passes"].values():
        assert run["machine"]["cpu"] in readme and run["date"][:10] in readme


def test_the_book_names_the_command_its_gpu_run_runs():
    """Chapter 9 says its numbers come from `RUN_COMMAND`; book/scripts/gpu_run.sh runs
    it: the two agree on the number of seeds, and the chapter shows that command."""
    root = Path(__file__).resolve().parents[1]
    script = (root / "book" / "scripts" / "gpu_run.sh").read_text()
    (default,) = re.findall(r'seeds="\$\{SEEDS:-(\d+)\}"', script)
    assert f"--seeds {default} " in report.RUN_COMMAND
    assert int(default) >= report.MIN_SEEDS
    chapter = (root / "book" / "09_full_run.ipynb").read_text()
    assert f"--profile full --seeds {default} " in chapter
