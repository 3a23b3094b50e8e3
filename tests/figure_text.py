"""How big a figure's text reads on a page: `smallest_text_px` (tests/test_site.py measures
the book's pages; tests/test_plt.py and tests/test_report.py the library's charts)."""

from __future__ import annotations

import io
import re
from typing import Any

#: How wide a 400 px phone shows a figure: the content column at 400 px (test_site measures it).
PHONE_COLUMN_PX = 352
#: The least a figure's text may read there (and 9 px at 1280 px, test_site).
PHONE_MIN_PX = 8.0


def font_sizes(svg: str) -> list[float]:
    """Text sizes in an SVG figure, in its own units: matplotlib draws each text as glyph paths scaled by
    size/100 (``scale(s -s)``), or as ``<text>`` with a font size when ``svg.fonttype`` is "none"."""
    sizes = [100 * float(s) for s in re.findall(r"scale\(([\d.e-]+) -\1\)", svg)]
    return sizes + [float(s) for s in re.findall(r"font(?:-size)?:\s*(?:[a-z]+\s+)*([\d.]+)px", svg)]


def view_width(svg: str) -> float:
    """The figure's width in its own units (points for matplotlib)."""
    return float(re.search(r'viewBox="[\d.-]+ [\d.-]+ ([\d.]+)', svg).group(1))


def smallest_text_px(svg: str, shown_px: float | None = None) -> float:
    """The smallest text of `svg` in CSS px when the page shows it `shown_px` wide (default: as a
    phone does, at its own size (1 pt = 4/3 px) or the phone's column, whichever is narrower)."""
    width = view_width(svg)
    shown = min(width * 4 / 3, PHONE_COLUMN_PX) if shown_px is None else shown_px
    sizes = font_sizes(svg)
    return min(sizes) * shown / width if sizes else float("inf")


def svg_of(fig: Any) -> str:
    """`fig` as the book's notebooks save it (SVG, the inline backend's tight bounding box)."""
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
