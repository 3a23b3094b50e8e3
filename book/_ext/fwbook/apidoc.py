"""The page "The library, name by name" (``book/reference.md``): sphinx-autodoc2, plus what it
does not read.

sphinx-autodoc2 reads the library's files without importing them and renders each docstring as
MyST, the Markdown the docstrings are written in. It does not read the ``#:`` comments that
document the library's constants and dataclass fields (Sphinx's own autodoc does), and it
shows an alias such as ``ramdom_pad_crop = random_pad_crop`` as ``None``. After its analysis
(``builder-inited``), this fills both in from the source: the comments through Sphinx's own
reader of them (`sphinx.pycode.ModuleAnalyzer`), the alias as the name it stands for.

`Renderer` (``autodoc2_render_plugin``) is autodoc2's MyST renderer with one change: a
constant's value goes on its signature line (``ID_PATTERNS = [...]``). The stock one writes it
on the line after the ``:value:`` option, which MyST reads as the start of the body, so the
value became a paragraph of Markdown: ``(?P<name>...)`` an HTML tag, ``_LATE_`` emphasis.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from autodoc2.render.myst_ import MystRenderer
from sphinx.pycode import ModuleAnalyzer
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)


def _module_of(db: Any, full_name: str) -> dict[str, Any] | None:
    """The module item that holds `full_name` (``fenwicks_lite.io.AUTO_DTYPES``)."""
    parts = full_name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        item = db.get_item(".".join(parts[:i]))
        if item is not None and item["type"] in ("module", "package"):
            return item
    return None


def fill_items(db: Any) -> int:
    """Gives each data item and attribute of the autodoc2 database `db` the ``#:`` comment
    above it as its docstring, where it has none, and an alias its target's name as its
    value. Returns how many items changed."""
    modules = [*db.get_by_type("module"), *db.get_by_type("package")]
    changed = 0
    for module in modules:
        path = Path(module["file_path"])
        comments = ModuleAnalyzer.for_file(str(path), module["full_name"]).find_attr_docs()
        tree = ast.parse(path.read_text(encoding=module.get("encoding") or "utf-8"))
        aliases = {node.targets[0].id: node.value.id for node in tree.body
                   if isinstance(node, ast.Assign) and len(node.targets) == 1
                   and isinstance(node.targets[0], ast.Name)
                   and isinstance(node.value, ast.Name)}
        for kind in ("data", "attribute"):
            for item in db.get_by_type(kind):
                if _module_of(db, item["full_name"]) is not module:
                    continue
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


class Renderer(MystRenderer):
    """autodoc2's MyST renderer, each constant's value on its ``:value:`` line (an alias's
    as the bare name it stands for, not a quoted string)."""

    def render_data(self, item: Any) -> list[str]:
        lines: list[str] = []
        for line in super().render_data(item):
            if lines and lines[-1] == ":value: >":
                lines[-1] = f":value: {item.get('alias_of') or line.strip()}"
            else:
                lines.append(line)
        return lines


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
    return {"parallel_read_safe": True, "parallel_write_safe": True}
