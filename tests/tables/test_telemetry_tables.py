"""Telemetry through the same reader rules: a BOM or GBK CSV and an XLSX sheet read as the plain CSV."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest
from repo import ROOT

from engine.errors import InvalidTelemetryError
from engine.telemetry.reader import read_telemetry

PLAIN = ROOT / "examples/telemetry/taiyuan-2026.csv"
ROWS = 200  # the first days: enough to hold every column's spelling


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return PLAIN.read_text(encoding="utf-8").splitlines()[: ROWS + 1]


def _intervals(path):
    return [
        (i.system_id, i.start, i.import_kw, i.discharge_kw, i.charge_kw, i.received_at)
        for i in read_telemetry(path, 15).intervals
    ]


def test_bom_gbk_and_xlsx_telemetry_read_as_the_plain_csv(tmp_path, lines):
    plain = tmp_path / "plain.csv"
    plain.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(plain.read_text(encoding="utf-8").encode("gbk"))
    book = openpyxl.Workbook()
    sheet = book.active
    for k, line in enumerate(lines):
        cells = line.split(",")
        if k:  # as Excel keeps what was typed: times as dates, power as numbers
            cells = [
                cells[0],
                dt.datetime.fromisoformat(cells[1]),
                *(float(c) for c in cells[2:5]),
                dt.datetime.fromisoformat(cells[5]),
            ]
        sheet.append(cells)
    book.save(tmp_path / "sheet.xlsx")
    expected = _intervals(plain)
    assert len(expected) == ROWS and expected[0][2] == Decimal("217.39")
    for other in (bom, gbk, tmp_path / "sheet.xlsx"):
        assert _intervals(other) == expected, other


def test_a_bad_xlsx_cell_is_named_by_its_row(tmp_path, lines):
    book = openpyxl.Workbook()
    for line in lines[:4]:
        book.active.append(line.split(","))
    book.active["C3"] = "很多"
    book.save(tmp_path / "bad.xlsx")
    with pytest.raises(InvalidTelemetryError) as caught:
        read_telemetry(tmp_path / "bad.xlsx", 15)
    assert any(where == "row 3" and column == "grid_import_kw" for where, column, _ in caught.value.problems)
