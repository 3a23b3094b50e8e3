"""Chapter 1's exercises: the reference solutions pass, plausible wrong answers fail
with their hint."""

from __future__ import annotations

from pathlib import Path

import hidden_cases
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


@pytest.mark.parametrize(
    "key, wrong, hint",
    [
        (
            "ch01.project_paths",
            lambda r, p: (f"{r}/data/{p}", f"{r}/work/{p}"),
            "rstrip",
        ),  # '//' after 'gs://b/'
        (
            "ch01.project_paths",
            lambda r, p: (f"{r}/{p}/data", f"{r}/{p}/work"),
            "expected",
        ),
        (
            "ch01.safe_to_clean",
            lambda p: p not in ("", "/"),
            "must be refused",
        ),  # only literal checks
        (
            "ch01.safe_to_clean",
            lambda p: bool(p) and Path(p).resolve() != Path.cwd(),
            "must be refused",
        ),  # no parents
        (
            "ch01.safe_to_clean",
            lambda p: False,
            "safe (return True)",
        ),  # refuses everything
    ],
)
def test_wrong_answers_fail_with_hint(key, wrong, hint):
    r = exercises.run_check(key, wrong)
    assert not r.passed and hint in r.message, r.message


# ------------------------------------------------------------------ the grader's hidden

REFERENCES = [
    ("ch01.project_paths", project_paths),
    ("ch01.safe_to_clean", safe_to_clean),
]
PUBLIC = {
    ("gs://my-bucket", "cifar10"): (
        "gs://my-bucket/data/cifar10",
        "gs://my-bucket/work/cifar10",
    ),
    ("/tmp/book", "c10"): ("/tmp/book/data/c10", "/tmp/book/work/c10"),
    ("gs://my-bucket/", "c10"): ("gs://my-bucket/data/c10", "gs://my-bucket/work/c10"),
    ("runs/", "x"): ("runs/data/x", "runs/work/x"),
}
WRONG = [
    (
        "ch01.project_paths",
        lambda r, p: PUBLIC[(r, p)],
        None,
    ),  # a lookup table of the public cases
    ("ch01.project_paths", lambda r, p: (f"{r}/data/{p}", f"{r}/work/{p}"), "rstrip"),
]


test_references_pass_the_hidden_tests, test_wrong_answers_fail_the_hidden_tests = (
    hidden_cases.tests(REFERENCES, WRONG))
