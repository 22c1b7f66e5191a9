"""Options of the commands that read or write tables: --encoding, --no-bom, the --out format."""

from __future__ import annotations

import contextlib
import stat
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import click

from engine.atomic import open_replacing
from engine.tables.encoding import ENCODINGS
from engine.tables.writing import CsvRows, OutFormatError, XlsxRows, decision_labels, out_format

#: --encoding: a CSV input's encoding, when the first block does not tell it
encoding_option = click.option(
    "--encoding",
    type=click.Choice(sorted(ENCODINGS), case_sensitive=False),
    default=None,
    help="A CSV input's encoding (default: UTF-8 with or without BOM, else GBK/GB18030, told from the file).",
)

#: --bom/--no-bom: a CSV output's UTF-8 byte-order mark, which Excel needs to read UTF-8
bom_option = click.option(
    "--bom/--no-bom",
    default=True,
    show_default=True,
    help="Start a CSV output with a UTF-8 BOM, so that Excel reads its Chinese text correctly.",
)


def output_format(path: Path, allowed=("jsonl", "csv", "xlsx", "parquet")) -> str:
    """The format ``path``'s name asks for; a UsageError (exit 2) naming the valid suffixes.
    A device or a pipe with no suffix (/dev/stdout) gets the first allowed format: a stream
    has no name to say it."""
    if not Path(path).suffix and _stream_like(Path(path)):
        return allowed[0]
    try:
        return out_format(path, allowed)
    except OutFormatError as exc:
        raise click.UsageError(str(exc)) from None


def _stream_like(path: Path) -> bool:
    try:
        return not stat.S_ISREG(path.stat().st_mode) and not stat.S_ISDIR(path.stat().st_mode)
    except OSError:
        return False


class _Decisions:
    """``evaluate``'s --out: JSON Lines as decided, or one flat row per decision (CSV, XLSX)."""

    def __init__(self, fmt: str, stream=None, rows=None):
        self.fmt, self.stream, self.rows = fmt, stream, rows
        self._regions: deque = deque()

    def regions(self, records) -> Iterator:
        """``records`` passed on, each one's region code kept for its row (decisions come back in
        input order, one per record)."""
        for rec in records:
            doc = rec[2]
            enterprise = doc.get("enterprise") if isinstance(doc, dict) else None
            self._regions.append(enterprise.get("region_code") if isinstance(enterprise, dict) else None)
            yield rec

    def write(self, line: str) -> None:
        if self.rows is None:
            self.stream.write(line + "\n")
            return
        import orjson

        from engine.contract.flat import flatten_decision

        self.rows.write(flatten_decision(orjson.loads(line), self._regions.popleft()))

    def rejected(self) -> None:
        if self.rows is not None:
            self._regions.popleft()


@contextlib.contextmanager
def decision_table(path: Path, fmt: str, book, bom: bool = True) -> Iterator[_Decisions]:
    """The decisions file at ``path`` in ``fmt`` (jsonl, csv or xlsx), replacing ``path`` only
    when the block completes."""
    from engine.contract.flat import result_columns

    if fmt == "jsonl":
        with open_replacing(path) as stream:
            yield _Decisions(fmt, stream)
        return
    columns = result_columns(book)
    if fmt == "csv":
        with open_replacing(path, newline="") as stream:
            rows = CsvRows(stream, columns, bom)
            yield _Decisions(fmt, rows=rows)
        return
    with open_replacing(path, "wb") as stream:
        xlsx = XlsxRows(stream, columns, decision_labels(book))
        yield _Decisions(fmt, rows=xlsx)
        xlsx.close()
