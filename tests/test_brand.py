"""The site's identity: logo and favicon drawn by code, and the published URL derived from _config.yml."""

from __future__ import annotations

import re

import numpy as np
import pytest
from fwbook import brand
from fwbook import notebooks as book

pytestmark = pytest.mark.backend

ROOT = book.ROOT


@pytest.mark.parametrize("repo, url", [
    ("https://github.com/fenwicks-lite/fenwicks-lite-book", "https://fenwicks-lite.github.io/fenwicks-lite-book/"),
    ("https://github.com/Org/Repo/", "https://org.github.io/Repo/"),  # GitHub lower-cases the org host
    ("https://github.com/a/b.git", "https://a.github.io/b/"),
])
def test_site_url(repo, url):
    assert brand.site_url(repo) == url


@pytest.mark.parametrize("bad", ["https://gitlab.com/a/b", "https://github.com/only-org", "github.com/a/b",
                                 "https://github.com/a/b/tree/main"])
def test_site_url_rejects_other_urls(bad):
    with pytest.raises(ValueError, match="must look like https://github.com/<org>/<repo>"):
        brand.site_url(bad)


def test_readme_names_the_published_url_derived_from_config():
    url = brand.site_url(book.config()["repository"]["url"])
    readme = (ROOT / "README.md").read_text()
    assert url in readme, f"README must link the published site {url} (derived from _config.yml)"
    others = set(re.findall(r"https://[\w-]+\.github\.io/[\w.-]+/?", readme)) - {url, url.rstrip("/")}
    assert not others, f"README names another Pages URL: {others}"


def test_readme_images_exist():
    """The README is also the package's page on PyPI, where a relative path shows nothing:
    its images are addresses of files in this checkout, on the repository's main branch
    (derived from _config.yml's repository.url)."""
    repo = book.config()["repository"]["url"]
    raw = repo.replace("https://github.com/", "https://raw.githubusercontent.com/", 1) + "/main/"
    targets = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", (ROOT / "README.md").read_text())
    assert targets, "the README shows no image"
    for target in targets:
        assert target.startswith(raw), f"README image {target} must be an address under {raw}"
        path = target.removeprefix(raw)
        assert (ROOT / path).is_file(), f"README shows {path}, which does not exist"


def _rgba(path):
    import matplotlib.image

    return matplotlib.image.imread(path)


def test_logo_is_the_94_percent_ring(tmp_path):
    img = _rgba(brand.draw_logo(tmp_path / "logo.png", size_px=200))
    assert img.shape == (200, 200, 4)
    alpha = img[..., 3]
    assert alpha[0, 0] == 0 and alpha[100, 5] > 0.9, "transparent corners, opaque ring"
    # Along the ring's middle circle, the blue part covers ACCURACY of the angles.
    angles = np.linspace(0, 2 * np.pi, 720, endpoint=False)
    r = 100 * (1 - 0.11)
    ys, xs = (100 - r * np.cos(angles)).astype(int), (100 + r * np.sin(angles)).astype(int)
    blue = img[ys, xs, 0] < 0.5  # the ring is #1f77b4 (red 0.12), the track light grey (red 0.85)
    assert blue.mean() == pytest.approx(brand.ACCURACY, abs=0.01)


def test_favicon_is_small_and_square(tmp_path):
    img = _rgba(brand.draw_favicon(tmp_path / "favicon.png"))
    assert img.shape == (64, 64, 4) and img[..., 3].max() > 0.9
