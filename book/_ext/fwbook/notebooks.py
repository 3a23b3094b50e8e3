"""The book's notebooks: the first cell each chapter must have, executing them, the student copies.

Machinery of the book, not of the library (it is not in the wheel): used by `make outputs`,
`make student` and the tests. Run ``python -m fwbook.notebooks --help`` with ``book/_ext`` on
``PYTHONPATH`` (the Makefile sets it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from fenwicks_lite.exercises import SOLUTION_TAG  # noqa: F401 - re-exported
from fenwicks_lite.grading import strip_solutions

#: the repository root (this file is book/_ext/fwbook/notebooks.py).
ROOT = Path(__file__).resolve().parents[3]


def config() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "_config.yml").read_text())


def install_url() -> str:
    """What Colab pip-installs: the repository of `_config.yml` at its branch (one URL in the project)."""
    repo = config()["repository"]
    return f"fenwicks_lite @ git+{repo['url']}@{repo['branch']}"


#: The chapters whose code uses TensorFlow (tf.io.gfile, TFRecords, tf.data). Colab's TPU
#: runtimes have shipped without TensorFlow since March 2025 (googlecolab/colabtools#5164): there
#: the setup cell of these chapters also installs tensorflow-cpu, for the input pipeline only.
TF_CHAPTERS = (
    "01_data_location", "03_tfrecords", "04_augmentation", "05_input_pipeline",
    "appendix_2019",
)


def needs_tensorflow(chapter: str | os.PathLike) -> bool:
    """Whether `chapter` (a notebook path or its stem) is one of `TF_CHAPTERS`."""
    return Path(chapter).stem in TF_CHAPTERS


def setup_cell_source(chapter: str | os.PathLike | None = None) -> str:
    """The exact source of a chapter's first cell (tests check each notebook against it).

    Every chapter installs the library in Colab, and only there. A chapter of `TF_CHAPTERS`
    also installs ``tensorflow-cpu`` where TensorFlow is missing (a Colab TPU runtime), and
    keeps Keras on JAX there; its first comment says so.
    """
    head = "# Setup. In Colab: install fenwicks_lite from the book's repository.\n"
    install = '    subprocess.run([sys.executable, "-m", "pip", "install", "-q", url], check=True)\n'
    if chapter is not None and needs_tensorflow(chapter):
        head += (
            "# This chapter uses TensorFlow (tf.io, tf.data): on a TPU runtime (JAX, no\n"
            "# TensorFlow) it also installs tensorflow-cpu, for the input pipeline only;\n"
            "# Keras stays on JAX.\n"
        )
        install = (
            "    pkgs = [url]\n"
            '    if importlib.util.find_spec("tensorflow") is None:  # a TPU runtime\n'
            '        os.environ.setdefault("KERAS_BACKEND", "jax")\n'
            '        pkgs.append("tensorflow-cpu")\n'
            '    cmd = [sys.executable, "-m", "pip", "install", "-q", *pkgs]\n'
            "    subprocess.run(cmd, check=True)\n"
        )
    imports = ("    import importlib.util\n    import os\n"
               if chapter is not None and needs_tensorflow(chapter) else "")
    repo = config()["repository"]
    return (
        head
        + "# Anywhere else: nothing to do (`pip install -e .` in a checkout).\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        + imports
        + "    import subprocess\n"
        "\n"
        f'    repo = "{repo["url"]}"\n'
        f'    url = f"fenwicks_lite @ git+{{repo}}@{repo["branch"]}"\n'
        + install
        + "\n"
        "import fenwicks_lite as fw"
    )


def toc(root: Path = ROOT) -> dict:
    """The table of contents (`_toc.yml`) of the book whose sources are at `root`, parsed:
    the one reader of it for `pages`, `chapters`, `appendices` and the student edition's
    toc (`fwbook.exercises.write_student_toc`)."""
    import yaml

    return yaml.safe_load((root / "_toc.yml").read_text())


def pages(root: Path = ROOT) -> list[str]:
    """Every page of the book (``book/intro``, ``book/01_data_location``, ...), in the order
    of `_toc.yml`: its root first."""
    t = toc(root)

    def walk(entries: list[dict]) -> list[str]:  # a page, then its sections
        return [name for e in entries for name in [e["file"], *walk(e.get("sections", []))]]

    return [t["root"], *[name for part in t.get("parts", [])
                         for name in walk(part.get("chapters", []))]]


def chapters(root: Path = ROOT) -> list[Path]:
    """The chapter notebooks of the book at `root`, in the order of `_toc.yml`."""
    return [root / f"{f}.ipynb" for f in pages(root) if (root / f"{f}.ipynb").exists()]


#: the caption of the ``_toc.yml`` part whose pages are lettered A, B, ... (the appendices)
APPENDIX_PART = "Appendix"


def appendices(root: Path = ROOT) -> dict[str, str]:
    """Each page of `_toc.yml`'s appendix part (``book/appendix_2019``) and its letter."""
    found = [c["file"] for part in toc(root).get("parts", [])
             if part.get("caption") == APPENDIX_PART for c in part.get("chapters", [])]
    return {page: chr(ord("A") + i) for i, page in enumerate(found)}


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


def student(out_dir: Path) -> list[Path]:
    """Writes the student notebooks (no solutions, no outputs) under `out_dir`.

    Learners open them in Jupyter or Colab, which render no MyST, so their Markdown is the
    Colab edition's plain CommonMark (`fwbook.colab`: exercises as "**Exercise 4.1: ...**",
    citations as ``[Page, 2018]``). Each keeps its metadata: the chapter
    (``metadata.fenwicks_lite.chapter``) and the answer cells (``fenwicks_lite.answer``) by
    which the grader takes a learner's answers. (The student site is built from the book's
    own sources, `fwbook.exercises.student_sources`.)"""
    import nbformat

    from fwbook.colab import Converter, chapter_number

    conv = Converter()
    written = []
    for path in chapters():
        dest = out_dir / path.relative_to(ROOT)
        dest.parent.mkdir(parents=True, exist_ok=True)
        nb = strip_solutions(nbformat.read(path, as_version=4))
        nbformat.write(conv.convert(nb, chapter_number(path), path.name), dest)
        written.append(dest)
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fwbook.notebooks", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("execute", help="run notebooks in place and keep their outputs")
    ex.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter")
    ex.add_argument("--profile", default="full", choices=["quick", "full"])
    st = sub.add_parser("student", help="write student notebooks without solutions")
    st.add_argument("--out", type=Path, default=ROOT / "_build" / "student")
    sc = sub.add_parser("setup-cell", help="print the first cell a chapter must have")
    sc.add_argument("chapter", nargs="?", help="its notebook or stem (default: a chapter "
                    "without TensorFlow)")
    args = p.parse_args(argv)
    if args.cmd == "execute":
        execute([n.resolve() for n in args.notebooks] or chapters(), args.profile)
    elif args.cmd == "student":
        for path in student(args.out):
            print(path)
    else:
        print(json.dumps(setup_cell_source(args.chapter)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
