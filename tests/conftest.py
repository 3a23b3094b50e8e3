"""Shared fixtures. Tests use the real CIFAR-10 sample beside the checkout when present, else synthetic data.

Under ``FENWICKS_LITE_BLOCK_TF=1`` (how `make test` runs the JAX-backend pass) importing TensorFlow fails,
so any backend-agnostic code path that pulls it in is caught.
"""

from __future__ import annotations

import os
from pathlib import Path

import no_tensorflow
import numpy as np
import pytest
import site_tools

if os.environ.get("FENWICKS_LITE_BLOCK_TF") == "1":
    no_tensorflow.install()


@pytest.fixture(scope="session")
def cifar_sample():
    """``(x_train, y_train), (x_test, y_test)``: the real mini sample if present, else synthetic."""
    from fenwicks_lite import data

    mini = data.mini_sample_dir()
    return data.load_cifar10(mini) if mini else data.synthetic_cifar10(500, 200)


@pytest.fixture()
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def site() -> Path:
    """The book built once per session with -W (into ``_build/html``, or ``$FENWICKS_LITE_SITE_OUT``)."""
    from fenwicks_lite import book

    return site_tools.build(book.ROOT, Path(os.environ.get("FENWICKS_LITE_SITE_OUT", book.ROOT)))
