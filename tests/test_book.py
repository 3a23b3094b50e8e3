"""The book: table of contents, every notebook's setup cell, the -W build, the HTML and a screenshot."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import site_tools
import tomllib
from fwbook import notebooks as book

ROOT = book.ROOT
TOC_FILES = [c["file"] for part in __import__("yaml").safe_load((ROOT / "_toc.yml").read_text())["parts"]
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


def test_toc_has_intro_and_nine_chapters():
    assert len(TOC_FILES) == 9
    for stem in ["book/intro", *TOC_FILES]:
        _source(stem)


def test_one_repository_url():
    url = book.config()["repository"]["url"]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["urls"]["Homepage"] == url
    assert book.install_url() == f"fenwicks_lite @ git+{url}@{book.config()['repository']['branch']}"


@pytest.mark.parametrize("nb_path", book.chapters(), ids=lambda p: p.name)
def test_notebook_starts_with_setup_and_environment_cells(nb_path):
    nb = json.loads(nb_path.read_text())
    code = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in nb["cells"] if c["cell_type"] == "code"]
    assert code[0] == book.setup_cell_source(), (
        f"{nb_path.name}: the first code cell must be exactly `python -m fwbook.notebooks setup-cell`")
    assert "fw.book.start(" in code[1], f"{nb_path.name}: the second code cell must print the environment line"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


# ---------------------------------------------------------------- the built site (slow: `make test-book`)

@pytest.mark.book
@pytest.mark.parametrize("stem", ["book/intro", *TOC_FILES])
def test_page_exists_with_title_and_colab_link(site, stem):
    html = (site / f"{stem}.html").read_text()
    title = _title(_source(stem))
    assert re.sub(r"\s+", " ", title).replace("&", "&amp;") in html.replace("&#8217;", "'")
    if _source(stem).suffix == ".ipynb":
        repo = book.config()["repository"]
        org_repo = repo["url"].removeprefix("https://github.com/")
        expected = f"https://colab.research.google.com/github/{org_repo}/blob/{repo['branch']}/{stem}.ipynb"
        links = set(re.findall(r"https://colab\.research\.google\.com/[^\"'\s<>]+", html))
        assert links == {expected}, links


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
