"""What every chapter's notebook calls: its environment line and the library source it shows.

`profile, data = fw.book.start()` is each chapter's second cell; `fw.book.show_source(f)` shows the
library's own code of `f` in the page (Introduction, "How to read this book"). The machinery that builds
the book (executing notebooks, the student edition, hygiene, the logo) is not part of the library: it
lives beside the book's sources in `book/_ext/fwbook/` and is not in the wheel.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any


def start(profile_name: str | None = None) -> tuple[Any, Any]:
    """A chapter's second cell: picks the profile, loads its data and prints the environment line.

    Returns ``(profile, data)`` (a `fw.profiles.Profile` and a `fw.data.Dataset`).
    """
    from fenwicks_lite import accel, profiles
    from fenwicks_lite import data as fw_data

    _jax_without_tensorflow()
    with _native_stderr_silenced():  # TF's C++ start-up banner would otherwise land in every page
        import keras  # noqa: F401 - imports the backend (TF or JAX)

        accel.device_info()
    profile = profiles.get_profile(profile_name)
    ds = fw_data.load_profile_data(profile)
    print(profiles.environment_line(ds.describe(), profile))
    return profile, ds


def _jax_without_tensorflow() -> None:
    """Keras's default backend is TensorFlow; where it is missing but JAX is there (a Colab
    TPU runtime), Keras runs on JAX instead of failing. ``$KERAS_BACKEND`` always wins."""
    import importlib.util

    if "KERAS_BACKEND" in os.environ or "keras" in sys.modules:
        return
    try:
        has_tf = importlib.util.find_spec("tensorflow") is not None
    except ImportError:  # a finder that refuses it
        has_tf = False
    if not has_tf and importlib.util.find_spec("jax"):
        os.environ["KERAS_BACKEND"] = "jax"


def show_source(*objects: Any) -> Any:
    """Shows the library's own source of each object as a highlighted code block in the page.

    The chapters explain code that lives once, in `fenwicks_lite/`; this is how they show it.
    """
    import inspect

    from IPython.display import Markdown

    blocks = [f"```python\n{inspect.getsource(o).rstrip()}\n```" for o in objects]
    return Markdown("\n\n".join(blocks))


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Sends file descriptor 2 to /dev/null for the block: C++ libraries write there directly."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
