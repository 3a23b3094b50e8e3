# Two commands set everything up on a fresh machine with Python >= 3.11:
#   make book   - venv + install + build the site into _build/html
#   make test   - unit tests (TensorFlow and JAX backends), every notebook (quick profile), the -W build
#                 and the HTML check
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JB     := $(BIN)/jupyter-book build . -W -n --keep-going
# The book's machinery (fwbook: executing notebooks, hygiene, the logo) is not in the library's wheel.
export PYTHONPATH := $(CURDIR)/book/_ext$(if $(PYTHONPATH),:$(PYTHONPATH))
NOTEBOOKS := $(wildcard book/*.ipynb)

.PHONY: install book test test-unit test-jax test-notebooks test-book test-lowest chromium outputs student colab train lint clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

install: $(STAMP)

book: install
	$(JB)
	@echo "open _build/html/index.html"

test: install lint chromium test-unit test-jax test-notebooks test-book

# The tests check what is computed, not how fast, so they compile without LLVM's optimisations
# (XLA_FLAGS=--xla_backend_optimization_level=0: JAX's tiny-run tests in about 60% of the time,
# building a DavidNet's weights under JAX in about a fifth; measured side by side on a 2-core
# AMD EPYC) and pytest-xdist runs them on every core. The chapters' outputs, `make outputs`,
# `make train` and the benchmarks keep XLA's defaults.
TEST_ENV := XLA_FLAGS="--xla_backend_optimization_level=0$(if $(XLA_FLAGS), $(XLA_FLAGS))"
XDIST    := -n auto --dist loadfile

# Everything except the book build, under Keras's default backend (TensorFlow).
test-unit: install
	$(TEST_ENV) $(BIN)/pytest $(XDIST) -m "not book and not notebooks" tests

# The backend-agnostic tests again under JAX, with TensorFlow made unimportable.
test-jax: install
	$(TEST_ENV) KERAS_BACKEND=jax FENWICKS_LITE_BLOCK_TF=1 $(BIN)/pytest $(XDIST) -m backend tests

# Every chapter top to bottom in the quick profile, as a reader runs it: from the installed wheel in a
# fresh virtual environment, no network, as Colab CPU and as Colab TPU (no TensorFlow until a setup
# cell installs it); nbval --nbval-lax, outputs not compared (tests/test_reader_runtime.py). The two
# runtimes run side by side, one per core.
test-notebooks: install
	$(TEST_ENV) $(BIN)/pytest -n 2 -m notebooks -p no:randomly tests/test_reader_runtime.py

# Builds the site with -W (warnings are errors) and checks the HTML, with a Chromium screenshot.
test-book: install chromium
	$(BIN)/pytest -m book tests

# The library's dependencies at the lowest versions pyproject.toml allows, on the oldest Python it
# allows (tests/lowest_deps.py: two venvs outside the checkout, one with TensorFlow and one JAX-only,
# and the library's unit tests as test-unit and test-jax run them). Not part of `make test`: it
# downloads TensorFlow once and takes longer than CI can spare (see the README). LOWEST_ARGS passes
# options on, e.g. LOWEST_ARGS="--python ~/.pyenv/versions/3.10.13/bin/python -n 2".
test-lowest: install
	$(BIN)/python tests/lowest_deps.py $(LOWEST_ARGS)

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "install Debian's chromium (sudo apt-get install chromium) for the screenshot test"; exit 1; fi; }

# Re-executes every chapter in the full profile: the outputs the book shows. Needs the full data set.
outputs: install
	@test -n "$(CIFAR10_DIR)" || { echo "set CIFAR10_DIR to the folder holding cifar-10-batches-py/ (full CIFAR-10)"; exit 2; }
	$(BIN)/python -m fwbook.notebooks execute --profile full

# The student edition: notebooks without solutions in _build/student/book, the site without them
# (and without the instructors' page) in _build/student/html.
# sphinx-exercise's hide_solutions misses gated solutions, so the site is built from a copy of the
# sources without solution cells (fwbook.exercises.student_sources); then both are checked.
student: install
	$(BIN)/python -m fwbook.notebooks student --out _build/student
	$(BIN)/python -m fwbook.exercises student-sources _build/student
	$(BIN)/jupyter-book build _build/student/source -W -n --keep-going --path-output _build/student/site
	rm -rf _build/student/html && cp -r _build/student/site/_build/html _build/student/html
	$(BIN)/python -m fwbook.exercises verify-student _build/student
	@echo "student notebooks: _build/student/book/  student site: _build/student/html/index.html"

# The Colab edition: the chapters with their Markdown in plain CommonMark (no MyST roles or boxes),
# in _build/colab/book; the workflow publishes them as the branch the Colab buttons open.
colab: install
	$(BIN)/python -m fwbook.colab _build/colab

# The full 94% run (needs a GPU or TPU; see chapter 9): SEEDS seeds (default 5) in one process,
# one XLA compile for all. On the lent GPU machine (no make, no venv) the same run is ONE prepared
# command, book/scripts/gpu_run.sh (its header says how it is staged and rehearsed on a CPU).
train: install
	KERAS_BACKEND=$${KERAS_BACKEND:-jax} $(BIN)/python -m fenwicks_lite.train --profile full \
	  --seeds $${SEEDS:-5} --out fenwicks_lite/results/ --work-dir _build/train

# Pre-commit style: ruff over the library, the tests and the notebooks' code cells, the notebook hygiene
# rules (book/_ext/fwbook/hygiene.py: secrets, personal paths, errors, execution order, kernel, size) and
# actionlint over the GitHub workflow. Each message says how to fix what it found.
lint: install
	$(BIN)/ruff check fenwicks_lite tests book
	$(BIN)/python -m fwbook.hygiene --no-ruff
	$(BIN)/actionlint .github/workflows/*.yml

clean:
	rm -rf _build
