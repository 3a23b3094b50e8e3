"""fenwicks_lite: the library behind the book "94% on CIFAR-10 in minutes".

`import fenwicks_lite as fw` and the 2019 tutorial's calls read as they did:
`fw.io.numpy_tfrecord`, `fw.transform.cutout`, `fw.layers.ConvResBlk`,
`fw.train.triangular_lr`, ...

Submodules are imported on first use (PEP 562 `__getattr__`), so that
`import fenwicks_lite` is cheap and never imports TensorFlow: Colab's TPU runtimes and
the book's GPU machine run Keras on JAX without TF. Each submodule names the chapter
that explains it.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
from typing import Any

__version__ = "0.1.0"

# TensorFlow's C++ INFO lines (oneDNN, CPU features) would otherwise land in every
# notebook's outputs. Set before any TensorFlow import; a user's own setting wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _keras_on_jax_without_tensorflow() -> None:
    """Keras's default backend is TensorFlow; where it is missing but JAX is there
    (``pip install 'fenwicks_lite[jax]'``, a Colab TPU runtime), Keras runs on JAX
    instead of failing with "No module named 'tensorflow'". ``$KERAS_BACKEND`` always
    wins."""
    import importlib.util
    import sys

    def installed(name: str) -> bool:
        try:
            return importlib.util.find_spec(name) is not None
        except ImportError:  # a finder that refuses it
            return False

    if "KERAS_BACKEND" in os.environ or "keras" in sys.modules:
        return
    if not installed("tensorflow") and installed("jax"):
        os.environ["KERAS_BACKEND"] = "jax"


# Before any submodule imports Keras: `python -m fenwicks_lite.train`, `fw.layers`, ...
_keras_on_jax_without_tensorflow()


class TensorFlowMissingError(ModuleNotFoundError):
    """A function of the tf.io / tf.data side of the library was called where TensorFlow
    cannot be imported (a Colab TPU runtime, ``pip install 'fenwicks_lite[jax]'``).

    A `ModuleNotFoundError` with ``name="tensorflow"``, so ``except ImportError`` still
    catches it; the message names the function and what to install. Chapter 1 says
    which chapters need TensorFlow (its note on TPUs).
    """


def needs_tensorflow(func: Any = None, *, instead: str | None = None) -> Any:
    """Marks a function that cannot work without TensorFlow: called where TensorFlow
    cannot be imported, it raises `TensorFlowMissingError` naming itself, the install
    line and, as `instead`, the library's TensorFlow-free way to the same end.

    The function imports TensorFlow itself, as before; this only makes the failure
    say what to do. Chapters 1, 3, 4 and 5 show functions marked with it.
    """
    if func is None:
        return functools.partial(needs_tensorflow, instead=instead)
    module = sys.modules[func.__module__]  # `python -m` runs a module as __main__
    spec_name = module.__spec__.name if module.__spec__ else module.__name__
    name = f"{spec_name.replace('fenwicks_lite.', 'fw.', 1)}.{func.__qualname__}"

    @functools.wraps(func)
    def tensorflow_only(*args: Any, **kwargs: Any) -> Any:
        if sys.modules.get("tensorflow") is None:
            try:
                importlib.import_module("tensorflow")
            except ImportError as e:
                hint = f"\nWithout TensorFlow, use {instead}." if instead else ""
                raise TensorFlowMissingError(
                    f"{name} needs TensorFlow, which cannot be imported here ({e}).\n"
                    "Install it: pip install 'fenwicks_lite[tf]' (or pip install "
                    f"tensorflow).{hint}",
                    name="tensorflow") from e
        return func(*args, **kwargs)

    tensorflow_only.needs_tensorflow = True
    return tensorflow_only


#: module name -> the chapter that explains it.
SUBMODULES: dict[str, str] = {
    "colab_tpu": "Chapter 1, Where the data lives",
    "io": "Chapters 1, 3 and 5 (directories, TFRecords, the tf.data pipeline)",
    "data": "Chapter 2, CIFAR-10 and channel normalization",
    "transform": "Chapter 4, Augmentation",
    "pipeline": "Chapter 5, The input pipeline",
    "bench_pipeline": "Chapter 5, The input pipeline (the side-by-side benchmark)",
    "anim": "Chapter 5, The input pipeline (the seed's May name: pictures of a batch)",
    "layers": "Chapter 6, The architecture",
    "optim": "Chapter 7, The schedule and SGD",
    "train": "Chapters 7 and 9 (the seed's names: schedule, SGD, the training loop)",
    "plt": "Chapters 2, 4, 5, 6, 7 and 8 (pictures)",
    "accel": "Chapter 8, Training on accelerators",
    "records": "Chapters 8 and 9 (a run's configuration and its result record)",
    "checkpoint": "Chapter 8 (a checkpoint after every epoch, resume)",
    "jax_runner": "Chapters 8 and 9 (a compiled epoch on JAX)",
    "keras_runner": "Chapters 8 and 9 (model.fit, one epoch a call)",
    "fit": "Chapters 8 and 9 (the training loop)",
    "cli": "Chapter 9 (python -m fenwicks_lite.train)",
    "tpuest": "Appendix, the 2019 notebook, run today (the seed's TPUEstimator calls)",
    "report": "Chapters 9 and 1 (run tables from result JSON; minutes per chapter)",
    "fast": "Chapter 10, Beyond the seed (the speed-run tricks, the fast recipe)",
    "profiles": "Introduction (quick and full profiles)",
    "exercises": "Introduction and For instructors (exercises and self-checks)",
    "grading": "For instructors (the grader)",
    "book": "Introduction (the environment line; library source shown in the page)",
}

# help(fenwicks_lite) lists them (its DATA section cuts SUBMODULES off after one line);
# `python -OO` strips docstrings, and then there is nothing to add to.
if __doc__:
    __doc__ += "\nEach module and the chapter that explains it:\n\n" + "\n".join(
        f"    {name}: {chapter}" for name, chapter in sorted(SUBMODULES.items()))


def __getattr__(name: str) -> Any:
    try:
        if name in SUBMODULES:
            return importlib.import_module(f"{__name__}.{name}")
        if name == "colab_utils":  # the seed's May 2019 name of colab_tpu
            return importlib.import_module(f"{__name__}.colab_tpu")
        if name == "Sequential":  # the seed wrote `fw.Sequential()`; it is Keras's.
            import keras

            return keras.Sequential
    except ModuleNotFoundError as e:
        # No submodule imports TensorFlow or JAX itself: Keras does, for its backend.
        if e.name not in ("tensorflow", "jax"):
            raise
        backend = os.environ.get("KERAS_BACKEND", "tensorflow")
        raise ModuleNotFoundError(
            f"Keras's backend {backend!r} needs {e.name}, which is not installed: "
            "pip install 'fenwicks_lite[jax]' (Keras on JAX) or 'fenwicks_lite[tf]' "
            "(on TensorFlow), or set KERAS_BACKEND to a backend that is installed.",
            name=e.name) from e
    raise AttributeError(f"module 'fenwicks_lite' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *SUBMODULES, "Sequential"])
