"""Accelerator detection and set-up (Chapter 8): precision by hardware, batch splitting, bad input."""

from __future__ import annotations

import keras
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fenwicks_lite import accel

pytestmark = pytest.mark.backend


@pytest.mark.parametrize("platform, cc, expected", [
    ("tpu", None, "mixed_bfloat16"),          # every TPU generation computes in bfloat16
    ("gpu", (9, 0), "mixed_bfloat16"),        # H100
    ("gpu", (8, 0), "mixed_bfloat16"),        # A100: the first with bf16 tensor cores
    ("gpu", (7, 5), "mixed_float16"),         # T4 (Colab's free GPU)
    ("gpu", (7, 0), "mixed_float16"),         # V100 (Page's 2018 record)
    ("gpu", None, "mixed_float16"),           # unknown GPU: the safe choice that every GPU has
    ("cpu", None, "float32"),
    ("CPU", None, "float32"),
])
def test_choose_precision_by_hardware(platform, cc, expected):
    assert accel.choose_precision(platform, cc) == expected


def test_choose_precision_unknown_platform():
    with pytest.raises(ValueError, match="expected 'cpu', 'gpu' or 'tpu'"):
        accel.choose_precision("npu")


@given(per_device=st.integers(1, 256), devices=st.integers(1, 16))
def test_check_batch_size_splits_evenly(per_device, devices):
    assert accel.check_batch_size(per_device * devices, devices) == per_device


@given(batch=st.integers(1, 4096), devices=st.integers(2, 16))
def test_check_batch_size_rejects_uneven_with_multiples_in_the_hint(batch, devices):
    if batch % devices == 0:
        return
    with pytest.raises(ValueError, match=f"choose a multiple of {devices}") as e:
        accel.check_batch_size(batch, devices)
    suggested = [int(s) for s in str(e.value).split("(e.g. ")[1].rstrip(").").split(" or ")]
    assert all(s % devices == 0 and s > 0 and abs(s - batch) < devices for s in suggested)


def test_check_batch_size_examples():
    assert accel.check_batch_size(512, 8) == 64
    with pytest.raises(ValueError, match=r"batch size 500 does not divide over 8 devices.*496 or 504"):
        accel.check_batch_size(500, 8)
    with pytest.raises(ValueError, match="must be positive"):
        accel.check_batch_size(0, 1)


@pytest.mark.parametrize("name", ["torch", "numpy", "", "tf"])
def test_check_backend_rejects_unsupported(name):
    with pytest.raises(ValueError, match="KERAS_BACKEND to one of tensorflow, jax"):
        accel.check_backend(name)


def test_check_backend_accepts_supported():
    assert accel.check_backend(" JAX ") == "jax"
    assert accel.check_backend("tensorflow") == "tensorflow"


@pytest.fixture()
def restore_policy():
    before = keras.mixed_precision.global_policy().name
    yield
    keras.mixed_precision.set_global_policy(before)


def test_setup_on_this_machine_prints_one_line(capsys, restore_policy):
    acc = accel.setup()
    line = capsys.readouterr().out.strip()
    assert "\n" not in line
    assert line == str(acc)
    assert f"backend {keras.backend.backend()}" in line and f"precision: {acc.precision}" in line
    info = accel.device_info()
    assert acc.device.platform == info.platform and acc.replicas == info.count
    # The policy is chosen by the hardware and is now Keras's global one.
    assert acc.precision == accel.choose_precision(info.platform, accel.compute_capability())
    assert keras.mixed_precision.global_policy().name == acc.precision
    if keras.backend.backend() == "jax":
        assert acc.strategy is None
    else:
        assert acc.distribution is None and acc.strategy is not None


def test_setup_explicit_precision_builds_bf16_layers(restore_policy):
    acc = accel.setup("mixed_bfloat16", verbose=False)
    with acc.scope():
        layer = keras.layers.Dense(3)
        layer.build((None, 4))
    assert layer.compute_dtype == "bfloat16" and layer.variable_dtype == "float32"


def test_setup_rejects_unknown_precision(restore_policy):
    before = keras.mixed_precision.global_policy().name
    with pytest.raises(ValueError, match="precision must be one of"):
        accel.setup("float8")
    assert keras.mixed_precision.global_policy().name == before  # nothing changed by the error
