"""Columnar reading of application rows: exact mantissas and a conservative validity mask.

The mask is *sound*, not complete: a row in it is certainly valid under the contract model
(engine/contract/application.py), because every constraint is read from that model's own metadata
(Gt/Ge/Le, money places, patterns, lengths, defaults) and checked on whole columns. A row
outside it (bad value, unusual spelling such as "1e3" or "+5", unexpected column type) is
handed to the Rete path, which decides it or names its errors exactly as ``check`` does.
"""

from __future__ import annotations

import typing
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

import annotated_types as at
import numpy as np
import polars as pl
import pyarrow as pa
from pydantic import BaseModel

from engine.contract import application as appmodel
from engine.contract.application import (
    FIELDS,
    SECTIONS,
    UNSAFE_TEXT_CLASS,
    USCC_ALPHABET,
    USCC_WEIGHTS,
    check_credit_code,
    check_money,
    exact_decimal,
)

# the spellings of a decimal and a date given as text that both paths read (others: the Rete path)
DECIMAL_TEXT = r"^-?[0-9]{1,18}(\.[0-9]{1,12})?$"
DATE_TEXT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_INTS = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32)


@dataclass
class Rule:
    """The contract's constraints on one field, read from the pydantic model."""

    kind: str
    required: bool  # within its section (or the document)
    # numbers from the model's metadata (Decimal or int; a default may also be a bool or a text)
    default: Any = None
    gt: Any = None
    ge: Any = None
    le: Any = None
    money: bool = False
    pattern: str | None = None
    min_len: int | None = None
    max_len: int | None = None
    credit_code: bool = False
    choices: tuple = ()
    unknown_check: bool = False  # a validator we cannot vectorise: route rows to Rete


def _rules(model: type[BaseModel]) -> dict[str, Rule]:
    out = {}
    for path, info in appmodel.leaf_fields(model):
        ann = info.annotation
        r = Rule(kind=FIELDS[path], required=info.is_required(), default=None if info.is_required() else info.default)
        if typing.get_origin(ann) is typing.Literal:
            r.choices = typing.get_args(ann)
        for m in info.metadata:
            if isinstance(m, at.Gt):
                r.gt = m.gt
            elif isinstance(m, at.Ge):
                r.ge = m.ge
            elif isinstance(m, at.Le):
                r.le = m.le
            elif isinstance(m, at.MinLen):
                r.min_len = m.min_length
            elif isinstance(m, at.MaxLen):
                r.max_len = m.max_length
            elif getattr(m, "pattern", None):
                r.pattern = m.pattern
            elif getattr(m, "func", None) is check_money:
                r.money = True
            elif getattr(m, "func", None) is check_credit_code:
                r.credit_code = True
            elif getattr(m, "func", None) is exact_decimal or type(m).__name__ == "Strict":
                pass
            else:
                r.unknown_check = True
        out[path] = r
    return out


RULES: dict[str, Rule] = _rules(appmodel.Application)
SECTION_FIELDS = {s: [p for p in FIELDS if p.startswith(s + ".")] for s in SECTIONS}


@dataclass
class Prepared:
    """The rows that the columnar path decides, with exact numeric columns."""

    frame: pl.DataFrame  # __row, application_id, region, size, __end, __m:*, __b:*, __p:*
    scales: dict = field(default_factory=dict)  # numeric field -> decimal scale of its mantissa
    bounds: dict = field(default_factory=dict)  # numeric field -> max |mantissa|
    fallback: pl.DataFrame | None = None  # the original rows for the Rete path (with __row)
    checked: Any = None  # the native kernel's validation of the same rows (kernel.Checked)


def _absent(df: pl.DataFrame, path: str) -> pl.Expr:
    if path not in df.columns:
        return pl.lit(True)
    c = pl.col(path)
    if df.schema[path] == pl.Utf8:
        return c.is_null() | (c == "")
    return c.is_null()


def credit_code_mask(series: pl.Series) -> pl.Series:
    """GB 32100-2015 check character of every code, on a byte matrix (a per-character
    Polars expression costs seconds per million rows; this costs milliseconds)."""
    result = np.zeros(series.len(), dtype=bool)
    raw = series.to_arrow()
    raw = raw.cast(pa.large_string()) if not pa.types.is_large_string(raw.type) else raw
    if isinstance(raw, pa.ChunkedArray):
        raw = pa.concat_arrays(raw.chunks) if raw.num_chunks != 1 else raw.chunk(0)
    if not len(raw):
        return pl.Series(result)
    offsets = np.frombuffer(raw.buffers()[1], dtype=np.int64)[raw.offset : raw.offset + len(raw) + 1]
    lengths = np.diff(offsets)
    present = ~np.asarray(raw.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    data = np.frombuffer(raw.buffers()[2], dtype=np.uint8) if raw.buffers()[2] is not None else np.zeros(0, np.uint8)
    if (lengths == 18).all():  # the common case: the byte matrix is the data buffer itself
        rows = np.arange(len(raw))
        matrix = data[offsets[0] : offsets[0] + 18 * len(raw)].reshape(-1, 18)
    else:
        rows = np.flatnonzero(lengths == 18)
        matrix = data[offsets[rows][:, None] + np.arange(18)] if rows.size else np.zeros((0, 18), np.uint8)
    value = USCC_BYTE_VALUE[np.ascontiguousarray(matrix.T)]  # 18 x n, contiguous rows
    shaped = (value[:8] < 10).all(axis=0) & (value[8:] < 31).all(axis=0)
    total = np.zeros(value.shape[1], dtype=np.int32)
    for i, w in enumerate(USCC_WEIGHTS):
        total += value[i] * np.int32(w)
    result[rows] = shaped & (((31 - total % 31) % 31) == value[17])
    return pl.Series(result & present)


#: A byte's value in the credit-code alphabet, 99 for a byte outside it.
USCC_BYTE_VALUE = np.full(256, 99, dtype=np.uint8)
for _v, _ch in enumerate(USCC_ALPHABET):
    USCC_BYTE_VALUE[ord(_ch)] = _v


def unsafe_text_rows(df: pl.DataFrame) -> np.ndarray:
    """Rows with text parse_application refuses (NUL, bidirectional controls) in any column:
    the native kernel does not look for them, so they take the careful path, which refuses them."""
    texts = [pl.col(c).str.contains(UNSAFE_TEXT_CLASS).fill_null(False) for c, t in df.schema.items() if t == pl.Utf8]
    if not texts:
        return np.zeros(df.height, dtype=bool)
    return df.select(pl.any_horizontal(texts)).to_series().to_numpy()


def _text_ok(df, path, rule: Rule) -> pl.Expr:
    if path not in df.columns or df.schema[path] != pl.Utf8 or rule.unknown_check:
        return pl.lit(False)
    c = pl.col(path)
    ok = ~c.str.contains(UNSAFE_TEXT_CLASS)  # what parse_application refuses in any text
    if rule.pattern:
        ok = ok & c.str.contains(rule.pattern)
    if rule.min_len is not None:
        ok = ok & (c.str.len_chars() >= rule.min_len)
    if rule.max_len is not None:
        ok = ok & (c.str.len_chars() <= rule.max_len)
    if rule.credit_code:
        ok = ok & pl.col("__cc_ok")
    if rule.choices:
        ok = ok & c.is_in(list(rule.choices))
    return ok


def _date(df, path):
    """(date expression, ok expression) for a date column given as Date or ISO text."""
    if path not in df.columns:
        return pl.lit(None, dtype=pl.Date), pl.lit(False)
    c = pl.col(path)
    if df.schema[path] == pl.Date:
        return c, c.is_not_null()
    if df.schema[path] == pl.Utf8:
        d = pl.when(c.str.contains(DATE_TEXT)).then(c).str.to_date("%Y-%m-%d", strict=False)
        return d, d.is_not_null()
    return pl.lit(None, dtype=pl.Date), pl.lit(False)


def _mantissa(df, path, kind):
    """(mantissa expression Int128, scale, format-ok expression) of a numeric column."""
    if path not in df.columns:
        return pl.lit(None, dtype=pl.Int128), 0, pl.lit(False)
    c, dtype = pl.col(path), df.schema[path]
    if dtype in _INTS or dtype == pl.UInt64 or dtype == pl.Int128:
        return c.cast(pl.Int128), 0, c.is_not_null()
    if kind == "decimal" and isinstance(dtype, pl.Decimal):
        return c.to_physical(), dtype.scale, c.is_not_null()
    if kind == "decimal" and dtype == pl.Utf8:
        ok = c.str.contains(DECIMAL_TEXT)
        places = c.str.extract(r"\.([0-9]+)$", 1).str.len_chars().fill_null(0)
        scale = df.select(pl.when(ok).then(places).max()).item() or 0
        return pl.when(ok).then(c).str.to_decimal(scale=scale).to_physical(), scale, ok.fill_null(False)
    return pl.lit(None, dtype=pl.Int128), 0, pl.lit(False)


def _range_ok(m: pl.Expr, scale: int, rule: Rule) -> pl.Expr:
    one = 10**scale
    ok = pl.lit(True)
    if rule.gt is not None:
        ok = ok & (m > int(rule.gt) * one)
    if rule.ge is not None:
        ok = ok & (m >= int(rule.ge) * one)
    if rule.le is not None:
        ok = ok & (m <= int(rule.le) * one)
    if rule.money and scale > 2:
        ok = ok & (m % 10 ** (scale - 2) == 0)
    return ok


def _narrow(df: pl.DataFrame, paths: list[str], wide: AbstractSet[str]) -> set[str]:
    """Numeric columns read as Int64 at once: integer columns, and 128-bit ones (Decimal) unless
    ``wide`` (a value did not fit: see the overflow flags in ``prepare``)."""
    return {
        p
        for p in paths
        if p in df.columns
        and p not in wide
        and (df.schema[p] in _INTS or df.schema[p] in (pl.UInt64, pl.Int128) or isinstance(df.schema[p], pl.Decimal))
    }


class _Deferred:
    """``prepare(df)`` done on first use: the native kernel checks validity itself, so a caller
    that prepares ahead (simulate shares one per chunk) pays only when the Polars path runs."""

    def __init__(self, df: pl.DataFrame):
        self._df = df
        self._done: Prepared | None = None
        self.checked: Any = None  # the native kernel's own validation, shared the same way

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        if self._done is None:
            self._done = prepare_now(self._df)
        return getattr(self._done, name)


def prepare(df: pl.DataFrame) -> Prepared:
    """Split rows into the columnar set (valid for certain) and the rest, with exact columns,
    when first needed (see ``_Deferred``)."""
    return typing.cast(Prepared, _Deferred(df))  # (it answers every attribute of Prepared)


def prepare_now(df: pl.DataFrame, wide: frozenset = frozenset()) -> Prepared:
    """Split rows into the columnar set (valid for certain) and the rest, with exact columns."""
    source = df
    df = df.with_row_index("__row")
    for path in FIELDS:
        if path in df.columns and isinstance(df.schema[path], (pl.Categorical, pl.Enum)):
            df = df.with_columns(pl.col(path).cast(pl.Utf8))
    cc = next(p for p, r in RULES.items() if r.credit_code)
    cc_ok = credit_code_mask(df.get_column(cc)) if cc in df.columns and df.schema[cc] == pl.Utf8 else None
    numeric = [p for p, k in FIELDS.items() if k in ("decimal", "integer")]
    narrow = _narrow(df, numeric, wide)
    exprs, checks, valid, scales, overflow = {}, {}, [], {}, {}
    # One lazy plan: each flag is a named column computed once (Polars does not reliably share
    # a sub-expression repeated across many expressions), then combined by name.
    for path in FIELDS:
        checks[f"__a:{path}"] = _absent(df, path)
    present = {s: ~pl.all_horizontal([pl.col(f"__a:{p}") for p in SECTION_FIELDS[s]]) for s in SECTIONS[:-1]}
    for path, kind in FIELDS.items():
        rule = RULES[path]
        section = path.split(".")[0] if path.split(".")[0] in SECTIONS else None
        absent = pl.col(f"__a:{path}")
        if kind in ("decimal", "integer"):
            m, scale, fmt = _mantissa(df, path, kind)
            if path in narrow and df.schema[path] not in _INTS:
                m128, m = m, m.cast(pl.Int64, strict=False)
                overflow[f"__ovf:{path}"] = m.is_null() & m128.is_not_null()
            ok = fmt & _range_ok(m, scale, rule) & pl.lit(not rule.unknown_check)
            if rule.default is not None:
                # null here means absent or malformed; a malformed row is invalid anyway
                m = m.fill_null(int(rule.default) * 10**scale)
            exprs[f"__m:{path}"] = m
            scales[path] = scale
        elif kind == "boolean":
            good_type = path in df.columns and df.schema[path] == pl.Boolean
            ok = pl.lit(good_type)
            if good_type:
                b = pl.col(path)
                if rule.default is not None:
                    b = b.fill_null(bool(rule.default))
                exprs[f"__b:{path}"] = b
            else:
                exprs[f"__b:{path}"] = pl.lit(rule.default if rule.default is not None else None, dtype=pl.Boolean)
        elif kind == "date":
            d, ok = _date(df, path)
            exprs[f"__d:{path}"] = d
        else:
            ok = _text_ok(df, path, rule)
        checks[f"__ok:{path}"] = ok.fill_null(False)
        ok = pl.col(f"__ok:{path}")
        # Absent is fine for an optional field or inside an absent section, never otherwise.
        if section in present:
            valid.append(pl.when(absent).then(~pl.col(f"__p:{section}")).otherwise(ok))
        elif not rule.required:
            valid.append(absent | ok)
        else:
            valid.append(~absent & ok)
    lf = df.lazy()
    if cc_ok is not None:
        lf = lf.with_columns(cc_ok.alias("__cc_ok"))
    else:
        lf = lf.with_columns(__cc_ok=pl.lit(False))
    lf = lf.with_columns(**checks).with_columns(**{f"__p:{s}": v for s, v in present.items()})
    text = {
        p: (pl.col(p) if p in df.columns else pl.lit(None, dtype=pl.Utf8))
        for p in ("application_id", "enterprise.region_code", "enterprise.size")
    }
    lf = lf.with_columns(__valid=pl.all_horizontal(valid), **exprs)
    start, end = pl.col("__d:period.start"), pl.col("__d:period.end")
    staged = lf.select(
        "__row",
        application_id=text["application_id"],
        region=text["enterprise.region_code"],
        size=text["enterprise.size"],
        __end=end,
        **{k: pl.col(k) for k in exprs if k not in ("__d:period.start", "__d:period.end")},
        **{f"__p:{s}": pl.col(f"__p:{s}") for s in present},
        **overflow,
        __valid=(pl.col("__valid") & (start <= end) & ((end - start).dt.total_days() + 1 <= 366)).fill_null(False),
    ).collect(engine="in-memory")
    if overflow:
        flags = staged.select(pl.col(k).any() for k in overflow).row(0, named=True)
        too_big = {k[len("__ovf:") :] for k, v in flags.items() if v}
        if too_big:  # rare: read those columns as Int128 instead
            return prepare_now(source, wide | frozenset(too_big))
        staged = staged.drop(*overflow)
    all_valid = bool(staged.get_column("__valid").all())
    fast = staged if all_valid else staged.filter(pl.col("__valid"))
    slow_rows = None if all_valid else staged.filter(~pl.col("__valid")).get_column("__row")
    maxima = (
        fast.select([pl.col(f"__m:{p}").abs().max().alias(p) for p in numeric]).row(0)
        if fast.height
        else [0] * len(numeric)
    )
    bounds = {p: int(v or 0) for p, v in zip(numeric, maxima)}
    small = {
        f"__m:{p}": pl.col(f"__m:{p}").cast(pl.Int64)
        for p in numeric
        if bounds[p] < 2**62 and fast.schema[f"__m:{p}"] != pl.Int64
    }
    fast = (fast.with_columns(**small) if small else fast).drop("__valid")
    fallback = (
        df.filter(pl.col("__row").is_in(slow_rows.implode())).select(
            [c for c in df.columns if not c.startswith("__") or c == "__row"]
        )
        if slow_rows is not None
        else None
    )
    return Prepared(frame=fast, scales=scales, bounds=bounds, fallback=fallback)
