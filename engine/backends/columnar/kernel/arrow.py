"""What the kernel reads: a frame's Arrow buffers in place, and each field's contract rule
as metadata rows the compiled validation switches on (kernel/validation.py).

Values the kernel does not read (a spelling such as "1e3", a float column, a pattern beyond a
byte class) mark their rows ``bad``: the careful path decides those.
"""

from __future__ import annotations

import re

import numpy as np
import polars as pl
import pyarrow as pa

from engine.backends.columnar.inputs import DATE_TEXT, DECIMAL_TEXT, RULES
from engine.backends.columnar.kernel.layout import BOOLEAN, DATES, LABEL_FIELDS, NUMERIC, TEXT, section_of
from engine.contract.application import FIELDS

_INTS = (pl.Int8, pl.Int16, pl.Int32, pl.UInt8, pl.UInt16, pl.UInt32)
_EMPTY_U8 = np.zeros(0, dtype=np.uint8)
_EMPTY_I64 = np.zeros(0, dtype=np.int64)
_EMPTY_I32 = np.zeros(0, dtype=np.int32)
for _a in (_EMPTY_U8, _EMPTY_I64, _EMPTY_I32):  # read-only, like the Arrow buffers beside them
    _a.setflags(write=False)

# --- simple patterns ------------------------------------------------------------------
_SIMPLE = re.compile(r"^\^\[([^\]\\]+)\]\{([0-9]+)(?:,([0-9]+))?\}\$$")


def byte_class(pattern: str):
    """(table of 256 allowed bytes, min, max) for ``^[class]{m,n}$`` over ASCII, else None."""
    m = _SIMPLE.match(pattern)
    if not m:
        return None
    body, lo = m.group(1), int(m.group(2))
    hi = int(m.group(3)) if m.group(3) is not None else lo
    table = np.zeros(256, dtype=np.uint8)
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            a, b = ord(body[i]), ord(body[i + 2])
            if a > b or b > 127:
                return None
            table[a : b + 1] = 1
            i += 3
        else:
            if ord(body[i]) > 127 or body[i] == "^" and i == 0:
                return None
            table[ord(body[i])] = 1
            i += 1
    return table, lo, hi


def _bitmap(arr: pa.Array):
    """(validity bitmap as uint8, has one)."""
    buf = arr.buffers()[0]
    if buf is None or arr.null_count == 0:
        return _EMPTY_U8, 0
    return np.frombuffer(buf, dtype=np.uint8), 1


def _joined(bufs: list) -> tuple:
    """The data buffers of a string-view column as one array, and where each begins (a copy of
    the long strings' bytes: numba reads one plain array in a tight loop, a list's items not)."""
    starts = np.zeros(len(bufs) + 1, dtype=np.int64)
    starts[1:] = np.cumsum([len(b) for b in bufs])
    data = np.concatenate(bufs) if bufs else _EMPTY_U8
    data.setflags(write=False)
    starts.setflags(write=False)
    return data, starts


def _single(series: pl.Series, views: bool = False) -> pa.Array:
    # Polars' own string layout (views) is handed over without a copy; the older large_string
    # layout would copy every string.
    arr = series.to_arrow(compat_level=pl.CompatLevel.newest()) if views else series.to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = pa.concat_arrays(arr.chunks) if arr.num_chunks != 1 else arr.chunk(0)
    return arr


def _absent_expr(frame: pl.DataFrame, path: str) -> pl.Expr:
    c = pl.col(path)
    return (c.is_null() | (c == "")) if frame.schema[path] == pl.Utf8 else c.is_null()


class Inputs:
    """Everything the kernel reads, with ``bad``: rows to leave to the careful path (a value in
    a spelling or type the kernel does not read, e.g. "1e3" or a float column)."""

    def __init__(self, frame: pl.DataFrame):
        self.n = frame.height
        self.keep: list[pa.Array] = []  # Arrow arrays whose buffers the kernel reads
        bad: list[pl.Series] = []  # per reader: rows to leave to the careful path
        casts = {}
        schema = frame.schema  # looked up once: each .schema builds a new one
        for path in FIELDS:
            if isinstance(schema.get(path), (pl.Categorical, pl.Enum)):
                casts[path] = pl.col(path).cast(pl.Utf8)
        if casts:
            frame = frame.with_columns(**casts)
        self.frame = frame
        schema = frame.schema
        self._read_numeric(frame, schema, bad)
        self._read_booleans(frame, schema, bad)
        self._read_dates(frame, schema)
        self._read_texts(frame, schema, bad)
        if bad:
            flags = pl.DataFrame([b.alias(f"b{i}") for i, b in enumerate(bad)])
            self.bad = np.array(
                flags.select(pl.any_horizontal(pl.all()).fill_null(True)).to_series().to_numpy(), dtype=np.uint8
            )
            self.bad.setflags(write=False)  # one compiled signature: read-only like the rest
        else:
            self.bad = _EMPTY_U8

    def _read_numeric(self, frame: pl.DataFrame, schema, bad: list) -> None:
        """Numeric columns: Int64 values or Decimal128 mantissas (a decimal text converted), range metadata."""
        self.scales: dict[str, int] = {}
        num_data: list[np.ndarray] = []
        num_valid: list[np.ndarray] = []
        num_meta: list[tuple] = []
        num_rng: list[list[int]] = []
        for path in NUMERIC:
            rule, kind = RULES[path], FIELDS[path]
            arr, scale = None, 0
            if path in schema and not rule.unknown_check:
                dtype = schema[path]
                s = frame.get_column(path)
                if isinstance(dtype, pl.Decimal) and kind == "decimal":
                    arr, scale = _single(s), dtype.scale
                elif dtype == pl.Int64 or dtype in _INTS:
                    arr = _single(s if dtype == pl.Int64 else s.cast(pl.Int64))
                elif dtype == pl.Utf8 and kind == "decimal":
                    c = pl.col(path)
                    fmt = c.str.contains(DECIMAL_TEXT).fill_null(False)
                    places = c.str.extract(r"\.([0-9]+)$", 1).str.len_chars().fill_null(0)
                    scale = frame.select(pl.when(fmt).then(places).max()).item() or 0
                    conv = frame.select(
                        pl.when(fmt).then(c).str.to_decimal(scale=scale).alias("d"),
                        (~fmt & ~_absent_expr(frame, path)).alias("bad"),
                    )
                    arr = _single(conv.get_column("d").cast(pl.Decimal(38, scale)))
                    bad.append(conv.get_column("bad"))
            if arr is not None and pa.types.is_decimal(arr.type) and not pa.types.is_decimal128(arr.type):
                arr = None  # another decimal width: left to the careful path
            if arr is None:
                if path in schema:
                    bad.append(frame.select(~_absent_expr(frame, path)).to_series())
                num_data.append(_EMPTY_I64)
                num_valid.append(_EMPTY_U8)
                num_meta.append((0, 0, 0))
            else:
                self.keep.append(arr)
                wide = pa.types.is_decimal(arr.type)
                data = np.frombuffer(arr.buffers()[1], dtype=np.int64)
                bm, has = _bitmap(arr)
                num_data.append(data)
                num_valid.append(bm)
                num_meta.append((2 if wide else 1, has, arr.offset))
            self.scales[path] = scale
            one = 10**scale
            rng = [0] * 7
            if rule.gt is not None:
                rng[0], rng[1] = 1, int(rule.gt) * one
            if rule.ge is not None:
                rng[2], rng[3] = 1, int(rule.ge) * one
            if rule.le is not None:
                rng[4], rng[5] = 1, int(rule.le) * one
            if rule.money and scale > 2:
                rng[6] = 10 ** (scale - 2)
            num_rng.append(rng)
            default = 0 if rule.default is None else int(rule.default) * one
            num_meta[-1] = (*num_meta[-1], int(rule.required), section_of(path), int(rule.default is not None), default)
        self.num = (
            tuple(num_data),
            tuple(num_valid),
            np.array(num_meta, dtype=np.int64).reshape(-1, 7),
            np.array(num_rng, dtype=np.int64).reshape(-1, 7),
        )

    def _read_booleans(self, frame: pl.DataFrame, schema, bad: list) -> None:
        """Boolean columns: Arrow's bits."""
        bool_data: list[np.ndarray] = []
        bool_valid: list[np.ndarray] = []
        bool_meta: list[tuple] = []
        for path in BOOLEAN:
            rule = RULES[path]
            meta: tuple = (0, 0, 0)
            data = valid = _EMPTY_U8
            if path in schema and schema[path] == pl.Boolean:
                arr = _single(frame.get_column(path))
                self.keep.append(arr)
                data = np.frombuffer(arr.buffers()[1], dtype=np.uint8)
                valid, has = _bitmap(arr)
                meta = (1, has, arr.offset)
            elif path in schema:
                bad.append(frame.select(~_absent_expr(frame, path)).to_series())
            bool_data.append(data)
            bool_valid.append(valid)
            bool_meta.append(
                (*meta, int(rule.required), section_of(path), int(rule.default is not None), int(bool(rule.default)))
            )
        self.bool = (tuple(bool_data), tuple(bool_valid), np.array(bool_meta, dtype=np.int64).reshape(-1, 7))

    def _read_dates(self, frame: pl.DataFrame, schema) -> None:
        """Date columns (ISO text converted): days since 1970."""
        date_data: list[np.ndarray] = []
        date_valid: list[np.ndarray] = []
        date_meta: list[tuple] = []
        self.end: pl.Series | None = None  # the period ends, as dates (None: no such column)
        for path in DATES:
            s: pl.Series | None = None
            if path in schema:
                dtype = schema[path]
                if dtype == pl.Date:
                    s = frame.get_column(path)
                elif dtype == pl.Utf8:
                    c = pl.col(path)
                    s = frame.select(
                        pl.when(c.str.contains(DATE_TEXT)).then(c).str.to_date("%Y-%m-%d", strict=False)
                    ).to_series()
            if s is None:
                date_data.append(_EMPTY_I32)
                date_valid.append(_EMPTY_U8)
                date_meta.append((0, 0, 0))
                continue
            if path == "period.end":
                self.end = s
            arr = _single(s)
            self.keep.append(arr)
            date_data.append(np.frombuffer(arr.buffers()[1], dtype=np.int32))
            bm, has = _bitmap(arr)
            date_valid.append(bm)
            date_meta.append((1, has, arr.offset))
        self.dates = (tuple(date_data), tuple(date_valid), np.array(date_meta, dtype=np.int64))

    def _read_texts(self, frame: pl.DataFrame, schema, bad: list) -> None:
        """Text columns as string views, their checks as metadata, simple patterns as byte tables."""
        self.strings: list[str] = []
        txt_v32, txt_v8, txt_data, txt_starts, txt_valid = [], [], [], [], []
        txt_meta: list[list[int]] = []
        pats: list[tuple] = []
        self.label_slots: dict[str, int] = {}
        for path in TEXT:
            rule = RULES[path]
            meta = [
                0,
                0,
                0,
                int(rule.required),
                section_of(path),
                -1,
                -1 if rule.min_len is None else rule.min_len,
                -1 if rule.max_len is None else rule.max_len,
                int(rule.credit_code),
                0,
                0,
                -1,
                0,
                0,
            ]
            v32, v8, valid = _EMPTY_I32, _EMPTY_U8, _EMPTY_U8
            bufs: list[np.ndarray] = []
            simple = byte_class(rule.pattern) if rule.pattern else None
            if path in schema and schema[path] == pl.Utf8 and not rule.unknown_check:
                arr = _single(frame.get_column(path), views=True)
                if not pa.types.is_string_view(arr.type):
                    arr = arr.cast(pa.string_view())
                self.keep.append(arr)
                v32 = np.frombuffer(arr.buffers()[1], dtype=np.int32)
                v8 = np.frombuffer(arr.buffers()[1], dtype=np.uint8)
                bufs = [np.frombuffer(b, dtype=np.uint8) for b in arr.buffers()[2:]]
                valid, has = _bitmap(arr)
                meta[0:3] = [1, has, arr.offset]
                if rule.pattern and simple is None:  # a pattern the byte table cannot express
                    bad.append(
                        frame.select(
                            ~_absent_expr(frame, path) & ~pl.col(path).str.contains(rule.pattern).fill_null(False)
                        ).to_series()
                    )
            elif path in schema:
                bad.append(frame.select(~_absent_expr(frame, path)).to_series())
            if simple is not None:
                meta[5] = len(pats)
                pats.append(simple)
            if rule.choices:
                meta[9], meta[10] = len(self.strings), len(rule.choices)
                self.strings += list(rule.choices)
            if path in LABEL_FIELDS:
                meta[11] = self.label_slots[path] = LABEL_FIELDS.index(path)  # the program's order
            txt_v32.append(v32)
            txt_v8.append(v8)
            # Long strings' bytes are joined only where every one is read; a column read only
            # now and then (a name beyond its byte-length bound) leaves those rows to the careful path.
            data, starts = _joined(
                bufs if rule.pattern or rule.credit_code or rule.choices or path in LABEL_FIELDS else []
            )
            txt_data.append(data)
            txt_starts.append(starts)
            txt_valid.append(valid)
            txt_meta.append(meta)
        self.txt_meta = np.array(txt_meta, dtype=np.int64)
        self.txt = (tuple(txt_v32), tuple(txt_v8), tuple(txt_data), tuple(txt_starts), tuple(txt_valid))
        pats = pats or [(np.zeros(256, dtype=np.uint8), 0, 0)]  # a placeholder row when none
        self.pat_tab = np.array([p[0] for p in pats], dtype=np.uint8).reshape(-1, 256)
        self.pat_len = np.array([(p[1], p[2]) for p in pats], dtype=np.int64).reshape(-1, 2)

    def with_labels(self, labels: dict):
        """The string table (choices, then each label field's labels) and the text metadata."""
        strings = list(self.strings)
        meta = self.txt_meta.copy()
        for k, path in enumerate(TEXT):
            if path in labels:
                meta[k, 12], meta[k, 13] = len(strings), len(labels[path])
                strings += list(labels[path])
        raw = [s.encode() for s in strings]
        offs = np.zeros(len(raw) + 1, dtype=np.int64)
        offs[1:] = np.cumsum([len(b) for b in raw])
        blob = np.frombuffer(b"".join(raw) or b"\0", dtype=np.uint8)
        keys = np.array(
            [int.from_bytes(b, "little") | len(b) << 56 if len(b) <= 7 else -1 for b in raw] or [-1], dtype=np.int64
        )
        return meta, blob, offs, keys
