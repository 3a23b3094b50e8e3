"""The library reference (book/reference.md and a page for each module under book/reference/,
book/_ext/fwbook/apidoc.py): what fwbook adds to sphinx-autodoc2 (the ``#:`` comments, aliases,
values on the signature line, a module under its page's title), the pages' order and chapter
links against `fenwicks_lite.SUBMODULES`, and, on the built site, every public function, class
and documented constant of the library on its module's page."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from autodoc2.analysis import analyse_module
from autodoc2.config import Config
from autodoc2.db import InMemoryDb
from autodoc2.render.myst_ import MystRenderer
from fwbook import apidoc
from fwbook import notebooks as book

import fenwicks_lite as fw

ROOT = book.ROOT
PAGE = ROOT / "book" / "reference.md"
#: a page for each module: book/reference/<module>.md
MODULE_PAGES = ROOT / "book" / "reference"
LIBRARY = ROOT / "fenwicks_lite"

MODULE = '''\
"""A module."""

#: the answer.
ANSWER = 42
UNDOCUMENTED = 1
#: two lines
#: of doc.
TWO = 2
#: a comment
WITH_DOCSTRING = 3
"""its own docstring."""


def real():
    """Real."""


#: the old name.
old = real
bare_alias = real


class Box:
    """A box."""

    #: its side.
    side: int = 3
'''


def _db(tmp_path: Path) -> InMemoryDb:
    path = tmp_path / "mod.py"
    path.write_text(MODULE)
    db = InMemoryDb()
    for item in analyse_module(path, "pkg.mod"):
        db.add(item)
    return db


def test_doc_comments_become_docstrings_and_aliases_name_their_target(tmp_path):
    db = _db(tmp_path)
    assert db.get_item("pkg.mod.ANSWER")["doc"] == ""  # what autodoc2 reads by itself
    assert db.get_item("pkg.mod.old")["value"] is None
    assert apidoc.fill_items(db) == 6
    doc = {name: db.get_item(f"pkg.mod.{name}")["doc"]
           for name in ("ANSWER", "UNDOCUMENTED", "TWO", "WITH_DOCSTRING", "old", "bare_alias")}
    assert doc == {"ANSWER": "the answer.", "UNDOCUMENTED": "", "TWO": "two lines\nof doc.",
                   "WITH_DOCSTRING": "its own docstring.", "old": "the old name.",
                   "bare_alias": ""}
    assert db.get_item("pkg.mod.Box.side")["doc"] == "its side."
    assert db.get_item("pkg.mod.old")["value"] == "real"
    assert db.get_item("pkg.mod.bare_alias")["value"] == "real"
    assert db.get_item("pkg.mod.ANSWER")["value"] == 42
    assert apidoc.fill_items(db) == 0  # a second build's pass changes nothing


def test_a_constant_value_is_on_its_option_line_not_in_the_body(tmp_path):
    db = _db(tmp_path)
    apidoc.fill_items(db)
    renderer = apidoc.Renderer(db, Config())
    text = "\n".join(renderer.render_item("pkg.mod.ANSWER"))
    assert ":value: 42\n" in text and ":value: >" not in text
    text = "\n".join(renderer.render_item("pkg.mod.old"))
    assert ":value: real\n" in text


def _headings(lines: list[str]) -> list[str]:
    return [line for line in lines if re.match(r"#+ ", line)]


def test_a_module_is_rendered_under_its_pages_title_without_headings(library_db):
    """The module's page titles it ("`fw.transform`: pad-and-crop, ..."). Of autodoc2's
    headings, its own (``# {py:mod}`...```) would be a second, bare title, and with any
    heading MyST moved what comes before it (the module's target and docstring) to the
    page's end: "Functions", "API" are rubrics instead, and the rest is there, in order."""
    renderer = apidoc.Renderer(library_db, Config())
    lines = list(renderer.render_item("fenwicks_lite.transform"))
    assert _headings(lines) == []
    lines = [line for line in lines if line]
    assert lines[:2] == ["```{py:module} fenwicks_lite.transform", "```"]
    rubrics = [line.removeprefix("```{rubric} ") for line in lines
               if line.startswith("```{rubric} ")]
    assert rubrics == ["Classes", "Functions", "Data", "API"]
    docstring = lines.index("```{autodoc2-docstring} fenwicks_lite.transform")
    cutout = next(i for i, line in enumerate(lines) if line.startswith("````{py:function} cutout("))
    assert docstring < lines.index("```{rubric} Classes") < lines.index("```{rubric} API") < cutout
    unchanged = list(MystRenderer(library_db, Config()).render_item("fenwicks_lite.transform"))
    assert len(_headings(unchanged)) == 6  # what autodoc2 gives it: the heading is all that goes


def _rendered(text: str) -> list[str]:
    return re.findall(r"^```\{autodoc2-object\} fenwicks_lite\.(\w+)$", text, re.M)


def test_each_module_has_its_page_in_the_chapters_order():
    """book/reference/<module>.md renders that module alone, under a title that names it
    ("`fw.transform`: pad-and-crop, flip, cutout"); the toc lists the pages under the
    reference in the order of `fw.SUBMODULES`; the landing page renders only the package's
    own two names."""
    for module in fw.SUBMODULES:
        text = (MODULE_PAGES / f"{module}.md").read_text()
        assert _rendered(text) == [module], module
        assert re.match(rf"# `fw\.{module}`: \S", text), f"{module}.md: its title"
    assert sorted(p.stem for p in MODULE_PAGES.glob("*.md")) == sorted(fw.SUBMODULES)
    pages = book.pages()
    under = [p.removeprefix("book/reference/") for p in pages
             if p.startswith("book/reference/")]
    assert under == list(fw.SUBMODULES)
    assert pages.index("book/reference") == pages.index("book/reference/colab_tpu") - 1
    assert sorted(_rendered(PAGE.read_text())) == ["TensorFlowMissingError", "needs_tensorflow"]
    on_disk = {p.stem for p in LIBRARY.glob("*.py")} - {"__init__"}
    assert set(fw.SUBMODULES) == on_disk, "a module without a chapter, or a chapter without it"


def _chapters(text: str) -> set[str]:
    """The chapters a `fw.SUBMODULES` entry names ("Chapters 1, 3 and 5 (...)",
    "Appendix, ...", "Introduction and For instructors (...)"): numbers, "appendix",
    "introduction", "instructors"."""
    found = {str(n) for n in apidoc.chapters_named(text)}
    head = text.split("(")[0].lower()
    return found | {word for word in ("appendix", "introduction", "instructors") if word in head}


def test_the_table_links_each_module_to_the_chapters_that_explain_it():
    rows = re.findall(r"^\| \{py:mod\}`fw\.(\w+) <fenwicks_lite\.\1>` \| (.*?) \| (.*?) \|$",
                      PAGE.read_text(), re.M)
    assert [m for m, _, _ in rows] == list(fw.SUBMODULES)
    for module, chapters, _ in rows:
        linked = set(re.findall(r"\{doc\}`([^<`]+?) <", chapters))
        if "For instructors" in chapters:  # not a link: the student edition has no such page
            linked.add("instructors")
        assert linked == _chapters(fw.SUBMODULES[module]), module


def _public(path: Path) -> list[str]:
    """The public functions and classes a module defines."""
    tree = ast.parse(path.read_text())
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))
            and not n.name.startswith("_")]


def _built(site: Path) -> str:
    """The reference's built pages, the landing page and every module's, as one text."""
    return "\n".join(
        (site / "book" / f"{name}.html").read_text()
        for name in ["reference", *[f"reference/{m}" for m in fw.SUBMODULES]])


@pytest.mark.book
def test_the_built_pages_have_every_public_name_and_no_private_one(site):
    for module in fw.SUBMODULES:  # each on its module's page, and only there
        page = (site / "book" / "reference" / f"{module}.html").read_text()
        ids = set(re.findall(r'<dt class="sig sig-object py" id="([\w.]+)"', page))
        assert [i for i in ids if not i.startswith(f"fenwicks_lite.{module}.")] == [], module
    page = _built(site)
    ids = set(re.findall(r'<dt class="sig sig-object py" id="([\w.]+)"', page))
    expected = {f"fenwicks_lite.{m}.{name}" for m in fw.SUBMODULES
                for name in _public(LIBRARY / f"{m}.py")}
    assert expected - ids == set()
    assert not [i for i in ids if re.search(r"\._[a-z]", i)]  # _private, __dunder__
    assert not [i for i in ids if i.startswith("fenwicks_lite.checks")]
    # constants documented by a `#:` comment, the 2019 alias with what it stands for
    assert "fenwicks_lite.data.CLASS_NAMES" in ids
    assert "label 3 is “cat”" in page or "label 3 is &quot;cat&quot;" in page
    alias = page[page.index('id="fenwicks_lite.transform.ramdom_pad_crop"'):][:2000]
    assert "random_pad_crop" in alias and "spelling" in alias


@pytest.mark.book
def test_a_constants_value_is_on_its_signature(site):
    page = (site / "book" / "reference" / "grading.html").read_text()
    entry = page[page.index('id="fenwicks_lite.grading.ID_PATTERNS"'):]
    signature, body = entry.split("</dt>", 1)
    assert "?P&lt;name&gt;" in signature
    assert body.split("</dd>")[0].count("<p>") == 1  # the comment only, no value paragraph


@pytest.fixture(scope="module")
def library_db() -> InMemoryDb:
    """The modules these tests name, as sphinx-autodoc2 analyses them for the site, with
    fwbook's additions (the whole library takes seconds more)."""
    db = InMemoryDb()
    for stem in ("__init__", "colab_tpu", "data", "fit", "io", "optim", "pipeline", "records",
                 "train", "transform"):
        path = LIBRARY / f"{stem}.py"
        name = "fenwicks_lite" if stem == "__init__" else f"fenwicks_lite.{stem}"
        for item in analyse_module(path, name):
            db.add(item)
    apidoc.fill_items(db)
    return db


def test_a_name_resolves_through_the_module_that_re_exports_it(library_db):
    assert apidoc.resolve(library_db, "fenwicks_lite.transform.cutout") == \
        "fenwicks_lite.transform.cutout"
    assert apidoc.resolve(library_db, "fenwicks_lite.train.triangular_lr") == \
        "fenwicks_lite.optim.triangular_lr"
    assert apidoc.resolve(library_db, "fenwicks_lite.data.numpy_tfrecord") == \
        "fenwicks_lite.io.numpy_tfrecord"
    assert apidoc.resolve(library_db, "fenwicks_lite.records.TrainConfig.precision") == \
        "fenwicks_lite.records.TrainConfig.precision"
    assert apidoc.resolve(library_db, "fenwicks_lite.transform.cutout_old") is None
    assert apidoc.resolve(library_db, "fenwicks_lite.colab_utils") is None  # a run-time name


def test_library_names_in_the_prose_are_found_and_a_missing_one_warns(library_db, monkeypatch):
    from docutils import nodes
    from docutils.utils import new_document

    doc = new_document("book/04_augmentation.md")
    texts = ["fw.transform.cutout", "fw.io.numpy_tfrecord(x, y, path)", "fw.train.triangular_lr",
             "fw.colab_utils.setup_gcs()", "fw.transform", "fw.Sequential", "cutout",
             "fw.transform.cutout_old"]
    doc += [nodes.paragraph("", "", nodes.literal(t, t)) for t in texts]
    doc += nodes.section("", nodes.title("", "", nodes.literal("fw.layers", "fw.layers")))
    warned = []
    monkeypatch.setattr(apidoc.LOGGER, "warning", lambda msg, **kw: warned.append(msg))
    found = {literal.astext(): target for literal, target in apidoc.library_literals(doc, library_db)}
    targets = {t: found.get(t) for t in [*texts, "fw.layers"]}
    assert targets == {
        "fw.transform.cutout": "fenwicks_lite.transform.cutout",
        "fw.io.numpy_tfrecord(x, y, path)": "fenwicks_lite.io.numpy_tfrecord",
        "fw.train.triangular_lr": "fenwicks_lite.optim.triangular_lr",
        "fw.colab_utils.setup_gcs()": "fenwicks_lite.colab_tpu.setup_gcs",  # the May name
        "fw.transform": "fenwicks_lite.transform",
        "fw.Sequential": None,  # Keras's, not the library's
        "cutout": None,
        "fw.transform.cutout_old": None,
        "fw.layers": None,  # in a heading: no link
    }
    assert warned == ["'fw.transform.cutout_old' names nothing in the library "
                      "(fenwicks_lite.transform.cutout_old does not exist): write the name it "
                      "has now"]


def test_a_docstrings_short_names_resolve_in_its_entry_then_its_module(library_db):
    from docutils import nodes
    from docutils.utils import new_document
    from sphinx import addnodes

    def paragraph(*texts):
        return nodes.paragraph("", "", *[nodes.literal(t, t) for t in texts])

    doc = new_document("book/reference.md")
    signature = addnodes.desc_signature("", "", module="fenwicks_lite.records",
                                        fullname="TrainConfig")
    entry = addnodes.desc("", signature, addnodes.desc_content(
        "", paragraph("replace", "load_results", "fit.train", "keras.ops", "x")))
    module = nodes.section("", nodes.target(ids=["module-fenwicks_lite.data"]),
                           paragraph("load_cifar10", "checked()"))
    # a module's page: its title's section takes the target's id (docutils' PropagateTargets)
    page = nodes.section("", nodes.title("", "fw.io"), paragraph("numpy_tfrecord"),
                         ids=["module-fenwicks_lite.io", "fw-io"])
    doc += [entry, module, page, paragraph("load_cifar10")]  # the last outside all: no scope
    found = [(literal.astext(), targets)
             for literal, targets in apidoc.local_literals(doc, library_db)]
    assert found == [
        ("replace", ["fenwicks_lite.records.TrainConfig.replace"]),
        ("load_results", ["fenwicks_lite.records.load_results"]),
        ("fit.train", ["fenwicks_lite.fit.train"]),
        ("load_cifar10", ["fenwicks_lite.data.load_cifar10"]),
        ("checked()", ["fenwicks_lite.data.checked"]),
        ("numpy_tfrecord", ["fenwicks_lite.io.numpy_tfrecord"]),
    ]


def test_a_docstrings_chapters_become_links_to_their_pages():
    chapters = {n: f"book/{n:02d}" for n in range(1, 11)}
    assert apidoc.chapter_links("(Chapter 4, Augmentation).", chapters) == [
        ("(", None), ("Chapter 4", "book/04"), (", Augmentation).", None)]
    assert apidoc.chapter_links("Chapters 1, 3 and 5 (TFRecords)", chapters) == [
        ("Chapters ", None), ("1", "book/01"), (", ", None), ("3", "book/03"), (" and ", None),
        ("5", "book/05"), (" (TFRecords)", None)]
    assert apidoc.chapter_links("a compiled epoch (Ch. 8, 9)", chapters) == [
        ("a compiled epoch (", None), ("Ch. ", None), ("8", "book/08"), (", ", None),
        ("9", "book/09"), (")", None)]
    assert apidoc.chapter_links("as chapter 7 says; CIFAR-10", chapters) == [
        ("as ", None), ("chapter 7", "book/07"), (" says; CIFAR-10", None)]
    assert apidoc.chapter_links("Chapter 12 and Chapter 2", chapters) == [
        ("Chapter 12 and ", None), ("Chapter 2", "book/02")]  # no chapter 12: text
    assert apidoc.chapter_links("no chapter here", chapters) == [("no chapter here", None)]


@pytest.mark.book
def test_the_chapters_link_library_names_to_the_reference(site):
    ch4 = (site / "book" / "04_augmentation.html").read_text()
    assert 'href="reference/transform.html#fenwicks_lite.transform.cutout"' in ch4
    ch7 = (site / "book" / "07_schedule_sgd.html").read_text()
    assert 'href="reference/optim.html#fenwicks_lite.optim.triangular_lr"' in ch7
    appendix = (site / "book" / "appendix_2019.html").read_text()
    assert 'href="reference/colab_tpu.html#fenwicks_lite.colab_tpu.setup_gcs"' in appendix
    landing = (site / "book" / "reference.html").read_text()  # its table: each module's page
    for module in fw.SUBMODULES:
        assert f'href="reference/{module}.html#module-fenwicks_lite.{module}"' in landing
    transform = (site / "book" / "reference" / "transform.html").read_text()
    docstring = transform[:transform.index('class="rubric"')]  # the module's, on its page
    assert 'href="#fenwicks_lite.transform.random_flip"' in docstring
    assert re.search(r'href="../04_augmentation.html"[^>]*>Chapter 4</a>', docstring)
    data = (site / "book" / "reference" / "data.html").read_text()  # a docstring's short names
    entry = data[data.index('id="fenwicks_lite.data.load_cifar10"'):].split("</dd>")[0]
    assert 'href="#fenwicks_lite.data.keras_cached"' in entry
    assert re.search(r'href="../02_cifar10.html"[^>]*>Chapter 2</a>', entry)  # and its chapter
    # across modules: the 2019 name in fw.train links to its entry on fw.optim's page
    train = (site / "book" / "reference" / "train.html").read_text()
    assert 'href="optim.html#fenwicks_lite.optim.triangular_lr"' in train


def test_a_chapters_bare_names_link_to_the_modules_it_explains(library_db):
    """In a chapter, ``cutout`` or ``channel_stats()`` is the function of the module the
    chapter explains (`fw.SUBMODULES`); a name none of them has, a constant, or a module
    stays plain text."""
    from docutils import nodes
    from docutils.utils import new_document

    assert apidoc.chapter_modules(4) == ["fenwicks_lite.transform", "fenwicks_lite.plt"]
    assert "fenwicks_lite.io" in apidoc.chapter_modules(3)
    doc = new_document("book/04_augmentation.md")
    names = ["cutout", "random_flip()", "channel_stats", "CLASS_NAMES", "x", "fw.transform"]
    doc += nodes.paragraph("", "", *[nodes.literal(t, t) for t in names])
    found = [(literal.astext(), targets) for literal, targets in apidoc.chapter_literals(
        doc, library_db, ["fenwicks_lite.transform"])]
    assert found == [("cutout", ["fenwicks_lite.transform.cutout"]),
                     ("random_flip()", ["fenwicks_lite.transform.random_flip"])]
    # a re-export is the same function: chapter 7's train and optim give one target
    doc = new_document("book/07_schedule_sgd.md")
    doc += nodes.paragraph("", "", nodes.literal("triangular_lr", "triangular_lr"))
    found = [targets for _, targets in apidoc.chapter_literals(
        doc, library_db, ["fenwicks_lite.optim", "fenwicks_lite.train"])]
    assert found == [["fenwicks_lite.optim.triangular_lr"]]
    doc = new_document("book/02_cifar10.md")
    doc += nodes.paragraph("", "", nodes.literal("CLASS_NAMES", "CLASS_NAMES"),
                           nodes.literal("normalize", "normalize"))
    found = [(lit.astext(), t) for lit, t in apidoc.chapter_literals(
        doc, library_db, ["fenwicks_lite.data"])]
    assert found == [("normalize", ["fenwicks_lite.data.normalize"])]
    # a name the chapter's module only imports from another module is not the chapter's
    doc = new_document("book/08_accelerators.md")
    doc += nodes.paragraph("", "", nodes.literal("steps_per_epoch", "steps_per_epoch"))
    assert list(apidoc.chapter_literals(doc, library_db, ["fenwicks_lite.fit"])) == []
