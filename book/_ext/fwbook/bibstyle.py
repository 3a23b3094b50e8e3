"""The Sources list labels each entry as the text cites it: ``[Page, 2018]``, ``[Chan et al., 1979]``.

pybtex's default ``alpha`` labels (``Pag18``, ``GoogleCteam24``) do not match the author-year
citations of the chapters (``bibtex_reference_style: author_year``) and mangle corporate authors
such as ``{Google Colab team}``. This registers the formatting style ``fwbook`` (alpha's formatting
and order, these labels); ``_config.yml`` selects it with ``bibtex_default_style``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from pybtex.plugin import register_plugin
from pybtex.style.formatting.alpha import Style as AlphaStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting.author_year_title import SortingStyle as AuthorYearTitle


def _last_name(person: Any) -> str:
    return re.sub(r"[{}]", "", " ".join(person.prelast_names + person.last_names))


def author_year(entry: Any) -> str:
    """``Page, 2018`` / ``DeVries and Taylor, 2017`` / ``Chan et al., 1979``."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_last_name(p) for p in people]
    if not names:
        who = entry.fields.get("key", entry.key)
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabels(BaseLabelStyle):
    def format_labels(self, sorted_entries: Iterable[Any]) -> Iterator[str]:
        entries = list(sorted_entries)
        labels = [author_year(e) for e in entries]
        seen, count = Counter(), Counter(labels)
        for label in labels:  # "Page, 2018a", "Page, 2018b" if two would share a label
            seen[label] += 1
            yield label + ("abcdefghij"[seen[label] - 1] if count[label] > 1 else "")


class Sorting(AuthorYearTitle):
    """alpha's order, with a corporate author's braces ignored ({Google Colab team} sorts
    under G, not after Z)."""

    def person_key(self, person: Any) -> str:
        return re.sub(r"[{}]", "", super().person_key(person))


class Style(AlphaStyle):
    default_label_style = "fwbook_authoryear"
    default_sorting_style = "fwbook_authoryear"


register_plugin("pybtex.style.labels", "fwbook_authoryear", AuthorYearLabels)
register_plugin("pybtex.style.sorting", "fwbook_authoryear", Sorting)
register_plugin("pybtex.style.formatting", "fwbook", Style)


def setup(app: Any) -> dict[str, Any]:
    return {"parallel_read_safe": True, "parallel_write_safe": True}
