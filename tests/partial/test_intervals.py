"""The interval arithmetic of partial decisions: every value an operation gives on members of its
operands lies in the interval it computes, open and closed ends included, and points stay exact."""

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.decimals import round_half_up_scaled
from engine.partial.intervals import Interval, add, div, hull, inv, maximum, minimum, mul, neg, rounded

SMALL = st.fractions(min_value=-20, max_value=20, max_denominator=8)


@st.composite
def intervals(draw):
    a, b = sorted([draw(SMALL), draw(SMALL)])
    lo_closed, hi_closed = draw(st.booleans()), draw(st.booleans())
    if a == b:
        lo_closed = hi_closed = True
    lo = None if draw(st.integers(0, 5)) == 0 else a
    hi = None if draw(st.integers(0, 5)) == 0 else b
    return Interval(lo, lo_closed and lo is not None, hi, hi_closed and hi is not None)


@st.composite
def member(draw, iv: Interval):
    """A value of ``iv`` (ends included when closed; near an open end)."""
    lo = iv.lo if iv.lo is not None else Fraction(-1000)
    hi = iv.hi if iv.hi is not None else Fraction(1000)
    if iv.lo is None and iv.hi is not None:
        lo = hi - 1000
    if iv.hi is None and iv.lo is not None:
        hi = lo + 1000
    candidates = [lo + (hi - lo) * Fraction(k, 64) for k in range(65)]
    inside = [x for x in candidates if iv.contains(x)]
    if iv.lo is not None and not iv.lo_closed:
        inside.append(iv.lo + (hi - lo) / 10**6)
    if iv.hi is not None and not iv.hi_closed:
        inside.append(iv.hi - (hi - lo) / 10**6)
    inside = [x for x in inside if iv.contains(x)]
    return draw(st.sampled_from(inside))


BINARY = [add, mul, minimum, maximum, lambda a, b: add(a, neg(b))]
EXACT = [lambda x, y: x + y, lambda x, y: x * y, min, max, lambda x, y: x - y]


@settings(max_examples=400, deadline=None)
@given(st.data(), st.integers(0, len(BINARY) - 1))
def test_binary_operations_hold_every_result(data, k):
    a, b = data.draw(intervals()), data.draw(intervals())
    x, y = data.draw(member(a)), data.draw(member(b))
    out = BINARY[k](a, b)
    assert out.contains(EXACT[k](x, y)), (a, b, x, y, out)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_division_holds_every_result_or_says_it_may_be_undefined(data):
    a, b = data.draw(intervals()), data.draw(intervals())
    x, y = data.draw(member(a)), data.draw(member(b))
    out = div(a, b)
    if b.contains(Fraction(0)):
        assert out.undefined
    if y != 0:
        assert out.contains(x / y), (a, b, x, y, out)


@settings(max_examples=400, deadline=None)
@given(st.data(), st.integers(0, 3))
def test_rounding_holds_every_rounded_value(data, places):
    a = data.draw(intervals())
    x = data.draw(member(a))
    assert rounded(a, places).contains(Fraction(round_half_up_scaled(x, places), 10**places))


@given(SMALL, SMALL, st.integers(0, 3))
def test_points_stay_exact(x, y, places):
    px, py = Interval.point(x), Interval.point(y)
    assert add(px, py) == Interval.point(x + y) and mul(px, py) == Interval.point(x * y)
    assert minimum(px, py) == Interval.point(min(x, y)) and maximum(px, py) == Interval.point(max(x, y))
    if y:
        assert div(px, py) == Interval.point(x / y)
    assert rounded(px, places) == Interval.point(Fraction(round_half_up_scaled(x, places), 10**places))


def test_open_and_closed_ends():
    positive = Interval(Fraction(0), False, Fraction(10), False)  # a decimal > 0 of the contract
    assert positive.signs() == frozenset({1})
    assert inv(positive) == Interval(Fraction(1, 10), False, None, False)
    share = Interval(Fraction(0), True, Fraction(1), True)
    assert mul(share, positive) == Interval(Fraction(0), True, Fraction(10), False)  # 0 × anything is reached
    assert not Interval(Fraction(0), False, Fraction(1), True).contains(Fraction(0))
    # half up: 0.005 rounds to 0.01, everything below it to 0.00
    assert rounded(Interval(Fraction(0), True, Fraction(5, 1000), False), 2) == Interval.point(Fraction(0))
    assert rounded(Interval(Fraction(0), True, Fraction(5, 1000), True), 2).hi == Fraction(1, 100)
    assert hull([Interval.point(Fraction(1)), Interval.point(Fraction(3))]) == Interval(
        Fraction(1), True, Fraction(3), True
    )
