"""The columnar backend: the rulebook's compiled tree turned into Polars expressions.

The same rule files, the same tree (engine/expressions.py) as the Rete engine; no rule is
written here. Each outcome becomes a handful of columns, mirroring the Rete network rule by
rule: a named exemption fires when it fails and every earlier one passes; a table row is the
first whose ``input ≥ min`` holds; every failing criterion is a reason, in file order; a
granted amount is rounded half up once, then capped (adding ``CAPPED``).

Numbers are exact rationals of integer columns (engine/columnar_exact.py). Parameters are
resolved per ``period.end``: rows are grouped by the parameter set in force, so within a group
every parameter is a constant folded at compile time. Rows the columnar path cannot vouch for
(invalid, unusual spellings, uncovered dates, magnitudes beyond Int128) are decided by the Rete
path, so the result is the Rete result for every row (``shuangtan verify-backends``).
"""
from __future__ import annotations

from fractions import Fraction
from math import lcm

import polars as pl

from . import columnar_exact as qx
from .columnar_exact import ColumnOverflow, Q
from .columnar_input import Prepared, prepare
from .errors import DateNotCoveredError
from .expressions import (All, AnyOf, Arith, Compare, Const, Field, Hit, Label, Lookup, Not, Param,
                          Present, Status, TableOutput, Truth, Var)
from .flat import decide_rows_rete, result_columns
from .rulebook import STATUSES, Rulebook

_LABEL_COLUMN = {"enterprise.size": "size", "enterprise.region_code": "region"}


class _Scope:
    def __init__(self):
        self.vars: dict[str, Q] = {}
        self.tables: dict[str, Q] = {}
        self.table_defs: dict = {}


class _Compiler:
    """Terms to exact rationals, tests to (passes, fails) boolean expressions (never null).

    A test on a missing value neither passes nor fails, as a Rete pattern on an absent fact
    attribute matches neither way.
    """

    def __init__(self, params: dict, prep: Prepared):
        self.params = params
        self.prep = prep

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
            vals = [self.term(a, scope) for a in node.args]
            acc = vals[0]
            for v in vals[1:]:
                if node.op == "add":
                    acc = qx.q_add(acc, v)
                elif node.op == "sub":
                    acc = qx.q_add(acc, v, negate=True)
                elif node.op == "mul":
                    acc = qx.q_mul(acc, v)
                elif node.op == "div":
                    acc = qx.q_div(acc, v)
                else:
                    acc = qx.q_pick(acc, v, smaller=node.op == "min")
            return acc
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
            nums, default=dnum, return_dtype=pl.Int64 if bound < 2 ** 62 else pl.Int128)
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
                r = _OPS[node.op](a.fraction, b.fraction)
                return pl.lit(r), pl.lit(not r)
            left, right, _ = qx.compare(a, b)
            left = left if not isinstance(left, int) else qx.lit(left)
            holds = _OPS[node.op](left, right)
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
            inside = pl.col(f"__s:{node.outcome}").is_in(sorted(node.allowed))
            return inside, ~inside
        raise TypeError(f"not a test: {node!r}")


_OPS = {"gte": lambda a, b: a >= b, "gt": lambda a, b: a > b, "lte": lambda a, b: a <= b,
        "lt": lambda a, b: a < b, "eq": lambda a, b: a == b, "neq": lambda a, b: a != b}


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


def _outcome_stages(book: Rulebook, comp: _Compiler, o) -> list[dict]:
    """Column stages ending in __s (status), __r (reasons), __q (settled amount) for one outcome.

    Shared values (variables, the guard, table outputs, failing criteria) are materialised
    in earlier stages, so each is computed once however many rules read it.
    """
    scope = _Scope()
    stages = [{}]
    for name, term in o.lets:
        stages.append({})
        scope.vars[name] = _materialise(comp.term(term, scope), f"__v:{o.name}:{name}", stages[-1])
    exemptions = list(book.exceptions) + list(o.applies)
    na, guard = None, pl.lit(True)
    for e in exemptions:
        p, f = comp.test(e.when, scope)
        cond = guard & f
        na = pl.when(cond).then(pl.lit(e.code)) if na is None else na.when(cond).then(pl.lit(e.code))
        guard = guard & p
    na = pl.lit(None, dtype=pl.Utf8) if na is None else na.otherwise(pl.lit(None, dtype=pl.Utf8))
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
    fails, stage = [], {}
    for k, c in enumerate(o.criteria):
        _, f = comp.test(c.test, scope)
        stage[f"__f:{o.name}:{k}"] = guard & f
        fails.append((c.code, pl.col(f"__f:{o.name}:{k}")))
    stages.append(stage)
    any_fail = pl.any_horizontal([f for _, f in fails]) if fails else pl.lit(False)
    ok, ko = STATUSES[o.kind]
    is_na = na.is_not_null()
    status = pl.when(is_na).then(pl.lit("not_applicable")).when(any_fail).then(pl.lit(ko)).otherwise(pl.lit(ok))
    failed_codes = pl.concat_str([pl.when(f).then(pl.lit(code)) for code, f in fails],
                                 separator=";", ignore_nulls=True) if fails else pl.lit("")
    table_codes = ";".join(t.reason for t in o.tables)
    cols = {f"__s:{o.name}": status}
    capped = pl.lit(False)
    if o.amount is not None:
        q, qb = qx.round_half_up(comp.term(o.amount.formula, scope), o.amount.places)
        if o.amount.cap is not None:
            cq, cb = qx.round_half_up(comp.term(o.amount.cap, scope), o.amount.places)
            wide = max(qb, cb) >= 2 ** 62
            qe, ce = qx._as_expr(q, wide), qx._as_expr(cq, wide)
            capped = (qe > ce).fill_null(False)
            q = pl.when(capped).then(ce).otherwise(qe)
        granted = (~is_na) & (~any_fail)
        cols[f"__q:{o.name}"] = pl.when(granted).then(qx._as_expr(q, False)).otherwise(0)
    ok_codes = pl.when(capped).then(pl.lit(";".join(filter(None, [table_codes, "CAPPED"])))) \
        .otherwise(pl.lit(table_codes))
    cols[f"__r:{o.name}"] = pl.when(is_na).then(na).when(any_fail).then(failed_codes).otherwise(ok_codes)
    return [st for st in stages if st] + [cols]


def _decide_group(book: Rulebook, params: dict, prep: Prepared, frame: pl.DataFrame) -> pl.DataFrame:
    comp = _Compiler(params, prep)
    lf = frame.lazy()
    for o in book.outcomes:
        for stage in _outcome_stages(book, comp, o):
            lf = lf.with_columns(**stage)
    out = [pl.col("__row"), pl.col("application_id"), pl.col("region").alias("region_code"),
           pl.col("__end").cast(pl.Utf8).alias("evaluated_on")]
    subsidy, levy = [], []
    for o in book.outcomes:
        s = pl.col(f"__s:{o.name}")
        out.append(s.alias(f"{o.name}.status"))
        if o.amount is None:
            out.append(pl.lit(None, dtype=pl.Utf8).alias(f"{o.name}.amount"))
        else:
            ok, ko = STATUSES[o.kind]
            q = pl.col(f"__q:{o.name}")
            out.append(pl.when(s == ok).then(fmt_amount(q, o.amount.places))
                       .when(s == ko).then(pl.lit(_fmt_int(0, o.amount.places)))
                       .otherwise(pl.lit(None, dtype=pl.Utf8)).alias(f"{o.name}.amount"))
            if o.unit == "yuan" and o.kind == "benefit":
                subsidy.append(pl.when(s == "granted").then(q).otherwise(0))
            if o.kind == "levy":
                levy.append(pl.when(s == "levied").then(q).otherwise(0))
        out.append(pl.col(f"__r:{o.name}").alias(f"{o.name}.reasons"))
    total = (lambda xs: pl.sum_horizontal(xs) if xs else pl.lit(0))
    out += [fmt_amount(total(subsidy), 2).alias("totals.subsidy_yuan"),
            fmt_amount(total(levy), 2).alias("totals.levy_yuan"),
            pl.lit(None, dtype=pl.Utf8).alias("error")]
    return lf.select(out).collect()


def _param_key(params: dict):
    return tuple(sorted((k, tuple(sorted(v.items())) if isinstance(v, dict) else v) for k, v in params.items()))


def _rete_rows(book: Rulebook, frame: pl.DataFrame, cols: list[str]) -> pl.DataFrame:
    rows = []
    for raw in frame.iter_rows(named=True):
        res = next(decide_rows_rete(book, [raw]))
        rows.append({"__row": raw["__row"], **{c: (None if res.get(c) is None else str(res.get(c))) for c in cols}})
    return pl.DataFrame(rows, schema={"__row": pl.UInt32, **{c: pl.Utf8 for c in cols}})


def decide_frame_columnar(book: Rulebook, frame: pl.DataFrame) -> pl.DataFrame:
    """Decide every row of ``frame`` (dotted application columns); same frame as the Rete path."""
    cols = result_columns(book)
    prep = prepare(frame)
    parts, slow = [], [prep.fallback] if prep.fallback is not None else []
    groups: dict = {}
    for when in prep.frame.get_column("__end").unique().to_list():
        try:
            params = {name: v for name, (v, _) in book.params_at(when).items()}
        except DateNotCoveredError:
            slow.append(when)
            continue
        groups.setdefault(_param_key(params), (params, []))[1].append(when)
    uncovered = [w for w in slow if not isinstance(w, pl.DataFrame)]
    slow = [s for s in slow if isinstance(s, pl.DataFrame)]
    for params, dates in groups.values():
        sub = prep.frame if len(groups) == 1 and not uncovered else \
            prep.frame.filter(pl.col("__end").is_in(dates))
        try:
            parts.append(_decide_group(book, params, prep, sub))
        except ColumnOverflow:
            uncovered += dates
    if uncovered:
        rows = prep.frame.filter(pl.col("__end").is_in(uncovered)).get_column("__row")
        slow.append(frame.with_row_index("__row").filter(pl.col("__row").is_in(rows.implode())))
    for s in slow:
        parts.append(_rete_rows(book, s, cols))
    if not parts:
        return pl.DataFrame(schema={c: pl.Utf8 for c in cols})
    result = pl.concat([p.select("__row", *cols) for p in parts], how="vertical_relaxed")
    if len(parts) > 1:
        result = result.sort("__row")
    return result.drop("__row")
