"""Notebook hygiene: the rules every committed chapter notebook keeps (README, "Writing or changing a chapter").

The book shows the outputs saved in its notebooks, so whatever a notebook holds is published: a token
pasted into a cell, a traceback, a path that names someone's home directory, a 10 MB figure. This module
checks each notebook for those and says how to fix each finding. It is run by `make lint` and by
`tests/test_hygiene.py` (so by `make test`) over whatever ``book/*.ipynb`` exist; as a command::

    python -m fwbook.hygiene                 # every book/*.ipynb, then ruff over the library
    python -m fwbook.hygiene book/02_cifar10.ipynb --no-ruff

Exit status 1 when anything is found. It only reads notebooks; fixing is the author's call.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import re
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]

#: A notebook above this is slow to load on the site and bloats every clone: the issue's limit.
MAX_NOTEBOOK_BYTES = 2 * 1024 * 1024
#: A figure wider or taller than this was saved at a print dpi (300 dpi x 10 in = 3000 px); the page
#: shows figures at most ~800 px wide, so 80-100 dpi is plenty (``fig.savefig(..., dpi=90)`` or
#: ``plt.rcParams["figure.dpi"] = 90``).
MAX_FIGURE_PIXELS = 2000
#: One figure over this is a photograph-like PNG or an unreasonably large one.
MAX_FIGURE_BYTES = 600 * 1024
#: A box whose text readers read in the notebook too (Colab, Jupyter): fenced with backticks, a
#: plain Markdown renderer shows it as a code block (its title hidden in the info string, its
#: Markdown raw); fenced with colons (MyST's colon_fence) its title and text render as text. The
#: gated solution-start/end markers hold no text and keep their backticks.
BACKTICK_BOX = re.compile(r"^`{3,}\{(exercise|admonition|note|tip|warning|important|hint)\}", re.M)
#: Figures the site shows sharp (SVG, the book's default) or as pixels (PNG).
FIGURE_TYPES = ("image/svg+xml", "image/png")

#: The tag of solution cells (as `fwbook.notebooks.SOLUTION_TAG`; `make student` removes them).
SOLUTION_TAG = "solution"

FIX_EXECUTE = "re-execute it top to bottom: `python -m fwbook.notebooks execute --profile full NOTEBOOK`"

#: (name, pattern) of strings that look like credentials. Names say what was found, never the value.
SECRET_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,})")),
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}")),
    ("Google OAuth token", re.compile(r"\bya29\.[0-9A-Za-z_\-]{20,}")),
    ("Slack token", re.compile(r"\bxox[abposr]-[0-9A-Za-z-]{10,}")),
    ("OpenAI/Anthropic-style API key", re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_\-]{20,}")),
    ("Hugging Face token", re.compile(r"\bhf_[A-Za-z0-9]{30,}")),
    ("private key", re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----")),
    ("password or token assigned in code", re.compile(
        r"""(?i)\b(?:api[_-]?key|secret|password|passwd|access[_-]?token|auth[_-]?token)\s*[:=]\s*["'][^"'\s]{8,}["']""")),
]

#: Absolute paths into someone's home: they leak a user name and break on every other machine.
PERSONAL_PATH = re.compile(r"(?:(?<![\w.])/(?:home|Users)/[^/\s\"'<>]+|(?<![\w.])/root(?=[/\s\"'<>]|$)"
                           r"|\b[A-Za-z]:\\{1,2}Users\\{1,2}[^\\\s\"'<>]+)")


@dataclasses.dataclass(frozen=True)
class Problem:
    """One finding: where, what, and how to fix it."""

    path: str
    where: str
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.path}: {self.where}: {self.what}. Fix: {self.fix}"


def _text(source: Any) -> str:
    return "".join(source) if isinstance(source, list) else str(source or "")


def _output_texts(output: dict) -> Iterator[tuple[str, str]]:
    """(kind, text) of every textual part of one output: streams, text/html/markdown data, tracebacks."""
    if "text" in output:
        yield "stream", _text(output["text"])
    for mime, value in (output.get("data") or {}).items():
        if mime.startswith("text/") or mime in ("application/json", "application/javascript"):
            yield mime, value if isinstance(value, str) else json.dumps(value)
    for key in ("ename", "evalue"):
        if key in output:
            yield key, str(output[key])
    if "traceback" in output:
        yield "traceback", "\n".join(output["traceback"])


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk; ValueError if `data` is not a PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    return struct.unpack(">II", data[16:24])


def _scan_text(text: str, path: str, where: str) -> list[Problem]:
    found = []
    for name, pattern in SECRET_PATTERNS:
        if pattern.search(text):
            found.append(Problem(path, where, f"something that looks like a {name}",
                                 "remove it, revoke it if it was real, and read credentials from the "
                                 "environment or Colab's secrets instead of writing them in the notebook"))
    m = PERSONAL_PATH.search(text)
    if m:
        found.append(Problem(path, where, f"an absolute personal path ({m.group(0)!r}...)",
                             "print paths relative to the working directory or a temporary folder "
                             "(e.g. `path.relative_to(Path.cwd())`, `tempfile.mkdtemp()`), or `~`"))
    return found


def check_notebook(path: Path, nb: dict | None = None) -> list[Problem]:
    """Every hygiene problem of the notebook at `path` (``nb``: its JSON, if already read)."""
    rel = str(path.relative_to(ROOT)) if path.is_absolute() and path.is_relative_to(ROOT) else str(path)
    problems: list[Problem] = []
    if nb is None:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            problems.append(Problem(rel, "file", f"{size / 2**20:.1f} MB, over the 2 MB limit",
                                    f"save figures as PNG at dpi 80-100 and print less; then {FIX_EXECUTE}"))
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            return [*problems, Problem(rel, "file", f"not a readable notebook ({e})",
                                       "restore it from git or re-save it from Jupyter")]
    kernelspec = (nb.get("metadata") or {}).get("kernelspec") or {}
    if not kernelspec.get("name") or not kernelspec.get("display_name"):
        problems.append(Problem(rel, "metadata", "no kernel metadata (metadata.kernelspec name/display_name)",
                                'set it to {"name": "python3", "display_name": "Python 3", "language": '
                                '"python"} (jupytext: keep the kernelspec header) and re-execute'))
    counts: list[tuple[int, int | None]] = []
    gated = False  # inside a {solution-start} ... {solution-end} pair
    for i, cell in enumerate(nb.get("cells", [])):
        where = f"cell {i}"
        source = _text(cell.get("source"))
        problems += _scan_text(source, rel, f"{where} source")
        starts = cell.get("cell_type") == "markdown" and "{solution-start}" in source
        if (gated or starts) and SOLUTION_TAG not in (cell.get("metadata") or {}).get("tags", []):
            problems.append(Problem(rel, where, "a cell of a gated solution without the `solution` tag: "
                                    "the student edition and the grader would keep it",
                                    'tag it `solution` (jupytext: `# %% tags=["solution"]`, and '
                                    '`# %% [markdown] tags=["solution"]` for the solution-start/end cells)'))
        if cell.get("cell_type") == "markdown":
            for m in BACKTICK_BOX.finditer(source):
                problems.append(Problem(
                    rel, where, f"a {{{m.group(1)}}} box fenced with backticks: Colab and Jupyter "
                    "show it as a code block that hides its title and leaves its Markdown raw",
                    f"fence it with colons, `:::{{{m.group(1)}}} ...` and a closing `:::` (MyST's "
                    "colon_fence; the site renders it the same)"))
        if starts:
            gated = True
        if cell.get("cell_type") == "markdown" and "{solution-end}" in source:
            gated = False
        if cell.get("cell_type") != "code":
            continue
        counts.append((i, cell.get("execution_count")))
        shows_figure = any(set(o.get("data") or {}) & set(FIGURE_TYPES) for o in cell.get("outputs", []))
        mystnb = (cell.get("metadata") or {}).get("mystnb") or {}
        if shows_figure and not ((mystnb.get("image") or {}).get("alt")
                                 and (mystnb.get("figure") or {}).get("caption")):
            problems.append(Problem(rel, where, "a figure without alt text or caption: a screen reader "
                                    "reads its file name, and the page cannot number or cite it",
                                    'give the cell metadata {"mystnb": {"image": {"alt": "what it shows"}, '
                                    '"figure": {"caption": "...", "name": "fig-chNN-..."}}} (myst-nb)'))
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(Problem(rel, f"{where} output", f"an error output ({output.get('ename')}: "
                                        f"{str(output.get('evalue'))[:80]})",
                                        f"make the cell run cleanly, then {FIX_EXECUTE}"))
            if output.get("name") == "stderr" and "Traceback (most recent call last)" in _text(output.get("text")):
                problems.append(Problem(rel, f"{where} output", "a traceback printed to stderr",
                                        f"make the cell run cleanly, then {FIX_EXECUTE}"))
            for kind, text in _output_texts(output):
                problems += _scan_text(text, rel, f"{where} output ({kind})")
            for mime, value in (output.get("data") or {}).items():
                if mime.startswith("image/") and mime not in FIGURE_TYPES:
                    problems.append(Problem(rel, f"{where} output", f"a {mime} figure",
                                            "show figures as SVG (`fw.book.sharp_figures()`, "
                                            "which `fw.book.start()` calls) or PNG"))
                if mime == "image/png":
                    problems += _check_png(value, rel, f"{where} output")
                if mime == "image/svg+xml" and len(_text(value).encode()) > MAX_FIGURE_BYTES:
                    problems.append(Problem(rel, f"{where} output",
                                            f"a {len(_text(value).encode()) // 1024} KB SVG figure "
                                            f"(over {MAX_FIGURE_BYTES // 1024} KB)",
                                            "plot fewer points or `rasterized=True` for dense artists"))
    problems += _check_counts(counts, rel)
    return problems


def _check_png(value: Any, path: str, where: str) -> list[Problem]:
    try:
        data = base64.b64decode(_text(value).replace("\n", ""))
        width, height = png_size(data)
    except ValueError as e:
        return [Problem(path, where, f"an image/png output that is not a PNG ({e})", FIX_EXECUTE)]
    found = []
    if max(width, height) > MAX_FIGURE_PIXELS:
        found.append(Problem(path, where, f"a {width}x{height} px figure (over {MAX_FIGURE_PIXELS} px)",
                             "draw it at dpi 80-100 (`fig.savefig(..., dpi=90)` or "
                             "`plt.rcParams['figure.dpi'] = 90`) and a sensible figsize"))
    if len(data) > MAX_FIGURE_BYTES:
        found.append(Problem(path, where, f"a {len(data) // 1024} KB figure (over {MAX_FIGURE_BYTES // 1024} KB)",
                             "use a lower dpi, fewer points (subsample), or `rasterized=True` for dense plots"))
    return found


def _check_counts(counts: list[tuple[int, int | None]], path: str) -> list[Problem]:
    """Executed top to bottom, once: counts 1, 2, 3, ... in cell order, none missing."""
    executed = [(i, c) for i, c in counts if c is not None]
    if not executed:
        return []  # an unexecuted notebook (e.g. a student copy) has no order to check
    found = []
    missing = [i for i, c in counts if c is None]
    if missing:
        found.append(Problem(path, f"cells {missing[:5]}", "code cells that were never executed while the "
                             "others were", FIX_EXECUTE))
    previous = 0
    for i, c in executed:
        if c <= previous:
            found.append(Problem(path, f"cell {i}", f"execution count {c} after {previous}: the cells ran "
                                 "out of order or more than once", FIX_EXECUTE))
            break
        previous = c
    return found


def notebooks() -> list[Path]:
    """Every committed-to-be notebook of the book: ``book/*.ipynb``."""
    return sorted((ROOT / "book").glob("*.ipynb"))


def ruff(paths: list[Path]) -> subprocess.CompletedProcess:
    """Ruff (configured in pyproject.toml) over `paths`, notebooks' code cells included."""
    exe = Path(sys.executable).parent / "ruff"
    cmd = [str(exe) if exe.exists() else "ruff", "check", "--no-cache", "--output-format=concise",
           *map(str, paths)]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fwbook.hygiene", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("notebooks", nargs="*", type=Path, help="default: book/*.ipynb")
    p.add_argument("--no-ruff", action="store_true", help="skip ruff over fenwicks_lite/ and the notebooks")
    args = p.parse_args(argv)
    paths = [n.resolve() for n in args.notebooks] or notebooks()
    for path in paths:
        if not path.is_file():
            p.error(f"{path}: no such notebook")
    problems = [pr for path in paths for pr in check_notebook(path)]
    for pr in problems:
        print(pr)
    status = 1 if problems else 0
    print(f"hygiene: {len(paths)} notebook(s), {len(problems)} problem(s)")
    if not args.no_ruff:
        out = ruff([ROOT / "fenwicks_lite", ROOT / "book" / "_ext", *paths])
        print(out.stdout.strip() or "ruff: clean", file=sys.stdout)
        if out.returncode:
            print("Fix: edit the code as ruff says (many fixes: `ruff check --fix PATH`); "
                  "in a notebook, edit its jupytext .py script and convert it again, then re-execute.")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
