"""Tables out: the format a file's name asks for, CSV that Excel opens, XLSX with Chinese headers.

``--out decisions.csv`` writes CSV, ``.xlsx`` a workbook, ``.jsonl`` JSON Lines, ``.parquet``
Parquet: the name is the format, and a name that says none is refused (never JSON Lines under a
``.csv`` name). CSV carries a UTF-8 BOM unless ``bom=False`` (``--no-bom``): without it Excel
reads UTF-8 as the ANSI code page and every Chinese name comes out garbled. An XLSX header is
the column's Chinese label with its path (``企业名称（enterprise.name）``), which the readers
take back (engine.tables.headers); every cell is written as text, so that no code or amount is
turned into a binary float by the spreadsheet.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from engine.i18n import field, t

OUT_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet"}
BOM = "\ufeff"


class OutFormatError(ValueError):
    """A file name whose suffix names no format the command writes (the CLI's UsageError)."""


def out_format(path: str | Path, allowed: Iterable[str] = ("jsonl", "csv", "xlsx", "parquet")) -> str:
    """The format ``path``'s suffix names, among ``allowed``; OutFormatError otherwise."""
    allowed = tuple(allowed)
    suffixes = ", ".join(s for s, f in OUT_FORMATS.items() if f in allowed)
    suffix = Path(path).suffix.lower()
    fmt = OUT_FORMATS.get(suffix)
    if fmt is None:
        raise OutFormatError(t("tables.bad_out_suffix", path=path, suffixes=suffixes))
    if fmt not in allowed:
        raise OutFormatError(t("tables.out_suffix_not_here", path=path, suffix=suffix, suffixes=suffixes))
    return fmt


def header_label(column: str, labels: Mapping[str, str] | None = None) -> str:
    """An XLSX header: the label with the path (the field's, or one the caller gives), else the path."""
    if labels and column in labels:
        return f"{labels[column]}（{column}）"
    return field(column, "zh")


def decision_labels(book) -> dict[str, str]:
    """The Chinese header of each flat decision column (the outcome's title, what it holds)."""
    from engine.contract.flat import OUTCOME_COLUMNS

    words = {"status": "状态", "amount": "金额", "reasons": "理由代码"}
    labels = {
        "application_id": "申请编号",
        "region_code": "所在地区行政区划代码",
        "evaluated_on": "评估日期",
        "totals.subsidy_yuan": "补贴合计（元）",
        "totals.levy_yuan": "征收合计（元）",
        "error": "错误",
        "line": "行号",
        "decision_id": "决定编号",
        "supersedes_id": "取代的决定编号",
        "in_force": "是否有效",
        "decided_at": "提议时间",
        "officer": "经办人",
        "reviewer": "审核人",
        "reviewed_at": "审核时间",
        "overridden": "审核改动的结果",
        "credit_code": "统一社会信用代码",
        "enterprise_name": "企业名称",
        "ruleset_version": "规则集版本",
        "ruleset_digest": "规则集摘要",
        "input_sha256": "申请材料 SHA-256",
    }
    for o in book.outcomes:
        for c in OUTCOME_COLUMNS:
            labels[f"{o.name}.{c}"] = f"{o.title.get('zh', o.name)} {words[c]}"
    return labels


def cell_text(value: object) -> str:
    """A value as a cell's text: nothing for None, true/false for a boolean, str otherwise
    (a Decimal as its digits: never a float)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class CsvRows:
    """Rows (mappings by column) to a CSV text stream, the header first, a BOM before it."""

    def __init__(self, stream, columns: list[str], bom: bool = True):
        self.columns = columns
        if bom:
            stream.write(BOM)
        self._writer = csv.writer(stream, lineterminator="\n")
        self._writer.writerow(columns)

    def write(self, row: Mapping[str, object]) -> None:
        # as csv.DictWriter writes them (None empty, True as True): the export's text since issue 9
        self._writer.writerow([row.get(c) for c in self.columns])

    def close(self) -> None:
        pass


class XlsxRows:
    """Rows to a workbook at ``path`` (streamed: openpyxl's write-only mode), saved on ``close``."""

    def __init__(self, path: Any, columns: list[str], labels: Mapping[str, str] | None = None, sheet: str = "表"):
        from openpyxl import Workbook

        self.path, self.columns = path, columns
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(sheet)
        self._sheet.append([header_label(c, labels) for c in columns])

    def write(self, row: Mapping[str, object]) -> None:
        self._sheet.append([cell_text(row.get(c)) for c in self.columns])

    def close(self) -> None:
        self._book.save(self.path)


def write_frames(path, frames: Mapping[str, Any]) -> None:
    """Polars frames as the sheets of one workbook (sheet name -> frame), Chinese headers."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for name, frame in frames.items():
        sheet = book.create_sheet(name[:31])  # Excel's limit on a sheet's name
        sheet.append([header_label(c) for c in frame.columns])
        for row in frame.iter_rows():
            sheet.append([cell_text(v) for v in row])
    book.save(path)
