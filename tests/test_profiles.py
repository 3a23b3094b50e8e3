import pytest

from fenwicks_lite import profiles


def test_env_var_selects_profile(monkeypatch):
    monkeypatch.setenv(profiles.ENV_VAR, "full")
    assert profiles.get_profile() is profiles.FULL
    monkeypatch.setenv(profiles.ENV_VAR, " Quick ")
    assert profiles.get_profile() is profiles.QUICK


def test_argument_wins_over_env(monkeypatch):
    monkeypatch.setenv(profiles.ENV_VAR, "full")
    assert profiles.get_profile("quick") is profiles.QUICK


def test_unknown_profile_names_the_choices(monkeypatch):
    monkeypatch.setenv(profiles.ENV_VAR, "fast")
    with pytest.raises(ValueError, match=r"Unknown profile 'fast'.*\['full', 'quick'\].*FENWICKS_LITE_PROFILE"):
        profiles.get_profile()


def test_default_follows_hardware(monkeypatch):
    from fenwicks_lite import accel

    monkeypatch.delenv(profiles.ENV_VAR, raising=False)
    monkeypatch.setattr(accel, "device_info", lambda: accel.DeviceInfo("cpu", 1, "x"))
    assert profiles.get_profile() is profiles.QUICK
    monkeypatch.setattr(accel, "device_info", lambda: accel.DeviceInfo("gpu", 1, "H100"))
    assert profiles.get_profile() is profiles.FULL


def test_full_profile_is_the_seed_recipe():
    f = profiles.FULL
    assert (f.width, f.epochs, f.batch_size, f.warmup_epochs, f.peak_lr) == (64, 24, 512, 5, 0.4)
    assert (f.weight_decay, f.momentum, f.cutout, f.train_limit) == (5e-4, 0.9, 8, None)


def test_environment_line_names_everything():
    line = profiles.environment_line("CIFAR-10 sample, 2,500 train / 1,000 test images", profiles.QUICK)
    for part in ("backend", "device:", "profile: quick", "data: CIFAR-10 sample"):
        assert part in line
    assert "read from" not in line  # no origin given, no line for it
    with_origin = profiles.environment_line("CIFAR-10 (full)", profiles.FULL, "$CIFAR10_DIR")
    assert with_origin.splitlines()[2:] == ["profile: full | data: CIFAR-10 (full)",
                                            "read from: $CIFAR10_DIR"]
