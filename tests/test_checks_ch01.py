"""Chapter 1's exercises: the reference solutions pass, plausible wrong answers fail with their hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from fenwicks_lite import exercises

pytestmark = pytest.mark.backend


def project_paths(root, project):
    root = root.rstrip("/")
    return f"{root}/data/{project}", f"{root}/work/{project}"


def safe_to_clean(path):
    if not path:
        return False
    p = Path(path).expanduser().resolve()
    cwd = Path.cwd().resolve()
    return p not in {Path("/"), Path.home().resolve(), cwd, *cwd.parents}


def test_references_pass():
    assert exercises.run_check("ch01.project_paths", project_paths).passed
    assert exercises.run_check("ch01.safe_to_clean", safe_to_clean).passed


@pytest.mark.parametrize("key, wrong, hint", [
    ("ch01.project_paths", lambda r, p: (f"{r}/data/{p}", f"{r}/work/{p}"), "rstrip"),        # '//' after 'gs://b/'
    ("ch01.project_paths", lambda r, p: (f"{r}/{p}/data", f"{r}/{p}/work"), "expected"),
    ("ch01.safe_to_clean", lambda p: p not in ("", "/"), "must be refused"),                    # only literal checks
    ("ch01.safe_to_clean", lambda p: bool(p) and Path(p).resolve() != Path.cwd(), "must be refused"),  # no parents
    ("ch01.safe_to_clean", lambda p: False, "safe (return True)"),                               # refuses everything
])
def test_wrong_answers_fail_with_hint(key, wrong, hint):
    r = exercises.run_check(key, wrong)
    assert not r.passed and hint in r.message, r.message
