"""Populations in chunks: Parquet, JSON Lines or CSV in; decisions as Parquet (or CSV) out.

Every reader yields Polars frames of at most ``chunk_size`` rows with the dotted columns of
the data contract (docs/contract.md), plus ``__line`` (1-based record number, for rejects and order) and ``__error``
(a rejection found while reading, e.g. an unknown field or malformed JSON, else null).
Memory is bounded by the chunk, never by the file. Nothing goes through a binary float:
JSON numbers are read as Decimal, CSV cells as text, Parquet decimals as Decimal128.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from decimal import Decimal
from pathlib import Path
from typing import TextIO

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from engine.batch.readers import detect_format, read_records
from engine.contract.application import FIELDS, InvalidApplicationError, parse_application
from engine.contract.bounds import decimal_text
from engine.contract.flat import flatten, result_columns
from engine.contract.formats import open_parquet
from engine.errors import BadRecordError, OutputError

DEFAULT_CHUNK = 250_000
_OPTIONAL_SECTIONS = ("storage", "equipment", "packaging", "energy")


def _schema() -> dict:
    return {p: {"boolean": pl.Boolean, "integer": pl.Int64}.get(k, pl.Utf8) for p, k in FIELDS.items()}


def _clean(flat: dict) -> dict | None:
    """The flat record typed for the frame, or None when a value does not fit its column's type
    (an unknown field, a boolean given as text, a float...): such a record is judged by the
    contract model itself so the rejection names every field as ``check`` would."""
    row = {}
    for path, v in flat.items():
        kind = FIELDS.get(path)
        if kind is None and not (v is None and path in _OPTIONAL_SECTIONS):
            return None
        if v is None and path in _OPTIONAL_SECTIONS:
            continue  # "storage": null is an absent section
        if v is None:
            return None  # elsewhere the contract model refuses a null; let it say so
        if kind == "boolean":
            if not isinstance(v, bool):
                return None
        elif kind == "integer":
            if isinstance(v, bool) or not isinstance(v, int):
                return None
        elif kind == "decimal":
            if isinstance(v, bool) or not isinstance(v, (int, str, Decimal)):
                return None
            # A JSON number's text as a cell spells it (str(Decimal) is 1E+3 for 1e3, which the
            # text rule refuses); one beyond the bounds is the model's to name.
            if isinstance(v, Decimal):
                v = decimal_text(v)
                if "E" in v:
                    return None
            else:
                v = str(v)
        elif not isinstance(v, str):
            return None
        row[path] = v
    return row


def _has_empty_mapping(doc: dict) -> bool:
    """Whether a mapping anywhere in the document is empty (``"energy": {}``): present, so the
    contract judges it (its required fields are missing), though it fills no flat column."""
    stack: list = [doc]
    while stack:
        node = stack.pop()
        for v in node.values():
            if isinstance(v, dict):
                if not v:
                    return True
                stack.append(v)
    return False


def _reject_text(doc) -> str:
    try:
        parse_application(doc)
    except InvalidApplicationError as exc:
        return str(exc)
    return "record does not fit the columnar layout"  # never expected: the model accepted it


def _frame(rows: list[dict], lines: list[int], errors: list) -> pl.DataFrame:
    df = pl.DataFrame(rows, schema=_schema())
    return df.with_columns(pl.Series("__line", lines, dtype=pl.Int64), pl.Series("__error", errors, dtype=pl.Utf8))


def _records_chunks(records, chunk_size) -> Iterator[pl.DataFrame]:
    rows, lines, errors = [], [], []
    for n, doc in records:
        error, row = None, {}
        if isinstance(doc, BadRecordError):
            error = str(doc)
        elif not isinstance(doc, dict):
            error = "(document): must be a JSON object"
        else:
            # an empty mapping flattens to no column, so it would pass for an absent section
            cleaned = None if _has_empty_mapping(doc) else _clean(flatten(doc))
            if cleaned is not None:
                row = cleaned
            else:
                error = _reject_text(doc)
                app_id = doc.get("application_id")
                if isinstance(app_id, str):
                    row = {"application_id": app_id}
        rows.append(row)
        lines.append(n)
        errors.append(error)
        if len(rows) >= chunk_size:
            yield _frame(rows, lines, errors)
            rows, lines, errors = [], [], []
    if rows:
        yield _frame(rows, lines, errors)


def _records(stream, fmt):
    """(line number, document | BadRecordError): the batch readers' rules, for both backends."""
    for n, _raw, doc in read_records(stream, fmt):
        yield n, doc


def _parquet(path, chunk_size) -> Iterator[pl.DataFrame]:
    pf = open_parquet(path)
    unknown = [c for c in pf.schema_arrow.names if c not in FIELDS]
    known = [c for c in pf.schema_arrow.names if c in FIELDS]
    error = None if not unknown else "; ".join(f"{c}: unknown column" for c in unknown)
    # Polars' own reader (parallel, no Arrow round trip), a run of whole row groups at a time.
    scan = pl.scan_parquet(path).select(known)
    start = 0
    for rows in _runs([pf.metadata.row_group(i).num_rows for i in range(pf.metadata.num_row_groups)], chunk_size):
        df = scan.slice(start, rows).collect()
        yield df.with_columns(
            pl.int_range(start + 1, start + 1 + df.height, dtype=pl.Int64).alias("__line"),
            pl.lit(error, dtype=pl.Utf8).alias("__error"),
        )
        start += rows


def _runs(sizes: list[int], chunk_size: int) -> Iterator[int]:
    """Row counts of consecutive chunks: whole row groups, or slices of one at most chunk_size."""
    run = 0
    for n in sizes:
        while n > chunk_size:
            if run:
                yield run
                run = 0
            yield chunk_size
            n -= chunk_size
        if run + n > chunk_size:
            yield run
            run = 0
        run += n
    if run:
        yield run


def read_chunks(path: str | Path, chunk_size: int = DEFAULT_CHUNK, fmt: str | None = None) -> Iterator[pl.DataFrame]:
    """Frames of at most ``chunk_size`` applications from a Parquet, JSON Lines or CSV file."""
    fmt = detect_format(str(path), fmt)
    if fmt == "parquet":
        yield from _parquet(path, chunk_size)
        return
    with open(path, "rb") as stream:
        yield from _records_chunks(_records(stream, fmt), chunk_size)


def decide_chunk(book, chunk: pl.DataFrame) -> pl.DataFrame:
    """Decide one chunk (typed columns, see ``columnar.decide_typed``); rows rejected while
    reading keep their reading error. Adds ``line``."""
    from engine.backends.columnar.frame import decide_typed, typed_schema

    bad = chunk.get_column("__error").is_not_null()
    if not bad.any():
        return decide_typed(book, chunk.drop("__line", "__error")).with_columns(
            chunk.get_column("__line").alias("line")
        )
    good = chunk.filter(~bad)
    decided = decide_typed(book, good.drop("__line", "__error")).with_columns(good.get_column("__line").alias("line"))
    schema = typed_schema(book)
    rejected = chunk.filter(bad).select(
        pl.col("__line").alias("line"),
        *[
            pl.col(c)
            if c in ("application_id",)
            else pl.col("enterprise.region_code").alias(c)
            if c == "region_code"
            else pl.col("__error").alias(c)
            if c == "error"
            else pl.lit(None, dtype=t).alias(c)
            for c, t in schema.items()
        ],
    )
    return pl.concat([decided, rejected.select(decided.columns)]).sort("line")


def _date_text(dates: pl.Series) -> pl.Series:
    """ISO text of a date column: a population has few distinct period ends, and formatting
    each once then looking it up is ~10× cheaper than formatting every row."""
    days = dates.unique().drop_nulls()
    if not days.len():
        return dates.cast(pl.Utf8)
    return dates.replace_strict(days, days.cast(pl.Utf8), return_dtype=pl.Utf8)


class DecisionWriter:
    """Decisions appended chunk by chunk to one Parquet file (dotted columns) or CSV."""

    def __init__(self, path: str | Path, book, with_line: bool = True, bom: bool = True):
        self.path = Path(path)
        self.bom = bom  # a CSV for Excel starts with a UTF-8 BOM (engine.tables.writing)
        self.cols = result_columns(book) + (["line"] if with_line else [])
        self.csv = self.path.suffix.lower() == ".csv"
        self._writer: pq.ParquetWriter | None = None
        self._stream: TextIO | None = None
        self._failed = False  # opening the file failed: nothing to close, nothing to write
        self.rows = self.rejected = 0

    def _open(self, opener):
        """Open the output; an OSError (missing folder, a folder in the way, no permission…)
        becomes an OutputError naming the path."""
        try:
            return opener()
        except OSError as exc:
            self._failed = True
            raise OutputError(self.path, os.strerror(exc.errno) if exc.errno else str(exc)) from exc

    def write(self, frame: pl.DataFrame):
        """Append decided rows (typed or text columns); the file holds the contract's text."""
        frame = frame.select(self.cols)
        self.rows += frame.height
        self.rejected += int(frame.get_column("error").is_not_null().sum())
        # Statuses and reason lists stay dictionary-encoded (written as Parquet strings, no
        # per-row text); amounts, totals and dates become their decimal/ISO text here.
        frame = frame.with_columns(
            _date_text(frame.get_column(c)) if t == pl.Date else pl.col(c).cast(pl.Utf8)
            for c, t in frame.schema.items()
            if c != "line" and not isinstance(t, (pl.Enum, pl.Categorical, pl.String))
        )
        if self.csv:
            if self._stream is None:
                self._stream = self._open(lambda: open(self.path, "w", encoding="utf-8", newline=""))
                if self.bom:  # Polars writes only to a stream it knows as UTF-8
                    self._stream.write("\ufeff")
                frame.write_csv(self._stream)
            else:
                buf = io.StringIO()
                frame.write_csv(buf, include_header=False)
                self._stream.write(buf.getvalue())
            return
        # Arrow string views are Polars' own buffers (no copy, where large strings cost 0.15 s a
        # million rows); the Parquet writer takes dictionaries of large strings only.
        coded = [c for c, t in frame.schema.items() if isinstance(t, (pl.Enum, pl.Categorical))]
        table = frame.drop(coded).to_arrow(compat_level=pl.CompatLevel.newest())
        if coded:
            dicts = frame.select(coded).to_arrow()
            for c in coded:
                table = table.append_column(c, dicts.column(c))
            table = table.select(self.cols)
        writer = self._writer
        if writer is None:
            schema = pa.schema(
                [
                    pa.field(
                        c,
                        pa.int64()
                        if c == "line"
                        else table.schema.field(c).type
                        if pa.types.is_dictionary(table.schema.field(c).type)
                        else pa.string_view(),
                    )
                    for c in self.cols
                ]
            )
            # store_schema=False: readers see plain string columns, not Arrow dictionaries.
            # Dictionary encoding only where values repeat; no statistics: they cost more than
            # the encoding itself on text columns.
            repeat = [
                c
                for c in self.cols
                if pa.types.is_dictionary(schema.field(c).type) or c in ("region_code", "evaluated_on")
            ]
            writer = self._writer = self._open(
                lambda: pq.ParquetWriter(
                    self.path,
                    schema,
                    compression="lz4",
                    store_schema=False,
                    use_dictionary=repeat,
                    write_statistics=["line"],
                )
            )
        writer.write_table(table.cast(writer.schema))

    def close(self):
        """Finish the file (an empty population gives an empty table with every column).
        Nothing to do when opening it failed: that error has been raised already."""
        if self._failed:
            return
        if self._writer is not None:
            self._writer.close()
        elif self._stream is not None:
            self._stream.close()
        elif not self.csv:
            empty = pa.table({c: pa.array([], pa.int64() if c == "line" else pa.string()) for c in self.cols})
            self._open(lambda: pq.write_table(empty, self.path))

    def abort(self):
        """Close without finishing and remove the partial file: a truncated decisions file with
        a valid footer would pass for a complete one."""
        opened = self._writer is not None or self._stream is not None
        try:
            if self._writer is not None:
                self._writer.close()
            elif self._stream is not None:
                self._stream.close()
        except Exception:  # already failing: the first error is the one to report
            pass
        self._writer = self._stream = None
        self._failed = True
        if opened:
            self.path.unlink(missing_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False


def decide_file(
    book, input_path, out_path, chunk_size: int = DEFAULT_CHUNK, fmt: str | None = None, bom: bool = True
) -> tuple[int, int]:
    """Stream a population file through the columnar backend into a decisions file.

    Returns (decided, rejected). Memory is bounded by ``chunk_size`` (at most three chunks are
    in flight: reading, deciding and writing overlap in threads; Polars, NumPy and the Parquet
    writer release the GIL).
    """
    with ThreadPoolExecutor(max_workers=2) as pool, DecisionWriter(out_path, book, bom=bom) as w:
        chunks = read_chunks(input_path, chunk_size, fmt)
        pending_read = pool.submit(next, chunks, None)
        pending_write = None
        try:
            while True:
                chunk = pending_read.result()
                if chunk is None:
                    break
                pending_read = pool.submit(next, chunks, None)
                decided = decide_chunk(book, chunk)
                if pending_write is not None:
                    pending_write.result()
                pending_write = pool.submit(w.write, decided)
            if pending_write is not None:
                pending_write.result()
        finally:
            if pending_write is not None:
                wait([pending_write])  # never close (or remove) the file under a write in flight
    return w.rows - w.rejected, w.rejected
