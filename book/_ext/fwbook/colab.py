"""The Colab edition of the chapters: the same notebooks with their Markdown in plain CommonMark.

Colab (like Jupyter) renders Markdown without MyST, so a chapter opened there showed the site's markup
as text: ``{term}`epochs <Epoch>```, ``{cite}`page2018```, ``:::{exercise} ... :label: ...``. The site
keeps MyST (glossary links, the Sources list, numbered exercises and figures). This module writes each
chapter once more with every role and box turned into what the site shows in its place:

* ``{term}`epochs <Epoch>``` -> ``epochs``; ``{cite}`page2018``` -> ``[Page, 2018]`` (the Sources
  list's label, `fwbook.bibstyle.author_year`); ``{doc}`where_next``` -> a link to that page of the
  site; ``{numref}`fig-ch07-schedule``` -> ``Fig. 7.1`` (numbered as the site numbers it);
* an exercise box -> ``**Exercise 4.1: <title>**`` and its text; a "What you will learn" box -> a
  quoted block under its title; the solution's start marker -> ``**Solution to Exercise 4.1**``, its
  end marker and ``(label)=`` targets -> nothing.

Code cells, outputs and metadata are kept as they are. ``python -m fwbook.colab OUT`` writes
``OUT/book/<chapter>.ipynb``; the workflow (``.github/workflows/book.yml``) publishes them, on top of
the tested commit, as the branch that ``repository.branch`` in ``_config.yml`` names: the branch the
site's Colab buttons open and the chapters' setup cells install the library from.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path
from typing import Any

from fwbook import notebooks as book

#: a MyST box fenced with colons (the chapters' form; fwbook.hygiene) or backticks
_BOX = re.compile(r"^(?P<fence>:{3,}|`{3,})\{(?P<name>[a-z-]+)\}[ \t]*(?P<arg>.*)$", re.M)
_OPTION = re.compile(r"^:(?P<key>[a-z-]+):[ \t]*(?P<value>.*)$")
_ROLE = re.compile(r"\{(?P<role>[a-z:]+)\}`(?P<body>[^`]*)`")
_TARGET = re.compile(r"^\([\w-]+\)=[ \t]*\n?", re.M)
_EXPLICIT = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.S)


def _labels(bib: Path) -> dict[str, str]:
    """Each reference's key and the label the Sources list gives it (``Page, 2018``)."""
    from pybtex.database import parse_file

    from fwbook.bibstyle import author_year

    return {key: author_year(entry) for key, entry in parse_file(str(bib)).entries.items()}


def chapter_number(path: Path) -> str:
    """A chapter notebook's number as its file name gives it ("04"), an appendix's letter
    as the site gives it ("A", `fwbook.notebooks.appendices`), or "" for another page."""
    if path.name[:2].isdigit():
        return path.name[:2]
    page = path.resolve().relative_to(book.ROOT).with_suffix("").as_posix() \
        if path.resolve().is_relative_to(book.ROOT) else ""
    return book.appendices().get(page, "")


def _title(path: Path) -> str:
    """A page's first ``# `` heading (the link text of a ``{doc}`` without one)."""
    import nbformat

    if path.suffix == ".ipynb":
        text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells
                         if c.cell_type == "markdown")
    else:
        text = path.read_text()
    m = re.search(r"^# (.+)$", text, re.M)
    return m.group(1).strip() if m else path.stem


def _numbers(nb: Any, chapter: str) -> dict[str, str]:
    """Figure names and exercise labels of `nb`, numbered as the site numbers them: "4.1" in
    chapter 4 (a numbered chapter), "A.1" in appendix A, "1" on another page."""
    prefix = f"{int(chapter)}." if chapter.isdigit() else f"{chapter}." if chapter else ""
    found: dict[str, str] = {}
    figures = exercises = 0
    for cell in nb.cells:
        if cell.cell_type == "code":
            name = ((cell.metadata.get("mystnb") or {}).get("figure") or {}).get("name")
            if name:
                figures += 1
                found[name] = f"Fig. {prefix}{figures}"
        else:
            for m in _BOX.finditer(cell.source):
                if m.group("name") == "exercise":
                    exercises += 1
                    label = re.search(r"^:label:[ \t]*(\S+)", cell.source[m.end():], re.M)
                    if label:  # an exercise without one still counts
                        found[label.group(1)] = f"Exercise {prefix}{exercises}"
    return found


class Converter:
    """Turns the MyST of one book's chapters into CommonMark (`convert`)."""

    def __init__(self) -> None:
        from fwbook import brand

        self.site = brand.site_url(book.config()["repository"]["url"])
        self.cite = _labels(book.ROOT / "references.bib")

    def role(self, m: re.Match, numbers: dict[str, str], where: str) -> str:
        role, body = m.group("role"), m.group("body")
        explicit = _EXPLICIT.match(body)
        text, target = (explicit.group("text"), explicit.group("target")) if explicit else (
            body, body)
        if role == "term":
            return text
        if role.startswith("cite"):
            keys = [k.strip() for k in body.split(",")]
            missing = [k for k in keys if k not in self.cite]
            if missing:
                raise ValueError(f"{where}: {{cite}} of {missing}, which references.bib lacks: add "
                                 "the entry or fix the key")
            return "[" + "; ".join(self.cite[k] for k in keys) + "]"
        if role == "doc":
            page = (book.ROOT / "book" / target).with_suffix("")
            found = next((p for p in (page.with_suffix(".ipynb"), page.with_suffix(".md"))
                          if p.exists()), None)
            if found is None:
                raise ValueError(f"{where}: {{doc}}`{body}` names no page of the book")
            name = text if explicit else _title(found)
            return f"[{name}]({self.site}book/{found.stem}.html)"
        if role == "numref":
            if target not in numbers:
                raise ValueError(f"{where}: {{numref}}`{body}` names no figure or exercise of "
                                 "this chapter")
            return numbers[target]
        raise ValueError(f"{where}: the role {{{role}}} has no plain-Markdown form here: add it to "
                         "fwbook.colab.Converter.role")

    def box(self, name: str, arg: str, body: str, numbers: dict[str, str], where: str) -> str:
        lines = body.split("\n")
        options = {}
        while lines and (opt := _OPTION.match(lines[0])):
            options[opt.group("key")] = opt.group("value")
            lines.pop(0)
        text = "\n".join(lines).strip("\n")
        if name == "exercise":
            number = numbers.get(options.get("label", ""), "Exercise")
            return f"**{number}: {arg.strip()}**\n\n{text}" if arg.strip() else f"**{number}**\n\n{text}"
        if name in ("admonition", "note", "tip", "important", "warning", "hint"):
            title = arg.strip() or name.capitalize()
            quoted = "\n".join(f"> {ln}" if ln else ">" for ln in text.split("\n"))
            return f"> **{title}**\n>\n{quoted}"
        if name == "solution-start":
            number = numbers.get(arg.strip(), "the exercise")
            return f"**Solution to {number}**"
        if name == "solution-end":
            return ""
        raise ValueError(f"{where}: the box {{{name}}} has no plain-Markdown form here: add it to "
                         "fwbook.colab.Converter.box")

    def markdown(self, source: str, numbers: dict[str, str], where: str) -> str:
        out, pos = [], 0
        for m in _BOX.finditer(source):
            if m.start() < pos:
                continue
            close = re.compile("^" + re.escape(m.group("fence")) + r"[ \t]*$", re.M)
            end = close.search(source, m.end())
            if end is None:
                raise ValueError(f"{where}: a {{{m.group('name')}}} box without its closing "
                                 f"{m.group('fence')}")
            out.append(source[pos:m.start()])
            out.append(self.box(m.group("name"), m.group("arg"), source[m.end() + 1:end.start()],
                                numbers, where))
            pos = end.end()
        out.append(source[pos:])
        text = _TARGET.sub("", "".join(out))
        return _ROLE.sub(lambda r: self.role(r, numbers, where), text).strip("\n")

    def convert(self, nb: Any, chapter: str, name: str = "notebook") -> Any:
        """A copy of `nb` in plain Markdown; `chapter` is its number ("04"), letter ("A") or ""."""
        nb = copy.deepcopy(nb)
        numbers = _numbers(nb, chapter)
        cells = []
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "markdown":
                cell.source = self.markdown(cell.source, numbers, f"{name}, cell {i}")
                if not cell.source.strip():
                    continue  # a solution's end marker or a lone target
            cells.append(cell)
        nb.cells = cells
        return nb


def leftovers(nb: Any) -> list[str]:
    """MyST that a Colab reader would still see in `nb`'s Markdown (none in a converted one)."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            found += [f"cell {i}: {m.group(0)[:60]}" for m in _ROLE.finditer(cell.source)]
            found += [f"cell {i}: {m.group(0)[:60]}" for m in _BOX.finditer(cell.source)]
    return found


def write_edition(out: Path) -> list[Path]:
    """Writes every chapter's Colab edition to ``out/book/``; returns the paths."""
    import nbformat

    conv = Converter()
    written = []
    for path in book.chapters():  # in _toc.yml's order
        nb = conv.convert(nbformat.read(path, as_version=4), chapter_number(path), path.name)
        left = leftovers(nb)
        if left:
            raise ValueError(f"{path.name}: MyST left after conversion: {left[:3]}")
        dest = out / path.relative_to(book.ROOT)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(nbformat.writes(nb) + "\n")
        written.append(dest)
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fwbook.colab", description=__doc__.split("\n")[0])
    p.add_argument("out", type=Path, help="folder to write book/<chapter>.ipynb into")
    args = p.parse_args(argv)
    try:
        paths = write_edition(args.out)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{len(paths)} chapters in plain Markdown: {args.out / 'book'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
