"""The pipeline benchmark (fenwicks_lite.bench_pipeline, Chapter 5): what it measures and reports, on tiny
data. Timings themselves are not asserted (a benchmark, not a timed test); TensorFlow-only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import figure_text
import no_tensorflow
import numpy as np
import pytest
from quick_data import quick_data_env

from fenwicks_lite import bench_pipeline as B


@pytest.fixture(scope="module")
def tiny():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (96, 32, 32, 3)).astype(np.uint8), rng.integers(0, 10, 96).astype(np.int32)


def test_run_measures_three_pipelines_on_the_same_images(tiny):
    x, y = tiny
    rows = B.run(x, y, batch_size=32, epochs=2)
    assert [r.name for r in rows] == ["naive tf.data", "tuned tf.data", "on device (jax)"]
    for r in rows:
        assert r.images == 96 and r.seconds > 0 and r.images_per_s == pytest.approx(96 / r.seconds)
        assert "CPU" in r.device or "GPU" in r.device or "TPU" in r.device
    assert "no accelerator here" in rows[2].device or "CPU" not in rows[2].device
    table = B.format_table(rows, width=60).splitlines()
    assert "x naive" in table[0] and "1.00" in table[1].split() and table[4] == ""
    assert [t.split()[0] for t in table[1:4]] == ["naive", "tuned", "on"]
    assert max(map(len, table)) <= 61  # the table's own width; the notes wrap to 60
    notes = " ".join(t.strip() for t in table[5:])
    for r in rows:  # every row's device and note, wrapped but whole
        assert f"{r.name}: {r.device}; {r.note}" in notes


def test_fastest_epoch_counts():
    calls = iter([10.0, 13.0, 20.0, 21.0])  # two timed epochs: 3 s, then 1 s (the warm-up is untimed)

    def fake_epoch(_e):
        return [(None, np.zeros(5))] * 2

    import time

    real = time.perf_counter
    time.perf_counter = lambda: next(calls)
    try:
        n, sec = B._time_epochs(fake_epoch, 2, lambda b: None)
    finally:
        time.perf_counter = real
    assert (n, sec) == (10, 1.0)


def test_plot_draws_a_bar_per_pipeline_and_consumer_lines():
    import matplotlib

    matplotlib.use("Agg")
    rows = [B.Row("a", 100.0, 10, 0.1, "CPU"), B.Row("b", 300.0, 10, 0.03, "CPU")]
    ax = B.plot(rows, consumers={"chip": 200.0})
    assert [round(p.get_height()) for p in ax.patches] == [100, 300]
    assert any(round(line.get_ydata()[0]) == 200 for line in ax.lines)
    # chapter 5's chart reads on a phone: at least 8 px of text in a 352 px column
    rows.append(B.Row("on device (jax)", 5e4, 10, 2e-4, "no accelerator here: CPU"))
    ax = B.plot(rows, consumers={"TPU v2, 2019 (40,000/s)": 4e4})
    assert figure_text.smallest_text_px(figure_text.svg_of(ax.figure)) >= figure_text.PHONE_MIN_PX


def test_bad_inputs_say_what_to_do(tiny):
    x, y = tiny
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        B.run(x, y, batch_size=0)
    with pytest.raises(ValueError, match="do not fill one batch"):
        B.run(x, y, batch_size=512)
    with pytest.raises(ValueError, match="must be uint8.*got float32"):
        B.run(x.astype(np.float32), y, batch_size=32)


def test_cli_writes_json(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FENWICKS_LITE_PROFILE", "quick")
    for var, value in quick_data_env().items():
        monkeypatch.setenv(var, value)
    out = tmp_path / "rows.json"
    assert B.main(["--images", "256", "--batch-size", "64", "--epochs", "1", "--no-device", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())
    assert [r["name"] for r in rows] == ["naive tf.data", "tuned tf.data"] and rows[0]["images"] == 256
    assert "tuned tf.data" in capsys.readouterr().out


def test_without_tensorflow_the_benchmark_says_what_to_install_and_what_runs_without(tmp_path):
    """A JAX-only install: the tf.data rows need TensorFlow; `run` and `tf_rows` say so by name,
    with the install line and `device_row`, the row that needs none."""
    x, y = "np.zeros((64, 8, 8, 3), np.uint8)", "np.arange(64) % 10"
    got = no_tensorflow.errors_without_tensorflow({
        "run": f"fw.bench_pipeline.run({x}, {y}, batch_size=32, epochs=1)",
        "tf_rows": f"fw.bench_pipeline.tf_rows({x}, {y}, 32, 1, {str(tmp_path)!r})",
    })
    for name in ("run", "tf_rows"):
        no_tensorflow.assert_says_what_to_install(got[name], f"fw.bench_pipeline.{name}",
                                                  "fw.bench_pipeline.device_row")
    assert list(tmp_path.iterdir()) == []
    # the command line says the same, without a traceback, and fails
    runner = Path(no_tensorflow.__file__)
    env = {**os.environ, **quick_data_env(), "FENWICKS_LITE_PROFILE": "quick"}
    out = subprocess.run([sys.executable, str(runner), "fenwicks_lite.bench_pipeline", "--images", "64",
                          "--batch-size", "32", "--epochs", "1"], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 1, out.stderr[-2000:]
    assert "fw.bench_pipeline.run needs TensorFlow" in out.stderr and "Traceback" not in out.stderr, out.stderr
