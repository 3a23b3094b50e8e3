"""The site's reading comfort: its style sheet and MathJax served from the site itself.

A Sphinx extension (listed in `_config.yml`):

* ``static/fwbook.css`` - a content column wide enough for the book's 88-column code at 1280 px, long
  outputs wrapped inside the column, and the folded library listings of `fw.book.show_source`;
* MathJax 3 from the ``django-static-mathjax`` package (PyPI, no dependencies) copied into
  ``_static/mathjax/`` at build time, with ``mathjax_path`` pointing there: the formulas render without
  a network (a locally built site, an offline reader, the tests' blocked Chromium), not only from a CDN;
* no pydata navbar above the book's own header: ``navbar_persistent`` is set empty (see `_config_inited`);
* ``templates/layout.html``: the home page's browser title is the book's name once, not twice;
* chapters numbered by the site (``numbered: 1`` on the Chapters part of ``_toc.yml``), so a
  figure reads "Fig. 4.2" and an exercise "Exercise 4.1" in chapter 4 (not the count across the
  book). A chapter's notebook keeps its number in its title for Colab, where nothing numbers it;
  `ChapterNumber` takes it off the title on the site, where Sphinx puts it back, and the build
  warns if the two numbers ever differ (a chapter moved in the contents but not retitled);
* code names in tables break where they are joined (`TableCodeBreaks`): on a phone a column of
  ``test_colab_tpu.py`` breaks after ``test_`` and ``colab_``, not after any letter;
* a solution's title has the same curly apostrophes as its exercise's (`SolutionQuotes`);
* the appendix's figures read "Fig. A.1", not "Fig. 1" beside chapter 1's "Fig. 1.1"
  (`_appendix_figure_numbers`);
* the build warns (so ``-W`` fails) on HTML written in the prose (`_check_prose_html`): a
  placeholder such as "Exercise 5.2: <title>" is a tag to the browser, and a ``<title>``
  turned the rest of the instructors' page into one invisible string.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

from fwbook import notebooks as book

LOGGER = logging.getLogger(__name__)
#: the number a chapter's title starts with ("4. ")
TITLE_NUMBER = re.compile(r"(\d+)\. ")

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


class ChapterNumber(SphinxTransform):
    """Takes "4. " off the title of a page that a numbered part lists, remembering the 4
    (Sphinx numbers the chapter itself; `_check_chapter_numbers` compares the two)."""

    default_priority = 100

    def apply(self, **kwargs: Any) -> None:
        if self.env.docname not in _numbered(self.env):
            return
        for title in self.document.findall(nodes.title):
            first = title.children[0] if title.children else None
            m = TITLE_NUMBER.match(first.astext()) if isinstance(first, nodes.Text) else None
            if m:
                title.replace(first, nodes.Text(first.astext()[m.end():]))
                _numbers(self.env)[self.env.docname] = int(m.group(1))
            return


def _numbered(env: Any) -> set[str]:
    """The pages a numbered part of ``_toc.yml`` lists (sphinx-external-toc's site map)."""
    site_map = getattr(env, "external_site_map", None)
    if site_map is None:
        return set()
    return {
        name
        for doc in site_map.values()
        for tree in doc.subtrees
        if tree.numbered
        for name in tree.files()
    }


def _appendix_figure_numbers(app: Any, env: Any) -> list[str]:
    """Puts the appendix's letter before its figures' numbers: "Fig. A.1".

    Sphinx counts the figures of the pages outside a numbered part together, with no
    chapter, so the appendix's first figure read "Fig. 1", as if it were chapter 1's. This
    runs after Sphinx assigns the numbers (``env-get-updated``, priority 600 > Sphinx's
    500) and prefixes them; the page and every reference to a figure read the tuple joined
    with dots. The letters are `fwbook.notebooks.appendices`' (``_toc.yml``'s Appendix
    part), as the Colab edition numbers them.
    """
    changed = []
    for docname, letter in book.appendices().items():
        for numbers in env.toc_fignumbers.get(docname, {}).values():
            for figure_id, number in numbers.items():
                if number[:1] != (letter,):
                    numbers[figure_id] = (letter, *number)
                    changed.append(docname)
    return sorted(set(changed))


def _numbers(env: Any) -> dict[str, int]:
    if not hasattr(env, "fwbook_chapter_numbers"):
        env.fwbook_chapter_numbers = {}
    return env.fwbook_chapter_numbers


def _purge(app: Any, env: Any, docname: str) -> None:
    _numbers(env).pop(docname, None)


def _merge(app: Any, env: Any, docnames: Any, other: Any) -> None:
    _numbers(env).update({d: n for d, n in _numbers(other).items() if d in docnames})


def _check_chapter_numbers(app: Any, env: Any) -> None:
    for docname, number in sorted(_numbers(env).items()):
        given = env.toc_secnumbers.get(docname, {}).get("")
        if given != (number,):
            LOGGER.warning(
                f"the title of {docname} says chapter {number}, but the contents (_toc.yml) "
                f"number it {'.'.join(map(str, given)) if given else 'not at all'}: "
                "retitle the chapter or move it in _toc.yml",
                location=docname,
            )


#: where a code name in a table may break: after ``_``, ``/`` or ``.`` and before a letter
#: (``test_`` | ``colab_`` | ``tpu.py``), but not before a short file extension
CODE_JOINS = re.compile(r"(?<=[_/])(?=[^_./])|(?<=\.)(?=[^_./]{4}|[^_./]*[_./])")


def _check_prose_html(app: Any, doctree: nodes.document) -> None:
    """Warns on each piece of HTML in a page's Markdown (MyST passes ``<word>`` through as
    HTML): the browser reads it as a tag, not as text. "Exercise 5.2: <title>" on the
    instructors' page opened a ``<title>`` element, and everything after it, footer
    included, became its invisible text; an unknown ``<student>`` just vanishes. HTML that
    a cell printed (a `fw.book.show_source` listing, a widget) is a cell's output and stays.
    """
    for raw in doctree.findall(nodes.raw):
        if "html" not in raw.get("format", "").split():
            continue
        parent = raw.parent
        while parent is not None and "cell_output" not in parent.get("classes", ()):
            parent = parent.parent
        if parent is None:
            LOGGER.warning(f"HTML in the prose: {raw.astext().strip()[:60]!r} is read as a tag by "
                           "the browser, not shown as text; write it as code (`<title>`) or "
                           "as &lt;title&gt;", location=raw)


class TableCode(nodes.literal):
    """Inline code in a table, written as HTML with ``<wbr>`` where its name is joined
    (`TableCodeBreaks`); its text stays one node, so the search index sees the name whole."""


def _visit_table_code(self: Any, node: TableCode) -> None:
    self.body.append(self.starttag(node, "code", "", CLASS="docutils literal notranslate"))
    self.body.append("<wbr>".join(self.encode(p) for p in CODE_JOINS.split(node.astext())))
    self.body.append("</code>")
    raise nodes.SkipNode


class TableCodeBreaks(SphinxPostTransform):
    """Marks where the inline code of a table may break: after each ``_``, ``.`` and ``/``
    (`CODE_JOINS`), HTML only.

    A narrow column wraps a long code name where the browser may: nowhere inside a word, so
    Bootstrap's ``word-wrap: break-word`` broke it after any letter ("test_colab_t / pu.p /
    y" at 400 px). ``<wbr>`` (`TableCode`) marks where it may break instead and copies as
    nothing, so a name copied from the page is still the name. tests/test_site.py checks
    the built page.
    """

    default_priority = 400
    formats = ("html",)

    def run(self, **kwargs: Any) -> None:
        for table in self.document.findall(nodes.table):
            for literal in list(table.findall(nodes.literal)):
                if type(literal) is not nodes.literal or len(literal.children) != 1:
                    continue
                if len(CODE_JOINS.split(literal.astext())) > 1:
                    literal.replace_self(
                        TableCode(literal.rawsource, "", *literal.children,
                                  **literal.attributes)
                    )


class SolutionQuotes(SphinxPostTransform):
    """Smart quotes in a solution's title, as in its exercise's ("DavidNet’s", not "DavidNet's").

    sphinx-exercise (1.2) writes "Solution to Exercise 6.2 (<title>)" after the read phase,
    from the exercise's title as parsed, so the title misses the smart quotes that Sphinx
    gave the exercise box itself. This runs after it (priority 21) and educates that title
    the way Sphinx does (``smartquotes``, ``smartquotes_action``), all of its text at once so
    that a quote sees the text around it. tests/test_site.py checks the built pages.
    """

    default_priority = 30

    def run(self, **kwargs: Any) -> None:
        from docutils.utils.smartquotes import educate_tokens
        from sphinx_exercise.nodes import solution_node

        if not self.config.smartquotes:
            return
        language = self.config.language or "en"
        for solution in self.document.findall(solution_node):
            title = solution.children[0] if solution.children else None
            if not isinstance(title, nodes.title):
                continue
            texts = [t for t in title.findall(nodes.Text)
                     if not isinstance(t.parent, (nodes.literal, nodes.math))]
            educated = educate_tokens([("text", str(t)) for t in texts],
                                      self.config.smartquotes_action, language)
            for old, new in zip(texts, educated, strict=True):
                if new != str(old):
                    old.parent.replace(old, nodes.Text(new))


def setup(app: Any) -> dict[str, Any]:
    app.add_transform(ChapterNumber)
    app.add_post_transform(TableCodeBreaks)
    app.add_post_transform(SolutionQuotes)
    app.add_node(TableCode, html=(_visit_table_code, None))
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("env-check-consistency", _check_chapter_numbers)
    app.connect("env-get-updated", _appendix_figure_numbers, priority=600)
    app.connect("doctree-read", _check_prose_html)
    app.connect("config-inited", _config_inited)
    app.connect("build-finished", _build_finished)
    app.add_css_file(CSS)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
