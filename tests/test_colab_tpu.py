"""fw.colab_tpu.setup_gcs (Chapter 1): the Colab branch with a fake `google.colab`, the local branches, and
that no credential content is ever shown. Backend-agnostic: no TensorFlow."""

from __future__ import annotations

import sys
import types

import pytest

from fenwicks_lite import colab_tpu

pytestmark = pytest.mark.backend

SECRET = "ya29.very-secret-token"


@pytest.fixture()
def no_adc(monkeypatch, tmp_path):
    monkeypatch.delenv(colab_tpu.ADC_ENV, raising=False)
    monkeypatch.delenv("APPDATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.config/gcloud here
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    return tmp_path


@pytest.fixture()
def fake_colab(monkeypatch, no_adc):
    calls = []
    auth = types.ModuleType("google.colab.auth")
    auth.authenticate_user = lambda: calls.append("auth")
    colab = types.ModuleType("google.colab")
    colab.auth = auth
    google = sys.modules.get("google") or types.ModuleType("google")
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setattr(google, "colab", colab, raising=False)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setitem(sys.modules, "google.colab.auth", auth)
    return calls


def test_in_colab_authenticates_once_and_says_so(fake_colab, capsys):
    assert colab_tpu.in_colab()
    assert colab_tpu.setup_gcs() is True
    assert fake_colab == ["auth"]
    assert "signed in" in capsys.readouterr().out


def test_outside_colab_without_credentials_explains_how(no_adc, capsys):
    assert not colab_tpu.in_colab()
    assert colab_tpu.setup_gcs() is False
    out = capsys.readouterr().out
    assert "gcloud auth application-default login" in out and colab_tpu.ADC_ENV in out
    assert "get_project_dirs" in out


def test_outside_colab_with_adc_file_never_shows_it(no_adc, capsys):
    adc = no_adc / ".config" / "gcloud" / "application_default_credentials.json"
    adc.parent.mkdir(parents=True)
    adc.write_text(f'{{"refresh_token": "{SECRET}"}}')
    assert colab_tpu.setup_gcs() is True
    out = capsys.readouterr()
    assert "Credentials found" in out.out and SECRET not in out.out + out.err
    assert adc.read_text() == f'{{"refresh_token": "{SECRET}"}}'  # untouched


def test_key_file_variable(no_adc, monkeypatch, capsys):
    key = no_adc / "key.json"
    monkeypatch.setenv(colab_tpu.ADC_ENV, str(key))
    assert colab_tpu.setup_gcs() is False  # the variable names a file that does not exist
    capsys.readouterr()
    key.write_text(f'{{"private_key": "{SECRET}"}}')
    assert colab_tpu.setup_gcs() is True
    out = capsys.readouterr()
    assert f"${colab_tpu.ADC_ENV}" in out.out and SECRET not in out.out + out.err and str(key) not in out.out

