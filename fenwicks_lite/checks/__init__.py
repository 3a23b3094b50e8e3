"""Self-checks of the book's exercises, one module per chapter (``ch01.py`` ...
``ch10.py``).

Each module registers its checkers with `fenwicks_lite.exercises.exercise`;
`fw.exercises.check` imports the chapter's module on first use."""
