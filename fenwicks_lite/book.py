"""What every chapter's notebook calls: its environment line and the library source it
shows.

`profile, data = fw.book.start()` is each chapter's second cell;
`fw.book.show_source(f)` shows the library's own code of `f` in the page (every
chapter; the Introduction's "How to read it" says what `start` prints). The machinery
that builds the book (executing notebooks, the student edition, hygiene, the logo) is
not part of the library: it lives beside the book's sources in `book/_ext/fwbook/` and
is not in the wheel.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

# Keras on JAX where TensorFlow is missing: the package's own rule, applied when
# `fenwicks_lite` is imported; start() applies it again (a $KERAS_BACKEND unset since).
from fenwicks_lite import _keras_on_jax_without_tensorflow


def start(profile_name: str | None = None) -> tuple[Any, Any]:
    """A chapter's second cell: picks the profile, loads its data and prints the
    environment line.

    Returns ``(profile, data)`` (a `fw.profiles.Profile` and a `fw.data.Dataset`).

    Explained in the Introduction, "How to read it" (the lines it prints at the top
    of every chapter).
    """
    from fenwicks_lite import accel, profiles
    from fenwicks_lite import data as fw_data

    _keras_on_jax_without_tensorflow()
    # TF's C++ start-up banner would otherwise land in every page
    with _native_stderr_silenced():
        import keras  # noqa: F401 - imports the backend (TF or JAX)

        accel.device_info()
    sharp_figures()
    profile = profiles.get_profile(profile_name)
    ds = fw_data.load_profile_data(profile)
    print(profiles.environment_line(ds.describe(), profile, ds.origin()))
    return profile, ds


def show_source(*objects: Any) -> Any:
    """Shows the library's own source of `objects` in the page, folded under a summary.

    The chapters explain code that lives once, in `fenwicks_lite/`; this is how they
    show it. The prose leads: the listing is an HTML ``<details>`` whose one-line
    summary says what it holds (the names, their files, the number of lines); a click
    opens it, in the book, Jupyter and Colab alike.

    Every chapter, from Chapter 1 on, shows the library's code with it.
    """
    import html
    import inspect
    from pathlib import Path

    from IPython.display import Markdown

    if not objects:
        raise TypeError("show_source needs the functions or classes to show, e.g. "
                        "fw.book.show_source(fw.io.numpy_tfrecord)")
    package = Path(__file__).resolve().parent
    sources, names, files = [], [], []
    for o in objects:
        sources.append(inspect.getsource(o).rstrip())
        module = o.__module__.replace("fenwicks_lite.", "fw.", 1)
        names.append(f"{module}.{o.__qualname__}")
        # a decorated function's file, not its decorator's (`fw.needs_tensorflow`)
        path = Path(inspect.getsourcefile(inspect.unwrap(o))).resolve()
        inside = path.is_relative_to(package)
        file = f"fenwicks_lite/{path.relative_to(package)}" if inside else path.name
        if file not in files:
            files.append(file)
    lines = sum(src.count("\n") + 1 for src in sources)
    code = ", ".join(f"<code>{html.escape(n)}</code>" for n in names)
    summary = f"Source: {code} ({', '.join(files)}, {lines} lines)"
    blocks = "\n\n".join(f"```python\n{src}\n```" for src in sources)
    return Markdown(f'<details class="fw-source">\n<summary>{summary}</summary>\n\n'
                    f"{blocks}\n\n</details>")


def sharp_figures() -> bool:
    """Makes this notebook show matplotlib figures as SVG; returns whether it is one.

    SVG stays sharp at any width the page gives a figure (a PNG's pixels blur when
    scaled), and the site's check reads each figure's text size from it. The SVG has
    no date and fixed ids (``svg.hashsalt``), so re-running a chapter changes only the
    figures that changed. `start` calls it in every chapter, from Chapter 1 on;
    outside IPython it does nothing.
    """
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "fenwicks_lite"
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    if get_ipython() is None:
        return False
    from matplotlib_inline.backend_inline import set_matplotlib_formats

    set_matplotlib_formats("svg", bbox_inches="tight", metadata={"Date": None})
    return True


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Sends fd 2 (stderr) to /dev/null in the block: C++ code writes to it directly."""
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
