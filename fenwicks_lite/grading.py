"""Grading learners' notebooks (book page "For instructors"; the exercises:
`fenwicks_lite.exercises`).

The assignment is defined by the book, not by the submission (nbgrader's approach):

1. The reference is the chapter notebook (`--reference`, or the book's chapter named by
   `--chapter`); its metadata names the chapter (``metadata.fenwicks_lite.chapter``) and
   marks each exercise's answer cell (``metadata.fenwicks_lite.answer``: the exercise
   key).
2. From a submission only the answer cells are taken (matched by that metadata, else by
   cell id, else by the function they define) and put into a fresh copy of the reference
   without its solutions and public check cells. Monkeypatching in other cells, deleted
   or added check calls and other chapters' exercises therefore change nothing.
3. After each answer cell a hidden cell checks it with the public checker and the
   hidden test (`exercises.run_hidden`, cases from the instructor's `--seed`). The
   checks run in the worker, the kernel's parent; the hidden cell (`_serve`) only runs
   the learner's function for each call they make, over a Unix socket (`_Learner`,
   plain values both ways: `_encode`). The worker writes the verdict itself; it counts
   if the cell ran to its end (no SystemExit, no dead kernel). Points come from the
   exercise's difficulty (`exercises.POINTS`, `--points` overrides). Exercises of the
   instructor's own: `--checks FILE.py`, loaded by the worker.
4. Each submission runs in its own process (`_worker`), with a scrubbed environment, a
   private copy of the library, the kernel on a Unix socket and, where ``unshare``
   works, in new user, mount, PID and network namespaces: no network, the book's
   solutions, the instructor's home, the submission folders and ``OUT`` hidden, the
   other submissions' work folders out of sight, every file system read-only but its
   own work folder (`--docker IMAGE`: a container instead). An answer or hidden cell
   gets `--timeout` seconds and is then "timed out"; each process gets `--memory` GB
   of data; a submission runs at most `--max-procs` processes and threads at once (a
   pids cgroup where the grader can make one, else RLIMIT_NPROC in its user namespace)
   and writes at most `--disk` GB (each file; under unshare and docker all of it, in a
   tmpfs): a cell over either is reported "over-limit", its processes stopped or its
   files removed, and the rest is graded.
5. The checks and the seed are out of the kernel's reach: an answer that changes the
   checks, the grader's code or NumPy in the kernel changes nothing that judges it.
   The worker makes itself non-dumpable and starts the kernel without capabilities
   (`_not_dumpable`, `_without_capabilities`): the kernel can neither trace it nor
   read its memory. Still, `suspicious` flags an answer that reaches for the grader,
   the process or a module's attributes; from the first flagged answer on, an
   exercise that passed scores 0 as "held", with the points it passed for and a
   message naming the flag, for the instructor to read and clear (`hold_flagged`).
   ``--trust-flagged`` credits them (the flags are still listed). One figure comes
   from the kernel: Chapter 2's peak of memory (tracemalloc), measured where the
   learner's function runs.
6. Results go to ``OUT/gradebook.csv`` (a ``held`` column beside the points),
   ``OUT/feedback/<student>.md`` (each exercise named as the student's notebook names
   it, "Exercise 5.2: Steps per epoch") and ``OUT/results.jsonl`` as each submission
   finishes (`--jobs N` at once); an ``OUT`` with grades in it is refused unless
   ``--overwrite``; several submissions of one student are each graded and noted.
   ``autograder`` packs the same grading as a Gradescope autograder whose
   ``run_autograder`` writes Gradescope's ``results.json``.

What it does not protect against: learners copying the book's public solutions; an
answer that fakes Chapter 2's memory figure in its kernel; in process mode, a
submission that runs as the instructor (without ``setpriv``, a root kernel keeps its
capabilities)."""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import csv
import dataclasses
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fenwicks_lite import exercises as E

#: notebook and cell metadata namespace of the book's exercises.
META = "fenwicks_lite"
#: what the lines the worker prints about its progress start with
MARK = "@@fenwicks_lite-grade@@"
#: the worker prints this once its imports worked, before it reads the job, and this
#: with the job's nonce once the grader's first cell ran in the kernel, before any
#: code of the submission: a worker that ends without both failed for a reason that
#: is not the submission's (`GradingEnvironmentError`)
READY, STARTED = MARK + "ready", MARK + "started:"


class GradingEnvironmentError(RuntimeError):
    """The grading process failed before any code of the submission ran: the grader's
    environment is broken (the sandbox, the Python it runs, the kernel), not the
    submission. `grade_batch` stops at the first; nothing is written for it.

    For instructors, "Grading" says what the instructor then sees (one message, exit
    status 2).
    """


# Answers that reach into the grader or the process get flagged for the instructor to
# read; also the roundabout ways to them (a module by a computed name, an attribute set
# by name, a frame, the IPython shell, code built from strings). No answer of the
# book's solutions needs any of them (tests/test_grading.py). `suspicious` matches the
# lists below on the answer's parsed code, and on its words when it does not parse
# (one set of lists for both).

#: names and attributes that `suspicious` flags wherever the code uses them: the
#: grader's modules and functions, the roundabout ways to any object (frames, the
#: built-ins, the interpreter's hooks, IPython's history)
_SUSPICIOUS_NAMES = re.compile(
    r"exercises|checks|grading|run_check|run_hidden|settrace|setprofile|getppid|"
    r"tracemalloc|"
    r"subprocess|socket|ctypes|importlib|setattr|delattr|_getframe|_current_frames|"
    r"inspect|get_ipython|builtins|__builtins__|__import__|addaudithook|signal|pdb|"
    r"__(subclasses|globals|code|closure|dict|class|mro|bases?|traceback|self|"
    r"loader|spec)__|tb_frame|tb_next|f_back|f_globals|f_locals|f_builtins|f_code|"
    r"exc_info|gi_frame|cr_frame|ag_frame|walk_stack|walk_tb|last_traceback|"
    r"last_value|last_exc|_exit|co_consts|_ih|_ii|_iii|_i\d+|_oh"
)
#: built-ins that reach any object or run code built from strings (as names: a
#: method of the same name, model.compile or re.compile, is another thing)
_SUSPICIOUS_BUILTINS = {"eval", "exec", "compile", "globals", "vars", "getattr",
                        "breakpoint"}
#: module attributes that reach the process, the environment or the output
_SUSPICIOUS_DOTTED = re.compile(
    r"sys\.(modules|stdout|exception|meta_path|path_hooks|excepthook)|"
    r"os\.(kill|killpg|environ|getenv|putenv|system|popen|fork|forkpty|exec\w*|"
    r"spawn\w*)|gc\.\w+"
)
#: text in a string that names the grader's files, its verdicts or the process's
#: memory
_SUSPICIOUS_TEXT = re.compile(
    r"fenwicks_lite-grade|fresh\.ipynb|assignment\.json|/autograder\b|/proc/"
    r"|fenwicks_lite\.(exercises|checks|grading)"
)
#: modules whose attributes an answer may not reassign (besides those it imports)
_LIBRARIES = {"np", "numpy", "math", "keras", "fw", "fenwicks_lite", "tf", "jax",
              "os", "sys", "builtins"}
#: IPython magics that only time the code they run (their code is checked as well)
_TIMING = {"time", "timeit"}


def _ipython_to_python(text: str) -> str:
    """The cell as IPython runs it: magics and shell escapes become calls of
    ``get_ipython()`` (which `suspicious` flags); without IPython, left out."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return _python_only(text)
    return TransformerManager().transform_cell(text)


def _dotted(node: ast.AST) -> str:
    """``a.b.c`` for an attribute chain on a name, else ``""``."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ""
    return ".".join([node.id, *reversed(parts)])


def _root(node: ast.AST) -> str:
    """The name an attribute chain starts from (``np`` of ``np.random.seed``)."""
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else ""


def _own_check(node: ast.AST, key: str) -> bool:
    """Whether `node` is the book's ``fw.exercises.check("<key>", fn)`` of this very
    exercise (every solution ends with it)."""
    return (
        bool(key)
        and isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and _dotted(node.value.func) == "fw.exercises.check"
        and len(node.value.args) == 2
        and not node.value.keywords
        and isinstance(node.value.args[0], ast.Constant)
        and node.value.args[0].value == key
        and isinstance(node.value.args[1], ast.Name)
    )


def suspicious(text: str, key: str = "") -> list[str]:
    """What in an answer cell reaches for the grader or the process (the flags): the
    words of `_SUSPICIOUS_NAMES`, `_SUSPICIOUS_DOTTED`, `_SUSPICIOUS_BUILTINS`
    and `_SUSPICIOUS_TEXT` in its code (names, attributes, imports, calls and
    strings; not its comments), IPython's history and shell, and an assignment to an
    attribute of a module (``np.array_equal = ...``: the checks compare with NumPy).
    The exercise's own ``fw.exercises.check(key, fn)`` is not flagged.

    For instructors, "Grading" (4, flagged answers are held) explains the flags.
    """
    python = _ipython_to_python(text)
    try:
        tree = ast.parse(python)
    except SyntaxError:  # it will not run either; the words anywhere in it
        return _suspicious_words(python)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(getattr(node, "body", None), list):
            kept = []
            for n in node.body:
                timed = _timing_magic(n)
                if timed is not None:  # %time, %%timeit: what they run is checked
                    found += suspicious(timed, key)
                elif not _own_check(n, key):
                    kept.append(n)
            node.body = kept
    own: set[str] = set()  # names the answer binds itself: its variables
    modules = set(_LIBRARIES)  # names bound to modules: imports, and aliases of them
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            own.add(node.id)
        elif isinstance(node, ast.arg):
            own.add(node.arg)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            own.add(node.name)
        elif isinstance(node, ast.alias):
            modules.add(node.asname or node.name.split(".")[0])
    for node in ast.walk(tree):  # `m = np` or `r = np.random`: an alias of a module
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Name | ast.Attribute)
            and _root(node.value) in modules
        ):
            modules |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    words: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in own - modules:
            words.append(node.id)
            if node.id in _SUSPICIOUS_BUILTINS:
                found.append(f"mentions {node.id!r}")
        elif isinstance(node, ast.Attribute):
            words.append(node.attr)
            dotted = _dotted(node) or ast.unparse(node)
            if _SUSPICIOUS_DOTTED.fullmatch(dotted):
                found.append(f"mentions {dotted!r}")
            if not isinstance(node.ctx, ast.Load) and _root(node) in modules:
                found.append(f"assigns to {dotted!r}, an attribute of a module")
        elif isinstance(node, ast.alias):
            words += node.name.split(".")
        elif isinstance(node, ast.ImportFrom):
            words += (node.module or "").split(".")
            found += [
                f"mentions {f'{node.module}.{a.name}'!r}"
                for a in node.names
                if _SUSPICIOUS_DOTTED.fullmatch(f"{node.module}.{a.name}")
            ]
        elif isinstance(node, ast.Subscript) and _dotted(node.value) in ("In", "Out"):
            found.append(f"mentions {_dotted(node.value) + '['!r}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += [
                f"mentions {m.group(0)!r}"
                for m in _SUSPICIOUS_TEXT.finditer(node.value)
            ]
    found += [f"mentions {w!r}" for w in words if _SUSPICIOUS_NAMES.fullmatch(w)]
    return list(dict.fromkeys(found))


def _suspicious_words(text: str) -> list[str]:
    """`suspicious` for a cell that does not parse: the same lists, matched on every
    name and dotted name of the text (comments and strings too), a built-in only
    where it is called, ``In``/``Out`` only where indexed."""
    found = [f"mentions {m.group(0)!r}" for m in _SUSPICIOUS_TEXT.finditer(text)]
    found += [f"mentions {w!r}" for w in re.findall(r"[A-Za-z_]\w*", text)
              if _SUSPICIOUS_NAMES.fullmatch(w)]
    for m in re.finditer(r"(?<![\w.])[A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*\s*([(\[]?)",
                         text):
        parts = re.sub(r"\s+", "", m.group(0)).rstrip("([").split(".")
        dotted = [".".join(parts[:k]) for k in range(2, len(parts) + 1)]
        found += [f"mentions {d!r}" for d in dotted if _SUSPICIOUS_DOTTED.fullmatch(d)]
        if len(parts) == 1 and m.group(1) == "(" and parts[0] in _SUSPICIOUS_BUILTINS:
            found.append(f"mentions {parts[0]!r}")
        if len(parts) == 1 and m.group(1) == "[" and parts[0] in ("In", "Out"):
            found.append(f"mentions {parts[0] + '['!r}")
    return list(dict.fromkeys(found))


def _timing_magic(node: ast.AST) -> str | None:
    """The code that ``%time``/``%timeit`` (or their cell forms) runs, if `node` is
    one (as IPython turns it into Python), else None."""
    call = node.value if isinstance(node, ast.Expr) else None
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr in ("run_line_magic", "run_cell_magic")
        and isinstance(call.func.value, ast.Call)
        and _dotted(call.func.value.func) == "get_ipython"
        and call.args
        and all(isinstance(a, ast.Constant) for a in call.args)
        and call.args[0].value in _TIMING  # type: ignore[attr-defined]
    ):
        return None
    return "\n".join(str(a.value) for a in call.args[1:])  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- reading no


def source(cell: Any) -> str:
    """A cell's source as one string (a notebook file may store a list of lines): a
    helper of the grader (For instructors, "Grading") and of the book's exercise
    tables."""
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _python_only(text: str) -> str:
    """The cell without IPython's magics and shell escapes, which `ast` cannot parse."""
    return "\n".join(
        "" if ln.lstrip().startswith(("%", "!")) else ln for ln in text.splitlines()
    )


def find_checks(text: str) -> list[tuple[str, str]]:
    """``(key, function expression)`` of each ``...check("key", fn)`` call in a code
    cell: how the grader and the exercise table of For instructors, "Exercises" find
    each exercise's self-check."""
    try:
        tree = ast.parse(_python_only(text))
    except SyntaxError:
        return [
            (m.group(1), m.group(2).strip())
            for m in re.finditer(
                r"""check\(\s*["']([\w.]+)["']\s*,\s*([^()]+?)\s*\)""", text
            )
        ]
    found = []
    for node in ast.walk(tree):
        name = getattr(node, "func", None)
        if (
            isinstance(node, ast.Call)
            and len(node.args) == 2
            and "check" in (getattr(name, "attr", None), getattr(name, "id", None))
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append(
                (
                    node.lineno,
                    node.col_offset,
                    node.args[0].value,
                    ast.unparse(node.args[1]),
                )
            )
    return [(key, expr) for _, _, key, expr in sorted(found)]


def defined_functions(text: str) -> list[str]:
    """Names of the functions a cell defines at top level (empty if it won't parse).

    A helper of `answer_cells` (For instructors, "Grading", 1).
    """
    try:
        tree = ast.parse(_python_only(text))
    except SyntaxError:
        return re.findall(r"^def\s+(\w+)\s*\(", text, re.M)
    return [
        n.name
        for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def is_solution(cell: Any) -> bool:
    """Whether `cell` is tagged ``solution``: a cell that For instructors, "The student
    edition" leaves out, as the grader does."""
    return E.SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def without_solutions(cells: list[Any]) -> list[Any]:
    """The cells minus solutions: tagged ``solution`` or (a lost tag) gated by
    solution-start/end. For instructors, "The student edition"; the grader too."""
    kept, inside = [], False
    for cell in cells:
        src = source(cell)
        if cell.cell_type == "markdown" and "{solution-start}" in src:
            inside = "{solution-end}" not in src
            continue
        if cell.cell_type == "markdown" and "{solution-end}" in src:
            inside = False
            continue
        if not inside and not is_solution(cell):
            kept.append(cell)
    return kept


def strip_solutions(nb: Any) -> Any:
    """A copy of `nb` without solution cells, outputs of the rest cleared (the student
    notebook), and without the times at which the book's run executed each cell.

    ``make student`` writes these: For instructors, "The student edition".
    """
    out = copy.deepcopy(nb)
    out.cells = without_solutions(out.cells)
    for c in out.cells:
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None
            c.metadata.pop("execution", None)
    return out


def solutions_notebook(nb: Any, specs: list[Spec]) -> tuple[Any, list[str]]:
    """The student notebook of reference `nb` with each exercise answered by the book's
    own solution: the code of the first solution cell after the answer cell that
    defines the exercise's function, without its self-check call. Returns it and the
    keys no solution was found for (their cells keep ``raise NotImplementedError``).

    What ``grade --solutions`` grades: For instructors, "Before the course".
    """
    answers = {}
    for spec in specs:
        for c in nb.cells[spec.cell + 1 :]:
            if (
                is_solution(c)
                and c.cell_type == "code"
                and spec.function in defined_functions(source(c))
            ):
                answers[spec.key] = _without_checks(source(c))
                break
    out = strip_solutions(nb)
    for c in out.cells:
        key = (c.metadata.get(META) or {}).get("answer")
        if key in answers:
            c.source = answers[key]
    return out, [s.key for s in specs if s.key not in answers]


def _without_checks(text: str) -> str:
    """Python source `text` without its top-level ``...check("key", fn)`` calls (a
    solution's self-check: the grader runs the checks itself)."""
    lines = text.splitlines()
    try:
        body = ast.parse(_python_only(text)).body  # same lines, magics blanked
    except SyntaxError:
        return text  # then the self-check runs in the answer cell too: harmless
    for node in reversed(body):
        if isinstance(node, ast.Expr) and find_checks(ast.unparse(node)):
            del lines[node.lineno - 1 : node.end_lineno]
    return "\n".join(lines).rstrip() + "\n"


@dataclasses.dataclass(frozen=True)
class Spec:
    """One exercise of a reference notebook: its key, answer cell, function and
    difficulty (For instructors, "Grading", 1)."""

    key: str
    cell: int  # index of the answer cell in the reference's cells
    cell_id: str
    function: str  # the function the answer cell defines (the one the check calls)
    difficulty: (
        str  # from the exercise directive's :class: (the registry's wins where known)
    )
    #: "Exercise 5.2: Steps per epoch", as the site and the student edition name it
    #: ("" if the reference has no exercise box before the answer cell)
    label: str = ""


_DIFFICULTY = re.compile(r"^:class:[ \t]*(.*)$", re.M)
#: an exercise box of the book (MyST, fenced with colons or backticks): its fence and
#: its title (`exercise_boxes`)
_EXERCISE_BOX = re.compile(r"^(`{3,}|:{3,})\{exercise\}[ \t]*(.*)$", re.M)
#: the same box in the student edition (plain Markdown): "**Exercise 4.2: <title>**"
_EXERCISE_BOLD = re.compile(
    r"^\*\*Exercise (\d+(?:\.\d+)?)(?:: (.*?))?\*\*[ \t]*$", re.M
)


def exercise_boxes(text: str) -> list[tuple[str, str, str]]:
    """``(title, body, difficulty)`` of each exercise box in a Markdown cell's `text`:
    its body up to its closing fence, and the difficulty its ``:class:`` states ("" if
    none). What the grader (`reference_specs`) and the instructors' table
    (fwbook.exercises) read of a box (For instructors, "Exercises")."""
    boxes = []
    for box in _EXERCISE_BOX.finditer(text):
        body = text[box.end() :].split(box.group(1), 1)[0]
        m = _DIFFICULTY.search(body)
        words = m.group(1).split() if m else []
        stated = next((w for w in words if w in E.DIFFICULTIES), "")
        boxes.append((box.group(2).strip(), body, stated))
    return boxes


def chapter_of(nb: Any) -> str:
    """The chapter a notebook's metadata names (``"ch05"``; "" if none): the grader
    refuses a notebook of another chapter (For instructors, "Grading", 1)."""
    return str((nb.metadata.get(META) or {}).get("chapter", ""))


def reference_specs(nb: Any) -> list[Spec]:
    """The exercises of a reference notebook: every code cell marked as an answer cell
    (``metadata.fenwicks_lite.answer``); the check call after it names the function.

    For instructors, "Grading" (1, the book defines the assignment).
    """
    specs, difficulty, label = [], "medium", ""
    # numbered as the site numbers them (fwbook.colab): "4.2" is chapter 4's second
    # exercise box, in the order of the cells; "2" in a chapter without a number
    m = re.fullmatch(r"ch(\d+)", chapter_of(nb))
    prefix, boxes = f"{int(m.group(1))}." if m else "", 0
    cells = nb.cells
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown":
            text = source(cell)
            for title, _, stated in exercise_boxes(text):
                boxes += 1
                label = f"Exercise {prefix}{boxes}" + (f": {title}" if title else "")
                difficulty = stated or "medium"  # the box's own :class:
            for bold in _EXERCISE_BOLD.finditer(text):  # the student edition
                title = (bold.group(2) or "").strip()
                label = f"Exercise {bold.group(1)}" + (f": {title}" if title else "")
        key = (
            (cell.metadata.get(META) or {}).get("answer")
            if cell.cell_type == "code"
            else None
        )
        if not key:
            continue
        function = next(
            (
                expr
                for c in cells[i + 1 :]
                if c.cell_type == "code" and not is_solution(c)
                for k, expr in find_checks(source(c))
                if k == key
            ),
            "",
        )
        if not function.isidentifier():
            names = defined_functions(source(cell))
            function = names[-1] if names else ""
        try:
            difficulty = E.get(key).difficulty
        except KeyError:
            pass
        specs.append(
            Spec(key, i, str(cell.get("id", "")), function, difficulty, label)
        )
        label = ""  # a second answer cell after one box is not that exercise again
    return specs


def answer_cells(nb: Any, specs: list[Spec]) -> dict[str, tuple[str, str]]:
    """key -> (answer source, how it was found) for each exercise the submission
    answers.

    Matched like nbgrader: by the cell's metadata, else by its cell id, else by the last
    cell that defines the exercise's function. Solution-gated cells are never taken.
    A cell that still holds the student edition's ``raise NotImplementedError`` gives
    way to one that answers: a duplicate of the answer cell, or a cell of the learner's
    own that defines the function (how: "... (not the unanswered cell)").

    For instructors, "Grading" (1, the book defines the assignment).
    """
    cells = without_solutions(nb.cells)
    found: dict[str, tuple[str, str]] = {}
    for spec in specs:
        code = [c for c in cells if c.cell_type == "code"]
        by_meta = [
            c for c in code if (c.metadata.get(META) or {}).get("answer") == spec.key
        ]
        by_id = [c for c in code if spec.cell_id and c.get("id") == spec.cell_id]
        by_def = [
            c
            for c in code
            if spec.function and spec.function in defined_functions(source(c))
        ]
        levels = [
            (how, [source(c) for c in matches])
            for how, matches in (
                ("metadata", by_meta),
                ("cell id", by_id),
                ("function name", by_def),
            )
            if matches
        ]
        answered = [
            (how, src)
            for how, srcs in levels
            for src in reversed(srcs)
            if not _unanswered(src)
        ]
        if answered and _unanswered(levels[0][1][-1]):
            how, src = answered[0]
            found[spec.key] = (src, how + " (not the unanswered cell)")
        elif levels:
            found[spec.key] = (levels[0][1][-1], levels[0][0])
    return found


def _unanswered(src: str) -> bool:
    """Whether a cell still has the student edition's stub."""
    return "raise NotImplementedError" in src


# --------------------------------------------------------------------------- the fresh

#: the hidden cell after each answer: runs the learner's function for the checks,
#: which run in the worker (`_serve`; the worker fills in its socket's path)
_SERVE = (
    "# hidden test (fenwicks_lite grader)\n"
    '__import__("fenwicks_lite.grading").grading._serve('
    "globals().get({fn!r}), {path!r})"
)
#: the socket's path in a hidden cell of the fresh notebook until the worker, which
#: makes a socket for each hidden cell, puts that socket's path in its place
_NO_SOCKET = "<the worker's socket>"
#: the fresh notebook's first cell: imports the grader (and the chapter's checks, for
#: any self-check call the chapter itself makes) in the kernel before any answer runs,
#: and tells the worker the kernel works (`STARTED`). The checks that grade run in
#: the worker, not here
_SETUP_CELL = (
    "# hidden setup (fenwicks_lite grader)\n"
    '__import__("fenwicks_lite.grading").grading._setup({keys!r})'
)


def _setup(keys: list[str]) -> None:
    """Runs in the kernel before the chapter: imports the checks of `keys`."""
    for key in keys:
        with contextlib.suppress(KeyError):  # checks defined in the notebook itself
            E.get(key)


def fresh_notebook(
    reference: Any,
    answers: dict[str, tuple[str, str]],
    specs: list[Spec],
) -> tuple[Any, dict[str, str]]:
    """The reference without solutions and public checks, with the learner's answer
    cells and a hidden cell after each (`_serve`: it runs the learner's function for
    the checks, which run in the worker). Returns it and the roles of its cells (cell
    id -> role). Neither the seed nor the hidden cases' numbers go into the notebook.

    For instructors, "Grading" (1 and 2: the book defines the assignment, hidden tests
    decide).
    """
    import nbformat

    by_cell = {s.cell: s for s in specs}
    setup = nbformat.v4.new_code_cell(_SETUP_CELL.format(keys=[s.key for s in specs]))
    cells, roles = [setup], {setup.id: "setup"}
    for i, cell in enumerate(reference.cells):
        if i in by_cell:
            spec = by_cell[i]
            src = answers.get(spec.key, ("", ""))[0]
            ans = nbformat.v4.new_code_cell(src)
            probe = nbformat.v4.new_code_cell(
                _SERVE.format(fn=spec.function, path=_NO_SOCKET)
            )
            roles[ans.id], roles[probe.id] = "answer:" + spec.key, "hidden:" + spec.key
            cells += [ans, probe]
            continue
        if is_solution(cell):
            continue  # Assignment.load blanked and tagged every solution cell
        if cell.cell_type == "code" and find_checks(source(cell)):
            continue  # the public self-checks: hints for the learner, not the grade
        c = copy.deepcopy(cell)
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None
        cells.append(c)
    nb = nbformat.v4.new_notebook(metadata=copy.deepcopy(reference.metadata))
    nb.cells = cells
    return nb, roles


# --------------------------------------------------------------------------- the worker


def _worker() -> int:
    """Executes the job's notebook in a fresh kernel; prints the nonce and the outputs.

    Runs inside the sandbox, as the parent of the kernel: the grader reads only its last
    line. The job (notebook, seed and nonce included) comes on stdin: nothing of it is
    on a disk the kernel can read."""
    import nbformat
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    print(READY, flush=True)
    job = json.loads(sys.stdin.readline())
    _not_dumpable()  # before the kernel: it cannot read or trace this process
    nb = nbformat.from_dict(job["notebook"])
    limits = _Limits(job)
    roles = job["roles"]
    _load_checks(job, roles)  # before the kernel too: nothing it writes is imported
    timed_out: list[str] = []
    finished: list[str] = []  # cells whose execute_reply came: the kernel lived on
    verdicts: dict[str, dict] = {}  # hidden cell -> the verdict its check returned

    class Client(NotebookClient):
        async def _async_handle_timeout(self, timeout, cell=None):  # noqa: ANN001
            if cell is not None:
                timed_out.append(cell.get("id", ""))
            return await super()._async_handle_timeout(timeout, cell)

        async def async_execute_cell(self, cell, *args, **kw):  # noqa: ANN001
            before = limits.before()
            role = roles.get(cell.get("id"), "")
            try:
                if role.startswith("hidden:"):
                    return await self._hidden(cell, role.split(":", 1)[1], args, kw)
                done = await super().async_execute_cell(cell, *args, **kw)
                if roles.get(cell.get("id")) == "setup" and not _error(cell):
                    print(STARTED + job["nonce"], flush=True)  # the kernel works
                return done
            finally:
                if limits.after(cell, before, km) and self.kc is not None:
                    # the processes it stopped are the kernel's children, and count
                    # until the kernel reaps them
                    reap = self.kc.execute(_REAP, silent=True, store_history=False)
                    with contextlib.suppress(Exception):  # a dead kernel
                        await self.async_wait_for_reply(reap, cell)

        async def _hidden(self, cell, key, args, kw):  # noqa: ANN001
            """A hidden cell: the checks run here, in a thread, and call the learner's
            function in the kernel (`_serve`) over a socket of this cell's own."""
            import asyncio
            import socket

            path = os.path.join(job["cwd"], f".fw_check_{secrets.token_hex(8)}")
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(path)
            listener.listen(1)
            cell.source = cell.source.replace(repr(_NO_SOCKET), repr(path))
            loop = asyncio.get_running_loop()
            found = loop.create_future()
            stop, held = threading.Event(), {}

            def check() -> None:
                verdict = None
                try:
                    verdict = _check_over_rpc(
                        listener, key, int(job["entropies"][key]), stop, held
                    )
                finally:
                    loop.call_soon_threadsafe(
                        lambda: found.done() or found.set_result(verdict)
                    )

            threading.Thread(target=check, daemon=True).start()
            try:
                return await super().async_execute_cell(cell, *args, **kw)
            finally:
                # the cell ended (the kernel interrupted at the timeout, or dead): the
                # check must not wait for it any longer
                stop.set()
                if held.get("sock") is not None and not found.done():
                    with contextlib.suppress(OSError):
                        held["sock"].shutdown(socket.SHUT_RDWR)
                verdict = None
                with contextlib.suppress(asyncio.TimeoutError):
                    verdict = await asyncio.wait_for(found, 30)
                listener.close()
                with contextlib.suppress(OSError):
                    os.unlink(path)
                if verdict is not None:
                    verdicts[cell.get("id", "")] = verdict

    def timeout_of(cell: Any) -> int:
        return job["timeout"] if cell.get("id") in roles else job["cell_timeout"]

    prefix = _without_capabilities()

    class Manager(AsyncKernelManager):
        def format_kernel_cmd(self, extra_arguments=None):  # noqa: ANN001
            return prefix + super().format_kernel_cmd(extra_arguments)

    km = Manager(
        kernel_name="python3", transport="ipc", ip=str(Path(job["cwd"]) / ".kernel")
    )
    client = Client(
        nb,
        km=km,
        timeout_func=timeout_of,
        on_cell_executed=lambda cell, **_: finished.append(cell.get("id", "")),
        allow_errors=True,
        interrupt_on_timeout=True,
        resources={"metadata": {"path": job["cwd"]}},
    )
    failure = ""
    try:
        client.execute(
            cwd=job["cwd"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    except DeadKernelError as e:
        failure = f"the kernel died ({e})"
    except Exception as e:  # nbclient's own failures
        failure = f"{type(e).__name__}: {e}"
    outputs = {}
    chapter_failure = ""  # the chapter's own code failed before any answer ran
    for cell in nb.cells:
        if roles.get(cell.get("id"), "").startswith("hidden:"):
            # the verdict the worker's check returned, never what the kernel printed
            outputs[cell.id] = {"verdict": verdicts.get(cell.id), "error": _error(cell)}
        elif cell.get("id") in roles:
            text = "".join(_stdout(o) for o in cell.get("outputs", []))
            outputs[cell.id] = {"text": _kept(text), "error": _error(cell)}
    for cell in nb.cells:
        if roles.get(cell.get("id"), "").startswith("answer:"):
            break
        if cell.get("id") not in roles and cell.get("cell_type") == "code":
            why = (
                f"it ran past --cell-timeout {job['cell_timeout']} s"
                if cell.get("id") in timed_out
                else _error(cell)
            )
            if why:
                first = next(
                    (ln for ln in cell.get("source", "").splitlines() if ln.strip()), ""
                )
                chapter_failure = f"the chapter's cell `{first[:70]}`: {why}"
                break
    print(
        "\n"
        + job["nonce"]
        + json.dumps(
            {
                "outputs": outputs,
                "timed_out": timed_out,
                "finished": finished,
                "failure": failure,
                "chapter_failure": chapter_failure,
                "over_procs": limits.over_procs,
                "over_disk": limits.over_disk,
            }
        ),
        flush=True,
    )
    return 0


def _not_dumpable() -> None:
    """Makes this process (the worker) not dumpable (Linux): a process of the same
    user, the kernel, can then neither trace it nor read its memory, environment or
    open files under ``/proc`` (without CAP_SYS_PTRACE, which `_without_capabilities`
    takes from the kernel). Elsewhere nothing."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE


def _without_capabilities() -> list[str]:
    """What the kernel's command starts with where this process holds capabilities
    (under unshare it is root of its user namespace, in process mode the instructor
    may be root), which the kernel would inherit (CAP_SYS_PTRACE: it could trace the
    worker, not dumpable or not): ``setpriv`` dropping them all, for good. [] where
    there are none to drop, or no ``setpriv`` (For instructors, "What the grader
    prevents, and what it does not")."""
    exe = shutil.which("setpriv")
    try:
        status = Path("/proc/self/status").read_text()
        held = int(re.search(r"^CapEff:\s*([0-9a-f]+)", status, re.M).group(1), 16)
    except (OSError, AttributeError, ValueError):
        held = 0
    if not exe or not held:
        return []
    return [exe, "--bounding-set=-all", "--inh-caps=-all", "--ambient-caps=-all",
            "--no-new-privs"]


def _load_checks(job: dict[str, Any], roles: dict[str, str]) -> None:
    """Loads the checks before the kernel starts: the instructor's own file
    (``--checks``, which registers checkers with `exercises.exercise` and
    `exercises.hidden`), then each exercise's chapter module; in process mode, where
    the kernel could write the library's copy, also the library's modules that they
    import when they run."""
    if job.get("checks"):
        _import_checks(job["checks"])
    # each exercise's chapter checks, imported now (one missing: its checker-error)
    _unregistered(
        [r.split(":", 1)[1] for r in roles.values() if r.startswith("hidden:")]
    )
    if job.get("mode") != "process":
        return
    import importlib

    names = set()
    for mod in list(sys.modules.values()):
        if getattr(mod, "__name__", "").startswith("fenwicks_lite.checks."):
            with contextlib.suppress(OSError, TypeError, SyntaxError, ValueError):
                names |= _library_imports(Path(mod.__file__ or "").read_text())
    for name in sorted(names):
        with contextlib.suppress(Exception):  # one the checks will not need here
            importlib.import_module(name)


def _import_checks(path: str) -> None:
    """Runs the instructor's ``--checks`` file `path`, which registers its checkers
    (`exercises.exercise`, `exercises.hidden`); what it raises passes on."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("fenwicks_lite_grading_checks", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # type: ignore[union-attr]
    spec.loader.exec_module(module)  # type: ignore[union-attr]


def _unregistered(keys: list[str]) -> list[str]:
    """The `keys` that no checker is registered for, after importing the book's
    checks of each (`exercises.get`)."""
    missing = []
    for key in keys:
        try:
            E.get(key)
        except KeyError:
            missing.append(key)
    return missing


def _library_imports(text: str) -> set[str]:
    """The modules of fenwicks_lite that the Python source `text` imports, at its top
    or inside a function (``from fenwicks_lite import data, io``, ``import
    fenwicks_lite.transform``, ``from fenwicks_lite.layers import ConvBN``)."""
    found = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "fenwicks_lite":
                found |= {f"fenwicks_lite.{a.name}" for a in node.names}
            elif node.module.startswith("fenwicks_lite."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {
                a.name for a in node.names if a.name.startswith("fenwicks_lite.")
            }
    return found


#: where IPython says a cell's SyntaxError is: its cell file, a number of its own
#: ("expected ':' (1065031382.py, line 1)"); the learner knows the cell, not the file
_CELL_FILE = re.compile(r"\((?:[^(),]*/)?\d+\.py, line (\d+)\)")


def _error(cell: Any) -> str:
    """What a cell raised (``ZeroDivisionError: division by zero``), ``""`` if
    nothing; a SyntaxError's line is the cell's, without IPython's file name."""
    for o in cell.get("outputs", []):
        if o.get("output_type") == "error":
            return f"{o.get('ename')}: " + _CELL_FILE.sub(
                r"(line \1)", str(o.get("evalue"))
            )
    return ""


#: run silently in the kernel after a cell went over --max-procs: reaps its children
#: that the worker killed
_REAP = """import os as _fw_os
while True:
    try:
        if not _fw_os.waitpid(-1, _fw_os.WNOHANG)[0]:
            break
    except ChildProcessError:
        break
del _fw_os"""
#: what a refused fork or thread looks like in a cell (RLIMIT_NPROC has no counter)
_NO_PROCESS = ("[Errno 11] Resource temporarily unavailable", "can't start new thread")
#: what a refused write looks like: a file over RLIMIT_FSIZE, a full tmpfs
_NO_SPACE = ("[Errno 27] File too large", "[Errno 28] No space left on device")


class _Limits:
    """The worker's caps on the data segment (``memory_gb``), the processes and threads
    (``max_procs``) and the bytes written (``disk_bytes``), set before the kernel
    starts, and which cells went over the last two.

    Processes: a pids cgroup where the grader could make one (``cgroup``; its ``max``
    event counts every refused fork), else RLIMIT_NPROC where it counts only the
    sandbox's tasks: in a user namespace whose root is not the host's root (the kernel
    counts RLIMIT_NPROC per user namespace and uid, and never refuses the host's root).
    A cell that went over gets its leftover processes killed, so that the next cells
    can start theirs. Disk: RLIMIT_FSIZE caps each file; under unshare and docker the
    kernel's folder is a tmpfs of that size, which caps the total. A cell that went
    over gets the files it created removed."""

    def __init__(self, job: dict[str, Any]) -> None:
        import resource

        self.over_procs: list[str] = []
        self.over_disk: list[str] = []
        self.run = Path(job["cwd"])
        self.disk = int(job.get("disk_bytes") or 0)
        self.events = Path(job["cgroup"]) / "pids.events" if job.get("cgroup") else None
        self.procs = Path(job["cgroup"]) / "cgroup.procs" if job.get("cgroup") else None
        if job.get("memory_gb"):
            # the data segment (heap and private mappings, what an array or a list
            # takes), not the address space, which TensorFlow's and XLA's reservations
            # would fill
            cap = int(job["memory_gb"] * 2**30)
            resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))
        if self.disk:
            resource.setrlimit(resource.RLIMIT_FSIZE, (self.disk, self.disk))
        self.nproc = bool(job.get("max_procs")) and _userns_not_root()
        if self.nproc:
            n = int(job["max_procs"])
            resource.setrlimit(resource.RLIMIT_NPROC, (n, n))

    def _refused(self) -> int:
        try:
            for ln in self.events.read_text().splitlines():  # type: ignore[union-attr]
                name, _, n = ln.partition(" ")
                if name == "max":
                    return int(n)
        except (AttributeError, OSError, ValueError):
            pass
        return 0

    def _files(self) -> dict[Path, int]:
        """Every file and folder under the kernel's folder, with its size."""
        found = {}
        for root, dirs, files in os.walk(self.run):
            for f in [*dirs, *files]:
                try:
                    found[Path(root) / f] = (Path(root) / f).lstat().st_size
                except OSError:
                    pass
        return found

    def _used(self) -> int:
        if os.path.ismount(self.run):  # a tmpfs of its own: all of it is the kernel's
            st = os.statvfs(self.run)
            return (st.f_blocks - st.f_bfree) * st.f_frsize
        return sum(self._files().values())

    def before(self) -> tuple[int, dict[Path, int]]:
        return self._refused(), self._files() if self.disk else {}

    def _undo_writes(self, before: dict[Path, int]) -> None:
        """Removes the files a cell made and cuts those it grew back to their size:
        truncated first, so that a file the kernel still holds open frees its space."""
        for f, size in sorted(self._files().items(), reverse=True):  # files first
            old = before.get(f)
            try:
                if f.is_file() and not f.is_symlink() and (old is None or size > old):
                    os.truncate(f, old or 0)
                if old is None and f.is_dir() and not f.is_symlink():
                    f.rmdir()
                elif old is None:
                    f.unlink()
            except OSError:
                pass

    def after(self, cell: Any, before: tuple[int, dict[Path, int]], km: Any) -> bool:
        """Notes whether `cell` went over a cap and clears up after it; True if it
        started too many processes."""
        error = _error(cell)
        procs = self._refused() > before[0] or (
            self.nproc and any(s in error for s in _NO_PROCESS)
        )
        if procs:
            self.over_procs.append(cell.get("id", ""))
            self._stop_strays(km)
        if self.disk and (
            self._used() >= self.disk - 2**20 or any(s in error for s in _NO_SPACE)
        ):
            self.over_disk.append(cell.get("id", ""))
            self._undo_writes(before[1])
        return bool(procs)

    def _stop_strays(self, km: Any) -> None:
        """Kills every process of the sandbox but this one and the kernel: what the
        cell left running."""
        keep = {os.getpid()}
        kernel = getattr(getattr(km, "provisioner", None), "process", None)
        if kernel is not None:
            keep.add(kernel.pid)
        procs = self.procs
        if procs is not None:

            def listed() -> set[int]:
                return _cgroup_pids(procs)

        elif os.getpid() == 1:  # the PID namespace's init: all of it is ours

            def listed() -> set[int]:
                return {int(p) for p in os.listdir("/proc") if p.isdigit()}

        else:
            return
        _kill_until_none(lambda: listed() - keep, 200, 0.01, reap=True)


def _cgroup_pids(procs: Path) -> set[int]:
    """The processes a cgroup's ``cgroup.procs`` file lists (none if it is gone)."""
    try:
        return {int(p) for p in procs.read_text().split()}
    except (OSError, ValueError):
        return set()


def _kill_until_none(
    pids_now: Callable[[], set[int]], tries: int, pause: float, reap: bool = False
) -> None:
    """SIGKILLs what `pids_now()` lists, again until it lists nothing (a fork bomb
    keeps forking into each freed slot), at most `tries` rounds `pause` s apart;
    `reap`: also collect those that are this process's children (orphans come to
    init)."""
    import signal

    for _ in range(tries):
        pids = pids_now()
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        if reap:
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.waitpid(pid, os.WNOHANG)
        time.sleep(pause)


def _userns_not_root() -> bool:
    """Whether this process is in a user namespace whose uid 0 is not the host's root:
    only there does RLIMIT_NPROC count the sandbox's tasks alone."""
    try:
        first = Path("/proc/self/uid_map").read_text().split()
        return first[2] != "4294967295" and first[1] != "0"
    except (OSError, IndexError):
        return False


#: how much of a cell's printed text the worker hands to the grader (its end)
KEPT_CHARS = 100_000


def _kept(text: str) -> str:
    """The end of `text`: an answer that prints gigabytes does not reach the grader's
    memory."""
    return text if len(text) <= KEPT_CHARS else "[...]\n" + text[-KEPT_CHARS:]


def _stdout(output: Any) -> str:
    if output.get("output_type") == "stream" and output.get("name") == "stdout":
        text = output.get("text", "")
        return "".join(text) if isinstance(text, list) else text
    return ""


# --------------------------------------------------------------------------- the RPC
# The checks run in the worker; only the learner's function runs in the kernel. For
# each hidden cell the worker listens on a Unix socket in the kernel's folder, runs the
# checker in a thread and has the kernel run `_serve`, which connects and calls the
# learner's function for each CALL. Messages are JSON (8 bytes of length first), values
# tagged (`_encode`): numbers, strings, NumPy arrays (``np.save``, no pickle), and
# lists, tuples, dicts and sets of them. What the checker passes that is a function or
# an iterator (a `predict`, batches) stays in the worker: the kernel gets a stub that
# asks for each call or item over the same connection.

#: the largest message the worker reads from a kernel (bytes)
RPC_MAX_BYTES = 256 * 2**20
#: the most items of an iterator that a learner's function returns that are listed
RPC_MAX_ITEMS = 1_000_000
#: the replies of a request (the rest of the messages are requests)
_REPLIES = {"result", "raised", "return", "item", "stop"}


class _Gone(BaseException):
    """The other end of the connection closed: the kernel was interrupted (a timeout)
    or died, or the worker gave up. A BaseException: no checker's ``except`` takes it.
    """


class _Refused(Exception):
    """A message from the kernel that the worker does not take (too big, garbled)."""


def _encode(v: Any, handle: Callable[[Any], Any] | None = None,
            kernel: bool = False, depth: int = 0) -> Any:
    """`v` as JSON with tags (``{"~": tag, "v": ...}``). `handle` (the worker's): a
    function or an iterator becomes a handle. `kernel` (a result of the learner's):
    what has ``__array__`` (a tensor) becomes an array, an iterator a list."""
    import base64
    import io
    from collections.abc import Iterator
    from pathlib import PurePath

    import numpy as np

    def tag(t: str, x: Any) -> dict[str, Any]:
        return {"~": t, "v": x}

    def again(x: Any) -> Any:
        return _encode(x, handle, kernel, depth + 1)

    if depth > 64:
        raise TypeError("the value is nested more than 64 levels deep")
    if v is None or type(v) in (bool, str):
        return v
    if kernel and not isinstance(v, np.ndarray | np.generic) and hasattr(
        v, "__array__"
    ):
        v = np.asarray(v)
    if isinstance(v, np.ndarray | np.generic):
        a = np.asarray(v)
        if a.dtype.hasobject:
            raise TypeError("a NumPy array of Python objects: use numbers")
        buf = io.BytesIO()
        np.save(buf, a, allow_pickle=False)
        return tag("a" if isinstance(v, np.ndarray) else "n",
                   base64.b64encode(buf.getvalue()).decode())
    if isinstance(v, bool):
        return bool(v)
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return float(v)
    if isinstance(v, complex):
        return tag("c", [v.real, v.imag])
    if isinstance(v, str):
        return str(v)
    if isinstance(v, bytes | bytearray):
        return tag("b", base64.b64encode(bytes(v)).decode())
    if isinstance(v, PurePath):
        return tag("p", str(v))
    if isinstance(v, list):
        return [again(x) for x in v]
    if isinstance(v, tuple):
        return tag("t", [again(x) for x in v])
    if isinstance(v, dict):
        return tag("d", [[again(k), again(x)] for k, x in v.items()])
    if isinstance(v, set | frozenset):
        return tag("s" if isinstance(v, set) else "f", [again(x) for x in v])
    if isinstance(v, range):
        return tag("t", [int(x) for x in v])
    if handle is not None and (callable(v) or isinstance(v, Iterator)):
        return tag("i" if isinstance(v, Iterator) else "h", handle(v))
    if kernel and isinstance(v, Iterator):
        items = list(__import__("itertools").islice(v, RPC_MAX_ITEMS + 1))
        if len(items) > RPC_MAX_ITEMS:
            raise TypeError(f"an iterator of more than {RPC_MAX_ITEMS} items")
        return again(items)
    raise TypeError(
        f"a value of type {type(v).__name__} cannot be handed to the checks (they run "
        "in another process): return numbers, strings, NumPy arrays, or lists, "
        "tuples and dicts of them"
    )


def _decode(v: Any, stub: Callable[[str, int], Any] | None = None) -> Any:
    """What `_encode` made; `stub(kind, id)` (the kernel's) makes a handle's stub, and
    a handle is refused without it (the worker never takes one). Never unpickles."""
    import base64
    import io
    from pathlib import Path as _Path

    import numpy as np

    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, list):
        return [_decode(x, stub) for x in v]
    if not isinstance(v, dict) or set(v) != {"~", "v"}:
        raise ValueError(f"not an encoded value: {str(v)[:80]}")
    t, x = v["~"], v["v"]
    if t in ("a", "n"):
        a = np.load(io.BytesIO(base64.b64decode(x)), allow_pickle=False)
        return a if t == "a" else a[()]
    if t == "c":
        return complex(float(x[0]), float(x[1]))
    if t == "b":
        return base64.b64decode(x)
    if t == "p":
        return _Path(str(x))
    if t == "t":
        return tuple(_decode(y, stub) for y in x)
    if t == "d":
        return {_decode(k, stub): _decode(y, stub) for k, y in x}
    if t in ("s", "f"):
        items = (_decode(y, stub) for y in x)
        return set(items) if t == "s" else frozenset(items)
    if t in ("h", "i") and stub is not None:
        return stub(t, int(x))
    raise ValueError(f"not an encoded value: tag {t!r}")


class _Conn:
    """One end of the RPC: length-prefixed JSON messages on a socket. `request` sends
    one and answers the other end's requests until its reply comes (a callback of
    the checker's, called while the learner's function runs)."""

    def __init__(self, sock: Any, limit: int = 0) -> None:
        self.sock, self.limit = sock, limit

    def send(self, msg: dict[str, Any]) -> None:
        data = json.dumps(msg).encode()
        try:
            self.sock.sendall(len(data).to_bytes(8, "big") + data)
        except OSError as e:
            raise _Gone(str(e)) from None

    def _exactly(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            try:
                chunk = self.sock.recv(min(n - len(buf), 2**20))
            except OSError as e:
                raise _Gone(str(e)) from None
            if not chunk:
                raise _Gone("the connection closed")
            buf += chunk
        return bytes(buf)

    def recv(self) -> dict[str, Any]:
        n = int.from_bytes(self._exactly(8), "big")
        if self.limit and n > self.limit:
            raise _Refused(f"a message of {n:,} bytes (at most {self.limit:,})")
        try:
            msg = json.loads(self._exactly(n))
        except (ValueError, RecursionError) as e:
            raise _Refused(f"a garbled message ({type(e).__name__})") from None
        if not isinstance(msg, dict) or not isinstance(msg.get("op"), str):
            raise _Refused("a message without an op")
        return msg

    def request(self, msg: dict[str, Any]) -> dict[str, Any]:
        self.send(msg)
        while True:
            reply = self.recv()
            if reply["op"] in _REPLIES:
                return reply
            self.answer(reply)

    def answer(self, msg: dict[str, Any]) -> None:  # each side its own
        raise _Refused(f"an unexpected {msg['op']!r}")


def _raised(e: BaseException) -> dict[str, Any]:
    """An exception of the learner's as a RAISED message (the kernel's side)."""
    try:
        args = _encode(list(e.args))
    except Exception:
        args = None
    try:
        said = str(e)
    except Exception:
        said = "(its message could not be shown)"
    return {
        "op": "raised",
        "type": type(e).__name__,
        "builtin": type(e).__module__ == "builtins",
        "args": args,
        "message": said[:4000],
        "line": E._raised_by_learner(e),
        "import_name": getattr(e, "name", None) if isinstance(e, ImportError) else None,
        "tensorflow": E._missing_tensorflow(e),
    }


def _learner_exception(m: dict[str, Any]) -> Exception:
    """The worker's copy of what the learner's function raised in the kernel: a
    built-in type as itself (``except ValueError`` in a checker, NotImplementedError
    for not attempted, an ImportError's name), any other as `exercises.LearnerError`;
    both carry the line in the learner's cell (`exercises.KERNEL_LINE`). Never a
    `CheckFailed`: one the learner raised is not the checker's verdict."""
    import builtins

    name, said = str(m.get("type", "Exception"))[:100], str(m.get("message", ""))
    line = m.get("line") if type(m.get("line")) is int else None
    cls = getattr(builtins, name, None) if m.get("builtin") is True else None
    e: Exception | None = None
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            args = _decode(m["args"]) if isinstance(m.get("args"), list) else [said]
            if issubclass(cls, ImportError):
                imported = m.get("import_name")
                e = cls(*args, name=imported if isinstance(imported, str) else None)
            else:
                e = cls(*args)
        except Exception:
            e = None
    if e is None:
        e = E.LearnerError(name, said[:4000], line)
    setattr(e, E.KERNEL_LINE, line)
    if m.get("tensorflow") is True and not E._missing_tensorflow(e):
        e.__cause__ = ImportError("No module named 'tensorflow'", name="tensorflow")
    return e


class _WorkerConn(_Conn):
    """The worker's end: the checker's functions and iterators handed to the learner's
    function stay here, by number; the kernel asks for their calls and items."""

    def __init__(self, sock: Any) -> None:
        super().__init__(sock, RPC_MAX_BYTES)
        self.handles: list[Any] = []

    def handle(self, v: Any) -> int:
        self.handles.append(v)
        return len(self.handles) - 1

    def answer(self, msg: dict[str, Any]) -> None:
        op, i = msg["op"], msg.get("id")
        if op not in ("callback", "next") or type(i) is not int or not (
            0 <= i < len(self.handles)
        ):
            raise _Refused(f"an unexpected request {op!r}")
        target = self.handles[i]
        try:
            if op == "next":
                try:
                    item = next(target)
                except StopIteration:
                    self.send({"op": "stop"})
                    return
                self.send({"op": "item", "value": _encode(item, self.handle)})
                return
            args = _decode(msg.get("args"))
            kwargs = _decode(msg.get("kwargs"))
            out = target(*args, **kwargs)
            self.send({"op": "return", "value": _encode(out, self.handle)})
        except (_Gone, _Refused):
            raise
        except Exception as e:
            self.send(_raised(e) | {"line": None})


class _Learner:
    """The learner's function as the checker sees it, in the worker: each call runs
    it in the kernel (a CALL) and returns its result or raises its exception (as
    `_learner_exception` makes it). Arrays it was given come back after the call and
    are copied into the checker's (an answer that changes its input in place still
    fails "leave the input unchanged"). ``traced`` also returns the peak of memory
    that tracemalloc saw in the kernel while it ran (Chapter 2's streaming check)."""

    def __init__(self, conn: _WorkerConn) -> None:
        self.conn = conn

    def __call__(self, *args: Any, **kw: Any) -> Any:
        return self._call(args, kw, False)[0]

    def traced(self, *args: Any, **kw: Any) -> tuple[Any, int]:
        return self._call(args, kw, True)

    def _call(self, args: tuple, kw: dict[str, Any], trace: bool) -> tuple[Any, int]:
        import numpy as np

        try:
            msg = {"op": "call", "args": _encode(list(args), self.conn.handle),
                   "kwargs": _encode(kw, self.conn.handle), "trace": trace}
        except TypeError as e:  # the checker passes what cannot be handed over
            raise AssertionError(f"the grader cannot pass this on: {e}") from None
        raised: Exception | None = None
        try:
            reply = self.conn.request(msg)
            if reply["op"] == "raised":
                raised = _learner_exception(reply)
                return None, 0
            if reply["op"] != "result":
                raise _Refused(f"an unexpected reply {reply['op']!r}")
            out = _decode(reply.get("value"))
            peak = reply.get("peak") if trace else 0
            if type(peak) is not int:
                raise _Refused("no peak of memory")
            back = _decode(reply.get("back"))
            given = dict(enumerate(args)) | kw
            for k, now in (back.items() if isinstance(back, dict) else []):
                old = given.get(k)
                if isinstance(old, np.ndarray) and isinstance(now, np.ndarray):
                    with contextlib.suppress(ValueError, TypeError):
                        np.copyto(old, now.reshape(old.shape), casting="unsafe")
        except _Refused as e:
            raise E.LearnerError(
                "ValueError", f"the grader could not read its result: {e}"
            ) from None
        except Exception as e:  # a garbled reply: not a value `_encode` makes
            raise E.LearnerError(
                "ValueError",
                f"the grader could not read its result ({type(e).__name__}: {e})",
            ) from None
        finally:
            if raised is not None:
                raise raised  # noqa: B012 - the learner's exception, not a return
        return out, peak


class _KernelConn(_Conn):
    """The kernel's end (`_serve`): runs the learner's function for each CALL."""

    def __init__(self, sock: Any, fn: Any) -> None:
        super().__init__(sock)
        self.fn = fn
        self.peak = 0  # the traced peak before the last item was asked for

    def _asked(self, msg: dict[str, Any]) -> Any:
        """The value a request of the learner's side brings. Under tracemalloc the
        peak before it is kept and the peak restarts after it: what the RPC takes
        meanwhile is not the learner's function's (the item it brings is, and stays
        counted while held)."""
        import tracemalloc

        tracing = tracemalloc.is_tracing()
        if tracing:
            self.peak = max(self.peak, tracemalloc.get_traced_memory()[1])
        reply = self.request(msg)
        if reply["op"] == "raised":
            raise RuntimeError(f"{reply.get('type')}: {reply.get('message')}")
        value = (StopIteration if reply["op"] == "stop"
                 else _decode(reply.get("value"), self.stub))
        if tracing:
            del reply
            tracemalloc.reset_peak()
        return value

    def stub(self, kind: str, i: int) -> Any:
        conn = self

        if kind == "i":

            class _Batches:
                """The checker's iterator: each item is asked for."""

                def __iter__(self) -> Any:
                    return self

                def __next__(self) -> Any:
                    item = conn._asked({"op": "next", "id": i})
                    if item is StopIteration:
                        raise StopIteration
                    return item

            return _Batches()

        def function(*args: Any, **kw: Any) -> Any:
            """A function of the checker's (``predict``): each call is asked for."""
            return conn._asked({"op": "callback", "id": i,
                                "args": _encode(list(args)), "kwargs": _encode(kw)})

        return function

    def answer(self, msg: dict[str, Any]) -> None:
        import numpy as np

        if msg["op"] != "call":
            raise _Refused(f"an unexpected request {msg['op']!r}")
        trace = msg.get("trace") is True
        peak = 0
        try:
            args = _decode(msg["args"], self.stub)
            kwargs = _decode(msg["kwargs"], self.stub)
            if trace:
                import tracemalloc

                tracemalloc.start()
                self.peak = 0
            try:
                out = self.fn(*args, **kwargs)
                if trace:
                    peak = max(self.peak, tracemalloc.get_traced_memory()[1])
            finally:
                if trace:
                    tracemalloc.stop()
            value = _encode(out, kernel=True)
            given = dict(enumerate(args)) | kwargs
            back = _encode({k: a for k, a in given.items()
                            if isinstance(a, np.ndarray)})
        except (_Gone, _Refused):
            raise
        except Exception as e:
            self.send(_raised(e))
            return
        self.send({"op": "result", "value": value, "back": back, "peak": peak})


def _serve(fn: Any, path: str) -> None:
    """The hidden cell (runs in the kernel): connects to the worker's socket at
    `path`, says whether the learner's function is defined, and runs it for each CALL
    until DONE. Nothing of the checks, the cases' numbers or the verdict is here."""
    import socket

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with sock:
        sock.connect(path)
        _serve_on(sock, fn)


def _serve_on(sock: Any, fn: Any) -> None:
    """`_serve` on a connected socket."""
    conn = _KernelConn(sock, fn)
    try:
        conn.send({"op": "hello", "defined": fn is not None})
        while True:
            msg = conn.recv()
            if msg["op"] == "done":
                return
            conn.answer(msg)
    except (_Gone, _Refused):
        return  # the worker ended the check: it reports


def _check_over_rpc(
    listener: Any, key: str, entropy: int, stop: threading.Event,
    held: dict[str, Any],
) -> dict[str, Any] | None:
    """The worker's side of one hidden cell (in a thread): takes the kernel's one
    connection, runs `exercises.run_hidden` on the learner's function through it and
    returns the verdict; None if the kernel went away first (interrupted at the
    timeout, dead) or never came."""
    listener.settimeout(0.2)
    while True:
        if stop.is_set():
            return None
        try:
            sock, _ = listener.accept()
            break
        except TimeoutError:
            continue
        except OSError:
            return None
    listener.close()  # one connection: nobody else comes in
    sock.settimeout(None)
    held["sock"] = sock
    conn = _WorkerConn(sock)
    try:
        with sock:
            hello = conn.recv()
            fn = _Learner(conn) if hello.get("defined") is True else None
            try:
                r = E.run_hidden(key, fn, entropy=entropy)
                out = {"key": key, "passed": r.passed, "status": r.status,
                       "message": r.message}
            except Exception as e:  # an unknown key, a broken checks module
                out = {
                    "key": key,
                    "passed": False,
                    "status": "checker-error",
                    "message": f"the check could not run ({type(e).__name__}: {e})",
                }
            with contextlib.suppress(_Gone):
                conn.send({"op": "done"})
            return out
    except (_Gone, _Refused):
        return None


# --------------------------------------------------------------------------- isolation


def unshare_works() -> bool:
    """Whether unprivileged user, mount, PID and network namespaces work here: the
    ``isolation: unshare`` of For instructors, "Grading" (3)."""
    if not hasattr(unshare_works, "_ok"):
        try:
            ok = (
                subprocess.run(
                    ["unshare", "-rmnp", "--fork", "--mount-proc", "true"],
                    capture_output=True,
                    timeout=30,
                ).returncode
                == 0
            )
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        unshare_works._ok = ok  # type: ignore[attr-defined]
    return unshare_works._ok  # type: ignore[attr-defined]


def _inside(path: Path, parent: Path) -> bool:
    try:
        path.resolve().relative_to(parent.resolve())
        return True
    except ValueError:
        return False


def sandbox_command(
    work: Path,
    hide: list[Path],
    keep: list[Path],
    mode: str,
    image: str = "",
    memory_gb: float = 0,
    max_procs: int = 0,
    disk_gb: float = 0,
    env: dict[str, str] | None = None,
) -> list[str]:
    """The command that runs `_worker` for the job in `work` (mode: unshare, docker or
    process).

    unshare: new user, mount, PID and network namespaces; a tmpfs over each folder of
    `hide` that holds none of `keep` (the work folder, Python, the data); a tmpfs over
    the work folder's parent with only the work folder bound back into it (the other
    submissions' work folders out of sight), a tmpfs of `disk_gb` over its ``run``
    folder (the kernel's folder, home and TMPDIR: what the kernel writes, all of it
    capped) and a private ``/dev/shm``; then every mount read-only but those two (the
    gradebook, the library's sources, the data, the instructor's files: nothing
    outside them can be changed, and nothing lands on a real disk). docker: the same
    with ``--pids-limit`` `max_procs`, the work folder read-only and tmpfs mounts of
    `disk_gb` over its ``run`` folder and ``/tmp``, and `env` (the kernel's; by default
    `_clean_env`'s: a container starts with none of the grader's) but its ``PATH``, the
    image's own; the data it names (``CIFAR10_DIR``) is mounted read-only at the same
    path.

    For instructors, "Grading" (3, each submission is isolated).
    """
    py = [str(_python()), "-m", "fenwicks_lite.grading", "_worker"]
    size = f"size={max(1, int(disk_gb * 2**20))}k" if disk_gb else ""
    if mode == "docker":
        kernel = env if env is not None else _clean_env(work)
        inside = {k: v for k, v in kernel.items() if k != "PATH"}
        cifar = inside.get("CIFAR10_DIR", "")
        return [
            "docker",
            "run",
            "--rm",
            "-i",
            "--network",
            "none",
            "--read-only",
            "--tmpfs",
            "/tmp" + (":" + size if size else ""),
            "--pids-limit",
            str(max_procs or MAX_PROCS),
            *(["--memory", f"{int(memory_gb * 1024)}m"] if memory_gb else []),
            "-v",
            f"{work}:{work}:ro",
            "--tmpfs",
            f"{work / 'run'}:" + ",".join(x for x in ("rw", "exec", size) if x),
            *(["-v", f"{cifar}:{cifar}:ro"] if cifar else []),
            "-w",
            str(work / "run"),
            *[x for k, v in sorted(inside.items()) for x in ("-e", f"{k}={v}")],
            image,
            "python",
            "-m",
            "fenwicks_lite.grading",
            "_worker",
        ]
    if mode != "unshare":
        return py
    lines = ["set -e"]
    # `|| [ ! -e ... ]`: a path gone since it was listed (a file the instructor's
    # editor or another program removed meanwhile) has nothing left to hide; any other
    # failed mount stops the sandbox
    for h in _hideable(hide, keep):
        cover = "-t tmpfs -o size=1m,ro fwhide" if h.is_dir() else "--bind /dev/null"
        lines.append(f"mount {cover} {_sh(h)} || [ ! -e {_sh(h)} ]")
    w = work.resolve()
    # the work folder and what else is kept there (Python or the data in /tmp, say)
    # stay reachable through open fds under the tmpfs that covers the work folder's
    # parent, and are bound back; --no-canonicalize: else mount resolves the fd to the
    # covered path
    back = [w] + sorted(
        {
            k.resolve()
            for k in keep
            if k.exists() and _inside(k, w.parent) and not _inside(k, w)
        }
    )
    back = [b for b in back if not any(o != b and _inside(b, o) for o in back)][:7]
    lines += [f"exec {3 + i}<{_sh(b)}" for i, b in enumerate(back)]
    lines.append(f"mount -t tmpfs -o size=1m fwtmp {_sh(w.parent)}")
    for i, b in enumerate(back):
        lines += [
            f"mkdir -p {_sh(b)}"
            if b.is_dir()
            else f"mkdir -p {_sh(b.parent)} && : > {_sh(b)}",
            f"mount --no-canonicalize --bind /proc/self/fd/{3 + i} {_sh(b)}",
            f"exec {3 + i}<&-",
        ]
    run = w / "run"
    lines += [
        f"mount -t tmpfs -o {size or 'size=50%'},mode=700 fwrun {_sh(run)}",
        f"mkdir {_sh(run / 'tmp')}",
        "mount -t tmpfs -o size=64m fwshm /dev/shm || true",
        "awk '{print $5}' /proc/self/mountinfo | while read -r m; do",
        f'  case "$m" in {_sh(run)}|/dev/shm) ;; '
        '*) mount -o remount,bind,ro "$m" 2>/dev/null || true ;; esac',
        "done",
        # the old cwd is the covered folder: `..` from it would lead out
        f"cd {_sh(run)}",
        "exec " + " ".join(_sh(Path(a)) if i == 0 else a for i, a in enumerate(py)),
    ]
    return [
        "unshare",
        "-rmnp",
        "--fork",
        "--mount-proc",
        "--kill-child",
        "sh",
        "-c",
        "\n".join(lines),
    ]


#: the default of --max-procs (processes and threads of one submission, the worker's
#: and the kernel's included: TensorFlow and XLA start some per core)
MAX_PROCS = 1024
#: the default of --disk (GB).
DISK_GB = 1.0
#: the default of --memory (GB of data segment for each process of a submission)
MEMORY_GB = 8.0
#: the `Assignment` fields that cap a submission: written into assignment.json and the
#: autograder's config, read back by `run_gradescope`
LIMITS = ("memory_gb", "max_procs", "disk_gb")


def _cgroup_parent() -> Path | None:
    """Where the grader can make a pids cgroup for each submission: the cgroup v1
    ``pids`` hierarchy, or the v2 root with the pids controller, if writable (root,
    or a container that lets it); else None (the worker falls back on
    RLIMIT_NPROC)."""
    if not hasattr(_cgroup_parent, "_dir"):
        found = None
        base = Path("/sys/fs/cgroup")
        v2 = base / "cgroup.subtree_control"
        for d in (base / "pids", base if v2.exists() else None):
            if d is None or not (d / "cgroup.procs").exists():
                continue
            if d == base and "pids" not in v2.read_text().split():
                continue
            probe = d / f"fw_grade_probe_{os.getpid()}_{secrets.token_hex(4)}"
            try:
                probe.mkdir()
            except OSError:
                continue
            ok = (probe / "pids.max").exists()
            probe.rmdir()
            if ok:
                found = d
                break
        _cgroup_parent._dir = found  # type: ignore[attr-defined]
    return _cgroup_parent._dir  # type: ignore[attr-defined]


def process_cap(mode: str) -> str:
    """How the submissions' processes are capped in `mode`: ``cgroup``, ``rlimit``
    (in a user namespace, for an instructor who is not root), ``docker``, or ``""``
    (not at all: process mode without a writable cgroup).

    For instructors, "How the processes and the disk are capped" explains each.
    """
    if mode == "docker":
        return "docker"
    if _cgroup_parent() is not None:
        return "cgroup"
    return "rlimit" if mode == "unshare" and os.geteuid() != 0 else ""


class _PidsCgroup:
    """A pids cgroup of `max_procs` tasks for one submission (`_cgroup_parent`), its
    leftover processes killed and the group removed at the end; ``path`` is None where
    none can be made."""

    def __init__(self, max_procs: int) -> None:
        parent = _cgroup_parent() if max_procs else None
        self.path: Path | None = None
        if parent is not None:
            path = parent / f"fw_grade_{secrets.token_hex(8)}"
            try:
                path.mkdir()
                (path / "pids.max").write_text(str(int(max_procs)))
                self.path = path
            except OSError:
                self._remove(path)

    def wrap(self, cmd: list[str]) -> list[str]:
        """`cmd`, entering the group first (so every process it starts is in it)."""
        if self.path is None:
            return cmd
        enter = 'echo $$ > "$0/cgroup.procs" && exec "$@"'
        return ["sh", "-c", enter, str(self.path), *cmd]

    def __enter__(self) -> _PidsCgroup:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.path is not None:
            self._remove(self.path)

    @staticmethod
    def _remove(path: Path) -> None:
        # what the submission left running (process mode), then the group
        _kill_until_none(lambda: _cgroup_pids(path / "cgroup.procs"), 100, 0.05)
        with contextlib.suppress(OSError):
            path.rmdir()


def _hideable(hide: list[Path], keep: list[Path], depth: int = 3) -> list[Path]:
    """What to cover: each path of `hide`, or where it holds something of `keep` (Python
    in the home folder, say), its entries that hold none, `depth` levels down. A path
    inside another that is covered is left out: once its parent is covered it no longer
    exists to mount over (submissions in a folder inside the reference's, say)."""
    found = _hideable_all(hide, keep, depth)
    return [p for p in found if not any(q != p and _inside(p, q) for q in found)]


def _hideable_all(hide: list[Path], keep: list[Path], depth: int) -> list[Path]:
    out: list[Path] = []
    for h in sorted({p.resolve() for p in hide if p.exists() or p.is_symlink()}):
        if h == Path("/") or h.is_symlink() or not (h.is_dir() or h.is_file()):
            continue
        if not any(_inside(k, h) for k in keep):
            out.append(h)
        elif depth > 0 and h.is_dir():
            try:
                entries = list(h.iterdir())
            except OSError:
                continue
            out += _hideable_all(entries, keep, depth - 1)
    return sorted(set(out))


def _sh(p: Path) -> str:
    import shlex

    return shlex.quote(str(p))


def _python() -> Path:
    """This interpreter with its folder resolved, not its own link: a virtual
    environment reached through a symlinked folder (``/tmp/x/.venv -> ...``) stays
    one (Python finds ``pyvenv.cfg`` beside the path it was started by), and the
    sandbox, which covers the work folder's parent (``/tmp``), does not hide it."""
    exe = Path(sys.executable)
    return exe.parent.resolve() / exe.name


def _kept_in_sight(env: dict[str, str]) -> list[Path]:
    """What the sandbox leaves in sight besides the work folder: this Python (its
    environment, its base installation, its executable) and the data `env` hands the
    kernel (``CIFAR10_DIR``)."""
    kept = [Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve(),
            _python()]
    return kept + ([Path(env["CIFAR10_DIR"])] if "CIFAR10_DIR" in env else [])


def _clean_env(work: Path) -> dict[str, str]:
    """Nothing of the instructor's environment but what the kernel needs: no tokens, no
    keys."""
    from fenwicks_lite import data

    run = work / "run"
    env = {
        "PATH": f"{_python().parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(run),
        "TMPDIR": str(run / "tmp"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(work / "lib"),
        "PYTHONNOUSERSITE": "1",
        "FENWICKS_LITE_PROFILE": "quick",
        "CUDA_VISIBLE_DEVICES": "",
        "JAX_PLATFORMS": "cpu",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "MPLBACKEND": "Agg",
    }
    if os.environ.get("KERAS_BACKEND"):
        env["KERAS_BACKEND"] = os.environ["KERAS_BACKEND"]
    cifar = _kernel_data()
    if cifar:
        env[data.ENV_VAR] = str(cifar)
    return env


def _kernel_data() -> Path | None:
    """The CIFAR-10 the graded kernels read, as their ``CIFAR10_DIR``: the copy the
    grader's own quick profile would read (`fw.data.load_profile_data`'s order: the
    grader's ``$CIFAR10_DIR``, else the sample beside a checkout of the book, else the
    grader's Keras cache); None if there is none. A kernel has its own home (so no Keras
    cache of its own) and, isolated, no network, so it cannot look further itself;
    `grade_batch` stops before the first submission without one.

    For instructors, "Grading".
    """
    from fenwicks_lite import data

    found = data._local_copy(quick=True)  # the kernels run the quick profile
    return found[0].resolve() if found else None


def _reads_cifar10(nb: Any) -> bool:
    """Whether notebook `nb` loads CIFAR-10: a code cell calls ``fw.book.start`` (every
    chapter's first cell) or a loader of `fw.data`."""
    calls = re.compile(r"\bbook\.start\(|\b(?:load_cifar10|load_profile_data)\(")
    return any(
        c.cell_type == "code" and calls.search(c.source) for c in nb.cells
    )


def _no_kernel_data_message() -> str:
    """What `grade_batch` says when `_kernel_data` finds no CIFAR-10: the library's
    own message (`fw.data.not_found_message`), for the kernels."""
    from fenwicks_lite import data

    return (
        "no CIFAR-10 for the graded notebooks: each chapter's first cell "
        "(fw.book.start) reads it. "
        + data.not_found_message(
            "the kernels that run the submissions cannot download it (they have no "
            "network and a home of their own)",
            kernels=True,
        )
        + " Or let your own Keras cache download it once: python -c \"from "
        "fenwicks_lite import data; data.load_cifar10()\". Then grade again."
    )


# --------------------------------------------------------------------------- grading on


@dataclasses.dataclass
class Graded:
    """One exercise's grade in a submission: its columns of ``gradebook.csv`` and its
    part of the feedback file (For instructors, "Grading")."""

    key: str
    status: str
    message: str
    points: float
    max_points: float
    how: str = ""  # how the answer cell was found
    printed: str = (
        ""  # what the answer cell printed when it ran (its end, for the feedback)
    )
    label: str = ""  # "Exercise 4.2: <title>", as the student's notebook names it
    #: status "held": the points it passed its checks for, which it scores once the
    #: instructor clears it (`hold_flagged`)
    held: float = 0.0
    #: what `suspicious` found in its answer, or in the earlier answer that holds it
    flags: list[str] = dataclasses.field(default_factory=list)

    @property
    def name(self) -> str:
        """``Exercise 4.2: <title> (ch04.expected_erased)``, or the key alone."""
        return f"{self.label} ({self.key})" if self.label else self.key


@dataclasses.dataclass
class Grade:
    """One submission's grade: a row of ``gradebook.csv`` and a feedback file
    (For instructors, "Grading")."""

    student: str
    notebook: str
    exercises: list[Graded]
    error: str = ""
    flags: list[str] = dataclasses.field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(e.points for e in self.exercises)

    @property
    def total(self) -> float:
        return sum(e.max_points for e in self.exercises)

    @property
    def held(self) -> float:
        """The points held for the instructor to read (status "held")."""
        return sum(e.held for e in self.exercises)

    def held_line(self) -> str:
        """``"ch04.hole_area 1/1, ch04.cutout_fill 2/2 if cleared"``, or ``""``."""
        held = [e for e in self.exercises if e.status == "held"]
        if not held:
            return ""
        return (
            ", ".join(f"{e.key} {e.held:g}/{e.max_points:g}" for e in held)
            + " if cleared"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "student": self.student,
            "notebook": self.notebook,
            "score": self.score,
            "total": self.total,
            "held": self.held,
            "error": self.error,
            "flags": self.flags,
            "exercises": [dataclasses.asdict(e) for e in self.exercises],
        }

    def table(self) -> str:
        lines = [f"{self.student}  ({self.notebook})"]
        if self.error:
            lines.append(f"  note: {self.error}")
        width = max([len(e.key) for e in self.exercises] + [8])
        for e in self.exercises:
            lines.append(
                f"  {e.status:<13} {e.key:<{width}}  {e.points:g}/{e.max_points:g}  "
                f"{e.message}"
            )
        for f in self.flags:
            lines.append(f"  flag: {f}")
        if self.held_line():
            lines.append(f"  held for review: {self.held_line()}")
        lines.append(f"  score: {self.score:g}/{self.total:g}")
        return "\n".join(lines)

    def feedback(self) -> str:
        """The Markdown returned to the student: it names the notebook by its file
        name only (the path is the instructor's folders, not the student's business),
        and each exercise as the student's notebook does (``Exercise 4.2: <title>``)
        with its key."""
        out = [
            f"# Feedback: {Path(self.notebook).name}",
            "",
            f"Score: **{self.score:g} / {self.total:g}**",
            "",
        ]
        if self.held:
            pts = f"{self.held:g} more point" + ("" if self.held == 1 else "s")
            out += [
                f"Held for your instructor to read: {pts}, from the exercises marked "
                "\"held for review\" below; they count once your instructor clears "
                "them.",
                "",
            ]
        if self.error:
            out += [f"Note: {self.error}", ""]
        for e in self.exercises:
            status = "held for review" if e.status == "held" else e.status
            points = f"{e.points:g} / {e.max_points:g}"
            if e.status == "held":
                points += f" ({e.held:g} / {e.max_points:g} if cleared)"
            out += [f"## {e.name}: {status}, {points}", "", e.message, ""]
        return "\n".join(out)


def _flag_words(flags: list[str]) -> str:
    """``"mentions 'setattr' and assigns to 'np.mean', an attribute of a module"``."""
    return flags[0] if len(flags) == 1 else ", ".join(flags[:-1]) + " and " + flags[-1]


def hold_flagged(
    exercises: list[Graded], flags: dict[str, list[str]], trust: bool = False
) -> None:
    """The grader's policy on flagged answers (`suspicious`; module docstring, 5),
    applied to `exercises` in the notebook's order (the order their cells ran).

    The checks run in the worker, out of the answers' reach; the hold stays as a
    conservative policy (a flagged answer reaches for what it has no business with,
    and ran in the kernel before the later answers): from the first flagged answer on,
    an exercise that passed scores 0 with status "held", its points in ``held``, and a
    message that names the flag, says it is held for the instructor to read and what
    to do.
    A flagged answer that did not pass keeps its verdict, with a note on the flag.
    The exercises before the first flagged answer were judged before it ran.
    `trust` (``--trust-flagged``): flagged answers are credited; the flags are still
    listed (`Grade.flags`), and the exercises carry them.

    For instructors, "Grading" (4, flagged answers are held, not scored).
    """
    first: Graded | None = None
    for e in exercises:
        own = flags.get(e.key, [])
        if own and first is None:
            first = e
        if first is None:
            continue
        e.flags = own or flags[first.key]
        if trust:
            continue
        if e.status != "passed":
            if own:
                e.message += (
                    f" Note: your answer {_flag_words(own)}; the grader holds an "
                    "answer like that for your instructor to read instead of scoring "
                    "it: write it without that."
                )
            continue
        pts = f"{e.max_points:g} / {e.max_points:g}"
        if own:
            why = (
                f"your answer {_flag_words(own)}, code that reaches for the grader or "
                "the process, which the grader leaves to your instructor to judge"
            )
            fix = "write the answer without that"
        else:
            why = (
                f"it ran after your answer to {first.name}, which "
                f"{_flag_words(e.flags)}: code that could have changed how this "
                "exercise's function runs"
            )
            fix = f"write your answer to {first.label or first.key} without that"
        said = e.message.strip()
        said += "" if said.endswith(".") else "."
        e.message = (
            f"held for your instructor to read, not scored until cleared: {why}. "
            f"Its checks said: {said} It scores {pts} once your instructor clears "
            f"it; to be graded without review, {fix}."
        )
        e.status, e.held, e.points = "held", e.points, 0.0


@dataclasses.dataclass
class Assignment:
    """What the instructor grades against: the reference without solutions, its
    exercises (For instructors, "Grading")."""

    chapter: str
    reference: Any  # the reference notebook, solutions removed
    specs: list[Spec]
    seed: int | None  # None in a Gradescope zip: it has `entropies` instead
    points: dict[str, float]
    timeout: int = 60
    cell_timeout: int = 600
    isolation: str = "auto"  # auto, unshare, docker, process
    image: str = ""
    memory_gb: float = MEMORY_GB  # each process of a submission: its data segment
    max_procs: int = MAX_PROCS  # processes and threads of a submission at once
    disk_gb: float = DISK_GB  # what a submission may write (each file; under unshare
    # and docker, all of it)
    source: str = ""  # the reference's path: its folder is hidden from the submissions
    #: each exercise's `exercises.hidden_entropy(seed, key)`, for an assignment that
    #: travels without its seed (the Gradescope zip)
    entropies: dict[str, int] = dataclasses.field(default_factory=dict)
    #: credit flagged answers (``--trust-flagged``) instead of holding them
    #: (`hold_flagged`)
    trust_flagged: bool = False
    #: a Python file of the instructor's own checkers (``--checks``: registered with
    #: `exercises.exercise` and `exercises.hidden`), loaded by each worker before its
    #: kernel starts; "" for the book's own
    checks: str = ""

    @classmethod
    def load(
        cls,
        reference: Path,
        seed: int | None,
        points: dict[str, float] | None = None,
        **kw: Any,
    ) -> Assignment:
        import nbformat

        nb = nbformat.read(reference, as_version=4)
        chapter = chapter_of(nb)
        specs = reference_specs(nb)
        if not specs:
            raise ValueError(
                f"{reference}: no answer cell (a code cell with metadata "
                f"{META}.answer = 'chNN.name'): is it a chapter of the book?"
            )
        chapter = chapter or specs[0].key.split(".")[0]
        nb = copy.deepcopy(nb)
        # keep indices: blank the solutions instead of deleting them (specs point at
        # cells)
        kept = {id(c) for c in without_solutions(nb.cells)}
        for c in nb.cells:
            if id(c) not in kept:
                c.cell_type, c.source, c.metadata = (
                    "raw",
                    "",
                    {"tags": [E.SOLUTION_TAG]},
                )
                c.pop("outputs", None)
                c.pop("execution_count", None)
        pts = {s.key: float(E.POINTS[s.difficulty]) for s in specs}
        unknown = set(points or {}) - set(pts)
        if unknown:
            raise ValueError(
                f"--points names exercises that {reference.name} does not have: "
                f"{', '.join(sorted(unknown))}; it has {', '.join(pts)}"
            )
        pts.update(points or {})
        return cls(chapter, nb, specs, seed, pts, **kw, source=str(reference.resolve()))

    def ungraded(self, status: str, message: str) -> list[Graded]:
        """Every exercise at 0 of its points, with `status` and `message`: a submission
        before its answers run, or one that is not graded."""
        return [
            Graded(s.key, status, message, 0.0, self.points[s.key], label=s.label)
            for s in self.specs
        ]

    def entropy(self, key: str) -> int:
        """What the hidden cases of `key` are drawn from."""
        if self.seed is not None:
            return E.hidden_entropy(self.seed, key)
        if key not in self.entropies:
            raise ValueError(
                f"the assignment has neither a seed nor the hidden cases' number for "
                f"{key}: build the autograder again with --seed"
            )
        return self.entropies[key]

    def isolation_line(self) -> str:
        """How the submissions run and what a flagged answer gets: ``"unshare; at
        most 1024 processes by cgroup; flagged answers held for review"``."""
        mode = self.mode()
        cap = process_cap(mode)
        procs = (
            f"at most {self.max_procs} processes by {cap}"
            if cap
            else "processes NOT capped here (no cgroup, no namespace)"
        )
        return f"{mode}; {procs}; flagged answers {self.flag_policy()}"

    def flag_policy(self) -> str:
        """What a flagged answer gets (`hold_flagged`), in words."""
        if self.trust_flagged:
            return "credited (--trust-flagged)"
        return "held for review"

    def limits(self) -> dict[str, Any]:
        """The caps on a submission (`LIMITS`), by name."""
        return {k: getattr(self, k) for k in LIMITS}

    def mode(self) -> str:
        if self.isolation != "auto":
            return self.isolation
        return "unshare" if unshare_works() else "process"


def _lib_copy(dest: Path) -> None:
    """A private copy of the library for one submission: what it patches, nobody else
    runs."""
    import fenwicks_lite

    src = Path(fenwicks_lite.__file__).resolve().parent
    shutil.copytree(
        src, dest / "fenwicks_lite", ignore=shutil.ignore_patterns("__pycache__")
    )


def _book_dirs() -> list[Path]:
    """Where the book's notebooks (with solutions) may sit: beside the installed
    library."""
    import fenwicks_lite

    root = Path(fenwicks_lite.__file__).resolve().parent.parent
    return [root / "book"] if (root / "book").is_dir() else []


#: how the notes on a graded notebook that are not errors begin (its exit status
#: stays 0)
_NOTES = ("the notebook has no chapter", "the notebook holds the book's solutions")


def grade_notebook(
    path: Path,
    a: Assignment,
    student: str = "",
    hide: list[Path] | None = None,
    total_timeout: int | None = None,
) -> Grade:
    """Grades one submission in its own sandboxed process (see the module docstring;
    For instructors, "Grading")."""
    import nbformat

    student = student or student_id(path)
    graded = {
        g.key: g
        for g in a.ungraded("not-attempted", "no answer cell for this exercise found")
    }

    def result(error: str = "", flags: list[str] | None = None) -> Grade:
        return Grade(
            student, str(path), [graded[s.key] for s in a.specs], error, flags or []
        )

    try:
        nb = nbformat.read(path, as_version=4)
        chapter = chapter_of(nb)
        answers = answer_cells(nb, a.specs)
    except Exception as e:  # not JSON, not a notebook, cells or metadata of odd types
        return result(f"cannot read it as a notebook ({type(e).__name__}: {e})")
    if chapter and chapter != a.chapter:
        return result(
            f"this is the notebook of {chapter}, not of {a.chapter}: not graded"
        )
    for sp in a.specs:  # no cell of this exercise at all: say what to write, and where
        if sp.key not in answers and sp.function:
            graded[sp.key].message = (
                f"no answer found: no cell defines `{sp.function}` (the exercise's "
                "answer cell is gone): define it in a code cell under the exercise"
            )
    note = (
        ""
        if chapter
        else (
            f"{_NOTES[0]} metadata ({META}.chapter): answers were matched by "
            "function name"
        )
    )
    if any(is_solution(c) and c.cell_type == "code" for c in nb.cells):
        # the book's own notebook: its answer cells are empty, its solutions not taken
        note = "; ".join(
            x
            for x in (
                f"{_NOTES[1]} (cells tagged 'solution'), which are never graded: "
                "only the answer cells are. To grade the book's solutions, run "
                f"grade --solutions --chapter {a.chapter}",
                note,
            )
            if x
        )
    found = {k: suspicious(src, k) for k, (src, _) in answers.items()}
    flags = [f"{k}: the answer {why}; read it" for k, w in found.items() for why in w]
    fresh, roles = fresh_notebook(a.reference, answers, a.specs)
    with tempfile.TemporaryDirectory(prefix="fw_grade_") as tmp:
        work = Path(tmp)
        (work / "run" / "tmp").mkdir(parents=True)
        _lib_copy(work / "lib")
        if a.checks:  # read-only to the kernel under unshare and docker
            shutil.copyfile(a.checks, work / "checks.py")
        mode = a.mode()
        env = _clean_env(work)
        keep = [work, *_kept_in_sight(env)]
        hidden = [*(hide or []), *_book_dirs(), Path.home(), path.parent.resolve()]
        if a.source:
            hidden.append(Path(a.source).parent)
        cmd = sandbox_command(
            work, hidden, keep, mode, a.image, a.memory_gb, a.max_procs, a.disk_gb, env
        )
        job_nonce = secrets.token_hex(16)
        job = {
            # the hidden cases' numbers are in it: on stdin to the worker, never on a
            # disk nor in the kernel
            "notebook": fresh,
            "entropies": {s.key: a.entropy(s.key) for s in a.specs},
            "checks": str(work / "checks.py") if a.checks else "",
            "mode": mode,
            "cwd": str(work / "run"),
            "roles": roles,
            "timeout": a.timeout,
            "cell_timeout": a.cell_timeout,
            "memory_gb": a.memory_gb,
            "max_procs": a.max_procs,
            "disk_bytes": int(a.disk_gb * 2**30),
            "nonce": job_nonce,
        }
        limit = total_timeout or (
            a.cell_timeout * 4 + a.timeout * 2 * len(a.specs) + 120
        )
        with _PidsCgroup(a.max_procs if mode != "docker" else 0) as group:
            job["cgroup"] = str(group.path or "")
            try:
                proc = subprocess.run(
                    group.wrap(cmd),
                    input=json.dumps(job) + "\n",
                    capture_output=True,
                    text=True,
                    env=env,
                    cwd=work / "run",
                    timeout=limit,
                )
                out, rc, err = proc.stdout, proc.returncode, proc.stderr
            except subprocess.TimeoutExpired as e:
                out, rc, err = _text(e.stdout), None, _text(e.stderr)
    said = {ln.strip() for ln in out.splitlines()}
    if STARTED + job_nonce not in said:  # nothing of the submission ran
        raise GradingEnvironmentError(
            _environment_failure(READY in said, rc, limit, out, job_nonce, err, a)
        )
    line = next(
        (ln for ln in reversed(out.splitlines()) if ln.startswith(job_nonce)), None
    )
    if line is None:
        why = (
            f"the grading process ran past {limit} s and was stopped"
            if rc is None
            else f"the grading process died (exit status {rc}) before reporting"
            + _tail(err)
        )
        for g in graded.values():
            if g.status == "not-attempted" and g.key in answers:
                g.status, g.message = "error", why
        return result(why, flags)
    report = json.loads(line[len(job_nonce) :])
    if report.get("chapter_failure"):
        raise GradingEnvironmentError(_chapter_failure(report["chapter_failure"]))
    timed = set(report["timed_out"])
    over_procs, over_disk = set(report["over_procs"]), set(report["over_disk"])
    ids = {v: k for k, v in roles.items()}
    for spec in a.specs:
        g = graded[spec.key]
        if spec.key not in answers:
            continue
        g.how = answers[spec.key][1]
        ans, probe = ids["answer:" + spec.key], ids["hidden:" + spec.key]
        verdict = report["outputs"].get(probe, {}).get("verdict")

        def which(cells: Any, ans: str = ans) -> str:  # the answer's cell or its check
            return "defining the answer" if ans in cells else "the checks"

        if ans in timed or probe in timed:
            g.status = "timed-out"
            g.message = (
                f"timed out: {which(timed)} took more than {a.timeout} s (--timeout)"
            )
        elif ans in over_procs or probe in over_procs:
            g.status = "over-limit"
            g.message = (
                f"over the process limit: {which(over_procs)} started more than "
                f"{a.max_procs} processes and threads at once (--max-procs); they were "
                "stopped"
            )
        elif ans in over_disk or probe in over_disk:
            g.status = "over-limit"
            g.message = (
                f"over the disk limit: {which(over_disk)} wrote more than "
                f"{_size(a.disk_gb)} (--disk); what it wrote was removed"
            )
        elif verdict is not None and probe not in report.get("finished", [probe]):
            # the check finished, then the kernel ended before the hidden cell did
            g.status = "error"
            g.message = "its check did not finish: " + (
                report["failure"] or "the kernel stopped"
            )
        elif report["outputs"].get(probe, {}).get("error"):
            # `_serve` sends every Exception back: what ended the hidden cell was
            # raised past it (SystemExit, KeyboardInterrupt) by the learner's code
            g.status = "error"
            g.message = (
                "its check was stopped by "
                + report["outputs"][probe]["error"]
                + " from your code"
            )
        elif verdict is None:
            g.status = "error"
            g.message = "its check did not report: " + (
                report["outputs"].get(probe, {}).get("error")
                or report["failure"]
                or "no output"
            )
        else:
            g.status, g.message = verdict["status"], verdict["message"]
            g.points = (
                g.max_points
                if verdict["passed"] and verdict["status"] == "passed"
                else 0.0
            )
        g.printed = report["outputs"].get(ans, {}).get("text", "")[-2000:]
        err = report["outputs"].get(ans, {}).get("error")
        if err and g.status not in ("passed", "over-limit") and ans not in timed:
            if g.status == "not-attempted" and not err.startswith(
                "NotImplementedError"
            ):  # attempted: the cell raised before it defined the function, or after
                # a stub; what it raised comes first ("no function given" alone
                # would tell a learner who wrote one to write it)
                g.status = "error"
                g.message = f"your answer cell raised {err}" + (
                    f" before it defined `{spec.function or 'the function'}`: fix it "
                    "so that it runs."
                    if g.message == E.NO_FUNCTION
                    else f"; {g.message}"
                )
            else:
                g.message += f" (the answer cell raised {err})"
    hold_flagged([graded[s.key] for s in a.specs], found, a.trust_flagged)
    return result("; ".join(x for x in (note, report["failure"]) if x), flags)


def _chapter_failure(what: str) -> str:
    """What `GradingEnvironmentError` says when the chapter's own code failed in the
    kernel before any answer ran (a package the chapter imports is missing, say): every
    submission would lose the points of the exercises that need it."""
    hint = ""
    if "tensorflow" in what.lower():
        hint = (
            " Chapters 1, 3, 4, 5 and the appendix import TensorFlow: pip install "
            "'fenwicks_lite[grade,tf]' into the Python that grades."
        )
    return (
        f"{what}. The chapter's own code failed before any answer ran, so the "
        "grading environment lacks something the chapter needs, not the submission."
        + hint
        + " Run the chapter there (the reference notebook, top to bottom) until it "
        "runs, then grade again."
    )


def _text(b: bytes | str | None) -> str:
    return b.decode(errors="replace") if isinstance(b, bytes) else b or ""


def _environment_failure(
    ready: bool, rc: int | None, limit: int, out: str, nonce: str, err: str, a: Any
) -> str:
    """What `GradingEnvironmentError` says: how the grading process failed before any
    code of the submission ran, its last words and what to check."""
    how = (
        f"ran past {limit} s and was stopped"
        if rc is None
        else f"ended with exit status {rc}"
    )
    report = next((ln for ln in out.splitlines() if ln.startswith(nonce)), "")
    said = ""
    if report:  # the worker reported: the kernel did not start or its first cell failed
        with contextlib.suppress(ValueError, KeyError, TypeError):
            r = json.loads(report[len(nonce) :])
            said = r["failure"] or next(
                (o["error"] for o in r["outputs"].values() if o.get("error")), ""
            )
    words = f"; it said: {said}" if said else _tail(err)
    py = _python()
    if not ready:
        what = (
            f"the grading process ({py} -m fenwicks_lite.grading _worker, isolation "
            f"{a.mode()}) {how} before any code of the submission ran{words}. Check "
            f"that {py} can import fenwicks_lite, nbformat, nbclient and "
            "jupyter_client (pip install 'fenwicks_lite[grade]' into that environment)"
        )
        if a.mode() != "process":
            what += f", and that isolation {a.mode()} works here (or pass --isolation "
            what += "process)"
    else:
        what = (
            f"the grading kernel did not start or its first cell (the grader's own "
            f"import of the checks) failed, before any code of the submission ran: "
            f"the process {how}{words}. Check that the Jupyter kernel 'python3' "
            f"runs {py} with fenwicks_lite and ipykernel importable, and that "
            f"--memory {a.memory_gb:g} GB is enough to start it"
        )
    return what + ". The grader's environment is broken, not the submission."


def _tail(stderr: str, lines: int = 5, chars: int = 600) -> str:
    """The end of a grading process's stderr, for the note on a process that died: what
    the instructor needs to see why (a missing module, a failed mount)."""
    kept = [ln for ln in stderr.strip().splitlines() if ln.strip()][-lines:]
    text = " | ".join(kept)[-chars:]
    return f"; its last words: {text}" if text else ""


# --------------------------------------------------------------------------- batches an

#: file names of downloaded submissions: Canvas, Moodle, Blackboard (student id in group
#: "id").
ID_PATTERNS = [
    # Canvas: name_userid_submissionid_file
    r"^(?P<name>[a-z]+)(?:_LATE)?_(?P<id>\d+)_\d+_",
    # Moodle: Full Name_id_assignsubmission_file_...
    r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_",
    # Blackboard: Assignment_user_attempt_date_file
    r"^.+?_(?P<id>[^_]+)_attempt_\d{4}-",
]


def student_id(path: Path, pattern: str | None = None) -> str:
    """The student's id from an LMS download's file name (`ID_PATTERNS`, or `pattern`
    with a group ``id``); else the file name (`batch_ids` takes the folder's name for
    ``alice/05_x.ipynb`` style folders).

    For instructors, "Grading" (the gradebook's rows).
    """
    for pat in [pattern] if pattern else ID_PATTERNS:
        m = re.search(pat, path.name)
        if m and m.groupdict().get("id"):
            return m.group("id")
    if pattern:
        raise ValueError(f"{path.name} does not match --id-pattern {pattern!r}")
    return path.stem


def batch_ids(
    paths: list[Path], pattern: str | None = None, roots: list[Path] | None = None
) -> list[str]:
    """`student_id` of each submission; where no LMS pattern names the student, the
    folder's name for a student's folder: one that several submissions share a file
    name in (``alice/05_x.ipynb``, ``bob/05_x.ipynb``), or one that holds this
    submission alone beside another submission's folder (``carol/Copy of
    05_x.ipynb``) or inside a folder the batch was given (`roots`: ``grade subs/`` of
    ``subs/zoe/07_x.ipynb`` alone). For instructors, "Grading" (the gradebook's rows).
    """
    ids = [student_id(p, pattern) for p in paths]
    stems, folders = [p.stem for p in paths], [p.parent for p in paths]
    given = [r.resolve() for r in roots or []]

    def own_folder(p: Path) -> bool:
        below = any(r in p.parent.resolve().parents for r in given)
        return folders.count(p.parent) == 1 and (
            below
            or any(f != p.parent and f.parent == p.parent.parent for f in folders)
        )

    return [
        p.parent.name
        if i == p.stem and p.parent.name and (stems.count(p.stem) > 1 or own_folder(p))
        else i
        for p, i in zip(paths, ids, strict=True)
    ]


def collect(paths: list[Path]) -> list[Path]:
    """Notebooks named directly, and every notebook inside named folders (sorted):
    what ``grade submissions/`` grades (For instructors, "Grading")."""
    found = []
    for p in paths:
        if p.is_dir():
            found += sorted(
                q for q in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in q.parts
            )
        elif p.is_file():
            found.append(p)
        else:
            raise FileNotFoundError(f"no such notebook or folder: {p}")
    return found


class Gradebook:
    """Writes each grade the moment it is known: a CSV row, a feedback file, a JSON
    line (``gradebook.csv``, ``feedback/``, ``results.jsonl``: For instructors,
    "Grading")."""

    @staticmethod
    def refuse_existing(out: Path, overwrite: bool) -> bool:
        """Whether `out` holds grades already; FileExistsError (saying whose, and what
        to pass) if it does and `overwrite` is false: nothing of it is lost."""
        old = out / "assignment.json"
        if not ((out / "gradebook.csv").exists() or old.exists()):
            return False
        if not overwrite:
            what = "an earlier run"
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                cfg = json.loads(old.read_text())
                what = f"{cfg['chapter']} with seed {cfg['seed']}"
            raise FileExistsError(
                f"{out} holds the grades of {what}: pass another --out, or "
                "--overwrite to replace them"
            )
        return True

    def __init__(self, out: Path, a: Assignment, overwrite: bool = False) -> None:
        self.out, self.a, self.lock = out, a, threading.Lock()
        if self.refuse_existing(out, overwrite):
            for f in (out / "feedback").glob("*.md"):  # none left from the last run
                f.unlink()
        (out / "feedback").mkdir(parents=True, exist_ok=True)
        self.csv = out / "gradebook.csv"
        self.keys = [s.key for s in a.specs]
        with self.csv.open("w", newline="") as f:
            csv.writer(f).writerow(
                [
                    "student",
                    "notebook",
                    *self.keys,
                    "total",
                    "max",
                    "held",
                    "note",
                    "flags",
                ]
            )
        (out / "results.jsonl").write_text("")
        (out / "assignment.json").write_text(
            json.dumps(
                {
                    "chapter": a.chapter,
                    "seed": a.seed,
                    "points": a.points,
                    "timeout": a.timeout,
                    **a.limits(),
                    "isolation": a.mode(),
                    "process_cap": process_cap(a.mode()),
                    "flagged_answers": a.flag_policy(),
                },
                indent=1,
            )
        )

    def add(self, g: Grade, name: str = "") -> None:
        """Writes `g`; `name`: its feedback file's stem (default: the student id)."""
        with self.lock:
            pts = {e.key: e.points for e in g.exercises}
            with self.csv.open("a", newline="") as f:
                csv.writer(f).writerow(
                    [
                        g.student,
                        g.notebook,
                        *[f"{pts[k]:g}" for k in self.keys],
                        f"{g.score:g}",
                        f"{g.total:g}",
                        g.held_line(),
                        g.error,
                        " | ".join(g.flags),
                    ]
                )
                f.flush()
                os.fsync(f.fileno())
            name = re.sub(r"[^\w.-]", "_", name or g.student) or "student"
            (self.out / "feedback" / f"{name}.md").write_text(g.feedback())
            with (self.out / "results.jsonl").open("a") as f:
                f.write(json.dumps(g.as_dict()) + "\n")


def grade_batch(
    paths: list[Path],
    a: Assignment,
    out: Path,
    jobs: int = 1,
    id_pattern: str | None = None,
    echo: Any = None,
    overwrite: bool = False,
    roots: list[Path] | None = None,
) -> list[Grade]:
    """Grades every submission, `jobs` at a time, each in its own process; writes as
    they come. Several submissions of one student are each graded, with a note on
    each row and a feedback file each. A `GradingEnvironmentError` (the grading process
    failed before any code of a submission ran) stops the batch: no submission starts
    after it, nothing is written for it, what was written stays; it is raised again
    with the counts once the submissions under way have finished. `roots`: the
    folders the submissions were collected from (`batch_ids`).

    ``python -m fenwicks_lite.exercises grade`` runs it: For instructors, "Grading".
    """
    if _kernel_data() is None and _reads_cifar10(a.reference):
        # every kernel would fail on the chapter's first cell
        raise GradingEnvironmentError(_no_kernel_data_message())
    book = Gradebook(out, a, overwrite)
    # the submissions and the gradebook are out of the submissions' sight
    hide = sorted({p.parent.resolve() for p in paths} | {out.resolve()})
    ids = batch_ids(paths, id_pattern, roots)
    same = {s: [p for p, t in zip(paths, ids, strict=True) if t == s] for s in set(ids)}
    same = {s: ps for s, ps in same.items() if len(ps) > 1}

    broken: list[str] = []  # why the environment failed: the batch stops at the first
    written: list[int] = []

    def one(i: int) -> Grade | None:
        if broken:
            return None
        try:
            g = grade_notebook(paths[i], a, ids[i], hide=hide)
        except GradingEnvironmentError as e:  # every submission would fail the same way
            broken.append(f"{ids[i]} ({paths[i].name}): {e}")
            return None
        except Exception as e:  # a grader bug on one notebook must not stop the batch
            g = Grade(
                ids[i],
                str(paths[i]),
                a.ungraded("error", "not graded"),
                f"the grader failed: {type(e).__name__}: {e}",
            )
        twins = same.get(ids[i], [])
        if twins:
            note = (
                f"student {ids[i]} has {len(twins)} submissions in this batch "
                f"({', '.join(p.name for p in twins)}): each is graded here; keep one"
            )
            g.error = "; ".join(x for x in (g.error, note) if x)
        book.add(g, f"{ids[i]}__{paths[i].stem}" if twins else ids[i])
        written.append(i)
        if echo:
            echo(g)
        return g

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        grades = list(pool.map(one, range(len(paths))))
    if broken:
        raise GradingEnvironmentError(
            f"grading stopped: {broken[0]} {len(written)} graded (their rows and "
            f"feedback are in {book.csv} and {out / 'feedback'}), "
            f"{len(paths) - len(written)} not graded. Fix the environment, then grade "
            "again (--overwrite grades every submission again)."
        )
    return [g for g in grades if g is not None]


# --------------------------------------------------------------------------- Gradescope


def gradescope_results(
    g: Grade, seconds: float = 0.0, isolation: str = ""
) -> dict[str, Any]:
    """Gradescope's ``results.json`` (its autograder specification: score, tests with
    name, score, max_score, status, output, visibility; otter-grader writes the same
    format).

    A held exercise (`hold_flagged`) is a failed test with score 0, its max_score
    kept, and the message that says why, which the student sees. The flags, the
    held points and the isolation go into a test of their own with ``"visibility":
    "hidden"``, which Gradescope never shows to students (only to the course staff);
    the top-level ``output`` is the students' to see. The specification:
    https://gradescope-autograders.readthedocs.io/en/latest/specs/ ("Output format":
    a test's visibility is visible, hidden, after_due_date or after_published).

    For instructors, "Grading" (Gradescope).
    """
    tests: list[dict[str, Any]] = [
        {
            "name": e.name,
            "score": e.points,
            "max_score": e.max_points,
            "status": "passed" if e.status == "passed" else "failed",
            # a held one's message starts with "held for your instructor to read"
            "output": e.message if e.status == "held" else f"{e.status}: {e.message}",
            "visibility": "visible",
        }
        for e in g.exercises
    ]
    staff = [f"isolation: {isolation}"] if isolation else []
    staff += [f"flag: {f}" for f in g.flags] or ["no flags"]
    if g.held_line():
        staff.append(f"held for review: {g.held_line()}")
    tests.append(
        {
            "name": "grader's notes for the instructor (flags, isolation)",
            "score": 0.0,
            "max_score": 0.0,
            "output": "\n".join(staff),
            "visibility": "hidden",
        }
    )
    held = sum(e.status == "held" for e in g.exercises)
    output = f"{len(g.exercises)} exercises graded with hidden tests." + (
        f" {held} held for your instructor to read ({g.held:g} points): see each."
        if held
        else ""
    )
    return {
        "score": g.score,
        "execution_time": round(seconds, 1),
        "output": g.error or output,
        "tests": tests,
    }


_RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this with the submission in $ROOT/submission; it writes
# $ROOT/results/results.json.
set -u
ROOT="${AUTOGRADER_ROOT:-/autograder}"
cd "$ROOT/source"
# CIFAR-10 as setup.sh left it: the chapters' data cells read it, nothing is downloaded
if [ -s "$ROOT/data/cifar10_path" ]; then
  CIFAR10_DIR="$(cat "$ROOT/data/cifar10_path")"
  export CIFAR10_DIR
fi
# setup.sh's virtual environment; where there is none (trying the zip on your own
# machine), the python3 first on PATH
PY="$ROOT/venv/bin/python"
[ -x "$PY" ] || PY=python3
PYTHONPATH="$ROOT/source/lib" "$PY" -m fenwicks_lite.grading gradescope \\
  --assignment "$ROOT/source/assignment.json" --submission "$ROOT/submission" \\
  --results "$ROOT/results/results.json"
"""

_SETUP = """#!/usr/bin/env bash
# Gradescope's image build: Python and the book's requirements (the library comes in
# lib/).
set -e
apt-get update -qq && apt-get install -y -qq python3 python3-pip python3-venv >/dev/null
# a virtual environment of its own: newer base images (Ubuntu 24.04, Debian 12) mark the
# system Python as externally managed, and pip refuses to install into it (PEP 668)
python3 -m venv /autograder/venv
/autograder/venv/bin/python -m pip install -q --upgrade pip
/autograder/venv/bin/python -m pip install -q -r /autograder/source/requirements.txt
# CIFAR-10 (163 MB, checksummed), once, while the image builds: each submission's
# kernel then reads it (run_autograder passes it on) instead of downloading it again,
# and grading needs no network
mkdir -p /autograder/data
KERAS_HOME=/autograder/data PYTHONPATH=/autograder/source/lib \\
  /autograder/venv/bin/python -c \\
  "from fenwicks_lite import data; data.load_cifar10(); print(data.keras_cached())" \\
  > /autograder/data/cifar10_path
"""

_REQUIREMENTS = [
    "keras>=3.6,<4",
    "numpy>=1.26",
    "matplotlib>=3.8",
    "tensorflow-cpu>=2.16,<3",
    "nbclient>=0.10",
    "nbformat>=5.10",
    "ipykernel>=6.29",
    "pyyaml",
]


def build_autograder(a: Assignment, dest: Path) -> Path:
    """A Gradescope autograder zip: setup.sh, run_autograder, the reference without
    solutions, the assignment (points, timeouts, and for each exercise the number its
    hidden cases are drawn from, `exercises.hidden_entropy(seed, key)`: not the seed,
    which the zip never holds) and a copy of the library with its hidden tests.

    ``python -m fenwicks_lite.exercises autograder`` builds it (For instructors,
    "Grading").
    """
    import nbformat

    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        _lib_copy(t / "lib")
        nbformat.write(a.reference, t / "reference.ipynb")
        if a.checks:
            shutil.copyfile(a.checks, t / "checks.py")
        (t / "assignment.json").write_text(
            json.dumps(
                {
                    "reference": "reference.ipynb",
                    "entropy": {s.key: a.entropy(s.key) for s in a.specs},
                    "points": a.points,
                    "timeout": a.timeout,
                    "cell_timeout": a.cell_timeout,
                    **a.limits(),
                    "trust_flagged": a.trust_flagged,
                    "checks": "checks.py" if a.checks else "",
                },
                indent=1,
            )
        )
        (t / "run_autograder").write_text(_RUN_AUTOGRADER)
        (t / "setup.sh").write_text(_SETUP)
        (t / "requirements.txt").write_text("\n".join(_REQUIREMENTS) + "\n")
        dest.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
            for f in sorted(t.rglob("*")):
                if f.is_file() and "__pycache__" not in f.parts:
                    info = zipfile.ZipInfo(str(f.relative_to(t)))
                    mode = 0o755 if f.name in ("run_autograder", "setup.sh") else 0o644
                    info.external_attr = (0o100000 | mode) << 16
                    z.writestr(info, f.read_bytes(), zipfile.ZIP_DEFLATED)
    return dest


def run_gradescope(assignment: Path, submission: Path, results: Path) -> int:
    """Inside Gradescope's container: grade the one notebook submitted, write
    results.json (the zip's ``run_autograder``; For instructors, "Grading")."""
    cfg = json.loads(assignment.read_text())
    a = Assignment.load(
        assignment.parent / cfg["reference"],
        cfg.get("seed"),  # zips built before the per-exercise numbers held the seed
        cfg["points"],
        entropies={k: int(v) for k, v in cfg.get("entropy", {}).items()},
        timeout=cfg["timeout"],
        cell_timeout=cfg["cell_timeout"],
        **{k: cfg[k] for k in LIMITS if k in cfg},  # else the defaults
        trust_flagged=bool(cfg.get("trust_flagged", False)),
        checks=str(assignment.parent / cfg["checks"]) if cfg.get("checks") else "",
    )
    t0 = time.perf_counter()
    notebooks = collect([submission])
    if len(notebooks) != 1:
        g = Grade(
            "",
            str(submission),
            a.ungraded("not-attempted", ""),
            f"submit exactly one notebook (found {len(notebooks)})",
        )
    else:
        try:
            g = grade_notebook(notebooks[0], a, "submission")
        except GradingEnvironmentError as e:
            # no results.json: Gradescope reports the autograder's failure instead of
            # a score of 0, and the staff can regrade once the image is fixed
            print(f"not graded: {e}", flush=True)  # stdout: the staff's only
            return 1
    results.parent.mkdir(parents=True, exist_ok=True)
    isolation = a.isolation_line()
    results.write_text(
        json.dumps(
            gradescope_results(g, time.perf_counter() - t0, isolation), indent=1
        )
    )
    # run_autograder's stdout: Gradescope shows it to the instructor only
    print(g.table(), f"isolation: {isolation}", sep="\n")
    return 0


# --------------------------------------------------------------------------- command li


def find_reference(chapter: str, root: Path | None = None) -> Path:
    """The book's notebook whose metadata names `chapter` (in a book checkout): what
    ``--chapter ch05`` grades against (For instructors, "Grading")."""
    import nbformat

    folders = [root] if root else _book_dirs()
    for folder in folders:
        for p in sorted(folder.glob("*.ipynb")):
            if chapter_of(nbformat.read(p, as_version=4)) == chapter:
                return p
    raise FileNotFoundError(
        f"no notebook of {chapter} in {', '.join(map(str, folders)) or 'a book'}"
        ": pass the chapter notebook with --reference"
    )


def _size(gb: float) -> str:
    return f"{gb:g} GB" if gb >= 1 else f"{gb * 1024:g} MB"


def _points(items: list[str]) -> dict[str, float]:
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        try:
            out[key] = float(value)
        except ValueError:
            raise SystemExit(
                f"--points takes KEY=N, e.g. ch05.steps=3; got {item!r}"
            ) from None
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m fenwicks_lite.exercises grade|autograder|gradescope`` (handed over
    by `fenwicks_lite.exercises.main`): For instructors, "Grading"."""
    p = argparse.ArgumentParser(
        prog="python -m fenwicks_lite.exercises",
        description="Grade learners' notebooks with hidden tests.",
    )
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument(
            "--chapter",
            help="the assignment, e.g. ch05 (default: the submissions' "
            "notebook metadata)",
        )
        sp.add_argument(
            "--reference",
            type=Path,
            help="the chapter notebook, or a folder of them "
            "(default: the book's, in a checkout)",
        )
        sp.add_argument(
            "--seed",
            type=int,
            required=True,
            help="the instructor's seed for the hidden cases (keep it private)",
        )
        sp.add_argument(
            "--points",
            action="append",
            default=[],
            metavar="KEY=N",
            help="points of one exercise (default by difficulty: easy 1, medium 2, "
            "hard 3)",
        )
        sp.add_argument(
            "--timeout",
            type=int,
            default=60,
            help="seconds for each answer and its hidden checks (default 60)",
        )
        sp.add_argument(
            "--cell-timeout",
            type=int,
            default=600,
            help="seconds for each other cell of the chapter (default 600)",
        )
        sp.add_argument(
            "--memory",
            type=float,
            default=MEMORY_GB,
            metavar="GB",
            help=f"memory each process of a submission may take (default "
            f"{MEMORY_GB:g}): an answer that wants more gets a MemoryError",
        )
        sp.add_argument(
            "--max-procs",
            type=int,
            default=MAX_PROCS,
            metavar="N",
            help=f"processes and threads a submission may run at once (default "
            f"{MAX_PROCS}, its kernel's included): an answer that starts more (a fork "
            "bomb) is reported over the limit and its processes are stopped",
        )
        sp.add_argument(
            "--disk",
            type=float,
            default=DISK_GB,
            metavar="GB",
            help=f"what a submission may write (default {DISK_GB:g}; each file, and "
            "under unshare or docker all of it, in memory): an answer that writes "
            "more is reported over the limit and its files are removed",
        )
        sp.add_argument(
            "--checks",
            type=Path,
            metavar="FILE.py",
            help="a Python file of your own checkers (registered with "
            "fenwicks_lite.exercises.exercise and .hidden) for exercises the book "
            "does not have; the grading process loads it, the kernel never sees it",
        )
        sp.add_argument(
            "--trust-flagged",
            action="store_true",
            help="credit the answers the grader flags (still listed under flags); "
            "default: such an answer, and every exercise checked after it, scores 0 "
            "as 'held' with the points it passed for, for you to read and clear",
        )

    g = sub.add_parser("grade", help="grade notebooks or folders of them")
    g.add_argument("submissions", nargs="*", type=Path)
    common(g)
    g.add_argument(
        "--solutions",
        action="store_true",
        help="grade the book's own solutions instead of submissions (give "
        "--chapter): before the course, every exercise should pass under your seed, "
        "limits and isolation; the notebook graded is written to --out",
    )
    g.add_argument(
        "--out",
        type=Path,
        default=Path("grades"),
        help="gradebook.csv, feedback/, results.jsonl go here (default ./grades)",
    )
    g.add_argument("--jobs", type=int, default=1, help="submissions graded at once")
    g.add_argument(
        "--id-pattern",
        help="regex with a group 'id' for the student id in file "
        "names (default: Canvas, Moodle and Blackboard downloads)",
    )
    g.add_argument(
        "--isolation", choices=["auto", "unshare", "docker", "process"], default="auto"
    )
    g.add_argument(
        "--docker-image", default="", help="with --isolation docker: the image"
    )
    g.add_argument("--json", action="store_true", help="print the grades as JSON")
    g.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the grades already in --out (default: refuse)",
    )
    ag = sub.add_parser("autograder", help="build a Gradescope autograder zip")
    common(ag)
    ag.add_argument("--out", type=Path, default=Path("autograder.zip"))
    gs = sub.add_parser(
        "gradescope", help="(inside Gradescope) grade /autograder/submission"
    )
    gs.add_argument("--assignment", type=Path, required=True)
    gs.add_argument("--submission", type=Path, required=True)
    gs.add_argument("--results", type=Path, required=True)
    args = p.parse_args(argv)
    import importlib.util

    missing = [
        m
        for m in ("nbclient", "nbformat", "ipykernel")
        if importlib.util.find_spec(m) is None
    ]
    if missing:
        p.error(
            f"grading needs {', '.join(missing)}: "
            "pip install nbclient nbformat ipykernel"
        )
    if args.cmd == "gradescope":
        return run_gradescope(args.assignment, args.submission, args.results)
    solutions = args.cmd == "grade" and args.solutions
    if solutions and args.submissions:
        p.error(
            "--solutions grades the book's own solutions: give no submissions with "
            "it (or leave it out to grade them)"
        )
    if solutions and not (args.chapter or args.reference):
        p.error("--solutions needs the chapter: --chapter chNN (or --reference NB)")
    if args.cmd == "grade" and not (solutions or args.submissions):
        p.error(
            "give the submissions to grade (notebooks, or folders of them), or "
            "--solutions --chapter chNN to grade the book's own solutions"
        )
    try:
        paths = collect(args.submissions) if args.cmd == "grade" else []
    except FileNotFoundError as e:
        p.error(str(e))
    if args.max_procs < 1 or args.disk <= 0:
        p.error(
            "--max-procs takes a number of processes, 1 or more (default "
            f"{MAX_PROCS}), and --disk a size in GB above 0 (default {DISK_GB:g}); "
            f"got {args.max_procs} and {args.disk:g}"
        )
    if args.cmd == "grade" and not paths and not solutions:
        p.error("no .ipynb notebook in " + ", ".join(map(str, args.submissions)))
    try:
        ref = _reference(args, paths)
        kw: dict[str, Any] = {
            "timeout": args.timeout,
            "cell_timeout": args.cell_timeout,
            "memory_gb": args.memory,
            "max_procs": args.max_procs,
            "disk_gb": args.disk,
            "trust_flagged": args.trust_flagged,
        }
        if args.checks is not None:
            if not args.checks.is_file() or args.checks.suffix != ".py":
                raise ValueError(
                    f"--checks takes a Python file of checkers (FILE.py); "
                    f"{args.checks} is not one"
                )
            kw["checks"] = str(args.checks.resolve())
        if args.cmd == "grade":
            kw.update(isolation=args.isolation, image=args.docker_image)
        a = Assignment.load(ref, args.seed, _points(args.points), **kw)
    except (FileNotFoundError, ValueError) as e:
        p.error(str(e))
    if args.chapter and args.chapter != a.chapter:
        p.error(f"{ref} is the notebook of {a.chapter}, not {args.chapter}")
    try:  # before anything is graded: a broken --checks, an exercise without checker
        unchecked(a)
    except ValueError as e:
        p.error(str(e))
    if args.cmd == "autograder":
        print(build_autograder(a, args.out))
        return 0
    echo = None if args.json else (lambda g: print(g.table() + "\n", flush=True))
    try:  # an --out with grades in it: refused before "writing" is said
        Gradebook.refuse_existing(args.out, args.overwrite)
    except FileExistsError as e:
        p.error(str(e))
    if solutions:
        paths = [_write_solutions(a, args.out)]
    print(
        f"grading {len(paths)} notebook(s) of {a.chapter} against {ref} "
        f"(isolation: {a.isolation_line()}; {_size(a.disk_gb)} written at most); "
        f"writing {args.out}/",
        file=sys.stderr,
    )
    try:
        grades = grade_batch(
            paths,
            a,
            args.out,
            args.jobs,
            args.id_pattern,
            echo,
            args.overwrite,
            [d for d in args.submissions if d.is_dir()],
        )
    except FileExistsError as e:
        p.error(str(e))
    except GradingEnvironmentError as e:
        print(e, file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([g.as_dict() for g in grades], indent=1))
    return 1 if any(g.error and not g.error.startswith(_NOTES) for g in grades) else 0


def unchecked(a: Assignment) -> None:
    """Raises ValueError, saying what to do, where `a` cannot be graded whatever the
    submissions: its ``--checks`` file does not load, or an exercise has no checker
    (the book's, or one that file registers). Asked of a fresh Python, as a worker
    would load them; the grader and the Gradescope build call it before the first
    submission (For instructors, "How a notebook is graded")."""
    import fenwicks_lite

    home = str(Path(fenwicks_lite.__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [home, *filter(None, [os.environ.get("PYTHONPATH")])]
    )}
    job = {"checks": a.checks, "keys": [s.key for s in a.specs]}
    proc = subprocess.run(
        [sys.executable, "-m", "fenwicks_lite.grading", "_checkers"],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    try:
        said = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise ValueError(
            f"could not load the checks in a fresh Python ({sys.executable}): exit "
            f"status {proc.returncode}{_tail(proc.stderr)}"
        ) from None
    if said["error"]:
        raise ValueError(
            f"--checks {a.checks} does not load: {said['error']}. Fix it (python "
            "FILE.py must run); nothing was graded."
        )
    missing = said["missing"]
    if missing:
        raise ValueError(
            f"no checker for {', '.join(missing)}: the book has none, and "
            + ("--checks does not register " + ("it" if len(missing) == 1 else "them")
               if a.checks else "no --checks file was given")
            + ". Register each in a Python file with "
            "@fenwicks_lite.exercises.exercise(key, title=..., difficulty=...) (and "
            "@fenwicks_lite.exercises.hidden(key) for its hidden test), and pass it "
            "with --checks FILE.py; nothing was graded."
        )


def _checkers() -> int:
    """``python -m fenwicks_lite.grading _checkers``, for `unchecked`: loads the job's
    checks file (on stdin, with the keys), prints what failed and the keys without a
    checker as JSON."""
    job = json.loads(sys.stdin.read())
    error = ""
    if job["checks"]:
        try:
            _import_checks(job["checks"])
        except Exception as e:
            frames = traceback.extract_tb(e.__traceback__)
            line = next(
                (f" (line {f.lineno})" for f in reversed(frames)
                 if f.filename == job["checks"]),
                "",
            )
            error = f"{type(e).__name__}: {e}{line}"
    missing = [] if error else _unregistered(job["keys"])
    print(json.dumps({"error": error, "missing": missing}))
    return 0


def _write_solutions(a: Assignment, out: Path) -> Path:
    """``grade --solutions``: writes the student notebook of `a` answered with the
    book's solutions (`solutions_notebook`) as ``out/solutions.ipynb`` and returns its
    path; says on stderr which exercises have no solution to take."""
    import nbformat

    nb, missing = solutions_notebook(nbformat.read(a.source, as_version=4), a.specs)
    if missing:
        print(
            f"no solution cell found for {', '.join(missing)}: graded as not "
            "attempted",
            file=sys.stderr,
        )
    out.mkdir(parents=True, exist_ok=True)
    path = out / "solutions.ipynb"
    nbformat.write(nb, path)
    return path


def _reference(args: argparse.Namespace, paths: list[Path]) -> Path:
    import nbformat

    if args.reference and args.reference.is_file():
        return args.reference
    chapter = args.chapter
    if not chapter:
        seen = set()
        for q in paths:
            try:
                seen.add(chapter_of(nbformat.read(q, as_version=4)))
            except Exception:
                continue
        seen.discard("")
        if len(seen) != 1 and args.cmd == "autograder":
            raise ValueError(
                "say which chapter the autograder grades: --chapter chNN (or "
                "--reference NOTEBOOK)"
            )
        if len(seen) != 1:
            raise ValueError(
                "say which chapter to grade with --chapter chNN (the submissions' "
                f"metadata names {sorted(seen) or 'none'})"
            )
        chapter = seen.pop()
    return find_reference(chapter, args.reference)


if __name__ == "__main__":
    if sys.argv[1:2] == ["_worker"]:
        sys.exit(_worker())
    if sys.argv[1:2] == ["_checkers"]:
        sys.exit(_checkers())
    from fenwicks_lite import grading as _module

    sys.exit(_module.main())
