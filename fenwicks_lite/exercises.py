"""Exercises and their self-checks (explained in the Introduction, used by every chapter).

Each exercise in a chapter has a key such as ``"ch01.clean_dir"``. Its checker lives in
`fenwicks_lite/checks/ch01.py`, registered with `@exercise`; it calls the learner's function on test
cases and raises `CheckFailed` with a hint at the first wrong answer. In a notebook the learner runs
``fw.exercises.check("ch01.clean_dir", my_function)``, which prints a pass or the hint and never raises,
so an unsolved exercise does not stop the rest of the chapter.
"""

from __future__ import annotations

import dataclasses
import importlib
import traceback
from collections.abc import Callable
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
