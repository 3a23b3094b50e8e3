"""The book: table of contents, every notebook's setup cell, the -W build, the HTML and a screenshot."""

from __future__ import annotations

import html
import json
import re
import subprocess
from pathlib import Path

import pytest
import site_tools
import tomllib
from fwbook import notebooks as book

ROOT = book.ROOT
TOC_FILES = [c["file"] for part in book.toc()["parts"]
             if part["caption"] == "Chapters" for c in part["chapters"]]  # "For instructors" follows them


def _source(stem: str) -> Path:
    for ext in (".ipynb", ".md"):
        if (ROOT / f"{stem}{ext}").exists():
            return ROOT / f"{stem}{ext}"
    raise AssertionError(f"{stem} in _toc.yml has no .ipynb or .md file")


def _title(path: Path) -> str:
    if path.suffix == ".ipynb":
        text = json.loads(path.read_text())["cells"][0]["source"]
        text = "".join(text) if isinstance(text, list) else text
    else:
        text = path.read_text()
    return re.search(r"^# (.+)$", text, re.M).group(1).strip()


def test_toc_has_intro_and_ten_chapters():
    assert len(TOC_FILES) == 10
    for stem in book.pages():  # and every other page, the reference's for each module too
        _source(stem)


def test_one_repository_url():
    url = book.config()["repository"]["url"]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["urls"]["Homepage"] == url
    assert book.install_url() == f"fenwicks_lite @ git+{url}@{book.config()['repository']['branch']}"


def _code(nb_path: Path) -> list[str]:
    nb = json.loads(nb_path.read_text())
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in nb["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("nb_path", book.chapters(), ids=lambda p: p.name)
def test_notebook_starts_with_setup_and_environment_cells(nb_path):
    nb = json.loads(nb_path.read_text())
    code = _code(nb_path)
    assert code[0] == book.setup_cell_source(nb_path), (
        f"{nb_path.name}: the first code cell must be exactly "
        f"`python -m fwbook.notebooks setup-cell {nb_path.stem}`")
    assert "fw.book.start(" in code[1], f"{nb_path.name}: the second code cell must print the environment line"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


def test_setup_cells_fit_88_columns_and_install_in_colab_only():
    for chapter in [None, *book.TF_CHAPTERS]:
        src = book.setup_cell_source(chapter)
        assert max(map(len, src.splitlines())) <= 88, chapter
        compile(src, "setup", "exec")
        # outside Colab the cell only imports: everything else is inside the Colab branch
        top = [line for line in src.splitlines() if line and not line.startswith(("#", " "))]
        assert top == ["import sys", 'if "google.colab" in sys.modules:', "import fenwicks_lite as fw"]
        assert '"pip", "install"' in src
        # what it pip-installs is install_url(): the repository at `repository.branch`
        given = dict(ln.strip().split(" = ", 1) for ln in src.splitlines()
                     if ln.strip().startswith(("repo = ", "url = ")))
        assert eval(given["url"], {"repo": eval(given["repo"])}) == book.install_url()
    assert "tensorflow-cpu" not in book.setup_cell_source("02_cifar10")
    tf_cell = book.setup_cell_source("03_tfrecords")
    assert "installs tensorflow-cpu, for the input pipeline only" in tf_cell
    assert 'os.environ.setdefault("KERAS_BACKEND", "jax")' in tf_cell


@pytest.mark.parametrize("nb_path", book.chapters(), ids=lambda p: p.name)
def test_tf_chapters_are_exactly_those_that_import_tensorflow(nb_path):
    """The setup cell installs tensorflow-cpu on a TPU runtime exactly where the chapter needs it
    (tests/test_reader_runtime.py then runs each chapter with TensorFlow missing)."""
    uses_tf = any(re.search(r"^\s*(import tensorflow|from tensorflow)", c, re.M) for c in _code(nb_path))
    assert book.needs_tensorflow(nb_path) == uses_tf, (
        f"{nb_path.name}: {'imports' if uses_tf else 'does not import'} TensorFlow; "
        f"update fwbook.notebooks.TF_CHAPTERS")


# ---------------------------------------------------------------- the built site (slow: `make test-book`)

@pytest.mark.book
@pytest.mark.parametrize("stem", book.pages())
def test_page_exists_with_title_and_colab_link(site, stem):
    """Every page of the contents is built under its title; a notebook's page has its Colab
    button, a Markdown page (the reference's, the glossary) none: it has no notebook."""
    page = (site / f"{stem}.html").read_text()
    title = " ".join(_title(_source(stem)).replace("`", "").split())  # `fw.io` is code there
    shown = " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).replace("\u2019", "'").split())
    assert title in shown
    links = set(re.findall(r"https://colab\.research\.google\.com/[^\"'\s<>]+", page))
    if _source(stem).suffix == ".ipynb":
        repo = book.config()["repository"]
        org_repo = repo["url"].removeprefix("https://github.com/")
        expected = f"https://colab.research.google.com/github/{org_repo}/blob/{repo['branch']}/{stem}.ipynb"
        assert links == {expected}, links
    else:
        assert links == set(), links


@pytest.mark.book
def test_intro_renders_in_chromium(site, tmp_path):
    url = (site / "book" / "intro.html").as_uri()
    dom = subprocess.run([site_tools.chromium(), *site_tools.flags(tmp_path), "--dump-dom", url],
                         capture_output=True, text=True, timeout=120)
    assert "94% on CIFAR-10 in minutes" in dom.stdout and "Map: chapter, library module" in dom.stdout
    site_tools.screenshot(url, ROOT / "_build" / "screenshots" / "intro.png", tmp_path, "1280,1600")


@pytest.mark.parametrize("nb_path", book.chapters(), ids=lambda p: p.name)
def test_committed_outputs_come_from_the_full_profile_on_full_cifar10(nb_path):
    """What the site shows must be a real run: the environment line under the second cell says so."""
    nb = json.loads(nb_path.read_text())
    env_cell = [c for c in nb["cells"] if c["cell_type"] == "code"][1]
    line = "".join("".join(o.get("text", "")) for o in env_cell["outputs"])
    assert "profile: full" in line and "data: CIFAR-10 (full), 50,000 train / 10,000 test" in line, (
        f"{nb_path.name}: re-execute it with `CIFAR10_DIR=<full CIFAR-10> make outputs` "
        f"(its environment line reads: {line.strip() or 'nothing'})")


def _listings(nb_path: Path) -> list[tuple[list[str], list[str]]]:
    """Each committed `fw.book.show_source` output: (the names in its summary, its code
    blocks)."""
    found = []
    for cell in json.loads(nb_path.read_text())["cells"]:
        for out in cell.get("outputs", []):
            md = out.get("data", {}).get("text/markdown")
            md = "".join(md) if isinstance(md, list) else md
            if not md or '<details class="fw-source">' not in md:
                continue
            summary = re.search(r"<summary>(.*?)</summary>", md).group(1)
            names = [html.unescape(n) for n in re.findall(r"<code>(.*?)</code>", summary)]
            blocks = re.findall(r"```python\n(.*?)\n```", md, re.S)
            found.append((names, blocks))
    return found


def _resolve(name: str):
    """``fw.io.numpy_tfrecord`` or ``fw.layers.ConvBN.call`` -> the object."""
    import importlib

    parts = name.split(".")
    for i in range(len(parts), 1, -1):
        try:
            obj = importlib.import_module(".".join(["fenwicks_lite", *parts[1:i]]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise AssertionError(f"{name}: no such module in fenwicks_lite")


@pytest.mark.parametrize("nb_path", book.chapters(), ids=lambda p: p.name)
def test_listings_the_chapters_show_are_the_librarys_current_source(nb_path):
    """The library is the single source: a committed listing that no longer matches the
    code it names means the chapter must be re-executed (`make outputs`)."""
    import inspect

    if nb_path.name == "03_tfrecords.ipynb" or book.needs_tensorflow(nb_path):
        pytest.importorskip("tensorflow")
    for names, blocks in _listings(nb_path):
        assert len(names) == len(blocks), (nb_path.name, names)
        for name, block in zip(names, blocks, strict=True):
            now = inspect.getsource(_resolve(name)).rstrip()
            assert block == now, (
                f"{nb_path.name} shows an old {name}: re-execute the chapter "
                f"(make outputs) so that its listing is the library's current code")


def test_shell_lines_in_prose_continue_with_one_backslash():
    """A command shown in a chapter's prose continues its lines with `\\`; a doubled one
    (an escape written twice into the notebook's JSON) would be shown, and copied, as
    two. A TeX line break in a display formula (`aligned`'s double backslash) is not a command line."""
    pages = [_source(stem) for stem in book.pages()] + [ROOT / "README.md"]
    bad = []
    for path in pages:
        if path.suffix == ".ipynb":
            cells = json.loads(path.read_text())["cells"]
            texts = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                     for c in cells if c["cell_type"] == "markdown"]
        else:
            texts = [path.read_text()]
        texts = [re.sub(r"^\$\$$.*?^\$\$$", "", t, flags=re.S | re.M) for t in texts]
        bad += [f"{path.name}: {line.strip()[:70]}" for t in texts
                for line in t.splitlines() if line.rstrip().endswith("\\\\")]
    assert not bad, "lines ending in two backslashes:\n" + "\n".join(bad)


def test_colab_form_fields_are_one_line_assignments():
    """Colab turns `NAME = value  #@param ...` into a form field only when the whole
    assignment and its comment are one line at the cell's top level; a formatter that
    splits the line leaves a cell that runs but shows no field."""
    bad = []
    for nb_path in book.chapters():
        for cell in json.loads(nb_path.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            for line in src.splitlines():
                if "@param" in line and not re.match(r"[A-Za-z_]\w* = \S.*  #@param ", line):
                    bad.append(f"{nb_path.name}: {line.strip()[:80]}")
    assert not bad, "form fields Colab would not show:\n" + "\n".join(bad)
