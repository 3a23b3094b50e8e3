"""Shared fixtures. Tests use the real CIFAR-10 sample beside the checkout when present, else synthetic data.

Under ``FENWICKS_LITE_BLOCK_TF=1`` (how `make test` runs the JAX-backend pass) importing TensorFlow fails,
so any backend-agnostic code path that pulls it in is caught.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import no_tensorflow
import numpy as np
import pytest
import site_tools

# The book's machinery (fwbook) lives beside the sources, outside the library's wheel.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "book" / "_ext"))

if os.environ.get("FENWICKS_LITE_BLOCK_TF") == "1":
    no_tensorflow.install()


@pytest.fixture(scope="session")
def cifar_sample():
    """``(x_train, y_train), (x_test, y_test)``: the real mini sample if present, else synthetic."""
    from fenwicks_lite import data

    mini = data.mini_sample_dir()
    return data.load_cifar10(mini) if mini else data.synthetic_cifar10(500, 200)


def pytest_report_header(config):
    from quick_data import quick_data_env

    from fenwicks_lite import data

    mini = data.mini_sample_dir()
    return [f"CIFAR-10 sample for the quick profile: {mini or 'none beside the checkout'}"
            + (" (the CLI's and benchmarks' tests use synthetic stand-in images)"
               if quick_data_env() else "")]


@pytest.fixture()
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The book built once per test run with -W (into ``_build/html``, or ``$FENWICKS_LITE_SITE_OUT``).

    Under pytest-xdist every worker asks for it, and two builds into one ``_build`` at once spoil
    each other: the first worker builds while holding a lock in the run's shared temporary folder,
    and the others wait for it, then use its site (or fail with its error).
    """
    from fwbook import notebooks

    root = notebooks.ROOT
    out = Path(os.environ.get("FENWICKS_LITE_SITE_OUT", root))
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return site_tools.build(root, out)
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp().parent  # one folder for all workers of this run
    outcome = shared / "site-build.txt"
    with FileLock(str(shared / "site-build.lock")):
        if not outcome.is_file():
            try:
                site_tools.build(root, out)
                outcome.write_text("")
            except AssertionError as e:
                outcome.write_text(str(e))
                raise
    error = outcome.read_text()
    assert not error, f"(built by another worker) {error}"
    return out / "_build" / "html"


@pytest.fixture(scope="session")
def dist(tmp_path_factory) -> tuple[Path, Path]:
    """The library's sdist and wheel, built once per session from this checkout as for a
    release (`python -m build`: the sdist, then the wheel from the sdist)."""
    import shutil
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    src, out = tmp_path_factory.mktemp("src"), tmp_path_factory.mktemp("dist")
    # a copy of the sources the sdist is made from, so building leaves no build/ or egg-info
    # in the checkout; tests/ travels too, for MANIFEST.in to leave it out
    for name in ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in"):
        shutil.copy2(root / name, src / name)
    for name in ("fenwicks_lite", "tests"):
        shutil.copytree(root / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(src)],
                          timeout=600, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    (sdist,) = out.glob("fenwicks_lite-*.tar.gz")
    (wheel,) = out.glob("fenwicks_lite-*.whl")
    return sdist, wheel


@pytest.fixture(scope="session")
def wheel(dist) -> Path:
    """The library's wheel (see `dist`)."""
    return dist[1]
