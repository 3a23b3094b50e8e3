"""Code the book shows fits the page: at most 88 characters a line.

The page's code column shows about 90 characters before it scrolls. The chapters display
the library's own source (`fw.book.show_source`), so every module under `fenwicks_lite/`
counts, and so does every code cell of every notebook under `book/`. One test per file,
so a failure names the file and its widest lines.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WIDTH = 88
MODULES = sorted((ROOT / "fenwicks_lite").rglob("*.py"))
NOTEBOOKS = sorted((ROOT / "book").rglob("*.ipynb"))


def too_wide(lines: list[str], where: str) -> list[str]:
    """`where:line: (width) text` for each line wider than WIDTH."""
    return [f"{where}:{i}: ({len(line)}) {line.strip()[:60]}"
            for i, line in enumerate(lines, start=1) if len(line) > WIDTH]


def test_files_are_found():
    assert len(MODULES) > 10 and (ROOT / "fenwicks_lite" / "transform.py") in MODULES
    assert any(p.name.startswith("01_") for p in NOTEBOOKS)


def test_too_wide_counts_characters_not_bytes():
    assert too_wide(["x" * 88, "é" * 88], "f") == []
    assert too_wide(["ok", "y" * 89], "f") == [f"f:2: (89) {'y' * 60}"]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_module_lines_fit_the_page(path):
    bad = too_wide(path.read_text(encoding="utf-8").splitlines(), path.name)
    assert not bad, f"{len(bad)} lines wider than {WIDTH}; wrap them:\n" + "\n".join(bad[:20])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_code_cells_fit_the_page(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    bad = []
    for n, cell in enumerate(cells):
        if cell["cell_type"] == "code":
            source = "".join(cell["source"]) if isinstance(cell["source"], list) \
                else cell["source"]
            bad += too_wide(source.splitlines(), f"{path.name} cell {n}")
    assert not bad, f"{len(bad)} code lines wider than {WIDTH}; wrap them:\n" + "\n".join(bad)
