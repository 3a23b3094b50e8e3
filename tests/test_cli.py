"""The command line, ``python -m fenwicks_lite.train`` (fenwicks_lite.cli, chapter 9): real tiny
runs in subprocesses under JAX with TensorFlow blocked, as on the GPU machine. They carry no
backend marker, so `make test` runs them once.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import no_tensorflow
import numpy as np
import pytest
from quick_data import quick_data_env

from fenwicks_lite import checkpoint, cli

ROOT = Path(__file__).resolve().parent.parent


def test_parser_names_every_override():
    args = cli.parser().parse_args(["--epochs", "3", "--peak-lr", "0.2", "--compile-cache", "off"])
    assert (args.epochs, args.peak_lr, args.compile_cache, args.seeds) == (3, 0.2, "off", 1)


# ------------------------------------------------------------------------------ the CLI (JAX, no TF)

CLI = no_tensorflow.SOURCE + textwrap.dedent("""
    import runpy, sys
    sys.argv = ["fenwicks_lite.train", *sys.argv[1:]]
    runpy.run_module("fenwicks_lite.train", run_name="__main__")
""")


def _cli(args: list[str], env_extra: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, "KERAS_BACKEND": "jax", "FENWICKS_LITE_PROFILE": "quick",
           **quick_data_env(), **(env_extra or {})}
    env.pop("CIFAR10_DIR", None)  # the quick profile's mini sample (or synthetic data)
    return subprocess.Popen([sys.executable, "-c", CLI, *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


TINY_CLI = ["--profile", "quick", "--width", "8", "--batch-size", "64", "--train-limit", "256",
            "--test-limit", "128", "--warmup-epochs", "0.5"]


def _run(args: list[str], timeout: int = 300, **kw) -> tuple[int, str]:
    p = _cli(args, **kw)
    out, _ = p.communicate(timeout=timeout)
    return p.returncode, out


def test_cli_tiny_run_under_jax_without_tensorflow(tmp_path):
    rc, out = _run([*TINY_CLI, "--epochs", "1", "--seeds", "2", "--out", str(tmp_path)])
    assert rc == 0, out[-3000:]
    ckpts = tmp_path / "checkpoints"
    assert sorted(p.name for p in ckpts.iterdir()) == ["jax-cache", "seed0", "seed1"]
    for seed in (0, 1):
        r = json.loads((tmp_path / f"quick-seed{seed}.json").read_text())
        assert r["backend"] == "jax" and r["seed"] == seed and r["epochs"] == 1
        assert len(r["history"]) == 1 and r["n_train"] == 256
        assert r["config"]["profile"]["width"] == 8 and "tensorflow" not in r["versions"]
    # One compile in the process: the second seed reuses the first one's executable.
    t0, t1 = (json.loads((tmp_path / f"quick-seed{s}.json").read_text())["timings"]
              for s in (0, 1))
    assert t0["compiled"] and t0["compile_method"].startswith("ahead-of-time")
    assert not t1["compiled"] and t1["compile_method"].startswith("reused")
    assert t1["compile_s"] < 0.1 * t0["compile_s"], (t0, t1)
    s = json.loads((tmp_path / "quick-summary.json").read_text())
    assert s["n"] == 2 and s["seeds"] == [0, 1] and s["compiles"] == 1
    # One summary line per seed (the per-epoch lines come on top without --quiet), and
    # one line naming the file it wrote, the summary not printed twice.
    lines = [ln for ln in out.splitlines() if ln.startswith("seed ") and "test accuracy" in ln]
    assert len(lines) == 2 and "(reused)" in lines[1], out[-3000:]
    wrote = [ln for ln in out.splitlines() if ln.startswith("seed ") and "wrote" in ln]
    assert wrote == [f"seed {s}: wrote {tmp_path / f'quick-seed{s}.json'}" for s in (0, 1)]
    # A second run into the same folder is refused (its checkpoints are there); nothing is touched.
    before = (tmp_path / "quick-seed0.json").read_text()
    rc, out = _run([*TINY_CLI, "--epochs", "1", "--out", str(tmp_path), "--quiet"])
    assert rc != 0 and "pass resume=True (--resume) to continue it" in out and "Traceback" not in out
    assert (tmp_path / "quick-seed0.json").read_text() == before
    # --resume finds both seeds finished and only writes a new summary beside the old one.
    rc, out = _run([*TINY_CLI, "--epochs", "1", "--seeds", "2", "--out", str(tmp_path), "--resume"])
    assert rc == 0 and out.count("already finished") == 2, out[-3000:]
    assert (tmp_path / "quick-seed0.json").read_text() == before
    assert json.loads((tmp_path / "quick-summary-1.json").read_text())["test_acc_mean"] == s["test_acc_mean"]


def test_backend_flag_chooses_keras_backend_where_tensorflow_is_installed(tmp_path):
    """`python -m fenwicks_lite.train --backend jax` with no $KERAS_BACKEND on a machine
    that has TensorFlow (Keras's default): the flag must act before anything imports
    Keras (it was refused with "keras is already imported with backend tensorflow")."""
    pytest.importorskip("tensorflow")  # the case is a machine where Keras would pick TF
    env = {**os.environ, "FENWICKS_LITE_PROFILE": "quick", **quick_data_env()}
    for name in ("KERAS_BACKEND", "CIFAR10_DIR"):
        env.pop(name, None)
    out = subprocess.run([sys.executable, "-m", "fenwicks_lite.train", *TINY_CLI, "--epochs", "1",
                          "--quiet", "--backend", "jax", "--out", str(tmp_path)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert json.loads((tmp_path / "quick-seed0.json").read_text())["backend"] == "jax"


def test_cli_killed_run_resumes_to_the_same_history(tmp_path):
    args = [*TINY_CLI, "--epochs", "4", "--quiet"]
    # The uninterrupted run, for comparison.
    rc, out = _run([*args, "--out", str(tmp_path / "whole"), "--work-dir", str(tmp_path / "ckpt")])
    assert rc == 0, out[-3000:]
    assert (tmp_path / "ckpt" / "seed0" / checkpoint.CHECKPOINT_FILE).is_file()  # --work-dir, not --out
    assert not (tmp_path / "whole" / "checkpoints").exists()
    whole = json.loads((tmp_path / "whole" / "quick-seed0.json").read_text())
    # The same run, killed (SIGKILL: no clean-up) as soon as its first checkpoint lands.
    ckpt = tmp_path / "cut" / "checkpoints" / "seed0" / checkpoint.CHECKPOINT_FILE
    p = _cli([*args, "--out", str(tmp_path / "cut")])
    deadline = time.time() + 300
    while not ckpt.exists() and p.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    p.send_signal(signal.SIGKILL)
    p.communicate(timeout=60)
    assert p.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert not (tmp_path / "cut" / "quick-seed0.json").exists()
    done_epochs = json.loads(str(np.load(ckpt)["meta"]))["epoch"]
    assert 1 <= done_epochs < 4
    # Resumed: the same epochs, the same history (the data order depends on (seed, epoch) only).
    rc, out = _run([*args, "--out", str(tmp_path / "cut"), "--resume"])
    assert rc == 0, out[-3000:]
    resumed = json.loads((tmp_path / "cut" / "quick-seed0.json").read_text())
    assert resumed["resumed_from_epoch"] == done_epochs and resumed["epochs"] == 4
    assert [h["epoch"] for h in resumed["history"]] == [1, 2, 3, 4]
    for a, b in zip(resumed["history"], whole["history"], strict=True):
        for key in ("lr", "train_loss", "train_acc", "test_acc"):
            assert math.isclose(a[key], b[key], rel_tol=1e-4, abs_tol=1e-4), (key, a, b)
    assert math.isclose(resumed["test_acc"], whole["test_acc"], abs_tol=1e-9)


@pytest.mark.parametrize("args, message", [
    (["--profile", "medium"], "Unknown profile 'medium'"),
    (["--backend", "torch"], "KERAS_BACKEND to one of tensorflow, jax"),
    (["--epochs", "0"], "epochs must be a positive integer"),
    (["--seeds", "0"], "--seeds must be at least 1"),
])
def test_cli_bad_input_says_what_to_do(tmp_path, args, message):
    rc, out = _run([*TINY_CLI, "--out", str(tmp_path), *args], timeout=120)
    assert rc != 0 and message in out and "Traceback" not in out


def test_cli_batch_must_divide_over_devices(tmp_path):
    """Two (simulated) CPU devices: a batch of 63 cannot be split evenly between them."""
    flags = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    rc, out = _run([*TINY_CLI, "--batch-size", "63", "--out", str(tmp_path)], env_extra=flags, timeout=120)
    assert rc != 0 and "batch size 63 does not divide over 2 devices" in out and "Traceback" not in out




def test_cli_resume_refuses_a_finished_seed_of_other_settings(tmp_path, capsys, monkeypatch):
    """--resume skips a finished seed only if its record has this run's settings: else
    the summary would mix runs. Nothing trains here (the check comes first)."""
    from fenwicks_lite import records

    monkeypatch.setenv("KERAS_BACKEND", os.environ.get("KERAS_BACKEND", "jax"))

    def record(seed: int, **overrides) -> None:
        cfg = records.TrainConfig.from_profile(
            "quick", seed=seed, width=8, batch_size=64, train_limit=256, test_limit=128,
            warmup_epochs=0.5, **overrides)
        r = records.Result(
            profile="quick", seed=seed, test_acc=0.5, test_acc_tta=0.5, epochs=cfg.epochs,
            batch_size=64, steps_per_epoch=4, n_train=256, n_test=128, dataset="d",
            timings={"train_s": 1.0, "compile_s": 1.0, "total_s": 2.0}, history=[],
            backend="jax", precision="float32", hardware={"device": "cpu"}, versions={},
            git_commit=None, config=cfg.to_record(), resumed_from_epoch=0, test_true=[1],
            test_pred=[1], test_conf=[0.5], started="s", finished="f")
        records.write_result(r, tmp_path, f"quick-seed{seed}")

    record(0, epochs=1)
    args = [*TINY_CLI, "--out", str(tmp_path), "--resume", "--quiet"]
    with pytest.raises(SystemExit, match=r"quick-seed0.json was trained with other "
                                         r"settings \(epochs: 1 there vs 3 now, peak_lr: "
                                         r".* there vs 0.1 now\): use another --out"):
        cli.main([*args, "--epochs", "3", "--peak-lr", "0.1"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["quick-seed0.json"]
    # The same settings: skipped, and the summary is written.
    assert cli.main([*args, "--epochs", "1"]) == 0
    assert "already finished" in capsys.readouterr().out
    # A broken record is named, with what to do.
    (tmp_path / "quick-seed0.json").write_text("{\"profile\": \"qu")
    with pytest.raises(SystemExit, match="quick-seed0.json is not a run record.*delete it"):
        cli.main([*args, "--epochs", "1"])
