"""Exact numbers: parse without binary floats, round half up once, format for the contract.

Internally every quantity is a ``fractions.Fraction`` so that a ratio such as
(1200 - 840) / 1200 compares to a tier boundary exactly; Decimal division would round.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache


def parse_decimal(text: str) -> Decimal:
    """A finite Decimal from text, or ValueError. Never goes through float."""
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, AttributeError):
        raise ValueError(f"not a decimal number: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a finite number: {text!r}")
    return value


def to_fraction(value) -> Fraction:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, (int, Decimal, Fraction)):
        return Fraction(value)
    if isinstance(value, str):
        return Fraction(parse_decimal(value))
    raise TypeError(f"not an exact number: {value!r} ({type(value).__name__})")


if hasattr(Fraction, "_from_coprime_ints"):  # Python 3.12
    fraction_of_ratio = Fraction._from_coprime_ints  # type: ignore[attr-defined]  # 3.12+, not in 3.11's stubs
else:
    _new_object = object.__new__

    def fraction_of_ratio(numerator: int, denominator: int) -> Fraction:
        """``Fraction(numerator, denominator)`` for a pair already in lowest terms, denominator > 0.

        Python 3.11's constructor re-checks the types and takes a gcd; a reduced pair (from
        ``Decimal.as_integer_ratio``, or an int over 1) needs neither, and it is the same value.
        """
        f = _new_object(Fraction)
        f._numerator, f._denominator = numerator, denominator  # type: ignore[attr-defined]  # the slots, set once
        return f


def round_half_up(value: Fraction, places: int) -> Decimal:
    """ROUND_HALF_UP (四舍五入, away from zero on a tie) of an exact fraction.

    Decimal.quantize cannot take a Fraction without first dividing (and rounding),
    so the tie rule is applied to the scaled integer pair directly.
    """
    return Decimal(round_half_up_scaled(value, places)).scaleb(-places)


def round_half_up_scaled(value: Fraction, places: int) -> int:
    """``round_half_up(value, places)`` as an integer count of 10**-places (no Decimal, no gcd).

    floor((2n + d) / 2d) is the same whether or not n/d is in lowest terms, so the scaled
    numerator need not be reduced.
    """
    n, d = value.numerator * 10**places, value.denominator
    if n < 0:
        return -((-2 * n + d) // (2 * d))
    return (2 * n + d) // (2 * d)


def fmt_scaled(q: int, places: int) -> str:
    """``fmt_amount(Decimal(q).scaleb(-places), places)``: q units of 10**-places, fixed point."""
    if places <= 0:
        return fmt_amount(Decimal(q).scaleb(-places), places)
    whole, frac = divmod(-q if q < 0 else q, 10**places)
    return f"{'-' if q < 0 else ''}{whole}.{frac:0{places}d}"


def fmt_amount(value: Decimal, places: int) -> str:
    return f"{value:.{places}f}"


def fmt_money(value: str | Decimal | None, places: int | None = None) -> str:
    """An amount for people, digits grouped by thousands: '1500000.00' -> '1,500,000.00'.

    Exact (Decimal keeps every digit): ``places`` fixed, or by default the places the amount is
    written with, so yuan keep 2 and tCO2e 3 as the decision spells them. None is ''.
    """
    if value is None:
        return ""
    d = value if isinstance(value, Decimal) else Decimal(value)
    if places is None:
        exponent = d.as_tuple().exponent
        places = max(0, -exponent) if isinstance(exponent, int) else 0
    return f"{d:,.{places}f}"


def fmt_plain(value) -> str:
    """A human form of an exact value: integers bare, terminating fractions as decimals."""
    # A whole Fraction prints as its numerator; this skips hashing it (a modular inverse) for the cache.
    if type(value) is Fraction:  # the slots, not the numerator/denominator properties
        numerator, denominator = value._numerator, value._denominator  # type: ignore[attr-defined]  # Fraction's slots: its properties cost a call per read here
        if denominator == 1:
            return str(numerator)
        return _fmt_ratio(numerator, denominator)  # ints hash cheaply; a Fraction does not
    return _fmt_plain(value)


@lru_cache(maxsize=8192)
def _fmt_ratio(numerator: int, denominator: int) -> str:
    """``_fmt_plain(Fraction(numerator, denominator))`` for a reduced pair with denominator > 1."""
    d = denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    if d == 1:  # terminates: print exactly
        text = format(Decimal(numerator) / Decimal(denominator), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return format(round_half_up(Fraction(numerator, denominator), 6), "f") + "…"


@lru_cache(maxsize=8192, typed=True)  # typed: True == 1 == Fraction(1) must not share an entry
def _fmt_plain(value) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return str(value).lower() if isinstance(value, bool) else str(value)
    f = Fraction(value)
    if f.denominator == 1:
        return str(f.numerator)
    d = f.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    if d == 1:  # terminates: print exactly
        text = format(Decimal(f.numerator) / Decimal(f.denominator), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return format(round_half_up(f, 6), "f") + "…"
