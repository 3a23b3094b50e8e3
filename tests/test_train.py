"""fenwicks_lite.train, the seed's namespace (chapters 7 and 9): its 2019 names are the library's
own objects, and the package's imports run one way (no module imports one that imports it
back, at module level or inside a function)."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

import fenwicks_lite
from fenwicks_lite import cli, fit, optim, train

pytestmark = pytest.mark.backend
PACKAGE = Path(fenwicks_lite.__file__).parent


def test_the_seed_names_are_the_library_objects():
    for name in ("triangular_lr", "sgd_optimizer", "schedule_steps", "TriangularLR",
                 "NesterovSGD", "torch_sgd_numpy"):
        assert getattr(train, name) is getattr(optim, name), name
    assert train.train is fit.train and train.main is cli.main
    assert fenwicks_lite.train is train  # fw.train.triangular_lr, as in 2019


def imports() -> dict[str, set[str]]:
    """module -> the package modules it imports (anywhere in its source)."""
    modules = {p.relative_to(PACKAGE).with_suffix("").as_posix().replace("/", "."): p
               for p in PACKAGE.rglob("*.py")}
    modules = {m.removesuffix(".__init__"): p for m, p in modules.items()}
    graph: dict[str, set[str]] = {}
    for mod, path in modules.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            for n in names:
                if n.startswith("fenwicks_lite."):
                    short = n.removeprefix("fenwicks_lite.")
                    if short in modules and short != mod:
                        deps.add(short)
        graph[mod] = deps
    return graph


def test_imports_run_one_way():
    graph = imports()
    assert {"train", "cli", "fit", "records", "checkpoint", "jax_runner", "keras_runner",
            "optim"} <= set(graph)
    try:
        order = list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as e:
        pytest.fail(f"import cycle in fenwicks_lite: {' -> '.join(e.args[1])}")
    # the layering of the training loop, bottom to top
    for low, high in (("optim", "fit"), ("records", "checkpoint"), ("fit", "cli"),
                      ("cli", "train"), ("records", "jax_runner"), ("fit", "report")):
        assert order.index(low) < order.index(high), (low, high)
    assert "fit" not in graph["optim"] and "train" not in graph["fit"]


def test_a_cycle_would_be_found(tmp_path, monkeypatch):
    """The check itself can fail: two modules importing each other are reported."""
    (tmp_path / "a.py").write_text("from fenwicks_lite import b\n")
    (tmp_path / "b.py").write_text("def f():\n    from fenwicks_lite.a import x\n")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", tmp_path)
    with pytest.raises(graphlib.CycleError):
        graphlib.TopologicalSorter(imports()).prepare()
