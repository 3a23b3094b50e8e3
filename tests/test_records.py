"""fenwicks_lite.records (chapters 8 and 9): the run's config (a Profile inside), the result
record as JSON, the summary over seeds. Exact values; no training here."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

from fenwicks_lite import records
from fenwicks_lite.profiles import FULL, QUICK, Profile

pytestmark = pytest.mark.backend
TrainConfig = records.TrainConfig


def test_config_holds_the_profile_and_reads_its_recipe():
    cfg = TrainConfig.from_profile("full")
    assert cfg.profile is FULL  # held, not copied
    assert (cfg.width, cfg.epochs, cfg.batch_size, cfg.peak_lr, cfg.warmup_epochs) == \
        (64, 24, 512, 0.4, 5)
    assert (cfg.weight_decay, cfg.momentum, cfg.cutout, cfg.train_limit) == \
        (5e-4, 0.9, 8, None)
    one = TrainConfig.from_profile(QUICK, epochs=1, seed=4)
    assert one.profile == dataclasses.replace(QUICK, epochs=1) and one.seed == 4
    assert one.profile.name == "quick" and QUICK.epochs == 2  # the original untouched
    assert TrainConfig.from_profile("quick").width == QUICK.width
    with pytest.raises(AttributeError, match="no attribute 'epochz'"):
        one.epochz  # noqa: B018


def test_replace_routes_recipe_and_run_settings():
    cfg = TrainConfig.from_profile("quick")
    new = cfg.replace(epochs=3, seed=7, resume=True)
    assert (new.epochs, new.profile.epochs, new.seed, new.resume) == (3, 3, 7, True)
    assert cfg.epochs == 2 and cfg.seed == 0  # frozen: a copy
    # dataclasses.replace still works for the run's own fields (chapter 8 uses it)
    assert dataclasses.replace(cfg, precision="float32").precision == "float32"


@pytest.mark.parametrize("overrides, match", [
    (dict(epochs=0), "epochs must be a positive integer"),
    (dict(batch_size=-1), "batch_size must be a positive integer"),
    (dict(warmup_epochs=30), r"warmup_epochs must lie in \[0, epochs=24\]"),
    (dict(precision="float8"), "precision must be one of"),
    (dict(train_limit=0), "train_limit must be a positive number"),
])
def test_config_rejects_bad_values(overrides, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig.from_profile("full", **overrides)


def test_config_rejects_unknown_profile_and_field():
    with pytest.raises(ValueError, match="Unknown profile 'medium'"):
        TrainConfig.from_profile("medium")
    with pytest.raises(TypeError, match=r"unknown TrainConfig fields \['epochz'\]"):
        TrainConfig.from_profile("quick", epochz=3)


def test_run_key_ignores_where_and_how_not_what():
    a = TrainConfig.from_profile("quick", work_dir="/a", verbose=0)
    assert a.run_key() == a.replace(work_dir="/b", resume=True, verbose=1, scan=True,
                                    compile_cache="/c").run_key()
    assert a.run_key() != a.replace(seed=1).run_key()
    assert a.run_key() != a.replace(cutout=4).run_key()
    # flat, the recipe beside the name: what checkpoints store and compare
    assert a.run_key()["profile"] == "quick" and a.run_key()["epochs"] == 2


def test_record_round_trip_new_and_old_shape():
    cfg = TrainConfig.from_profile("quick", seed=3, epochs=1, work_dir="/w")
    rec = json.loads(json.dumps(cfg.to_record()))
    assert rec["profile"]["epochs"] == 1 and rec["profile"]["name"] == "quick"
    assert TrainConfig.from_record(rec) == cfg
    # the flat shape of records written before: the profile's name and its settings
    old = {"profile": "quick", "seed": 3, **{k: getattr(cfg, k)
                                             for k in records.PROFILE_FIELDS},
           "precision": "auto", "work_dir": "/w", "resume": False, "fast": True,
           "scan": None, "verbose": 1}
    assert TrainConfig.from_record(old) == cfg
    with pytest.raises(ValueError, match="lacks 'train_limit': not a TrainConfig record"):
        TrainConfig.from_record({"profile": "quick"})


def _result(**kw) -> records.Result:
    base = dict(profile="quick", seed=0, test_acc=0.5, test_acc_tta=0.6, epochs=1,
                batch_size=64, steps_per_epoch=4, n_train=256, n_test=128, dataset="d",
                timings={"train_s": 1.0, "compile_s": 2.0, "total_s": 4.0,
                         "compiled": True},
                history=[], backend="jax", precision="float32",
                hardware={"device": "cpu"}, versions={}, git_commit=None, config={},
                resumed_from_epoch=0, test_true=[1], test_pred=[1], test_conf=[0.5],
                started="s", finished="f")
    return records.Result(**{**base, **kw})


def test_write_result_never_overwrites(tmp_path):
    paths = [records.write_result(_result(test_acc=a), tmp_path) for a in (0.1, 0.2, 0.3)]
    assert [p.name for p in paths] == ["quick-seed0.json", "quick-seed0-1.json",
                                       "quick-seed0-2.json"]
    assert [r.test_acc for r in records.load_results(paths)] == [0.1, 0.2, 0.3]
    s = records.write_summary({"n": 1}, tmp_path, "quick-summary")
    assert records.write_summary({"n": 2}, tmp_path, "quick-summary").name == \
        "quick-summary-1.json" and json.loads(s.read_text()) == {"n": 1}


def test_summarize_mean_sample_std_and_compiles():
    rs = [_result(seed=i, test_acc=a) for i, a in enumerate([0.93, 0.94, 0.95])]
    rs[1].timings = {**rs[1].timings, "compile_s": 0.0, "compiled": False}
    s = records.summarize(rs)
    assert s["n"] == 3 and s["seeds"] == [0, 1, 2] and s["reach_94"] == 2
    assert math.isclose(s["test_acc_mean"], 0.94) and math.isclose(s["test_acc_std"], 0.01)
    assert s["compiles"] == 2 and s["compile_s_sum"] == 4.0
    assert records.summarize([_result()])["test_acc_std"] == 0.0


def test_summary_line_says_when_the_compile_was_reused():
    assert "compile 2.0 s," in _result().summary()
    assert " after 1 epoch | " in _result().summary()  # not "1 epochs"
    assert " after 24 epochs | " in _result(epochs=24).summary()
    reused = _result(timings={"train_s": 1.0, "compile_s": 0.0, "total_s": 2.0,
                              "compiled": False})
    assert "compile 0.0 s (reused)" in reused.summary()


def test_writable_dir_says_what_to_do(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(PermissionError, match="--out folder .* is not writable.*choose"):
        records.writable_dir(blocker / "sub", "--out")
    assert records.writable_dir(tmp_path / "new", "x").is_dir()


def test_profile_fields_are_the_recipe():
    names = {f.name for f in dataclasses.fields(Profile)} - {"name"}
    assert set(records.PROFILE_FIELDS) == names


def test_summary_line_names_the_recipes_tta_level():
    assert "with flip TTA)" in _result().summary()  # the seed's recipe: no level recorded
    for level, words in records.TTA_LABELS.items():
        line = _result(config={"tta_level": level}).summary()
        assert f"with {words})" in line, line


def test_provenance_fills_the_same_fields_of_both_record_kinds():
    """Chapter 9's `Result` and chapter 10's `RunRecord` say where they ran in the same
    fields, filled by one function."""
    import datetime

    from fenwicks_lite import fast
    from fenwicks_lite.accel import DeviceInfo

    where = records.provenance(DeviceInfo("gpu", 1, "T4"), "mixed_float16", "jax")

    def names(cls):
        return {f.name for f in dataclasses.fields(cls)}

    assert set(where) == {"backend", "precision", "hardware", "versions", "git_commit"}
    assert set(where) <= names(records.Result) & names(fast.RunRecord)
    assert where["hardware"]["device"] == "1 x GPU T4"
    assert set(where["hardware"]) == {"device", "platform", "count", "name", "cpu"}
    assert where["precision"] == "mixed_float16" and where["backend"] == "jax"
    assert {"fenwicks_lite", "keras", "numpy", "python"} <= set(where["versions"])
    stamp = datetime.datetime.fromisoformat(records.now())
    assert stamp.utcoffset() == datetime.timedelta(0) and stamp.microsecond == 0


def test_git_commit_of_a_copy_without_git_is_the_one_its_command_names(
        tmp_path, monkeypatch):
    """The GPU machine runs a copy of the tracked files without .git: its records named
    no commit. There `$FENWICKS_LITE_GIT_COMMIT` names it; in a checkout git's answer
    wins over the variable."""
    import subprocess

    root = Path(records.__file__).resolve().parent.parent
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    monkeypatch.setenv(records.COMMIT_ENV_VAR, "feedc0de")
    assert records.git_commit() == (head or "feedc0de")
    # the same module in a folder outside any checkout (tmp_path), as on the GPU machine
    monkeypatch.setattr(records, "__file__", str(tmp_path / "fenwicks_lite" / "records.py"))
    assert records.git_commit() == "feedc0de"
    monkeypatch.setenv(records.COMMIT_ENV_VAR, " ")
    assert records.git_commit() is None
    monkeypatch.delenv(records.COMMIT_ENV_VAR)
    assert records.git_commit() is None


def test_load_results_skips_summaries_and_names_a_broken_file(tmp_path):
    """``glob("R/*.json")`` of the CLI's --out folder holds the summary beside the seeds'
    records; a truncated record is named, with what to do, not a bare JSONDecodeError."""
    paths = [records.write_result(_result(seed=s), tmp_path) for s in (0, 1)]
    records.write_summary(records.summarize(records.load_results(paths)), tmp_path,
                          "quick-summary")
    found = records.load_results(sorted(tmp_path.glob("*.json")))
    assert [r.seed for r in found] == [0, 1]
    broken = tmp_path / "quick-seed2.json"
    broken.write_text(_result(seed=2).to_json()[:200])
    with pytest.raises(ValueError, match=r"quick-seed2.json is not a run record "
                                         r"\(truncated or edited\?.*delete it or re-run"):
        records.load_results(sorted(tmp_path.glob("*.json")))
    broken.write_text(json.dumps({"seed": 2}))  # valid JSON, not a Result
    with pytest.raises(ValueError, match="quick-seed2.json is not a run record"):
        records.load_results([broken])
