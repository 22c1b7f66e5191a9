"""Exact intervals of rationals: the values a term can take while some fields are unknown.

An interval is closed or open at each end (``(0, 10^18)`` is a positive decimal of the contract),
and unbounded ends are ``None``. Every operation returns an interval that holds every value the
operation can produce from values in its operands (an over-approximation: two operands that
depend on the same field are treated as independent), and exactly the point when the operands
are points, so a term whose fields are all known evaluates as the engine evaluates it.
``undefined`` says that the value may not exist (a division by an interval holding zero).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

# An end: (value, closed); value None is minus or plus infinity (never closed).
End = tuple[Fraction | None, bool]


@dataclass(frozen=True)
class Interval:
    lo: Fraction | None
    lo_closed: bool
    hi: Fraction | None
    hi_closed: bool
    undefined: bool = False

    @staticmethod
    def point(value: Fraction) -> Interval:
        return Interval(value, True, value, True)

    @staticmethod
    def everything(undefined: bool = False) -> Interval:
        return Interval(None, False, None, False, undefined)

    @property
    def is_point(self) -> bool:
        return not self.undefined and self.lo is not None and self.lo == self.hi

    def signs(self) -> frozenset:
        """The signs (-1, 0, 1) a value of the interval can have."""
        out = set()
        if self.lo is None or self.lo < 0:
            out.add(-1)
        if self.hi is None or self.hi > 0:
            out.add(1)
        if self.contains(Fraction(0)):
            out.add(0)
        return frozenset(out)

    def contains(self, x: Fraction) -> bool:
        above = self.lo is None or self.lo < x or (self.lo == x and self.lo_closed)
        below = self.hi is None or x < self.hi or (self.hi == x and self.hi_closed)
        return above and below

    def meets(self, lo: End, hi: End) -> bool:
        """Whether the interval shares a value with the band from ``lo`` to ``hi``."""
        a = _max_lo((self.lo, self.lo_closed), lo)
        b = _min_hi((self.hi, self.hi_closed), hi)
        if a[0] is None or b[0] is None:
            return True
        return a[0] < b[0] or (a[0] == b[0] and a[1] and b[1])


def _max_lo(a: End, b: End) -> End:
    """The greater of two lower ends (None: minus infinity)."""
    if a[0] is None:
        return b
    if b[0] is None or a[0] > b[0]:
        return a
    if b[0] > a[0]:
        return b
    return a[0], a[1] and b[1]


def _min_hi(a: End, b: End) -> End:
    """The smaller of two upper ends (None: plus infinity)."""
    if a[0] is None:
        return b
    if b[0] is None or a[0] < b[0]:
        return a
    if b[0] < a[0]:
        return b
    return a[0], a[1] and b[1]


def add(a: Interval, b: Interval) -> Interval:
    lo = None if a.lo is None or b.lo is None else a.lo + b.lo
    hi = None if a.hi is None or b.hi is None else a.hi + b.hi
    return Interval(
        lo,
        lo is not None and a.lo_closed and b.lo_closed,
        hi,
        hi is not None and a.hi_closed and b.hi_closed,
        a.undefined or b.undefined,
    )


def neg(a: Interval) -> Interval:
    return Interval(
        None if a.hi is None else -a.hi,
        a.hi_closed,
        None if a.lo is None else -a.lo,
        a.lo_closed,
        a.undefined,
    )


def sub(a: Interval, b: Interval) -> Interval:
    return add(a, neg(b))


def _product(x: End, y: End, x_inf: int, y_inf: int) -> tuple[Fraction | None, int, bool]:
    """One corner of a product: (finite value or None, sign of an infinite value, closed)."""
    (xv, xc), (yv, yc) = x, y
    if (xv == 0 and xc and x_inf == 0) or (yv == 0 and yc and y_inf == 0):
        return Fraction(0), 0, True  # 0 times anything in the other operand is 0, attained
    if x_inf == 0 and y_inf == 0:
        return xv * yv, 0, xc and yc  # type: ignore[operator]  # both finite here
    # an infinite end times a finite or infinite one
    sx = x_inf if x_inf else (0 if xv == 0 else (1 if xv > 0 else -1))  # type: ignore[operator]
    sy = y_inf if y_inf else (0 if yv == 0 else (1 if yv > 0 else -1))  # type: ignore[operator]
    if sx == 0 or sy == 0:
        return Fraction(0), 0, False  # an open zero times an unbounded end: 0 approached, not reached
    return None, sx * sy, False


def mul(a: Interval, b: Interval) -> Interval:
    ends_a = [((a.lo, a.lo_closed), -1 if a.lo is None else 0), ((a.hi, a.hi_closed), 1 if a.hi is None else 0)]
    ends_b = [((b.lo, b.lo_closed), -1 if b.lo is None else 0), ((b.hi, b.hi_closed), 1 if b.hi is None else 0)]
    corners = [_product(x, y, xi, yi) for x, xi in ends_a for y, yi in ends_b]

    def key(c):
        value, inf, _ = c
        return (inf, value if value is not None else Fraction(0))

    low = min(corners, key=key)
    high = max(corners, key=key)
    lo_closed = any(key(c) == key(low) and c[2] for c in corners)
    hi_closed = any(key(c) == key(high) and c[2] for c in corners)
    return Interval(
        None if low[1] else low[0],
        lo_closed and not low[1],
        None if high[1] else high[0],
        hi_closed and not high[1],
        a.undefined or b.undefined,
    )


def inv(a: Interval) -> Interval:
    """1/x over the interval; undefined when it may hold 0."""
    positive = a.lo is not None and (a.lo > 0 or (a.lo == 0 and not a.lo_closed))
    negative = a.hi is not None and (a.hi < 0 or (a.hi == 0 and not a.hi_closed))
    if not (positive or negative):
        return Interval.everything(undefined=True)

    def recip(v: Fraction | None, closed: bool) -> End:
        if v is None:
            return Fraction(0), False
        if v == 0:
            return None, False
        return 1 / v, closed

    # 1/x decreases on each side of 0: the ends swap (1/±inf is 0, 1/0 from inside is ±inf)
    lo, hi = recip(a.hi, a.hi_closed), recip(a.lo, a.lo_closed)
    return Interval(lo[0], lo[1], hi[0], hi[1], a.undefined)


def div(a: Interval, b: Interval) -> Interval:
    q = inv(b)
    if q.undefined and not b.undefined:
        return Interval.everything(undefined=True)
    return mul(a, q)


def minimum(a: Interval, b: Interval) -> Interval:
    lo = _min_lo((a.lo, a.lo_closed), (b.lo, b.lo_closed))
    hi = _min_hi((a.hi, a.hi_closed), (b.hi, b.hi_closed))  # on a tie both must reach it
    return Interval(lo[0], lo[1], hi[0], hi[1], a.undefined or b.undefined)


def maximum(a: Interval, b: Interval) -> Interval:
    lo = _max_lo((a.lo, a.lo_closed), (b.lo, b.lo_closed))  # on a tie both must reach it
    hi = _max_hi((a.hi, a.hi_closed), (b.hi, b.hi_closed))
    return Interval(lo[0], lo[1], hi[0], hi[1], a.undefined or b.undefined)


def _min_lo(a: End, b: End) -> End:
    """Lower end of min(x, y): the smaller lower end; on a tie either operand can reach it."""
    if a[0] is None or b[0] is None:
        return None, False
    if a[0] != b[0]:
        return a if a[0] < b[0] else b
    return a[0], a[1] or b[1]


def _max_hi(a: End, b: End) -> End:
    """Upper end of max(x, y): the greater upper end; on a tie either operand can reach it."""
    if a[0] is None or b[0] is None:
        return None, False
    if a[0] != b[0]:
        return a if a[0] > b[0] else b
    return a[0], a[1] or b[1]


def hull(parts: list[Interval]) -> Interval:
    """The smallest interval holding every part."""
    out = parts[0]
    for p in parts[1:]:
        lo = _min_lo((out.lo, out.lo_closed), (p.lo, p.lo_closed))
        hi = _max_hi((out.hi, out.hi_closed), (p.hi, p.hi_closed))
        out = Interval(lo[0], lo[1], hi[0], hi[1], out.undefined or p.undefined)
    return out


def rounded(a: Interval, places: int) -> Interval:
    """The values ``round_half_up(x, places)`` takes for x in the interval (closed, in units of
    10**-places as Fractions of the unit: ``Fraction(q, 10**places)``)."""
    scale = 10**places

    def r(x: Fraction) -> int:  # engine.decimals.round_half_up_scaled, on a Fraction
        n, d = x.numerator * scale, x.denominator
        if n < 0:
            return -((-2 * n + d) // (2 * d))
        return (2 * n + d) // (2 * d)

    def at_step(x: Fraction, up: bool) -> bool:
        """Whether rounding jumps exactly at x (towards larger values for x > 0, half up away from 0)."""
        y = x * scale + (Fraction(1, 2) if up else Fraction(-1, 2))
        return y.denominator == 1

    lo = hi = None
    if a.lo is not None:
        q = r(a.lo)
        if not a.lo_closed and a.lo < 0 and at_step(a.lo, up=False):
            q += 1  # rounding of negatives is left-continuous: just above a step it is one higher
        lo = Fraction(q, scale)
    if a.hi is not None:
        q = r(a.hi)
        if not a.hi_closed and a.hi > 0 and at_step(a.hi, up=True):
            q -= 1  # rounding of positives is right-continuous: just below a step it is one lower
        hi = Fraction(q, scale)
    return Interval(lo, lo is not None, hi, hi is not None, a.undefined)
