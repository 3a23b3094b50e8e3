"""The book's side of the exercises: the instructors' tables and the student edition.

Machinery of the book, not of the library (not in the wheel). The exercises themselves,
their self-checks and the grader are in `fenwicks_lite.exercises`,
`fenwicks_lite.checks` and `fenwicks_lite.grading`; this module reads the chapter
notebooks:

* the Sphinx directives ``exercise-table`` and ``chapter-plan`` of the page "For
  instructors" (a local extension, `setup`; ``_config.yml`` loads it), built from the
  notebooks at every build so the page never goes stale;
* ``python -m fwbook.exercises table``: the same exercise table as Markdown;
* the student edition (``make student``): `student_sources` writes the book's sources
  without solutions, without the instructors' page and without the outputs of the
  exercise cells, and `verify_student` checks the notebooks and the site built from
  them."""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

from fenwicks_lite import exercises as E
from fenwicks_lite.grading import META, exercise_boxes, find_checks, source
from fwbook import notebooks

ROOT = Path(__file__).resolve().parents[3]
#: the instructors' page: in the book, not in the student edition.
INSTRUCTORS = "book/instructors"
#: Reading speed for technical prose with code: about half of ordinary prose's ~250
#: words a
#: minute.
READING_WORDS_PER_MINUTE = 120
#: Working time a learner needs per exercise, by difficulty (what the suggested times
#: add up).
MINUTES_PER_EXERCISE = {"easy": 10, "medium": 20, "hard": 40}


@dataclasses.dataclass(frozen=True)
class NotebookExercise:
    """One ``{exercise}`` directive of a chapter notebook, with the self-check that
    follows it."""

    notebook: str  # path relative to the book's root, e.g. "book/02_cifar10.ipynb"
    label: str  # the directive's ``:label:`` (the book links to it)
    title: str  # the directive's title
    task: str  # the first sentence of its text, without markup: what the learner does
    key: str  # the self-check key of the ``fw.exercises.check("key", fn)`` after it
    stated: str  # the difficulty the directive states (``:class:``); "" if none


_STATED = re.compile(r"\bDifficulty:\s*(\w+)\.?", re.I)


def plain_task(body: str) -> str:
    """The first sentence of an exercise's text, without emphasis markers or the
    difficulty."""
    text = " ".join(
        ln for ln in body.splitlines() if ln.strip() and not ln.startswith(":")
    )
    text = _STATED.sub("", text)
    text = re.sub(
        r"(\*{1,2})(?=\S)(.+?)(?<=\S)\1", r"\2", text
    ).strip()  # *em*, **strong**
    text = re.sub(r"^(easy|medium|hard)\.\s*", "", text, flags=re.I)
    return re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0] if text else ""


def notebook_exercises(path: Path, root: Path | None = None) -> list[NotebookExercise]:
    """The exercises of one notebook, in order, each paired with the first check call
    after it."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    try:
        name = str(path.resolve().relative_to((root or ROOT).resolve()))
    except ValueError:
        name = path.name
    found: list[dict[str, str]] = []
    for cell in nb.cells:
        src = source(cell)
        if cell.cell_type == "markdown":
            for title, body, stated in exercise_boxes(src):
                label = re.search(r"^:label:[ \t]*(\S+)", body, re.M)
                found.append(
                    {
                        "label": label.group(1) if label else "",
                        "stated": stated,
                        "title": title,
                        "task": plain_task(body),
                        "key": "",
                    }
                )
        elif cell.cell_type == "code" and found and not found[-1]["key"]:
            answer = (cell.metadata.get(META) or {}).get("answer")
            checks = find_checks(src)
            if answer or checks:
                found[-1]["key"] = answer or checks[0][0]
    return [NotebookExercise(name, **f) for f in found]


def chapter_notebooks(root: Path | None = None) -> list[Path]:
    """The chapter notebooks of the book whose sources are at `root`, in `_toc.yml`'s
    order (`fwbook.notebooks.chapters`)."""
    return notebooks.chapters(root or ROOT)


def book_exercises(root: Path | None = None) -> list[NotebookExercise]:
    """Every exercise of every chapter notebook, in the order of the table of contents.
    """
    root = root or ROOT
    return [
        ex for path in chapter_notebooks(root) for ex in notebook_exercises(path, root)
    ]


def difficulty(ex: NotebookExercise) -> str:
    """The registered difficulty (`fenwicks_lite/checks`), else the one the directive
    states."""
    try:
        return E.get(ex.key).difficulty
    except KeyError:
        return ex.stated or "-"


def table_markdown(exercises: list[NotebookExercise] | None = None) -> str:
    """The exercises as a Markdown table (``python -m fwbook.exercises table``)."""
    rows = [
        "| chapter | exercise | task | difficulty | points | self-check |",
        "|---|---|---|---|---|---|",
    ]
    for ex in book_exercises() if exercises is None else exercises:
        d = difficulty(ex)
        rows.append(
            f"| {Path(ex.notebook).stem} | {ex.title} (`{ex.label}`) | {ex.task} "
            f"| {d} | "
            f"{E.POINTS.get(d, '-')} | `{ex.key or '-'}` |"
        )
    return "\n".join(rows)


def chapter_plan_rows(root: Path | None = None) -> list[list[str]]:
    """Per chapter: words of prose and code, exercises by difficulty, suggested minutes.
    """
    import nbformat

    root = root or ROOT
    rows = []
    for path in chapter_notebooks(root):
        nb = nbformat.read(path, as_version=4)
        words = sum(
            len(source(c).split())
            for c in nb.cells
            if E.SOLUTION_TAG not in c.metadata.get("tags", [])
        )
        exs = notebook_exercises(path, root)
        by = {d: sum(difficulty(e) == d for e in exs) for d in E.DIFFICULTIES}
        minutes = round(words / READING_WORDS_PER_MINUTE) + sum(
            MINUTES_PER_EXERCISE[d] * n for d, n in by.items()
        )
        rows.append(
            [
                path.stem,
                str(words),
                str(len(exs)),
                ", ".join(f"{n} {d}" for d, n in by.items() if n) or "-",
                str(minutes),
            ]
        )
    return rows


# --------------------------------------------------------------------------- Sphinx dir


def setup(app: Any) -> dict[str, Any]:
    """Sphinx extension: the ``exercise-table`` and ``chapter-plan`` directives."""
    from docutils import nodes
    from sphinx import addnodes
    from sphinx.util.docutils import SphinxDirective

    def table(
        header: list[str], widths: list[int], rows: list[list[nodes.Node]]
    ) -> nodes.Node:
        tbl = nodes.table(classes=["fw-table"])
        group = nodes.tgroup(cols=len(header))
        tbl += group
        group += [nodes.colspec(colwidth=w) for w in widths]
        head = nodes.thead()
        group += head
        head += nodes.row(
            "", *[nodes.entry("", nodes.paragraph(text=h)) for h in header]
        )
        body = nodes.tbody()
        group += body
        for cells in rows:
            body += nodes.row(
                "", *[nodes.entry("", nodes.paragraph("", "", *c)) for c in cells]
            )
        return tbl

    def inline_code(text: str) -> list[nodes.Node]:
        """Markdown's `code` spans as literals, the rest as text."""
        parts = text.split("`")
        return [
            nodes.literal(text=p) if i % 2 else nodes.Text(p)
            for i, p in enumerate(parts)
            if p
        ]

    def chapter_title(path: Path) -> str:
        import nbformat

        for cell in nbformat.read(path, as_version=4).cells:
            m = (
                re.search(r"^# (.+)$", source(cell), re.M)
                if cell.cell_type == "markdown"
                else None
            )
            if m:
                return m.group(1).strip()
        return path.stem

    def doc_ref(docname: str, text: str) -> nodes.Node:
        return addnodes.pending_xref(
            "",
            nodes.inline(text=text),
            refdomain="std",
            reftype="doc",
            reftarget="/" + docname,
            refexplicit=True,
            refwarn=True,
        )

    class ExerciseTable(SphinxDirective):
        """All exercises: chapter; title (linked), task, label and self-check;
        difficulty."""

        def run(self) -> list[nodes.Node]:
            root = Path(self.env.srcdir)
            rows = []
            for path in chapter_notebooks(root):
                self.env.note_dependency(str(path))
                docname = str(path.relative_to(root).with_suffix(""))
                title = chapter_title(path)
                number = title.split(".", 1)[0] if title[:1].isdigit() else title
                for ex in notebook_exercises(path, root):
                    # "Exercise 4.1, <title>", numbered as the chapter's page numbers it
                    # (numref), so an instructor can assign it by that number
                    braced = ex.title.replace("{", "{{").replace("}", "}}")
                    name = (
                        nodes.strong(
                            "",
                            "",
                            addnodes.pending_xref(
                                "",
                                nodes.inline(text=f"Exercise {{number}}, {braced}"),
                                refdomain="std",
                                reftype="numref",
                                reftarget=ex.label,
                                refexplicit=True,
                                refwarn=True,
                            ),
                        )
                        if ex.label
                        else nodes.strong(text=ex.title)
                    )
                    task = [nodes.Text(": "), *inline_code(ex.task)] if ex.task else []
                    ids = [
                        nodes.Text(" (label "),
                        nodes.literal(text=ex.label or "-"),
                        nodes.Text(", self-check "),
                        nodes.literal(text=ex.key or "-"),
                        nodes.Text(")"),
                    ]
                    d = difficulty(ex)
                    points = E.POINTS.get(d)
                    level = (
                        f"{d}, {points} pt{'s' if points != 1 else ''}" if points else d
                    )
                    rows.append(
                        [
                            [doc_ref(docname, number)],
                            [name, *task, *ids],
                            [nodes.Text(level)],
                        ]
                    )
            if not rows:
                return [nodes.paragraph(text="No chapter notebook has exercises yet.")]
            return [
                table(
                    ["ch.", "exercise: task (label, self-check)", "level"],
                    [8, 72, 20],
                    rows,
                )
            ]

    class ChapterPlan(SphinxDirective):
        """Per chapter: words, exercises by difficulty, suggested minutes (see the
        constants)."""

        def run(self) -> list[nodes.Node]:
            root = Path(self.env.srcdir)
            for path in chapter_notebooks(root):
                self.env.note_dependency(str(path))
            rows = []
            for stem, words, count, by, minutes in chapter_plan_rows(root):
                path = root / "book" / f"{stem}.ipynb"
                exs = f"{count} ({by})" if by != "-" else count
                rows.append(
                    [
                        [doc_ref(f"book/{stem}", chapter_title(path))],
                        [nodes.Text(words)],
                        [nodes.Text(exs)],
                        [nodes.Text(minutes)],
                    ]
                )
            if not rows:
                return [nodes.paragraph(text="No chapter notebook yet.")]
            return [
                table(
                    ["chapter", "words", "exercises (by difficulty)", "minutes"],
                    [44, 14, 28, 14],
                    rows,
                )
            ]

    def add_static(app: Any, config: Any) -> None:
        static = str(Path(__file__).parent / "static")
        config.html_static_path = [*config.html_static_path, static]

    app.connect("config-inited", add_static)
    app.add_css_file("fwbook-tables.css")
    app.add_directive("exercise-table", ExerciseTable)
    app.add_directive("chapter-plan", ChapterPlan)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


# --------------------------------------------------------------------------- the studen


def write_student_config(dest: Path, root: Path | None = None) -> Path:
    """A copy of `_config.yml` with sphinx-exercise's ``hide_solutions: true``, and the
    library reference reading the checkout's `fenwicks_lite` (the student sources hold
    no copy of it)."""
    import yaml

    root = root or ROOT
    cfg = yaml.safe_load((root / "_config.yml").read_text())
    sphinx_config = cfg.setdefault("sphinx", {}).setdefault("config", {})
    sphinx_config["hide_solutions"] = True
    for package in sphinx_config.get("autodoc2_packages", []):  # autodoc2 wants it relative
        package["path"] = os.path.relpath(root / package["path"], dest.parent)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(
        "# Generated by `make student` from _config.yml: the site without solutions.\n"
        + yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True)
    )
    return dest


def write_student_toc(dest: Path, root: Path | None = None) -> Path:
    """`_toc.yml` without the instructors' page (and without a part left empty by that).
    """
    import yaml

    toc = notebooks.toc(root or ROOT)
    parts = []
    for part in toc.get("parts", []):
        chapters = [c for c in part.get("chapters", []) if c.get("file") != INSTRUCTORS]
        if chapters:
            parts.append({**part, "chapters": chapters})
    toc["parts"] = parts
    dest.write_text(
        "# Generated by `make student` from _toc.yml: no instructors' page.\n"
        + yaml.safe_dump(toc, sort_keys=False, allow_unicode=True)
    )
    return dest


def _exercise_cell(cell: Any) -> bool:
    """An answer cell or a self-check cell: what the instructor's run printed there is
    not the learner's (a check of the folded solution, say)."""
    return cell.cell_type == "code" and bool(
        (cell.metadata.get(META) or {}).get("answer") or find_checks(source(cell))
    )


def student_sources(out_dir: Path, root: Path | None = None) -> Path:
    """The book's sources for the student site under ``out_dir/source``.

    sphinx-exercise's ``hide_solutions`` drops plain ``{solution}`` blocks but not the
    gated ``{solution-start}``/``{solution-end}`` pairs the chapters use, so the
    notebooks are copied without their solution cells and without the outputs of answer
    and check cells (the other outputs kept); the instructors' page is left out of the
    sources and the table of contents."""
    import nbformat

    from fenwicks_lite.grading import without_solutions

    root = root or ROOT
    src = out_dir / "source"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    shutil.copy2(root / "references.bib", src / "references.bib")
    write_student_toc(src / "_toc.yml", root)
    write_student_config(src / "_config.yml", root)
    shutil.copytree(
        root / "book",
        src / "book",
        ignore=shutil.ignore_patterns(
            "*.ipynb",
            ".ipynb_checkpoints",
            "__pycache__",
            Path(INSTRUCTORS).name + ".*",
        ),
    )
    for path in sorted((root / "book").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        nb.cells = without_solutions(nb.cells)
        for c in nb.cells:
            if _exercise_cell(c):
                c.outputs = []
        nbformat.write(nb, src / "book" / path.name)
    return src


def _visible_text(html: str) -> str:
    """A page's text without tags (code is split into highlighting spans), whitespace
    collapsed."""
    import html as html_lib

    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", "", html)))


def _solution_blocks(nb: Any) -> list[str]:
    """The code of each solution cell, whitespace collapsed (as `_visible_text` shows
    it)."""
    blocks = []
    for c in nb.cells:
        if c.cell_type == "code" and E.SOLUTION_TAG in c.metadata.get("tags", []):
            code = re.sub(r"\s+", " ", source(c)).strip()
            if len(code) >= 20:  # shorter cells (`x = 1`) could match anything
                blocks.append(code)
    return blocks


_PASS = re.compile(r"\bPASS ch\w*\.\w+")


def verify_student(out_dir: Path, root: Path | None = None) -> list[str]:
    """Problems of a student edition under `out_dir` (``book/*.ipynb``, ``html/``):
    empty if clean.

    A student notebook has no solution cell and no outputs; a student page shows no
    solution's code, no solution block and no passing self-check; the instructors' page
    is not there."""
    import nbformat

    root = root or ROOT
    problems = []
    for path in chapter_notebooks(root):
        rel = path.relative_to(root)
        student_nb = out_dir / rel
        solutions = _solution_blocks(nbformat.read(path, as_version=4))
        if not student_nb.is_file():
            problems.append(
                f"{student_nb}: missing (run `python -m fwbook.notebooks student`)"
            )
        else:
            snb = nbformat.read(student_nb, as_version=4)
            if any(E.SOLUTION_TAG in c.metadata.get("tags", []) for c in snb.cells):
                problems.append(f"{student_nb}: still has cells tagged `solution`")
            if any(c.get("outputs") for c in snb.cells if c.cell_type == "code"):
                problems.append(f"{student_nb}: still has outputs")
            sources = re.sub(r"\s+", " ", "\n".join(source(c) for c in snb.cells))
            if any(code in sources for code in solutions):
                problems.append(
                    f"{student_nb}: contains the code of a solution cell (an untagged "
                    "copy?)"
                )
        page = out_dir / "html" / rel.with_suffix(".html")
        if not page.is_file():
            problems.append(f"{page}: missing (build the student site first)")
            continue
        html = page.read_text(encoding="utf-8")
        text = _visible_text(html)
        leaked = [code for code in solutions if code in text]
        if leaked:
            problems.append(
                f"{page}: shows solution code, e.g. {leaked[0][:80]!r}: build the "
                "student site from `student_sources` with `hide_solutions: true`"
            )
        if re.search(r'class="[^"]*\bsolution\b', html):
            problems.append(
                f"{page}: has a solution block: build the student site with "
                "`hide_solutions: true`"
            )
        passed = _PASS.search(text)
        if passed:
            problems.append(
                f"{page}: shows a passing self-check ({passed.group(0)!r}) that the "
                "learner did not run: build from `student_sources`"
            )
    instructors = out_dir / "html" / f"{INSTRUCTORS}.html"
    if instructors.exists():
        problems.append(f"{instructors}: the instructors' page is in the student site")
    return problems


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fwbook.exercises", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("table", help="print the book's exercise table (Markdown)")
    sc = sub.add_parser(
        "student-sources", help="write the sources without solutions to OUT/source"
    )
    sc.add_argument(
        "out_dir", type=Path, nargs="?", default=ROOT / "_build" / "student"
    )
    vs = sub.add_parser(
        "verify-student", help="check a student edition (exit 1 if not clean)"
    )
    vs.add_argument(
        "out_dir", type=Path, nargs="?", default=ROOT / "_build" / "student"
    )
    args = p.parse_args(argv)
    if args.cmd == "table":
        print(table_markdown())
    elif args.cmd == "student-sources":
        print(student_sources(args.out_dir))
    else:
        problems = verify_student(args.out_dir)
        print(
            "\n".join(problems)
            or f"student edition in {args.out_dir}: no solutions found"
        )
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
