"""Tools for the book itself: every notebook's first cells, executing notebooks, the student edition.

Used by the notebooks (`start`), by `make outputs` / `make student`, and by the tests. Explained in the
Introduction and the README. Run ``python -m fenwicks_lite.book --help``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: cells carrying this tag are solutions: `make student` removes them.
SOLUTION_TAG = "solution"


def start(profile_name: str | None = None) -> tuple[Any, Any]:
    """A chapter's second cell: picks the profile, loads its data and prints the environment line.

    Returns ``(profile, data)`` (a `fw.profiles.Profile` and a `fw.data.Dataset`).
    """
    from fenwicks_lite import accel, profiles
    from fenwicks_lite import data as fw_data

    with _native_stderr_silenced():  # TF's C++ start-up banner would otherwise land in every page
        import keras  # noqa: F401 - imports the backend (TF or JAX)

        accel.device_info()
    profile = profiles.get_profile(profile_name)
    ds = fw_data.load_profile_data(profile)
    print(profiles.environment_line(ds.describe(), profile))
    return profile, ds


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


def config() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "_config.yml").read_text())


def install_url() -> str:
    """What Colab pip-installs: the repository of `_config.yml` at its branch (one URL in the project)."""
    repo = config()["repository"]
    return f"fenwicks_lite @ git+{repo['url']}@{repo['branch']}"


def setup_cell_source() -> str:
    """The exact source of every chapter's first cell (tests check each notebook against it)."""
    return (
        "# Setup. In Colab: install fenwicks_lite from the book's repository.\n"
        "# Anywhere else: nothing to do (`pip install -e .` in a checkout).\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    import subprocess\n"
        "\n"
        f'    url = "{install_url()}"\n'
        '    subprocess.run([sys.executable, "-m", "pip", "install", "-q", url], check=True)\n'
        "\n"
        "import fenwicks_lite as fw"
    )


def chapters() -> list[Path]:
    """The chapter notebooks, in the order of `_toc.yml`."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    return [ROOT / f"{f}.ipynb" for f in files if (ROOT / f"{f}.ipynb").exists()]


def execute(paths: list[Path], profile: str, timeout: int = 3600) -> None:
    """Runs each notebook top to bottom in its own kernel and saves it with its outputs, in place.

    The kernel inherits this process's environment plus ``FENWICKS_LITE_PROFILE=profile``; set
    ``CIFAR10_DIR`` to the full data set for outputs to commit.
    """
    import nbformat
    from nbclient import NotebookClient

    os.environ["FENWICKS_LITE_PROFILE"] = profile
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        t0 = time.perf_counter()
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        nbformat.write(nb, path)
        print(f"{path.relative_to(ROOT)}: executed ({profile}) in {time.perf_counter() - t0:.0f} s")


def strip_solutions(nb: Any) -> Any:
    """A copy of `nb` without solution cells (tagged `solution`), outputs of the rest cleared."""
    import copy

    out = copy.deepcopy(nb)
    out.cells = [c for c in out.cells if SOLUTION_TAG not in c.get("metadata", {}).get("tags", [])]
    for c in out.cells:
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None
    return out


def student(out_dir: Path) -> list[Path]:
    """Writes the student notebooks (no solutions, no outputs) under `out_dir`."""
    import nbformat

    written = []
    for path in chapters():
        dest = out_dir / path.relative_to(ROOT)
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(strip_solutions(nbformat.read(path, as_version=4)), dest)
        written.append(dest)
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fenwicks_lite.book", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("execute", help="run notebooks in place and keep their outputs")
    ex.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter")
    ex.add_argument("--profile", default="full", choices=["quick", "full"])
    st = sub.add_parser("student", help="write student notebooks without solutions")
    st.add_argument("--out", type=Path, default=ROOT / "_build" / "student")
    sub.add_parser("setup-cell", help="print the first cell every chapter must have")
    args = p.parse_args(argv)
    if args.cmd == "execute":
        execute([n.resolve() for n in args.notebooks] or chapters(), args.profile)
    elif args.cmd == "student":
        for path in student(args.out):
            print(path)
    else:
        print(json.dumps(setup_cell_source()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
