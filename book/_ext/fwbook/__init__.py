"""fwbook: the machinery that builds the book, kept apart from the library (as d2l keeps d2lbook).

Not part of the `fenwicks_lite` wheel. Sphinx loads `fwbook.brand` and the exercise directives as local
extensions (`_config.yml`, `sphinx.local_extensions`); the Makefile and the tests put ``book/_ext`` on
``PYTHONPATH`` for the commands:

* ``python -m fwbook.notebooks execute|student|setup-cell`` - run chapters in place, the student copies,
  the first cell every chapter has;
* ``python -m fwbook.hygiene`` - the rules every committed notebook keeps;
* `fwbook.brand` - the logo, the favicon and the site's URL, drawn and derived at build time;
* `fwbook.exercises` - the instructors' exercise table and chapter plan (Sphinx directives), the
  student edition's sources and their check (``python -m fwbook.exercises``);
* `fwbook.site` - the page's style sheet (a code column of 88 characters) and MathJax served from
  the site itself, so math renders offline.
"""
