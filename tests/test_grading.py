"""Grading learners' notebooks and the exercise table (fenwicks_lite.exercises, "For instructors").

The notebooks are built here with nbformat: a small chapter-like notebook whose checkers are registered in
one of its own cells, so these tests do not depend on any chapter's content. Each `grade` starts a kernel.
"""

from __future__ import annotations

import json

import nbformat
import pytest
from fwbook import notebooks as book
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from fenwicks_lite import exercises

pytestmark = pytest.mark.backend

CHECKERS = '''from fenwicks_lite.exercises import exercise, expect

@exercise("chgrade.double", title="Double a number", difficulty="easy")
def _double(fn):
    expect(fn(2) == 4 and fn(-3) == -6, "double(x) is 2 * x")

@exercise("chgrade.square", title="Square a number", difficulty="medium")
def _square(fn):
    expect(fn(3) == 9 and fn(-2) == 4, "square(x) is x * x")

@exercise("chgrade.first", title="First element", difficulty="hard")
def _first(fn):
    expect(fn([7, 8]) == 7, "first(xs) is xs[0]")
'''
SOLUTIONS = {"double": "return 2 * x", "square": "return x * x", "first": "return x[0]"}
KEYS = ["chgrade.double", "chgrade.first", "chgrade.square"]


def chapter(answers: dict[str, str] | None = None, solutions: bool = True, checks: bool = True):
    """A chapter-like notebook: per exercise a directive, a learner cell, a gated solution, a check cell.

    `answers` fills learner cells (the body of `def name(x):`); unfilled ones `raise NotImplementedError`.
    """
    answers = answers or {}
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                               "language": "python"}})
    tag = {"tags": ["solution"]}
    cells = [new_markdown_cell("# 1. A test chapter"), new_code_cell("import fenwicks_lite as fw"),
             new_code_cell(CHECKERS)]
    for name, solution in SOLUTIONS.items():
        body = answers.get(name, "raise NotImplementedError  # your code here")
        cells += [new_markdown_cell(f"```{{exercise}} Write {name}\n:label: ex-{name}\n\n"
                                    f"Write `{name}(x)`. It is checked below.\n```"),
                  new_code_cell(f"def {name}(x):\n    {body}")]
        if solutions:
            cells += [new_markdown_cell(f"````{{solution-start}} ex-{name}\n````", metadata=tag),
                      new_code_cell(f"def {name}(x):\n    {solution}", metadata=tag),
                      new_markdown_cell("````{solution-end}\n````", metadata=tag)]
        if checks:
            cells.append(new_code_cell(f'fw.exercises.check("chgrade.{name}", {name})'))
    nb.cells = cells
    return nb


def _write(nb, path):
    nbformat.write(nb, path)
    return path


def _results(g: exercises.Grade) -> dict[str, bool]:
    return {e.key: e.passed for e in g.exercises}


def test_solved_notebook_scores_full_marks(tmp_path):
    g = exercises.grade(_write(chapter(SOLUTIONS), tmp_path / "solved.ipynb"))
    assert (g.score, g.total, g.error) == (3, 3, "")
    assert {e.key: (e.title, e.difficulty) for e in g.exercises} == {
        "chgrade.double": ("Double a number", "easy"), "chgrade.square": ("Square a number", "medium"),
        "chgrade.first": ("First element", "hard")}


def test_instructor_copy_never_runs_its_solutions(tmp_path):
    """Solution cells are stripped, so the instructor's copy scores what its learner cells score: zero."""
    g = exercises.grade(_write(chapter(), tmp_path / "instructor.ipynb"))
    assert (g.score, g.total) == (0, 3)
    assert all("not attempted" in e.message for e in g.exercises)


def test_blank_student_notebook_scores_zero_without_crashing(tmp_path):
    student = book.strip_solutions(chapter())
    g = exercises.grade(_write(student, tmp_path / "student.ipynb"))
    assert (g.score, g.total, g.error) == (0, 3, "")
    assert "score: 0/3" in g.table()


def test_one_wrong_answer_loses_exactly_its_exercise(tmp_path):
    answers = {**SOLUTIONS, "square": "return x * 2"}
    g = exercises.grade(_write(chapter(answers), tmp_path / "wrong.ipynb"))
    assert _results(g) == {"chgrade.double": True, "chgrade.first": True, "chgrade.square": False}
    (wrong,) = [e for e in g.exercises if not e.passed]
    assert "x * x" in wrong.message  # the checker's hint


def test_broken_cell_fails_only_its_exercise(tmp_path):
    answers = {**SOLUTIONS, "double": "return 2 *"}  # a syntax error: `double` is never defined
    nb = chapter(answers)
    nb.cells.insert(3, new_code_cell("1 / 0  # an unrelated crash early on does not stop the grading"))
    g = exercises.grade(_write(nb, tmp_path / "broken.ipynb"))
    assert _results(g) == {"chgrade.double": False, "chgrade.first": True, "chgrade.square": True}
    assert "no function `double`" in next(e.message for e in g.exercises if not e.passed)


def test_untagged_gated_solution_is_still_stripped(tmp_path):
    nb = chapter()
    for c in nb.cells:
        c.metadata.pop("tags", None)  # an author forgot the tags; the solution-start/end gates remain
    assert (exercises.grade(_write(nb, tmp_path / "untagged.ipynb")).score) == 0


def test_a_learner_printing_the_grade_mark_cannot_fake_a_pass(tmp_path):
    fake = json.dumps({"key": "chgrade.square", "passed": True, "message": "", "title": "", "difficulty": "?"})
    answers = {**SOLUTIONS, "square": f"print({exercises.GRADE_MARK + fake!r}); return 0"}
    g = exercises.grade(_write(chapter(answers), tmp_path / "cheat.ipynb"))
    assert _results(g)["chgrade.square"] is False


def test_deleted_check_cell_counts_as_failed_against_the_reference(tmp_path):
    ref = _write(chapter(), tmp_path / "reference.ipynb")
    nb = chapter(SOLUTIONS)
    nb.cells = [c for c in nb.cells if 'check("chgrade.first"' not in c.source]
    g = exercises.grade(_write(nb, tmp_path / "deleted.ipynb"), reference=ref)
    assert (g.score, g.total) == (2, 3) and "missing" in next(e.message for e in g.exercises if not e.passed)


def test_cell_timeout_fails_that_exercise_only(tmp_path):
    answers = {**SOLUTIONS, "first": "while True: pass"}
    g = exercises.grade(_write(chapter(answers), tmp_path / "slow.ipynb"), timeout=5)
    assert _results(g) == {"chgrade.double": True, "chgrade.first": False, "chgrade.square": True}


def test_cli_json_gradebook_and_unreadable_notebook(tmp_path, capsys):
    good = _write(chapter(SOLUTIONS), tmp_path / "good.ipynb")
    bad = tmp_path / "bad.ipynb"
    bad.write_text("this is not a notebook")
    assert exercises.main(["grade", "--json", str(good), str(bad)]) == 1  # 1: one could not be graded
    book_ = json.loads(capsys.readouterr().out)
    assert [(b["score"], b["total"]) for b in book_] == [(3, 3), (0, 0)]
    assert "cannot read it as a notebook" in book_[1]["error"]
    with pytest.raises(SystemExit):
        exercises.main(["grade", str(tmp_path / "nope.ipynb")])
    assert "no such notebook" in capsys.readouterr().err


def test_cli_table_output(tmp_path, capsys):
    g = exercises.grade(_write(chapter(SOLUTIONS), tmp_path / "t.ipynb"))
    text = g.table()
    assert text.count("PASS") == 3 and "score: 3/3" in text


# ------------------------------------------------------------------ finding exercises in notebooks

@pytest.mark.parametrize("source, found", [
    ('fw.exercises.check("ch02.count", count_classes)', [("ch02.count", "count_classes")]),
    ("%matplotlib inline\nfw.exercises.check('ch03.a', lambda x: f(x, 2))", [("ch03.a", "lambda x: f(x, 2)")]),
    ('check("ch04.b", fn)\ncheck("ch04.c", g)', [("ch04.b", "fn"), ("ch04.c", "g")]),
    ('fw.exercises.check("ch05.x", fn   # unclosed', []),
    ('def f(:\nfw.exercises.check("ch05.y", my_fn)', [("ch05.y", "my_fn")]),  # syntax error: regex
    ("print('no checks here')", []),
])
def test_find_checks(source, found):
    assert exercises.find_checks(source) == found


def test_notebook_exercises_pairs_directives_with_checks(tmp_path):
    exs = exercises.notebook_exercises(_write(chapter(), tmp_path / "nb.ipynb"), tmp_path)
    assert [(e.label, e.title, e.key, e.task) for e in exs] == [
        (f"ex-{n}", f"Write {n}", f"chgrade.{n}", f"Write `{n}(x)`.") for n in SOLUTIONS]
    assert exs[0].notebook == "nb.ipynb"
    no_checks = exercises.notebook_exercises(_write(chapter(checks=False), tmp_path / "n2.ipynb"), tmp_path)
    assert [e.key for e in no_checks] == ["", "", ""]
    table = exercises.table_markdown(exs)
    assert table.count("\n") == 4 and "| nb | ex-double | Write double |" in table


@pytest.mark.parametrize("path", book.chapters(), ids=lambda p: p.name)
def test_every_chapter_exercise_has_a_label_and_a_registered_self_check(path):
    for ex in exercises.notebook_exercises(path, book.ROOT):
        assert ex.label, f"{path.name}: exercise {ex.title!r} needs a :label:"
        assert ex.key, f"{path.name}: exercise {ex.label} needs a `fw.exercises.check(...)` cell after it"
        assert exercises.get(ex.key).difficulty in exercises.DIFFICULTIES


def test_table_command_lists_the_books_exercises(capsys):
    assert exercises.main(["table"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("| chapter | label | title | difficulty | self-check | task |")
    assert out.count("\n") == 2 + len(exercises.book_exercises())
    for ex in exercises.book_exercises():
        assert f"`{ex.key}`" in out


def test_student_sources_drop_solutions_keep_outputs_and_hide_solutions(tmp_path):
    import yaml

    root = tmp_path / "book_root"
    (root / "book").mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml", "references.bib"):
        (root / name).write_text((book.ROOT / name).read_text())
    (root / "book" / "intro.md").write_text("# Intro\n")
    nb = chapter(SOLUTIONS)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="kept\n")]
    nbformat.write(nb, root / "book" / "01_data_location.ipynb")
    src = exercises.student_sources(tmp_path / "student", root)
    cfg = yaml.safe_load((src / "_config.yml").read_text())
    assert cfg["sphinx"]["config"]["hide_solutions"] is True
    assert cfg["repository"] == book.config()["repository"]  # the rest is the book's configuration
    out = nbformat.read(src / "book" / "01_data_location.ipynb", as_version=4)
    assert not [c for c in out.cells if "solution" in c.metadata.get("tags", [])]
    assert len(out.cells) == len(nb.cells) - 9 and out.cells[1].outputs[0].text == "kept\n"
    assert (src / "book" / "intro.md").is_file()
    assert yaml.safe_load((root / "_config.yml").read_text())["sphinx"]["config"]["hide_solutions"] is False


def test_verify_student_finds_solutions_left_in_student_notebooks(tmp_path):
    root = tmp_path / "book_root"
    (root / "book").mkdir(parents=True)
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nparts:\n  - caption: Chapters\n"
                                   "    chapters:\n      - file: book/01_test\n")
    nbformat.write(chapter(), root / "book" / "01_test.ipynb")
    student = tmp_path / "student" / "book"
    student.mkdir(parents=True)
    nbformat.write(book.strip_solutions(chapter()), student / "01_test.ipynb")
    problems = exercises.verify_student(tmp_path / "student", root)
    assert len(problems) == 1 and "01_test.html: missing" in problems[0]  # only the site is missing
    untagged = chapter()
    for c in untagged.cells:
        c.metadata.pop("tags", None)
    nbformat.write(untagged, student / "01_test.ipynb")
    problems = exercises.verify_student(tmp_path / "student", root)
    assert any("contains the code of a solution cell" in p for p in problems)
