"""The grader (fenwicks_lite.grading, page "For instructors"): the assignment comes from
the reference, hidden tests decide, each submission is isolated, results are written as
they come.

The notebooks are built here with nbformat: a small chapter-like notebook whose checkers
(public and hidden) are registered in one of its own cells, so these tests do not depend
on any chapter. Each graded notebook starts a process and a kernel (~5 s): several
submissions share one batch."""

from __future__ import annotations

import csv
import json
import os
import secrets
import subprocess
import sys
import zipfile
from pathlib import Path

import hidden_cases
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from fenwicks_lite import exercises, grading

# Not a `backend` test: the grader does not depend on Keras's backend, so it runs once.

CHECKERS = """import numpy as np

from fenwicks_lite.exercises import exercise, expect, hidden

@exercise("chgrade.double", title="Double a number", difficulty="easy")
def _double(fn):
    expect(fn(2) == 4 and fn(-3) == -6, "double(x) is 2 * x")

@hidden("chgrade.double")
def _double_hidden(fn, rng):
    for x in rng.integers(-10**6, 10**6, 5).tolist():
        expect(fn(x) == 2 * x, "double(x) is 2 * x for every x")

@exercise("chgrade.square", title="Square a number", difficulty="medium")
def _square(fn):  # compares with NumPy, as the book's checks do
    expect(np.array_equal([fn(3), fn(-2)], [9, 4]), "square(x) is x * x")

@exercise("chgrade.first", title="First element", difficulty="hard")
def _first(fn):
    expect(fn([7, 8]) == 7, "first(xs) is xs[0]")
"""
SOLUTIONS = {"double": "return 2 * x", "square": "return x * x", "first": "return x[0]"}
DIFFICULTY = {"double": "easy", "square": "medium", "first": "hard"}
KEYS = ["chgrade.double", "chgrade.square", "chgrade.first"]
SEED = 20261127


def chapter(
    answers: dict[str, str] | None = None,
    solutions: bool = True,
    checks: bool = True,
    extra: dict[str, str] | None = None,
):
    """A chapter-like notebook with the book's exercise structure: a directive, the
    answer cell (metadata fenwicks_lite.answer), a gated solution that checks itself,
    the learner's check.

    `answers` fills answer cells (the body of `def name(x):`); unfilled ones raise
    NotImplementedError. `extra` adds source after an exercise's answer cell (same
    cell)."""
    answers, extra = answers or {}, extra or {}
    nb = new_notebook(
        metadata={
            "kernelspec": {
                "name": "python3",
                "display_name": "Python 3",
                "language": "python",
            },
            "fenwicks_lite": {"chapter": "chgrade"},
        }
    )
    tag = {"tags": ["solution"]}
    cells = [
        new_markdown_cell("# 1. A test chapter"),
        new_code_cell("import fenwicks_lite as fw"),
        new_code_cell(CHECKERS),
    ]
    for name, solution in SOLUTIONS.items():
        key = f"chgrade.{name}"
        body = answers.get(name, "raise NotImplementedError  # your code here")
        cells += [
            new_markdown_cell(
                f"```{{exercise}} Write {name}\n:label: ex-{name}\n"
                f":class: {DIFFICULTY[name]}\n\n"
                f"Write `{name}(x)`. Difficulty: {DIFFICULTY[name]}.\n```"
            ),
            new_code_cell(
                f"def {name}(x):\n    {body}\n" + extra.get(name, ""),
                metadata={"fenwicks_lite": {"answer": key}},
            ),
        ]
        if solutions:
            cells += [
                new_markdown_cell(
                    f"````{{solution-start}} ex-{name}\n:class: dropdown\n````",
                    metadata=tag,
                ),
                new_code_cell(
                    f"def {name}(x):\n    {solution}\n\n\n"
                    f'fw.exercises.check("{key}", {name})',
                    metadata=tag,
                ),
                new_markdown_cell("````{solution-end}\n````", metadata=tag),
            ]
        if checks:
            cells.append(
                new_code_cell(
                    f'fw.exercises.check("{key}", {name})',
                    metadata={"tags": ["remove-output"]},
                )
            )
    nb.cells = cells
    return nb


def _write(nb, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    return _write(chapter(), tmp_path_factory.mktemp("ref") / "chgrade.ipynb")


def _checks_file(folder: Path) -> Path:
    """The test chapter's checkers as an instructor's ``--checks`` file: the grader
    runs the checks in its own process, which never runs the notebook's cells."""
    path = folder / "chgrade_checks.py"
    if not path.exists():
        path.write_text(CHECKERS)
    return path


def _assignment(reference: Path, **kw) -> grading.Assignment:
    kw.setdefault("checks", str(_checks_file(reference.parent)))
    return grading.Assignment.load(reference, SEED, **kw)


def _points(g: grading.Grade) -> dict[str, float]:
    return {e.key: e.points for e in g.exercises}


# ------------------------------------------------------------------ the assignment from


def test_reference_defines_exercises_points_and_functions(reference):
    a = _assignment(reference)
    assert a.chapter == "chgrade"
    assert [(s.key, s.function, s.difficulty) for s in a.specs] == [
        (f"chgrade.{n}", n, DIFFICULTY[n]) for n in SOLUTIONS
    ]
    assert a.points == {"chgrade.double": 1, "chgrade.square": 2, "chgrade.first": 3}
    assert (
        _assignment(reference, points={"chgrade.first": 5}).points["chgrade.first"] == 5
    )
    with pytest.raises(ValueError, match="does not have: ch99.x"):
        _assignment(reference, points={"ch99.x": 1})
    # no solution is left in what the submissions are run with
    assert "return x * x" not in json.dumps(a.reference)


def test_exercises_are_named_as_the_students_notebook_names_them(reference):
    """Each exercise's label is the one the site and the student edition give it
    ("Exercise 4.2: <title>"): the grader reads it from the reference's exercise
    boxes, in the book's form or in the student edition's plain Markdown."""
    assert [s.label for s in _assignment(reference).specs] == [
        "Exercise 1: Write double",  # the test chapter has no number
        "Exercise 2: Write square",
        "Exercise 3: Write first",
    ]
    pytest.importorskip("pybtex")  # fwbook.colab reads the book's references with it
    colab = pytest.importorskip("fwbook.colab")
    converter = colab.Converter()
    root = Path(grading.__file__).resolve().parents[1]
    seen = 0
    for path in sorted((root / "book").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        labels = [s.label for s in grading.reference_specs(nb)]
        # the student edition's "**Exercise 4.1: <title>**", numbered by fwbook.colab
        student = converter.convert(nb, colab.chapter_number(path), path.name)
        assert [s.label for s in grading.reference_specs(student)] == labels, path
        n = int(path.name[:2])
        assert [lb.split(":")[0] for lb in labels] == [
            f"Exercise {n}.{i + 1}" for i in range(len(labels))
        ], path
        seen += len(labels)
    assert seen > 0


def test_an_unregistered_exercise_takes_its_own_box_s_difficulty():
    """Without a registered check the difficulty (so the points) is the one its box
    states, not another box's in the same cell, nor another directive's."""
    nb = new_notebook(
        cells=[
            new_markdown_cell(
                "```{note}\n:class: easy\n```\n\n"
                "```{exercise} First\n:class: easy\n\nText.\n```\n\n"
                "```{exercise} Second\n:label: ex-b\n:class: hard\n\nText.\n```"
            ),
            new_code_cell(
                "def b(x):\n    pass", metadata={"fenwicks_lite": {"answer": "chx.b"}}
            ),
            new_markdown_cell("```{exercise} Third\n\nText.\n```"),
            new_code_cell(
                "def c(x):\n    pass", metadata={"fenwicks_lite": {"answer": "chx.c"}}
            ),
        ]
    )
    specs = grading.reference_specs(nb)
    assert [(s.key, s.difficulty, s.label) for s in specs] == [
        ("chx.b", "hard", "Exercise 2: Second"),
        ("chx.c", "medium", "Exercise 3: Third"),  # no :class: - the default
    ]


def test_answer_cells_are_matched_by_metadata_then_id_then_function(reference):
    a = _assignment(reference)
    nb = chapter(SOLUTIONS, solutions=False)
    for c in nb.cells:
        c.metadata.pop("fenwicks_lite", None)  # a learner re-created the cells
    nb.cells.append(
        new_code_cell("def square(x):\n    return x ** 2  # a later, better answer")
    )
    found = grading.answer_cells(nb, a.specs)
    assert {k: how for k, (_, how) in found.items()} == {
        k: "function name" for k in KEYS
    }
    assert "x ** 2" in found["chgrade.square"][0]
    # an answer next to the stub, or in a copy of the answer cell, is the answer
    nb = grading.strip_solutions(chapter())
    i = next(i for i, c in enumerate(nb.cells) if "def double" in c.source)
    nb.cells.insert(i + 1, new_code_cell("def double(x):\n    return x + x"))
    copy = nbformat.from_dict(json.loads(json.dumps(nb.cells[i])))
    copy.source = "def square(x):\n    return x * x"
    copy.metadata["fenwicks_lite"]["answer"] = "chgrade.square"
    nb.cells.insert(0, copy)
    found = grading.answer_cells(nb, a.specs)
    assert found["chgrade.double"] == (
        "def double(x):\n    return x + x",
        "function name (not the unanswered cell)",
    )
    assert found["chgrade.square"][0] == "def square(x):\n    return x * x"
    assert "NotImplementedError" in found["chgrade.first"][0]
    ref = nbformat.read(reference, as_version=4)
    by_id = grading.answer_cells(ref, a.specs)
    assert {how for _, how in by_id.values()} == {"metadata"}
    assert grading.answer_cells(new_notebook(), a.specs) == {}


ROUNDABOUT = [
    'm = importlib.import_module("fenwicks_lite." + "exer" + "cises")',
    'setattr(m, "run_" + "hidden", lambda *a: 1)',
    'b = __builtins__; b["print"] = len',
    "get_ipython().events.register('post_run_cell', print)",
    "open('../fresh.ipynb').read()",
    "f = sys._getframe(1)",
    "exec(base64.b64decode(s))",
    "().__class__.__base__.__subclasses__()",
    "n = In[-1].rsplit(\"'\", 2)[-2]",
    "n = _ih[-1]",
    "os._exit(0)",
    "print('@@fenwicks_lite-grade@@' + n)",
]


def test_the_worker_hands_on_the_end_of_a_flood():
    flood = "x" * 10 + "\n" + "y" * (3 * grading.KEPT_CHARS) + "\nend\n"
    kept = grading._kept(flood)
    assert kept == "[...]\n" + flood[-grading.KEPT_CHARS :] and kept.endswith("y\nend\n")
    assert grading._kept("short\n") == "short\n"


@pytest.mark.parametrize("code", ROUNDABOUT)
def test_roundabout_reaches_for_the_grader_are_flagged(code):
    assert grading.suspicious(code), code
    # the fallback, for code that won't parse: the same lists, matched on its words
    assert grading.suspicious(code + "\n)"), code


def test_a_cell_that_does_not_parse_is_matched_on_the_same_lists():
    """The fallback flags what the parsed path flags (one set of lists for both), a
    built-in only where called, and not the honest words of an unfinished answer."""
    broken = "\n)"
    for code in [*ROUNDABOUT, *CHEATS.values()]:
        parsed = {f for f in grading.suspicious(code) if f.startswith("mentions")}
        assert parsed <= set(grading.suspicious(code + broken)), code
    for word in ("addaudithook", "signal", "pdb", "__self__", "f_code", "last_exc",
                 "co_consts", "_oh"):  # on the lists; the old fallback regex missed them
        assert grading.suspicious(f"x = y.{word}" + broken) == [f"mentions {word!r}"]
    assert grading.suspicious("v = vars(" + broken) == ["mentions 'vars'"]
    assert grading.suspicious("def f(x):\n    return x.compile(" + broken) == []
    assert grading.suspicious("def f(x):\n    return np.mean(x" + broken) == []


# the review's cheats (tmp/review-grader findings 1-3): a frame walk from a traceback
# that disabled `expect` or read the seed, and NumPy's comparison replaced
FRAME_WALK = """def hole_area(cy, cx, size, h, w):
    try:
        raise ValueError
    except ValueError as err:
        f = err.__traceback__.tb_frame
    while f is not None:
        if "expect" in f.f_globals:
            f.f_globals["expect"] = lambda ok, hint: None
        f = f.f_back
    return 0
"""
CHEATS = {
    "traceback": FRAME_WALK,
    "exc_info": "import sys\ndef f(x):\n    t = sys.exc_info()[2]\n    return t",
    "generator": "def f(x):\n    g = (i for i in [1])\n    return g.gi_frame.f_back",
    "coroutine": "async def c():\n    pass\nf = c().cr_frame",
    "locals": "def f(e):\n    return e.__traceback__.tb_next.tb_frame.f_locals",
    "numpy": "import numpy as np\nnp.array_equal = lambda *a, **k: True\n"
    "def cutout_fill(images, cy, cx, size, value):\n    return images.copy()",
    "alias": "import numpy\nn = numpy.testing\nn.assert_allclose = print",
    "math": "math.isclose = lambda *a, **k: True",
    "augmented": "import fenwicks_lite.checks.ch04 as c\nc.HOLE_AREA_CASES += []",
    "deleted": "del np.array_equal",
    "shell": "!cat /autograder/source/assignment.json",
    "memory": "open('/proc/self/mem', 'rb')",
}


@pytest.mark.parametrize("name", CHEATS)
def test_frame_walks_and_patched_modules_are_flagged(name):
    found = grading.suspicious(CHEATS[name], "ch04.hole_area")
    assert found, name
    if name in ("numpy", "alias", "math", "deleted"):
        assert any("an attribute of a module" in f for f in found), found


@pytest.mark.parametrize("code", [
    'model.compile(optimizer="sgd", loss="mse")',
    'pat = re.compile(r"seed(\\d+)")',
    "loss, acc = model.evaluate(x, y, verbose=0)",
    # the review's honest answer: the book's own check call, a comment, a string
    "def hole_area(cy, cx, size, h, w):\n    return 0\n\n\n"
    'fw.exercises.check("ch04.hole_area", hole_area)',
    "def f(size, h, w):\n    # sanity checks against a brute-force count\n"
    '    """Checks the exercises\' grading by hand."""\n    checks = [size]\n'
    "    return checks",
    "layer.trainable = False\nmodel.layers[0].kernel_initializer = 'he_normal'",
    "def f(x):\n    return x\n%timeit f(1)",
])
def test_honest_answers_are_not_flagged(code):
    assert grading.suspicious(code, "ch04.hole_area") == [], code


def test_the_check_call_of_another_exercise_is_flagged():
    code = 'def f(x):\n    return x\nfw.exercises.check("ch04.hole_area", f)'
    assert grading.suspicious(code, "ch04.hole_area") == []
    assert grading.suspicious(code, "ch04.expected_erased") == ["mentions 'exercises'"]


def test_no_solution_of_the_book_is_flagged():
    root = Path(grading.__file__).resolve().parents[1]
    for path in sorted((root / "book").glob("*.ipynb")):
        for c in nbformat.read(path, as_version=4).cells:
            if c.cell_type == "code" and grading.is_solution(c):
                keys = [k for k, _ in grading.find_checks(c.source)]
                found = grading.suspicious(c.source, keys[-1] if keys else "")
                assert found == [], (path.name, found)


def test_the_checks_are_imported_before_any_answer_runs(reference):
    """The fresh notebook's first cell imports the chapter's checks (their references
    to NumPy's comparisons are bound before an answer can replace them)."""
    a = _assignment(reference)
    fresh, roles = grading.fresh_notebook(a.reference, {}, a.specs)
    first = fresh.cells[0]
    assert roles[first.id] == "setup"
    assert f"_setup({KEYS!r})" in first.source
    # and neither the seed nor the hidden cases' numbers are in the notebook the
    # kernel runs: the checks run in the worker, the hidden cells only serve calls
    text = json.dumps(fresh)
    assert str(SEED) not in text
    assert str(exercises.hidden_entropy(SEED, "chgrade.double")) not in text
    hidden = [c for c in fresh.cells if roles.get(c.id, "").startswith("hidden:")]
    assert len(hidden) == 3 and all("._serve(" in c.source for c in hidden)


# ------------------------------------------------------------------ a batch: right, wro

ATTACKS = {
    # one line in another cell patches the self-check: only answer cells are carried
    # over
    "patcher": (
        {**SOLUTIONS, "square": "return x * 2"},
        lambda nb: nb.cells.insert(
            3,
            new_code_cell(
                "import fenwicks_lite.exercises as E\n"
                "E.run_check = lambda k, f: E.Result(k, True, 'ok')\n"
                "E.run_hidden = lambda k, f, s: E.Result(k, True, 'ok')"
            ),
        ),
    ),
    # the check cells are deleted, a check of another chapter is added: the total stays
    "deleter": (
        {"double": SOLUTIONS["double"]},
        lambda nb: (
            nb.cells.__setitem__(
                slice(None), [c for c in nb.cells if "check(" not in c.source]
            ),
            nb.cells.append(
                new_code_cell('fw.exercises.check("ch05.steps", lambda *a: 0)')
            ),
        ),
    ),
    # prints a verdict line of its own
    "forger": (
        {
            **SOLUTIONS,
            "square": f"print({grading.MARK!r} + "
            + repr(
                json.dumps(
                    {
                        "key": "chgrade.square",
                        "passed": True,
                        "status": "passed",
                        "message": "",
                    }
                )
            )
            + "); return 0",
        },
        None,
    ),
    # a lookup table of the public cases passes the self-check, not the hidden test
    "table": ({**SOLUTIONS, "double": "return {2: 4, -3: -6}[x]"}, None),
    # kills its parent (the grading process) during the hidden test
    "killer": (
        {
            **SOLUTIONS,
            "first": "import os, signal; os.kill(os.getppid(), signal.SIGKILL)",
        },
        None,
    ),
    # loops forever: that exercise times out, the rest is graded
    "looper": ({**SOLUTIONS, "first": "while True: pass"}, None),
    # called by the hidden test, prints a passing verdict with the nonce it reads in
    # the running cell's source (IPython's `In`), then ends the kernel before the real
    # verdict comes
    "exiter": (
        {
            **SOLUTIONS,
            "first": "import os, time; n = In[-1].rsplit(\"'\", 2)[-2]; "
            f"print({grading.MARK!r} + n + "
            + repr(
                json.dumps(
                    {
                        "key": "chgrade.first",
                        "passed": True,
                        "status": "passed",
                        "message": "",
                    }
                )
            )
            + ", flush=True); time.sleep(1); os._exit(0)",
        },
        None,
    ),
}
# the same verdict, printed by a thread until after the real one
ATTACKS["spammer"] = (
    {
        **SOLUTIONS,
        "first": "import threading, time\n    n = In[-1].rsplit(\"'\", 2)[-2]\n"
        "    def spam():\n        t = time.time()\n"
        "        while time.time() - t < 2:\n"
        f"            print({grading.MARK!r} + n + "
        + repr(
            json.dumps(
                {"key": "chgrade.first", "passed": True, "status": "passed"}
                | {"message": ""}
            )
        )
        + ", flush=True)\n            time.sleep(0.001)\n"
        "    threading.Thread(target=spam, daemon=True).start()\n    return None",
    },
    None,
)
# the same verdict, then a BaseException that the hidden cell does not catch
ATTACKS["escaper"] = (
    {
        **SOLUTIONS,
        "first": ATTACKS["exiter"][0]["first"].replace(
            "time.sleep(1); os._exit(0)", "raise SystemExit(0)"
        ),
    },
    None,
)


def _raise_before_double(nb) -> None:
    cell = next(c for c in nb.cells if c.source.startswith("def double"))
    cell.source = "x = 1 / 0\n" + cell.source


# the answer cell raises before it defines the function: attempted, so an error
ATTACKS["raiser"] = (SOLUTIONS, _raise_before_double)
# the review's seed leak (finding 2): on a hidden case, walks the frames and raises the
# checker's own CheckFailed with every number it found there
ATTACKS["seedleak"] = (
    {
        **SOLUTIONS,
        "double": "import sys\n    if x in (2, -3):\n        return 2 * x\n"
        "    f, seen, cls = sys._getframe(), [], None\n    while f is not None:\n"
        "        seen += [v for v in f.f_locals.values() if type(v) is int]\n"
        "        cls = f.f_globals.get('CheckFailed', cls)\n"
        "        f = f.f_back\n"
        "    cls = cls or __import__('fenwicks_lite.exercises').exercises.CheckFailed\n"
        "    raise cls(f'LEAKED {seen}')",
    },
    None,
)
# answers that change the checks in their own process (the audit of the grader): the
# second exercise's answer is wrong and replaces the grader's `run_hidden` by setattr,
# or NumPy's comparison that its check calls, or `print` (the old verdict line), or
# NumPy's comparison in a way `suspicious` does not recognise; the setattr one's third
# answer is wrong too. The checks run in the grading process, which the kernel cannot
# change: the wrong answers fail, flagged or not, with --trust-flagged too
TAMPER = {
    "setattr": (
        {**SOLUTIONS, "square": "return 0", "first": "return None"},
        {
            "square": 'E = __import__("fenwicks_lite.exercises", fromlist=["x"])\n'
            'setattr(E, "run_hidden", lambda k, f, **kw: E.Result(k, True, "ok"))\n'
            'setattr(E, "run_check", lambda k, f: E.Result(k, True, "ok"))\n'
        },
    ),
    "numpyset": (
        {**SOLUTIONS, "square": "return 0"},
        {"square": "import numpy as np\nnp.array_equal = lambda *a, **k: True\n"},
    ),
    "printer": (
        {**SOLUTIONS, "square": "return 0"},
        {
            "square": "import builtins\n_p = builtins.print\n"
            "builtins.print = lambda *a, **k: _p(a[0].replace('false', 'true'), **k)\n"
        },
    ),
    # not flagged: a module's own __setattr__, which no list of words names
    "sneaky": (
        {**SOLUTIONS, "square": "return 0"},
        {"square": 'np.__setattr__("array_equal", lambda *a, **k: True)\n'},
    ),
}


def _write_tampering(folder: Path) -> None:
    for i, (name, (answers, extra)) in enumerate(TAMPER.items()):
        nb = grading.strip_solutions(chapter(answers, extra=extra))
        _write(nb, folder / f"{name}_{250 + i}_1_chgrade.ipynb")


LEAKS = """
import os, glob, pathlib
leak = dict(env=sorted(k for k in os.environ if "SECRET" in k),
            solutions=glob.glob(BOOK + "/*.ipynb") + glob.glob(SUBS + "/*.ipynb"),
            home=open(PROBE).read() if os.path.exists(PROBE) else "")
try:
    import socket
    socket.create_connection(("127.0.0.1", PORT), timeout=2)
    leak["net"] = True
except OSError:
    leak["net"] = False
try:
    import fenwicks_lite
    pathlib.Path(fenwicks_lite.__file__).write_text("raise SystemExit('patched')")
    leak["lib"] = fenwicks_lite.__file__
except OSError as e:
    leak["lib"] = str(e)
try:
    import numpy
    pathlib.Path(numpy.__file__).with_name("fw_probe.txt").write_text("x")
    leak["site"] = "written"
except OSError:
    leak["site"] = "read-only"
work = os.path.dirname(os.getcwd())
for name, target in [("gradebook", OUT + "/gradebook.csv"), ("files", MINE + "/x"),
                     ("work", work + "/x")]:
    try:
        with open(target, "a") as f:
            f.write("999,forged\\n")
        leak[name] = "written"
    except OSError:
        leak[name] = "refused"
beside = set(os.listdir(os.path.dirname(work))) - {os.path.basename(work)}
leak["beside"] = sorted(beside)  # other folders beside its own
leak["fresh"] = os.path.exists(work + "/fresh.ipynb")
try:
    big = numpy.empty(3 * 2**30, numpy.uint8)  # address space only, no memory touched
    leak["mem"] = "allocated"
    del big
except MemoryError:
    leak["mem"] = "MemoryError"
print(leak)
"""


@pytest.fixture(scope="module")
def batch(reference, tmp_path_factory):
    """One graded folder of submissions (3 at a time): the honest ones and one per
    attack."""
    import socket

    subs = tmp_path_factory.mktemp("subs")
    _write(
        grading.strip_solutions(chapter(SOLUTIONS)), subs / "alice_101_1_chgrade.ipynb"
    )
    blank = grading.strip_solutions(chapter())
    # and the answer cell of "square" deleted
    blank.cells = [c for c in blank.cells
                   if (c.metadata.get(grading.META) or {}).get("answer") != "chgrade.square"]
    _write(blank, subs / "blank_102_1_chgrade.ipynb")
    _write(
        grading.strip_solutions(chapter({**SOLUTIONS, "square": "return x * 2"})),
        subs / "wrong_103_1_chgrade.ipynb",
    )
    for i, (name, (answers, edit)) in enumerate(ATTACKS.items()):
        nb = grading.strip_solutions(chapter(answers))
        if edit:
            edit(nb)
        _write(nb, subs / f"{name}_{200 + i}_1_chgrade.ipynb")
    _write_tampering(subs)
    other = chapter(SOLUTIONS, solutions=False)
    other.metadata["fenwicks_lite"]["chapter"] = "ch05"
    _write(other, subs / "other_300_1_05_input_pipeline.ipynb")
    # one student, two submissions (Canvas: on time and late)
    _write(
        grading.strip_solutions(chapter({"double": SOLUTIONS["double"]})),
        subs / "twin_500_1_chgrade.ipynb",
    )
    _write(
        grading.strip_solutions(chapter(SOLUTIONS)),
        subs / "twin_LATE_500_2_chgrade.ipynb",
    )
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    # a file of the instructor's home, its name this run's own (two test runs at once on
    # one machine must not remove each other's)
    home_probe = Path.home() / f".fw_grade_probe-{os.getpid()}-{secrets.token_hex(4)}"
    home_probe.write_text("the instructor's file")
    out = tmp_path_factory.mktemp("grades")
    mine = tmp_path_factory.mktemp("instructor")
    leaks = LEAKS.replace(
        "BOOK",
        repr(str(grading._book_dirs()[0]) if grading._book_dirs() else "/nonexistent"),
    ).replace("SUBS", repr(str(subs)))
    leaks = leaks.replace("PROBE", repr(str(home_probe))).replace(
        "PORT", str(server.getsockname()[1])
    )
    leaks = leaks.replace("OUT", repr(str(out))).replace("MINE", repr(str(mine)))
    _write(
        grading.strip_solutions(chapter(SOLUTIONS, extra={"double": leaks})),
        subs / "leaker_400_1_chgrade.ipynb",
    )
    os.environ["FW_TEST_SECRET_TOKEN"] = "s3cret"
    try:
        a = _assignment(reference, timeout=8, memory_gb=2)
        grades = grading.grade_batch(grading.collect([subs]), a, out, jobs=3)
    finally:
        os.environ.pop("FW_TEST_SECRET_TOKEN")
        server.close()
        home_probe.unlink(missing_ok=True)
    return {g.student: g for g in grades}, out, a


def _by_name(grades, name: str) -> grading.Grade:
    (g,) = [g for g in grades.values() if Path(g.notebook).name.startswith(name + "_")]
    return g


def test_honest_submissions_score_what_they_answer(batch):
    grades, _, a = batch
    # the default caps on processes and disk let a whole submission run
    assert (a.max_procs, a.disk_gb) == (grading.MAX_PROCS, grading.DISK_GB)
    full = _by_name(grades, "alice")
    assert (full.score, full.total, full.student) == (6, 6, "101")
    assert all(e.status == "passed" for e in full.exercises)
    # no flag, nothing held
    assert (full.flags, full.held, full.held_line()) == ([], 0, "")
    blank = _by_name(grades, "blank")
    assert blank.score == 0 and {e.status for e in blank.exercises} == {"not-attempted"}
    lost = next(e.message for e in blank.exercises if e.key == "chgrade.square")
    assert lost.startswith("no answer found: no cell defines `square`"), lost
    wrong = _by_name(grades, "wrong")
    assert _points(wrong) == {
        "chgrade.double": 1,
        "chgrade.square": 0,
        "chgrade.first": 3,
    }
    assert "x * x" in next(
        e.message for e in wrong.exercises if e.key == "chgrade.square"
    )


@pytest.mark.parametrize(
    "name, score",
    [
        ("patcher", 4),
        ("deleter", 1),
        # its flagged second answer is an error; the third, checked after it, is held
        ("forger", 1),
        ("table", 5),
        ("exiter", 3),
        ("escaper", 3),
        ("spammer", 3),
    ],
)
def test_attacks_do_not_raise_the_score(batch, name, score):
    g = _by_name(batch[0], name)
    assert (g.score, g.total) == (score, 6), g.table()


def test_lookup_table_fails_the_hidden_cases_only(batch):
    e = next(
        e for e in _by_name(batch[0], "table").exercises if e.key == "chgrade.double"
    )
    assert e.status == "error" and "hidden case" in e.message


def test_another_chapters_notebook_is_refused(batch):
    g = _by_name(batch[0], "other")
    assert g.score == 0 and "notebook of ch05, not of chgrade" in g.error


def test_a_killer_loses_its_own_points_not_the_batch(batch):
    grades, out, a = batch
    g = _by_name(grades, "killer")
    assert _points(g)["chgrade.first"] == 0
    if (
        a.mode() == "unshare"
    ):  # the kernel's parent is the namespace's init: SIGKILL is ignored
        assert _points(g)["chgrade.double"] == 1
    else:  # the worker died: this submission is reported as such, the others are graded
        assert "grading process died" in g.error
    rows = list(csv.DictReader((out / "gradebook.csv").open()))
    assert len(rows) == 22  # every submission has its row (two are one student's)


def test_an_answer_cell_that_raised_before_its_def_is_an_error(batch):
    g = _by_name(batch[0], "raiser")
    double = next(e for e in g.exercises if e.key == "chgrade.double")
    assert double.status == "error", g.table()  # attempted: not "not-attempted"
    # what the cell raised, not "no function given: define it" to one who did
    assert double.message.startswith(
        "your answer cell raised ZeroDivisionError: division by zero before it "
        "defined `double`"
    ), double.message
    assert "no function given" not in double.message
    assert _points(g) == {"chgrade.double": 0, "chgrade.square": 2, "chgrade.first": 3}


def test_an_answer_cannot_put_its_own_text_or_the_seed_into_the_feedback(batch):
    grades, out, _ = batch
    g = _by_name(grades, "seedleak")
    double = next(e for e in g.exercises if e.key == "chgrade.double")
    assert (double.status, double.points) == ("error", 0), g.table()
    assert "your function raised CheckFailed" in double.message
    assert "LEAKED" not in double.message and str(SEED) not in double.message
    assert any("_getframe" in f or "f_back" in f for f in g.flags), g.flags
    assert not any(str(SEED) in f.read_text() for f in (out / "feedback").iterdir())


@pytest.mark.parametrize(
    "name, flag",
    [
        ("setattr", "mentions 'setattr'"),
        ("numpyset", "assigns to 'np.array_equal', an attribute of a module"),
        ("printer", "mentions 'builtins'"),
        ("sneaky", None),
    ],
)
def test_an_answer_that_changes_the_checks_in_the_kernel_changes_nothing(
    batch, name, flag
):
    """An answer that replaces the grader's `run_hidden` (setattr), NumPy's comparison
    its check calls, or `print` (the verdict line) in the kernel passed with wrong
    answers when the checks ran there (the audit). They run in the grading process
    now: the wrong answer fails, flagged (with a note) or not flagged at all (a
    module's own __setattr__); a right answer after a flagged one is still held."""
    grades, out, _ = batch
    g = _by_name(grades, name)
    double, square, first = g.exercises
    assert (double.status, double.points, double.held) == ("passed", 1, 0), g.table()
    assert (square.status, square.points, square.held) == ("failed", 0, 0), g.table()
    assert "square(x) is x * x" in square.message, square.message
    if flag is None:  # unflagged: nothing held, the right third answer scores
        assert g.flags == [] and (first.status, first.points) == ("passed", 3)
        assert (g.score, g.held) == (4, 0), g.table()
        return
    assert flag in square.flags and flag in square.message.split("Note: your answer")[1]
    if name == "setattr":  # its third answer is wrong too: it fails, nothing held
        assert (first.status, first.points, first.held) == ("failed", 0, 0)
        assert (g.score, g.held) == (1, 0), g.table()
        return
    # the third answer is right, and ran after the flagged one: held for review
    assert (first.status, first.points, first.held) == ("held", 0, 3), g.table()
    assert (g.score, g.held, g.total) == (1, 3, 6)
    assert double.flags == [] and first.flags == square.flags
    assert (
        "it ran after your answer to Exercise 2: Write square (chgrade.square), "
        "which " in first.message and flag in first.message
    ), first.message
    rows = csv.DictReader((out / "gradebook.csv").open())
    row = next(r for r in rows if r["student"] == g.student)
    assert (row["chgrade.square"], row["total"], row["max"]) == ("0", "1", "6")
    assert row["held"] == "chgrade.first 3/3 if cleared"
    assert flag in row["flags"]
    feedback = (out / "feedback" / f"{g.student}.md").read_text()
    assert (
        "## Exercise 3: Write first (chgrade.first): held for review, 0 / 3 "
        "(3 / 3 if cleared)\n" in feedback
    ), feedback
    said = feedback.split("(3 / 3 if cleared)\n\n", 1)[1].split("\n", 1)[0]
    assert said.startswith(
        "held for your instructor to read, not scored until cleared: it ran after "
    ), said
    assert "write your answer to Exercise 2: Write square without that" in said, said
    assert "Held for your instructor to read: 3 more points" in feedback


def test_a_forged_verdict_line_cannot_score(batch):
    """The worker writes each verdict itself; what the kernel prints is never read
    as one (the forger prints a passing verdict and returns a wrong answer)."""
    g = _by_name(batch[0], "forger")
    square = next(e for e in g.exercises if e.key == "chgrade.square")
    assert (square.status, square.points) == ("failed", 0), g.table()


def test_holds_apply_from_the_first_flagged_answer_on():
    """`hold_flagged` on its own: what passed before the first flagged answer keeps
    its points; a flagged answer that failed keeps its verdict, with a note; with
    trust (--trust-flagged) everything keeps its verdict and the flags are carried."""

    def graded():
        return [
            grading.Graded("c.a", "passed", "ok.", 1, 1, label="Exercise 1: A"),
            grading.Graded("c.b", "failed", "not yet", 0, 2, label="Exercise 2: B"),
            grading.Graded("c.c", "passed", "ok.", 3, 3, label="Exercise 3: C"),
            grading.Graded("c.d", "timed-out", "timed out", 0, 1),
        ]

    flags = {"c.b": ["mentions 'setattr'"], "c.c": [], "c.a": []}
    ex = graded()
    grading.hold_flagged(ex, flags)
    assert [(e.status, e.points, e.held) for e in ex] == [
        ("passed", 1, 0), ("failed", 0, 0), ("held", 0, 3), ("timed-out", 0, 0),
    ]
    assert ex[1].message.startswith("not yet Note: your answer mentions 'setattr'")
    assert "your answer to Exercise 2: B (c.b), which mentions 'setattr'" in (
        ex[2].message
    )
    assert "write your answer to Exercise 2: B without that" in ex[2].message
    ex = graded()
    grading.hold_flagged(ex, flags, trust=True)
    assert [(e.status, e.points, e.message) for e in ex] == [
        (e.status, e.points, e.message) for e in graded()
    ]
    assert [e.flags for e in ex] == [[], *[["mentions 'setattr'"]] * 3]


def test_a_looping_answer_times_out_alone(batch):
    g = _by_name(batch[0], "looper")
    first = next(e for e in g.exercises if e.key == "chgrade.first")
    assert (
        first.status == "timed-out"
        and "timed out" in first.message
        and "8 s" in first.message
    )
    assert _points(g) == {"chgrade.double": 1, "chgrade.square": 2, "chgrade.first": 0}


def _kept_beside() -> set[str]:
    """The names in the folder of the work folders (the temporary folder) that lead to
    what the sandbox keeps visible: this Python and the data the kernel is given."""
    import tempfile

    tmp = Path(tempfile.gettempdir()).resolve()
    return {
        k.resolve().relative_to(tmp).parts[0]
        for k in grading._kept_in_sight(grading._clean_env(tmp))
        if k.resolve().is_relative_to(tmp) and k.resolve() != tmp
    }


def test_sandbox_hides_environment_solutions_network_and_protects_files(batch):
    import ast

    import fenwicks_lite

    grades, out, a = batch
    g = _by_name(grades, "leaker")
    # the probing code ran inside the first answer cell, and is flagged: that answer
    # and the two checked after it passed, and are held for the instructor to read
    assert (g.score, g.held) == (0, 6), g.table()
    assert {e.status for e in g.exercises} == {"held"}, g.table()
    assert any("os.environ" in f for f in g.flags)
    double = next(e for e in g.exercises if e.key == "chgrade.double")
    leak = ast.literal_eval(double.printed.strip().splitlines()[-1])
    assert leak["env"] == []  # the instructor's environment is not passed on
    assert (
        "fw_grade_" in leak["lib"]
    )  # the kernel imported (and patched) its private copy
    assert "patched" not in Path(fenwicks_lite.__file__).read_text()
    # each process of a submission gets --memory (here 2 GB) of data, in every mode
    assert leak["mem"] == "MemoryError"
    # the seed and the verdicts' nonce are not on the kernel's disk
    assert leak["fresh"] is False
    if a.mode() == "unshare":
        assert leak["solutions"] == [] and "instructor" not in leak["home"]
        assert leak["net"] is False and leak["site"] == "read-only"
        # nothing outside its own folder can be changed: not the gradebook (nor seen),
        # not the instructor's other files; the other submissions' folders are not there
        assert leak["gradebook"] == "refused" and leak["files"] == "refused"
        # nor its work folder outside its run/ tmpfs: nothing it writes reaches a disk
        assert leak["work"] == "refused"
        # beside it only what the kernel needs and the sandbox binds back: Python or the
        # data when they live in the same folder (a checkout's .venv under /tmp, say)
        assert set(leak["beside"]) <= _kept_beside(), leak["beside"]
    rows = list(csv.DictReader((out / "gradebook.csv").open()))
    assert "999" not in {r["student"] for r in rows}


def test_two_submissions_of_one_student_keep_both_feedbacks(batch):
    grades, out, _ = batch
    rows = [r for r in csv.DictReader((out / "gradebook.csv").open())]
    twins = [r for r in rows if r["student"] == "500"]
    assert sorted(r["total"] for r in twins) == ["1", "6"]
    assert all("has 2 submissions in this batch" in r["note"] for r in twins)
    files = sorted(f.name for f in (out / "feedback").glob("500*.md"))
    assert files == ["500__twin_500_1_chgrade.md", "500__twin_LATE_500_2_chgrade.md"]


def test_a_second_run_into_the_same_folder_is_refused_unless_asked(
    batch, reference, capsys
):
    grades, out, a = batch
    before = (out / "gradebook.csv").read_text()
    with pytest.raises(FileExistsError, match="grades of chgrade with seed 20261127"):
        grading.Gradebook(out, a)
    assert (out / "gradebook.csv").read_text() == before
    capsys.readouterr()
    _refused(str(reference), "--reference", str(reference), "--seed", "1",
             "--out", str(out), "--checks", str(_checks_file(reference.parent)))
    err = capsys.readouterr().err
    assert (out / "gradebook.csv").read_text() == before
    # refused before the grader says it is writing there
    assert "--overwrite to replace them" in err and "writing" not in err, err


def test_overwrite_leaves_no_stale_feedback(tmp_path, reference):
    a = _assignment(reference)
    book = grading.Gradebook(tmp_path, a)
    blank = [grading.Graded(k, "not-attempted", "", 0.0, 1.0) for k in KEYS]
    book.add(grading.Grade("s1", "s1.ipynb", blank))
    assert (tmp_path / "feedback" / "s1.md").exists()
    grading.Gradebook(tmp_path, a, overwrite=True)
    assert list((tmp_path / "feedback").iterdir()) == []
    assert len((tmp_path / "gradebook.csv").read_text().splitlines()) == 1


def test_a_notebook_with_odd_cells_is_the_notebooks_fault_not_the_graders(
    reference, tmp_path
):
    nb = grading.strip_solutions(chapter(SOLUTIONS))
    nb.cells[1].metadata["fenwicks_lite"] = "answer"  # a string, not a mapping
    path = _write(nb, tmp_path / "odd_1_1_chgrade.ipynb")
    g = grading.grade_notebook(path, _assignment(reference))
    assert g.score == 0 and g.error.startswith("cannot read it as a notebook"), g.error


def test_students_in_folders_are_named_by_their_folder():
    paths = [
        Path("subs/carol/05_input_pipeline.ipynb"),
        Path("subs/dave/05_input_pipeline.ipynb"),
        Path("subs/smithjohn_12345_67890_05_input_pipeline.ipynb"),
        Path("subs/erin.ipynb"),
    ]
    assert grading.batch_ids(paths) == ["carol", "dave", "12345", "erin"]
    # a notebook of another name in a student's folder (Colab's "Copy of ...") is that
    # student's too; notebooks side by side in one folder, or alone, keep their names
    paths += [
        Path("subs/frank/Copy of 05_input_pipeline.ipynb"),
        Path("subs/late/gina.ipynb"),
        Path("subs/late/hal.ipynb"),
    ]
    assert grading.batch_ids(paths) == [
        "carol", "dave", "12345", "erin", "frank", "gina", "hal"
    ]
    assert grading.batch_ids([Path("Downloads/05_input_pipeline.ipynb")]) == [
        "05_input_pipeline"
    ]
    # one student's folder in the folder given (`grade s7/` to regrade zoe alone): the
    # folder names her; a notebook directly in the folder given keeps its name
    assert grading.batch_ids(
        [Path("s7/zoe/07_schedule_sgd.ipynb")], roots=[Path("s7")]
    ) == ["zoe"]
    assert grading.batch_ids(
        [Path("s7/07_schedule_sgd.ipynb")], roots=[Path("s7")]
    ) == ["07_schedule_sgd"]


def test_gradebook_feedback_and_ids(batch):
    grades, out, a = batch
    rows = {r["student"]: r for r in csv.DictReader((out / "gradebook.csv").open())}
    assert rows["101"]["chgrade.square"] == "2" and rows["101"]["total"] == "6"
    assert rows["101"]["max"] == "6"
    feedback = (out / "feedback" / "101.md").read_text()
    # the student's notebook by its name, not the instructor's folders
    assert feedback.startswith("# Feedback: alice_101_1_chgrade.ipynb\n"), feedback
    assert str(Path(rows["101"]["notebook"]).parent) not in feedback
    # each exercise as the student's notebook names it, with its key
    assert "\n## Exercise 2: Write square (chgrade.square): passed, 2 / 2\n" in feedback
    wrong = (out / "feedback" / "103.md").read_text()
    assert "\n## Exercise 2: Write square (chgrade.square): failed, 0 / 2\n" in wrong
    assert "held" not in feedback and rows["101"]["held"] == ""
    assert len((out / "results.jsonl").read_text().splitlines()) == 22
    cfg = json.loads((out / "assignment.json").read_text())
    assert (cfg["seed"], cfg["flagged_answers"]) == (SEED, "held for review")


@pytest.fixture(scope="module")
def trusted(reference, tmp_path_factory):
    """The tampering submissions and an honest one, graded on the command line with
    --trust-flagged: the gradebook's rows, its folder, what the grader printed."""
    import contextlib
    import io

    subs = tmp_path_factory.mktemp("trusted")
    _write_tampering(subs)
    _write(
        grading.strip_solutions(chapter(SOLUTIONS)), subs / "honest_260_1_chgrade.ipynb"
    )
    out = tmp_path_factory.mktemp("trusted-grades")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = grading.main([
            "grade", str(subs), "--reference", str(reference), "--seed", str(SEED),
            "--out", str(out), "--jobs", "3", "--timeout", "20", "--trust-flagged",
            "--checks", str(_checks_file(reference.parent)),
        ])
    assert rc == 0, err.getvalue()
    rows = {r["student"]: r for r in csv.DictReader((out / "gradebook.csv").open())}
    return rows, out, err.getvalue()


def test_trust_flagged_credits_flagged_answers_and_says_so(trusted):
    """--trust-flagged keeps the old policy: a flagged answer is credited and still
    listed under flags. The tampering does not work even then: the checks run in the
    grading process, out of the kernel's reach, and its wrong answers score 0."""
    rows, out, err = trusted
    assert {s: r["total"] for s, r in rows.items()} == {
        "250": "1", "251": "4", "252": "4", "253": "4", "260": "6"
    }
    assert {r["held"] for r in rows.values()} == {""}
    assert "chgrade.square: the answer mentions 'setattr'" in rows["250"]["flags"]
    assert "np.array_equal" in rows["251"]["flags"] and rows["260"]["flags"] == ""
    assert "flagged answers credited (--trust-flagged)" in err
    cfg = json.loads((out / "assignment.json").read_text())
    assert cfg["flagged_answers"] == "credited (--trust-flagged)"
    feedback = (out / "feedback" / "250.md").read_text()
    assert "held" not in feedback
    assert "## Exercise 2: Write square (chgrade.square): failed, 0 / 2" in feedback
    assert "## Exercise 3: Write first (chgrade.first): failed, 0 / 3" in feedback
    assert rows["253"]["flags"] == "" and rows["253"]["chgrade.square"] == "0"


def test_a_syntax_error_names_the_line_of_the_cell_not_ipythons_file():
    cell = {"outputs": [{
        "output_type": "error", "ename": "SyntaxError",
        "evalue": "expected ':' (1065031382.py, line 1)",
    }]}
    assert grading._error(cell) == "SyntaxError: expected ':' (line 1)"
    assert grading._error({"outputs": []}) == ""


@pytest.mark.parametrize(
    "name, pattern, want",
    [
        ("smithjohn_12345_67890_05_input_pipeline.ipynb", None, "12345"),  # Canvas
        ("smithjohn_LATE_12345_67890_05.ipynb", None, "12345"),  # Canvas, late
        ("John Smith_4242_assignsubmission_file_05.ipynb", None, "4242"),  # Moodle
        (
            "Ch5_jsmith_attempt_2026-11-27-10-00-00_05.ipynb",
            None,
            "jsmith",
        ),  # Blackboard
        ("05_input_pipeline.ipynb", None, "05_input_pipeline"),
        ("s-77-ch05.ipynb", r"s-(?P<id>\d+)-", "77"),
    ],
)
def test_student_id_from_lms_file_names(name, pattern, want):
    assert grading.student_id(Path(name), pattern) == want
    with pytest.raises(ValueError, match="does not match"):
        grading.student_id(Path("x.ipynb"), r"(?P<id>\d+)")


# ------------------------------------------------------------------ checker bugs, Grade


def test_a_checker_bug_is_the_checkers_not_the_learners():
    path = Path(exercises.__file__).parent / "checks" / "chbug_virtual.py"
    code = compile(
        "from fenwicks_lite.exercises import exercise\n"
        "@exercise('chbug.x', title='t', difficulty='easy')\n"
        "def _c(fn):\n    fn(1)\n    assert False, 'plain assert'\n",
        str(path),
        "exec",
    )
    exec(code, {})
    r = exercises.run_check("chbug.x", lambda x: x)
    assert r.status == "checker-error" and "not in your answer" in r.message
    r = exercises.run_check("chbug.x", lambda x: 1 / 0)
    assert r.status == "error" and "your function raised ZeroDivisionError" in r.message


def test_gradescope_autograder_zip_runs_and_writes_results_json(reference, tmp_path):
    a = _assignment(reference)
    zpath = grading.build_autograder(a, tmp_path / "autograder.zip")
    names = zipfile.ZipFile(zpath).namelist()
    assert {
        "setup.sh",
        "run_autograder",
        "reference.ipynb",
        "assignment.json",
        "lib/fenwicks_lite/grading.py",
        "requirements.txt",
        "checks.py",  # the test chapter's checkers (--checks)
    } <= set(names)
    root = tmp_path / "autograder"
    zipfile.ZipFile(zpath).extractall(root / "source")
    assert "return x * x" not in (root / "source" / "reference.ipynb").read_text()
    # the zip never holds the seed: only each exercise's number for its hidden cases,
    # the same ones the local grader draws from that seed
    cfg = json.loads((root / "source" / "assignment.json").read_text())
    assert "seed" not in cfg
    assert cfg["entropy"] == {
        s.key: exercises.hidden_entropy(SEED, s.key) for s in a.specs
    }
    flagged = {"first": "import os; os.environ.get('HOME'); return x[0]"}
    sub = _write(
        grading.strip_solutions(chapter({**SOLUTIONS, "square": "return 0", **flagged})),
        root / "submission" / "mine.ipynb",
    )
    assert sub.is_file()
    env = {
        **os.environ,
        "AUTOGRADER_ROOT": str(root),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],
        env=env,
        check=True,
        timeout=300,
    )
    res = json.loads((root / "results" / "results.json").read_text())
    # the flagged answer passed its checks and is held: 0 points, its max kept
    assert res["score"] == 1, json.dumps(res, indent=1)[:3000]
    visible = [t for t in res["tests"] if t["visibility"] == "visible"]
    assert [(t["name"], t["score"], t["max_score"], t["status"]) for t in visible] == [
        ("Exercise 1: Write double (chgrade.double)", 1, 1, "passed"),
        ("Exercise 2: Write square (chgrade.square)", 0, 2, "failed"),
        ("Exercise 3: Write first (chgrade.first)", 0, 3, "failed"),
    ]
    held = visible[2]["output"]  # what the student sees: why, and what to do
    assert held.startswith("held for your instructor to read"), held
    assert "your answer mentions 'os.environ'" in held, held
    assert "It scores 3 / 3 once your instructor clears it" in held, held
    assert "write the answer without that" in held, held
    assert "1 held for your instructor to read (3 points)" in res["output"]
    # the flags, the held points and the isolation: in a test the students never see
    # (Gradescope's "hidden"), not in the top-level output, which they do
    (notes,) = [t for t in res["tests"] if t["visibility"] == "hidden"]
    assert (notes["score"], notes["max_score"]) == (0, 0)
    assert "flag: chgrade.first: the answer mentions 'os.environ'" in notes["output"]
    assert "held for review: chgrade.first 3/3 if cleared" in notes["output"]
    assert f"isolation: {a.mode()}" in notes["output"]
    assert "flagged answers held for review" in notes["output"]
    assert "flag:" not in res["output"] and "isolation" not in res["output"]


def _refused(*args: str) -> None:
    """``grade ARGS`` on the command line stops with a usage error (SystemExit)."""
    with pytest.raises(SystemExit):
        grading.main(["grade", *args])


def test_cli_errors_say_what_to_do(reference, tmp_path, capsys):
    _refused(str(tmp_path / "nope"), "--seed", "1", "--reference", str(reference))
    assert "no such notebook or folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    _refused(str(tmp_path / "empty"), "--seed", "1")
    assert "no .ipynb notebook" in capsys.readouterr().err
    _refused(str(reference), "--reference", str(reference), "--seed", "1",
             "--chapter", "ch05")
    assert "not ch05" in capsys.readouterr().err
    _refused(str(reference), "--reference", str(reference), "--seed", "1",
             "--max-procs", "0")
    assert "--max-procs takes a number of processes, 1 or more" in (
        capsys.readouterr().err
    )
    _refused(str(reference), "--reference", str(reference), "--seed", "1",
             "--checks", str(reference))
    assert "--checks takes a Python file of checkers (FILE.py)" in (
        capsys.readouterr().err
    )


def test_gradescope_reads_the_cifar10_setup_fetched(reference, tmp_path):
    """setup.sh fetches CIFAR-10 once, while Gradescope builds the image, and notes
    where; run_autograder hands that to the grader (which passes CIFAR10_DIR on to the
    kernel): without it every submission's kernel found no data and tried to download
    163 MB, and an answer using the chapter's `data` failed."""
    zpath = grading.build_autograder(_assignment(reference), tmp_path / "ag.zip")
    root = tmp_path / "autograder"
    zipfile.ZipFile(zpath).extractall(root / "source")
    setup = (root / "source" / "setup.sh").read_text()
    assert "data.load_cifar10()" in setup and "/autograder/data/cifar10_path" in setup
    (root / "data").mkdir()
    (root / "data" / "cifar10_path").write_text("/somewhere/cifar-10-batches-py\n")
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python3").write_text('#!/bin/sh\necho "CIFAR10_DIR=$CIFAR10_DIR"\n')
    (fake / "python3").chmod(0o755)
    env = {"PATH": f"{fake}:/usr/bin:/bin", "AUTOGRADER_ROOT": str(root)}
    run = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert run.stdout.strip() == "CIFAR10_DIR=/somewhere/cifar-10-batches-py", run
    # on Gradescope: the virtual environment setup.sh made, not the image's python3
    # (which newer images do not let pip install into, PEP 668)
    assert "python3 -m venv /autograder/venv" in setup
    assert "/autograder/venv/bin/python -m pip install" in setup
    venv_py = root / "venv" / "bin" / "python"
    venv_py.parent.mkdir(parents=True)
    venv_py.write_text('#!/bin/sh\necho "venv $1 $2"\n')
    venv_py.chmod(0o755)
    run = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert run.stdout.strip() == "venv -m fenwicks_lite.grading", run


def test_autograder_without_a_chapter_says_to_name_one(tmp_path, capsys):
    with pytest.raises(SystemExit):
        grading.main(["autograder", "--seed", "1", "--out", str(tmp_path / "a.zip")])
    err = capsys.readouterr().err
    assert "--chapter chNN" in err and "submissions" not in err, err


def test_a_grading_process_that_dies_says_why(reference, tmp_path, monkeypatch):
    """A sandbox that fails before the worker reports (a venv out of its sight, a
    failed mount): the error carries the end of its stderr, not only the exit
    status."""
    sub = _write(
        grading.strip_solutions(chapter(SOLUTIONS)), tmp_path / "s" / "a_1_1_x.ipynb"
    )
    dies = "import sys; sys.stderr.write('exec: python: not found\\n'); sys.exit(127)"
    monkeypatch.setattr(
        grading, "sandbox_command", lambda *a, **k: [sys.executable, "-c", dies]
    )
    with pytest.raises(grading.GradingEnvironmentError) as e:
        grading.grade_notebook(sub, _assignment(reference, isolation="process"))
    msg = str(e.value)  # before any answer ran: the environment's, not a grade
    assert "ended with exit status 127 before any code of the submission ran" in msg
    assert "its last words: exec: python: not found" in msg, msg


@pytest.mark.skipif(not grading.unshare_works(), reason="needs unshare")
def test_a_venv_through_a_symlinked_folder_runs_in_the_sandbox(tmp_path, monkeypatch):
    """Python started as ``/tmp/x/.venv/bin/python`` with ``/tmp/x/.venv`` a link: the
    tmpfs over the work folder's parent (/tmp) hid that path (exit status 127 for
    every submission); the sandbox runs the interpreter from its real folder."""
    venv = Path(sys.prefix)
    if venv == Path(sys.base_prefix):
        pytest.skip("not in a virtual environment")
    link = tmp_path / "venv"
    link.symlink_to(venv.resolve(), target_is_directory=True)
    monkeypatch.setattr(sys, "executable", str(link / "bin" / Path(sys.executable).name))
    work = tmp_path / "fw_grade_x"
    (work / "run").mkdir(parents=True)
    cmd = grading.sandbox_command(work, [], [work, venv], "unshare")
    body, last = cmd[-1].rsplit("\n", 1)
    assert last.endswith("-m fenwicks_lite.grading _worker")
    probe = "import sys, nbclient; print(sys.prefix)"
    script = body + "\n" + last.replace("-m fenwicks_lite.grading _worker", "-c " + repr(probe))
    out = subprocess.run([*cmd[:-1], script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()).resolve() == venv.resolve()  # still the venv


@pytest.mark.skipif(not grading.unshare_works(), reason="needs unshare")
def test_what_is_kept_beside_the_work_folder_stays_readable(tmp_path):
    """The tmpfs over the work folder's parent must not hide what the kernel needs
    there (the data or Python in /tmp, say): it is bound back, read-only."""
    work, data = tmp_path / "fw_grade_x", tmp_path / "cifar"
    (work / "run").mkdir(parents=True)
    data.mkdir()
    (data / "batch").write_text("images\n")
    (tmp_path / "other").mkdir()
    cmd = grading.sandbox_command(work, [], [work, data], "unshare")
    script = cmd[-1].rsplit("\nexec ", 1)[0] + (
        f"\ncat {data}/batch; ls {tmp_path}; touch {data}/x || echo read-only"
    )
    out = subprocess.run([*cmd[:-1], script], capture_output=True, text=True)
    assert out.stdout.split() == ["images", "cifar", "fw_grade_x", "read-only"], out


def test_docker_command_has_no_network_and_a_read_only_root(tmp_path):
    cmd = grading.sandbox_command(tmp_path, [], [tmp_path], "docker", "fw-grader:1")
    assert cmd[:2] == ["docker", "run"] and "--network" in cmd and "none" in cmd
    assert "--read-only" in cmd and "fw-grader:1" in cmd
    cmd = grading.sandbox_command(tmp_path, [], [], "docker", "fw-grader:1", 2, 64, 0.5)
    assert cmd[cmd.index("--memory") + 1] == "2048m"  # --memory, the container's cap
    assert cmd[cmd.index("--pids-limit") + 1] == "64"  # --max-procs
    # --disk: the work folder read-only, the kernel's folder and /tmp tmpfs of 512 MB
    assert f"{tmp_path}:{tmp_path}:ro" in cmd
    assert f"{tmp_path / 'run'}:rw,exec,size=524288k" in cmd
    assert "/tmp:size=524288k" in cmd


def test_docker_command_hands_the_container_the_kernels_environment_and_data(
    tmp_path, monkeypatch
):
    """A container starts with none of the grader's environment: the kernel's (but
    PATH, the image's own) goes in with -e, and CIFAR10_DIR's folder is mounted
    read-only at the same path. Without them a chapter's first cell found no data
    in the container (no network, no Keras cache) and every submission failed."""
    data = tmp_path / "cifar"
    data.mkdir()
    work = tmp_path / "w"
    monkeypatch.setenv("CIFAR10_DIR", str(data))
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    env = grading._clean_env(work)
    cmd = grading.sandbox_command(work, [], [], "docker", "fw-grader:1", env=env)
    given = {cmd[i + 1] for i, x in enumerate(cmd[:-1]) if x == "-e"}
    assert given == {f"{k}={v}" for k, v in env.items() if k != "PATH"}
    assert given >= {f"CIFAR10_DIR={data}", f"HOME={work / 'run'}", "KERAS_BACKEND=jax",
                     "MPLBACKEND=Agg", "JAX_PLATFORMS=cpu", f"PYTHONPATH={work / 'lib'}",
                     "FENWICKS_LITE_PROFILE=quick", "PYTHONNOUSERSITE=1"}
    mount = cmd.index(f"{data}:{data}:ro")
    assert cmd[mount - 1] == "-v" and mount < cmd.index("fw-grader:1")
    # without an env given, the kernel's own (the same command)
    assert grading.sandbox_command(work, [], [], "docker", "fw-grader:1") == cmd
    monkeypatch.setattr(grading, "_kernel_data", lambda: None)  # no data: no mount
    bare = grading.sandbox_command(work, [], [], "docker", "fw-grader:1")
    assert not any(x.endswith(":ro") and str(data) in x for x in bare)


def test_kernels_read_cifar10_dir_else_the_sample_else_the_graders_keras_cache(
    tmp_path, monkeypatch
):
    """The graded kernels have their own home and no network: they read the copy the
    grader names (CIFAR10_DIR), else the checkout's sample, else the grader's own Keras
    cache, which an installed library's kernels could not find before."""
    from fenwicks_lite import data

    env_dir, sample, cache = (tmp_path / n for n in ("env", "sample", "cache"))
    for d in (env_dir, sample, cache):
        d.mkdir()
    monkeypatch.setenv(data.ENV_VAR, str(env_dir))
    monkeypatch.setattr(data, "mini_sample_dir", lambda: sample)
    monkeypatch.setattr(data, "keras_cached", lambda: cache)
    assert grading._kernel_data() == env_dir
    monkeypatch.delenv(data.ENV_VAR)
    assert grading._kernel_data() == sample
    monkeypatch.setattr(data, "mini_sample_dir", lambda: None)
    assert grading._kernel_data() == cache
    assert grading._clean_env(tmp_path / "w")[data.ENV_VAR] == str(cache)
    monkeypatch.setattr(data, "keras_cached", lambda: None)
    assert grading._kernel_data() is None
    assert data.ENV_VAR not in grading._clean_env(tmp_path / "w")


def test_grading_a_chapter_without_cifar10_stops_before_the_first_submission(
    reference, tmp_path, monkeypatch, capsys
):
    """A chapter whose first cell reads CIFAR-10, and no copy for the kernels: one
    message that says what to set, exit status 2, no submission run, nothing written.
    (Before, every submission ran and failed on the chapter's first cell.)"""
    nb = nbformat.read(reference, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(
        "import fenwicks_lite as fw\nprofile, data = fw.book.start()"))
    chapter_ref = _write(nb, tmp_path / "ref" / "chgrade.ipynb")
    assert grading._reads_cifar10(nb) and not grading._reads_cifar10(
        nbformat.read(reference, as_version=4))
    monkeypatch.setattr(grading, "_kernel_data", lambda: None)
    monkeypatch.setattr(grading, "grade_notebook", lambda *a, **k: pytest.fail("ran"))
    _subs(tmp_path, 2)
    out = tmp_path / "g"
    rc = grading.main([
        "grade", str(tmp_path / "subs"), "--reference", str(chapter_ref),
        "--seed", "1", "--isolation", "process", "--out", str(out),
        "--checks", str(_checks_file(reference.parent)),
    ])
    err = capsys.readouterr().err
    assert rc == 2 and "no CIFAR-10 for the graded notebooks" in err, err
    assert "set the environment variable CIFAR10_DIR to the folder" in err, err
    assert "data.load_cifar10()" in err, err
    assert "synthetic" not in err and "`path`" not in err, err
    assert not out.exists()


# ------------------------------------------------------------------ the real chapters


def test_every_chapters_solutions_can_be_graded():
    """``grade --solutions`` finds a solution for every exercise of every chapter: the
    answer cell gets code that defines the exercise's function, without the self-check
    call and without the stub's NotImplementedError (the grading of all ten chapters
    this way passed, 39/39, on 2026-12-08; chapter 9's is graded below)."""
    from fwbook import notebooks as book_pages

    for path in book_pages.chapters():
        nb = nbformat.read(path, as_version=4)
        specs = grading.reference_specs(nb)
        answered, missing = grading.solutions_notebook(nb, specs)
        assert missing == [], (path.name, missing)
        found = grading.answer_cells(answered, specs)
        for s in specs:
            src = found[s.key][0]
            assert s.function in grading.defined_functions(src), (s.key, src)
            assert not grading.find_checks(src) and "NotImplementedError" not in src, (
                s.key, src)


def test_grade_solutions_of_a_real_chapter_scores_full_marks(tmp_path, capsys):
    """Chapter 9's own solutions through the grader, end to end (seconds: its quick
    profile reads only the committed records)."""
    out = tmp_path / "try09"
    rc = grading.main(["grade", "--solutions", "--chapter", "ch09", "--seed", "7",
                       "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 0, err
    (row,) = list(csv.DictReader((out / "gradebook.csv").open()))
    assert (row["student"], row["total"]) == ("solutions", row["max"]), row
    assert float(row["max"]) > 0 and row["flags"] == "" and row["held"] == ""


def test_every_chapter_defines_its_exercises_in_metadata():
    import yaml

    root = Path(grading.__file__).resolve().parents[1]
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [
        root / f"{c['file']}.ipynb" for part in toc["parts"] for c in part["chapters"]
    ]
    for path in [f for f in files if f.exists()]:
        nb = nbformat.read(path, as_version=4)
        specs = grading.reference_specs(nb)
        directives = sum(
            "{exercise}" in c.source for c in nb.cells if c.cell_type == "markdown"
        )
        assert len(specs) == directives, (
            f"{path.name}: an exercise without an answer cell"
        )
        if not path.name[:2].isdigit():  # the appendix: no chapter, so no exercises
            assert directives == 0, f"{path.name}: exercises outside a chapter"
            continue
        assert grading.chapter_of(nb) == "ch" + path.name[:2], path.name
        for s in specs:
            assert s.function and exercises.get(s.key).difficulty == s.difficulty, (
                path.name,
                s,
            )


def test_a_real_chapter_graded_once(tmp_path):
    """Chapter 1's student notebook with one right and one wrong answer, graded end to
    end (the whole chapter runs in the quick profile: about a minute)."""
    root = Path(grading.__file__).resolve().parents[1]
    ref = root / "book" / "01_data_location.ipynb"
    nb = nbformat.read(ref, as_version=4)
    solution = next(
        c.source
        for c in nb.cells
        if grading.is_solution(c)
        and c.cell_type == "code"
        and "def project_paths" in c.source
    )
    student = grading.strip_solutions(nb)
    for c in student.cells:
        key = (c.metadata.get("fenwicks_lite") or {}).get("answer")
        if key == "ch01.project_paths":
            c.source = solution.split("fw.exercises.check")[0]
        elif key == "ch01.safe_to_clean":
            c.source = "def safe_to_clean(path):\n    return True"
    sub = _write(student, tmp_path / "subs" / "ada_7_1_01_data_location.ipynb")
    a = grading.Assignment.load(ref, SEED, timeout=60)
    g = grading.grade_notebook(sub, a, grading.student_id(sub))
    assert (g.student, g.total) == ("7", 3), g.table()
    assert _points(g) == {"ch01.project_paths": 1, "ch01.safe_to_clean": 0}, g.table()
    assert "must be refused" in g.exercises[1].message


def test_nested_folders_are_covered_once(tmp_path):
    """Submissions in a folder inside the reference's: covering the outer folder hides
    the inner one, and a second mount over it would fail (it killed every grading
    process, exit status 32)."""
    ref, subs, home = tmp_path / "ref", tmp_path / "ref" / "subs", tmp_path / "home"
    (home / "python").mkdir(parents=True)
    (home / "notes").mkdir()
    subs.mkdir(parents=True)
    (subs / "a.ipynb").write_text("{}")
    assert grading._hideable([ref, subs, subs / "a.ipynb"], []) == [ref.resolve()]
    # a folder holding something kept is opened up: its other entries are covered
    got = grading._hideable([home, home / "notes", ref], [home / "python"])
    assert got == sorted([(home / "notes").resolve(), ref.resolve()])
    cmd = grading.sandbox_command(tmp_path / "w", [subs, ref], [], "unshare")
    mounts = [ln for ln in cmd[-1].splitlines() if "fwhide" in ln]
    assert len(mounts) == 1 and str(ref.resolve()) in mounts[0]


@pytest.mark.skipif(not grading.unshare_works(), reason="needs unshare")
def test_a_hidden_file_removed_before_the_sandbox_starts_is_no_error(tmp_path):
    """A file listed for hiding and removed before the mounts (the instructor's editor,
    or another grading's probe file in the home folder) has nothing left to hide: the
    sandbox starts (its mount failed with exit status 32 and killed the grading), and
    what is still there stays covered."""
    home = tmp_path / "home"  # apart from the work folder's parent, which is covered
    home.mkdir()
    gone, there = home / "gone.txt", home / "there.txt"
    gone.write_text("x")
    there.write_text("the instructor's file")
    work = tmp_path / "grading" / "w"
    (work / "run").mkdir(parents=True)
    cmd = grading.sandbox_command(work, [gone, there], [work], "unshare")
    body, last = cmd[-1].rsplit("\n", 1)
    assert last.startswith("exec ")  # the worker: replaced by a look at the file
    gone.unlink()
    out = subprocess.run([*cmd[:-1], body + f"\ncat {there}; echo started"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "started\n"  # there.txt reads as /dev/null inside


# ------------------------------------------------------------------ processes and disk

# starts 200 processes when the answer cell runs (killed again in its `finally`): with
# --max-procs 64 (the worker's and the kernel's threads count too) the 200 never run
FORKS = """
import subprocess
procs = []
try:
    for _ in range(200):
        procs.append(subprocess.Popen(["sleep", "30"]))
finally:
    for p in procs:
        p.kill()
        p.wait()
"""
# writes a 200 MB file when the answer cell runs: --disk 0.05 (51.2 MB) stops it; the
# file stays open in the kernel (so removing it alone would free nothing on a tmpfs)
WRITES = """
big = open("big.bin", "wb")
for _ in range(200):
    big.write(bytes(2**20))
"""
# the next answer writes 40 MB: it fits only if the 51 MB of the last one were removed
AFTER = """
with open("after.bin", "wb") as f:
    f.write(bytes(40 * 2**20))
"""


@pytest.fixture(scope="module", params=["unshare", "process"])
def limited(request, reference, tmp_path_factory):
    """A fork bomb (bounded), a disk filler and an honest submission, graded with
    --max-procs 64 and --disk 0.05 in each isolation mode that caps them here."""
    mode = request.param
    if mode == "unshare" and not grading.unshare_works():
        pytest.skip("unshare does not work here (no unprivileged user namespaces)")
    subs = tmp_path_factory.mktemp(f"limited-{mode}")
    answers = {**SOLUTIONS}
    for i, (name, extra) in enumerate([
        ("forks", {"double": FORKS}),
        ("writes", {"double": WRITES, "square": AFTER}),
        ("honest", {"square": AFTER}),
    ]):
        nb = grading.strip_solutions(chapter(answers, extra=extra))
        _write(nb, subs / f"{name}_{600 + i}_1_chgrade.ipynb")
    # FORKS starts processes with `subprocess`, which is flagged: credited here, so
    # that the exercises after it show whether the kernel lived on
    a = _assignment(
        reference, timeout=20, isolation=mode, max_procs=64, disk_gb=0.05,
        trust_flagged=True,
    )
    out = tmp_path_factory.mktemp(f"limited-grades-{mode}")
    grades = grading.grade_batch(grading.collect([subs]), a, out, jobs=2)
    return {Path(g.notebook).name.split("_")[0]: g for g in grades}, a


def test_too_many_processes_fail_that_answer_alone(limited):
    grades, a = limited
    if not grading.process_cap(a.mode()):
        pytest.skip("processes are not capped in process mode here (no cgroup)")
    g = grades["forks"]
    double = next(e for e in g.exercises if e.key == "chgrade.double")
    assert double.status == "over-limit", g.table()
    assert (
        "defining the answer started more than 64 processes and threads at once "
        "(--max-procs)" in double.message
    )
    # the neighbouring exercises still score: the kernel lived, the sleeps are gone
    assert _points(g) == {"chgrade.double": 0, "chgrade.square": 2, "chgrade.first": 3}
    assert not g.error, g.table()


def test_a_disk_filler_fails_that_answer_alone(limited):
    grades, a = limited
    g = grades["writes"]
    double = next(e for e in g.exercises if e.key == "chgrade.double")
    assert double.status == "over-limit", g.table()
    assert "defining the answer wrote more than 51.2 MB (--disk)" in double.message
    # its 51 MB were removed: the next answer's 40 MB fit under the same cap
    assert _points(g) == {"chgrade.double": 0, "chgrade.square": 2, "chgrade.first": 3}
    assert _points(grades["honest"]) == {
        "chgrade.double": 1,
        "chgrade.square": 2,
        "chgrade.first": 3,
    }, grades["honest"].table()


NPROC = """
import subprocess
from fenwicks_lite.grading import _Limits, _userns_not_root
assert _userns_not_root()
limits = _Limits({"cwd": "/", "max_procs": 16})
procs, before = [], limits.before()
try:
    for _ in range(40):
        procs.append(subprocess.Popen(["sleep", "30"]))
except BlockingIOError as e:
    cell = {"id": "c", "outputs": [{"output_type": "error", "ename": "BlockingIOError",
                                    "evalue": str(e)}]}
    print("refused", len(procs), limits.after(cell, before, None), limits.over_procs)
finally:
    for p in procs:
        p.kill()
        p.wait()
"""


def test_without_a_cgroup_rlimit_nproc_caps_the_namespace_alone(tmp_path):
    """Where no pids cgroup can be made (an instructor who is not root), the worker
    caps its namespace with RLIMIT_NPROC, which the kernel counts per user namespace
    (30 processes of the same user outside do not count) and never enforces for the
    host's root: so this runs as `nobody` when the tests run as root."""
    if not grading.unshare_works():
        pytest.skip("unshare does not work here")
    root = str(Path(grading.__file__).resolve().parents[1])
    user = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups"]
    user = user if os.geteuid() == 0 else []
    outside = 'p=""; for i in $(seq 30); do sleep 20 >/dev/null & p="$p $!"; done; '
    for py in [sys.executable, "/usr/bin/python3"]:
        script = outside + f"unshare -rmnp --fork --mount-proc {py} -c \"$0\""
        try:
            out = subprocess.run(
                [*user, "sh", "-c", script + "; kill $p", NPROC],
                capture_output=True, text=True, timeout=60,
                env={**os.environ, "PYTHONPATH": root},
            )
        except FileNotFoundError:
            pytest.skip("setpriv is missing")
        if "refused" in out.stdout:
            break
    else:
        pytest.skip(f"no Python that {'nobody' if user else 'I'} can run: {out.stderr}")
    # 16 tasks: unshare, Python and 14 sleeps; the cell is reported over the limit
    assert out.stdout.split() == ["refused", "14", "True", "['c']"], out


def test_an_assignment_without_seed_or_numbers_says_how_to_fix_it(reference):
    a = grading.Assignment.load(reference, None, entropies={})
    key = a.specs[0].key
    with pytest.raises(ValueError, match="build the autograder again with --seed"):
        a.entropy(key)
    b = grading.Assignment.load(reference, None, entropies={key: 12345})
    assert b.entropy(key) == 12345
    assert _assignment(reference).entropy(key) == exercises.hidden_entropy(SEED, key)


def test_student_notebook_of_a_real_chapter_keeps_no_trace_of_the_books_run():
    """The student notebook of a chapter as committed: no solution, no output, no
    execution count, no execution times; the grader's metadata kept."""
    path = Path(__file__).resolve().parent.parent / "book" / "02_cifar10.ipynb"
    ref = nbformat.read(path, as_version=4)
    assert any("execution" in c.metadata for c in ref.cells)  # the book's run's times
    nb = grading.strip_solutions(ref)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and not any(c.outputs or c.execution_count for c in code)
    assert not any("execution" in c.metadata for c in nb.cells)
    assert not any("solution" in c.metadata.get("tags", []) for c in nb.cells)
    assert nb.metadata[grading.META] == ref.metadata[grading.META]
    assert sum("answer" in c.metadata.get(grading.META, {}) for c in nb.cells) == sum(
        "answer" in c.metadata.get(grading.META, {}) for c in ref.cells) > 0


# ------------------------------------------------------- a broken environment stops it


def _subs(tmp_path: Path, n: int, answers: dict[str, str] | None = None) -> list[Path]:
    nb = grading.strip_solutions(chapter(answers or SOLUTIONS))
    return [
        _write(nb, tmp_path / "subs" / f"s{'abcdefgh'[i]}_{700 + i}_1_chgrade.ipynb")
        for i in range(n)
    ]


def test_a_worker_that_cannot_import_the_library_stops_the_batch(
    reference, tmp_path, monkeypatch
):
    """A grading Python that cannot import fenwicks_lite (a broken venv): the first
    submission's worker dies before any of its code ran, and the batch stops there
    with one message that says what to fix, instead of grading every submission
    "error", one process after the other."""
    venv = tmp_path / "venv"  # the dependencies, without the library
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True
    )
    site = next((venv / "lib").glob("python*/site-packages"))
    (site / "deps.pth").write_text(
        "\n".join(p for p in sys.path if p.endswith("site-packages")) + "\n"
    )
    monkeypatch.setattr(grading, "_python", lambda: venv / "bin" / "python")
    monkeypatch.setattr(grading, "_lib_copy", lambda dest: dest.mkdir(parents=True))
    calls = []
    real = grading.sandbox_command
    monkeypatch.setattr(
        grading, "sandbox_command", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    subs = _subs(tmp_path, 4)
    out = tmp_path / "grades"
    a = _assignment(reference, isolation="process")
    with pytest.raises(grading.GradingEnvironmentError) as e:
        grading.grade_batch(subs, a, out, jobs=1)
    msg = str(e.value)
    assert len(calls) == 1, msg  # stopped at the first, not once per submission
    assert "No module named 'fenwicks_lite'" in msg, msg
    assert "before any code of the submission ran" in msg, msg
    assert str(venv / "bin" / "python") in msg and "import" in msg, msg
    assert "4 not graded" in msg and "0 graded" in msg, msg
    # nothing was written as that student's grade
    rows = list(csv.DictReader((out / "gradebook.csv").open()))
    assert rows == [] and not list((out / "feedback").glob("*.md"))


def test_a_kernel_that_cannot_start_the_checks_stops_the_batch(
    reference, tmp_path, monkeypatch
):
    """The worker runs, but the kernel's first cell (the grader's own, before any
    answer) fails, as when the kernel's Python lacks the library: the environment's
    fault, not the submissions'. What was graded before stays written."""
    real = grading._SETUP_CELL
    n = []

    def fresh(*args, **kw):
        n.append(1)
        if len(n) > 1:  # the environment breaks after the first submission
            monkeypatch.setattr(
                grading, "_SETUP_CELL", "import fenwicks_lite_missing  # {keys!r}"
            )
        return fresh_notebook(*args, **kw)

    fresh_notebook = grading.fresh_notebook
    monkeypatch.setattr(grading, "fresh_notebook", fresh)
    subs = _subs(tmp_path, 3)
    out = tmp_path / "grades"
    a = _assignment(reference, isolation="process", timeout=20)
    with pytest.raises(grading.GradingEnvironmentError) as e:
        grading.grade_batch(subs, a, out, jobs=1)
    msg = str(e.value)
    assert "ModuleNotFoundError" in msg and "fenwicks_lite_missing" in msg, msg
    assert "kernel" in msg and "1 graded" in msg and "2 not graded" in msg, msg
    assert str(out / "gradebook.csv") in msg, msg
    rows = list(csv.DictReader((out / "gradebook.csv").open()))
    assert [r["student"] for r in rows] == ["700"] and rows[0]["total"] == "6"
    assert [f.name for f in (out / "feedback").glob("*.md")] == ["700.md"]
    assert len((out / "results.jsonl").read_text().splitlines()) == 1
    assert grading._SETUP_CELL != real  # the patch did break the later ones


def test_a_chapter_cell_that_fails_before_the_answers_stops_the_batch(tmp_path):
    """The chapter's own code fails in the kernel before any answer ran (its `import
    tensorflow` where the grading Python has no TensorFlow, found by an instructor's
    walk-through: correct answers then scored as NameErrors, exit status 0): the
    environment's fault, one message naming the cell and what to install, exit status
    2, nothing written. A chapter cell that fails AFTER an answer may be that answer's
    doing, and is graded as before."""
    nb = chapter()
    nb.cells.insert(2, new_code_cell("import tensorflow_not_installed_here as tf"))
    ref = _write(nb, tmp_path / "ref" / "chgrade.ipynb")
    subs = _subs(tmp_path, 2)
    out = tmp_path / "grades"
    rc = grading.main([
        "grade", str(tmp_path / "subs"), "--reference", str(ref), "--seed", "1",
        "--isolation", "process", "--out", str(out), "--timeout", "20",
        "--checks", str(_checks_file(ref.parent)),
    ])
    assert rc == 2
    with pytest.raises(grading.GradingEnvironmentError) as e:
        grading.grade_notebook(subs[0], _assignment(ref, isolation="process"))
    msg = str(e.value)
    assert "the chapter's cell `import tensorflow_not_installed_here as tf`" in msg, msg
    assert "ModuleNotFoundError" in msg and "fenwicks_lite[grade,tf]" in msg, msg
    assert "not the submission" in msg, msg
    assert list(csv.DictReader((out / "gradebook.csv").open())) == []
    # the same cell after the first answer: graded, the exercises before it score
    nb = chapter()
    first = next(i for i, c in enumerate(nb.cells)
                 if (c.metadata.get(grading.META) or {}).get("answer"))
    nb.cells.insert(first + 1, new_code_cell("import tensorflow_not_installed_here"))
    ref = _write(nb, tmp_path / "ref2" / "chgrade.ipynb")
    g = grading.grade_notebook(subs[0], _assignment(ref, isolation="process"))
    assert g.score == 6, g.table()


def test_a_students_own_crash_does_not_stop_the_batch(reference, tmp_path):
    """os._exit in the kernel, SIGKILL to the grading process, a loop past the
    time limit: each is that submission's error, and every other one is graded."""
    answers = {
        "exit": {**SOLUTIONS, "double": "import os; os._exit(3)"},
        "kill": {
            **SOLUTIONS,
            "double": "import os, signal; os.kill(os.getppid(), signal.SIGKILL)",
        },
        "loop": {**SOLUTIONS, "first": "while True: pass"},
        "fine": SOLUTIONS,
    }
    subs = [
        _write(
            grading.strip_solutions(chapter(ans)),
            tmp_path / "subs" / f"{name}_{800 + i}_1_chgrade.ipynb",
        )
        for i, (name, ans) in enumerate(answers.items())
    ]
    out = tmp_path / "grades"
    a = _assignment(reference, isolation="process", timeout=5)
    grades = {
        Path(g.notebook).name.split("_")[0]: g
        for g in grading.grade_batch(subs, a, out, jobs=2)
    }
    assert set(grades) == set(answers)
    assert grades["fine"].score == 6
    assert _points(grades["exit"])["chgrade.double"] == 0
    assert _points(grades["kill"]) == dict.fromkeys(KEYS, 0)
    assert "grading process died" in grades["kill"].error
    loop = next(e for e in grades["loop"].exercises if e.key == "chgrade.first")
    assert loop.status == "timed-out"
    assert len(list(csv.DictReader((out / "gradebook.csv").open()))) == 4


def test_grade_command_says_what_to_fix_and_exits_2(
    reference, tmp_path, monkeypatch, capsys
):
    dies = "import sys; sys.stderr.write('exec: python: not found\\n'); sys.exit(127)"
    monkeypatch.setattr(
        grading, "sandbox_command", lambda *a, **k: [sys.executable, "-c", dies]
    )
    subs = _subs(tmp_path, 2)
    rc = grading.main([
        "grade", str(tmp_path / "subs"), "--reference", str(reference),
        "--seed", "1", "--isolation", "process", "--out", str(tmp_path / "g"),
        "--checks", str(_checks_file(reference.parent)),
    ])
    err = capsys.readouterr().err
    assert rc == 2 and "grading stopped" in err, err
    assert "exec: python: not found" in err, err
    assert len(subs) == 2 and "2 not graded" in err, err


def test_gradescope_does_not_score_a_broken_environment(
    reference, tmp_path, monkeypatch, capsys
):
    """On Gradescope a broken image must not give the student 0 points: no
    results.json (Gradescope then reports the autograder's failure), the reason in the
    staff-only stdout, exit status 1."""
    dies = "import sys; sys.stderr.write('No module named nbclient\\n'); sys.exit(1)"
    monkeypatch.setattr(
        grading, "sandbox_command", lambda *a, **k: [sys.executable, "-c", dies]
    )
    zp = grading.build_autograder(
        _assignment(reference, isolation="process"), tmp_path / "ag.zip"
    )
    src = tmp_path / "source"
    zipfile.ZipFile(zp).extractall(src)
    _subs(tmp_path, 1)
    results = tmp_path / "results" / "results.json"
    rc = grading.run_gradescope(src / "assignment.json", tmp_path / "subs", results)
    out = capsys.readouterr().out
    assert rc == 1 and not results.exists()
    assert "No module named nbclient" in out and "not the submission" in out, out


# ------------------------------------------------------------------ the checks' RPC


def _served(fn):
    """The learner's `fn` behind the grader's RPC, its kernel side in a thread of this
    process: the proxy that the checks call (`grading._Learner`) and the kernel's
    thread."""
    learner, t, hello = hidden_cases.serve(fn)
    assert hello == {"op": "hello", "defined": fn is not None}
    return learner, t


def test_the_rpc_hands_each_kind_of_value_over_and_back():
    import numpy as np

    values = [
        0, -7, 2**80, 1.5, float("inf"), 1 + 2j, "text", b"\x00bytes", None, True,
        [1, [2.5, "x"]], (1, (2, 3)), {"a": 1, 2: "b", (3, 4): [5]}, {1, 2},
        frozenset({3}), Path("/some/where"), np.arange(6.0).reshape(2, 3),
        np.array(["a", "bc"]), np.zeros((2, 0), np.uint8), np.float32(2.5),
        np.int64(-3), np.bool_(True), range(3),
    ]
    same, _ = _served(lambda v: v)
    for v in values:
        got = same(v)
        want = tuple(v) if isinstance(v, range) else v
        assert type(got) is type(want), (v, got)
        if isinstance(want, np.ndarray):
            assert got.dtype == want.dtype and np.array_equal(got, want)
        else:
            assert got == want, (v, got)
    nan = same(float("nan"))
    assert nan != nan


def test_the_rpc_turns_tensors_and_iterators_into_values_and_refuses_objects():
    import numpy as np

    class Tensor:  # what Keras, TensorFlow and JAX tensors have
        def __array__(self, dtype=None, copy=None):
            return np.ones(3, np.float32)

    results = {
        "tensor": Tensor(),
        "generator": (i * i for i in range(4)),
        "object": object(),
    }
    fn, _ = _served(lambda k: results[k])
    assert np.array_equal(fn("tensor"), np.ones(3, np.float32))
    assert fn("generator") == [0, 1, 4, 9]
    with pytest.raises(TypeError, match="return numbers, strings, NumPy arrays"):
        fn("object")


def test_the_checkers_functions_and_iterators_stay_in_the_grading_process():
    """A `predict` the checker passes is called in the worker for each call the
    learner's function makes; a generator is read there, item by item (the checker
    counts the reads); an array the learner changes in place is changed in the
    checker's hands too ("leave the input unchanged" still fails)."""
    import numpy as np

    calls, reads = [], []

    def predict(x):
        calls.append(x.shape)
        return x * 2

    def batches():
        for i in range(3):
            reads.append(i)
            yield np.full(4, float(i))

    def learner(predict, batches, x):
        total = sum(float(b.sum()) for b in batches)
        x[0] = 99.0  # in place
        return predict(x), total

    fn, _ = _served(learner)
    x = np.zeros((2, 2))
    (twice, total) = fn(predict, batches(), x)
    assert calls == [(2, 2)] and reads == [0, 1, 2] and total == 12.0
    assert x[0].tolist() == [99.0, 99.0] and np.array_equal(twice, x * 2)
    # the peak of memory the learner's call took, measured in its process
    _, peak = fn.traced(predict, iter([np.zeros(10**5)]), np.zeros(1))
    assert 8 * 10**5 <= peak < 10**8, peak


def test_what_the_learners_function_raises_is_the_learners():
    """Built-in exceptions come back as themselves (a checker's ``except ValueError``
    sees them; NotImplementedError means not attempted; TensorFlow's ImportError is
    the environment's), any other by its name; each with the line of the learner's
    code, and a CheckFailed the learner raised is never the checker's hint."""
    import numpy as np

    exercises.exercise("chrpc.raise", title="Raise", difficulty="easy")(
        lambda fn: exercises.expect(fn(1) + 0 == 2, "one more")
    )

    def check(fn):
        learner, _ = _served(fn)
        return exercises.run_check("chrpc.raise", learner)

    def value_error(x):
        raise ValueError("bad value")

    class Odd(Exception):
        pass

    def odd(x):
        raise Odd("odd")

    def no_tf(x):
        raise ImportError("No module named 'tensorflow'", name="tensorflow")

    def check_failed(x):
        raise exercises.CheckFailed("LEAKED 1234")

    def none(x):
        print(x + 1)

    r = check(value_error)
    assert r.status == "error" and r.message.startswith(
        "your function raised ValueError: bad value (line "
    ), r.message
    assert check(odd).message.startswith("your function raised Odd: odd (line ")
    assert check(lambda x: np.sum(None + x)).status == "error"
    r = check(lambda x: (_ for _ in ()).throw(NotImplementedError))
    assert r.status == "not-attempted", r
    r = check(no_tf)
    assert r.status == "checker-error" and "needs TensorFlow" in r.message, r
    r = check(check_failed)
    assert r.status == "error" and r.message.startswith(
        "your function raised CheckFailed"
    ), r.message
    assert "your function returned None" in check(none).message
    assert check(lambda x: x + 1).passed
    # a checker that expects a ValueError of the learner's gets one
    learner, _ = _served(value_error)
    with pytest.raises(ValueError, match="bad value"):
        learner(1)


def test_a_garbled_or_huge_reply_is_the_learners_failure_not_a_pass(monkeypatch):
    import socket
    import threading

    worker, kernel = socket.socketpair()

    def liar():
        conn = grading._Conn(kernel)
        conn.recv()  # the CALL
        conn.send({"op": "result", "value": {"~": "x", "v": 1}, "back": None,
                   "peak": 0})
        conn.recv()
        kernel.sendall((grading.RPC_MAX_BYTES + 1).to_bytes(8, "big"))

    threading.Thread(target=liar, daemon=True).start()
    fn = grading._Learner(grading._WorkerConn(worker))
    for _ in range(2):
        with pytest.raises(exercises.LearnerError, match="could not read its result"):
            fn(1)


@pytest.mark.parametrize("mode", ["process", "unshare"])
def test_the_kernel_cannot_read_or_trace_the_grading_process(reference, tmp_path, mode):
    """The worker (the kernel's parent, which runs the checks) is not dumpable, and
    under unshare the kernel holds no capability: its environment, memory and open
    files cannot be read, nor can it be traced."""
    if mode == "unshare" and not grading.unshare_works():
        pytest.skip("needs unshare")
    probe = (
        "import ctypes, os\n"
        "pid, seen = os.getppid(), {}\n"
        "for what in ('environ', 'mem', 'fd/0'):\n"
        "    try:\n"
        "        p = f'/proc/{pid}/{what}'\n"
        "        seen[what] = os.readlink(p) if what == 'fd/0' else open(p, 'rb').read(1)\n"
        "    except OSError as e:\n"
        "        seen[what] = type(e).__name__\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "seen['ptrace'] = libc.ptrace(16, pid, 0, 0)\n"  # PTRACE_ATTACH
        "if seen['ptrace'] == 0:\n    libc.ptrace(17, pid, 0, 0)\n"  # else it hangs
        "print('SEEN', seen)\n"
    )
    nb = grading.strip_solutions(chapter(SOLUTIONS, extra={"double": probe}))
    path = _write(nb, tmp_path / "subs" / "tracer_1_1_chgrade.ipynb")
    g = grading.grade_notebook(path, _assignment(reference, isolation=mode))
    double = next(e for e in g.exercises if e.key == "chgrade.double")
    line = next(ln for ln in double.printed.splitlines() if ln.startswith("SEEN"))
    import ast

    seen = ast.literal_eval(line[len("SEEN "):])
    assert seen == {"environ": "PermissionError", "mem": "PermissionError",
                    "fd/0": "PermissionError", "ptrace": -1}, seen


def test_the_worker_finds_every_library_module_a_check_imports():
    """In process mode the worker imports, before the kernel starts, the library's
    modules that the checks import when they run (the kernel could write the copy the
    worker would import later): every form of import counts, inside functions too."""
    text = (
        "from fenwicks_lite import data, io as fio\n"
        "import fenwicks_lite.transform, os\n"
        "def check(fn):\n"
        "    from fenwicks_lite.layers import ConvBN\n"
        "    from . import sibling\n"
        "    import fenwicks_lite\n"
    )
    assert grading._library_imports(text) == {
        "fenwicks_lite.data",
        "fenwicks_lite.io",
        "fenwicks_lite.transform",
        "fenwicks_lite.layers",
    }
    # each chapter's checks: the modules they name are found
    import fenwicks_lite.checks.ch06 as ch06

    found = grading._library_imports(Path(ch06.__file__).read_text())
    assert {"fenwicks_lite.layers", "fenwicks_lite.exercises"} <= found


def test_the_solutions_notebook_answers_each_exercise_with_its_solution(reference):
    """`solutions_notebook`: each answer cell holds its solution's code without the
    self-check call; no solution cell is left; a key without a solution is named."""
    nb, missing = grading.solutions_notebook(nbformat.read(reference, as_version=4),
                                             _assignment(reference).specs)
    assert missing == []
    assert not any(grading.is_solution(c) for c in nb.cells)
    answers = {
        (c.metadata.get("fenwicks_lite") or {}).get("answer"): c.source for c in nb.cells
    }
    assert answers["chgrade.double"] == "def double(x):\n    return 2 * x\n"
    assert answers["chgrade.first"] == "def first(x):\n    return x[0]\n"
    bare = chapter(solutions=False)
    nb, missing = grading.solutions_notebook(bare, _assignment(reference).specs)
    assert missing == KEYS
    assert grading._without_checks("%time x = 1\nfw.exercises.check('k', f)\n") == (
        "%time x = 1\n"
    )


def test_grade_solutions_grades_the_books_own_solutions(reference, tmp_path, capsys):
    """``grade --solutions``: the check before the course. Every exercise passes, the
    notebook graded is kept in --out; submissions with it, or neither, are refused."""
    out = tmp_path / "grades"
    rc = grading.main([
        "grade", "--solutions", "--reference", str(reference), "--chapter", "chgrade",
        "--seed", str(SEED), "--out", str(out), "--timeout", "20",
        "--checks", str(_checks_file(reference.parent)),
    ])
    assert rc == 0, capsys.readouterr().err
    rows = list(csv.DictReader((out / "gradebook.csv").open()))
    assert [(r["student"], r["total"], r["max"]) for r in rows] == [
        ("solutions", "6", "6")
    ]
    assert (out / "solutions.ipynb").is_file()
    capsys.readouterr()
    _refused(str(reference), "--solutions", "--seed", "1", "--chapter", "chgrade")
    assert "give no submissions with it" in capsys.readouterr().err
    _refused("--solutions", "--seed", "1")
    assert "--solutions needs the chapter" in capsys.readouterr().err
    _refused("--seed", "1", "--reference", str(reference))
    assert "or\n--solutions" in capsys.readouterr().err.replace("or --solutions",
                                                                "or\n--solutions")


def test_the_books_own_notebook_graded_says_where_its_solutions_go(reference):
    """Grading the book's notebook itself (solutions and empty answer cells): not
    attempted, with a note that points to ``grade --solutions``, not an error."""
    g = grading.grade_notebook(reference, _assignment(reference, timeout=20))
    assert g.score == 0 and {e.status for e in g.exercises} == {"not-attempted"}
    assert g.error.startswith(grading._NOTES[1]), g.error
    assert "grade --solutions --chapter chgrade" in g.error


def test_a_broken_or_missing_checker_stops_before_anything_is_graded(
    reference, tmp_path, capsys
):
    """An instructor's --checks file that does not load, or exercises no checker
    covers: the grader says so, and what to do, before the first submission (no
    gradebook), not as every student's error."""
    sub = _write(grading.strip_solutions(chapter(SOLUTIONS)), tmp_path / "s" / "a.ipynb")
    out = tmp_path / "grades"
    broken = tmp_path / "broken.py"
    broken.write_text(CHECKERS.replace("def _first(fn):", "def _first(fn)"))
    raising = tmp_path / "raising.py"
    raising.write_text(CHECKERS + "\nimport no_such_module_here\n")
    partial = tmp_path / "partial.py"
    partial.write_text(CHECKERS.split('@exercise("chgrade.first"')[0])
    base = [str(sub), "--reference", str(reference), "--seed", "1", "--out", str(out)]
    _refused(*base, "--checks", str(broken))
    err = capsys.readouterr().err
    line = 1 + next(
        i for i, ln in enumerate(CHECKERS.splitlines()) if "def _first" in ln
    )
    assert f"--checks {broken} does not load: SyntaxError" in err
    assert f"line {line}" in err
    _refused(*base, "--checks", str(raising))
    err = capsys.readouterr().err
    assert "ModuleNotFoundError: No module named 'no_such_module_here'" in err
    assert f"(line {len((CHECKERS + chr(10)).splitlines()) + 1})" in err
    _refused(*base, "--checks", str(partial))
    err = capsys.readouterr().err
    assert "no checker for chgrade.first: the book has none, and --checks does not " \
        "register it" in " ".join(err.split())
    _refused(*base)
    err = " ".join(capsys.readouterr().err.split())
    assert "no checker for chgrade.double, chgrade.square, chgrade.first" in err
    assert "no --checks file was given" in err and "--checks FILE.py" in err
    assert not out.exists()
