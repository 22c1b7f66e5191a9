"""Streaming readers for batch inputs (JSON Lines, CSV with dotted columns) and writers.

Readers yield ``(line_number, raw_text, parsed_or_error)`` one record at a time so a batch
never holds the whole input in memory and never stops at a bad record.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.contract.application import FIELDS, loads_exact
from engine.errors import BadRecordError

try:  # optional: ten times faster; the same bytes for what a decision holds (str, int, bool, None: never a float)
    import orjson
except ImportError:  # pragma: no cover - the standard library gives the same text, slower
    orjson = None  # type: ignore[assignment]  # the module or None: callers test for None

_SECTIONS_OPTIONAL = ("storage", "equipment", "packaging", "energy", "history")


def _cell(kind: str, text: str):
    """CSV text to the JSON value the contract expects; anything odd is left for validation to name."""
    if kind == "boolean":
        low = text.strip().lower()
        return {"true": True, "false": False}.get(low, text)
    if kind == "integer":
        t = text.strip()
        return int(t) if t.lstrip("-").isdigit() else text
    return text


def row_to_document(row: dict) -> dict:
    """A CSV row with dotted columns to a nested application; an empty cell means absent."""
    doc: dict = {}
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
        node[parts[-1]] = _cell(kind, text)
    return doc


def detect_format(path: str, explicit: str | None = None) -> str:
    if explicit:
        return explicit
    suffix = Path(path).suffix.lower()
    return {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".parquet": "parquet"}.get(
        suffix, "jsonl"
    )


def read_records(stream, fmt: str) -> Iterator[tuple[int, str, object]]:
    """Yield (line number, raw text, document | BadRecordError). Blank JSONL lines are skipped."""
    if fmt == "jsonl":
        for n, line in enumerate(stream, start=1):
            text = line.rstrip("\r\n")
            if not text.strip():
                continue
            try:
                yield n, text, loads_exact(text)
            except ValueError as exc:
                yield n, text, BadRecordError([("(line)", f"not valid JSON: {exc}")])
    elif fmt == "csv":
        reader = csv.DictReader(stream)
        unknown = [c for c in (reader.fieldnames or []) if c not in FIELDS]
        for row in reader:
            n = reader.line_num
            raw = ",".join("" if v is None else str(v) for v in row.values())
            if unknown:
                yield n, raw, BadRecordError([(c, "unknown column") for c in unknown])
                continue
            try:
                yield n, raw, row_to_document(row)
            except BadRecordError as exc:
                yield n, raw, exc
    else:
        raise ValueError(f"unsupported input format {fmt!r}")


def dumps_decision(decision: Mapping[str, Any]) -> str:
    """One decision as compact JSON (UTF-8 text, not ASCII-escaped), as ``json.dumps`` spells it."""
    if orjson is not None:
        try:
            return orjson.dumps(decision, default=_default).decode()
        except TypeError:  # orjson.JSONEncodeError: a lone surrogate, a non-text key, an int beyond 64 bits
            pass
    return json.dumps(decision, ensure_ascii=False, separators=(",", ":"), default=_default)


def _default(obj):
    if isinstance(obj, Decimal):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
