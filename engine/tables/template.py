"""The application template: an XLSX workbook an enterprise fills in, one application per row.

Its header is each field's Chinese and English label with the path (what engine.tables.headers
reads back); a yes/no column offers 是/否 in a drop-down, the size column sme/large; the code
and name columns are formatted as text (an 18-digit credit code typed into a number cell loses
its last three digits), whole-number columns as integers, dates as dates. A second sheet (说明)
says how to fill it in, in Chinese (or the language asked for). ``evaluate`` and ``submit`` read
a filled copy as they read any XLSX file.
"""

from __future__ import annotations

from typing import Any

from engine.contract.application import FIELDS
from engine.contract.labels import FIELD_LABELS
from engine.i18n import Lang, language, t

ROWS = 500  # rows laid out with formats and drop-downs (more can be added by copying a row)
_FORMATS = {"text": "@", "label": "@", "boolean": "@", "integer": "0", "date": "yyyy-mm-dd", "decimal": "General"}
_WIDTH = 22


def header(path: str) -> str:
    """``储能系统容量（kWh）`` / ``storage capacity (kWh)`` / ``(storage.capacity_kwh)`` on three lines."""
    label = FIELD_LABELS[path]
    return f"{label['zh']}\n{label['en']}\n({path})"


def _kind(path: str) -> str:
    return "size" if path == "enterprise.size" else FIELDS[path]


def build(lang: Lang | None = None) -> Any:
    """The template as an openpyxl Workbook."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    lang = lang or language()
    book = Workbook()
    sheet = book.active
    sheet.title = t("tables.template.sheet", lang)
    paths = list(FIELDS)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    yes_no = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
    sizes = DataValidation(type="list", formula1='"sme,large"', allow_blank=True)
    for validation, title in ((yes_no, "是/否"), (sizes, "sme / large")):
        validation.error, validation.errorTitle, validation.showErrorMessage = title, title, True
        sheet.add_data_validation(validation)
    for j, path in enumerate(paths, start=1):
        letter = get_column_letter(j)
        cell = sheet.cell(row=1, column=j, value=header(path))
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[letter].width = _WIDTH
        fmt = _FORMATS[FIELDS[path]]
        sheet.column_dimensions[letter].number_format = fmt
        for i in range(2, ROWS + 2):
            sheet.cell(row=i, column=j).number_format = fmt
        cells = f"{letter}2:{letter}{ROWS + 1}"
        if FIELDS[path] == "boolean":
            yes_no.add(cells)
        elif path == "enterprise.size":
            sizes.add(cells)
    sheet.row_dimensions[1].height = 60
    sheet.freeze_panes = "B2"
    _instructions(book.create_sheet(t("tables.template.instructions_sheet", lang)), paths, lang)
    return book


def _instructions(sheet, paths: list[str], lang: Lang) -> None:
    from openpyxl.styles import Alignment, Font

    sheet.append([t("tables.template.title", lang)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([])
    for line in t("tables.template.how", lang).strip().splitlines():
        sheet.append([line])
    sheet.append([])
    sheet.append(
        [
            t("tables.template.column_header", lang),
            t("tables.template.meaning_header", lang),
            t("tables.template.kind_header", lang),
        ]
    )
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for path in paths:
        sheet.append([path, FIELD_LABELS[path][lang], t(f"tables.template.kinds.{_kind(path)}", lang)])
    sheet.column_dimensions["A"].width = 48
    sheet.column_dimensions["B"].width = 48
    sheet.column_dimensions["C"].width = 16
    for row in sheet.iter_rows(min_row=3, max_row=sheet.max_row):
        row[0].alignment = Alignment(wrap_text=False)


def write(path: Any, lang: Lang | None = None) -> int:
    """Write the template to ``path`` (a file name or a binary stream); its column count."""
    build(lang).save(path)
    return len(FIELDS)
