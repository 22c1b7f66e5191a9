"""Metering intervals as the provincial platform received them: read, validate, nothing dropped.

A telemetry file (CSV with a header, in UTF-8 or GBK/GB18030 as engine.tables.encoding tells;
an XLSX workbook's first sheet; or Parquet with the same column names) has one row per interval
a storage system reported:

    system_id             optional; 1–64 characters of A-Z a-z 0-9 . _ -
    interval_start        ISO 8601 local time; no offset means China Standard Time (UTC+08:00)
    grid_import_kw        average grid import over the interval, decimal ≥ 0
    storage_discharge_kw  average discharge power, decimal ≥ 0
    storage_charge_kw     average charging power, decimal ≥ 0
    received_at           when the platform received the record, ISO 8601 (same convention)

Times are kept as naive China Standard Time: the country has one zone and no daylight saving,
so a timestamp given with another offset (``Z``, ``+00:00``) is converted once, on reading, and
the daytime window and calendar days are then plain wall-clock arithmetic.

Every problem is collected (line and column named) before anything is refused; a file with one
bad row is refused whole, because a subsidy decided on silently filtered data is not traceable.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from engine.cst import CST
from engine.errors import InvalidTelemetryError

COLUMNS = ("interval_start", "grid_import_kw", "storage_discharge_kw", "storage_charge_kw", "received_at")
OPTIONAL = ("system_id",)
POWER = ("grid_import_kw", "storage_discharge_kw", "storage_charge_kw")
_SYSTEM = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
MAX_LISTED = 200  # problems kept in full; the count beyond is still reported
#: Bounds of a power reading, checked before any arithmetic: ``1e999999999`` is nine bytes that
#: would overflow (or, kept exact, exhaust memory in) every sum. 100 GW is beyond any site on the
#: platform; 20 places keep any decimal a meter or a float's repr writes.
MAX_KW_DIGITS = 8  # integer digits: below 100,000,000 kW
MAX_KW_PLACES = 20


def _bounded(value: Decimal) -> bool:
    """Within the bounds above (a finite value: the exponent of NaN or Infinity is a letter)."""
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and value.adjusted() < MAX_KW_DIGITS and exponent >= -MAX_KW_PLACES


@dataclass(frozen=True, slots=True)
class Interval:
    where: str  # "line 7" / "row 6": for messages that point back at the file
    system_id: str
    start: dt.datetime  # naive, China Standard Time
    import_kw: Decimal
    discharge_kw: Decimal
    charge_kw: Decimal
    received_at: dt.datetime


@dataclass
class Telemetry:
    source: str
    sha256: str
    interval_minutes: int
    intervals: list[Interval] = field(default_factory=list)  # sorted by (system, start)

    @property
    def systems(self) -> list[str]:
        return sorted({i.system_id for i in self.intervals})


def local_time(text) -> dt.datetime:
    """An ISO 8601 timestamp (or a datetime from Parquet) as naive China Standard Time."""
    if isinstance(text, dt.datetime):
        value = text
    elif isinstance(text, str):
        try:
            value = dt.datetime.fromisoformat(text.strip())
        except ValueError:
            raise ValueError(
                f"{text!r} is not a timestamp (expected ISO 8601 local time, "
                "e.g. 2026-01-01T08:15 or 2026-01-01T08:15:00+08:00)"
            ) from None
        if len(text.strip()) == 10:
            raise ValueError(f"{text!r} is a date, not a timestamp (expected e.g. 2026-01-01T08:15)")
    else:
        raise ValueError(f"{text!r} is not a timestamp")
    if value.tzinfo is not None:
        value = value.astimezone(CST).replace(tzinfo=None)
    return value


def _power(text) -> Decimal:
    if isinstance(text, float):
        raise ValueError("a binary float; write the decimal as text or a decimal column")
    if isinstance(text, bool) or text is None:
        raise ValueError("expected a decimal number of kW")
    try:
        value = Decimal(text.strip() if isinstance(text, str) else text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a decimal number (expected kW, e.g. 812.50)") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not finite")
    if value < 0:
        raise ValueError(f"must be ≥ 0, got {text}")
    if not _bounded(value):
        shown = str(text).strip()
        shown = shown if len(shown) <= 40 else shown[:37] + "…"
        raise ValueError(
            f"{shown} is out of bounds (at most {MAX_KW_DIGITS} integer digits and {MAX_KW_PLACES} decimal places)"
        )
    return value


#: every cell the careful path reads: (column, parser, what an empty cell is called)
_CELLS = (
    ("interval_start", local_time, "missing"),
    ("received_at", local_time, "missing"),
    *((column, _power, "missing (an empty cell is not 0 kW)") for column in POWER),
)


def _rows_from_csv(data: bytes, source: str):
    from engine.tables.encoding import decode

    try:
        text = decode(data)
    except UnicodeDecodeError as exc:
        raise InvalidTelemetryError(source, [("byte %d" % exc.start, "", "not UTF-8")]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    yield from _rows_from_lists(header, ((f"line {reader.line_num}", r) for r in reader), source)


def _rows_from_xlsx(data: bytes, source: str):
    """The first sheet's rows as a CSV file's: each cell as the text it shows (a time as ISO 8601,
    a number as the decimal typed, engine.contract.formats.xlsx_cell)."""
    from engine.contract.formats import xlsx_cell, xlsx_sheet
    from engine.errors import UnreadableInputError

    try:
        rows = xlsx_sheet(data, source)
    except UnreadableInputError as exc:
        raise InvalidTelemetryError(source, [("file", "", exc.problem)]) from None
    # a time stays a datetime; a date is one at midnight (Excel keeps both as a day number, and
    # the reader gives a whole day as a date); anything else the text it shows
    texts = [
        (f"row {i + 1}", [_sheet_time(v) if isinstance(v, dt.date) else xlsx_cell(v)[0] for v in row])
        for i, row in enumerate(rows)
    ]
    texts = [(where, row) for where, row in texts if any(_filled(c) for c in row)]  # blank rows
    if not texts:
        yield from _rows_from_lists(None, iter(()), source)
        return
    header = texts[0][1]
    width = max((j + 1 for j, c in enumerate(header) if _filled(c)), default=0)  # columns under no header
    body = ((where, row[:width] if not any(_filled(c) for c in row[width:]) else row) for where, row in texts[1:])
    yield from _rows_from_lists(header[:width], body, source)


def _sheet_time(value: dt.date) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())


def _filled(cell) -> bool:
    return not isinstance(cell, str) or bool(cell.strip())


def _rows_from_lists(header, records, source: str):
    """(where, cells by column | None, problem) per (where, text cells) under ``header``."""
    if header is None:
        raise InvalidTelemetryError(
            source, [("line 1", "", "the file is empty (expected a header row: " + ",".join(OPTIONAL + COLUMNS) + ")")]
        )
    names = [str(h).strip() for h in header]
    _check_header(names, source)
    for where, record in records:
        if not record or record == [""]:
            continue
        if len(record) != len(names):
            yield where, None, f"{len(record)} cells, the header has {len(names)}"
            continue
        yield where, dict(zip(names, record)), None


def _rows_from_parquet(path: Path | io.BytesIO, source: str):
    import pyarrow.parquet as pq  # only when a Parquet file is given: keeps `check` fast
    import pyarrow.types as pat

    table = pq.read_table(path)
    _check_header(table.column_names, source)
    floats = [
        (n, str(table.schema.field(n).type)) for n in table.column_names if pat.is_floating(table.schema.field(n).type)
    ]
    if floats:
        raise InvalidTelemetryError(
            source,
            [
                (
                    "schema",
                    n,
                    f"a binary float column ({t}); store decimals as decimal128 or text, never through a float",
                )
                for n, t in floats
            ],
        )
    columns = {n: table.column(n).to_pylist() for n in table.column_names}
    for k in range(table.num_rows):
        yield f"row {k + 1}", {n: columns[n][k] for n in columns}, None


def _check_header(names: list[str], source: str) -> None:
    problems = []
    for n in names:
        if n not in COLUMNS and n not in OPTIONAL:
            problems.append(("header", n, "unknown column (expected " + ", ".join(OPTIONAL + COLUMNS) + ")"))
    for n in COLUMNS:
        if n not in names:
            problems.append(("header", n, "missing column"))
    dupes = {n for n in names if names.count(n) > 1}
    problems += [("header", n, "column given twice") for n in sorted(dupes)]
    if problems:
        raise InvalidTelemetryError(source, problems)


def read_telemetry(
    path: str | Path, interval_minutes: int, data: bytes | None = None, fmt: str | None = None
) -> Telemetry:
    """Read and validate a telemetry file; ``InvalidTelemetryError`` lists every problem.

    ``data`` gives the bytes when they come from elsewhere (the record of submissions);
    ``fmt`` is ``csv``, ``xlsx`` or ``parquet`` (default: from the suffix, CSV otherwise).
    """
    path = Path(path)
    source = path.name
    suffix = path.suffix.lower()
    fmt = fmt or ("parquet" if suffix in (".parquet", ".pq") else "xlsx" if suffix == ".xlsx" else "csv")
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InvalidTelemetryError(source, [("file", "", f"cannot read: {exc.strerror}")]) from None
    if fmt == "parquet":
        rows = _rows_from_parquet(io.BytesIO(data), source)
    elif fmt == "xlsx":
        rows = _rows_from_xlsx(data, source)
    else:
        rows = _rows_from_csv(data, source)
    grid = dt.timedelta(minutes=interval_minutes)
    problems: list[tuple[str, str, str]] = []
    intervals: list[Interval] = []
    seen: dict[tuple[str, dt.datetime], str] = {}
    misaligned: list[Interval] = []
    try:
        for where, row, problem in rows:
            if problem:
                problems.append((where, "", problem))
                continue
            interval = _well_formed(where, row, grid)
            aligned = True
            if interval is None:  # something is off: the careful path names every problem
                interval, aligned = _interval(where, row, grid, problems)
            if interval is None:
                continue
            if not aligned:
                misaligned.append(interval)
                continue
            key = (interval.system_id, interval.start)
            if key in seen:
                problems.append(
                    (
                        where,
                        "interval_start",
                        f"duplicate interval {interval.start.isoformat()}"
                        f"{' of ' + interval.system_id if interval.system_id else ''} "
                        f"(already on {seen[key]})",
                    )
                )
                continue
            seen[key] = where
            intervals.append(interval)
    except InvalidTelemetryError:
        raise
    except Exception as exc:  # a Parquet file pyarrow cannot read, say
        raise InvalidTelemetryError(source, [("file", "", f"cannot be read as {fmt}: {exc}")]) from None
    problems += _overlaps(intervals, misaligned, grid)
    if problems:
        if len(problems) > MAX_LISTED:
            more = len(problems) - MAX_LISTED
            problems = problems[:MAX_LISTED] + [("…", "", f"{more} more problems not listed")]
        raise InvalidTelemetryError(source, problems)
    intervals.sort(key=lambda i: (i.system_id, i.start))
    return Telemetry(source, hashlib.sha256(data).hexdigest(), interval_minutes, intervals)


def _well_formed(where, row, grid) -> Interval | None:
    """The common case, fast: a clean naive-local, on-grid row; None sends it to ``_interval``
    (a year is 35,040 rows, and the careful path costs three times as much)."""
    try:
        start, received = row["interval_start"], row["received_at"]
        if type(start) is not str or type(received) is not str or len(start) <= 10 or len(received) <= 10:
            return None
        start, received = dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(received)
        imp, dis, chg = row["grid_import_kw"], row["storage_discharge_kw"], row["storage_charge_kw"]
        if type(imp) is not str or type(dis) is not str or type(chg) is not str or not (imp and dis and chg):
            return None
        imp, dis, chg = Decimal(imp), Decimal(dis), Decimal(chg)
    except (ValueError, KeyError, InvalidOperation):
        return None
    system = row.get("system_id") or ""
    if (
        start.tzinfo is not None
        or received.tzinfo is not None
        or not (imp.is_finite() and dis.is_finite() and chg.is_finite())
        or not (_bounded(imp) and _bounded(dis) and _bounded(chg))
        or imp < 0
        or dis < 0
        or chg < 0
        or start.second
        or start.microsecond
        or (start.hour * 60 + start.minute) % (grid.seconds // 60)
        or received < start + grid
        or (system and (type(system) is not str or not _SYSTEM.match(system)))
    ):
        return None
    return Interval(where, system, start, imp, dis, chg, received)


def _interval(where, row, grid, problems) -> tuple[Interval | None, bool]:
    """The row's interval (None when a cell is bad) and whether it sits on the grid."""
    bad = len(problems)
    system = row.get("system_id")
    system = "" if system is None else str(system).strip()
    if system and not _SYSTEM.match(system):
        problems.append((where, "system_id", f"{system!r}: expected 1–64 characters of A-Z a-z 0-9 . _ -"))
    values: dict[str, Any] = {}  # column -> its parsed value (datetime or Decimal)
    for column, parse, empty in _CELLS:
        raw = row.get(column)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            problems.append((where, column, empty))
            continue
        try:
            values[column] = parse(raw)
        except ValueError as exc:
            problems.append((where, column, str(exc)))
    start, aligned = values.get("interval_start"), True
    if start is not None:
        since_midnight = dt.timedelta(
            hours=start.hour, minutes=start.minute, seconds=start.second, microseconds=start.microsecond
        )
        if since_midnight % grid:
            aligned = False
            problems.append(
                (
                    where,
                    "interval_start",
                    f"{start.isoformat()} is not on the "
                    f"{grid.seconds // 60}-minute grid (intervals start at :00, "
                    f":{grid.seconds // 60:02d}, …)",
                )
            )
        if "received_at" in values and values["received_at"] < start + grid:
            problems.append(
                (
                    where,
                    "received_at",
                    f"{values['received_at'].isoformat()} is before the interval ended ({(start + grid).isoformat()})",
                )
            )
    if len(problems) > bad and (aligned or len(problems) > bad + 1):
        return None, aligned
    return Interval(
        where,
        system,
        values["interval_start"],  # ``start``, known present here: a missing cell returned above
        values["grid_import_kw"],
        values["storage_discharge_kw"],
        values["storage_charge_kw"],
        values["received_at"],
    ), aligned


def _overlaps(intervals: list[Interval], misaligned: list[Interval], grid) -> list[tuple[str, str, str]]:
    """Intervals on the grid overlap only when duplicated (refused on reading); an interval off
    the grid is refused already, and here it also names the rows whose time it overlaps."""
    out = []
    by_key = {(i.system_id, i.start): i for i in intervals}
    for m in misaligned:
        since = dt.timedelta(
            hours=m.start.hour, minutes=m.start.minute, seconds=m.start.second, microseconds=m.start.microsecond
        )
        first = m.start - since % grid
        for start in (first, first + grid):
            other = by_key.get((m.system_id, start))
            if other is not None:
                out.append(
                    (
                        m.where,
                        "interval_start",
                        f"overlaps the interval {start.isoformat()} – {(start + grid).isoformat()} ({other.where})",
                    )
                )
    return out
