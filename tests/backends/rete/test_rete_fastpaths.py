"""The speed-ups of the Rete path must agree exactly with the slow code they replace."""

import random
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

from engine.contract.application import _USCC_ALPHABET, _valid_uscc
from engine.decimals import fmt_amount, fmt_scaled, fraction_of_ratio, round_half_up, round_half_up_scaled
from engine.rulebook.expressions import _BINARY, _FRACTION_BINARY, Arith, Const


def _stdnum_accepts_unchanged(code: str) -> bool:
    try:
        return uscc.validate(code) == code
    except StdnumError:
        return False


def _valid_code(rng: random.Random) -> str:
    body = "".join(rng.choice("0123456789") for _ in range(8)) + "".join(rng.choice(_USCC_ALPHABET) for _ in range(9))
    return body + uscc.calc_check_digit(body)


def test_fast_credit_code_check_accepts_what_stdnum_accepts_and_nothing_else():
    rng = random.Random(1)
    tricky = "0123456789ABCDEFGHJKLMNPQRTUWXYIOSVZabcxy -–—\u0660\uff11"
    accepted = rejected = 0
    for _ in range(20_000):
        code = _valid_code(rng)
        if rng.random() < 0.7:  # one to three characters changed: wrong check digits, bad letters, dashes
            chars = list(code)
            for _ in range(rng.randint(1, 3)):
                chars[rng.randrange(18)] = rng.choice(tricky)
            code = "".join(chars)
        if rng.random() < 0.05:
            code = code[: rng.randrange(18)] if rng.random() < 0.5 else code + rng.choice(tricky)
        fast = _valid_uscc(code)
        assert fast == _stdnum_accepts_unchanged(code), code
        accepted += fast
        rejected += not fast
    assert accepted > 5_000 and rejected > 5_000  # both sides exercised


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXYIOZa- ", min_size=16, max_size=20))
def test_fast_credit_code_check_never_accepts_what_stdnum_refuses(code):
    if _valid_uscc(code):
        assert _stdnum_accepts_unchanged(code)


@pytest.mark.parametrize("code", ["91110000600037341L", "91140100MA0K2B3C4D"])
def test_fast_credit_code_check_on_known_codes(code):
    assert _valid_uscc(code) == _stdnum_accepts_unchanged(code)


def _round_half_up_reference(value: Fraction, places: int) -> Decimal:
    """An independent reading of 四舍五入: Decimal's own ROUND_HALF_UP on an exactly representable quotient."""
    with localcontext() as ctx:
        ctx.prec = 200
        exact = Decimal(value.numerator) / Decimal(value.denominator)  # exact: denominators used below divide 10**k
        return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def test_scaled_rounding_and_formatting_match_decimal_half_up():
    rng = random.Random(2)
    for _ in range(30_000):
        value = Fraction(rng.randint(-(10**15), 10**15), rng.choice((1, 2, 4, 8, 5, 25, 125, 1000, 10**6, 2**10)))
        places = rng.choice((0, 1, 2, 3, 6))
        expected = _round_half_up_reference(value, places)
        q = round_half_up_scaled(value, places)
        assert Decimal(q).scaleb(-places) == expected
        assert round_half_up(value, places) == expected
        assert fmt_scaled(q, places) == fmt_amount(expected, places) == fmt_amount(round_half_up(value, places), places)


def test_scaled_rounding_of_ties_goes_away_from_zero():
    assert fmt_scaled(round_half_up_scaled(Fraction("123.455"), 2), 2) == "123.46"
    assert fmt_scaled(round_half_up_scaled(Fraction("-123.455"), 2), 2) == "-123.46"
    assert fmt_scaled(round_half_up_scaled(Fraction("123.4549"), 2), 2) == "123.45"
    assert fmt_scaled(round_half_up_scaled(Fraction("12345.50") / 100, 2), 2) == "123.46"  # 1 % of 12,345.50
    assert fmt_scaled(round_half_up_scaled(Fraction(1, 3), 3), 3) == "0.333"
    assert fmt_scaled(round_half_up_scaled(Fraction(-1, 1000), 2), 2) == "0.00"


def test_fraction_of_a_reduced_pair_is_the_same_fraction():
    rng = random.Random(4)
    for _ in range(20_000):
        d = Decimal(rng.randint(-(10**12), 10**12)).scaleb(-rng.randint(0, 8))
        f = fraction_of_ratio(*d.as_integer_ratio())
        g = Fraction(d)
        assert type(f) is Fraction and f == g and hash(f) == hash(g) and repr(f) == repr(g)
        assert (f.numerator, f.denominator) == (g.numerator, g.denominator)
        assert f * 3 - g == 2 * g and str(f) == str(g)


def _random_fraction(rng: random.Random) -> Fraction:
    n = rng.choice((0, 1, -1, rng.randint(-(10**18), 10**18), rng.randint(-1000, 1000)))
    return Fraction(n, rng.choice((1, 2, 3, 7, 10, 100, 360, rng.randint(1, 10**9))))


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "min", "max"])
def test_fraction_fast_paths_give_the_same_fractions_as_the_operators(op):
    rng = random.Random(op)
    fast, slow = _FRACTION_BINARY[op], _BINARY[op]
    for _ in range(20_000):
        a, b = _random_fraction(rng), _random_fraction(rng)
        if rng.random() < 0.1:
            b = a if rng.random() < 0.5 else -a
        if op == "div" and b == 0:
            continue
        got, want = fast(a, b), slow(a, b)
        assert type(got) is Fraction and got == want
        assert (got.numerator, got.denominator) == (want.numerator, want.denominator)
        if op in ("min", "max"):
            assert got is want  # the same operand, as min/max return it


def test_compiled_division_by_zero_is_undefined_not_an_error():
    term = Arith("div", (Const(Fraction(3)), Const(Fraction(0))))
    assert term.compile()(None) is None and term.value(None) is None
    assert Arith("div", (Const(Fraction(3)), Const(Fraction(4)))).compile()(None) == Fraction(3, 4)
