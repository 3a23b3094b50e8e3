"""The library reference, "The library, name by name" (``book/reference.md`` and a page for each
module, ``book/reference/<module>.md``): sphinx-autodoc2, plus what it does not read.

sphinx-autodoc2 reads the library's files without importing them and renders each docstring as
MyST, the Markdown the docstrings are written in. It does not read the ``#:`` comments that
document the library's constants and dataclass fields (Sphinx's own autodoc does), and it
shows an alias such as ``ramdom_pad_crop = random_pad_crop`` as ``None``. After its analysis
(``builder-inited``), this fills both in from the source: the comments through Sphinx's own
reader of them (`sphinx.pycode.ModuleAnalyzer`), the alias as the name it stands for.

`Renderer` (``autodoc2_render_plugin``) is autodoc2's MyST renderer with two changes: a
constant's value goes on its signature line (``ID_PATTERNS = [...]``). The stock one writes it
on the line after the ``:value:`` option, which MyST reads as the start of the body, so the
value became a paragraph of Markdown: ``(?P<name>...)`` an HTML tag, ``_LATE_`` emphasis. And a
module is rendered under its page's own title ("`fw.transform`: pad-and-crop, flip, cutout")
without autodoc2's headings (``fenwicks_lite.transform``, "Module Contents", "Functions"): the
page's "Contents" sidebar lists the module's names.

`LinkLibraryNames` makes each library name that a page writes as inline code
(``fw.transform.cutout``, ``fw.io.numpy_tfrecord(...)``, ``fenwicks_lite.fit``) a link to its
entry on its module's page, through the name the seed called where a module re-exports it
(``fw.train.triangular_lr`` is `fenwicks_lite.optim.triangular_lr`). It links only where the
build documents the name; a name the library does not have at all warns, so ``-W`` fails the
build: the prose cannot name a function the library no longer has. Inside the reference, a
docstring's short names link too: ```load_cifar10``` in `fw.data`'s entries, ```replace``` in
`TrainConfig`'s, ```fit.train``` anywhere (`local_literals`); a short name that is not one of the
library's (a parameter, ```keras.ops```) stays plain. In a chapter, the bare names of the
modules it explains link too (```cutout``` in Chapter 4: `chapter_literals`). And the chapters a docstring names
("Chapter 4", "Chapters 8 and 9", "Ch. 8, 9") link to those chapters (`LinkChapters`).
"""

from __future__ import annotations

import ast
import re
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from autodoc2.render.myst_ import MystRenderer
from docutils import nodes
from sphinx import addnodes
from sphinx.pycode import ModuleAnalyzer
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.nodes import make_refnode

LOGGER = logging.getLogger(__name__)
PACKAGE = "fenwicks_lite"
#: inline code that names the library: ``fw.io.numpy_tfrecord``, with a call's arguments or not
LIBRARY_NAME = re.compile(r"(?:fw|fenwicks_lite)((?:\.[A-Za-z_]\w*)+)(?:\(.*\))?", re.S)
#: a docstring's mention of chapters: "Chapter 4", "Chapters 1, 3 and 5", "Ch. 8, 9"
CHAPTERS = re.compile(r"\b(?:[Cc]hapters?|Ch\.) (\d+)((?:(?:, | and )\d+\b)*)")
#: a short name in a docstring: ``load_cifar10``, ``TrainConfig.replace``, ``setup()``
SHORT_NAME = re.compile(r"([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?:\(\))?")


def _module_of(db: Any, full_name: str) -> dict[str, Any] | None:
    """The module item that holds `full_name` (``fenwicks_lite.io.AUTO_DTYPES``)."""
    parts = full_name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        item = db.get_item(".".join(parts[:i]))
        if item is not None and item["type"] in ("module", "package"):
            return item
    return None


def _source_docs(module: dict[str, Any]) -> tuple[dict, dict[str, str]]:
    """The ``#:`` comments of `module` (an autodoc2 module item) by ``(namespace, name)``,
    and its aliases (``ramdom_pad_crop = random_pad_crop``): name -> the name it stands for.
    """
    path = Path(module["file_path"])
    comments = ModuleAnalyzer.for_file(str(path), module["full_name"]).find_attr_docs()
    tree = ast.parse(path.read_text(encoding=module.get("encoding") or "utf-8"))
    aliases = {node.targets[0].id: node.value.id for node in tree.body
               if isinstance(node, ast.Assign) and len(node.targets) == 1
               and isinstance(node.targets[0], ast.Name)
               and isinstance(node.value, ast.Name)}
    return comments, aliases


def fill_items(db: Any) -> int:
    """Gives each data item and attribute of the autodoc2 database `db` the ``#:`` comment
    above it as its docstring, where it has none, and an alias its target's name as its
    value. Returns how many items changed."""
    sources: dict[str, tuple[dict, dict[str, str]]] = {}  # each module read once
    changed = 0
    for item in [*db.get_by_type("data"), *db.get_by_type("attribute")]:
        module = _module_of(db, item["full_name"])
        if module is None:
            continue
        if module["full_name"] not in sources:
            sources[module["full_name"]] = _source_docs(module)
        comments, aliases = sources[module["full_name"]]
        rest = item["full_name"][len(module["full_name"]) + 1:]
        namespace, _, name = rest.rpartition(".")
        lines = comments.get((namespace, name))
        if lines and not item.get("doc"):
            item["doc"] = "\n".join(lines).strip()
            changed += 1
        if not namespace and item.get("value") is None and name in aliases:
            item["value"] = item["alias_of"] = aliases[name]
            changed += 1
    return changed


#: the headings autodoc2 gives a module's parts: "## Module Contents", "### Functions", ...
_MODULE_HEADING = re.compile(
    r"#{1,3} (?:\{py:mod\}`[\w.]+`|\w+ Contents|(Classes|Functions|Data|External|API))")


class Renderer(MystRenderer):
    """autodoc2's MyST renderer, each constant's value on its ``:value:`` line (an alias's
    as the bare name it stands for, not a quoted string), and a module without headings:
    its page (``book/reference/transform.md``) has its own title, which names the module
    and says what it holds."""

    def render_package(self, item: Any) -> list[str]:
        """The module's target, docstring, summary tables and entries, without autodoc2's
        headings: its name's (the page's title names it), "Module Contents"'s, and its
        parts' ("Functions", "API"), which become rubrics. MyST puts a heading that a
        directive renders straight into the page, but what comes before it (the target
        and the docstring) after everything the directive renders: at the page's end."""
        lines: list[str] = []
        for line in super().render_package(item):
            found = _MODULE_HEADING.fullmatch(line)
            if found and found.group(1):
                lines += [f"```{{rubric}} {found.group(1)}", "```"]
            elif not found:
                lines.append(line)
        return lines

    def render_data(self, item: Any) -> list[str]:
        lines: list[str] = []
        for line in super().render_data(item):
            if lines and lines[-1] == ":value: >":
                lines[-1] = f":value: {item.get('alias_of') or line.strip()}"
            else:
                lines.append(line)
        return lines


def resolve(db: Any, name: str) -> str | None:
    """The full name `name` (``fenwicks_lite.train.triangular_lr``) stands for in the
    autodoc2 database `db`, following a module's re-exports (``fenwicks_lite.optim.
    triangular_lr``); None if the library has no such name."""
    if db.get_item(name) is not None:
        return name
    parts = name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        module = db.get_item(".".join(parts[:i]))
        if module is None or module["type"] not in ("module", "package"):
            continue
        for imported, alias in module.get("imports") or []:
            if (alias or imported.rsplit(".", 1)[-1]) == parts[i] and imported != name:
                return resolve(db, ".".join([imported, *parts[i + 1:]]))
        return None
    return None


_MISSING = object()


def _imported(name: str) -> Any:
    """What `name` is once imported, for the names `fenwicks_lite.__getattr__` makes at run
    time (the seed's ``fw.colab_utils``, ``fw.Sequential``); `_MISSING` if nothing."""
    import importlib

    parts = name.split(".")
    try:
        obj = importlib.import_module(parts[0])
        for part in parts[1:]:
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return _MISSING
    return obj


def _full_name(obj: Any) -> str:
    """``fenwicks_lite.colab_tpu.setup_gcs`` for that function, a module's own name."""
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    return f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')}"


def _free_literals(document: nodes.document) -> list[nodes.literal]:
    """The inline code of `document` that a link could wrap: not in a heading, not already
    a link (or a cross-reference), not one of fwbook's own literal kinds."""
    return [literal for literal in document.findall(nodes.literal)
            if type(literal) is nodes.literal and not isinstance(
                literal.parent, (addnodes.pending_xref, nodes.reference, nodes.title))]


def library_literals(document: nodes.document, db: Any) -> Iterator[tuple[nodes.literal, str]]:
    """Each inline code of `document` that names the library (``fw.transform.cutout``,
    ``fw.io.numpy_tfrecord(...)``; not in a heading, not already a link), with the full name
    of what it names. A name the library does not have is not yielded but warned about."""
    for literal in _free_literals(document):
        found = LIBRARY_NAME.fullmatch(literal.astext())
        if not found:
            continue
        name = PACKAGE + found.group(1)
        target = resolve(db, name)
        if target is None:
            obj = _imported(name)
            if obj is _MISSING:
                LOGGER.warning(f"{literal.astext()!r} names nothing in the library ({name} "
                               "does not exist): write the name it has now", location=literal)
                continue
            target = resolve(db, _full_name(obj))  # None: not the library's (Keras's)
        if target is not None:
            yield literal, target


def _scope(literal: nodes.Node) -> list[str]:
    """Where a short name in `literal` is looked up, innermost first: the class and module of
    the reference entry it is in, or the module whose section (or page) it is in; []
    elsewhere."""
    node = literal.parent
    while node is not None:
        if isinstance(node, addnodes.desc) and node.children and isinstance(
                node.children[0], addnodes.desc_signature):
            signature = node.children[0]
            module, full = signature.get("module"), signature.get("fullname")
            if module and full:
                parts = full.split(".")
                return [".".join([module, *parts[:i]]) for i in range(len(parts), -1, -1)]
        if isinstance(node, nodes.section):  # the module's target, or the section itself
            for child in [node, *node.children]:  # when the target opens it (its page)
                for node_id in child.get("ids", []) if isinstance(child, nodes.Element) else []:
                    if node_id.startswith(f"module-{PACKAGE}"):
                        return [node_id.removeprefix("module-")]
        node = node.parent
    return []


def local_literals(document: nodes.document,
                   db: Any) -> Iterator[tuple[nodes.literal, list[str]]]:
    """Each inline code of `document` that may be a short name of the library (a docstring's
    ``load_cifar10``, ``fit.train``), with the full names it may stand for, innermost scope
    first; a dotted one may also be relative to the package. Nothing outside the reference's
    entries and module sections, and none that names the library in full (`library_literals`
    has those)."""
    for literal in _free_literals(document):
        if LIBRARY_NAME.fullmatch(literal.astext()):
            continue
        found = SHORT_NAME.fullmatch(literal.astext())
        scope = _scope(literal) if found else []
        if not scope:
            continue
        name = found.group(1)
        wanted = [f"{where}.{name}" for where in scope]
        if "." in name:
            wanted.append(f"{PACKAGE}.{name}")
        targets = [t for t in (resolve(db, w) for w in wanted) if t is not None]
        if targets:
            yield literal, targets


#: a chapter's page and its number: book/04_augmentation is chapter 4
CHAPTER_PAGE = re.compile(r"book/(\d+)_\w+")


def chapters_named(text: str) -> list[int]:
    """The chapters that `text` starts by naming (`CHAPTERS`): [1, 3, 5] for a
    `fenwicks_lite.SUBMODULES` entry "Chapters 1, 3 and 5 (...)", [] for "Appendix, ..."."""
    found = CHAPTERS.match(text)
    return [int(n) for n in [found.group(1), *re.findall(r"\d+", found.group(2))]] \
        if found else []


def chapter_modules(number: int) -> list[str]:
    """The modules chapter `number` explains, as `fenwicks_lite.SUBMODULES` lists them
    ("Chapters 1, 3 and 5 (...)")."""
    import fenwicks_lite

    return [f"{PACKAGE}.{module}" for module, text in fenwicks_lite.SUBMODULES.items()
            if number in chapters_named(text)]


def chapter_literals(document: nodes.document, db: Any,
                     modules: list[str]) -> Iterator[tuple[nodes.literal, list[str]]]:
    """In a chapter's page, each inline code that is a bare name (``cutout``, ``ConvBN``,
    ``channel_stats()``) of a function or class that exactly one of the chapter's `modules`
    defines (or re-exports from another of them), with its full name. A name two of them
    define, one they only import from elsewhere (``steps_per_epoch`` in Chapter 8 is a
    parameter there, and `fw.fit` imports it from `fw.pipeline`), a module, a constant and a
    dotted name (`library_literals` takes ``fw.`` names) are left alone."""
    for literal in _free_literals(document):
        found = SHORT_NAME.fullmatch(literal.astext())
        if not found or "." in found.group(1) or _scope(literal):
            continue
        targets = {t for t in (resolve(db, f"{m}.{found.group(1)}") for m in modules)
                   if t is not None and db.get_item(t)["type"] in ("function", "class")
                   and t.rsplit(".", 1)[0] in modules}
        if len(targets) == 1:
            yield literal, [*targets]


class LinkLibraryNames(SphinxPostTransform):
    """Inline code that names the library becomes a link to its entry in the reference
    (module docstring), where the build has that page (test_site's small books have not):
    ``fw.`` names everywhere, short names inside the reference's entries, and in a chapter
    the bare names of the modules it explains (`chapter_literals`)."""

    default_priority = 5  # before fwbook.site's TableCodeBreaks marks a table's code

    def run(self, **kwargs: Any) -> None:
        db = getattr(self.env, "autodoc2_db", None)
        if db is None:
            return
        objects = self.env.get_domain("py").objects
        found = [(literal, [target]) for literal, target in library_literals(self.document, db)]
        page = CHAPTER_PAGE.fullmatch(self.env.docname)
        bare = chapter_literals(self.document, db, chapter_modules(int(page.group(1)))) \
            if page else []
        for literal, targets in [*found, *local_literals(self.document, db), *bare]:  # disjoint
            target = next((t for t in targets if t in objects), None)
            if target is not None:
                entry = objects[target]
                literal.replace_self(make_refnode(self.app.builder, self.env.docname,
                                                  entry.docname, entry.node_id,
                                                  literal.deepcopy(), target))


def chapter_links(text: str, chapters: dict[int, str]) -> list[tuple[str, str | None]]:
    """`text` cut into ``(piece, docname)`` parts: the number of each chapter it names (the
    whole "Chapter 4" where it names one) with that chapter's page, the rest with None. A
    number that `chapters` lacks stays text."""
    parts: list[tuple[str, str | None]] = []
    done = 0
    for found in CHAPTERS.finditer(text):
        numbers = [found.group(1), *re.findall(r"\d+", found.group(2))]
        if not all(int(n) in chapters for n in numbers):
            continue
        parts.append((text[done:found.start()], None))
        if len(numbers) == 1:
            parts.append((found.group(0), chapters[int(numbers[0])]))
        else:
            for piece in re.split(r"(\d+)", found.group(0)):
                parts.append((piece, chapters[int(piece)] if piece.isdigit() else None))
        done = found.end()
    parts.append((text[done:], None))
    return [(piece, doc) for piece, doc in parts if piece]


class LinkChapters(SphinxPostTransform):
    """In the reference's entries and module sections, "Chapter 4" links to chapter 4."""

    default_priority = 6

    def run(self, **kwargs: Any) -> None:
        chapters = {numbers[""][0]: doc for doc, numbers in self.env.toc_secnumbers.items()
                    if len(numbers.get("", ())) == 1}
        for text in list(self.document.findall(nodes.Text)):
            if not CHAPTERS.search(text) or isinstance(
                    text.parent, (nodes.literal, nodes.reference, nodes.title,
                                  nodes.FixedTextElement, addnodes.pending_xref,
                                  addnodes.desc_signature)) or not _scope(text):
                continue  # the cheap test first: most text names no chapter
            parts = chapter_links(str(text), chapters)
            if len(parts) == 1 and parts[0][1] is None:
                continue
            text.parent.replace(text, [
                nodes.Text(piece) if doc is None else
                make_refnode(self.app.builder, self.env.docname, doc, None,
                             nodes.Text(piece), self.env.titles[doc].astext())
                for piece, doc in parts])


def _fill(app: Any) -> None:
    db = getattr(app.env, "autodoc2_db", None)
    if db is None:
        LOGGER.warning("fwbook.apidoc: no sphinx-autodoc2 analysis; list 'autodoc2' in "
                       "_config.yml's sphinx.extra_extensions")
        return
    fill_items(db)


def setup(app: Any) -> dict[str, Any]:
    # autodoc2 analyses the package at builder-inited (priority 500); this runs after it.
    app.connect("builder-inited", _fill, priority=600)
    app.add_post_transform(LinkLibraryNames)
    app.add_post_transform(LinkChapters)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
