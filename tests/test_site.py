"""The published site: logo, favicon, 404 page, link previews, search, buttons, the instructors' tables,
chapter screenshots (1280 and 400 px), and the student edition without solutions; and how the pages read,
measured in one offline Chromium run at 1280 px: tables without raw Markdown, no code or output line
wider than the content column, figure text at least 9 px (and 8 px in a second run at 400 px), no PASS
under an exercise stub, math typeset by the site's own MathJax. Slow (builds the book): `make test-book`.

The book is built once per session for this file and tests/test_book.py (the `site` fixture in
conftest.py, into ``_build/html``); set ``FENWICKS_LITE_SITE_OUT=/tmp/somewhere`` to build elsewhere. The README's picture is the screenshot
this file takes: after a visible change, copy ``_build/screenshots/chapter.png`` to
``book/images/chapter_screenshot.png``.
"""

from __future__ import annotations

import html as html_lib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import figure_text
import nbformat
import pytest
import site_tools
from docutils import nodes
from fwbook import brand, exercises
from fwbook import notebooks as book

pytestmark = pytest.mark.book

ROOT = book.ROOT
URL = brand.site_url(book.config()["repository"]["url"])
#: the tag of a cell whose output is a printed table (fwbook.css keeps its lines on a phone)
TABLE_TAG = "aligned-output"
#: every page, in the order of _toc.yml: the introduction first, the instructors' page last
PAGES = book.pages()


def _meta(page: str, prop: str) -> str:
    m = re.search(rf'<meta (?:property|name)="{re.escape(prop)}" content="([^"]*)"', page)
    return html_lib.unescape(m.group(1)) if m else ""


def test_logo_and_favicon_are_the_drawn_pngs(site):
    page = (site / "book" / "intro.html").read_text()
    assert '<link rel="icon" href="../_static/fw-favicon.png"' in page
    assert 'src="../_static/fw-logo.png"' in page
    for name in (brand.LOGO_NAME, brand.FAVICON_NAME):
        assert (site / "_static" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_404_page_with_urls_under_the_project_path(site):
    page = (site / "404.html").read_text()
    assert "Page not found" in page and "search the book" in page
    prefix = "/" + URL.split("/", 3)[3]
    # GitHub Pages serves 404.html for any missing path, so its links must be absolute under /<repo>/.
    assert f'href="{prefix}_static/' in page and 'href="_static/' not in page


def test_browser_titles_name_the_page_then_the_book(site):
    """A chapter's tab reads "<chapter> — <book>"; the home page's, whose heading is the
    book's name, the name once (fwbook/templates/layout.html), not twice."""
    def title(stem: str) -> str:
        return html_lib.unescape(re.search(r"<title>(.*?)</title>",
                                           (site / f"{stem}.html").read_text()).group(1))

    name = book.config()["title"]
    assert title("book/intro") == name
    assert title("book/02_cifar10") == f"2. CIFAR-10 and channel normalization \N{EM DASH} {name}"


def test_chapters_number_their_figures_and_exercises(site):
    """Chapter 4's exercises read "Exercise 4.1", not their count across the book; the site
    numbers the chapters (``numbered: 1`` in _toc.yml) and the notebook's own "4. " leaves
    the title, so the menu and the heading say "4." once (fwbook.site.ChapterNumber)."""
    numbered = [nb for nb in book.chapters() if nb.name[:2].isdigit()]  # not the appendix
    assert len(numbered) == 10
    for nb in numbered:
        page = (site / nb.relative_to(ROOT).with_suffix(".html")).read_text()
        n = int(nb.name[:2])
        text = exercises._visible_text(page)
        shown = set(re.findall(r"\b(?:Exercise|Fig\.) (\d+)\.\d+", text))
        assert shown <= {str(n)}, (nb.name, shown)
        assert not re.search(r"\b(?:Exercise|Fig\.) \d+\b(?!\.\d)", text), nb.name
        heading = re.search(r'<h1><span class="section-number">(.*?)</span>(.*?)<a', page)
        assert heading and heading.group(1) == f"{n}. ", nb.name
        assert not heading.group(2).startswith(f"{n}. "), nb.name
        assert f">{n}. {n}. " not in page
    ch4 = exercises._visible_text((site / "book" / "04_augmentation.html").read_text())
    assert "Exercise 4.1" in ch4 and "Fig. 4.1" in ch4
    # the appendix part is lettered (fwbook.site._appendix_figure_numbers), not "Fig. 1"
    appendix = exercises._visible_text((site / "book" / "appendix_2019.html").read_text())
    assert re.findall(r"\bFig\. [\w.]+", appendix) == ["Fig. A.1"]


def test_solution_titles_read_as_their_exercises(site):
    """"Solution to Exercise 6.2 (DavidNet’s ...)" has the exercise box's own title, curly
    apostrophe included (fwbook.site.SolutionQuotes; sphinx-exercise copies the title as
    parsed, before Sphinx's smart quotes)."""
    pairs = 0
    for nb in book.chapters():
        page = (site / nb.relative_to(ROOT).with_suffix(".html")).read_text()
        titles = [html_lib.unescape(re.sub(r"<[^>]+>|\s+", " ", t)).split()
                  for t in re.findall(r'<p class="admonition-title">(.*?)</p>', page, re.S)]
        exercise = {" ".join(t[:2]): " ".join(t[2:]) for t in titles if t[0] == "Exercise"}
        for t in titles:
            if t[:2] == ["Solution", "to"]:
                assert " ".join(t[4:]) == exercise[" ".join(t[2:4])], (nb.name, t)
                pairs += 1
    assert pairs >= 20
    ch6 = exercises._visible_text((site / "book" / "06_architecture.html").read_text())
    assert "Solution to Exercise 6.2 (DavidNet\u2019s parameters by formula)" in ch6


def test_a_chapter_title_that_disagrees_with_the_contents_fails_the_build(monkeypatch):
    from fwbook import site as fwsite

    class Env:
        toc_secnumbers = {"book/04_augmentation": {"": (5,)}, "book/05_x": {"": (5,)}}
        fwbook_chapter_numbers = {"book/04_augmentation": 4, "book/05_x": 5}

    warned = []
    monkeypatch.setattr(fwsite.LOGGER, "warning", lambda msg, **kw: warned.append(msg))
    fwsite._check_chapter_numbers(None, Env())
    assert warned == ["the title of book/04_augmentation says chapter 4, but the contents "
                      "(_toc.yml) number it 5: retitle the chapter or move it in _toc.yml"]


def test_html_in_the_prose_fails_the_build_and_a_cells_html_does_not(monkeypatch):
    """"Exercise 5.2: <title>" in the instructors' page's Markdown hid the rest of the page
    (a browser reads everything after ``<title>`` as the title's text): such HTML warns, and
    ``-W`` fails the build; HTML a cell printed (a folded listing) is the cell's output."""
    from docutils.utils import new_document
    from fwbook import site as fwsite

    doc = new_document("book/instructors.md")
    prose = nodes.paragraph("", "", nodes.Text("Exercise 5.2: "), nodes.raw("", "<title>", format="html"))
    output = nodes.container("", nodes.raw("", "<details class='fw-source'>", format="html"),
                             classes=["cell_output"])
    doc += [prose, nodes.container("", output, classes=["cell"])]
    warned = []
    monkeypatch.setattr(fwsite.LOGGER, "warning", lambda msg, **kw: warned.append(msg))
    fwsite._check_prose_html(None, doc)
    assert warned == ["HTML in the prose: '<title>' is read as a tag by the browser, not shown "
                      "as text; write it as code (`<title>`) or as &lt;title&gt;"]


@pytest.mark.parametrize("stem", PAGES)
def test_link_previews_have_title_description_and_url(site, stem):
    page = (site / f"{stem}.html").read_text()
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert _meta(page, "og:title") and _meta(page, "og:title") in html_lib.unescape(title)
    description = _meta(page, "og:description")
    assert len(description) > 60 and description == _meta(page, "description")
    assert _meta(page, "og:url") == f"{URL}{stem}.html"
    assert _meta(page, "og:image") == f"{URL}_static/{brand.LOGO_NAME}"
    assert _meta(page, "og:site_name") == book.config()["title"]
    assert f'<link rel="canonical" href="{URL}{stem}.html"' in page


def test_repository_and_issue_buttons(site):
    repo = book.config()["repository"]["url"]
    page = (site / f"{PAGES[-2] if len(PAGES) > 2 else 'book/intro'}.html").read_text()
    assert f'href="{repo}"' in page and f'href="{repo}/issues/new?' in page


def test_search_finds_a_chapter_term(site, tmp_path):
    """Sphinx's search runs in the browser: Chromium loads search.html?q=... and lists the pages."""
    query, expected = ("TFRecord", "book/03_tfrecords.html") if (ROOT / "book/03_tfrecords.ipynb").exists() \
        else ("DavidNet", "book/intro.html")
    url = (site / "search.html").as_uri() + f"?q={query}"
    dom = subprocess.run([site_tools.chromium(), *site_tools.flags(tmp_path), "--virtual-time-budget=15000", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120).stdout
    assert re.search(r"Search finished, found [1-9]\d* page", dom), dom[-2000:]
    assert f'href="{expected}' in dom


def test_instructors_page_lists_every_exercise_and_chapter(site):
    page = (site / "book/instructors.html").read_text().replace("<wbr>", "")  # copies as nothing
    text = re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", page)))
    text = text.translate(str.maketrans("\u2018\u2019\u201c\u201d", "''\"\""))  # Sphinx's smart quotes
    counts: dict[str, int] = {}
    for ex in exercises.book_exercises():
        assert ex.key in text and ex.label in text and ex.title in text
        # numbered as its chapter's page numbers it (sphinx-exercise, in the order shown)
        chapter = Path(ex.notebook).name[:2]
        if chapter.isdigit():
            counts[chapter] = counts.get(chapter, 0) + 1
            number = f"{int(chapter)}.{counts[chapter]}"
            assert f"Exercise {number}, {ex.title}" in text, number
            page = (site / Path(ex.notebook).with_suffix(".html")).read_text()
            assert f"Exercise {number} " in exercises._visible_text(page), number
    for row in exercises.chapter_plan_rows():
        assert f"{row[1]} {row[2]}" in text  # words, exercises


def test_chapter_page_renders_in_chromium(site, tmp_path):
    """The README's screenshot: the first chapter notebook's page (the intro while there is none)."""
    stem = PAGES[1] if len(PAGES) > 2 else "book/intro"
    site_tools.screenshot((site / f"{stem}.html").as_uri(), ROOT / "_build" / "screenshots" / "chapter.png",
                          tmp_path, "1280,900")



# ------------------------------------------------------------------ how the pages read, measured in Chromium

#: Runs in each page (in a 1280 px frame, offline): everything the reading checks below need, in one pass.
MEASURE = r"""function (win, doc) {
  var art = doc.querySelector("article.bd-article");
  doc.querySelectorAll("details").forEach(function (d) { d.open = true; });  // folded listings count too
  function longest(text) {
    return text.split("\n").reduce(function (a, b) { return b.length > a.length ? b : a; }, "");
  }
  var wide = [];
  art.querySelectorAll("pre").forEach(function (p) {
    if (p.clientWidth > 0 && p.scrollWidth > p.clientWidth + 1) {
      var output = p.closest("div.output");  // a stream or text output (a listing is code)
      wide.push([output ? "output" : "code", p.scrollWidth - p.clientWidth, longest(p.textContent)]);
    }
  });
  var figures = Array.from(art.querySelectorAll(".cell_output img")).map(function (img) {
    return [img.getAttribute("src"), img.getBoundingClientRect().width];
  });
  var maths = Array.from(art.querySelectorAll(".math"));
  var rawMath = maths.filter(function (m) { return !m.querySelector("mjx-container"); })
                     .map(function (m) { return m.textContent.slice(0, 60); });
  var stubs = [];
  art.querySelectorAll("div.cell").forEach(function (cell) {
    var src = cell.querySelector(".cell_input pre");
    if (!src || !/raise NotImplementedError/.test(src.textContent) || cell.closest(".solution")) return;
    var passes = [], next = cell;
    while (next) {
      var out = next.querySelector(".cell_output");
      if (out && /^PASS/m.test(out.textContent)) passes.push(out.textContent.trim().split("\n")[0]);
      next = next.nextElementSibling;
      while (next && next.matches(".solution, .tag_solution")) next = next.nextElementSibling;
      if (!next || !next.matches("div.cell") || /raise NotImplementedError/.test(next.textContent)) break;
    }
    stubs.push([longest(src.textContent), passes]);
  });
  // the Previous / Next links under the page: every piece (arrow, subtitle, title) inside its link
  // (which clips what overflows it) and inside the window
  var links = [], clipped = [];
  doc.querySelectorAll(".prev-next-area a").forEach(function (a) {
    var box = a.getBoundingClientRect();
    links.push(a.className);
    a.querySelectorAll("svg, i, p").forEach(function (piece) {
      var r = piece.getBoundingClientRect();
      if (r.width === 0) return;
      if (r.left < Math.max(box.left, 0) - 1 || r.right > Math.min(box.right, win.innerWidth) + 1)
        clipped.push([a.className, piece.tagName + "." + (piece.getAttribute("class") || ""),
                      Math.round(r.left), Math.round(r.right), Math.round(box.right), win.innerWidth]);
    });
  });
  // the page itself must not scroll sideways: what reaches past the window, outside any box that
  // scrolls on its own (a printed table, a wide diagram)
  var past = [], walker = doc.createTreeWalker(doc.body, NodeFilter.SHOW_TEXT), text;
  while ((text = walker.nextNode())) {  // text, since an unbreakable word overflows its box
    var range = doc.createRange();
    range.selectNodeContents(text);
    var r = range.getBoundingClientRect(), free = true;
    if (r.width === 0 || r.right <= win.innerWidth + 1) continue;
    for (var up = text.parentElement; up && free; up = up.parentElement) {
      var style = win.getComputedStyle(up);
      free = style.overflowX === "visible" && style.position !== "fixed";
    }
    if (free) past.push([text.parentElement.tagName, text.textContent.trim().slice(0, 50), Math.round(r.right)]);
  }
  return {column: art.clientWidth, wide: wide, figures: figures, maths: maths.length, rawMath: rawMath,
          typeset: art.querySelectorAll("mjx-container").length, stubs: stubs, prevNext: links,
          clipped: clipped, pageWidth: doc.documentElement.scrollWidth, window: win.innerWidth,
          past: past.slice(0, 8)};
}"""


@pytest.fixture(scope="module")
def measured(site, tmp_path_factory) -> dict:
    """`MEASURE` of every page at 1280 px, in one offline Chromium run."""
    return site_tools.measure(site, [f"{stem}.html" for stem in PAGES], MEASURE,
                              tmp_path_factory.mktemp("chromium"), width=1280)


def _visible(cell_html: str) -> str:
    return html_lib.unescape(re.sub(r"<[^>]+>", "", cell_html))


@pytest.mark.parametrize("stem", PAGES)
def test_tables_show_no_raw_markdown(site, stem):
    """What a table cell says is rendered: no `*x*`, `**x**` or backticks left as characters."""
    page = (site / f"{stem}.html").read_text()
    raw = []
    for table in re.findall(r"<table.*?</table>", page, re.S):
        for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", table, re.S):
            text = _visible(re.sub(r"<code.*?</code>", "", cell, flags=re.S))
            if re.search(r"\*\*?[^*\s][^*]*\*|`", text):
                raw.append(text.strip()[:80])
    assert not raw, f"{stem}: table cells with raw Markdown markers: {raw}"


@pytest.mark.parametrize("stem", PAGES)
def test_no_code_or_output_line_wider_than_the_column(measured, stem):
    """At 1280 px every code line (88 columns) fits the content column and long outputs wrap."""
    m = measured[f"{stem}.html"]
    assert "error" not in m, m
    wide = [f"{kind} {over} px too wide: {line[:100]!r}" for kind, over, line in m["wide"]]
    assert not wide, f"{stem} (column {m['column']} px): " + "\n".join(wide)


@pytest.fixture(scope="module")
def measured_phone(site, tmp_path_factory) -> dict:
    """`MEASURE` of every page at 400 px (a phone), in one offline Chromium run."""
    return site_tools.measure(site, [f"{stem}.html" for stem in PAGES], MEASURE,
                              tmp_path_factory.mktemp("chromium-phone"), width=400)


@pytest.mark.parametrize("stem", PAGES)
@pytest.mark.parametrize("screen", ["wide", "phone"])
def test_figure_text_is_readable(site, measured, measured_phone, stem, screen):
    """Every figure is an SVG whose smallest text is at least 9 px high at the width a 1280 px page
    shows it, and at least 8 px on a 400 px phone (a chart keeps to fw.plt.FIGURE_WIDTH and
    MIN_TEXT_PT; a diagram tagged `wide-figure` scrolls sideways there instead of shrinking)."""
    m = (measured if screen == "wide" else measured_phone)[f"{stem}.html"]
    least = 9 if screen == "wide" else figure_text.PHONE_MIN_PX
    if screen == "phone":  # the phone's column, which tests/figure_text.py assumes for charts
        assert all(shown <= figure_text.PHONE_COLUMN_PX or shown == 600 for _, shown in m["figures"])
    small = []
    for src, shown in m["figures"]:
        path = (site / stem).parent / src
        if path.suffix != ".svg":
            small.append(f"{src} is a {path.suffix} picture: the book's figures are SVG (fw.book.start sets "
                         "it; re-execute the chapter)")
            continue
        px = figure_text.smallest_text_px(path.read_text(), shown)
        if px < least:
            small.append(f"{src}: text {px:.1f} px at {shown:.0f} px wide")
    assert not small, f"{stem}: " + "\n".join(small)


@pytest.mark.parametrize("stem", PAGES)
@pytest.mark.parametrize("screen", ["wide", "phone"])
def test_previous_and_next_links_show_whole(measured, measured_phone, stem, screen):
    """Under each page the Previous / Next links show their arrow and title whole. On a phone the
    theme's two 45% columns were narrower than a title's longest word ("Augmentation:"), and the
    Next arrow was pushed out of its link and clipped (fwbook.css stacks them there)."""
    m = (measured if screen == "wide" else measured_phone)[f"{stem}.html"]
    assert m["prevNext"], f"{stem}: no Previous / Next link found: the check checks nothing"
    assert not m["clipped"], f"{stem}: pieces outside their link or the window: {m['clipped']}"


@pytest.mark.parametrize("stem", PAGES)
@pytest.mark.parametrize("screen", ["wide", "phone"])
def test_no_page_scrolls_sideways(measured, measured_phone, stem, screen):
    """The page fits the window: at 400 px the reference's signatures
    (``fenwicks_lite.io.tfexample_numpy_image_parser(...)``) and a value (``SHA256 = '6d95...'``)
    once made the whole page 651 px wide. A printed table or a wide diagram scrolls in its own box."""
    m = (measured if screen == "wide" else measured_phone)[f"{stem}.html"]
    assert m["pageWidth"] <= m["window"], f"{stem}: {m['pageWidth']} px wide in {m['window']}: {m['past']}"


@pytest.mark.parametrize("stem", PAGES)
def test_no_exercise_stub_is_followed_by_a_pass(measured, stem):
    """Under a stub that raises NotImplementedError the page shows no "PASS": the solution's result is
    shown as the solution's (inside the folded solution), not as the stub's."""
    stubs = measured[f"{stem}.html"]["stubs"]
    passing = [f"{stub!r} -> {passes}" for stub, passes in stubs if passes]
    assert not passing, f"{stem}: stubs followed by a PASS line: " + "\n".join(passing)


def test_math_renders_offline(measured):
    """MathJax ships with the site: with the network blocked every formula is typeset, none left raw."""
    assert sum(m["maths"] for m in measured.values()) > 0, "no page has math: the check checks nothing"
    for page, m in measured.items():
        assert not m["rawMath"], f"{page}: formulas left as TeX: {m['rawMath'][:5]}"
        assert m["typeset"] >= m["maths"], page


def test_chapter_page_on_a_phone(site, tmp_path):
    """The first chapter at 400 px: ``_build/screenshots/chapter-400.png`` (look at it after a visible
    change)."""
    stem = PAGES[1] if len(PAGES) > 2 else "book/intro"
    site_tools.screenshot((site / f"{stem}.html").as_uri(), ROOT / "_build" / "screenshots" / "chapter-400.png",
                          tmp_path, "400,900")


#: Each printed table on the page (an output of a cell tagged `aligned-output`): its first line,
#: its non-empty lines, the lines it takes on screen (distinct tops of its text's line boxes) and
#: whether it scrolls sideways.
TABLES = r"""function (win, doc) {
  var pres = doc.querySelectorAll("div.cell.tag_aligned-output div.cell_output div.output pre");
  return Array.from(pres).map(function (p) {
    var range = doc.createRange();
    range.selectNodeContents(p);
    var tops = new Set();
    Array.from(range.getClientRects()).forEach(function (b) {
      if (b.width > 0) tops.add(Math.round(b.top));
    });
    var lines = p.textContent.split("\n").filter(function (l) { return l.trim(); });
    return [lines[0].slice(0, 60), lines.length, tops.size, p.scrollWidth > p.clientWidth + 1];
  });
}"""


def test_printed_tables_keep_their_columns_on_a_phone(site, tmp_path):
    """At 400 px a printed table (its cell tagged `aligned-output`, fwbook.css) keeps each line
    on one line, scrolling sideways, where other outputs wrap; at 1280 px such a table fits the
    column (`test_no_code_or_output_line_wider_than_the_column`)."""
    tagged = [str(p.relative_to(ROOT).with_suffix("")) for p in book.chapters()
              if any(TABLE_TAG in c.metadata.get("tags", []) for c in nbformat.read(p, 4).cells)]
    assert tagged, f"no cell is tagged {TABLE_TAG!r}: the check checks nothing"
    found = site_tools.measure(site, [f"{stem}.html" for stem in tagged], TABLES, tmp_path,
                               width=400)
    wrapped, scrolls = [], 0
    for page, tables in found.items():
        assert tables, f"{page}: its tagged cells' outputs are not on the page"
        for first, lines, shown, scrolled in tables:
            scrolls += scrolled
            if shown != lines:
                wrapped.append(f"{page}: {first!r}: {lines} lines shown on {shown}")
    assert not wrapped, "printed tables wrapped at 400 px:\n" + "\n".join(wrapped)
    assert scrolls, "no printed table is wider than a phone: nothing showed the sideways scroll"


#: Each line break inside a table's inline code: the code's text and the character before the
#: break (the tops of consecutive characters' boxes differ).
CODE_BREAKS = r"""function (win, doc) {
  var out = [];
  doc.querySelectorAll("article table code").forEach(function (code) {
    var text = code.textContent, range = doc.createRange(), last = null, at = 0;
    var walker = doc.createTreeWalker(code, NodeFilter.SHOW_TEXT);
    for (var node = walker.nextNode(); node; node = walker.nextNode()) {
      for (var i = 0; i < node.length; i++, at++) {
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        var boxes = range.getClientRects();
        if (!boxes.length) continue;
        var top = Math.round(boxes[0].top);
        if (last !== null && top > last + 2) out.push([text, text.charAt(at - 1)]);
        last = top;
      }
    }
  });
  return out;
}"""


def test_code_names_in_tables_break_where_they_are_joined(site, tmp_path):
    """At 400 px a code name in a narrow table column (the introduction's map, the instructors'
    tables) breaks only after a ``_``, ``.`` or ``/`` (fwbook.site.TableCodeBreaks), a hyphen or
    a space, not inside a word (fwbook.css: a word too wide widens the table, which scrolls);
    and the page's text is still the name (``<wbr>`` copies as nothing)."""
    pages = ["book/intro.html", "book/instructors.html"]
    found = site_tools.measure(site, pages, CODE_BREAKS, tmp_path, width=400)
    breaks = [b for page in pages for b in found[page]]
    assert breaks, "no code name in a table broke at 400 px: the check checks nothing"
    inside = sorted({text for text, before in breaks if before not in "_./- "})
    assert not inside, f"code names broken inside a word at 400 px: {inside}"
    intro = (site / "book/intro.html").read_text()
    assert re.search(r"test_(</span>)?<wbr>", intro)
    assert "test_colab_tpu.py" in _visible(intro.replace("<wbr>", ""))


#: The logo's box, the header's, the left sidebar's and the current chapter's link in the sidebar, as
#: the page opens (after the theme has scrolled the sidebar to the current link).
LOGO = r"""function (win, doc) {
  function box(el) {
    if (!el) return null;
    var r = el.getBoundingClientRect();
    return r.height > 0 ? [r.top, r.bottom] : null;
  }
  var side = doc.querySelector(".bd-sidebar-primary");
  return {logo: box(side && side.querySelector("img.logo__image.only-light")),
          header: box(doc.querySelector("header.bd-header")), sidebar: box(side),
          current: box(side && side.querySelector("a.current")), height: win.innerHeight,
          scrolled: side ? side.scrollTop : 0};
}"""


@pytest.mark.parametrize("width", [1280, 400])
def test_logo_is_fully_visible(site, tmp_path, width):
    """On every page, as it opens, the sidebar's logo is whole: below the header, inside the sidebar and
    the window, though the theme scrolls the sidebar to the current chapter's link (which shows below
    the logo). At 400 px the sidebar is the menu the top-left button slides in: its heights are those."""
    found = site_tools.measure(site, [f"{stem}.html" for stem in PAGES], LOGO, tmp_path, width=width)
    hidden, scrolled = [], 0
    for page, m in found.items():
        assert "error" not in m and m["logo"], f"{page}: no logo in the sidebar at {width} px: {m}"
        (top, bottom), header = m["logo"], m["header"] or [0, 0]
        low = min(m["sidebar"][1], m["height"]) if m["sidebar"] else m["height"]
        if top < max(header[1], m["sidebar"][0] if m["sidebar"] else 0, 0) or bottom > low:
            hidden.append(f"{page}: logo {top:.0f}-{bottom:.0f} px, header ends at {header[1]:.0f}, "
                          f"sidebar {m['sidebar']} (scrolled {m['scrolled']} px)")
        if m["current"] and m["current"][0] < bottom:
            hidden.append(f"{page}: the current chapter's link ({m['current'][0]:.0f} px) is under the logo")
        scrolled += m["scrolled"] > 0
    assert not hidden, f"at {width} px:\n" + "\n".join(hidden)
    assert scrolled, "no page scrolled its sidebar: the check did not meet the case it guards"


#: Clicks the page's visible menu button, then its visible "Contents" button, and says for each
#: whether the sidebar's panel (the theme's <dialog>) opened; also counts the buttons and the
#: search fields shown.
TOGGLES = r"""function (win, doc) {
  function shown(e) { var r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; }
  var out = {searchFields: Array.from(doc.querySelectorAll(".search-button-field")).filter(shown).length};
  [["primary", "#pst-primary-sidebar-modal"], ["secondary", "#pst-secondary-sidebar-modal"]]
    .forEach(function (k) {
      var buttons = Array.from(doc.querySelectorAll("." + k[0] + "-toggle")), dialog = doc.querySelector(k[1]);
      var visible = buttons.filter(shown);
      out[k[0]] = {buttons: buttons.length, visible: visible.length, opened: null};
      if (visible.length && dialog) {
        visible[0].click();
        out[k[0]].opened = dialog.open;
        if (dialog.open) dialog.close();
      }
    });
  return out;
}"""


def test_menu_and_contents_buttons_open_their_panels_on_a_phone(site, tmp_path):
    """At 400 px the top-left menu button slides in the chapters and the top-right button the
    page's contents. pydata-sphinx-theme 0.17 put its own navbar back above the book theme's header
    (fwbook.site sets `navbar_persistent` empty against it), with a hidden second pair of these
    buttons: the theme's script bound the hidden pair, and the visible buttons did nothing."""
    found = site_tools.measure(site, [f"{PAGES[1]}.html"], TOGGLES, tmp_path, width=400)[f"{PAGES[1]}.html"]
    assert "error" not in found, found
    for kind, what in (("primary", "menu"), ("secondary", "contents")):
        m = found[kind]
        assert m["buttons"] == 1 and m["visible"] == 1, f"{what} buttons on the page: {m}"
        assert m["opened"] is True, f"the visible {what} button did not open its panel: {m}"


@pytest.mark.parametrize("stem", PAGES)
def test_one_search_field_at_1280(site, stem):
    """The search field is in the left sidebar; pydata's navbar, which held a second one in a
    64 px bar above the page, is left out (fwbook.site)."""
    page = (site / f"{stem}.html").read_text()
    assert page.count("search-button-field") == 1, f"{stem}: {page.count('search-button-field')} search fields"
    assert page.count('class="pst-navbar-icon sidebar-toggle primary-toggle"') <= 1


#: The display formulas' overflow: how much wider each typeset formula is than its box.
DISPLAY_MATH = r"""function (win, doc) {
  return Array.from(doc.querySelectorAll("article mjx-container[display='true']")).map(function (m) {
    return [m.scrollWidth - m.clientWidth, m.textContent.slice(0, 60)];
  });
}"""


def test_display_formulas_fit_a_phone(site, tmp_path):
    """At 400 px every display formula fits the column (MathJax 3 does not break lines: a long
    one scrolled, with its end out of sight); write a long one as lines, in `aligned`."""
    with_math = [stem for stem in PAGES if "math notranslate nohighlight" in (site / f"{stem}.html").read_text()]
    found = site_tools.measure(site, [f"{stem}.html" for stem in with_math], DISPLAY_MATH, tmp_path,
                               width=400)
    assert sum(len(v) for v in found.values()) > 0, "no display formula typeset: the check checks nothing"
    wide = [f"{page}: {over} px too wide: {text!r}" for page, maths in found.items()
            for over, text in maths if over > 1]
    assert not wide, "\n".join(wide)


# ------------------------------------------------------------------ what the pages are made of (fw.book)

def test_show_source_folds_the_listing_under_a_one_line_summary():
    import inspect

    from fenwicks_lite import book as fw_book
    from fenwicks_lite import io, layers

    shown = fw_book.show_source(io.numpy_tfrecord, layers.ConvBN.call).data
    lines = sum(len(inspect.getsource(f).rstrip().splitlines()) for f in (io.numpy_tfrecord, layers.ConvBN.call))
    head, body = shown.split("\n", 2)[:2], shown.split("\n", 2)[2]
    assert head[0] == '<details class="fw-source">' and shown.endswith("</details>")
    assert head[1] == ("<summary>Source: <code>fw.io.numpy_tfrecord</code>, <code>fw.layers.ConvBN.call</code> "
                       f"(fenwicks_lite/io.py, fenwicks_lite/layers.py, {lines} lines)</summary>")
    assert f"```python\n{inspect.getsource(io.numpy_tfrecord).rstrip()}\n```" in body
    with pytest.raises(TypeError, match=r"show_source needs the functions or classes to show"):
        fw_book.show_source()


def test_sharp_figures_makes_a_notebook_show_svg_without_a_date():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from IPython.core.interactiveshell import InteractiveShell

    from fenwicks_lite import book as fw_book

    assert fw_book.sharp_figures() is False  # no IPython here: nothing to set
    shell = InteractiveShell.instance()
    try:
        assert fw_book.sharp_figures() is True
        fig, ax = plt.subplots()
        ax.set_title("x")
        data, _ = shell.display_formatter.format(fig)
        assert "image/svg+xml" in data and "image/png" not in data
        assert "<dc:date>" not in data["image/svg+xml"]
        again, _ = shell.display_formatter.format(fig)
        assert again["image/svg+xml"] == data["image/svg+xml"]  # fixed ids: re-running changes nothing
        plt.close(fig)
    finally:
        InteractiveShell.clear_instance()

# ------------------------------------------------------------------ the student edition, on a small book

def _small_book(tmp_path: Path) -> Path:
    """A copy of the book's configuration with the intro, one chapter-like notebook and the instructors."""
    from test_grading import chapter

    src = tmp_path / "src"
    (src / "book").mkdir(parents=True)
    for name in ("_config.yml", "references.bib"):
        shutil.copy2(ROOT / name, src / name)
    (src / "fenwicks_lite").symlink_to(ROOT / "fenwicks_lite")  # the config's autodoc2 package
    shutil.copy2(ROOT / "book" / "instructors.md", src / "book" / "instructors.md")
    # a stand-in intro: the book's own links pages (glossary, chapters) this small book lacks
    (src / "book" / "intro.md").write_text(
        "# A small book\n\nOne chapter and the instructors.\n\n```{bibliography}\n```\n")
    (src / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nparts:\n  - caption: Chapters\n"
                                  "    chapters:\n      - file: book/01_test\n  - caption: For instructors\n"
                                  "    chapters:\n      - file: book/instructors\n")
    nb = chapter()
    nb.cells[2].metadata["tags"] = ["remove-cell"]  # the test checkers are not for the page
    nbformat.write(nb, src / "book" / "01_test.ipynb")
    return src


def test_student_edition_has_no_solutions_and_the_check_catches_them(tmp_path):
    sys.path.insert(0, str(Path(__file__).parent))
    src = _small_book(tmp_path)
    student = tmp_path / "student"
    for path in exercises.chapter_notebooks(src):  # what `python -m fwbook.notebooks student` writes
        dest = student / path.relative_to(src)
        dest.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(book.strip_solutions(nbformat.read(path, as_version=4)), dest)
    shutil.copytree(site_tools.build(exercises.student_sources(student, src), student / "site"), student / "html")
    assert exercises.verify_student(student, src) == []
    page = exercises._visible_text((student / "html" / "book" / "01_test.html").read_text())
    assert "Exercise 1 (Write double)" in page and "raise NotImplementedError" in page
    assert "return 2 * x" not in page and "Solution to" not in page
    # The instructors' site shows the solutions; the same check on it reports them.
    shutil.rmtree(student / "html")
    shutil.copytree(site_tools.build(src, tmp_path / "full"), student / "html")
    problems = exercises.verify_student(student, src)
    assert len(problems) == 3 and "shows solution code" in problems[0] and "return 2 * x" in problems[0]
    assert "has a solution block" in problems[1] and "instructors' page" in problems[2]


def test_the_books_student_edition_has_no_solutions(tmp_path):
    """`make student` on the real chapters: the notebooks and the site it builds keep no solution."""
    from fwbook import colab

    student = tmp_path / "student"
    written = book.student(student)  # what `make student` writes
    assert [p.name for p in written] == [p.name for p in book.chapters()]
    for path in written:  # in the plain Markdown Jupyter and Colab render (fwbook.colab)
        nb = nbformat.read(path, as_version=4)
        assert colab.leftovers(nb) == [], path.name
        if path.name[:2].isdigit() and any("answer" in c.metadata.get("fenwicks_lite", {}) for c in nb.cells):
            assert f"**Exercise {int(path.name[:2])}.1: " in "\n".join(c.source for c in nb.cells)
    shutil.copytree(site_tools.build(exercises.student_sources(student), student / "site"), student / "html")
    assert exercises.verify_student(student) == []
