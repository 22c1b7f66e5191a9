"""Batch inputs as the contract reads them: JSON Lines, CSV or XLSX with dotted columns, Parquet columns.

One set of rules per format, the same in every command that reads it (evaluate on either
backend, simulate's populations; check and submit read one document through jsontext):

- A text input whose first block is binary (a known binary signature, or more than 1/32 of it
  NUL bytes: a PNG, a Parquet file, /dev/zero) is not text: one UnreadableInputError,
  nothing decided. Otherwise a bad record, a stray NUL in one line included, is rejected with
  its line number and the input goes on.
- JSON Lines: bytes split on LF only (a CR inside a record belongs to it; a CRLF ending loses its
  CR); a UTF-8 BOM at the start of the file is skipped; each line is at most MAX_DOCUMENT_BYTES,
  valid UTF-8 and strict JSON (jsontext), or that line alone is rejected.
- CSV: UTF-8 (BOM allowed) or GBK/GB18030, chosen on the file's first block or named
  (engine.tables.encoding); a header naming known columns, each once (a dotted path, or the
  label with the path after it, engine.tables.headers); every row exactly as many cells as the
  header; a row with a byte that is not in the file's encoding is rejected naming the column.
  Cells get a spreadsheet's leniency (engine.tables.cells): spaces around a number or a boolean,
  是/否, TRUE/FALSE, 1/0, thousands separators, full-width digits.
- XLSX: the first sheet, headed as a CSV file; each cell read as the text a CSV cell would hold,
  a number only when it is the decimal that was typed (``xlsx_rows``).
- Parquet: each contract column of a type that holds its field exactly (no binary floats, no
  decimal256): ``parquet_column_problems``.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import math
import re
from collections.abc import Iterator
from decimal import Decimal

from engine.contract.application import FIELDS
from engine.contract.bounds import MAX_DOCUMENT_BYTES, MAX_INTEGER_DIGITS, TooLongInteger
from engine.contract.jsontext import BOM, SIZE_TEXT, loads_exact
from engine.errors import BadRecordError, OversizeRecordError, UnreadableDocumentError, UnreadableInputError
from engine.i18n import t
from engine.tables.cells import TEXT_CODES, boolean_cell, code_problem, number_cell
from engine.tables.encoding import SNIFF, detect, encoding_name
from engine.tables.headers import column_of, unknown_column

SNIFF_BYTES = 8192  # the first block, as git and grep judge "binary"
#: Signatures of the binary files a user may hand over by mistake: PNG, Parquet, ZIP (xlsx, docx),
#: PDF, gzip, ELF.
BINARY_SIGNATURES = (b"\x89PNG", b"PAR1", b"PK\x03\x04", b"%PDF-", b"\x1f\x8b", b"\x7fELF")
_SHOWN = 200  # characters of an over-long record kept in its reject
_INTEGER_CELL = re.compile(r"-?[0-9]+", re.ASCII)


def binary_stream(stream):
    """The bytes under ``stream``: a binary stream, a text file's buffer (nothing may have been
    read through the text layer), or a StringIO's text encoded."""
    if isinstance(stream, io.TextIOBase):
        buffer = getattr(stream, "buffer", None)
        if buffer is not None:
            return buffer
        return io.BytesIO(stream.read().encode("utf-8", "surrogatepass"))
    return stream


def _source(stream) -> str | None:
    name = getattr(stream, "name", None)
    return name if isinstance(name, str) else None


def _opened(stream, what: str):
    """A peekable binary stream, after refusing one that is not text at all."""
    binary = binary_stream(stream)
    if not hasattr(binary, "peek"):
        binary = io.BufferedReader(binary)
    head = binary.peek(SNIFF_BYTES)[:SNIFF_BYTES]
    at = head.find(b"\x00")
    # A stray NUL is a bad record (rejected with its line); a block of them is not text at all.
    if head.startswith(BINARY_SIGNATURES) or head.count(b"\x00") * 32 > len(head):
        raise UnreadableInputError(
            f"not a text file (a NUL byte at offset {at}); {what} is UTF-8 text", _source(stream)
        )
    return binary


def shown(text: str) -> str:
    """Text fit for a reject file: bytes that were not UTF-8 (surrogateescape) as \\xNN escapes."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


# --- JSON Lines ----------------------------------------------------------------------------
def jsonl_lines(stream) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, the line's bytes, whole) per non-blank line, under the rules above (its
    ending and a leading BOM not part of it); an over-long line gives its first bytes and
    ``whole`` False, and the rest of it is skipped unread."""
    binary = _opened(stream, "JSON Lines")
    limit = MAX_DOCUMENT_BYTES
    n = 0
    while chunk := binary.readline(limit + 2):  # the record, its CR and its LF
        n += 1
        ended = chunk.endswith(b"\n")
        line = chunk[:-1] if ended else chunk
        if line.endswith(b"\r"):
            line = line[:-1]
        if n == 1 and line.startswith(BOM):
            line = line[3:]
        if len(line) > limit:
            if not ended:
                _skip_line(binary)
            yield n, line[:_SHOWN], False
            continue
        if not line.strip():
            continue
        yield n, line, True


def jsonl_records(stream) -> Iterator[tuple[int, str, object]]:
    """(line number, raw text, document | BadRecordError) per non-blank line."""
    for n, line, whole in jsonl_lines(stream):
        if not whole:
            yield n, line.decode("utf-8", "backslashreplace") + "…", OversizeRecordError([("(line)", SIZE_TEXT)])
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            problem = f"not valid UTF-8 (byte offset {exc.start})"
            yield n, line.decode("utf-8", "backslashreplace"), BadRecordError([("(line)", problem)])
            continue
        try:
            yield n, text, loads_exact(text, "(line)")
        except UnreadableDocumentError as exc:
            yield n, text, BadRecordError(exc.errors)
        except ValueError as exc:  # json.JSONDecodeError
            yield n, text, BadRecordError([("(line)", f"not valid JSON: {exc}")])


def _skip_line(binary) -> None:
    """Read past the rest of an over-long line without keeping it."""
    while chunk := binary.readline(1 << 16):
        if chunk.endswith(b"\n"):
            return


# --- CSV -------------------------------------------------------------------------------------
def cell_value(kind: str, text: str):
    """CSV text to the JSON value the contract expects; anything odd is left for validation to
    name (an integer too long to convert becomes a marker saying so)."""
    if kind == "boolean":
        return boolean_cell(text)
    if kind == "integer":
        n = number_cell(text)
        if not _INTEGER_CELL.fullmatch(n):
            return text
        digits = n.lstrip("-").lstrip("0") or "0"  # int() of 5,000 zeros is as slow as of 5,000 digits
        if len(digits) > MAX_INTEGER_DIGITS:
            return TooLongInteger(len(n), n.startswith("-"))
        return -int(digits) if n.startswith("-") else int(digits)
    if kind == "decimal":
        return number_cell(text)
    return text


def row_to_document(row: dict) -> dict:
    """A CSV row with dotted columns to a nested application; an empty cell means absent."""
    doc: dict = {}
    codes = [(c, p) for c in TEXT_CODES if isinstance(row.get(c), str) and (p := code_problem(c, row[c]))]
    if codes:
        raise BadRecordError(codes)
    for column, text in row.items():
        if column is None:
            raise BadRecordError([("(row)", "more cells than columns")])
        if text is None or text == "":
            continue
        kind = FIELDS.get(column, "text")
        node = doc
        parts = column.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise BadRecordError([(column, "conflicts with another column")])
        node[parts[-1]] = cell_value(kind, text)
    return doc


def csv_records(
    stream, encoding: str | None = None, header: list[str] | None = None
) -> Iterator[tuple[int, str, object]]:
    """(line number of the row's last line, raw text, document | BadRecordError) per row."""
    for n, raw, _cells, doc in csv_rows(stream, encoding, header):
        yield n, raw, doc


def csv_rows(
    stream, encoding: str | None = None, header: list[str] | None = None
) -> Iterator[tuple[int, str, dict[str, str] | None, object]]:
    """``csv_records`` with each row's cells as read, by column ({} for a row not read).
    ``encoding``: as ``--encoding`` names it; by default chosen on the first block. ``header``:
    a list given the file's columns once they are read (to name a bad cell, ``cell_name``)."""
    binary = _opened(stream, "CSV")
    codec = detect(binary.peek(SNIFF)[:SNIFF], encoding)
    text = io.TextIOWrapper(binary, encoding=codec, errors="surrogateescape", newline="")
    try:
        yield from _csv_rows(text, _source(stream), codec, header)
    finally:
        with contextlib.suppress(ValueError):  # leave the caller's stream open
            text.detach()


def _bounded_lines(text, too_long: list[int]) -> Iterator[str]:
    """The physical lines the csv module parses, none longer than the record limit: an
    over-long line is skipped (its number noted) and given as an empty line."""
    n = 0
    while line := text.readline(MAX_DOCUMENT_BYTES + 1):
        n += 1
        if len(line) > MAX_DOCUMENT_BYTES and not line.endswith(("\n", "\r")):
            too_long.append(n)
            while (rest := text.readline(1 << 16)) and not rest.endswith(("\n", "\r")):
                pass
            line = "\n"
        yield line


def header_problems(header: list[str]) -> list[tuple[str, str]]:
    """(column, problem) for each column of a batch file's header that no row can be read under
    (the header as ``column_of`` reads it)."""
    problems = [(c, unknown_column(c)) for c in header if c not in FIELDS]
    return problems + [(c, "column given more than once") for i, c in enumerate(header) if c in header[:i]]


def _shown_cells(header: list[str], row: list[str]) -> dict[str, str]:
    """A bad row's cells as text a record keeps: extra cells named by position."""
    return {(header[i] if i < len(header) else f"(cell {i + 1})"): shown(c) for i, c in enumerate(row)}


def _csv_rows(
    text, source: str | None, codec: str, columns: list[str] | None = None
) -> Iterator[tuple[int, str, dict[str, str] | None, object]]:
    too_long: list[int] = []
    reader = csv.reader(_bounded_lines(text, too_long))
    not_text = "not valid UTF-8" if codec == "utf-8-sig" else t("tables.not_encoded", encoding=encoding_name(codec))
    try:
        header = [column_of(shown(c)) for c in next(reader)]
    except StopIteration:
        return
    except csv.Error as exc:
        raise UnreadableInputError(f"the CSV header cannot be read: {exc}", source) from None
    problems = header_problems(header)
    if columns is not None:
        columns[:] = header
    cut_at = -1  # the line a csv error stopped in: what the reader gives next is its tail
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            cut_at = reader.line_num
            yield cut_at, "", {}, BadRecordError([("(row)", f"not readable as CSV: {exc}")])
            continue
        n = reader.line_num
        if n == cut_at:
            continue
        if too_long and too_long[0] <= n:
            del too_long[:]
            yield n, "", {}, OversizeRecordError([("(row)", SIZE_TEXT)])
            continue
        if row == []:  # a blank line, skipped as csv.DictReader does
            continue
        raw = ",".join(row)
        bad = next((i for i, cell in enumerate(row) if not _is_utf8(cell)), None)
        if bad is not None:
            column = header[bad] if bad < len(header) else "(row)"
            yield n, shown(raw), _shown_cells(header, row), BadRecordError([(column, not_text)])
            continue
        if problems:
            yield n, raw, _shown_cells(header, row), BadRecordError(problems)
            continue
        if len(row) != len(header):
            counted = f"has {len(row)} cells; the header has {len(header)} columns"
            yield n, raw, _shown_cells(header, row), BadRecordError([("(row)", counted)])
            continue
        cells = dict(zip(header, row))
        try:
            yield n, raw, cells, row_to_document(cells)
        except BadRecordError as exc:
            yield n, raw, cells, exc


def _is_utf8(cell: str) -> bool:
    """False when the cell holds a byte that was not UTF-8 (a lone surrogate of surrogateescape)."""
    if cell.isascii():
        return True
    try:
        cell.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# --- XLSX ------------------------------------------------------------------------------------
#: Significant digits a spreadsheet keeps of a number (Excel's precision): a number typed with
#: more was rounded as it was typed; a credit code typed as a number has lost its last digits.
SPREADSHEET_DIGITS = 15
XLSX_SIGNATURE = b"PK\x03\x04"  # an XLSX workbook is a ZIP archive
_WHOLE_LIMIT = 10.0**SPREADSHEET_DIGITS


def xlsx_rows(
    data: bytes, source: str | None = None, columns: list[str] | None = None
) -> Iterator[tuple[int, str, dict[str, str], object]]:
    """(row number in the sheet, raw text, cells as received, document | BadRecordError) per
    non-blank row of the workbook's first sheet, under the header: its first non-blank row.

    A cell is read as the text a CSV cell would hold (then ``row_to_document``): a number as the
    shortest decimal that reads back as it, and only when that has at most SPREADSHEET_DIGITS
    digits (never the binary float itself); a date as YYYY-MM-DD; TRUE/FALSE as true/false.
    Columns with no header are ignored while empty. A file that is not a workbook raises
    UnreadableInputError.
    """
    rows = xlsx_sheet(data, source)
    header: list[str] | None = None
    problems: list[tuple[str, str]] = []
    for i, values in enumerate(rows):
        if all(v == "" for v in values):
            continue
        if header is None:
            header = [column_of(xlsx_cell(v)[0]) for v in values]
            problems = header_problems([h for h in header if h != ""])
            if columns is not None:
                columns[:] = header
            continue
        yield (i + 1, *_xlsx_row(i + 1, header, values, problems))


def xlsx_sheet(data: bytes, source: str | None = None) -> list[list]:
    """The cells of a workbook's first sheet, as python-calamine gives them (a number as typed by
    its type, a date as a date); UnreadableInputError for a file that is not a workbook."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        if not data.startswith(XLSX_SIGNATURE):
            raise CalamineError("no ZIP signature")
        return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python(skip_empty_area=False)
    except CalamineError as exc:
        raise UnreadableInputError(f"not an XLSX workbook ({' '.join(str(exc).split())})", source) from None


def _xlsx_row(n: int, header: list[str], values: list, problems: list) -> tuple[str, dict[str, str], object]:
    cells: dict[str, str] = {}
    texts: dict[str, str] = {}
    received: list[str] = []
    for j, value in enumerate(values):
        column = header[j] if j < len(header) else ""
        got, text = xlsx_cell(value)
        received.append(got)
        if column == "":
            if got != "":
                problems = [*problems, ("(row)", t("tables.under_no_header", cell=cell_name(j, n)))]
            continue
        cells[column] = got
        if column in TEXT_CODES and isinstance(value, (int, float)) and not isinstance(value, bool):
            problems = [*problems, (column, t("tables.number_in_code_cell", cell=cell_name(j, n), value=got))]
        elif text is None:
            problems = [
                *problems,
                (column, t("tables.too_many_digits", cell=cell_name(j, n), value=got, digits=SPREADSHEET_DIGITS)),
            ]
        else:
            texts[column] = text
    raw = ",".join(received)
    if problems:
        return raw, cells, BadRecordError(problems)
    try:
        return raw, cells, row_to_document(texts)
    except BadRecordError as exc:
        return raw, cells, exc


def xlsx_cell(value) -> tuple[str, str | None]:
    """(the cell as received, as text; the text a CSV cell would hold, None for a number that
    cannot be trusted to be what was typed). A number is received as the decimal it was typed
    as, or, when that cannot be known, as the binary float's shortest text (9.11401e+17)."""
    if isinstance(value, str):
        return value, value
    if isinstance(value, bool):
        return ("TRUE", "true") if value else ("FALSE", "false")
    if isinstance(value, int):  # a whole number the file stores as one (not a binary float)
        return str(value), str(value)
    if isinstance(value, float):
        text = spreadsheet_number(value)
        return (repr(value) if text is None else text), text
    if isinstance(value, dt.datetime):
        text = value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
        return text, text
    if isinstance(value, dt.date):
        return value.isoformat(), value.isoformat()
    return str(value), str(value)  # a time of day, a duration: validation names the field


def spreadsheet_number(value: float) -> str | None:
    """A spreadsheet's number as the decimal it was typed as: the shortest decimal that reads
    back as ``value`` (repr), when that has at most SPREADSHEET_DIGITS digits. Beyond them (a
    16-digit or longer number, a sum such as 0.1 + 0.2 = 0.30000000000000004) None: the digits
    shown are not the digits kept."""
    if not math.isfinite(value):
        return None
    if value.is_integer():  # most cells: counts, kWh, whole yuan
        return str(int(value)) if abs(value) < _WHOLE_LIMIT else None
    text = repr(value)
    if "e" in text:  # 1e-07: the exponent written out
        exact = Decimal(text).normalize()
        _sign, digits, exponent = exact.as_tuple()
        assert isinstance(exponent, int)  # finite
        return format(exact, "f") if len(digits) <= SPREADSHEET_DIGITS else None
    whole, _, places = text.lstrip("-").partition(".")
    significant = (whole + places).lstrip("0")
    return text if len(significant) <= SPREADSHEET_DIGITS else None


def cell_name(column: int, row: int) -> str:
    """A cell's name as a spreadsheet shows it: column 0, row 1 is A1; column 27 is AB."""
    letters = ""
    column += 1
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return f"{letters}{row}"


# --- Parquet ---------------------------------------------------------------------------------
_EXPECTED = {
    "boolean": "boolean",
    "integer": "an integer type",
    "decimal": "decimal128, an integer type or text",
    "date": "date32 or text",
}


def parquet_column_problems(schema) -> list[tuple[str, str]]:
    """(column, problem) for each contract column of a pyarrow ``schema`` whose type cannot hold
    its field exactly: a binary float has already lost the decimal, decimal256 has more digits
    than any field may. Unknown columns are the readers' to name."""
    import pyarrow as pa

    t = pa.types
    text = (t.is_string, t.is_large_string, t.is_string_view)
    accepts = {
        "boolean": (t.is_boolean,),
        "integer": (t.is_integer,),
        "decimal": (t.is_integer, t.is_decimal128, *text),
        "date": (t.is_date32, *text),
    }
    problems = []
    for field in schema:
        kind = FIELDS.get(field.name)
        if kind is None:
            continue
        typ = field.type.value_type if t.is_dictionary(field.type) else field.type
        if t.is_null(typ) or any(ok(typ) for ok in accepts.get(kind, text)):
            continue
        why = " (a binary float)" if t.is_floating(typ) else ""
        problems.append((field.name, f"a column of type {typ}{why} is refused; expected {_EXPECTED.get(kind, 'text')}"))
    return problems


def open_parquet(path):
    """``pyarrow.parquet.ParquetFile`` of ``path``, or UnreadableInputError in one line when it
    is not Parquet or a contract column has a refused type: a property of the file, not of a
    row, so nothing in it is decided."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:  # ArrowInvalid: no magic bytes, a truncated footer…
        raise UnreadableInputError(f"not a Parquet file ({' '.join(str(exc).split())})", str(path)) from None
    problems = parquet_column_problems(pf.schema_arrow)
    if problems:
        raise UnreadableInputError("; ".join(f"{c}: {m}" for c, m in problems), str(path))
    return pf
