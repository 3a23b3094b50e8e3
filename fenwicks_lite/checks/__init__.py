"""Self-checks of the book's exercises, one module per chapter (``ch01.py`` ...
``ch10.py``).

Each module registers its checkers with `fenwicks_lite.exercises.exercise`;
`fw.exercises.check` imports the chapter's module on first use.

The comparisons a module uses (``from numpy import array_equal as _array_equal``,
``from math import isclose as _isclose``, ...) are bound when it is imported, before
any answer runs (the grader imports the checks first), so that an answer that
reassigns ``np.array_equal`` or ``math.isclose`` does not change what they compare
with (tests/test_grading.py, the "numpy" cheat)."""
