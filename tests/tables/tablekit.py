"""Files as Excel and WPS make them, from the bundled batch example, and the CLI run in-process."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import openpyxl
from click.testing import CliRunner
from repo import BATCH, EXAMPLES

from engine.cli import main
from engine.contract.application import FIELDS
from engine.contract.flat import flatten

PLAIN_CSV = BATCH / "applications.csv"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def plain_rows() -> list[list[str]]:
    with open(PLAIN_CSV, encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8", bom: bool = False) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode(encoding)


def typed(kind: str, text: str):
    """A cell as a person types it into Excel: numbers as numbers, codes and names as text."""
    if text == "":
        return None
    if kind == "integer":
        return int(text)
    if kind == "decimal":
        d = Decimal(text)
        return int(d) if d == d.to_integral_value() else float(text)
    return text


def excel_workbook(path: Path, rows: list[list[str]], text_codes: bool = True) -> Path:
    """The plain CSV as an XLSX typed by hand: a credit code in a text-formatted cell (or, with
    ``text_codes=False``, as Excel turns 18 digits into a number)."""
    book = openpyxl.Workbook()
    sheet = book.active
    header = rows[0]
    sheet.append(header)
    for row in rows[1:]:
        values = [typed(FIELDS.get(c, "text"), v) for c, v in zip(header, row)]
        sheet.append(values)
        for j, c in enumerate(header):
            if c == "enterprise.credit_code":
                cell = sheet.cell(row=sheet.max_row, column=j + 1)
                if text_codes:
                    cell.number_format = "@"
                else:
                    cell.value = 911401000000000000.0
    book.save(path)
    return path


def example_documents() -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.json"))]


def as_typed_cells(doc: dict) -> dict[str, object]:
    """An application as a person fills the template in: 是/否, numbers as numbers, dates as text."""
    cells: dict[str, object] = {}
    for path, value in flatten(doc).items():
        kind = FIELDS[path]
        if kind == "boolean":
            cells[path] = "是" if value else "否"
        elif kind in ("decimal", "integer"):
            cells[path] = typed(kind, str(value))
        else:
            cells[path] = str(value)
    return cells


def outcomes(path: Path) -> list[tuple]:
    """(application id, outcome, status, amount, reason codes) of each decision in a JSON Lines file."""
    got = []
    for line in path.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        for name, o in d["outcomes"].items():
            got.append((d["application_id"], name, o["status"], o["amount"], [r["code"] for r in o["reasons"]]))
    return got
