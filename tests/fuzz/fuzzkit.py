"""Hostile inputs and the promise they are held to; shared by tests/fuzz/ and scripts/fuzz_report.py.

The promise (issue 12): whatever an input contains, it is **decided** (a decision document) or
**refused naming the field** (``InvalidApplicationError`` and its kin, with paths) — never
another exception, never a traceback, never more than ``CASE_SECONDS`` per case.

Every case runs in a worker process (``Worker``): a case that hangs (``1e999999999`` builds a
billion-digit fraction inside one C call, which no signal interrupts) is killed after
``KILL_SECONDS`` and reported as a timeout, and the suite goes on. The time of a case is measured
inside the worker, around the call, with the engine already warm.

Strategies build valid documents first (the bundled examples) and then perturb them; each
perturbation says which paths a refusal may name, so "refused" means "refused naming the field".
"""

from __future__ import annotations

import atexit
import copy
import csv
import io
import json
import multiprocessing as mp
import os
import re
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
#: Examples per property; CI runs the default, a longer run sets SHUANGTAN_FUZZ_EXAMPLES=5000.
EXAMPLES = int(os.environ.get("SHUANGTAN_FUZZ_EXAMPLES", "200"))
#: The promise: no case takes longer (measured in the worker, engine warm).
CASE_SECONDS = 1.0
#: A case still running after this is killed (and the worker restarted): a hang, not a slow case.
KILL_SECONDS = float(os.environ.get("SHUANGTAN_FUZZ_KILL_SECONDS", "3"))

EXAMPLE_FILES = sorted((ROOT / "examples/applications").glob("*.json"))
BASES = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in EXAMPLE_FILES}


# --- JSON text that json.dumps cannot write: raw tokens and duplicate keys ----------------------
class Raw(str):
    """JSON text spliced in as it is (a number token such as 1e999999999, a nesting)."""

    def __repr__(self):
        return f"Raw({_short(str(self))})"


class Big(str):
    """A long text with a short repr (Hypothesis prints failing inputs)."""

    def __repr__(self):
        return f"Big({len(self)} × {self[:1]!r})"


class Pairs(list):
    """A JSON object as (key, value) pairs, so a key can occur twice."""


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate becomes bytes no UTF-8 reader accepts


def _short(text: str, n: int = 60) -> str:
    return repr(text) if len(text) <= n else f"{text[: n // 2]!r}…({len(text)} chars)…{text[-10:]!r}"


# --- the values a perturbation puts in a field -------------------------------------------------------
HUGE = [
    "1e999999999",
    "-1e999999999",
    "1e-999999999",
    "1E+999999999",
    "1e4400",
    "1e100000",
    "0e999999999",
    Big("9" * 5000),
    "1" + "0" * 26 + ".001",  # 27 integer digits and a third decimal
    "123456789012345678901234567890.125",
    "1e-400",
    "0." + "0" * 60 + "1",
]
#: Spellings Decimal() accepts but a JSON number never has (issue 12 item 4).
LENIENT = ["1_000", "\u0663", "\uff15", "+5", "9.", "1_0.5", "\u0661\u0662"]
NONFINITE = ["NaN", "Infinity", "-Infinity", "inf", "-nan", "sNaN"]
TEXTS = [
    "",
    " ",
    "text",
    "\x00",
    "A\u202eB",
    "\u2066x\u2069",
    "\ud800",
    "a\r\nb",
    "\x7f\x1b[31m",
    "\ufeff",
    "x" * 201,
    Big("x" * 100_000),
    "[点我](http://evil/x.png) ![](http://t/p.png)",
]
WRONG_TYPES = [None, True, False, [], {}, 0, -1, 2**64, Raw("1.5"), Raw("-0"), [1, 2], {"a": 1}]
INVALID_UTF8 = [b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\x80"]

SECTIONS = ("period", "enterprise", "storage", "storage.platform", "equipment", "packaging", "energy", "history")


def _leaves(doc: dict, prefix: str = "") -> list[str]:
    out = []
    for k, v in doc.items():
        out += _leaves(v, f"{prefix}{k}.") if isinstance(v, dict) else [f"{prefix}{k}"]
    return out


def values():
    """Anything a hostile or careless user might put where a value belongs."""
    return st.one_of(
        st.sampled_from(HUGE).map(Raw),  # as a JSON number token
        st.sampled_from(HUGE),  # as a JSON string
        st.sampled_from(LENIENT),
        st.sampled_from(NONFINITE),
        st.sampled_from(NONFINITE).map(Raw),
        st.sampled_from(TEXTS),
        st.sampled_from(WRONG_TYPES),
        st.text(max_size=30),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.decimals(allow_nan=False, allow_infinity=False).map(lambda d: Raw(str(d))),
    )


@dataclass(frozen=True)
class Mutation:
    """One change to a valid document. ``names``: paths a refusal may name for it."""

    op: str
    path: str = ""
    value: object = None
    at: int = 0  # a position in the text, in thousandths of its length

    def names(self) -> set[str]:
        if self.op == "top":
            return {"*"}  # a new document altogether: whatever it lacks may be named
        if self.op == "bytes":
            return {"*"}  # "\xed\xa0\x80" inside a date is read by json (surrogatepass): the date is named
        if self.op == "truncate":
            return {"(document)", "(line)"}
        if self.op == "value" and isinstance(self.value, Raw):
            return {self.path, "(document)", "(line)"}  # the token may not be JSON at all (sNaN)
        if self.op in ("deep", "duplicate", "control"):
            return {self.path, "(document)", "(line)"}
        if self.op == "value" and isinstance(self.value, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in self.value):
            return {self.path, "(document)", "(line)"}  # written as bytes no UTF-8 reader accepts: the file's fault
        if self.op == "unknown":
            return {f"{self.path}.zz_unknown" if self.path else "zz_unknown"}
        return {self.path}

    def __repr__(self):
        value = _short(self.value) if isinstance(self.value, str) else repr(self.value)
        return f"Mutation({self.op!r}, {self.path!r}, {value}{f', at={self.at}' if self.at else ''})"


def mutations(paths):
    leaf = st.sampled_from(paths)
    anywhere = st.sampled_from([*paths, *SECTIONS])
    return st.one_of(
        st.builds(Mutation, st.just("value"), anywhere, values()),
        st.builds(Mutation, st.just("delete"), anywhere),
        st.builds(Mutation, st.just("unknown"), st.sampled_from(["", *SECTIONS])),
        st.builds(
            Mutation,
            st.just("deep"),
            leaf,
            st.sampled_from([100, 1000, 5000, 100_000]),
        ),
        st.builds(Mutation, st.just("duplicate"), leaf, values()),
        st.builds(
            Mutation,
            st.just("control"),
            st.sampled_from(["enterprise.name", "application_id"]),
            st.sampled_from(["\x01", "\x00", "\x1f", "\r", "\t"]),
        ),
        st.builds(Mutation, st.just("bytes"), st.just(""), st.sampled_from(INVALID_UTF8), st.integers(0, 1000)),
        st.builds(Mutation, st.just("truncate"), st.just(""), st.none(), st.integers(0, 999)),
        st.builds(
            Mutation,
            st.just("top"),
            st.just(""),
            st.sampled_from([Raw("[]"), Raw('"x"'), Raw("1"), Raw("null"), Raw("[" * 100_000), Raw(""), Raw("{}")]),
        ),
    )


@dataclass(frozen=True)
class Case:
    """A bundled example with some mutations; ``raw()`` is the text a user would submit."""

    base: str
    changes: tuple = ()

    def names(self) -> set[str]:
        return set().union(*(m.names() for m in self.changes)) if self.changes else set()

    def raw(self) -> bytes:
        doc: object = copy.deepcopy(BASES[self.base])
        tail: list[Mutation] = []
        for m in self.changes:
            if m.op in ("bytes", "truncate"):
                tail.append(m)
            elif m.op == "top":
                doc = m.value
            elif isinstance(doc, dict):
                doc = _apply(doc, m)
        data = encode(dump(doc))
        for m in tail:
            cut = len(data) * m.at // 1000
            data = data[:cut] + (m.value if m.op == "bytes" else b"")
            if m.op == "bytes":
                data += encode(dump(doc))[cut:]
        return data

    def __repr__(self):
        return f"Case({self.base!r}, {list(self.changes)!r})"


def _apply(doc: dict, m: Mutation) -> dict:
    if "__pairs__" in doc:
        # the top level is already given as pairs (a duplicated top-level key): a later change
        # would add a key beside the marker, and the marker would be sent as a field of its own
        return doc
    parts = m.path.split(".") if m.path else []
    node = doc
    for p in parts[:-1]:
        nxt = node.get(p) if isinstance(node, dict) else None
        if not isinstance(nxt, dict):
            return doc  # the section was removed or replaced by an earlier change
        node = nxt
    if not isinstance(node, dict):
        return doc
    key = parts[-1] if parts else None
    if m.op == "value":
        node[key] = m.value
    elif m.op == "delete":
        node.pop(key, None)
    elif m.op == "unknown":
        target = node if key is None else node.get(key)
        if isinstance(target, dict):
            target["zz_unknown"] = 1
    elif m.op == "deep":
        node[key] = Raw("[" * m.value + "]" * m.value)
    elif m.op == "control":
        node[key] = Raw('"A' + m.value + 'B"')
    elif m.op == "duplicate" and key in node:
        items = Pairs(node.items())
        items.insert(0, (key, m.value))
        _replace(doc, parts[:-1], items)
    return doc


def _replace(doc, parents, new):
    if not parents:
        doc.clear()
        doc["__pairs__"] = new  # replaced below by dump through Pairs
        return
    node = doc
    for p in parents[:-1]:
        node = node[p]
    node[parents[-1]] = new


def dump(node) -> str:
    """JSON text of a document that may hold ``Raw`` tokens and ``Pairs`` (a top-level object
    given as pairs is stored under the single key ``__pairs__``)."""
    if isinstance(node, dict) and list(node) == ["__pairs__"]:
        node = node["__pairs__"]
    if isinstance(node, Raw):
        return str(node)
    if isinstance(node, (dict, Pairs)):
        items = node.items() if isinstance(node, dict) else node
        return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)}: {dump(v)}" for k, v in items) + "}"
    if isinstance(node, list):
        return "[" + ", ".join(dump(v) for v in node) + "]"
    return json.dumps(node, ensure_ascii=False)


def applications(max_changes: int = 3, min_changes: int = 1):
    """Bundled examples with 1–3 hostile changes (0 allowed with ``min_changes=0``)."""
    return st.sampled_from(sorted(BASES)).flatmap(
        lambda base: st.builds(
            Case,
            st.just(base),
            st.lists(mutations(_leaves(BASES[base])), min_size=min_changes, max_size=max_changes).map(tuple),
        )
    )


def _one(op, paths, vals):
    base = "taiyuan-pv-storage-warehouse"
    return st.builds(lambda path, v: Case(base, (Mutation(op, path, v),)), st.sampled_from(paths), vals)


def families() -> dict:
    """Application strategies by kind of hostility, so that each cause is found on its own
    (Hypothesis shrinks a property's failures towards the simplest one)."""
    fields = _fields()
    numeric = [p for p, k in fields.items() if k in ("decimal", "integer")]
    text = [p for p, k in fields.items() if k in ("text", "label", "date")]
    base = "taiyuan-pv-storage-warehouse"
    return {
        "mixed": applications(),
        "huge-numbers": _one("value", numeric, st.one_of(st.sampled_from(HUGE).map(Raw), st.sampled_from(HUGE))),
        "text": _one("value", text, st.one_of(st.sampled_from(TEXTS), st.text(max_size=50))),
        "structure": st.one_of(
            _one("deep", _leaves(BASES[base]), st.sampled_from([100, 1000, 5000, 100_000])),
            st.builds(
                lambda v: Case(base, (Mutation("top", "", v),)),
                st.sampled_from([Raw("[]"), Raw('"x"'), Raw("1"), Raw("null"), Raw("[" * 100_000), Raw("{}"), Raw("")]),
            ),
            _one("unknown", ["", *SECTIONS], st.none()),
            _one("delete", [*_leaves(BASES[base]), *SECTIONS], st.none()),
        ),
        "bytes": st.one_of(
            st.builds(
                lambda b, at: Case(base, (Mutation("bytes", "", b, at),)),
                st.sampled_from(INVALID_UTF8),
                st.integers(0, 1000),
            ),
            st.builds(lambda at: Case(base, (Mutation("truncate", "", None, at),)), st.integers(0, 999)),
            _one(
                "control", ["enterprise.name", "application_id"], st.sampled_from(["\x01", "\x00", "\x1f", "\r", "\t"])
            ),
        ),
    }


def lenient_numbers():
    """One decimal field spelled as Decimal() accepts and JSON never writes (refused, naming it)."""
    decimal_fields = [p for p, k in _fields().items() if k == "decimal"]
    return st.builds(
        lambda base, path, text: Case(base, (Mutation("value", path, text),)),
        st.just("taiyuan-pv-storage-warehouse"),
        st.sampled_from(decimal_fields),
        st.sampled_from(LENIENT),
    )


def duplicate_keys():
    base = "taiyuan-pv-storage-warehouse"
    return st.builds(
        lambda path, value: Case(base, (Mutation("duplicate", path, value),)),
        st.sampled_from(_leaves(BASES[base])),
        st.one_of(st.sampled_from(["0", "1", "x"]), st.booleans(), st.integers(0, 10)),
    )


def _fields() -> dict:
    from engine.contract.application import FIELDS

    return FIELDS


# --- CSV: cells, rows, headers ----------------------------------------------------------------
@dataclass(frozen=True)
class CsvCase:
    """Rows of bundled examples in dotted columns; ``changes``: (row, kind, column, value)."""

    bases: tuple
    changes: tuple = ()

    def build(self) -> tuple[bytes, dict]:
        """The file's bytes and, per record (keyed by the line it ends on, as csv counts), what it
        must become: 'reject' or None (either)."""
        from engine.contract.flat import flatten

        columns = list(_fields())
        header = list(columns)
        rows = []
        for b in self.bases:
            flat = flatten(BASES[b])
            rows.append(["" if flat.get(c) is None else _csv_text(flat.get(c)) for c in columns])
        must: dict[int, str | None] = dict.fromkeys(range(1, len(rows) + 1))
        raw_cells: dict[tuple[int, int], bytes] = {}
        for row, kind, column, value in self.changes:
            r = row % len(rows)
            c = column % len(columns)
            if kind == "cell" and c < len(rows[r]):  # an earlier change may have cut the row short
                rows[r][c] = value
            elif kind == "bytes":
                raw_cells[(r, c)] = value
            elif kind == "short":
                rows[r] = rows[r][: max(0, len(columns) - 1 - c)]
                must[r + 1] = "reject"
            elif kind == "long":
                rows[r] = rows[r] + ["x"] * (1 + c % 3)
                must[r + 1] = "reject"
            elif kind == "dup_header":
                header[c] = header[(c + 1) % len(header)]
                must = dict.fromkeys(must, "reject")
            elif kind == "unknown_header":
                header[c] = "zz.unknown"
                must = dict.fromkeys(must, "reject")
        out = io.StringIO(newline="")
        w = csv.writer(out, lineterminator="\n")
        w.writerow(header)
        lines = [out.getvalue().encode()]
        ends: dict[int, int] = {}
        for r, cells in enumerate(rows):
            buf = io.StringIO(newline="")
            csv.writer(buf, lineterminator="\n").writerow(cells)
            line = encode(buf.getvalue())
            for (rr, c), junk in raw_cells.items():
                if rr == r and c < len(cells):
                    marker = encode(cells[c]) if cells[c] else None
                    if marker and marker in line:
                        line = line.replace(marker, marker + junk, 1)
            lines.append(line)
            ends[r + 1] = (ends[r] if r else lines[0].count(b"\n")) + line.count(b"\n")
        return b"".join(lines), {ends[r]: m for r, m in must.items()}

    def __repr__(self):
        shown = [(r, k, c, _short(v) if isinstance(v, str) else v) for r, k, c, v in self.changes]
        return f"CsvCase({list(self.bases)!r}, {shown!r})"


def _csv_text(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


CSV_CELLS = [
    *HUGE,
    *LENIENT,
    *NONFINITE,
    *[t for t in TEXTS if "\x00" not in t],
    '"',
    'a,"b',
    "a\nb",
    Big("x" * 1_000_000),
]


def csv_files():
    change = st.one_of(
        st.tuples(st.integers(0, 5), st.just("cell"), st.integers(0, 40), st.sampled_from(CSV_CELLS)),
        st.tuples(st.integers(0, 5), st.just("bytes"), st.integers(0, 40), st.sampled_from(INVALID_UTF8)),
        st.tuples(st.integers(0, 5), st.sampled_from(["short", "long"]), st.integers(0, 30), st.none()),
        st.tuples(st.just(0), st.sampled_from(["dup_header", "unknown_header"]), st.integers(0, 31), st.none()),
    )
    return st.builds(
        CsvCase,
        st.lists(st.sampled_from(sorted(BASES)), min_size=1, max_size=4).map(tuple),
        st.lists(change, min_size=1, max_size=3).map(tuple),
    )


# --- Parquet: column types --------------------------------------------------------------------
PARQUET_TYPES = [
    "float64",
    "float32",
    "decimal128(38,10)",
    "decimal256(76,20)",
    "decimal128(20,2)",
    "string",
    "large_string",
    "int64",
    "int8",
    "bool",
    "null",
    "binary",
    "dictionary",
    "date32",
    "timestamp",
]
NOT_PARQUET = ["empty", "text", "truncated", "random", "magic-only"]


@dataclass(frozen=True)
class ParquetCase:
    bases: tuple
    columns: tuple = ()  # (column index, arrow type name)
    broken: str | None = None  # a file that is not Parquet at all

    def build(self) -> bytes:
        import pyarrow as pa
        import pyarrow.parquet as pq

        from engine.contract.flat import flatten

        fields = _fields()
        names = list(fields)
        rows = [flatten(BASES[b]) for b in self.bases]
        changed = {names[i % len(names)]: t for i, t in self.columns}
        arrays, schema = [], []
        for n in names:
            vals = [r.get(n) for r in rows]
            arr = _arrow_column(pa, vals, fields[n], changed.get(n))
            arrays.append(arr)
            schema.append(pa.field(n, arr.type))
        table = pa.Table.from_arrays(arrays, schema=pa.schema(schema))
        buf = io.BytesIO()
        pq.write_table(table, buf)
        data = buf.getvalue()
        if self.broken == "empty":
            return b""
        if self.broken == "text":
            return b"application_id,period.start\nA,2026-01-01\n"
        if self.broken == "truncated":
            return data[: len(data) // 2]
        if self.broken == "random":
            return bytes((i * 7919) % 251 for i in range(2000))
        if self.broken == "magic-only":
            return b"PAR1" + b"\0" * 16 + b"PAR1"
        return data

    def changed(self) -> set[str]:
        names = list(_fields())
        return {names[i % len(names)] for i, _ in self.columns}

    def float_columns(self) -> set[str]:
        names = list(_fields())
        return {names[i % len(names)] for i, t in self.columns if t.startswith("float")}


def _arrow_column(pa, vals, kind, want):
    from decimal import Decimal

    base = {"boolean": pa.bool_(), "integer": pa.int64()}.get(kind, pa.string())
    if want is None:
        return pa.array([None if v is None else (str(v) if base == pa.string() else v) for v in vals], type=base)
    if want in ("float64", "float32"):
        return pa.array([_or_none(float, v) for v in vals], type=getattr(pa, want)())
    if want.startswith("decimal"):
        p, s = map(int, want[want.index("(") + 1 : -1].split(","))
        t = (pa.decimal128 if want.startswith("decimal128") else pa.decimal256)(p, s)
        out = []
        for v in vals:
            try:
                out.append(
                    None if v is None or isinstance(v, bool) else Decimal(str(v)).quantize(Decimal(1).scaleb(-s))
                )
            except Exception:
                out.append(None)
        try:
            return pa.array(out, type=t)
        except (pa.ArrowInvalid, ValueError):
            return pa.array([None] * len(vals), type=t)
    if want in ("string", "large_string", "dictionary"):
        arr = pa.array([None if v is None else _csv_text(v) for v in vals], type=pa.string())
        return (
            arr.dictionary_encode()
            if want == "dictionary"
            else arr.cast(getattr(pa, want)() if want != "string" else pa.string())
        )
    if want in ("int64", "int8"):
        ints = [_or_none(lambda x: int(Decimal(str(x))), v) for v in vals]
        return pa.array(
            [None if n is None else n % 100 if want == "int8" else n for n in ints], type=getattr(pa, want)()
        )
    if want == "bool":
        return pa.array([None if v is None else bool(v) for v in vals], type=pa.bool_())
    if want == "null":
        return pa.nulls(len(vals))
    if want == "binary":
        return pa.array([None if v is None else _csv_text(v).encode() for v in vals], type=pa.binary())
    if want == "date32":
        import datetime as dt

        return pa.array([dt.date(2026, 1, 1)] * len(vals), type=pa.date32())
    if want == "timestamp":
        import datetime as dt

        return pa.array([dt.datetime(2026, 1, 1)] * len(vals), type=pa.timestamp("us"))
    raise ValueError(want)


def _or_none(convert, value):
    """``convert(value)``, or None when the value does not convert (text in a float column)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return convert(value)
    except (ValueError, TypeError, ArithmeticError):
        return None


def parquet_files():
    bases = st.lists(st.sampled_from(sorted(BASES)), min_size=1, max_size=4).map(tuple)
    return st.one_of(
        st.builds(
            ParquetCase,
            bases,
            st.lists(st.tuples(st.integers(0, 31), st.sampled_from(PARQUET_TYPES)), min_size=1, max_size=3).map(tuple),
        ),
        st.builds(ParquetCase, bases, st.just(()), st.sampled_from(NOT_PARQUET)),
    )


# --- telemetry rows -------------------------------------------------------------------------------
TELEMETRY_KW = [*HUGE, "-1", "-0.01", "", "abc", "1e3", "NaN", "Infinity", "1_000", "\u0663", "812.50"]
TELEMETRY_TIMES = [
    "",
    "2026-13-01T00:00",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "2026-03-01T00:07",
    "2026-03-01T00:00+14:00",
    "2026-03-01T00:00Z",
    "2026-03-01",
    "yesterday",
    "2026-03-01T00:00:00.000000001",
    "1e999999999",
]


@dataclass(frozen=True)
class TelemetryCase:
    """One metered day (96 rows) with changes: (row, column, value), or raw bytes/row shapes."""

    changes: tuple = ()

    def build(self) -> bytes:
        from engine.drafting.ruletests import TELEMETRY_HEADER, telemetry_day

        rows = [r.split(",") for r in telemetry_day("2026-03-01", ("500", "100", "0"))]
        header = TELEMETRY_HEADER.split(",")
        junk = []
        for row, column, value in self.changes:
            r = rows[row % len(rows)]
            if column == "short":
                r[:] = r[:3]
            elif column == "long":
                r.append("x")
            elif column == "header":
                header[row % len(header)] = value
            elif column == "bytes":
                junk.append((row % len(rows), value))
            elif column == "duplicate":
                rows.append(list(r))
            else:
                r[column % len(r)] = value
        lines = [encode(",".join(header))] + [encode(",".join(r)) for r in rows]
        for i, b in junk:
            lines[i + 1] += b
        return b"\n".join(lines) + b"\n"

    def __repr__(self):
        return f"TelemetryCase({[(r, c, _short(v) if isinstance(v, str) else v) for r, c, v in self.changes]!r})"


def telemetry_files():
    change = st.one_of(
        st.tuples(st.integers(0, 95), st.sampled_from([2, 3, 4]), st.sampled_from(TELEMETRY_KW)),
        st.tuples(st.integers(0, 95), st.sampled_from([1, 5]), st.sampled_from(TELEMETRY_TIMES)),
        st.tuples(st.integers(0, 95), st.just(0), st.sampled_from(["", "S 1", "x" * 65, "S2", "\u202e"])),
        st.tuples(st.integers(0, 95), st.sampled_from(["short", "long", "duplicate"]), st.none()),
        st.tuples(st.integers(0, 95), st.just("bytes"), st.sampled_from(INVALID_UTF8)),
        st.tuples(
            st.integers(0, 5), st.just("header"), st.sampled_from(["", "zz", "grid_import_kw", "interval_start"])
        ),
    )
    return st.builds(TelemetryCase, st.lists(change, min_size=1, max_size=3).map(tuple))


# --- reform files --------------------------------------------------------------------------------
REFORM_FILES = sorted((ROOT / "rules/reforms").glob("*.yaml"))
REFORM_VALUES = [
    '"1e999999999"',
    "1e999999999",
    "1.0e999999999",
    Big("9" * 5000),
    '"' + "9" * 5000 + '"',
    '"-0.5"',
    "-1",
    '"1.5"',
    '"80"',
    '"1e-999999999"',
    "!!int " + '"' + "7" * 5000 + '"',
    "!!float 1e999999999",
    ".inf",
    ".nan",
    "0x" + "f" * 5000,
    "[" * 5000 + "]" * 5000,
    "&a [1]",
    "*a",
    '"0.90"',
    "null",
    '{default: "-1"}',
]
ALIAS_BOMB = (
    "formula: &a ["
    + ", ".join(['"1"'] * 9)
    + "]\n"
    + "".join(f"x{i}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8))
)


@dataclass(frozen=True)
class ReformCase:
    reform: str
    value: str | None = None  # replaces the first dated value of the reform
    extra: str | None = None  # text appended at the end (keys, an alias bomb, bytes)

    def build(self) -> bytes:
        text = (ROOT / "rules/reforms" / self.reform).read_text(encoding="utf-8")
        if self.value is not None:
            import re

            text = re.sub(
                r'(\d{4}-\d{2}-\d{2}: )("?[^\n"]*"?|\{[^\n]*\})', lambda m: m.group(1) + self.value, text, count=1
            )
        data = text.encode()
        if self.extra is not None:
            data += self.extra.encode("utf-8", "surrogatepass") if isinstance(self.extra, str) else self.extra
        return data

    def __repr__(self):
        return f"ReformCase({self.reform!r}, {_short(self.value) if self.value else None}, {_short(self.extra) if self.extra else None})"


def reform_files():
    return st.builds(
        ReformCase,
        st.sampled_from([p.name for p in REFORM_FILES]),
        st.one_of(st.none(), st.sampled_from(REFORM_VALUES)),
        st.one_of(
            st.none(),
            st.sampled_from(
                [
                    "zz_unknown: 1\n",
                    "name: again\n",
                    "\xff\n",
                    "\t- tab\n",
                    'rules:\n  packaging_levy:\n    replace:\n      amount:\n        round: "0.01"\n        '
                    + ALIAS_BOMB.replace("\n", "\n        "),
                    'parameters:\n  storage_subsidy.tier_30_rate:\n    values: {2027-01-01: "1e999999999"}\n',
                    "switch_off: [" + "[" * 3000 + "]" * 3000 + "]\n",
                ]
            ),
        ),
    )


# --- running a case in the worker ----------------------------------------------------------------
@dataclass
class Result:
    kind: str  # decided | refused | batch | timeout | other
    detail: object = None
    seconds: float = 0.0
    where: str = ""  # for "other": the last frame of the traceback


class Worker:
    """One process that runs cases; restarted after a case it had to be killed for."""

    def __init__(self):
        self.proc = None
        self.conn = None
        atexit.register(self.stop)

    def _start(self):
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        # daemon: the interpreter ends it at exit (a non-daemon child waiting for work would be joined forever)
        self.proc = ctx.Process(target=_serve, args=(child,), name="shuangtan-fuzz", daemon=True)
        self.proc.start()
        child.close()
        if not self.conn.poll(600) or self.conn.recv() != "ready":
            raise RuntimeError("the fuzz worker did not start")

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.join()
            self.proc = None

    def call(self, name: str, *args, kill_after: float = KILL_SECONDS) -> Result:
        if self.proc is None or not self.proc.is_alive():
            self._start()
        self.conn.send((name, args))
        if self.conn.poll(kill_after) and self.conn.recv() == "warming":  # not timed: compiling
            if not self.conn.poll(600) or self.conn.recv() != "warm":
                raise RuntimeError(f"the fuzz worker could not warm up for {name}")
            self.conn.send("go")
        if not self.conn.poll(kill_after):
            self.stop()
            self._start()
            return Result("timeout", f"still running after {kill_after:g} s (killed)", kill_after)
        try:
            return self.conn.recv()
        except EOFError:
            code = self.proc.exitcode if self.proc else None
            self.stop()
            return Result("other", f"the worker died (exit code {code})")


_WORKER: Worker | None = None


def worker() -> Worker:
    global _WORKER
    if _WORKER is None:
        _WORKER = Worker()
    return _WORKER


def _serve(conn):
    _engine()
    conn.send("ready")
    warmed = set()
    while True:
        try:
            name, args = conn.recv()
        except EOFError:
            return
        if name not in warmed:  # compile what this kind of case touches, before timing one
            conn.send("warming")
            _warm(name)
            warmed.add(name)
            conn.send("warm")
            conn.recv()
        else:
            conn.send("running")
        t0 = time.perf_counter()
        try:
            kind, detail = CASES[name](*args)
            result = Result(kind, detail)
        except BaseException as exc:  # noqa: BLE001 - exactly what the promise forbids: report it
            tb = traceback.extract_tb(exc.__traceback__)
            frame = tb[-1] if tb else None
            where = f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}" if frame else ""
            result = Result("other", f"{type(exc).__name__}: {_short(str(exc), 300)}", where=where)
        result.seconds = time.perf_counter() - t0
        conn.send(result)


_ENGINE = None
_BOOK = None


def _book():
    global _BOOK
    if _BOOK is None:
        from engine.rulebook.loader import load_rulebook

        _BOOK = load_rulebook()
    return _BOOK


def _engine():
    global _ENGINE
    if _ENGINE is None:
        from engine.backends.rete.engine import ReteEngine

        _ENGINE = ReteEngine.for_rulebook(_book())
    return _ENGINE


def _warm(name: str) -> None:
    """Run one valid case of a kind, untimed: the rulebook, the engine, the columnar kernel, click."""
    base = encode(dump(BASES["taiyuan-pv-storage-warehouse"]))
    warm = {
        "library": lambda: run_library(base),
        "check": lambda: run_check(base),
        "evaluate": lambda: (
            run_evaluate(base + b"\n", "jsonl", "rete"),
            run_evaluate(base + b"\n", "jsonl", "columnar"),
            run_evaluate(CsvCase(("taiyuan-pv-storage-warehouse",)).build()[0], "csv", "rete"),
            run_evaluate(CsvCase(("taiyuan-pv-storage-warehouse",)).build()[0], "csv", "columnar"),
        ),
        "parquet": lambda: run_parquet(ParquetCase(("taiyuan-pv-storage-warehouse",)).build()),
        "telemetry": lambda: run_telemetry(TelemetryCase().build()),
        "reform": lambda: run_reform(ReformCase(REFORM_FILES[0].name).build()),
        "sleep": lambda: None,
    }
    warm[name]()


def _errors(exc) -> list[tuple[str, str]]:
    return [(str(p), str(m)) for p, m in getattr(exc, "errors", [])]


def run_library(raw: bytes):
    """parse_application + decide (Rete) + the decision as JSON."""
    from engine.batch.readers import dumps_decision
    from engine.contract.application import parse_application
    from engine.errors import BadRecordError, DateNotCoveredError, InvalidApplicationError

    try:
        app = parse_application(raw)
        decision = _engine().decide(app)
        dumps_decision(decision)
    except (InvalidApplicationError, BadRecordError) as exc:
        return "refused", _errors(exc)
    except DateNotCoveredError as exc:
        return "refused", [("period.end", str(exc))]
    return "decided", decision["application_id"]


def _cli(args: list[str]):
    from click.testing import CliRunner

    from cli import main

    r = CliRunner().invoke(main, args)
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        tb = traceback.extract_tb(r.exc_info[2]) if r.exc_info else []
        frame = tb[-1] if tb else None
        where = f" at {Path(frame.filename).name}:{frame.lineno} in {frame.name}" if frame else ""
        raise RuntimeError(f"the CLI raised {type(r.exception).__name__}: {_short(str(r.exception), 200)}{where}")
    if "Traceback (most recent call last)" in r.output:
        raise RuntimeError(f"a traceback on the terminal: {_short(r.output, 300)}")
    return r


def _named(line: str) -> tuple[str, str]:
    """(path, problem) of a CLI error line: ``label (path): problem``, or ``path: problem`` for a
    path without a label (``(document)``, a list item)."""
    where, _, problem = line.partition(": ")
    labelled = re.search(r" \(([^()]+)\)$", where)
    return (labelled.group(1) if labelled else where), problem


def run_check(raw: bytes):
    """``shuangtan check FILE --format json``: exit 0 with a decision, or exit 2 naming fields."""
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "app.json"
        p.write_bytes(raw)
        r = _cli(["check", str(p), "--format", "json"])
    if r.exit_code == 0:
        return "decided", json.loads(r.stdout)["application_id"]
    if r.exit_code == 2 and "invalid application" in r.output:
        lines = [ln.strip() for ln in r.output.splitlines()[1:] if ln.startswith("  ")]
        return "refused", [_named(ln) for ln in lines]
    return "other", f"exit {r.exit_code}: {_short(r.output.strip(), 300)}"


def run_evaluate(data: bytes, fmt: str, backend: str):
    """``shuangtan evaluate`` on a file: per record (line) decided or rejected with reasons."""
    with tempfile.TemporaryDirectory() as d:
        src = Path(d) / f"in.{fmt}"
        src.write_bytes(data)
        if backend == "rete":
            out, rej = Path(d) / "out.jsonl", Path(d) / "rejects.jsonl"
            r = _cli(["evaluate", str(src), "--out", str(out), "--rejects", str(rej), "-j", "1", "--backend", "rete"])
            decided = [json.loads(x)["application_id"] for x in out.read_text().splitlines()] if out.exists() else []
            rejects = (
                [(j["line"], [e["path"] for e in j["errors"]]) for j in map(json.loads, rej.read_text().splitlines())]
                if rej.exists()
                else []
            )
        else:
            out = Path(d) / "out.csv"
            r = _cli(["evaluate", str(src), "--out", str(out), "--backend", "columnar"])
            decided, rejects = [], []
            if out.exists() and r.exit_code == 0:
                with open(out, encoding="utf-8-sig", newline="") as f:  # the BOM Excel needs
                    for row in csv.DictReader(f):
                        if row.get("error"):
                            rejects.append((int(row["line"]), [e.split(":", 1)[0] for e in row["error"].split("; ")]))
                        else:
                            decided.append(row["application_id"])
    return "batch", {
        "exit": r.exit_code,
        "decided": decided,
        "rejects": rejects,
        "message": r.output.strip()[-2000:],
    }


def run_parquet(data: bytes):
    """``shuangtan evaluate in.parquet --out out.parquet`` (the columnar path)."""
    import polars as pl

    with tempfile.TemporaryDirectory() as d:
        src, out = Path(d) / "in.parquet", Path(d) / "out.parquet"
        src.write_bytes(data)
        r = _cli(["evaluate", str(src), "--out", str(out)])
        rows = []
        if r.exit_code == 0:
            for row in pl.read_parquet(out).iter_rows(named=True):
                rows.append((row["line"], row["error"]))
    return "batch", {"exit": r.exit_code, "rows": rows, "message": r.output.strip()[-2000:]}


def run_telemetry(data: bytes):
    """read_telemetry + decide_metered on the Taiyuan example: decided or refused with problems."""
    from engine.contract.application import parse_application
    from engine.errors import InvalidTelemetryError, MeteringError
    from engine.telemetry.crosscheck import decide_metered, interval_minutes
    from engine.telemetry.reader import read_telemetry

    book = _book()
    app = parse_application(encode(dump(BASES["taiyuan-pv-storage-warehouse"])))
    try:
        tel = read_telemetry("metered.csv", interval_minutes(book, app.period.end), data=data)
        decision = decide_metered(_engine(), book, app, tel)
    except InvalidTelemetryError as exc:
        return "refused", [(w, c or "(row)") for w, c, _ in exc.problems]
    except MeteringError as exc:
        return "refused", [("(telemetry)", str(exc))]
    return "decided", decision["application_id"]


def run_reform(data: bytes):
    """load_reform + the rulebook with it + a decision: decided, or refused naming file and key."""
    from engine.errors import RulebookError
    from engine.rulebook.loader import load_rulebook
    from engine.rulebook.reforms import load_reform

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "reform.yaml"
        p.write_bytes(data)
        try:
            book = load_rulebook(None, [load_reform(p)])
            from engine.backends import decide
            from engine.contract.application import parse_application

            decision = decide(book, parse_application(encode(dump(BASES["taiyuan-pv-storage-warehouse"]))))
        except RulebookError as exc:
            return "refused", [(f"{exc.file}: {exc.key}", exc.problem)]
    return "decided", decision["application_id"]


def run_sleep(seconds: float):
    """The harness's own check: a case that does not end within its time is killed."""
    time.sleep(seconds)
    return "decided", None


CASES = {
    "sleep": run_sleep,
    "library": run_library,
    "check": run_check,
    "evaluate": run_evaluate,
    "parquet": run_parquet,
    "telemetry": run_telemetry,
    "reform": run_reform,
}


# --- the promise ---------------------------------------------------------------------------------
_CAUSES = [
    ("hang", "hang:"),
    ("slow", "took "),
    ("traceback", "a traceback"),
    ("engine-error", "engine error"),
    ("field-not-named", "refused, but naming"),
    ("no-field", "refused without naming"),
    ("bad-row-decided", "should be rejected"),
    ("records-lost", "records in"),
    ("batch-and-library-disagree", "disagree"),
    ("not-parquet-decided", "not Parquet"),
    ("float-read-as-decimal", "binary float"),
    ("exit", "exit "),
    ("accepted", "accepted"),
    ("worker-died", "worker died"),
]


def cause(reason: str) -> str:
    """A short name for why a case broke the promise: the exception it raised, else a kind."""
    import re

    m = re.search(r"raised (\w+)", reason) or re.match(r"(\w*(?:Error|Exception|Operation|Overflow|Invalid))\b", reason)
    if m:
        return m.group(1)
    return next((key for key, words in _CAUSES if words in reason), "other")


@dataclass
class Verdict:
    kind: str  # decided | refused | other
    reason: str = ""
    seconds: float = 0.0
    notes: list = field(default_factory=list)


def names_one_of(paths, expected: set[str]) -> bool:
    """True when some error path is, or is inside, or contains, one of the expected paths."""
    if "*" in expected:
        return True
    for p in paths:
        for e in expected:
            if (
                p == e
                or p.startswith(e + ".")
                or e.startswith(p + ".")
                or (e in ("(document)", "(line)") and p in ("(document)", "(line)"))
            ):
                return True
    return False


def judge(result: Result, expected: set[str] | None = None) -> Verdict:
    """The promise for one document: decided, or refused naming one of ``expected``; in time."""
    if result.kind == "timeout":
        return Verdict("other", f"hang: {result.detail}", result.seconds)
    if result.kind == "other":
        return Verdict(
            "other", f"{result.detail} ({result.where})" if result.where else str(result.detail), result.seconds
        )
    if result.seconds > CASE_SECONDS:
        return Verdict("other", f"took {result.seconds:.2f} s (more than {CASE_SECONDS:g} s)", result.seconds)
    if result.kind == "decided":
        return Verdict("decided", "", result.seconds)
    paths = [p for p, _ in result.detail]
    if not paths or not all(isinstance(p, str) and p for p in paths):
        return Verdict("other", f"refused without naming a field: {result.detail!r}", result.seconds)
    if expected and not names_one_of(paths, expected):
        return Verdict("other", f"refused, but naming {paths[:5]} instead of one of {sorted(expected)}", result.seconds)
    return Verdict("refused", "", result.seconds)


def judge_batch(result: Result, must: dict[int, str | None], library: dict[int, str] | None = None) -> Verdict:
    """The promise for a batch: exit 0, every record decided or rejected (with its line and
    reasons), records that must be rejected rejected, and the same verdicts as the library."""
    if result.kind in ("timeout", "other"):
        return judge(result)
    if result.seconds > CASE_SECONDS:
        return Verdict("other", f"took {result.seconds:.2f} s (more than {CASE_SECONDS:g} s)", result.seconds)
    b = result.detail
    if b["exit"] != 0:
        return Verdict("other", f"exit {b['exit']}: {b['message']}", result.seconds)
    rejected = {line for line, _ in b["rejects"]}
    total = len(b["decided"]) + len(b["rejects"])
    if total != len(must):
        return Verdict("other", f"{len(must)} records in, {total} out ({len(b['rejects'])} rejected)", result.seconds)
    for line, paths in b["rejects"]:
        if not paths or not all(paths):
            return Verdict("other", f"line {line} rejected without a reason", result.seconds)
    missed = sorted(n for n, m in must.items() if m == "reject" and n not in rejected)
    if missed:
        return Verdict(
            "other", f"lines {missed} should be rejected (ragged or bad header) but were decided", result.seconds
        )
    if library is not None:
        differ = sorted(n for n, v in library.items() if (v == "refused") != (n in rejected))
        if differ:
            return Verdict(
                "other",
                f"lines {differ}: the batch and parse_application disagree "
                f"(batch rejected {sorted(rejected)}, library refused {sorted(n for n, v in library.items() if v == 'refused')})",
                result.seconds,
            )
    return Verdict("refused" if rejected else "decided", "", result.seconds)
