"""The library's dependencies at the lowest versions pyproject.toml allows, tested: `make test-lowest`.

Two virtual environments (outside the checkout, in ``$TMPDIR/fenwicks_lite-lowest`` unless
``--dir``) on the oldest Python that ``requires-python`` allows, each with every dependency that
pyproject.toml declares at its lower bound (uv's ``--resolution lowest-direct``; what those pull in
comes at the newest versions that fit), and in them the library's unit tests as `make test` runs them:

- ``tf``: the library, ``[tf]``, ``[widgets]`` and ``[grade]``; `make test-unit`'s pass (Keras on
  TensorFlow). JAX comes too, at the newest version that installs beside that TensorFlow, for the
  tests that start a JAX-backend process (as in ``.venv``): jax >= 0.6.1 needs tensorflow >= 2.18.
- ``jax``: the library, ``[jax]``, ``[widgets]`` and ``[grade]``, no TensorFlow (Colab's TPU
  runtime); `make test-jax`'s pass (the backend tests under ``KERAS_BACKEND=jax``).

TensorFlow comes as ``tensorflow-cpu`` at the same version (the same library, a third of the download).
pytest and the tests' own needs come at their newest versions; the tests of the book's machinery
(they need Jupyter Book and Sphinx) are left out. The tests run on this checkout's sources, as in
``.venv`` (installed as by ``pip install -e .``). Needs the network once (PyPI, and a Python of that version: uv downloads one when none is on
PATH; ``--python`` names one).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
#: test files of the book's machinery (fwbook, the site, the notebooks, the packaging), not the library's
BOOK_TESTS = {"apidoc", "book", "brand", "colab", "hygiene", "package", "page_width", "reader_runtime",
              "site", "workflow"}
#: what the tests themselves import, at their newest versions
TEST_TOOLS = ["pytest", "pytest-xdist", "pytest-timeout", "hypothesis", "pyyaml"]
#: (environment, extras, pytest arguments, environment variables): `make test-unit`, `make test-jax`
PASSES = [
    ("tf", ["tf", "widgets", "grade"], ["-m", "not book and not notebooks"], {}),
    ("jax", ["jax", "widgets", "grade"], ["-m", "backend"],
     {"KERAS_BACKEND": "jax", "FENWICKS_LITE_BLOCK_TF": "1"}),
]


def requirements(extras: list[str]) -> list[str]:
    """pyproject.toml's dependencies and those of `extras`, TensorFlow as tensorflow-cpu."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in extras:
        reqs += project["optional-dependencies"][extra]
    return [re.sub(r"^tensorflow(?=[<>=!~\[ ]|$)", "tensorflow-cpu", r) for r in reqs]


def floor(req: str) -> tuple[str, str]:
    """``("keras", "3.6")`` for ``"keras>=3.6,<4"``."""
    name, bound = re.match(r"([A-Za-z0-9_.-]+)(?:\[[^]]*\])?\s*>=\s*([0-9][0-9.]*)", req).groups()
    return name, bound


def uv(work: Path) -> str:
    """uv on PATH, else one installed (once) into a virtual environment of its own under `work`."""
    found = shutil.which("uv")
    if found:
        return found
    tools = work / "uv"
    if not (tools / "bin" / "uv").is_file():
        subprocess.run([sys.executable, "-m", "venv", str(tools)], check=True)
        subprocess.run([str(tools / "bin" / "python"), "-m", "pip", "install", "-q", "uv"], check=True)
    return str(tools / "bin" / "uv")


def version_key(v: str) -> tuple[int, ...]:
    """``(2, 16, 1)`` for ``"2.16.1"``, ``(8, 0, 0)`` for ``"8"``."""
    parts = [int(p) for p in re.findall(r"\d+", v)[:3]]
    return tuple(parts + [0] * (3 - len(parts)))


def main(argv: list[str] | None = None) -> int:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    oldest = re.fullmatch(r">=\s*(\d+\.\d+)", project["requires-python"]).group(1)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", default=oldest,
                        help=f"the interpreter (a path, or a version uv finds or downloads); default {oldest}, "
                             "requires-python's floor")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "fenwicks_lite-lowest",
                        help="where the environments go (outside the checkout); default %(default)s")
    parser.add_argument("-n", "--workers", default="auto", help="pytest-xdist workers (default auto)")
    parser.add_argument("--only", choices=[p[0] for p in PASSES], help="one environment only")
    args = parser.parse_args(argv)
    if args.dir.resolve().is_relative_to(ROOT):
        parser.error(f"--dir {args.dir} is inside the checkout: the tests would find that venv's files")
    args.dir.mkdir(parents=True, exist_ok=True)
    uv_bin = uv(args.dir)
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_*.py")
                   if p.stem.removeprefix("test_") not in BOOK_TESTS)
    failed = []
    for name, extras, marks, env_vars in PASSES:
        if args.only and name != args.only:
            continue
        start = time.monotonic()
        venv = args.dir / name
        python = str(venv / "bin" / "python")
        reqs = requirements(extras)
        subprocess.run([uv_bin, "venv", "-q", "--clear", "-p", args.python, str(venv)], check=True)
        subprocess.run([uv_bin, "pip", "install", "-q", "--python", python, "--resolution", "lowest-direct",
                        *reqs], check=True)
        tools = TEST_TOOLS + (["jax"] if "jax" not in extras else [])
        pinned = venv / "lowest.txt"  # the tools must not move what is installed
        pinned.write_text(subprocess.run([uv_bin, "pip", "freeze", "--python", python], check=True,
                                         capture_output=True, text=True).stdout)
        subprocess.run([uv_bin, "pip", "install", "-q", "--python", python, "-c", str(pinned), *tools],
                       check=True)
        subprocess.run([uv_bin, "pip", "check", "-q", "--python", python], check=True)
        # the library from this checkout, as `pip install -e .` puts it in .venv (not by PYTHONPATH:
        # the grader's tests start Pythons that must not see it)
        site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              check=True, capture_output=True, text=True).stdout.strip()
        (Path(site) / "fenwicks_lite_checkout.pth").write_text(f"{ROOT}\n")
        frozen = subprocess.run([uv_bin, "pip", "freeze", "--python", python], check=True,
                                capture_output=True, text=True).stdout
        have = dict(line.lower().split("==", 1) for line in frozen.splitlines() if "==" in line)
        py = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                            check=True, capture_output=True, text=True).stdout.strip()
        print(f"\n== {name}: Python {py}, installed at the lower bounds:")
        floors: dict[str, str] = {}  # a name bounded twice (keras, higher in [jax]): the higher bound
        for req in reqs:
            dep, bound = floor(req)
            if version_key(bound) >= version_key(floors.get(dep, "0")):
                floors[dep] = bound
        for dep, bound in floors.items():
            got = have.get(dep.lower().replace("_", "-"), "missing")
            print(f"   {dep + '>=' + bound:<28} {dep} {got}")
            # the lowest release >= the bound: 2.16's may be 2.16.1
            n = bound.count(".") + 1
            if got == "missing" or version_key(got)[:n] != version_key(bound)[:n]:
                failed.append(f"{name}: {dep} {got} is not at its lower bound {bound}")
        if "jax" not in extras and "jax" in have:
            print(f"   (for the tests' JAX-backend processes: jax {have['jax']})")
        env = {**os.environ, **env_vars, "PYTHONPATH": str(ROOT / "book" / "_ext"),
               "XLA_FLAGS": "--xla_backend_optimization_level=0"}
        cmd = [str(venv / "bin" / "pytest"), "-q", "-p", "no:cacheprovider", "-n", args.workers, "--dist", "loadfile",
               "--timeout", "900",  # a test that never ends (an old version's bug) fails instead
               *marks, *files]
        print("  ", *[f"{k}={v}" for k, v in env_vars.items()], "pytest", *cmd[1:], flush=True)
        if subprocess.run(cmd, cwd=ROOT, env=env).returncode:
            failed.append(f"{name}: the tests failed (above)")
        print(f"== {name}: {time.monotonic() - start:.0f} s", flush=True)
    print("\n" + ("\n".join(failed) if failed else "the lowest versions pass"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
