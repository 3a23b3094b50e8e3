"""Self-checks for Chapter 1, Where the data lives."""

from __future__ import annotations

import os
from pathlib import Path

from fenwicks_lite.exercises import exercise, expect, hidden


@exercise(
    "ch01.project_paths",
    title="Project paths for folders and buckets",
    difficulty="easy",
)
def check_project_paths(fn) -> None:
    """`fn(root, project)` -> (data_dir, work_dir) strings, without creating anything.
    """
    cases = [
        (
            "gs://my-bucket",
            "cifar10",
            ("gs://my-bucket/data/cifar10", "gs://my-bucket/work/cifar10"),
        ),
        ("/tmp/book", "c10", ("/tmp/book/data/c10", "/tmp/book/work/c10")),
        (
            "gs://my-bucket/",
            "c10",
            ("gs://my-bucket/data/c10", "gs://my-bucket/work/c10"),
        ),
        ("runs/", "x", ("runs/data/x", "runs/work/x")),
    ]
    for root, project, want in cases:
        got = tuple(fn(root, project))
        expect(len(got) == 2, "return a pair (data_dir, work_dir)")
        expect(
            got == want,
            f"for root={root!r}, project={project!r} expected {want}, got {got} "
            "(a trailing '/' on root must not give '//'; try root.rstrip('/')).",
        )


@exercise(
    "ch01.safe_to_clean",
    title="Safe to empty?",
    difficulty="medium",
)
def check_safe_to_clean(fn) -> None:
    """`fn(path)` -> True only if emptying `path` cannot destroy the home, cwd, a parent
    of it, or '/'."""
    cwd = Path.cwd().resolve()
    unsafe = [
        "",
        "/",
        str(Path.home()),
        "~",
        ".",
        str(cwd),
        "..",
        str(cwd.parent),
        f"{cwd}/sub/..",
        f"{cwd}/",
    ]
    for p in unsafe:
        expect(
            fn(p) is False,
            f"{p!r} must be refused (return False): resolve it first with "
            "Path(p).expanduser().resolve() and compare with home, cwd and "
            "cwd.parents; treat '' as unsafe.",
        )
    safe = [str(cwd / "work" / "run1"), "work/run1", os.path.join(str(cwd), "new_dir")]
    for p in safe:
        expect(
            fn(p) is True,
            f"{p!r} is a sub-folder of the working directory: it is safe "
            "(return True).",
        )


@hidden("ch01.project_paths")
def _hidden_project_paths(fn, rng) -> None:
    for _ in range(6):
        name = "".join(rng.choice(list("abcdefxyz0123"), 6))
        root = str(
            rng.choice(
                [f"gs://b-{name}", f"/tmp/{name}", f"runs-{name}", f"/srv/{name}/a"]
            )
        )
        root += "/" if rng.random() < 0.5 else ""
        project = f"p{int(rng.integers(1000))}"
        base = root.rstrip("/")
        want = (f"{base}/data/{project}", f"{base}/work/{project}")
        expect(
            tuple(fn(root, project)) == want,
            "root/data/project and root/work/project, for "
            "every root and project (strip one trailing '/')",
        )


@hidden("ch01.safe_to_clean")
def _hidden_safe_to_clean(fn, rng) -> None:
    cwd = Path.cwd().resolve()
    name = f"d{int(rng.integers(10**6))}"
    for p in [
        str(cwd.parents[int(rng.integers(len(cwd.parents)))]),
        f"{cwd}/{name}/..",
        f"{cwd}/{name}/../..",
        "~/",
        f"./{name}/../",
    ]:
        expect(
            fn(p) is False,
            "every path that resolves to home, the working directory or a "
            "folder above it must be refused",
        )
    for p in [f"{name}/x", str(cwd / name), f"./{name}"]:
        expect(fn(p) is True, "sub-folders of the working directory are safe")
