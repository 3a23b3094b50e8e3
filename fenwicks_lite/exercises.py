"""Exercises and their self-checks (explained in the Introduction, used by every chapter).

Each exercise in a chapter has a key such as ``"ch01.clean_dir"``. Its checker lives in
`fenwicks_lite/checks/ch01.py`, registered with `@exercise`; it calls the learner's function on test
cases and raises `CheckFailed` with a hint at the first wrong answer. In a notebook the learner runs
``fw.exercises.check("ch01.clean_dir", my_function)``, which prints a pass or the hint and never raises,
so an unsolved exercise does not stop the rest of the chapter.

For instructors (book page "For instructors"):

- ``python -m fenwicks_lite.exercises grade NOTEBOOK.ipynb [...] [--json]`` grades learners' notebooks:
  it drops every solution cell, executes the rest cell by cell in a fresh kernel (quick profile, CPU,
  errors allowed), runs each self-check on the learner's function right after its check cell and prints
  a pass/fail table and a score per notebook (`grade`).
- ``python -m fenwicks_lite.exercises table`` prints the table of all exercises, read from the chapter
  notebooks (`notebook_exercises`); the book renders the same table with the ``exercise-table``
  directive of this module's Sphinx extension (`setup`), so the instructors' page never goes stale.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import importlib
import json
import os
import re
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any


class CheckFailed(AssertionError):
    """A learner's answer is wrong; the message is the hint shown to them."""


def expect(condition: bool, hint: str) -> None:
    """Inside a checker: fail with `hint` unless `condition` holds."""
    if not condition:
        raise CheckFailed(hint)


@dataclasses.dataclass(frozen=True)
class Exercise:
    key: str
    title: str
    difficulty: str
    checker: Callable[[Callable[..., Any]], None]

    @property
    def chapter(self) -> str:
        return self.key.split(".", 1)[0]


@dataclasses.dataclass(frozen=True)
class Result:
    key: str
    passed: bool
    message: str

    def __str__(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'} {self.key}: {self.message}"


_REGISTRY: dict[str, Exercise] = {}
#: cells carrying this tag are solutions: the student edition and the grader remove them.
SOLUTION_TAG = "solution"

DIFFICULTIES = ("easy", "medium", "hard")


def exercise(key: str, *, title: str, difficulty: str = "medium") -> Callable:
    """Registers the decorated function as the checker of exercise `key` (``"chNN.name"``)."""
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty must be one of {DIFFICULTIES}, got {difficulty!r}")
    if "." not in key:
        raise ValueError(f"exercise keys look like 'ch02.name', got {key!r}")

    def register(checker: Callable[[Callable[..., Any]], None]) -> Callable[[Callable[..., Any]], None]:
        _REGISTRY[key] = Exercise(key, title, difficulty, checker)
        return checker

    return register


def get(key: str) -> Exercise:
    """The exercise `key`, importing its chapter's checks on first use."""
    if key not in _REGISTRY:
        chapter = key.split(".", 1)[0]
        try:
            importlib.import_module(f"fenwicks_lite.checks.{chapter}")
        except ModuleNotFoundError:
            pass
    if key not in _REGISTRY:
        raise KeyError(f"no exercise {key!r}; known: {', '.join(sorted(_REGISTRY)) or 'none loaded'}")
    return _REGISTRY[key]


def all_exercises() -> list[Exercise]:
    """Every registered exercise, after importing all chapters' checks."""
    import pkgutil

    from fenwicks_lite import checks

    for mod in pkgutil.iter_modules(checks.__path__):
        importlib.import_module(f"fenwicks_lite.checks.{mod.name}")
    return sorted(_REGISTRY.values(), key=lambda e: e.key)


def run_check(key: str, fn: Callable[..., Any] | None) -> Result:
    """Runs the checker of `key` on the learner's `fn`; any failure becomes a `Result`, never an exception."""
    ex = get(key)
    if fn is None:
        return Result(key, False, "no function given: define it in the exercise cell first.")
    try:
        ex.checker(fn)
    except CheckFailed as e:
        return Result(key, False, f"not yet - {e}")
    except NotImplementedError:
        return Result(key, False, "not attempted yet: replace `raise NotImplementedError` with your code.")
    except Exception as e:  # the learner's code may raise anything; show where
        tb = traceback.extract_tb(e.__traceback__)[-1]
        return Result(key, False, f"your function raised {type(e).__name__}: {e} (line {tb.lineno}).")
    return Result(key, True, f"all cases of '{ex.title}' pass.")


def check(key: str, fn: Callable[..., Any] | None) -> None:
    """Prints whether the learner's `fn` solves exercise `key` (a pass, or a hint). Never raises."""
    print(run_check(key, fn))


# ---------------------------------------------------------------------------- exercises in the notebooks

@dataclasses.dataclass(frozen=True)
class NotebookExercise:
    """One ``{exercise}`` directive of a chapter notebook, with the self-check that follows it."""

    notebook: str  # path relative to the book's root, e.g. "book/02_cifar10.ipynb"
    label: str  # the directive's ``:label:`` (the book links to it)
    title: str  # the directive's title
    task: str  # the first sentence of its text: what the learner does
    key: str  # the self-check key of the ``fw.exercises.check("key", fn)`` after it; "" if none


_DIRECTIVE = re.compile(r"^(`{3,}|:{3,})\{exercise\}[ \t]*(.*)$", re.M)


def _source(cell: Any) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _python_only(source: str) -> str:
    """The cell without IPython's magics and shell escapes, which `ast` cannot parse."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def find_checks(source: str) -> list[tuple[str, str]]:
    """``(key, function expression)`` of each ``...check("key", fn)`` call in a code cell, in order.

    The grader evaluates the expression in the learner's kernel, so `fn` may be any name or expression.
    A cell that does not parse (a learner's syntax error) falls back to a regular expression.
    """
    try:
        tree = ast.parse(_python_only(source))
    except SyntaxError:
        return [(m.group(1), m.group(2).strip()) for m in re.finditer(
            r"""check\(\s*["']([\w.]+)["']\s*,\s*([^()]+?)\s*\)""", source)]
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and len(node.args) == 2
                and (getattr(node.func, "attr", None) == "check" or getattr(node.func, "id", None) == "check")
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.append((node.lineno, node.col_offset, node.args[0].value, ast.unparse(node.args[1])))
    return [(key, expr) for _, _, key, expr in sorted(found)]


def notebook_exercises(path: Path, root: Path | None = None) -> list[NotebookExercise]:
    """The exercises of one notebook, in order, each paired with the first check call after it."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    try:
        name = str(path.resolve().relative_to((root or _book_root()).resolve()))
    except ValueError:
        name = path.name
    found: list[dict[str, str]] = []
    for cell in nb.cells:
        src = _source(cell)
        if cell.cell_type == "markdown":
            for m in _DIRECTIVE.finditer(src):
                body = src[m.end():].split(m.group(1), 1)[0]
                label = re.search(r"^:label:[ \t]*(\S+)", body, re.M)
                text = " ".join(line for line in body.splitlines() if line.strip() and not line.startswith(":"))
                task = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0] if text.strip() else ""
                found.append({"label": label.group(1) if label else "", "title": m.group(2).strip(),
                              "task": task, "key": ""})
        elif cell.cell_type == "code" and found and not found[-1]["key"]:
            checks = find_checks(src)
            if checks:
                found[-1]["key"] = checks[0][0]
    return [NotebookExercise(name, **f) for f in found]


def _book_root() -> Path:
    return Path(__file__).resolve().parent.parent


def chapter_notebooks(root: Path | None = None) -> list[Path]:
    """The chapter notebooks of the book whose sources are at `root`, in the order of its `_toc.yml`."""
    import yaml

    root = root or _book_root()
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    return [root / f"{f}.ipynb" for f in files if (root / f"{f}.ipynb").exists()]


def book_exercises(root: Path | None = None) -> list[NotebookExercise]:
    """Every exercise of every chapter notebook, in the order of the table of contents."""
    root = root or _book_root()
    return [ex for path in chapter_notebooks(root) for ex in notebook_exercises(path, root)]


def _difficulty(key: str) -> str:
    try:
        return get(key).difficulty
    except KeyError:
        return "?"


def table_markdown(exercises: list[NotebookExercise] | None = None) -> str:
    """The exercises as a Markdown table (``python -m fenwicks_lite.exercises table``)."""
    rows = ["| chapter | label | title | difficulty | self-check | task |", "|---|---|---|---|---|---|"]
    for ex in book_exercises() if exercises is None else exercises:
        chapter = Path(ex.notebook).stem
        rows.append(f"| {chapter} | {ex.label} | {ex.title} | {_difficulty(ex.key) if ex.key else '-'} | "
                    f"`{ex.key or '-'}` | {ex.task} |")
    return "\n".join(rows)


# ---------------------------------------------------------------------------- grading learners' notebooks

#: Printed before each self-check's JSON result by the probe cells the grader inserts.
GRADE_MARK = "@@fenwicks_lite-grade@@"

_PROBE = '''# inserted by `python -m fenwicks_lite.exercises grade`
def __fw_grade_probe(key, expr):
    import json
    from fenwicks_lite import exercises
    try:
        try:
            fn = eval(expr)
        except Exception as e:
            r = exercises.Result(key, False, f"no function `{{expr}}` to check ({{type(e).__name__}}: {{e}}): "
                                             "did its cell run without error?")
        else:
            r = exercises.run_check(key, fn)
        try:
            ex = exercises.get(key)
            title, difficulty = ex.title, ex.difficulty
        except KeyError:
            title, difficulty = "", "?"
        out = dict(key=key, passed=r.passed, message=r.message, title=title, difficulty=difficulty)
    except Exception as e:
        out = dict(key=key, passed=False, message=f"the check itself failed: {{type(e).__name__}}: {{e}}",
                   title="", difficulty="?")
    print({mark!r} + json.dumps(out))
'''


@dataclasses.dataclass
class GradedExercise:
    key: str
    passed: bool
    message: str
    title: str = ""
    difficulty: str = "?"


@dataclasses.dataclass
class Grade:
    """One notebook's grade: a result per exercise and the score."""

    notebook: str
    exercises: list[GradedExercise]
    error: str = ""  # set when the notebook could not be graded at all

    @property
    def score(self) -> int:
        return sum(e.passed for e in self.exercises)

    @property
    def total(self) -> int:
        return len(self.exercises)

    def as_dict(self) -> dict[str, Any]:
        return {"notebook": self.notebook, "score": self.score, "total": self.total, "error": self.error,
                "exercises": [dataclasses.asdict(e) for e in self.exercises]}

    def table(self) -> str:
        lines = [f"{self.notebook}"]
        if self.error:
            lines.append(f"  not graded: {self.error}")
        width = max([len(e.key) for e in self.exercises] + [8])
        for e in self.exercises:
            lines.append(f"  {'PASS' if e.passed else 'FAIL'}  {e.key:<{width}}  {e.difficulty:<6}  {e.message}")
        lines.append(f"  score: {self.score}/{self.total}")
        return "\n".join(lines)


def strip_solutions(nb: Any) -> Any:
    """A copy of `nb` without solution cells (tagged `solution`), outputs of the rest cleared."""
    import copy

    out = copy.deepcopy(nb)
    out.cells = [c for c in out.cells if SOLUTION_TAG not in c.get("metadata", {}).get("tags", [])]
    for c in out.cells:
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None
    return out


def strip_for_grading(nb: Any) -> Any:
    """The learner's notebook without solutions: cells tagged ``solution`` and, in case a tag was lost,
    every cell between a ``{solution-start}`` and a ``{solution-end}`` markdown cell. Outputs cleared."""
    out = strip_solutions(nb)
    kept, inside = [], False
    for cell in out.cells:
        src = _source(cell)
        if cell.cell_type == "markdown" and "{solution-start}" in src:
            inside = "{solution-end}" not in src
            continue
        if cell.cell_type == "markdown" and "{solution-end}" in src:
            inside = False
            continue
        if not inside:
            kept.append(cell)
    out.cells = kept
    return out


def _expected_keys(path: Path, reference: Path | None) -> list[str]:
    """The exercises a notebook must have: those of `reference`, else of the book's chapter of the same
    file name (so a deleted check cell counts as a failed exercise, not as one fewer)."""
    import nbformat

    ref = reference or (_book_root() / "book" / path.name)
    if not ref.is_file():
        return []
    nb = nbformat.read(ref, as_version=4)
    return [key for c in nb.cells if c.cell_type == "code" for key, _ in find_checks(_source(c))]


def grade(path: Path, *, timeout: int = 600, reference: Path | None = None) -> Grade:
    """Grades one learner notebook: runs it without solutions and runs every self-check in its kernel.

    Each cell runs with errors allowed, so a broken cell fails only the exercise that needs it. The kernel
    runs the quick profile on the CPU (``FENWICKS_LITE_PROFILE=quick``, no GPU visible, JAX on CPU), in a
    fresh temporary directory, so grading is offline, repeatable and leaves the learner's folder alone.
    `timeout` (seconds) bounds each cell; a cell past it is interrupted and fails like an error.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    name = str(path)
    try:
        nb = strip_for_grading(nbformat.read(path, as_version=4))
    except Exception as e:  # not JSON, not a notebook, unreadable: say so, grade the others
        return Grade(name, [], error=f"cannot read it as a notebook ({type(e).__name__}: {e})")
    cells, probes = [], []
    for cell in nb.cells:
        cells.append(cell)
        if cell.cell_type != "code":
            continue
        for key, expr in find_checks(_source(cell)):
            cells.append(nbformat.v4.new_code_cell(f"__fw_grade_probe({key!r}, {expr!r})"))
            probes.append((key, cells[-1]))
    if probes:
        cells.insert(0, nbformat.v4.new_code_cell(_PROBE.format(mark=GRADE_MARK)))
    nb.cells = cells
    env = {**os.environ, "FENWICKS_LITE_PROFILE": "quick", "CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu"}
    failure = ""
    with tempfile.TemporaryDirectory(prefix="fw_grade_") as work:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                                interrupt_on_timeout=True, resources={"metadata": {"path": work}})
        try:
            # The kernel process's own log lines (not the learner's output, which comes over ZeroMQ).
            client.execute(env=env, cwd=work, stderr=subprocess.DEVNULL)
        except DeadKernelError as e:
            failure = f"the kernel died ({e}); the exercises after that point could not be checked"
        except Exception as e:  # nbclient's own failures (no kernel, ...) must not stop the other notebooks
            failure = f"{type(e).__name__}: {e}"
    results: dict[str, GradedExercise] = {}
    for key, cell in probes:
        text = "".join(_source_text(o) for o in cell.get("outputs", []))
        # The probe prints last; a learner's function that prints the mark itself cannot fake a pass.
        line = next((ln for ln in reversed(text.splitlines()) if ln.startswith(GRADE_MARK)), None)
        if line is None:
            results[key] = GradedExercise(key, False, "its check did not finish (the cell timed out or "
                                          f"the kernel died){': ' + failure if failure else ''}")
        else:
            results[key] = GradedExercise(**json.loads(line[len(GRADE_MARK):]))
    for key in _expected_keys(path, reference):
        if key not in results:
            results[key] = GradedExercise(key, False, "its check cell `fw.exercises.check(...)` is missing",
                                          difficulty=_difficulty(key))
    return Grade(name, sorted(results.values(), key=lambda e: e.key), error=failure if not probes else "")


def _source_text(output: Any) -> str:
    if output.get("output_type") == "stream" and output.get("name") == "stdout":
        text = output.get("text", "")
        return "".join(text) if isinstance(text, list) else text
    return ""


# ---------------------------------------------------------------------------- Sphinx: the exercise table

def chapter_plan_rows(root: Path | None = None) -> list[list[str]]:
    """Per chapter: words of prose and code, exercises by difficulty, and the suggested time (minutes)."""
    import nbformat

    root = root or _book_root()
    rows = []
    for path in chapter_notebooks(root):
        nb = nbformat.read(path, as_version=4)
        words = sum(len(_source(c).split()) for c in nb.cells if "solution" not in c.metadata.get("tags", []))
        exs = notebook_exercises(path, root)
        by = {d: sum(_difficulty(e.key) == d for e in exs) for d in DIFFICULTIES}
        minutes = round(words / READING_WORDS_PER_MINUTE) + sum(MINUTES_PER_EXERCISE[d] * n for d, n in by.items())
        rows.append([path.stem, str(words), str(len(exs)),
                     ", ".join(f"{n} {d}" for d, n in by.items() if n) or "-", str(minutes)])
    return rows


#: Reading speed for technical prose with code: about half of ordinary prose's ~250 words per minute.
READING_WORDS_PER_MINUTE = 120
#: Working time a learner needs per exercise, by difficulty (what the suggested times add up).
MINUTES_PER_EXERCISE = {"easy": 10, "medium": 20, "hard": 40}


def setup(app: Any) -> dict[str, Any]:
    """Sphinx extension: the ``exercise-table`` and ``chapter-plan`` directives of the instructors' page.

    Both read the chapter notebooks at build time, so the page always lists the exercises the book has.
    """
    from docutils import nodes
    from sphinx import addnodes
    from sphinx.util.docutils import SphinxDirective

    def table(header: list[str], rows: list[list[nodes.Node]]) -> nodes.table:
        tbl = nodes.table(classes=["fw-table"])
        group = nodes.tgroup(cols=len(header))
        tbl += group
        group += [nodes.colspec(colwidth=1) for _ in header]
        head = nodes.thead()
        group += head
        head += nodes.row("", *[nodes.entry("", nodes.paragraph(text=h)) for h in header])
        body = nodes.tbody()
        group += body
        for cells in rows:
            body += nodes.row("", *[nodes.entry("", nodes.paragraph("", "", c)) for c in cells])
        return tbl

    def inline_code(text: str) -> list[nodes.Node]:
        """Markdown's `code` spans as literals, the rest as text."""
        parts = text.split("`")
        return [nodes.literal(text=p) if i % 2 else nodes.Text(p) for i, p in enumerate(parts) if p]

    def chapter_title(path: Path) -> str:
        import nbformat

        for cell in nbformat.read(path, as_version=4).cells:
            m = re.search(r"^# (.+)$", _source(cell), re.M) if cell.cell_type == "markdown" else None
            if m:
                return m.group(1).strip()
        return path.stem

    def doc_ref(docname: str, text: str) -> nodes.Node:
        ref = addnodes.pending_xref("", nodes.inline(text=text), refdomain="std", reftype="doc",
                                    reftarget="/" + docname, refexplicit=True, refwarn=True)
        return ref

    class ExerciseTable(SphinxDirective):
        """All exercises: chapter, label (linked), title, difficulty, self-check key, task."""

        def run(self) -> list[nodes.Node]:
            root = Path(self.env.srcdir)
            rows = []
            for path in chapter_notebooks(root):
                self.env.note_dependency(str(path))
                docname = str(path.relative_to(root).with_suffix(""))
                title = chapter_title(path)
                number = title.split(".", 1)[0] if title[:1].isdigit() else title
                for ex in notebook_exercises(path, root):
                    name = (addnodes.pending_xref("", nodes.strong(text=ex.title), refdomain="std",
                                                  reftype="ref", reftarget=ex.label, refexplicit=True,
                                                  refwarn=True) if ex.label else nodes.strong(text=ex.title))
                    exercise = nodes.inline("", "", name, nodes.Text(" "), nodes.literal(text=ex.label or "-"),
                                            nodes.Text(": " if ex.task else ""), *inline_code(ex.task))
                    rows.append([doc_ref(docname, number), exercise,
                                 nodes.Text(_difficulty(ex.key) if ex.key else "-"),
                                 nodes.literal(text=ex.key or "-")])
            if not rows:
                return [nodes.paragraph(text="No chapter notebook has exercises yet.")]
            return [table(["chapter", "exercise (label): task", "difficulty", "self-check"], rows)]

    class ChapterPlan(SphinxDirective):
        """Per chapter: words, exercises by difficulty, suggested minutes (computed, see the constants)."""

        def run(self) -> list[nodes.Node]:
            root = Path(self.env.srcdir)
            for path in chapter_notebooks(root):
                self.env.note_dependency(str(path))
            rows = []
            for stem, *rest in chapter_plan_rows(root):
                rows.append([doc_ref(f"book/{stem}", chapter_title(root / "book" / f"{stem}.ipynb")),
                             *[nodes.Text(x) for x in rest]])
            if not rows:
                return [nodes.paragraph(text="No chapter notebook yet.")]
            return [table(["chapter", "words", "exercises", "by difficulty", "suggested minutes"], rows)]

    app.add_directive("exercise-table", ExerciseTable)
    app.add_directive("chapter-plan", ChapterPlan)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


# ---------------------------------------------------------------------------- the student edition

def write_student_config(dest: Path, root: Path | None = None) -> Path:
    """A copy of `_config.yml` with sphinx-exercise's ``hide_solutions: true``, for the student site.

    Written into the student sources (`student_sources`), so the book's own configuration stays the
    single source and is never edited by ``make student``.
    """
    import yaml

    cfg = yaml.safe_load(((root or _book_root()) / "_config.yml").read_text())
    cfg.setdefault("sphinx", {}).setdefault("config", {})["hide_solutions"] = True
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text("# Generated by `make student` from _config.yml: the site without solutions.\n"
                    + yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True))
    return dest


def student_sources(out_dir: Path, root: Path | None = None) -> Path:
    """The book's sources without solutions under ``out_dir/source``: the student site is built from it.

    sphinx-exercise's ``hide_solutions`` drops plain ``{solution}`` blocks but not the gated
    ``{solution-start}``/``{solution-end}`` pairs the chapters use (their code cells would still show), so
    the notebooks are copied without their solution cells (outputs of the other cells kept), and the
    configuration with ``hide_solutions: true`` for any plain solution block.
    """
    import shutil

    import nbformat

    root = root or _book_root()
    src = out_dir / "source"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    for name in ("_toc.yml", "references.bib"):
        shutil.copy2(root / name, src / name)
    write_student_config(src / "_config.yml", root)
    shutil.copytree(root / "book", src / "book", ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
    for path in sorted((root / "book").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        nb.cells = [c for c in nb.cells if SOLUTION_TAG not in c.metadata.get("tags", [])]
        nbformat.write(nb, src / "book" / path.name)
    return src


def _visible_text(html: str) -> str:
    """A page's text without tags (code is split into highlighting spans), whitespace collapsed."""
    import html as html_lib

    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", "", html)))


def _solution_blocks(nb: Any) -> list[str]:
    """The code of each solution cell, whitespace collapsed (as `_visible_text` shows a page's code).

    Whole cells, not single lines: a line such as ``return False`` may well appear elsewhere on the page
    (library code shown with `fw.book.show_source`), a whole solution does not.
    """
    blocks = []
    for c in nb.cells:
        if c.cell_type == "code" and SOLUTION_TAG in c.metadata.get("tags", []):
            code = re.sub(r"\s+", " ", _source(c)).strip()
            if len(code) >= 20:  # shorter cells (`x = 1`) could match anything
                blocks.append(code)
    return blocks


def verify_student(out_dir: Path, root: Path | None = None) -> list[str]:
    """Problems of a student edition under `out_dir` (``book/*.ipynb``, ``html/``): empty when clean.

    A student notebook must have no cell tagged ``solution`` and no outputs; a student page must contain
    no line of any solution's code and no solution block.
    """
    import nbformat

    root = root or _book_root()
    problems = []
    for path in chapter_notebooks(root):
        rel = path.relative_to(root)
        student_nb = out_dir / rel
        if not student_nb.is_file():
            problems.append(f"{student_nb}: missing (run `python -m fwbook.notebooks student`)")
        else:
            snb = nbformat.read(student_nb, as_version=4)
            if any(SOLUTION_TAG in c.metadata.get("tags", []) for c in snb.cells):
                problems.append(f"{student_nb}: still has cells tagged `solution`")
            if any(c.get("outputs") for c in snb.cells if c.cell_type == "code"):
                problems.append(f"{student_nb}: still has outputs")
            sources = re.sub(r"\s+", " ", "\n".join(_source(c) for c in snb.cells))
            if any(code in sources for code in _solution_blocks(nbformat.read(path, as_version=4))):
                problems.append(f"{student_nb}: contains the code of a solution cell (an untagged copy?)")
        page = out_dir / "html" / rel.with_suffix(".html")
        if not page.is_file():
            problems.append(f"{page}: missing (build the student site first)")
            continue
        html = page.read_text(encoding="utf-8")
        text = _visible_text(html)
        leaked = [code for code in _solution_blocks(nbformat.read(path, as_version=4)) if code in text]
        if leaked:
            problems.append(f"{page}: shows solution code, e.g. {leaked[0][:80]!r}: build the student site "
                            "from `student_sources` (no solution cells) with `hide_solutions: true`")
        if re.search(r'class="[^"]*\bsolution\b', html):
            problems.append(f"{page}: has a solution block: build the student site with `hide_solutions: true`")
    return problems


# ---------------------------------------------------------------------------- command line

def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fenwicks_lite.exercises",
                                description="Exercises of the book: grade learners' notebooks, list them.")
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("grade", help="execute learners' notebooks (no solutions) and score their self-checks")
    g.add_argument("notebooks", nargs="+", type=Path)
    g.add_argument("--json", action="store_true", help="print a JSON gradebook instead of tables")
    g.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    g.add_argument("--reference", type=Path, help="the chapter notebook whose exercises are expected "
                   "(default: book/<same file name> if it exists)")
    sub.add_parser("table", help="print the table of all the book's exercises (Markdown)")
    sc = sub.add_parser("student-sources", help="write the book's sources without solutions to OUT/source")
    sc.add_argument("out_dir", type=Path, nargs="?", default=_book_root() / "_build" / "student")
    vs = sub.add_parser("verify-student", help="check a student edition has no solutions (exit 1 if it has)")
    vs.add_argument("out_dir", type=Path, nargs="?", default=_book_root() / "_build" / "student")
    args = p.parse_args(argv)
    if args.cmd == "table":
        print(table_markdown())
        return 0
    if args.cmd == "student-sources":
        print(student_sources(args.out_dir))
        return 0
    if args.cmd == "verify-student":
        problems = verify_student(args.out_dir)
        print("\n".join(problems) or f"student edition in {args.out_dir}: no solutions found")
        return 1 if problems else 0
    missing = [str(n) for n in args.notebooks if not n.is_file()]
    if missing:
        p.error(f"no such notebook: {', '.join(missing)}")
    grades = [grade(n, timeout=args.timeout, reference=args.reference) for n in args.notebooks]
    if args.json:
        print(json.dumps([g.as_dict() for g in grades], indent=1))
    else:
        print("\n\n".join(g.table() for g in grades))
    return 1 if any(g.error for g in grades) else 0


if __name__ == "__main__":
    sys.exit(main())
