"""The site's reading comfort: its style sheet and MathJax served from the site itself.

A Sphinx extension (listed in `_config.yml`):

* ``static/fwbook.css`` - a content column wide enough for the book's 88-column code at 1280 px, long
  outputs wrapped inside the column, and the folded library listings of `fw.book.show_source`;
* MathJax 3 from the ``django-static-mathjax`` package (PyPI, no dependencies) copied into
  ``_static/mathjax/`` at build time, with ``mathjax_path`` pointing there: the formulas render without
  a network (a locally built site, an offline reader, the tests' blocked Chromium), not only from a CDN;
* no pydata navbar above the book's own header: ``navbar_persistent`` is set empty (see `_config_inited`);
* ``templates/layout.html``: the home page's browser title is the book's name once, not twice.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

STATIC = Path(__file__).resolve().parent / "static"
TEMPLATES = Path(__file__).resolve().parent / "templates"
CSS = "fwbook.css"
#: What MathJax's ``tex-mml-chtml`` bundle loads from beside itself: the TeX extensions it autoloads, the
#: CHTML fonts, the menu and its accessibility parts (the speech engine ``sre`` is left out: 4 MB).
MATHJAX_ENTRY = "tex-mml-chtml.js"
MATHJAX_PARTS = (MATHJAX_ENTRY, "input", "output/chtml", "output/chtml.js", "ui", "a11y", "adaptors")


def mathjax_dir() -> Path:
    """The ``es5`` folder of the installed MathJax 3 (package ``django-static-mathjax``)."""
    try:
        import mathjax
    except ImportError as e:  # pragma: no cover - requirements.txt installs it
        raise RuntimeError("the book serves MathJax itself: pip install django-static-mathjax "
                           "(it is in requirements.txt)") from e
    found = Path(mathjax.__file__).resolve().parent / "static" / "mathjax" / "es5"
    if not (found / MATHJAX_ENTRY).is_file():
        raise RuntimeError(f"{found / MATHJAX_ENTRY} is missing: reinstall django-static-mathjax")
    return found


def copy_mathjax(static_dir: Path) -> Path:
    """Copies the parts of MathJax the pages use into `static_dir`/mathjax; returns that folder."""
    src, dest = mathjax_dir(), static_dir / "mathjax"
    for part in MATHJAX_PARTS:
        if (src / part).is_dir():
            shutil.copytree(src / part, dest / part, dirs_exist_ok=True)
        else:
            (dest / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src / part, dest / part)
    return dest


def _config_inited(app: Any, config: Any) -> None:
    config.html_static_path = [*config.html_static_path, str(STATIC)]
    config.templates_path = [*config.templates_path, str(TEMPLATES)]
    # sphinx-book-theme leaves pydata-sphinx-theme's navbar empty (its theme.conf), but pydata 0.17
    # puts a search field back into `navbar_persistent` unless the book's own options name it
    # (sphinx-book-theme issues 986/988). The navbar then came back: at 1280 px a 64 px bar holding a
    # second search field, and at every width a hidden second pair of sidebar buttons that the
    # theme's script binds instead of the visible ones, so on a phone the menu button and the
    # "Contents" button did nothing. Naming it empty leaves the navbar out of the page.
    # tests/test_site.py clicks both buttons at 400 px.
    config.html_theme_options = {"navbar_persistent": [], **config.html_theme_options}
    # A relative mathjax_path is served from the site's _static folder.
    config.mathjax_path = f"mathjax/{MATHJAX_ENTRY}"


def copy_style(static_dir: Path) -> list[Path]:
    """Copies the book's style sheets into `static_dir`; returns their copies. Sphinx copies
    static files only when it writes some page, so without this a change to a style sheet
    alone would not reach an incremental build (`make book` after editing fwbook.css)."""
    static_dir.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy2(css, static_dir / css.name)) for css in sorted(STATIC.glob("*.css"))]


def _build_finished(app: Any, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        copy_mathjax(Path(app.outdir) / "_static")
        copy_style(Path(app.outdir) / "_static")


def setup(app: Any) -> dict[str, Any]:
    app.connect("config-inited", _config_inited)
    app.connect("build-finished", _build_finished)
    app.add_css_file(CSS)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
