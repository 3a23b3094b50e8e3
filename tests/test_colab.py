"""fwbook.colab: the Colab edition, the chapters with their Markdown in plain CommonMark (Colab renders
no MyST). What each role and box becomes, the whole book converted with nothing left over and its
code untouched, the errors that say what to fix, and the command."""

from __future__ import annotations

import nbformat
import pytest
from fwbook import colab
from fwbook import notebooks as book
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


@pytest.fixture(scope="module")
def conv():
    return colab.Converter()


def _chapter(*cells):
    return new_notebook(cells=list(cells))


EXERCISE = (":::{exercise} Double it\n:label: ex-ch04-double\n:class: easy\n\n"
            "Write `double(x)`. Difficulty: easy.\n:::")


def test_roles_become_what_the_site_shows(conv):
    figure = new_code_cell("plt.plot()", metadata={"mystnb": {"figure": {"name": "fig-ch04-a"}}})
    nb = conv.convert(_chapter(
        new_markdown_cell("A {term}`cutout <Cutout>` and {term}`TPU`, after {cite}`page2018` and "
                          "{cite}`smith2017,smith2018`; see {numref}`fig-ch04-a` and "
                          "{doc}`where_next`, or {doc}`the glossary <glossary>`."),
        figure), "04")
    assert nb.cells[0].source == (
        "A cutout and TPU, after [Page, 2018] and [Smith, 2017; Smith and Topin, 2018]; see "
        "Fig. 4.1 and [Where next](https://fenwicks-lite.github.io/fenwicks-lite-book/book/"
        "where_next.html), or [the glossary](https://fenwicks-lite.github.io/fenwicks-lite-book/"
        "book/glossary.html).")


def test_boxes_become_bold_titles_and_quotes(conv):
    nb = conv.convert(_chapter(
        new_markdown_cell("# 4. A chapter\n\n:::{admonition} What you will learn\n:class: tip\n"
                          "- one thing;\n- another.\n:::\n\nProse."),
        new_markdown_cell("(sec-ex)=\n## Exercises\n\n" + EXERCISE),
        new_code_cell("def double(x):\n    raise NotImplementedError"),
        new_markdown_cell("````{solution-start} ex-ch04-double\n:class: dropdown\n````"),
        new_code_cell("def double(x):\n    return 2 * x"),
        new_markdown_cell("````{solution-end}\n````"),
        new_markdown_cell("See {numref}`ex-ch04-double`.")), "04")
    assert [c.source for c in nb.cells if c.cell_type == "markdown"] == [
        "# 4. A chapter\n\n> **What you will learn**\n>\n> - one thing;\n> - another.\n\nProse.",
        "## Exercises\n\n**Exercise 4.1: Double it**\n\nWrite `double(x)`. Difficulty: easy.",
        "**Solution to Exercise 4.1**",
        "See Exercise 4.1.",
    ]  # the solution's end marker is gone, the code cells stay
    assert [c.source for c in nb.cells if c.cell_type == "code"] == [
        "def double(x):\n    raise NotImplementedError", "def double(x):\n    return 2 * x"]


def test_an_unnumbered_page_counts_from_one(conv):
    figure = new_code_cell("", metadata={"mystnb": {"figure": {"name": "fig-a"}}})
    nb = conv.convert(_chapter(figure, new_markdown_cell("{numref}`fig-a`")), "")
    assert nb.cells[1].source == "Fig. 1"


def test_an_appendix_letters_its_figures_as_the_site_does(conv):
    """The appendix part of _toc.yml is lettered: its figures read "Fig. A.1" on the site
    (fwbook.site) and in the Colab edition alike."""
    assert book.appendices() == {"book/appendix_2019": "A"}
    assert colab.chapter_number(book.ROOT / "book" / "appendix_2019.ipynb") == "A"
    assert colab.chapter_number(book.ROOT / "book" / "04_augmentation.ipynb") == "04"
    assert colab.chapter_number(book.ROOT / "book" / "intro.md") == ""
    figure = new_code_cell("", metadata={"mystnb": {"figure": {"name": "fig-a"}}})
    nb = conv.convert(_chapter(figure, new_markdown_cell("{numref}`fig-a`")), "A")
    assert nb.cells[1].source == "Fig. A.1"


@pytest.mark.parametrize("source, message", [
    ("{cite}`nobody2031`", "{cite} of ['nobody2031'], which references.bib lacks: add the entry"),
    ("{doc}`no_such_page`", "{doc}`no_such_page` names no page of the book"),
    ("{numref}`fig-elsewhere`", "names no figure or exercise of this chapter"),
    ("{eq}`energy`", "the role {eq} has no plain-Markdown form here: add it to fwbook.colab"),
    (":::{exercise} Open\n:label: x\n\nNo end.", "a {exercise} box without its closing :::"),
    (":::{margin}\nAside.\n:::", "the box {margin} has no plain-Markdown form here"),
])
def test_what_it_cannot_convert_says_what_to_fix(conv, source, message):
    with pytest.raises(ValueError, match="ch.ipynb, cell 0: ") as e:
        conv.convert(_chapter(new_markdown_cell(source)), "04", "ch.ipynb")
    assert message in str(e.value)


def test_every_chapter_converts_with_nothing_left_and_its_code_untouched(tmp_path):
    written = colab.write_edition(tmp_path)
    assert [p.name for p in written] == [p.name for p in book.chapters()]
    for src, out in zip(book.chapters(), written, strict=True):
        before, after = nbformat.read(src, as_version=4), nbformat.read(out, as_version=4)
        assert colab.leftovers(after) == [], out.name
        assert colab.leftovers(before), src.name  # the source has MyST to convert
        code = [(c.source, c.outputs) for c in before.cells if c.cell_type == "code"]
        assert [(c.source, c.outputs) for c in after.cells if c.cell_type == "code"] == code
        ends = sum("{solution-end}" in c.source for c in before.cells if c.cell_type == "markdown")
        assert len(after.cells) == len(before.cells) - ends, out.name
        text = "\n".join(c.source for c in after.cells if c.cell_type == "markdown")
        assert "{term}" not in text and ":::" not in text and "```{" not in text
        if src.name[:2].isdigit() and "{exercise}" in "\n".join(c.source for c in before.cells):
            assert f"**Exercise {int(src.name[:2])}.1: " in text, out.name


def test_the_command_writes_the_edition_and_fails_clearly(tmp_path, capsys, monkeypatch):
    assert colab.main([str(tmp_path / "out")]) == 0
    assert f"{len(book.chapters())} chapters in plain Markdown" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "out" / "book").iterdir()) == sorted(
        p.name for p in book.chapters())

    def broken():
        raise ValueError("book/04_augmentation.ipynb, cell 3: {cite} of ['x']")

    monkeypatch.setattr(colab, "write_edition", lambda out: broken())
    assert colab.main([str(tmp_path / "again")]) == 2
    assert "error: book/04_augmentation.ipynb, cell 3" in capsys.readouterr().err
