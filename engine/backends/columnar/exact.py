"""Exact rational arithmetic on integer columns, for the columnar backend.

Every quantity is a pair (numerator, denominator) of integers with denominator > 0; either
part is a Python int (a constant, folded at compile time) or a Polars integer expression.
A decimal column with scale s is (mantissa, 10**s), so a ratio such as (b - p) / b is
compared to a tier boundary by cross-multiplication, never by dividing.

Polars integer arithmetic wraps silently on overflow, so each operation carries an upper
bound of its magnitude (from the actual column maxima of the chunk): Int64 while the bound
fits, Int128 beyond, and ``ColumnOverflow`` when even Int128 could not hold it (the caller
then decides those rows through the Rete engine instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import lcm
from typing import Any

import polars as pl

_FIT64 = 2**62
_FIT128 = 2**126


class ColumnOverflow(Exception):
    """An intermediate value could exceed Int128: decide these rows another way."""


def needs_int128(bound: int) -> bool:
    """Whether a magnitude up to ``bound`` needs Int128; ColumnOverflow beyond Int128."""
    if bound >= _FIT128:
        raise ColumnOverflow(f"intermediate magnitude up to {bound:.3e}")
    return bound >= _FIT64


def lit(value: int, wide: bool = False) -> pl.Expr:
    return pl.lit(value, dtype=pl.Int128 if wide or abs(value) >= _FIT64 else pl.Int64)


def as_expr(x, wide):
    """A folded int or an integer expression as an expression, Int128 when ``wide``."""
    if isinstance(x, int):
        return lit(x, wide)
    return x.cast(pl.Int128) if wide else x


def mul(x, xb: int, y, yb: int):
    """x * y with the bound of the result (ints fold)."""
    if isinstance(x, int) and isinstance(y, int):
        return x * y
    if isinstance(x, int) and x == 1:
        return y
    if isinstance(y, int) and y == 1:
        return x
    if (isinstance(x, int) and x == 0) or (isinstance(y, int) and y == 0):
        return 0
    wide = needs_int128(xb * yb)
    return as_expr(x, wide) * as_expr(y, wide)


def add(x, y, bound: int, negate: bool = False):
    if isinstance(x, int) and isinstance(y, int):
        return x - y if negate else x + y
    if isinstance(y, int) and y == 0:
        return x
    wide = needs_int128(bound)
    a, b = as_expr(x, wide), as_expr(y, wide)
    return a - b if negate else a + b


@dataclass(frozen=True)
class Q:
    """An exact rational per row: num / den, den > 0; nb, db bound |num| and den."""

    num: Any  # an int (folded) or a Polars integer expression
    den: Any
    nb: int
    db: int

    @property
    def constant(self) -> bool:
        return isinstance(self.num, int) and isinstance(self.den, int)

    @property
    def fraction(self) -> Fraction:
        return Fraction(self.num, self.den)


NULL = Q(pl.lit(None, dtype=pl.Int64), 1, 0, 1)


def const(value: Fraction) -> Q:
    value = Fraction(value)
    return Q(value.numerator, value.denominator, abs(value.numerator), value.denominator)


def column(expr: pl.Expr, scale: int, bound: int) -> Q:
    return Q(expr, 10**scale, bound, 10**scale)


def _common(a: Q, b: Q):
    """Numerators of a and b over one denominator: (an, bn, den, bound of an/bn, bound of den)."""
    if isinstance(a.den, int) and isinstance(b.den, int):
        L = lcm(a.den, b.den)
        fa, fb = L // a.den, L // b.den
        return (mul(a.num, a.nb, fa, fa), mul(b.num, b.nb, fb, fb), L, max(a.nb * fa, b.nb * fb), L)
    return (
        mul(a.num, a.nb, b.den, b.db),
        mul(b.num, b.nb, a.den, a.db),
        mul(a.den, a.db, b.den, b.db),
        max(a.nb * b.db, b.nb * a.db),
        a.db * b.db,
    )


def q_add(a: Q, b: Q, negate=False) -> Q:
    if a.constant and b.constant:
        return const(a.fraction - b.fraction if negate else a.fraction + b.fraction)
    an, bn, den, nb, db = _common(a, b)
    return Q(add(an, bn, 2 * nb, negate), den, 2 * nb, db)


def q_mul(a: Q, b: Q) -> Q:
    if a.constant and b.constant:
        return const(a.fraction * b.fraction)
    if a.constant and isinstance(b.den, int):
        a, b = b, a
    if b.constant and isinstance(a.den, int):
        # fold the constant into the column's denominator: fewer, smaller products
        f = Fraction(b.num, b.den * a.den)
        return Q(mul(a.num, a.nb, f.numerator, abs(f.numerator)), f.denominator, a.nb * abs(f.numerator), f.denominator)
    return Q(mul(a.num, a.nb, b.num, b.nb), mul(a.den, a.db, b.den, b.db), a.nb * b.nb, a.db * b.db)


def q_div(a: Q, b: Q) -> Q:
    if b.constant:
        if b.num == 0:
            return NULL  # the Rete engine's value is None on a zero divisor
        return q_mul(a, const(Fraction(b.den, b.num)))
    bn = as_expr(b.num, needs_int128(b.nb))
    num = mul(a.num, a.nb, b.den, b.db)
    den = mul(a.den, a.db, b.num, b.nb)
    wide = needs_int128(max(a.nb * b.db, a.db * b.nb))
    num, den = as_expr(num, wide), as_expr(den, wide)
    sign = pl.when(bn > 0).then(lit(1, wide)).when(bn < 0).then(lit(-1, wide))  # null on 0
    return Q(num * sign, den.abs() * sign.abs(), a.nb * b.db, a.db * b.nb)


def compare(a: Q, b: Q):
    """(left, right) integer expressions (or ints) whose order is the order of a and b."""
    an, bn, _, nb, _ = _common(a, b)
    return an, bn, nb


def q_pick(a: Q, b: Q, smaller: bool) -> Q:
    """min (smaller=True) or max of a and b; null when either is null."""
    if a.constant and b.constant:
        return const(min(a.fraction, b.fraction) if smaller else max(a.fraction, b.fraction))
    an, bn, den, nb, db = _common(a, b)
    wide = needs_int128(nb)
    x, y = as_expr(an, wide), as_expr(bn, wide)
    first = (x <= y) if smaller else (x >= y)
    second = (x > y) if smaller else (x < y)
    return Q(pl.when(first).then(x).when(second).then(y), den, nb, db)


def select(cases: list, values: list[Q]) -> Q:
    """The value of the first case that holds (cases are boolean expressions); null when none."""
    if all(isinstance(v.den, int) for v in values):
        L = lcm(*[v.den for v in values])
        nb = max(v.nb * (L // v.den) for v in values)
        wide = needs_int128(nb)
        expr: Any = None  # the when/then chain
        for case, v in zip(cases, values):
            n = as_expr(mul(v.num, v.nb, L // v.den, L // v.den), wide)
            expr = pl.when(case).then(n) if expr is None else expr.when(case).then(n)
        return Q(expr, L, nb, L)
    nb, db = max(v.nb for v in values), max(v.db for v in values)
    wide = needs_int128(max(nb, db))
    num: Any = None
    den: Any = None
    for case, v in zip(cases, values):
        n, d = as_expr(v.num, wide), as_expr(v.den, wide)
        num = pl.when(case).then(n) if num is None else num.when(case).then(n)
        den = pl.when(case).then(d) if den is None else den.when(case).then(d)
    return Q(num, den, nb, db)


def round_half_up(a: Q, places: int):
    """ROUND_HALF_UP of a to ``places``: an integer count of 10**-places (expression or int)."""
    if a.constant:
        from engine.decimals import round_half_up as exact

        q = int(exact(a.fraction, places).scaleb(places))
        return q, abs(q)
    scale = 10**places
    n = mul(a.num, a.nb, scale, scale)
    nb = a.nb * scale
    wide = needs_int128(2 * nb + a.db)
    n, d = as_expr(n, wide), as_expr(a.den, wide)
    q = (n.abs() * 2 + d) // (d * 2)
    # 0 - q, not -q: Polars has no negation of Int128 ("'neg' operation not supported")
    return pl.when(n < 0).then(lit(0, wide) - q).otherwise(q), nb // 1 + 1
