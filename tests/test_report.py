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
