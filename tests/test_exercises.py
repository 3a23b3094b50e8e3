"""The exercise mechanism: a reference solution passes, plausible wrong ones fail with
the hint."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from fenwicks_lite import exercises
from fenwicks_lite.exercises import exercise, expect

pytestmark = pytest.mark.backend


@exercise("chtest.class_counts", title="Count images per class", difficulty="easy")
def _check_counts(fn):
    y = np.array([0, 3, 3, 7, 7, 7])
    got = list(fn(y))
    expect(
        len(got) == 10,
        "return one count per class, 10 in all (even for classes with no image)",
    )
    expect(
        got == [1, 0, 0, 2, 0, 0, 0, 3, 0, 0],
        "np.bincount(y, minlength=10) counts each label",
    )


def reference(y):
    return np.bincount(y, minlength=10).tolist()


def test_reference_passes(capsys):
    exercises.check("chtest.class_counts", reference)
    assert capsys.readouterr().out.startswith("PASS chtest.class_counts")


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda y: np.bincount(y).tolist(), "one count per class"),  # forgets minlength
        (lambda y: [0] * 10, "np.bincount"),  # wrong values
    ],
)
def test_plausible_wrong_answers_fail_with_hint(wrong, hint):
    r = exercises.run_check("chtest.class_counts", wrong)
    assert not r.passed and hint in r.message


def test_unattempted_and_crashing_answers_do_not_raise(capsys):
    def stub(y):
        raise NotImplementedError

    assert "not attempted" in exercises.run_check("chtest.class_counts", stub).message
    assert (
        "raised ZeroDivisionError"
        in exercises.run_check("chtest.class_counts", lambda y: 1 / 0).message
    )
    assert not exercises.run_check("chtest.class_counts", None).passed
    exercises.check("chtest.class_counts", stub)  # prints, never raises
    assert capsys.readouterr().out.startswith("FAIL")


def test_unknown_exercise_and_bad_registration():
    with pytest.raises(KeyError, match="no exercise 'ch99.nothing'"):
        exercises.get("ch99.nothing")
    with pytest.raises(ValueError, match="difficulty"):
        exercise("ch01.x", title="t", difficulty="impossible")
    with pytest.raises(ValueError, match="ch02.name"):
        exercise("nodot", title="t")


def test_every_registered_exercise_has_a_title_and_difficulty():
    for ex in exercises.all_exercises():
        assert (
            ex.title
            and ex.difficulty in exercises.DIFFICULTIES
            and ex.chapter.startswith("ch")
        )


def _doubling(key: str, title: str, difficulty: str) -> None:
    """Registers exercise `key`: a public case (1 -> 2) and a hidden one, x -> 2 x
    with x drawn from the instructor's seed."""
    name = key.split(".")[1]

    @exercise(key, title=title, difficulty=difficulty)
    def _public(fn):
        expect(fn(1) == 2, f"{name}(x) is 2 * x")

    @exercises.hidden(key)
    def _hidden(fn, rng):
        x = int(rng.integers(10**6, 10**7))
        expect(fn(x) == 2 * x, f"{name}(x) for every x")


def test_an_answer_that_prints_instead_of_returning_is_told_so(capsys):
    """`print` where `return` belongs: the checker's `list(None)` raises TypeError in
    the check's own file. The message says what happened, not "checking your result
    raised TypeError ... (test_exercises.py, line N)"."""

    def prints(y):
        print(np.bincount(y, minlength=10))

    for r in (
        exercises.run_check("chtest.class_counts", prints),
        exercises.run_hidden("chtest.class_counts", prints, seed=3),
    ):
        assert not r.passed and "returned None" in r.message, r.message
        assert "TypeError" not in r.message, r.message
    # a TypeError the learner's own code raises is still reported as theirs
    r = exercises.run_check("chtest.class_counts", lambda y: len(None))
    assert "raised TypeError" in r.message and "returned None" not in r.message


def test_hidden_tests_decide_and_do_not_give_the_case_away():
    _doubling("chtest.twice", "Twice", "medium")
    table = {1: 2}.__getitem__  # passes the public case only
    assert exercises.run_check("chtest.twice", table).passed
    r = exercises.run_hidden("chtest.twice", table, seed=5)
    assert not r.passed and "hidden case" in r.message and r.status == "error"
    assert exercises.run_hidden("chtest.twice", lambda x: 2 * x, seed=5).passed
    # the same seed draws the same cases, another seed others
    seen = []
    exercises.hidden("chtest.twice")(
        lambda fn, rng: seen.append(int(rng.integers(10**9)))
    )
    for seed in (1, 1, 2):
        exercises.run_hidden("chtest.twice", lambda x: 2 * x, seed)
    assert seen[0] == seen[1] != seen[2]
    assert exercises.get("chtest.twice").points == exercises.POINTS["medium"] == 2


def test_a_hidden_case_never_reaches_the_feedback_through_an_exception():
    """A learner's function that passes the public cases and raises with its
    arguments elsewhere: the message (the feedback) names the exception, not what it
    said, so the hidden case stays hidden; the public checker still says all."""
    _doubling("chtest.leak", "Leak", "easy")

    def leak(x):
        if x != 1:
            raise ValueError(f"the hidden case is {x}")
        return 2

    r = exercises.run_hidden("chtest.leak", leak, seed=5)
    assert r.status == "error" and "ValueError" in r.message, r.message
    assert "hidden case is" not in r.message, r.message
    table = {1: 2}.__getitem__  # a KeyError carries the key
    r = exercises.run_hidden("chtest.leak", table, seed=5)
    assert "KeyError" in r.message and "KeyError:" not in r.message, r.message
    public = exercises.run_check("chtest.leak", lambda x: 1 / 0)
    assert "ZeroDivisionError: division by zero" in public.message


def test_table_command_run_as_a_module_knows_every_difficulty():
    """`python -m fenwicks_lite.exercises table` once showed "?" (the registry of
    `__main__`)."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "fenwicks_lite.exercises", "table"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    rows = [r for r in out.splitlines() if r.startswith("| `ch")]
    # The book's own exercises: those whose checks live in fenwicks_lite.checks. Other
    # test files in this process register theirs too (chtest, chgrade, chrpc ...), and
    # which of them ran first depends on how pytest-xdist shares the files out.
    book = sorted(
        e.key
        for e in exercises.all_exercises()
        # (a checker defined by exec, as a notebook's cell does, has no module)
        if (getattr(e.checker, "__module__", None) or "").startswith(
            "fenwicks_lite.checks."
        )
    )
    assert book and sorted(r.split("`")[1] for r in rows) == book
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[2] in exercises.DIFFICULTIES and cells[3] == str(
            exercises.POINTS[cells[2]]
        )
        assert cells[4] == "yes", f"{cells[0]} has no hidden test"


# ------------------------------------------------------------------ the book's side (fw


def test_task_text_has_no_markup_and_no_difficulty():
    from fwbook import exercises as bx

    assert (
        bx.plain_task("*Easy.* Write `f(x)`: twice x. More.")
        == "Write `f(x)`: twice x."
    )
    assert (
        bx.plain_task("**Medium.** Write *this*. Difficulty: medium.") == "Write this."
    )
    assert bx.plain_task("Write `g`. Difficulty: easy.") == "Write `g`."
    assert (
        bx.plain_task("Write `safe_to_clean(p)` as `a * b`.")
        == "Write `safe_to_clean(p)` as `a * b`."
    )


def test_every_chapter_exercise_states_its_registered_difficulty_once():
    from fwbook import exercises as bx

    exs = bx.book_exercises()
    assert exs
    for ex in exs:
        assert ex.label and ex.key, ex
        assert ex.stated == exercises.get(ex.key).difficulty, ex
        assert (
            not re.search(r"(^|\s)[*_]{1,2}\w", ex.task) and "Difficulty" not in ex.task
        ), ex
    table = bx.table_markdown(exs)
    assert table.count("\n") == len(exs) + 1
    for row in table.splitlines()[2:]:
        assert row.split(" | ")[-3] in exercises.DIFFICULTIES, row


def test_student_sources_leave_out_solutions_check_outputs_and_the_instructors(
    tmp_path,
):
    import nbformat
    import yaml
    from fwbook import exercises as bx
    from fwbook import notebooks as book
    from test_grading import SOLUTIONS, chapter

    root = tmp_path / "book_root"
    (root / "book").mkdir(parents=True)
    for name in ("_config.yml", "references.bib"):
        (root / name).write_text((book.ROOT / name).read_text())
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: Chapters\n    chapters:\n"
        "      - file: book/01_test\n  - caption: For instructors\n    chapters:\n"
        "      - file: book/instructors\n"
    )
    (root / "book" / "intro.md").write_text("# Intro\n")
    (root / "book" / "instructors.md").write_text("# For instructors\n")
    nb = chapter(SOLUTIONS)
    nb.cells[1].outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="kept\n")
    ]
    for c in nb.cells:
        if "check(" in c.source and c.cell_type == "code":
            c.outputs = [
                nbformat.v4.new_output("stream", name="stdout", text="PASS chgrade.x\n")
            ]
    nbformat.write(nb, root / "book" / "01_test.ipynb")
    src = bx.student_sources(tmp_path / "student", root)
    assert yaml.safe_load((src / "_config.yml").read_text())["sphinx"]["config"][
        "hide_solutions"
    ]
    toc = yaml.safe_load((src / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    assert files == ["book/01_test"]
    assert (
        not (src / "book" / "instructors.md").exists()
        and (src / "book" / "intro.md").exists()
    )
    out = nbformat.read(src / "book" / "01_test.ipynb", as_version=4)
    assert not [c for c in out.cells if "solution" in c.metadata.get("tags", [])]
    assert out.cells[1].outputs[0].text == "kept\n"
    assert "PASS" not in json.dumps([c.get("outputs") for c in out.cells])


def test_verify_student_reports_solutions_passes_and_the_instructors_page(tmp_path):
    import nbformat
    from fwbook import exercises as bx
    from fwbook import notebooks as book
    from test_grading import chapter

    root = tmp_path / "book_root"
    (root / "book").mkdir(parents=True)
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: C\n"
        "    chapters:\n      - file: book/01_test\n"
    )
    nbformat.write(chapter(), root / "book" / "01_test.ipynb")
    student = tmp_path / "student"
    (student / "book").mkdir(parents=True)
    nbformat.write(book.strip_solutions(chapter()), student / "book" / "01_test.ipynb")
    problems = bx.verify_student(student, root)
    assert len(problems) == 1 and "01_test.html: missing" in problems[0]
    (student / "html" / "book").mkdir(parents=True)
    (student / "html" / "book" / "01_test.html").write_text(
        "<pre>def double(x):</pre><pre>PASS chgrade.double: all cases pass.</pre>"
    )
    (student / "html" / "book" / "instructors.html").write_text(
        "<h1>For instructors</h1>"
    )
    problems = bx.verify_student(student, root)
    assert any("passing self-check" in p for p in problems)
    assert any("instructors' page" in p for p in problems)


def test_a_checkfailed_of_the_answers_own_is_not_a_hint():
    """An answer can raise the checker's own `CheckFailed` with any text (the hidden
    case, or the seed it found on the stack): that text is not a hint. The feedback
    names the exception, keeps the text out of a hidden verdict, and only the check's
    own `expect` gives "not yet - <hint>"."""
    import functools

    from fenwicks_lite.exercises import CheckFailed

    _doubling("chtest.own", "Own", "easy")

    def raiser(x):
        if x != 1:  # the public case passes, the hidden ones raise
            raise CheckFailed(f"LEAKED {x}")
        return 2

    r = exercises.run_hidden("chtest.own", raiser, seed=5)
    assert r.status == "error" and "your function raised CheckFailed" in r.message
    assert "LEAKED" not in r.message and "not yet" not in r.message, r.message
    made = CheckFailed("LEAKED, made before the check ran")
    # (compiled as the learner's cell is: its own file, not the checker's)
    premade = eval(
        compile("lambda x: 2 if x == 1 else exec('raise made')", "<answer>", "eval"),
        {"made": made},
    )
    r = exercises.run_hidden("chtest.own", premade, seed=5)
    assert r.status == "error" and "LEAKED" not in r.message, r.message
    # the check's own expect, called by the answer (no frame of its own): the hint
    # would be the hidden case
    exercise("chtest.one", title="One", difficulty="easy")(lambda fn: None)
    exercises.hidden("chtest.one")(lambda fn, rng: fn(int(rng.integers(10**6, 10**7))))
    r = exercises.run_hidden(
        "chtest.one", functools.partial(exercises.expect, False), seed=5
    )
    assert r.status == "error" and "CheckFailed" in r.message, r.message
    assert not re.search(r"\d{7}", r.message), r.message
    # in the learner's own notebook (public cases) it is their exception, said as such
    r = exercises.run_check("chtest.own", lambda x: raiser(5))
    assert r.status == "error" and "CheckFailed: LEAKED 5 (line" in r.message
    # a real failure of the check keeps its hint, public and hidden
    r = exercises.run_check("chtest.own", lambda x: 3)
    assert r.message == "not yet - own(x) is 2 * x" and r.status == "failed"
    r = exercises.run_hidden("chtest.own", {1: 2}.get, seed=5)
    assert r.message.endswith("not yet - own(x) for every x"), r.message


def test_the_seed_is_not_on_the_stack_while_the_answer_runs():
    """The answer runs below the grader's frames; none of them holds the instructor's
    seed (the grading kernel gets a number derived from it per exercise)."""
    import sys

    _doubling("chtest.stack", "Stack", "easy")
    seed = 987654321
    found = []

    def walker(x):
        f = sys._getframe(1)
        while f is not None:
            if f.f_code.co_filename != __file__:  # the grader's frames, not this test
                found.extend(
                    k for k, v in f.f_locals.items() if type(v) is int and v == seed
                )
            f = f.f_back
        return 2 * x

    assert exercises.run_hidden("chtest.stack", walker, seed=seed).passed
    # the grader runs the checks in its own process and the answer in the kernel
    # (`grading._serve`): not even the entropy is on the kernel's stack; here, in one
    # process, neither is the seed below run_hidden
    served, _ = _served_by_grader(walker)
    assert exercises.run_hidden(
        "chtest.stack", served, entropy=exercises.hidden_entropy(seed, "chtest.stack")
    ).passed
    assert found == []
    # the entropy is a function of the seed and the key: the same cases either way
    seen = []
    exercises.hidden("chtest.stack")(lambda fn, rng: seen.append(rng.integers(10**9)))
    exercises.run_hidden("chtest.stack", walker, seed=seed)
    exercises.run_hidden(
        "chtest.stack", walker, entropy=exercises.hidden_entropy(seed, "chtest.stack")
    )
    exercises.run_hidden("chtest.stack", walker, seed=seed + 1)
    assert seen[0] == seen[1] != seen[2]
    with pytest.raises(TypeError, match="the seed or the entropy"):
        exercises.run_hidden("chtest.stack", walker)


def _served_by_grader(fn):
    """`fn` behind the grader's RPC (`grading._serve_on` in a thread)."""
    import socket
    import threading

    from fenwicks_lite import grading

    worker, kernel = socket.socketpair()
    t = threading.Thread(target=grading._serve_on, args=(kernel, fn), daemon=True)
    t.start()
    conn = grading._WorkerConn(worker)
    conn.recv()
    return grading._Learner(conn), t


def test_reassigning_numpys_comparisons_does_not_pass_a_check():
    """An answer that sets ``np.array_equal = lambda *a, **k: True`` (the review's
    cheat) before its function: the grader imports the chapter's checks first
    (`grading._setup`), and they compare through the functions they bound then."""
    import subprocess
    import sys

    code = (
        "from fenwicks_lite import grading\n"
        "grading._setup(['ch04.cutout_fill', 'ch07.sum_convention'])\n"
        "import numpy as np\n"
        "np.array_equal = np.allclose = np.isclose = lambda *a, **k: True\n"
        "from fenwicks_lite import exercises as E\n"
        "r = E.run_hidden('ch04.cutout_fill', lambda i, cy, cx, s, v: i.copy(), 1)\n"
        "print(r.status)\n"
        "r = E.run_hidden('ch07.sum_convention', lambda lr, wd, b: (lr, wd), 1)\n"
        "print(r.status)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert out.stdout.split() == ["failed", "failed"], out.stdout + out.stderr


def test_registry_titles_are_the_notebooks_headings():
    """The feedback and ``exercises table`` quote the registry's title: the learner
    saw the notebook's heading (``{exercise} <title>``), so they must be the same."""
    from fwbook import exercises as bx

    differ = [
        (ex.key, exercises.get(ex.key).title, ex.title)
        for ex in bx.book_exercises()
        if exercises.get(ex.key).title != ex.title
    ]
    assert differ == [], "set these registry titles to the notebook's headings"


def test_a_missing_tensorflow_is_the_machines_not_the_answers():
    """Chapter 3's checks write TFRecords with TensorFlow. Where it cannot be imported
    (a JAX-only install), the feedback said "your function raised ImportError" or
    "does your function return what the exercise asks for?"; it now says what to
    install, and the status is the checker's (a grader reads it as the machine's)."""
    exercise("chtest.records", title="Records", difficulty="easy")(
        lambda fn: (fn(1), __import__("tensorflow_blocked_for_this_test"))
    )

    def no_tf(*_):
        raise ModuleNotFoundError("No module named 'tensorflow'", name="tensorflow")

    @exercise("chtest.records_tf", title="Records (TF)", difficulty="easy")
    def _needs_tf(fn):
        fn(1)
        no_tf()

    def wrapped(x):  # as fw.io.numpy_tfrecord raises it: chained from the import's error
        try:
            no_tf()
        except ImportError as e:
            raise RuntimeError("fw.io.numpy_tfrecord needs TensorFlow") from e

    for key, answer in [("chtest.records_tf", lambda x: x),  # the checker's import
                        ("chtest.class_counts", no_tf),  # the answer's own
                        ("chtest.class_counts", wrapped)]:
        r = exercises.run_check(key, answer)
        assert r.status == "checker-error" and not r.passed, (key, r)
        assert "needs TensorFlow" in r.message and "pip install" in r.message, r.message
    r = exercises.run_check("chtest.records", lambda x: x)  # another module: as before
    assert r.status != "checker-error" and "needs TensorFlow" not in r.message, r
