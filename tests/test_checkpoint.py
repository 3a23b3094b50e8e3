"""fenwicks_lite.checkpoint (chapter 8): atomic checkpoints and what resuming accepts."""

from __future__ import annotations

import numpy as np
import pytest

from fenwicks_lite import checkpoint
from fenwicks_lite.records import TrainConfig

pytestmark = pytest.mark.backend


def _state(width: int = 8) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(0)
    return [[rng.normal(size=(3, 3, 3, width)).astype(np.float32), rng.normal(size=(width,))],
            [np.zeros(width)], [np.array(5, np.int64), rng.normal(size=(3, 3, 3, width))]]


def test_checkpoint_round_trip_is_exact_and_atomic(tmp_path):
    cfg = TrainConfig.from_profile("quick", work_dir=str(tmp_path))
    state = _state()
    key = cfg.run_key()
    checkpoint.save_checkpoint(tmp_path, 3, state, {"run_key": key, "history": [{"epoch": 1}]})
    checkpoint.save_checkpoint(tmp_path, 4, state, {"run_key": key, "history": [{"epoch": 2}]})
    # no temporary left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == [checkpoint.CHECKPOINT_FILE]
    meta, parts = checkpoint.load_checkpoint(tmp_path)
    assert meta["epoch"] == 4 and meta["history"] == [{"epoch": 2}] and meta["run_key"] == key
    for got, want in zip(parts, state, strict=True):
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, w)
    assert checkpoint.load_checkpoint(tmp_path / "empty") is None


def test_checkpoint_from_another_model_or_run_is_refused(tmp_path):
    cfg = TrainConfig.from_profile("quick")
    state = _state(8)
    checkpoint.save_checkpoint(tmp_path, 1, state, {"run_key": cfg.run_key(), "history": []})
    meta, parts = checkpoint.load_checkpoint(tmp_path)
    shapes = [[a.shape for a in p] for p in state]
    checkpoint.check_checkpoint(meta, parts, cfg, shapes, tmp_path)  # the same run: accepted
    wider = [[a.shape for a in p] for p in _state(16)]
    with pytest.raises(ValueError, match="written by a different model.*use another work_dir"):
        checkpoint.check_checkpoint(meta, parts, cfg, wider, tmp_path)
    with pytest.raises(ValueError, match="other settings.*epochs: 2 there vs 3 now"):
        checkpoint.check_checkpoint(meta, parts, cfg.replace(epochs=3), shapes, tmp_path)
    with pytest.raises(ValueError, match="checkpoint format 0.*start afresh"):
        checkpoint.check_checkpoint({**meta, "format": 0}, parts, cfg, shapes, tmp_path)


def test_corrupt_checkpoint_gives_a_clear_error(tmp_path):
    (tmp_path / checkpoint.CHECKPOINT_FILE).write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable fenwicks_lite checkpoint.*move it away"):
        checkpoint.load_checkpoint(tmp_path)


def test_checkpoint_on_other_data_is_refused_and_old_ones_accepted(tmp_path):
    ident = {"n_train": 256, "n_test": 128, "dataset": "d", "crc32": 7}
    checkpoint.check_data({"data": ident}, ident, tmp_path)  # the same data: accepted
    checkpoint.check_data({}, ident, tmp_path)  # written before the field: can't tell
    with pytest.raises(ValueError, match=r"other data \(n_train: 256 there vs 1024 now\)"
                                         r".*or use another work_dir"):
        checkpoint.check_data({"data": ident}, {**ident, "n_train": 1024}, tmp_path)
