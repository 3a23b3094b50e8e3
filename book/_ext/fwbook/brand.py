"""The site's identity: its logo and favicon (drawn here, no downloaded assets) and its public URL.

A Sphinx extension (listed in `_config.yml`): at build time it draws the logo and the favicon into the
build folder and points Sphinx at them, and it derives from the repository URL of `_config.yml` - the
one place the project's URL is written - everything that needs the published address: the Open Graph
``og:url``/``og:image`` of link previews, the canonical links, and the 404 page's URL prefix (GitHub Pages
serves a project site under ``/<repository>/``). Explained in the README ("Read it") and the page
"For instructors".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: The ring shows the 2019 result, 94% test accuracy, as the filled part of a circle.
ACCURACY = 0.94
#: Colours: the ring in the book theme's blue, the unfilled 6% in light grey.
RING, TRACK, TEXT = "#1f77b4", "#d9d9d9", "#222222"
LOGO_NAME, FAVICON_NAME = "fw-logo.png", "fw-favicon.png"


def site_url(repository_url: str) -> str:
    """The GitHub Pages address of a repository: ``https://github.com/org/repo`` -> ``https://org.github.io/repo/``."""
    prefix = "https://github.com/"
    parts = repository_url.rstrip("/").removesuffix(".git").removeprefix(prefix).split("/")
    if not repository_url.startswith(prefix) or len(parts) != 2 or not all(parts):
        raise ValueError(f"repository.url must look like https://github.com/<org>/<repo>, got {repository_url!r}")
    org, repo = parts
    return f"https://{org.lower()}.github.io/{repo}/"


def _ring(ax: Any, width: float) -> None:
    """94% of a ring, clockwise from 12 o'clock, over a grey track."""
    from matplotlib.patches import Wedge

    ax.add_patch(Wedge((0, 0), 1, 0, 360, width=width, color=TRACK))
    ax.add_patch(Wedge((0, 0), 1, 90 - 360 * ACCURACY, 90, width=width, color=RING))
    ax.set_xlim(-1.02, 1.02)
    ax.set_ylim(-1.02, 1.02)
    ax.set_aspect("equal")
    ax.axis("off")


def draw_logo(path: Path, size_px: int = 256) -> Path:
    """The logo: the 94% ring with "94%" inside, a square PNG with a transparent background."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dpi = 100  # any dpi: figsize is size_px / dpi
    fig = plt.figure(figsize=(size_px / dpi, size_px / dpi), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    _ring(ax, width=0.22)
    ax.text(0, 0, f"{ACCURACY:.0%}", ha="center", va="center", color=TEXT, fontweight="bold",
            fontsize=size_px * 0.2, family="DejaVu Sans")  # DejaVu ships with matplotlib: same on every machine
    fig.savefig(path, dpi=dpi, transparent=True)
    plt.close(fig)
    return path


def draw_favicon(path: Path, size_px: int = 64) -> Path:
    """The favicon: the ring alone (text is unreadable at 16-32 px), thicker so it survives scaling."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dpi = 100
    fig = plt.figure(figsize=(size_px / dpi, size_px / dpi), dpi=dpi)
    _ring(fig.add_axes((0, 0, 1, 1)), width=0.42)
    fig.savefig(path, dpi=dpi, transparent=True)
    plt.close(fig)
    return path


def _configure(app: Any, config: Any) -> None:
    """config-inited: draw the images into the build folder, derive the URL-dependent settings."""
    out = Path(app.doctreedir).parent / "brand"
    out.mkdir(parents=True, exist_ok=True)
    config.html_logo = str(draw_logo(out / LOGO_NAME))
    config.html_favicon = str(draw_favicon(out / FAVICON_NAME))
    repo = (config.html_theme_options or {}).get("repository_url", "")
    if not repo:
        return
    url = site_url(repo)
    config.html_baseurl = url
    config.ogp_site_url = url
    config.ogp_image = f"{url}_static/{LOGO_NAME}"
    # Jupyter Book sets the site's title (html_title), not Sphinx's `project`, which previews would show.
    config.ogp_site_name = config.html_title
    config.ogp_image_alt = f"{config.html_title}: logo"
    config.ogp_social_cards = {"enable": False}  # the logo is the preview image; no generated cards
    config.notfound_urls_prefix = "/" + url.split("/", 3)[3]


def setup(app: Any) -> dict[str, Any]:
    app.connect("config-inited", _configure, priority=400)  # before Sphinx checks html_logo (800)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
