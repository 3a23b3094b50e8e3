"""Exercises and their self-checks (explained in the Introduction, used by every
chapter).

Each exercise in a chapter has a key such as ``"ch01.project_paths"``. Its checker lives
in `fenwicks_lite/checks/ch01.py`, registered with `@exercise`; it calls the learner's
function on test cases and raises `CheckFailed` with a hint at the first wrong answer.
In a notebook the learner runs ``fw.exercises.check("ch01.project_paths",
my_function)``, which prints a pass or the hint and never raises, so an unsolved
exercise does not stop the rest of the chapter.

The same modules register, with `@hidden`, the instructors' hidden tests: cases drawn
from an instructor's seed, plus the plausible wrong answers the public cases let
through. The grader (`fenwicks_lite.grading`, ``python -m fenwicks_lite.exercises
grade``) scores with them; the public self-check stays a hint. ``python -m
fenwicks_lite.exercises table`` lists every exercise with its difficulty and points."""

from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import importlib
import os
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any


class _Running(threading.local):
    """How deep the learner's function is on this thread's stack (`_guarded`)."""

    depth = 0


_LEARNER = _Running()


class CheckFailed(AssertionError):
    """A learner's answer is wrong; the message is the hint shown to them.

    One made while the learner's function runs (``by_learner``) is the learner's, not
    the checker's: `_judge` never passes on what it says as a hint.

    Every chapter's self-checks raise it (the Introduction's "Exercises").
    """

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self.by_learner = _LEARNER.depth > 0


def expect(condition: bool, hint: str) -> None:
    """Inside a checker: fail with `hint` unless `condition` holds.

    Every chapter's self-checks (``fenwicks_lite/checks/chNN.py``) are written with it
    (the Introduction's "Exercises").
    """
    if not condition:
        raise CheckFailed(hint)


@dataclasses.dataclass(frozen=True)
class Exercise:
    """One exercise of a chapter, as its self-check registers it (`exercise`): its key
    (``"ch04.hole_area"``), title, difficulty and checker. For instructors, "Exercises"
    lists them."""

    key: str
    title: str
    difficulty: str
    checker: Callable[[Callable[..., Any]], None]

    @property
    def chapter(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def points(self) -> int:
        """The grader's default points for this exercise (`POINTS` by difficulty)."""
        return POINTS[self.difficulty]


#: what a result can be; only "passed" scores.
STATUSES = (
    "passed",
    "failed",
    "not-attempted",
    "error",
    "checker-error",
    "timed-out",
    "over-limit",  # the grader's --max-procs or --disk
)


@dataclasses.dataclass(frozen=True)
class Result:
    """What a check of a learner's function found (one of `STATUSES`): ``str`` is the
    line `check` prints under an exercise of any chapter (the Introduction's
    "Exercises"); the grader scores its status (For instructors, "Grading")."""

    key: str
    passed: bool
    message: str
    status: str = ""

    def __post_init__(self) -> None:
        if not self.status:
            object.__setattr__(self, "status", "passed" if self.passed else "failed")

    def __str__(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'} {self.key}: {self.message}"


_REGISTRY: dict[str, Exercise] = {}
_HIDDEN: dict[str, Callable[[Callable[..., Any], Any], None]] = {}
#: cells carrying this tag are solutions: the student edition and the grader remove
#: them.
SOLUTION_TAG = "solution"

#: the difficulties an exercise can have, easiest first.
DIFFICULTIES = ("easy", "medium", "hard")
#: the grader's points per exercise by difficulty (``grade --points KEY=N`` overrides
#: one).
POINTS = {"easy": 1, "medium": 2, "hard": 3}


def exercise(key: str, *, title: str, difficulty: str = "medium") -> Callable:
    """Registers the decorated function as the checker of exercise `key`
    (``"chNN.name"``): the self-check that Chapter NN's exercise names (the
    Introduction's "Exercises")."""
    if difficulty not in DIFFICULTIES:
        raise ValueError(
            f"difficulty must be one of {DIFFICULTIES}, got {difficulty!r}"
        )
    if "." not in key:
        raise ValueError(f"exercise keys look like 'ch02.name', got {key!r}")

    def register(
        checker: Callable[[Callable[..., Any]], None],
    ) -> Callable[[Callable[..., Any]], None]:
        _REGISTRY[key] = Exercise(key, title, difficulty, checker)
        return checker

    return register


def hidden(key: str) -> Callable:
    """Registers the decorated ``test(fn, rng)`` as the hidden test of exercise `key`.

    `rng` is a NumPy generator seeded from the instructor's seed and the key: the cases
    differ from the public ones and from one course to the next. Raise `CheckFailed`
    with a hint that names the property, not the case (learners may resubmit).

    For instructors, "Grading" explains the hidden tests.
    """
    if "." not in key:
        raise ValueError(f"exercise keys look like 'ch02.name', got {key!r}")

    def register(test: Callable[[Callable[..., Any], Any], None]) -> Callable:
        _HIDDEN[key] = test
        return test

    return register


def get(key: str) -> Exercise:
    """The exercise `key`, importing its chapter's checks on first use (`check`, the
    Introduction's "Exercises")."""
    if key not in _REGISTRY:
        chapter = key.split(".", 1)[0]
        try:
            importlib.import_module(f"fenwicks_lite.checks.{chapter}")
        except ModuleNotFoundError:
            pass
    if key not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY)) or "none loaded"
        raise KeyError(f"no exercise {key!r}; known: {known}")
    return _REGISTRY[key]


def has_hidden(key: str) -> bool:
    """Whether exercise `key` has a hidden test besides its public self-check:
    For instructors, "Grading"."""
    get(key)
    return key in _HIDDEN


def all_exercises() -> list[Exercise]:
    """Every registered exercise, after importing all chapters' checks: what
    `table_markdown` lists (For instructors, "Exercises")."""
    import pkgutil

    from fenwicks_lite import checks

    for mod in pkgutil.iter_modules(checks.__path__):
        importlib.import_module(f"fenwicks_lite.checks.{mod.name}")
    return sorted(_REGISTRY.values(), key=lambda e: e.key)


_LIBRARY_DIRS = tuple(
    {
        os.path.dirname(os.path.abspath(__file__)),
        os.path.abspath(sys.prefix),
        os.path.abspath(sys.base_prefix),
        os.path.abspath(sys.exec_prefix),
    }
)


class LearnerError(Exception):
    """What the learner's function raised in another process (the grader's kernel:
    `fenwicks_lite.grading` runs the checks outside it) when its type is not one of
    Python's built-in exceptions: the type's name (``type_name``), its message and
    the line of the learner's code it came from (``KERNEL_LINE``). A built-in type
    comes back as itself (``ValueError``, ``NotImplementedError``), so that a checker's
    ``except ValueError`` still sees it; both carry ``KERNEL_LINE`` and are the
    learner's (`_failure`). For instructors, "Grading"."""

    def __init__(self, type_name: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.type_name = type_name
        setattr(self, KERNEL_LINE, line)


#: the attribute that marks an exception raised by the learner's function in the
#: grader's kernel: the line of the learner's code (None if unknown)
KERNEL_LINE = "fw_kernel_line"


def _type_name(exc: BaseException) -> str:
    """The name of `exc`'s type, the learner's own for a `LearnerError`."""
    return getattr(exc, "type_name", None) or type(exc).__name__


def _raised_by_learner(exc: BaseException) -> int | None:
    """The line of the innermost traceback frame outside the library and the installed
    packages (the learner's code), or None if the exception never passed through the
    learner's code. One that came from the grader's kernel (`LearnerError`) carries
    its line there."""
    if hasattr(exc, KERNEL_LINE):
        return getattr(exc, KERNEL_LINE)
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = os.path.abspath(frame.filename)
        if not path.startswith(_LIBRARY_DIRS) and not frame.filename.startswith(
            "<frozen"
        ):
            return frame.lineno
    return None


def _guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn`, counting while it runs (a `CheckFailed` made then is the learner's) and
    noting whether its last call returned None (`_failure` says so)."""

    @functools.wraps(fn)
    def call(*args: Any, **kw: Any) -> Any:
        call.returned_none = False  # an exception from `fn` is the learner's own
        _LEARNER.depth += 1
        try:
            out = fn(*args, **kw)
        finally:
            _LEARNER.depth -= 1
        call.returned_none = out is None
        return out

    call.returned_none = False
    return call


_HERE = os.path.abspath(__file__)
_CHECKS_DIR = os.path.join(os.path.dirname(_HERE), "checks") + os.sep


def _by_checker(exc: CheckFailed, checker: Callable[..., Any]) -> bool:
    """Whether `exc` is the checker's own verdict: made outside the learner's function
    and raised through no code but the checks' (this module, ``checks/``, the file
    that defines `checker`). An answer can raise `CheckFailed` itself, with any text
    (the case, or whatever it finds in the process): that is not a hint to pass on."""
    code = getattr(checker, "__code__", None)
    own = os.path.abspath(code.co_filename) if code else _HERE
    return not exc.by_learner and all(
        (path := os.path.abspath(f.filename)) in (_HERE, own)
        or path.startswith(_CHECKS_DIR)
        for f in traceback.extract_tb(exc.__traceback__)
    )


def _judge(
    key: str,
    title: str,
    checker: Callable[..., Any],
    test: Callable[[], None],
    reveal: bool = True,
    guarded: Callable[..., Any] | None = None,
) -> Result:
    """Runs `test()` (which calls `checker`); sorts what goes wrong into the learner's
    and the checker's failures. `reveal=False` (hidden cases) leaves out what an
    exception of the learner's code said: it could put the case into it, and the
    feedback would hand it on. A `CheckFailed` that the answer raised itself counts
    as the answer's exception, never as the checker's hint."""
    try:
        test()
    except CheckFailed as e:
        if _by_checker(e, checker):
            return Result(key, False, f"not yet - {e}")
        failure: Exception = e
    except NotImplementedError:
        return Result(
            key,
            False,
            "not attempted yet: replace `raise NotImplementedError` with your code.",
            "not-attempted",
        )
    except Exception as e:  # the learner's code may raise anything; say whose it was
        failure = e
    else:
        return Result(key, True, f"all cases of '{title}' pass.")
    return _failure(key, failure, reveal, getattr(guarded, "returned_none", False))


def _missing_tensorflow(e: BaseException | None) -> bool:
    """Whether `e`, or what it was raised from, is TensorFlow failing to import (the
    exercise's data side needs it: chapter 3's records)."""
    seen = 0
    while e is not None and seen < 10:
        name = getattr(e, "name", None) or ""
        if isinstance(e, ImportError) and name.split(".")[0] == "tensorflow":
            return True
        e, seen = e.__cause__ or e.__context__, seen + 1
    return False


def _failure(
    key: str, e: Exception, reveal: bool, returned_none: bool = False
) -> Result:
    """The Result of an exception that is not the checker's verdict. `returned_none`:
    the learner's function last returned None, and did not raise `e` (the checker
    then fails on the None, and says so better than its TypeError would)."""
    if _missing_tensorflow(e):
        return Result(
            key,
            False,
            "this check needs TensorFlow, which cannot be imported here: not your "
            "answer's fault. Install it (pip install 'fenwicks_lite[tf]'; on a Colab "
            "TPU runtime the chapter's setup cell does) and check again.",
            "checker-error",
        )
    line = _raised_by_learner(e)
    said = f": {e}" if reveal else ""
    name = _type_name(e)
    if returned_none and isinstance(e, TypeError | AttributeError):
        return Result(
            key,
            False,
            "your function returned None: end it with `return` and the result "
            "(printing a value shows it but does not return it).",
        )
    if line is not None or isinstance(e, CheckFailed) or hasattr(e, KERNEL_LINE):
        at = f" (line {line})" if line is not None else ""
        return Result(key, False, f"your function raised {name}{said}{at}.", "error")
    where = traceback.extract_tb(e.__traceback__)[-1]
    place = f"{Path(where.filename).name}, line {where.lineno}"
    if isinstance(e, AssertionError):
        return Result(
            key,
            False,
            f"the check itself failed ({type(e).__name__} in {place}): a bug "
            "in fenwicks_lite's checker, not in your answer. Please report it.",
            "checker-error",
        )
    return Result(
        key,
        False,
        f"checking your result raised {type(e).__name__}{said} ({place}): "
        "does your function return what the exercise asks for?",
    )


#: what `run_check` says when the exercise cell defined no function
NO_FUNCTION = "no function given: define it in the exercise cell first."


def run_check(key: str, fn: Callable[..., Any] | None) -> Result:
    """Runs the public checker of `key` on the learner's `fn`; failures become a
    `Result`. `check` (the Introduction's "Exercises") and the grader call it."""
    ex = get(key)
    if fn is None:
        return Result(key, False, NO_FUNCTION, "not-attempted")
    guarded = _guarded(fn)
    return _judge(key, ex.title, ex.checker, lambda: ex.checker(guarded), True, guarded)


def hidden_entropy(seed: int, key: str) -> int:
    """What the hidden cases of `key` are drawn from under the instructor's `seed`: a
    one-way function of both. The grader hands the kernel this, never the seed: an
    answer that finds it learns this exercise's cases, not the seed (For instructors,
    "Grading")."""
    digest = hashlib.sha256(f"fenwicks_lite:{int(seed)}:{key}".encode()).digest()
    return int.from_bytes(digest[:16], "big")


def run_hidden(
    key: str,
    fn: Callable[..., Any] | None,
    seed: int | None = None,
    *,
    entropy: int | None = None,
) -> Result:
    """The grader's verdict on `fn`: the public checker, then the hidden test (if any)
    with cases drawn from `seed` (or from `hidden_entropy(seed, key)`, `entropy`). A
    hidden failure says so without giving the case away. For instructors, "Grading".
    """
    import numpy as np

    if (seed is None) == (entropy is None):
        raise TypeError("run_hidden takes the seed or the entropy, one of them")
    # the cases' generator first: neither is left on the stack for the answer to find
    rng = np.random.default_rng(
        hidden_entropy(seed, key) if entropy is None else entropy
    )
    del seed, entropy
    public = run_check(key, fn)
    if not public.passed or key not in _HIDDEN or fn is None:
        return public
    test, title, guarded = _HIDDEN[key], get(key).title, _guarded(fn)
    r = _judge(key, title, test, lambda: test(guarded, rng), False, guarded)
    if r.passed:
        return Result(key, True, f"the public and the hidden cases of '{title}' pass.")
    return Result(
        key,
        False,
        f"the public cases pass, a hidden case does not: {r.message}",
        r.status,
    )


def check(key: str, fn: Callable[..., Any] | None) -> None:
    """Prints whether the learner's `fn` solves exercise `key` (a pass, or a hint).
    Never raises.

    Each chapter's exercises call it; the Introduction's "Exercises" explains it.
    """
    print(run_check(key, fn))


def table_markdown() -> str:
    """Every exercise with its difficulty and points (``python -m
    fenwicks_lite.exercises table``; For instructors, "Exercises")."""
    rows = [
        "| self-check | title | difficulty | points | hidden test |",
        "|---|---|---|---|---|",
    ]
    for ex in all_exercises():
        rows.append(
            f"| `{ex.key}` | {ex.title} | {ex.difficulty} | {ex.points} | "
            f"{'yes' if ex.key in _HIDDEN else 'no'} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """``python -m fenwicks_lite.exercises table``; ``grade``, ``autograder`` and
    ``gradescope`` are the grader's (`fenwicks_lite.grading`, which sits above this
    module: the script block below hands them over). For instructors, "Exercises" and
    "Grading"."""
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(
        prog="python -m fenwicks_lite.exercises",
        description="The book's exercises. Subcommands: table; grade and autograder "
        "(see `grade --help`); gradescope (what the autograder runs inside "
        "Gradescope).",
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser(
        "table", help="print every exercise, its difficulty and points (Markdown)"
    )
    for name in GRADER_COMMANDS:
        sub.add_parser(
            name, help="see python -m fenwicks_lite.exercises " + name + " --help"
        )
    p.parse_args(argv)
    print(table_markdown())
    return 0


#: subcommands of ``python -m fenwicks_lite.exercises`` that the grader runs.
GRADER_COMMANDS = ("grade", "autograder", "gradescope")

if __name__ == "__main__":
    # Run as a script, this file is `__main__`, while the checks register in the module
    # `fenwicks_lite.exercises`: use that one (else every difficulty would read "?").
    # Only the script imports the grader; the module never does (no import cycle).
    from fenwicks_lite import exercises as _module

    if sys.argv[1:2] and sys.argv[1] in GRADER_COMMANDS:
        from fenwicks_lite import grading

        sys.exit(grading.main(sys.argv[1:]))
    sys.exit(_module.main())
