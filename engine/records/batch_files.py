"""Batch files as submissions: one per row of a JSON Lines, CSV or XLSX file, kept as received.

Each row's submission carries its ``source``: the file's name and SHA-256, the row's number as a
user finds it (the line of a JSON Lines file; the row of a CSV or XLSX file, its header being
row 1), the format and, for CSV and XLSX, the row's cells as read. A JSON Lines row's bytes are
the line's; a CSV or XLSX row's are the JSON document built from its cells as ``evaluate`` reads
them, in deterministic bytes. A row that cannot be read as a document is kept as its text and
rejected with its reader's reasons; one larger than the document limit is refused unread and not
stored, as a file that size is. The readers are engine.contract.formats's.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from engine.contract.formats import XLSX_SIGNATURE, csv_rows, jsonl_lines, xlsx_rows
from engine.contract.jsontext import SIZE_TEXT
from engine.errors import BadRecordError, OversizeRecordError, UnreadableInputError
from engine.records.store.models import SubmissionIn
from engine.tables.encoding import SNIFF

#: file name suffix -> batch format; any other file (.json, standard input) is one application
BATCH_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".xlsx": "xlsx"}

NOT_STORED = "; not stored"
CHANGED = "changed while it was read: the rows above carry the SHA-256 of its first reading"
NOT_XLSX = "not an XLSX workbook (no ZIP signature)"


def batch_format(name: str) -> str | None:
    """The batch format a file's name says, or None for a file of one application."""
    return None if name == "-" else BATCH_FORMATS.get(Path(name).suffix.lower())


@dataclass
class Row:
    """One row of a batch file: where it is (``file:row``) and its submission, or, for what is
    refused unread (an over-long row, a file that is not its format), why."""

    where: str
    item: SubmissionIn | None
    why: str = ""


def file_rows(path: str, shown: str, submitted_by: str, encoding: str | None = None) -> Iterator[Row]:
    """The rows of the batch file at ``path`` (named ``shown``) as submissions by ``submitted_by``.
    A file that cannot be read as its format is one refused Row naming the problem. ``encoding``:
    a CSV file's, as ``--encoding`` names it (default: told from the file, engine.tables.encoding)."""
    fmt = batch_format(path)
    try:
        if fmt == "xlsx":
            yield from _xlsx(path, shown, submitted_by)
            return
        digest = _sha256_of(path)
        with open(path, "rb", buffering=0) as fh:
            reading = _Hashing(fh)
            stream = io.BufferedReader(reading, buffer_size=SNIFF)  # the block the encoding is told on
            if fmt == "jsonl":
                yield from _jsonl(stream, shown, submitted_by, digest)
            else:
                yield from _csv(stream, shown, submitted_by, digest, encoding)
            while stream.read(1 << 16):  # what the reader left unread still counts to the file's hash
                pass
        if reading.hash.hexdigest() != digest:
            yield Row(shown, None, CHANGED)
    except UnreadableInputError as exc:
        yield Row(shown, None, exc.problem + NOT_STORED)
    except OSError as exc:
        yield Row(shown, None, f"cannot be read ({exc.strerror or exc}){NOT_STORED}")


def document_bytes(doc: dict) -> bytes:
    """A document built from a row, as the bytes the record keeps: compact JSON, keys in the
    order the columns came, text as itself (not \\u-escaped)."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _source(shown: str, digest: str, n: int, fmt: str, cells: dict[str, str] | None = None) -> dict:
    source: dict = {"file": shown, "sha256": digest, "row": n, "format": fmt}
    if cells is not None:
        source["cells"] = cells
    return source


def _jsonl(stream, shown: str, who: str, digest: str) -> Iterator[Row]:
    for n, line, whole in jsonl_lines(stream):
        where = f"{shown}:{n}"
        if not whole:
            yield Row(where, None, SIZE_TEXT + NOT_STORED)
            continue
        yield Row(
            where, SubmissionIn(raw=line, filename=shown, submitted_by=who, source=_source(shown, digest, n, "jsonl"))
        )


def _csv(stream, shown: str, who: str, digest: str, encoding: str | None = None) -> Iterator[Row]:
    for n, raw, cells, doc in csv_rows(stream, encoding):
        yield _cells_row(shown, who, _source(shown, digest, n, "csv", cells), raw, doc)


def _xlsx(path: str, shown: str, who: str) -> Iterator[Row]:
    with open(path, "rb") as fh:
        data = fh.read(len(XLSX_SIGNATURE))
        if data != XLSX_SIGNATURE:  # refused before a large file that is no workbook is read whole
            raise UnreadableInputError(NOT_XLSX, shown)
        data += fh.read()
    digest = hashlib.sha256(data).hexdigest()
    for n, raw, cells, doc in xlsx_rows(data, shown):
        yield _cells_row(shown, who, _source(shown, digest, n, "xlsx", cells), raw, doc)


def _cells_row(shown: str, who: str, source: dict, raw: str, doc: object) -> Row:
    where = f"{shown}:{source['row']}"
    if isinstance(doc, OversizeRecordError):
        return Row(where, None, SIZE_TEXT + NOT_STORED)
    if isinstance(doc, BadRecordError):
        refused = [{"path": p, "message": m} for p, m in doc.errors]
        text = raw.encode("utf-8", "surrogateescape")
        return Row(where, SubmissionIn(raw=text, filename=shown, submitted_by=who, source=source, refused=refused))
    assert isinstance(doc, dict)
    return Row(where, SubmissionIn(raw=document_bytes(doc), filename=shown, submitted_by=who, source=source))


def _sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


class _Hashing(io.RawIOBase):
    """A file read through, hashed on the way: the second reading is checked against the first."""

    def __init__(self, raw):
        self.raw, self.hash = raw, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        if n:
            self.hash.update(memoryview(buffer)[:n])
        return n or 0
