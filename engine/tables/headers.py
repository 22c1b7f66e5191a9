"""Which contract column a table's header cell names, and a "did you mean" for one it does not.

A header is the dotted path (``storage.discharged_kwh``), or what shuangtan writes in an XLSX
output or the application template: the label with the path after it
(``申报期放电量（kWh）（storage.discharged_kwh）``, the English label likewise, both on one cell
in the template). The path in the last parentheses decides; a label alone is accepted too when
no other field has it. Nothing else is guessed: an unknown header is refused, with the column
it was probably meant to be.
"""

from __future__ import annotations

import difflib
import re
from functools import cache

from engine.contract.application import FIELDS
from engine.contract.labels import FIELD_LABELS
from engine.i18n import Lang, t

_PATH_AT_END = re.compile(r"[（(]\s*([A-Za-z0-9_.]+)\s*[）)]\s*$")


@cache
def _by_label() -> dict[str, str]:
    seen: dict[str, list[str]] = {}
    for path, label in FIELD_LABELS.items():
        for text in {label["zh"], label["en"]}:
            seen.setdefault(text.strip().lower(), []).append(path)
    return {text: paths[0] for text, paths in seen.items() if len(paths) == 1}


def column_of(header: str) -> str:
    """The contract path a header cell names, or the cell itself (stripped) when it names none.

    A byte-order mark is stripped too: a header row pasted from a BOM CSV into a sheet keeps it,
    invisible, in its first cell."""
    text = header.strip().lstrip("\ufeff").strip()
    if text in FIELDS:
        return text
    found = _PATH_AT_END.search(text)
    if found and found.group(1) in FIELDS:
        return found.group(1)
    return _by_label().get(text.lower(), text)


def suggestion(name: str, known=None) -> str | None:
    """The known name closest to ``name`` (a misspelt path, or only its last part), or None."""
    known = list(FIELDS if known is None else known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.75)
    if close:
        return close[0]
    leaf = name.rsplit(".", 1)[-1]
    leaves: dict[str, str] = {}
    for path in known:
        leaves.setdefault(path.rsplit(".", 1)[-1], path)
    close = difflib.get_close_matches(leaf, list(leaves), n=1, cutoff=0.75)
    return leaves[close[0]] if close else None


def did_you_mean(name: str, known=None, lang: Lang | None = None) -> str:
    """``; did you mean storage.discharged_kwh?`` (in ``lang``, default the language in force), or nothing."""
    close = suggestion(name, known)
    return t("tables.did_you_mean", lang, name=close) if close else ""


def unknown_column(name: str) -> str:
    """The problem of a header naming no column of the contract."""
    return t("tables.unknown_column") + did_you_mean(name)
