"""The columnar backend: the rulebook's compiled tree turned into Polars expressions.

The same rule files, the same tree (engine/rulebook/expressions.py) as the Rete engine; no rule is
written here. Each outcome becomes a handful of columns, mirroring the Rete network rule by
rule: a named exemption fires when it fails and every earlier one passes; a table row is the
first whose ``input ≥ min`` holds; every failing criterion is a reason, in file order; a
granted amount is rounded half up once, then capped (adding ``CAPPED``).

Numbers are exact rationals of integer columns (engine/backends/columnar/exact.py). Parameters are
resolved per ``period.end``: rows are grouped by the parameter set in force, so within a group
every parameter is a constant folded at compile time. Rows the columnar path cannot vouch for
(invalid, unusual spellings, uncovered dates, magnitudes beyond Int128) are decided by the Rete
path, so the result is the Rete result for every row (``shuangtan verify-backends``).
"""

from __future__ import annotations

from fractions import Fraction
from math import lcm

import numpy as np
import polars as pl
import pyarrow as pa

from engine.backends.columnar import exact as qx
from engine.backends.columnar.exact import ColumnOverflow, Q
from engine.backends.columnar.inputs import Prepared, prepare_now, unsafe_text_rows
from engine.backends.rows import decide_rows_rete
from engine.contract.flat import result_columns
from engine.errors import DateNotCoveredError
from engine.rulebook.comparisons import COMPARISONS
from engine.rulebook.expressions import (
    All,
    AnyOf,
    Arith,
    Compare,
    Const,
    Field,
    Hit,
    Label,
    Lookup,
    Not,
    Param,
    Present,
    Status,
    TableOutput,
    Truth,
    Var,
)
from engine.rulebook.loader import Rulebook

_LABEL_COLUMN = {"enterprise.size": "size", "enterprise.region_code": "region"}


class _Scope:
    def __init__(self) -> None:
        self.vars: dict[str, Q] = {}
        self.tables: dict[str, Q] = {}
        self.table_defs: dict = {}


class _Compiler:
    """Terms to exact rationals, tests to (passes, fails) boolean expressions (never null).

    A test on a missing value neither passes nor fails, as a Rete pattern on an absent fact
    attribute matches neither way.
    """

    def __init__(self, params: dict, prep: Prepared, book: Rulebook):
        self.params = params
        self.prep = prep
        self.book = book

    # --- terms -----------------------------------------------------------------
    def term(self, node, scope: _Scope) -> Q:
        if isinstance(node, Field):
            p = node.path
            return qx.column(pl.col(f"__m:{p}"), self.prep.scales[p], self.prep.bounds[p])
        if isinstance(node, Const):
            return qx.const(node.number)
        if isinstance(node, Param):
            return qx.const(self.params[node.name])
        if isinstance(node, Var):
            return scope.vars[node.name]
        if isinstance(node, TableOutput):
            return scope.tables[node.table]
        if isinstance(node, Lookup):
            return self._lookup(node)
        if isinstance(node, Arith):
            return node.fold([self.term(a, scope) for a in node.args], qx.q_add, qx.q_mul, qx.q_div, qx.q_pick)
        raise TypeError(f"not a numeric term: {node!r}")

    def _lookup(self, node: Lookup) -> Q:
        table = {k: Fraction(v) for k, v in self.params[node.param].items()}
        default = table.pop("default")
        if all(v == default for v in table.values()):
            return qx.const(default)
        L = lcm(default.denominator, *[v.denominator for v in table.values()])
        nums = {k: v.numerator * (L // v.denominator) for k, v in table.items()}
        dnum = default.numerator * (L // default.denominator)
        bound = max([abs(dnum), *map(abs, nums.values())])
        expr = pl.col(_LABEL_COLUMN[node.key.path]).replace_strict(
            nums, default=dnum, return_dtype=pl.Int64 if bound < 2**62 else pl.Int128
        )
        return Q(expr, L, bound, L)

    # --- tests -----------------------------------------------------------------
    def test(self, node, scope: _Scope):
        """(passes, fails) boolean expressions."""
        if isinstance(node, Compare):
            if isinstance(node.right, Label):
                col = pl.col(_LABEL_COLUMN[node.left.path])
                eq = (col == node.right.text).fill_null(False)
                ne = (col != node.right.text).fill_null(False)
                return (eq, ne) if node.op == "eq" else (ne, eq)
            a, b = self.term(node.left, scope), self.term(node.right, scope)
            if a.constant and b.constant:
                r = COMPARISONS[node.op].holds(a.fraction, b.fraction)
                return pl.lit(r), pl.lit(not r)
            left, right, _ = qx.compare(a, b)
            left = left if not isinstance(left, int) else qx.lit(left)
            holds = COMPARISONS[node.op].holds(left, right)
            return holds.fill_null(False), (~holds).fill_null(False)
        if isinstance(node, Truth):
            col = pl.col(f"__b:{node.field.path}")
            return (col == node.expected).fill_null(False), (col == (not node.expected)).fill_null(False)
        if isinstance(node, Present):
            col = pl.col(f"__p:{node.section}")
            return col, ~col
        if isinstance(node, Hit):
            t = scope.table_defs[node.table]
            rows = [self.test(Compare("gte", t.input, r.min), scope) for r in t.rows]
            return pl.any_horizontal([p for p, _ in rows]), pl.all_horizontal([f for _, f in rows])
        if isinstance(node, All):
            parts = [self.test(t, scope) for t in node.tests]
            return pl.all_horizontal([p for p, _ in parts]), pl.any_horizontal([f for _, f in parts])
        if isinstance(node, AnyOf):
            parts = [self.test(t, scope) for t in node.tests]
            return pl.any_horizontal([p for p, _ in parts]), pl.all_horizontal([f for _, f in parts])
        if isinstance(node, Not):
            p, f = self.test(node.test, scope)
            return f, p
        if isinstance(node, Status):
            statuses = self.book.outcome(node.outcome).statuses
            inside = pl.col(f"__st:{node.outcome}").is_in([i for i, s in enumerate(statuses) if s in node.allowed])
            return inside, ~inside
        raise TypeError(f"not a test: {node!r}")


def fmt_amount(q, places: int) -> pl.Expr:
    """An integer count of 10**-places as the contract's decimal text ("280000.00")."""
    if isinstance(q, int):
        return pl.lit(_fmt_int(q, places))
    digits = q.abs().cast(pl.Utf8).str.zfill(places + 1)
    body = pl.concat_str([digits.str.head(-places), pl.lit("."), digits.str.tail(places)])
    return pl.when(q < 0).then(pl.lit("-") + body).otherwise(body)


def _fmt_int(q: int, places: int) -> str:
    s = str(abs(q)).zfill(places + 1)
    return ("-" if q < 0 else "") + s[:-places] + "." + s[-places:]


def _materialise(q: Q, name: str, stage: dict) -> Q:
    """Compute a shared value once as columns and refer to it by name afterwards."""
    num, den = q.num, q.den
    if isinstance(num, pl.Expr):
        stage[f"{name}:n"], num = num, pl.col(f"{name}:n")
    if isinstance(den, pl.Expr):
        stage[f"{name}:d"], den = den, pl.col(f"{name}:d")
    return Q(num, den, q.nb, q.db)


# --- the outcome code ----------------------------------------------------------------
# Each outcome's status and reason codes are packed into one small integer per row, so the
# compiled plan is integer arithmetic only; the text appears once per distinct code, through a
# lookup table, never per row:
#   code = exemption << (K + 1) | failing criteria bits << 1 | capped
# (exemption: 1-based index of the named exemption that fired, 0 for none; K criteria).
class OutcomeCodes:
    """The reason texts of one outcome's codes: an Enum of every reason list it can produce."""

    def __init__(self, book: Rulebook, o):
        self.exemptions = [e.code for e in (*book.exceptions, *o.applies)]
        self.criteria = [c.code for c in o.criteria]
        self.tables = [t.reason for t in o.tables]
        self.shift = len(self.criteria) + 1
        self.size = (len(self.exemptions) + 1) << self.shift
        texts = [self.reasons(k) for k in range(self.size)]
        self.categories = list(dict.fromkeys(t for t in texts if t is not None))
        index: dict[str | None, int] = {t: i for i, t in enumerate(self.categories)}
        self.lut = np.array([index.get(t, 0) for t in texts], dtype=np.uint32)
        self.dtype = pl.Enum(self.categories)
        self.status_dtype = pl.Enum(list(o.statuses))

    def reasons(self, code: int) -> str | None:
        na, bits, capped = code >> self.shift, (code >> 1) & ((1 << len(self.criteria)) - 1), code & 1
        if na:
            return self.exemptions[na - 1] if na <= len(self.exemptions) and not bits and not capped else None
        if bits:
            return None if capped else ";".join(c for k, c in enumerate(self.criteria) if bits >> k & 1)
        return ";".join([*self.tables, "CAPPED"] if capped else self.tables)

    def reason_series(self, codes: pl.Series, name: str) -> pl.Series:
        idx = self.lut[codes.to_numpy()]
        return pl.Series(name, self.categories, dtype=self.dtype).gather(idx)


def _outcome_stages(book: Rulebook, comp: _Compiler, o, codes: OutcomeCodes) -> tuple[list[dict], int]:
    """Column stages ending in __st (status index in o.statuses), __k (outcome code) and __q
    (amount as a count of 10**-places: granted amount, 0 when refused, null when not
    applicable); and the bound of |__q|.

    Shared values (variables, the guard, table outputs, failing criteria) are materialised
    in earlier stages, so each is computed once however many rules read it.
    """
    scope = _Scope()
    stages: list[dict] = [{}]
    for name, term in o.lets:
        stages.append({})
        scope.vars[name] = _materialise(comp.term(term, scope), f"__v:{o.name}:{name}", stages[-1])
    exemptions = list(book.exceptions) + list(o.applies)
    na, guard = pl.lit(0, dtype=pl.Int32), pl.lit(True)
    for i, e in enumerate(exemptions, start=1):
        p, f = comp.test(e.when, scope)
        na = na + (guard & f).cast(pl.Int32) * i  # at most one fires: the first failing
        guard = guard & p
    stages.append({f"__g:{o.name}": guard, f"__na:{o.name}": na})
    guard, na = pl.col(f"__g:{o.name}"), pl.col(f"__na:{o.name}")
    stages.append({})
    for t in o.tables:
        scope.table_defs[t.name] = t
        earlier, cases, outs = guard, [], []
        for r in t.rows:
            p, f = comp.test(Compare("gte", t.input, r.min), scope)
            cases.append(earlier & p)
            outs.append(comp.term(r.output, scope))
            earlier = earlier & f
        scope.tables[t.name] = _materialise(qx.select(cases, outs), f"__t:{o.name}:{t.name}", stages[-1])
    bits = pl.lit(0, dtype=pl.Int32)
    for k, c in enumerate(o.criteria):
        _, f = comp.test(c.test, scope)
        bits = bits + (guard & f).cast(pl.Int32) * (1 << k)
    stages.append({f"__bits:{o.name}": bits})
    bits = pl.col(f"__bits:{o.name}")
    is_na, any_fail = na > 0, bits > 0
    status = is_na.cast(pl.UInt8) * 2 + any_fail.cast(pl.UInt8)  # o.statuses: ok, ko, not_applicable
    cols = {f"__st:{o.name}": status}
    capped, bound = pl.lit(False), 0
    if o.amount is not None:
        q, bound = qx.round_half_up(comp.term(o.amount.formula, scope), o.amount.places)
        if o.amount.cap is not None:
            cq, cb = qx.round_half_up(comp.term(o.amount.cap, scope), o.amount.places)
            wide = max(bound, cb) >= 2**62
            qe, ce = qx.as_expr(q, wide), qx.as_expr(cq, wide)
            capped = (qe > ce).fill_null(False)
            q, bound = pl.when(capped).then(ce).otherwise(qe), max(bound, cb)
        q = qx.as_expr(q, bound >= 2**62)
        cols[f"__q:{o.name}"] = pl.when(is_na).then(None).when(any_fail).then(0).otherwise(q)
    granted = ~is_na & ~any_fail
    cols[f"__k:{o.name}"] = na * (1 << codes.shift) + bits * 2 + (capped & granted).cast(pl.Int32)
    return [st for st in stages if st] + [cols], bound


def _decimal_series(values: pl.Series, places: int, name: str) -> pl.Series:
    """Integer counts of 10**-places as an exact Decimal column (the bits reinterpreted, no arithmetic)."""
    if values.dtype != pl.Int64:
        text = values.to_frame("q").select(fmt_amount(pl.col("q"), places)).to_series()
        return text.str.to_decimal(scale=places).cast(pl.Decimal(38, places)).alias(name)
    arr = values.rechunk().to_arrow()
    if arr.offset:
        arr = pa.concat_arrays([arr])
    ints = np.frombuffer(arr.buffers()[1], dtype=np.int64)[: len(arr)]
    wide = np.empty((len(arr), 2), dtype=np.int64)
    wide[:, 0] = ints
    wide[:, 1] = ints >> 63  # sign extension to 128 bits
    dec = pa.Array.from_buffers(
        pa.decimal128(38, places), len(arr), [arr.buffers()[0], pa.py_buffer(wide)], null_count=arr.null_count
    )
    return pl.Series(name, dec)


def _nulls(name: str, n: int) -> pl.Series:
    return pl.repeat(None, n, dtype=pl.Utf8, eager=True).alias(name)


def typed_schema(book: Rulebook) -> dict:
    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        "application_id": pl.Utf8,
        "region_code": pl.Utf8,
        "evaluated_on": pl.Date,
    }
    for o in book.outcomes:
        codes = _codes(book, o)
        schema[f"{o.name}.status"] = codes.status_dtype
        schema[f"{o.name}.amount"] = pl.Utf8 if o.amount is None else pl.Decimal(38, o.amount.places)
        schema[f"{o.name}.reasons"] = codes.dtype
    return {**schema, "totals.subsidy_yuan": pl.Decimal(38, 2), "totals.levy_yuan": pl.Decimal(38, 2), "error": pl.Utf8}


_CODES: dict = {}


def _codes(book: Rulebook, o) -> OutcomeCodes:
    key = (id(book), o.name)
    if key not in _CODES or _CODES[key][0] is not book:
        _CODES[key] = (book, OutcomeCodes(book, o))
    return _CODES[key][1]


def _decide_group(book: Rulebook, params: dict, prep: Prepared, frame: pl.DataFrame) -> pl.DataFrame:
    comp = _Compiler(params, prep, book)
    lf = frame.lazy()
    bounds = {}
    for o in book.outcomes:
        stages, bounds[o.name] = _outcome_stages(book, comp, o, _codes(book, o))
        for stage in stages:
            lf = lf.with_columns(**stage)
    out = [
        pl.col("__row"),
        pl.col("application_id"),
        pl.col("region").alias("region_code"),
        pl.col("__end").alias("evaluated_on"),
    ]
    subsidy, levy = [], []
    for o in book.outcomes:
        out += [pl.col(f"__st:{o.name}"), pl.col(f"__k:{o.name}")]
        if o.amount is not None:
            out.append(pl.col(f"__q:{o.name}"))
            if o.unit == "yuan" and o.kind == "benefit":
                subsidy.append(o.name)
            if o.kind == "levy":
                levy.append(o.name)

    def total(names):
        bound = sum(bounds[n] for n in names)
        qx.needs_int128(bound)  # (raises ColumnOverflow beyond Int128)
        cols = [qx.as_expr(pl.col(f"__q:{n}").fill_null(0), bound >= 2**62) for n in names]
        return pl.sum_horizontal(cols) if cols else pl.lit(0, dtype=pl.Int64)

    out += [total(subsidy).alias("__subsidy"), total(levy).alias("__levy")]
    raw = lf.select(out).collect()
    cols = [
        raw.get_column("__row"),
        raw.get_column("application_id"),
        raw.get_column("region_code"),
        raw.get_column("evaluated_on"),
    ]
    for o in book.outcomes:
        codes = _codes(book, o)
        cols.append(
            pl.Series(f"{o.name}.status", list(o.statuses), dtype=codes.status_dtype).gather(
                raw.get_column(f"__st:{o.name}")
            )
        )
        cols.append(
            _nulls(f"{o.name}.amount", raw.height)
            if o.amount is None
            else _decimal_series(raw.get_column(f"__q:{o.name}"), o.amount.places, f"{o.name}.amount")
        )
        cols.append(codes.reason_series(raw.get_column(f"__k:{o.name}"), f"{o.name}.reasons"))
    cols += [
        _decimal_series(raw.get_column("__subsidy"), 2, "totals.subsidy_yuan"),
        _decimal_series(raw.get_column("__levy"), 2, "totals.levy_yuan"),
        _nulls("error", raw.height),
    ]
    return pl.DataFrame(cols)


def _param_key(params: dict):
    return tuple(sorted((k, tuple(sorted(v.items())) if isinstance(v, dict) else v) for k, v in params.items()))


def _rete_rows(book: Rulebook, frame: pl.DataFrame) -> pl.DataFrame:
    """The rows the columnar path does not vouch for, decided by the Rete engine, typed."""
    cols = result_columns(book)
    rows = []
    for raw in frame.iter_rows(named=True):
        res = next(decide_rows_rete(book, [raw]))
        rows.append({"__row": raw["__row"], **{c: (None if res.get(c) is None else str(res.get(c))) for c in cols}})
    text = pl.DataFrame(rows, schema={"__row": pl.UInt32, **{c: pl.Utf8 for c in cols}})
    schema = typed_schema(book)
    return text.with_columns(
        pl.col("evaluated_on").str.to_date("%Y-%m-%d"),
        *[pl.col(c).cast(t) for c, t in schema.items() if t not in (pl.Utf8, pl.Date)],
    )


#: The native kernel decides the rows it vouches for (engine/backends/columnar/kernel/); off, every
#: row takes the Polars path. Both give the Rete engine's results (verify-backends checks each).
USE_KERNEL = True


def _groups(book: Rulebook, dates, uncovered: list | None = None) -> dict:
    """Parameter-set key -> (params, [period ends]) ; dates no rule covers go to ``uncovered``."""
    groups: dict = {}
    for when in dates:
        try:
            params = book.values_at(when)
        except DateNotCoveredError:
            if uncovered is not None:
                uncovered.append(when)
            continue
        groups.setdefault(_param_key(params), (params, []))[1].append(when)
    return groups


def decide_typed(book: Rulebook, frame: pl.DataFrame, prep: Prepared | None = None) -> pl.DataFrame:
    """Decide every row of ``frame`` (dotted application columns) into typed columns.

    The columns of ``result_columns(book)``: statuses and reason lists as Enums, amounts and
    totals as exact Decimals, ``evaluated_on`` a Date. ``as_text`` gives the contract's text.
    ``prep`` is ``prepare(frame)`` when the caller already has it: validity is the contract
    model's alone, never a rulebook's, so several rulebooks can share one (dates a rulebook
    does not cover are still sent to the Rete path per rulebook). The native kernel decides
    the rows it vouches for; the rest take the Polars path (and from there the Rete engine).
    The kernel's own validation of ``frame`` is kept on ``prep`` (``prep.checked``), so the
    next rulebook given the same ``prep`` runs only its rule program.
    """
    fast = None
    if USE_KERNEL and frame.height:
        from engine.backends.columnar.kernel import Checked, run

        checked = getattr(prep, "checked", None)
        if checked is None:
            checked = Checked(frame, shared=prep is not None)
            if prep is not None:
                prep.checked = checked
        fast = run(
            book,
            frame,
            lambda dates: _groups(book, dates),
            {o.name: _codes(book, o) for o in book.outcomes},
            typed_schema(book),
            checked,
        )
    if fast is None:
        return _decide_careful(book, frame, prep)
    result, vouched = fast
    vouched = vouched & ~unsafe_text_rows(frame)
    if vouched.all():
        return result
    rest = np.flatnonzero(~vouched)
    slow = _decide_careful(book, frame[rest])
    keep = np.flatnonzero(vouched)
    return (
        pl.concat([result[keep].with_columns(__row=pl.Series(keep)), slow.with_columns(__row=pl.Series(rest))])
        .sort("__row")
        .drop("__row")
    )


def validated(frame: pl.DataFrame) -> Prepared:
    """What every rulebook deciding ``frame`` can share (give it to ``decide_typed`` as
    ``prep``): the native kernel's validation, done now; the Polars path's preparation only if
    a rulebook needs it (rows the kernel does not vouch for)."""
    from engine.backends.columnar.inputs import prepare

    shared = prepare(frame)
    if USE_KERNEL and frame.height:
        from engine.backends.columnar.kernel import Checked

        shared.checked = Checked(frame, shared=True)
    return shared


def _decide_careful(book: Rulebook, frame: pl.DataFrame, prep: Prepared | None = None) -> pl.DataFrame:
    """The Polars path: every row, Int128 where needed, and the Rete engine for the rest."""
    prep = prepare_now(frame) if prep is None else prep
    parts, slow = [], [prep.fallback] if prep.fallback is not None else []
    groups = _groups(book, prep.frame.get_column("__end").unique().to_list(), slow)
    uncovered = [w for w in slow if not isinstance(w, pl.DataFrame)]
    slow = [s for s in slow if isinstance(s, pl.DataFrame)]
    for params, dates in groups.values():
        sub = prep.frame if len(groups) == 1 and not uncovered else prep.frame.filter(pl.col("__end").is_in(dates))
        try:
            parts.append(_decide_group(book, params, prep, sub))
        except ColumnOverflow:
            uncovered += dates
    if uncovered:
        rows = prep.frame.filter(pl.col("__end").is_in(uncovered)).get_column("__row")
        slow.append(frame.with_row_index("__row").filter(pl.col("__row").is_in(rows.implode())))
    for s in slow:
        parts.append(_rete_rows(book, s))
    schema = typed_schema(book)
    if not parts:
        return pl.DataFrame(schema=schema)
    result = pl.concat([p.select("__row", *schema) for p in parts], how="vertical")
    if len(parts) > 1:
        result = result.sort("__row")
    return result.drop("__row")


def as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """A typed decision frame with every column as the contract's text (amounts "280000.00")."""
    return frame.with_columns(pl.exclude(pl.Utf8).cast(pl.Utf8))


def decide_frame_columnar(book: Rulebook, frame: pl.DataFrame) -> pl.DataFrame:
    """Decide every row of ``frame`` (dotted application columns); same frame as the Rete path."""
    return as_text(decide_typed(book, frame))
