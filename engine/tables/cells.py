"""A spreadsheet cell (CSV or XLSX, never JSON) as the value the contract expects.

People type into Excel and WPS what they see on paper: ``是``/``否`` or ``TRUE``/``FALSE`` or
``1``/``0`` for yes and no, ``3,200,000.00`` with thousands separators, ``３２００`` in
full-width digits (a Chinese input method's default). Such a cell is read as the plain value;
anything else is left as typed, for validation to name with its field. A JSON document gets no
such leniency: it is written by a program, and a program writes ``true``.

A credit code that Excel has turned into a number (``9.11401E+17``: 18 digits do not fit the 15
a spreadsheet keeps) has lost its last digits for good; it is named as such, with the fix.
"""

from __future__ import annotations

import re

from engine.i18n import t

TRUE = frozenset({"true", "1", "是"})
FALSE = frozenset({"false", "0", "否"})
_GROUPED = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?", re.ASCII)
_INTEGER = re.compile(r"-?[0-9]+", re.ASCII)
_SCIENTIFIC = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?[eE][+-]?[0-9]+", re.ASCII)
#: text fields a spreadsheet must hold as text: a number there has lost digits or zeros
TEXT_CODES = ("enterprise.credit_code",)


#: the full-width forms (U+FF01–U+FF5E: what a Chinese input method types for ASCII) as ASCII,
#: and the ideographic space as a space; nothing else (``²`` is no digit 2)
_FULL_WIDTH = {0xFF01 + i: 0x21 + i for i in range(0x5E)} | {0x3000: 0x20}


def _plain(text: str) -> str:
    """Full-width letters, digits and signs as their ASCII forms, spaces around cut."""
    return text.translate(_FULL_WIDTH).strip()


def boolean_cell(text: str) -> bool | str:
    """是/否, TRUE/FALSE (any case), 1/0 as a boolean; anything else as typed."""
    low = _plain(text).lower()
    if low in TRUE:
        return True
    if low in FALSE:
        return False
    return text


def number_cell(text: str) -> str:
    """A number's text without thousands separators and in ASCII digits (``３,２００`` → ``3200``);
    a cell that is no number is returned as typed (without the spaces around it)."""
    plain = _plain(text)
    if _GROUPED.fullmatch(plain):
        return plain.replace(",", "")
    return plain if plain.isascii() else text.strip()  # 三十万, ３２００元: for validation to name as typed


def code_problem(column: str, text: str) -> str | None:
    """Why the text cell of a code column cannot be the code typed (a number in scientific
    notation, as Excel shows an 18-digit number), or None."""
    if column in TEXT_CODES and _SCIENTIFIC.fullmatch(_plain(text)):
        return t("tables.code_as_number", value=text.strip())
    return None


def cell_problem(kind: str, value: object, places: int | None = None) -> str | None:
    """Why a population's cell (as a flat row holds it: text, or the reader's bool and int)
    does not fit its column of ``kind``, keeping at most ``places`` decimals; None when it fits."""
    if value is None or value == "":
        return None
    if kind == "boolean":
        return None if value in ("true", "false") or isinstance(value, bool) else t("tables.not_a_boolean")
    if kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool) or _INTEGER.fullmatch(str(value))
        return None if ok else t("tables.not_an_integer")
    if kind == "decimal":
        from engine.contract.bounds import decimal_from_text

        try:
            number = decimal_from_text(str(value))
        except ValueError:
            return t("tables.not_a_number") + f"（{value}）"
        exponent = number.as_tuple().exponent
        if places is not None and isinstance(exponent, int) and -exponent > places:
            return t("tables.too_many_places", value=value, places=places)
        return None
    if kind == "date":
        import datetime as dt

        try:
            dt.date.fromisoformat(str(value))
        except ValueError:
            return t("tables.not_a_date")
    return None


def with_cells(reject: str, header: list[str]) -> str:
    """A reject line of a CSV or XLSX input with ``cell`` (``M7``) beside each error whose path
    is one of the file's contract columns: the row is the reject's ``line``, the column its place."""
    import json

    from engine.contract.formats import cell_name

    record = json.loads(reject)
    row = record.get("line")
    if not isinstance(row, int):
        return reject
    from engine.contract.application import FIELDS

    # a known column's cell in this row; an unknown column's problem is its header's, not a cell's
    place = {c: j for j, c in enumerate(header) if c in FIELDS}
    for error in record.get("errors", []):
        if error.get("path") in place:
            error["cell"] = cell_name(place[error["path"]], row)
    return json.dumps(record, ensure_ascii=False)
