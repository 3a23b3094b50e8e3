"""Notebook hygiene: every committed notebook passes; each rule catches what it is for and says how to fix.

Backend-agnostic (no Keras at all), so it also runs in the JAX pass with TensorFlow blocked.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import nbformat
import pytest
from fwbook import hygiene
from hypothesis import given, settings
from hypothesis import strategies as st
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

pytestmark = pytest.mark.backend


# ------------------------------------------------------------------ the book's notebooks, whatever exist

@pytest.mark.parametrize("path", hygiene.notebooks(), ids=lambda p: p.name)
def test_committed_notebook_is_clean(path):
    problems = hygiene.check_notebook(path)
    assert not problems, "\n".join(map(str, problems))


def test_ruff_passes_on_library_and_notebooks():
    out = hygiene.ruff([hygiene.ROOT / "fenwicks_lite", hygiene.ROOT / "book" / "_ext", *hygiene.notebooks()])
    assert out.returncode == 0, "ruff:\n" + out.stdout + out.stderr


# ------------------------------------------------------------------ each rule, on small notebooks

def _png(width: int, height: int) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def _clean_nb():
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                               "language": "python"}})
    nb.cells = [
        new_markdown_cell("# 1. A chapter"),
        new_code_cell("x = 1\nprint(x)", execution_count=1,
                      outputs=[new_output("stream", name="stdout", text="1\n")]),
        new_code_cell("x", execution_count=2,
                      outputs=[new_output("display_data", data={"image/png": _png(640, 480), "text/plain": "<Figure>"})],
                      metadata={"mystnb": {"image": {"alt": "A red square"},
                                           "figure": {"caption": "Red.", "name": "fig-red"}}}),
    ]
    return nb


def _problems(nb, tmp_path: Path) -> list[str]:
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    return [str(p) for p in hygiene.check_notebook(path)]


def test_clean_notebook_has_no_problems(tmp_path):
    assert _problems(_clean_nb(), tmp_path) == []


@pytest.mark.parametrize("secret", [
    "ghp_" + "a1B2" * 9,
    "AKIA" + "ABCDEFGHIJ234567",
    "AIza" + "Sy" + "x" * 33,
    "-----BEGIN RSA PRIVATE KEY-----",
    "xoxb-123456789012-abcdefghij",
    "sk-" + "proj-" + "Q" * 30,
    'api_key = "' + "d3adb33fcafe" + '"',
    'PASSWORD="' + "hunter2hunter2" + '"',
])
@pytest.mark.parametrize("place", ["source", "output"])
def test_secrets_are_found_in_sources_and_outputs(tmp_path, secret, place):
    nb = _clean_nb()
    if place == "source":
        nb.cells[1].source += f"\n# {secret}"
    else:
        nb.cells[1].outputs[0].text += secret
    found = _problems(nb, tmp_path)
    assert len(found) == 1 and "looks like a" in found[0] and "revoke" in found[0]
    assert secret not in found[0], "the message must not repeat the secret"


@pytest.mark.parametrize("path", ["/home/alice/data", "/root/cifar10", "/Users/bob/x.npz", r"C:\Users\eve\x",
                                  "/root"])
def test_personal_paths_are_found(tmp_path, path):
    nb = _clean_nb()
    nb.cells[1].outputs[0].text = f"saved to {path}\n"
    (found,) = _problems(nb, tmp_path)
    assert "absolute personal path" in found and "relative" in found


@pytest.mark.parametrize("text", ["/tmp/fw_abc/records", "gs://bucket/home/x", "data/cifar10", "~/cifar10",
                                  "https://example.org/home/page", "/content/drive", "/usr/lib/rooted"])
def test_ordinary_paths_are_fine(tmp_path, text):
    nb = _clean_nb()
    nb.cells[1].outputs[0].text = text
    assert _problems(nb, tmp_path) == []


def test_error_outputs_are_found(tmp_path):
    nb = _clean_nb()
    nb.cells[2].outputs.append(new_output("error", ename="ValueError", evalue="bad", traceback=["..."]))
    (found,) = _problems(nb, tmp_path)
    assert "error output (ValueError: bad)" in found and "fwbook.notebooks execute" in found


def test_stderr_traceback_is_found(tmp_path):
    nb = _clean_nb()
    nb.cells[1].outputs.append(new_output("stream", name="stderr", text="Traceback (most recent call last):\n"))
    assert any("traceback printed to stderr" in p for p in _problems(nb, tmp_path))


@pytest.mark.parametrize("counts, message", [
    ((2, 1), "out of order"),
    ((1, 1), "out of order"),
    ((1, None), "never executed"),
])
def test_execution_counts_in_order(tmp_path, counts, message):
    nb = _clean_nb()
    for cell, c in zip(nb.cells[1:], counts, strict=True):
        cell.execution_count = c
    (found,) = _problems(nb, tmp_path)
    assert message in found and "execute" in found


@given(st.lists(st.integers(1, 50), min_size=1, max_size=8, unique=True))
@settings(max_examples=40, deadline=None)
def test_any_increasing_counts_pass_and_any_decrease_fails(counts):
    cells = list(enumerate(counts))
    ordered = hygiene._check_counts(sorted(cells, key=lambda ic: ic[1]), "nb")
    assert ordered == []
    if counts != sorted(counts):
        assert hygiene._check_counts(cells, "nb")


def test_unexecuted_notebook_is_fine(tmp_path):
    nb = _clean_nb()
    for c in nb.cells[1:]:
        c.execution_count, c.outputs = None, []
    assert _problems(nb, tmp_path) == []


def test_kernel_metadata_required(tmp_path):
    nb = _clean_nb()
    del nb.metadata["kernelspec"]
    (found,) = _problems(nb, tmp_path)
    assert "kernel metadata" in found and "python3" in found


def test_big_notebook_and_big_figures(tmp_path):
    nb = _clean_nb()
    nb.cells[2].outputs[0].data["image/png"] = _png(3000, 1000)
    found = _problems(nb, tmp_path)
    assert any("3000x1000 px" in p and "dpi" in p for p in found)
    nb = _clean_nb()
    nb.cells[1].outputs[0].text = "x" * (hygiene.MAX_NOTEBOOK_BYTES + 10)
    assert any("over the 2 MB limit" in p for p in _problems(nb, tmp_path))


def test_non_png_figures_and_broken_png(tmp_path):
    nb = _clean_nb()
    nb.cells[2].outputs[0].data = {"image/gif": "R0lGODlh", "image/png": base64.b64encode(b"nope").decode()}
    found = _problems(nb, tmp_path)
    assert any("image/gif figure" in p for p in found) and any("not a PNG" in p for p in found)


def test_svg_figures_are_allowed_up_to_the_size_limit(tmp_path):
    nb = _clean_nb()
    nb.cells[2].outputs[0].data = {"image/svg+xml": "<svg/>"}
    assert _problems(nb, tmp_path) == []
    nb.cells[2].outputs[0].data = {"image/svg+xml": "<svg>" + " " * hygiene.MAX_FIGURE_BYTES + "</svg>"}
    assert any("KB SVG figure" in p for p in _problems(nb, tmp_path))


def test_unreadable_notebook(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("{ not json")
    (found,) = [str(p) for p in hygiene.check_notebook(path)]
    assert "not a readable notebook" in found and "restore it from git" in found


def test_png_size_reads_the_header():
    assert hygiene.png_size(base64.b64decode(_png(123, 45))) == (123, 45)
    with pytest.raises(ValueError, match="not a PNG"):
        hygiene.png_size(b"GIF89a" + b"\0" * 30)


def test_cli_reports_and_fails(tmp_path, capsys):
    nb = _clean_nb()
    nb.cells[1].outputs[0].text = "/home/alice\n"
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    assert hygiene.main([str(path), "--no-ruff"]) == 1
    out = capsys.readouterr().out
    assert "absolute personal path" in out and "1 problem(s)" in out
    nbformat.write(_clean_nb(), path)
    assert hygiene.main([str(path), "--no-ruff"]) == 0
    with pytest.raises(SystemExit):
        hygiene.main([str(tmp_path / "missing.ipynb")])
    assert "no such notebook" in capsys.readouterr().err


def test_ruff_finds_a_bad_notebook_cell(tmp_path):
    nb = _clean_nb()
    nb.cells[1].source = "import os\nx = 1"
    path = tmp_path / "lint.ipynb"
    path.write_text(json.dumps(nb))
    out = hygiene.ruff([path])
    assert out.returncode == 1 and "F401" in out.stdout


def test_gated_solution_cells_must_carry_the_solution_tag(tmp_path):
    nb = _clean_nb()
    tag = {"tags": ["solution"]}
    nb.cells += [new_markdown_cell("````{solution-start} ex-a\n````", metadata=tag),
                 new_code_cell("def f(x):\n    return 2 * x", execution_count=3),  # the tag is missing
                 new_markdown_cell("````{solution-end}\n````", metadata=tag),
                 new_code_cell("f", execution_count=4)]  # after the gate: no tag needed
    (found,) = _problems(nb, tmp_path)
    assert found.startswith(f"{tmp_path / 'nb.ipynb'}: cell 4:") and 'tags=["solution"]' in found
    nb.cells[4].metadata = tag
    assert _problems(nb, tmp_path) == []


def test_boxes_readers_read_in_colab_are_fenced_with_colons(tmp_path):
    """A backtick-fenced exercise is a code block in Colab (its title hidden, its Markdown
    raw); the colon fence renders as text there and the same on the site."""
    nb = _clean_nb()
    nb.cells += [new_markdown_cell("## Exercises\n\n```{exercise} Double it\n:label: ex-a\n\n"
                                   "Write `f(x)`.\n```")]
    (found,) = _problems(nb, tmp_path)
    assert "a {exercise} box fenced with backticks" in found and ":::{exercise} ..." in found
    nb.cells[-1].source = "## Exercises\n\n:::{exercise} Double it\n:label: ex-a\n\nWrite `f(x)`.\n:::"
    assert _problems(nb, tmp_path) == []


@pytest.mark.parametrize("drop", ["image", "figure"])
def test_figures_need_alt_text_and_a_caption(tmp_path, drop):
    nb = _clean_nb()
    del nb.cells[2].metadata["mystnb"][drop]
    (found,) = _problems(nb, tmp_path)
    assert "cell 2: a figure without alt text or caption" in found and '"alt": "what it shows"' in found

