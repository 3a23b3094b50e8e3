"""The package imports everywhere: on a JAX-only machine (no TensorFlow) included."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import no_tensorflow
import pytest

import fenwicks_lite as fw

pytestmark = pytest.mark.backend

#: The modules that must work without TensorFlow (Colab TPU runtimes, the GPU machine).
TF_FREE = ["tpuest", "fast", "profiles", "data", "exercises", "grading", "accel", "book", "layers", "optim",
           "train", "records", "checkpoint", "jax_runner", "keras_runner", "fit", "cli",
           "report", "plt", "transform", "pipeline", "io", "colab_tpu"]


def test_submodules_are_lazy_and_named():
    assert set(fw.SUBMODULES) >= {"io", "transform", "layers", "train", "plt", "colab_tpu", "data"}
    for name in fw.SUBMODULES:  # every listed module exists and names its chapter
        assert __import__("importlib.util").util.find_spec(f"fenwicks_lite.{name}"), name
        assert fw.SUBMODULES[name]
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        fw.nope  # noqa: B018


def test_import_without_tensorflow_under_jax():
    """A fresh interpreter where `import tensorflow` fails, as on a machine that lacks it."""
    code = no_tensorflow.SOURCE + textwrap.dedent(f"""
        import sys
        import fenwicks_lite as fw
        for m in {TF_FREE!r}:
            getattr(fw, m)
        import keras
        assert keras.backend.backend() == "jax", keras.backend.backend()
        fw.accel.device_info()
        assert "tensorflow" not in sys.modules
        print("ok")
    """)
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-3000:]


def test_a_jax_only_install_runs_without_keras_backend_set():
    """`pip install 'fenwicks_lite[jax]'` and no $KERAS_BACKEND: Keras would import its
    default backend, TensorFlow, and fail; `import fenwicks_lite` picks JAX first, so the
    command line and help() work as on a machine with TensorFlow."""
    runner = Path(__file__).with_name("no_tensorflow.py")
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    out = subprocess.run([sys.executable, str(runner), "fenwicks_lite.train", "--help"], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "usage:" in out.stdout, out.stderr[-3000:]
    code = no_tensorflow.SOURCE + "import fenwicks_lite as fw\nhelp(fw.layers)\nhelp(fw)\n"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0 and "Help on package fenwicks_lite" in out.stdout, out.stdout[-2000:]
    assert "ConvResBlk" in out.stdout and "tensorflow" not in out.stdout.splitlines()[0]
    # help(fw) names each module's chapter in full (the dict itself is cut off in DATA)
    for name, chapter in fw.SUBMODULES.items():
        assert f"{name}: {chapter}" in out.stdout, (name, out.stdout[-3000:])


def test_an_install_without_a_backend_says_which_extra_to_install():
    """`pip install fenwicks_lite` with no extra: Keras has no backend to import. The
    library's first Keras import says what to install, not just "No module named ..."."""
    block = textwrap.dedent("""
        import importlib.abc, sys
        class _NoBackend(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("tensorflow", "jax"):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        sys.meta_path.insert(0, _NoBackend())
    """)
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    cases = {"import fenwicks_lite as fw\nfw.layers\n": "ModuleNotFoundError: ",
             "import fenwicks_lite as fw\nfw.Sequential\n": "ModuleNotFoundError: ",
             # the command line: one line, no traceback
             "import sys, runpy\nsys.argv = ['train', '--epochs', '1']\n"
             "runpy.run_module('fenwicks_lite.train', run_name='__main__')\n": "error: "}
    for code, start in cases.items():
        out = subprocess.run([sys.executable, "-c", block + code], env=env, capture_output=True,
                             text=True, timeout=300)
        last = out.stderr.strip().splitlines()[-1]
        assert out.returncode != 0 and last.startswith(start), out.stderr[-2000:]
        assert start != "error: " or "Traceback" not in out.stderr, out.stderr[-2000:]
        assert "Keras's backend 'tensorflow' needs tensorflow" in last, last
        assert "pip install 'fenwicks_lite[jax]'" in last and "'fenwicks_lite[tf]'" in last, last
    # --help needs no Keras
    code = ("import sys, runpy\nsys.argv = ['train', '--help']\n"
            "runpy.run_module('fenwicks_lite.train', run_name='__main__')\n")
    out = subprocess.run([sys.executable, "-c", block + code], env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0 and "usage:" in out.stdout, out.stderr[-2000:]
    out = subprocess.run([sys.executable, "-c", block + "import fenwicks_lite as fw\nfw.layers\n"],
                         env={**env, "KERAS_BACKEND": "jax"}, capture_output=True, text=True,
                         timeout=300)
    assert "Keras's backend 'jax' needs jax, which is not installed" in out.stderr, out.stderr[-2000:]


def test_plain_import_does_not_load_keras_or_tensorflow():
    code = "import sys, fenwicks_lite; print('keras' in sys.modules, 'tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", "False"], out.stderr


def test_wheel_holds_the_library_and_not_the_books_machinery(wheel):
    """The wheel is what readers, learners and instructors use; building the site is not in it."""
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    modules = {n.removeprefix("fenwicks_lite/") for n in names if n.startswith("fenwicks_lite/")}
    for name in ["__init__.py", "io.py", "data.py", "transform.py", "pipeline.py", "layers.py",
                 "train.py", "accel.py", "plt.py", "colab_tpu.py", "report.py", "exercises.py",
                 "grading.py", "book.py"]:
        assert name in modules, f"{name} is missing from {wheel.name}: {sorted(modules)}"
    # chapter 9's committed records are package data: the folder and every record in it
    records = {n for n in names if n.startswith("fenwicks_lite/results/")}
    assert "fenwicks_lite/results/README.md" in records, f"no records folder in {wheel.name}"
    root = Path(fw.__file__).parent
    shipped = {f"fenwicks_lite/results/{p.name}" for p in (root / "results").glob("*.json")}
    assert shipped <= records, f"records missing from {wheel.name}: {sorted(shipped - records)}"
    leaked = [n for n in names if "fwbook" in n or n.endswith(("hygiene.py", "brand.py"))
              or n.startswith(("book/", "tests/", "_ext/"))]
    assert not leaked, f"the book's machinery or tests are in the wheel: {leaked}"
    # the library's code is all there is: no notebooks, no build outputs
    assert all(n.endswith((".py", ".json")) or ".dist-info/" in n or n in records for n in names), names


def _metadata(wheel: Path):
    import email
    import zipfile

    with zipfile.ZipFile(wheel) as z:
        (name,) = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
        return email.message_from_bytes(z.read(name)), z.namelist()


def test_metadata_says_license_urls_and_how_to_get_each_backend(wheel):
    """What PyPI and `pip show` tell an engineer who meets the package outside the book."""
    from fwbook import brand
    from fwbook import notebooks as book

    meta, names = _metadata(wheel)
    assert meta["License-Expression"] == "MIT" and meta.get_all("License-File") == ["LICENSE"]
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names
    license_text = (Path(__file__).parent.parent / "LICENSE").read_text()
    config = book.config()
    assert f"Copyright (c) {config['copyright']} {config['author']}" in license_text
    repo = config["repository"]["url"]
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    assert urls == {"Homepage": repo, "Documentation": brand.site_url(repo),
                    "Issues": f"{repo}/issues"}, urls
    extras = set(meta.get_all("Provides-Extra"))
    assert {"tf", "jax"} <= extras
    requires = meta.get_all("Requires-Dist")
    assert any(r.startswith("tensorflow") and 'extra == "tf"' in r for r in requires)
    assert any(r.startswith("jax") and 'extra == "jax"' in r for r in requires)
    assert not any(r.startswith(("tensorflow", "jax")) and "extra" not in r for r in requires)
    # the long description is the README, rendered on PyPI away from the repository: every
    # link and image must be absolute (a relative one breaks there)
    readme = meta.get_payload()
    targets = re.findall(r"\]\(([^)\s]+)", readme) + re.findall(r'(?:src|href)="([^"]+)"', readme)
    relative = [t for t in targets if not t.startswith(("https://", "http://", "#"))]
    assert not relative, f"relative links break on PyPI: {relative}"
    # and it says how to install each backend, with the URL the setup cells install
    for extra in extras:
        line = book.install_url().replace("fenwicks_lite @", f"fenwicks_lite[{extra}] @", 1)
        assert f'pip install "{line}"' in readme or extra in {"widgets", "grade"}, extra
        assert f"`[{extra}]`" in readme, f"the README does not say what [{extra}] is for"


def test_the_version_is_written_once(wheel):
    """`fw.__version__` and the package's metadata (pip show, records' versions) agree:
    pyproject.toml reads it from fenwicks_lite/__init__.py instead of repeating it."""
    import tomllib

    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"], project.get("version")
    meta, _ = _metadata(wheel)
    assert meta["Version"] == fw.__version__


def test_the_version_bounds_are_written_alike_everywhere():
    """requirements.txt (.venv, CI) and the autograder's requirements.txt repeat pyproject.toml's
    bounds for what they share (TensorFlow as tensorflow-cpu, JAX as jax[cpu]): when `make
    test-lowest` finds a bound false, raising it in pyproject.toml alone fails here."""
    import tomllib

    from fenwicks_lite import grading

    def bounds(lines) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for line in lines:
            m = re.match(r"([A-Za-z0-9_.-]+)(?:\[[^]]*\])?\s*([<>=!~].*)$", line.split("#")[0].strip())
            if m:
                found.setdefault(m.group(1).lower().removesuffix("-cpu"), set()).add(m.group(2).replace(" ", ""))
        return found

    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]
    # a name may be bounded twice: keras in the dependencies and, higher, in [jax]
    declared = bounds(project["dependencies"] + sum(project["optional-dependencies"].values(), []))
    requirements = (Path(__file__).parent.parent / "requirements.txt").read_text().splitlines()
    for where, listed in [("requirements.txt", bounds(requirements)),
                          ("grading._REQUIREMENTS", bounds(grading._REQUIREMENTS))]:
        shared = {name: specs for name, specs in listed.items() if name in declared}
        assert all(len(specs) == 1 and specs <= declared[name] for name, specs in shared.items()), \
            (where, shared, declared)
        assert {"keras", "numpy", "tensorflow"} <= shared.keys(), where


def test_sdist_holds_what_builds_the_wheel_and_no_tests(dist):
    import tarfile

    sdist, _ = dist
    with tarfile.open(sdist) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    assert {"LICENSE", "README.md", "pyproject.toml", "fenwicks_lite/__init__.py",
            "fenwicks_lite/results/README.md"} <= names, sorted(names)
    # tests need the book beside them: none in the sdist rather than some without conftest.py
    assert not [n for n in names if n.startswith(("tests/", "book/", ".venv/"))
                or "__pycache__" in n], sorted(names)


#: every module of the library (fw.SUBMODULES, which a test below ties to the files): each
#: public function and class names the part of the book that explains it, as d2l's
#: functions do (help() then answers "where is this explained?")
CHAPTER_IN_EVERY_DOCSTRING = sorted(fw.SUBMODULES)


def test_every_module_file_is_listed():
    files = {p.stem for p in Path(fw.__file__).parent.glob("*.py")} - {"__init__"}
    assert set(CHAPTER_IN_EVERY_DOCSTRING) == files


@pytest.mark.parametrize("module", CHAPTER_IN_EVERY_DOCSTRING)
def test_public_functions_name_the_chapter_that_explains_them(module):
    import importlib
    import inspect

    mod = importlib.import_module(f"fenwicks_lite.{module}")
    names = getattr(mod, "__all__", None) or [n for n in vars(mod) if not n.startswith("_")]
    silent = []
    for name in names:
        obj = getattr(mod, name)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)) or obj.__module__ != mod.__name__:
            continue
        doc = inspect.getdoc(obj) or ""
        if not re.search(r"[Cc]hapters? \d|Introduction|Appendix|For instructors", doc):
            silent.append(name)
    assert not silent, f"fenwicks_lite.{module}: no chapter named in the docstrings of {silent}"


def test_the_book_sections_the_library_quotes_exist():
    """A docstring that sends the reader to 'Chapter 8, "The training loop"', 'the
    Introduction's "How to read it"' or 'For instructors, "Grading"' names a heading (or a
    paragraph's opening words) that is in that page: a renamed section leaves no dangling
    pointer."""
    import json

    root = Path(__file__).parent.parent
    quote = re.compile(r'(Introduction|For instructors|Chapter\s+(\d+))(?:\'s)?,?\s+\\?"([^"\\]+)\\?"')

    def page(name: str, chapter: str | None) -> str:
        if chapter is None:
            md = "intro.md" if name == "Introduction" else "instructors.md"
            return (root / "book" / md).read_text()
        (nb,) = (root / "book").glob(f"{int(chapter):02d}_*.ipynb")
        cells = json.loads(nb.read_text())["cells"]
        return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")

    found, missing = 0, []
    for py in sorted((root / "fenwicks_lite").rglob("*.py")):
        for m in quote.finditer(py.read_text()):
            title = re.sub(r"\s+", " ", m.group(3))
            found += 1
            if not re.search(rf"^(#+ )?{re.escape(title)}", page(m.group(1), m.group(2)), re.M):
                missing.append(f"{py.name}: {m.group(0)!r}")
    assert found >= 5, "the pattern no longer finds the library's pointers into the book"
    assert not missing, f"sections quoted by the library that the book does not have: {missing}"


def test_the_gpu_commands_runner_blocks_tensorflow_and_keeps_the_exit_status(tmp_path):
    """`python tests/no_tensorflow.py MODULE ARGS` (how book/scripts/gpu_*.sh run the
    training): `python -m MODULE` with TensorFlow blocked, the module's exit status, and
    a line naming the third-party modules it imported."""
    runner = Path(__file__).with_name("no_tensorflow.py")
    (tmp_path / "wants_tf.py").write_text("import tensorflow\n")
    (tmp_path / "fine.py").write_text(
        "import sys\nimport numpy\nprint('args', sys.argv[1:])\nsys.exit(int(sys.argv[1]))\n")

    def run(*args):
        env = {**os.environ, "PYTHONPATH": str(tmp_path)}
        return subprocess.run([sys.executable, str(runner), *args], capture_output=True,
                              text=True, env=env, timeout=120)

    ok = run("fine", "0", "--flag")
    assert ok.returncode == 0, ok.stderr
    assert "args ['0', '--flag']" in ok.stdout
    assert "third-party modules imported: numpy" in ok.stdout
    assert run("fine", "3").returncode == 3
    blocked = run("wants_tf")
    assert blocked.returncode != 0
    assert "TensorFlow is blocked here (tensorflow)" in blocked.stderr
    usage = run()
    assert usage.returncode == 2 and "usage: python tests/no_tensorflow.py MODULE" in usage.stderr


#: every fenwicks call of the tutorial's saved versions (fenwickslab/fenwicks,
#: tutorials/tutorial2_cifar10.ipynb, 12ba3df of April 2019 to 04cbdc7 of May 2019): the
#: April names (fw.io.*, fw.tpuest.*, fw.colab_tpu.*) and the May ones (fw.data.*,
#: fw.train.get_*, fw.colab_utils.*), each as the same object
SEED_CALLS = {
    "io.numpy_tfrecord": "data.numpy_tfrecord",
    "io.tfrecord_ds": "data.tfrecord_ds",
    "io.tfexample_numpy_image_parser": "data.tfexample_numpy_image_parser",
    "tpuest.get_clf_model_func": "train.get_clf_model_func",
    "tpuest.get_tpu_estimator": "train.get_tpu_estimator",
    "colab_tpu.setup_gcs": "colab_utils.setup_gcs",
    "transform.random_pad_crop": "transform.ramdom_pad_crop",
}
#: the seed's other calls, one name each
SEED_ONLY = ["io.create_clean_dir", "io.get_gcs_dirs", "io.get_project_dirs",
             "transform.random_flip", "transform.cutout", "layers.ConvBN", "layers.ConvBlk",
             "layers.ConvResBlk", "layers.Classifier", "layers.Scaling",
             "layers.init_pytorch", "layers.PYTORCH_CONV_PARAMS", "layers.PYTORCH_PARAMS",
             "train.sgd_optimizer", "train.triangular_lr", "plt.plot_lr_func", "Sequential",
             "train.sgd_triangle_one_cycle",  # 12ba3df only (April 11)
             # May only (a22231b .. 04cbdc7)
             "plt.plot_counts_pie", "transform.tfm_reverse_standard_scaler",
             "anim.show_input_func", "train.linear_decay", "train.one_cycle_lr"]


def _resolve(name: str):
    obj = fw
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def test_the_seeds_april_and_may_names_are_both_here():
    for april, may in SEED_CALLS.items():
        assert _resolve(april) is _resolve(may), (april, may)
    for name in SEED_ONLY:
        assert _resolve(name) is not None, name


# ---------------------------------------------------------------- functions that need TensorFlow

def _calls_tensorflow_unconditionally(fn, seen: dict) -> bool:
    """Whether `fn`, once called, always imports TensorFlow: its body (outside `if` and `try`
    blocks and nested functions) imports it, or calls a function of the library that does,
    whether its own module's helper (`_tf_batched`), another module's (`io.numpy_tfrecord`)
    or one marked `@needs_tensorflow`."""
    import ast
    import importlib
    import inspect
    import textwrap

    fn = inspect.unwrap(fn)
    if getattr(fn, "__code__", None) in seen:
        return seen[fn.__code__]
    seen[fn.__code__] = False  # a cycle says no more than the rest of the body
    try:
        (node,) = ast.parse(textwrap.dedent(inspect.getsource(fn))).body
    except (OSError, TypeError, ValueError):  # no source (generated, builtin)
        return False
    nested = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)

    def walk(tree):
        stack = [tree]
        while stack:
            n = stack.pop()
            yield n
            stack.extend(c for c in ast.iter_child_nodes(n) if not isinstance(c, nested))

    def unconditional(body):
        for stmt in body:
            if isinstance(stmt, (*nested, ast.Try, ast.TryStar)):
                continue
            if isinstance(stmt, (ast.If, ast.While)):
                yield from walk(stmt.test)
            elif isinstance(stmt, (ast.For, ast.AsyncFor)):
                yield from walk(stmt.iter)
            elif isinstance(stmt, (ast.With, ast.AsyncWith)):
                for item in stmt.items:
                    yield from walk(item.context_expr)
                yield from unconditional(stmt.body)
            elif isinstance(stmt, ast.Match):
                yield from walk(stmt.subject)
            else:
                yield from walk(stmt)

    names = dict(vars(inspect.getmodule(fn)))
    for n in walk(node):  # the library's own imports inside the function
        if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("fenwicks_lite"):
            module = importlib.import_module(n.module)
            names.update({a.asname or a.name: getattr(module, a.name, None) for a in n.names})

    def needs(target) -> bool:
        if getattr(target, "needs_tensorflow", False):
            return True
        if inspect.isfunction(target) and target.__module__.startswith("fenwicks_lite"):
            return _calls_tensorflow_unconditionally(target, seen)
        return False

    for n in unconditional(node.body):
        if isinstance(n, ast.Import) and any(a.name.split(".")[0] == "tensorflow" for a in n.names):
            break
        if isinstance(n, ast.ImportFrom) and (n.module or "").split(".")[0] == "tensorflow":
            break
        if isinstance(n, ast.Call):
            f = n.func
            if isinstance(f, ast.Name) and needs(names.get(f.id)):
                break
            if (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
                    and inspect.ismodule(names.get(f.value.id))
                    and needs(getattr(names[f.value.id], f.attr, None))):
                break
    else:
        return False
    seen[fn.__code__] = True
    return True


def _public_functions():
    """{"fw.io.numpy_tfrecord": the function, ...}: every public function of the library's
    modules, and every public (or dunder) method and property of their public classes."""
    import importlib
    import inspect

    found = {}
    for module in sorted(fw.SUBMODULES):
        mod = importlib.import_module(f"fenwicks_lite.{module}")
        for name, obj in vars(mod).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != mod.__name__:
                continue
            if inspect.isfunction(obj):
                found[f"fw.{module}.{name}"] = obj
            elif inspect.isclass(obj):
                for attr, v in vars(obj).items():
                    if attr.startswith("_") and not (attr.startswith("__") and attr.endswith("__")):
                        continue
                    v = v.fget if isinstance(v, property) else getattr(v, "__func__", v)
                    if inspect.isfunction(v):
                        found[f"fw.{module}.{name}.{attr}"] = v
    return found


def test_every_function_that_needs_tensorflow_says_so_where_it_is_missing():
    """The guard: a public function whose body always imports TensorFlow (itself, or through a
    helper or another function of the library) is marked `@fw.needs_tensorflow`, so that on a
    JAX-only install it says what to install instead of "No module named 'tensorflow'"; a new
    one fails here until marked. Then each marked one, called there, says so by name."""
    seen: dict = {}
    public = _public_functions()
    need = {name for name, f in public.items() if _calls_tensorflow_unconditionally(f, seen)}
    # the detector finds them directly, through a helper, and across modules
    assert {"fw.io.numpy_tfrecord", "fw.transform.random_pad_crop", "fw.transform.cutout",
            "fw.io.tfrecord_ds", "fw.io.get_gcs_dirs", "fw.bench_pipeline.run",
            "fw.transform.TFOps.arange"} <= need, sorted(need)
    # and leaves alone what uses TensorFlow only on its backend or as an option
    assert not need & {"fw.accel.setup", "fw.accel.device_info", "fw.pipeline.DeviceDataset.epoch",
                       "fw.transform.random_flip_batch", "fw.book.start"}, sorted(need)
    unmarked = sorted(n for n in need if not getattr(public[n], "needs_tensorflow", False))
    assert not unmarked, f"always import TensorFlow, but are not marked @needs_tensorflow: {unmarked}"

    marked = sorted(n for n, f in public.items() if getattr(f, "needs_tensorflow", False))
    got = no_tensorflow.errors_without_tensorflow(  # called bare: the mark answers first
        {n: f"_fn({n[3:]!r})()" for n in marked},
        setup="def _fn(path):\n    obj = fw\n    for part in path.split('.'):\n"
              "        obj = obj.__dict__[part] if isinstance(obj, type) else getattr(obj, part)\n"
              "    return getattr(obj, '__func__', obj)\n")
    for name in marked:  # an alias (the seed's ramdom_pad_crop) gives the function's own name
        f = public[name]
        no_tensorflow.assert_says_what_to_install(
            got[name], f"{f.__module__.replace('fenwicks_lite.', 'fw.')}.{f.__qualname__}")
