"""The finale's tables and figures (chapter 9), on a real quick-run JSON and on exact small cases."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

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
    comp = report.comparison_table(results)
    assert "Yang 2019" in comp and "Page 2018" in comp and f"{mean:6.2%}" in comp
    assert "94.20%" in comp and "94.08%" in comp


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
    report.plot_lr(results[0])
    cm = report.confusion_matrix(ds.y_test, results[0].test_pred)
    ax = report.plot_confusion(cm, ds.class_names)
    assert len(ax.texts) == 100
    fig = report.plot_confident_wrong(ds.x_test, ds.y_test, results[0], ds.class_names, k=4)
    assert len(fig.axes) == min(4, int((np.array(results[0].test_pred) != ds.y_test).sum())) or len(fig.axes) == 1
    plt.close("all")


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
    assert table.splitlines()[:6] == [
        "chapter          |      Colab CPU | TPU-like (JAX)",
        "-" * 50,
        "01_data_location |            0.4 |          < 0.1",
        "02_cifar10       |            1.6 |            2.7",
        "09_full_run      |   not measured |   not measured",
        "all measured     |            2.0 |            2.7",
    ]
    words = " ".join(table.split())  # long lines are wrapped at 88 columns
    assert ("Colab CPU: measured 2026-11-28 on Test CPU 9000, 2 cores, Keras on tensorflow, "
            "commit abcdef0") in words
    assert "TPU-like: measured on a CPU with JAX, NOT on a TPU" in words
    assert "note: a fixture" in words
    assert max(map(len, table.splitlines())) <= 88


def test_chapter_minutes_with_one_pass_only():
    record = _times_record()
    del record["passes"]["tpu"]
    table = report.chapter_minutes(record)
    assert "02_cifar10       |            1.6 |   not measured" in table
    assert "TPU-like (JAX): not measured" in table and "NOT on a TPU" not in table


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
