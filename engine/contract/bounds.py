"""The contract's bounds: how large a number, a document, a line or a nesting may be.

Each limit is a named constant, checked on the text (or on a Decimal's exponent) before any
value is built from it: ``1e999999999`` is eleven bytes whose exact fraction has a billion
digits, and ``1.000…0`` with a million zeros costs half a minute to turn into a Fraction. With
these bounds every number of a valid application has at most 27 significant digits, so no input
can make a decision take more than milliseconds.
"""

from __future__ import annotations

import re
from decimal import Context, Decimal

#: Digits before the point, leading zeros not counted: money up to 10^18 yuan, and the same ceiling
#: for kWh, kW, ms, minutes and counts (integers too). 18, not fewer: it is the range the columnar
#: kernel validates and proves its arithmetic for, so both backends refuse exactly the same values.
MAX_INTEGER_DIGITS = 18
#: Places after the point, trailing zeros not counted (money has its own rule: 2).
MAX_DECIMAL_PLACES = 12
#: A number as written (JSON number or text, sign, zeros and exponent included). Leading or
#: trailing zeros cannot then make the value expensive even where its digits are in bounds.
MAX_NUMBER_CHARS = 40
#: One application: a file given to ``check``, a submission, one JSON Lines line or CSV row.
MAX_DOCUMENT_BYTES = 1 << 20
#: Values in one document, counted before parsing as commas and opening brackets (an upper
#: bound: each value after a container's first needs a comma). An application has about 50;
#: a megabyte of ``{},{},…`` would otherwise cost a fifth of a second to parse and walk.
MAX_VALUES = 10_000
#: Objects and arrays inside each other; an application is 4 deep (document, storage,
#: platform, value), so 8 leaves room and refuses a 1,000-deep bracket bomb before pydantic.
MAX_DEPTH = 8
#: Characters of an offending value repeated in an error message.
MAX_ECHO_CHARS = 40

INTEGER_TEXT = f"must have at most {MAX_INTEGER_DIGITS} integer digits"
PLACES_TEXT = f"must have at most {MAX_DECIMAL_PLACES} decimal places"
CHARS_TEXT = f"must be written in at most {MAX_NUMBER_CHARS} characters"

#: A decimal given as text (a JSON string, a CSV or Parquet cell): ASCII digits only, an optional
#: minus, no '+', no '_', no exponent, nothing before or after, digits on both sides of a point.
DECIMAL_TEXT = re.compile(r"-?([0-9]+)(?:\.([0-9]+))?", re.ASCII)
_NON_FINITE = re.compile(r"[+-]?(nan|snan|inf|infinity)", re.ASCII | re.IGNORECASE)
_WIDE = Context(prec=2 * MAX_NUMBER_CHARS)  # quantize never rounds a bounded value
_PLACES = Decimal(1).scaleb(-MAX_DECIMAL_PLACES)
#: Text this short cannot break a digit bound (most values: no need to look at their parts).
_SURELY_IN_BOUNDS = min(MAX_INTEGER_DIGITS, MAX_DECIMAL_PLACES + 2, MAX_NUMBER_CHARS)  # "0." + places
#: The first integer beyond the bounds (integer fields are ``le=MAX_INTEGER - 1``).
MAX_INTEGER = 10**MAX_INTEGER_DIGITS


class TooLongInteger(int):
    """A JSON integer (or CSV cell) of more than MAX_INTEGER_DIGITS digits, never converted:
    it stands in as ±MAX_INTEGER, just past every field's range, so the field's own bound
    refuses it (``must be ≤ 999999999999999999``, or a decimal field's digit count)."""

    chars: int

    def __new__(cls, chars: int, negative: bool = False):
        self = super().__new__(cls, -MAX_INTEGER if negative else MAX_INTEGER)
        self.chars = chars
        return self

    def __str__(self) -> str:
        return f"<an integer of {self.chars} characters>"

    __repr__ = __str__


class OutOfBounds:
    """A JSON number too long to be read at all, kept as a marker (like NaN's) so that
    validation names the field that holds it; only its length is kept, never its digits."""

    def __init__(self, chars: int, problem: str):
        self.chars, self.problem = chars, problem

    def __str__(self) -> str:
        return f"<a number of {self.chars} characters>"


def echo(value: str) -> str:
    """``repr(value)``, cut to MAX_ECHO_CHARS characters so a message stays one short line."""
    if len(value) <= MAX_ECHO_CHARS:
        return repr(value)
    return f"{value[:MAX_ECHO_CHARS]!r}… ({len(value):,} characters)"


def json_int(text: str) -> int:
    """``parse_int`` for json.loads: no field holds more than MAX_INTEGER_DIGITS digits, so a
    longer integer is never converted (Python's int() is quadratic, and refuses 4,300 digits)."""
    if len(text) - (text[0] == "-") > MAX_INTEGER_DIGITS:
        return TooLongInteger(len(text), text[0] == "-")
    return int(text)


def json_decimal(text: str) -> Decimal | OutOfBounds:
    """``parse_float`` for json.loads: the number exactly, or a marker when it is written too long."""
    if len(text) > MAX_NUMBER_CHARS:
        return OutOfBounds(len(text), CHARS_TEXT)
    return Decimal(text)


def decimal_from_text(text: str, places_text: str = PLACES_TEXT) -> Decimal:
    """A decimal spelt as the contract spells it (see DECIMAL_TEXT), within the bounds, or
    ValueError saying which rule it breaks."""
    m = DECIMAL_TEXT.fullmatch(text)
    if m is None:
        if _NON_FINITE.fullmatch(text.strip()):
            raise ValueError("must be a finite number (NaN and Infinity are refused)")
        raise ValueError(f"must be a decimal number, got {echo(text)}")
    if len(text) <= _SURELY_IN_BOUNDS:
        return Decimal(text)
    whole, fraction = m.group(1), m.group(2) or ""
    if len(whole.lstrip("0")) > MAX_INTEGER_DIGITS:
        raise ValueError(INTEGER_TEXT)
    if len(fraction.rstrip("0")) > MAX_DECIMAL_PLACES:
        raise ValueError(places_text)
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError(CHARS_TEXT)
    return Decimal(text)


def check_decimal(value: Decimal, places_text: str = PLACES_TEXT) -> Decimal:
    """A finite Decimal within the bounds, judged on its exponent and digit count (never by
    building the exact value), or ValueError."""
    if value.adjusted() >= MAX_INTEGER_DIGITS:
        raise ValueError(INTEGER_TEXT)
    sign, digits, exponent = value.as_tuple()
    if len(digits) > MAX_NUMBER_CHARS:
        raise ValueError(CHARS_TEXT)
    assert isinstance(exponent, int)  # finite: the caller has checked
    if exponent < -MAX_DECIMAL_PLACES and (
        exponent < -MAX_NUMBER_CHARS or value != value.quantize(_PLACES, context=_WIDE)
    ):
        raise ValueError(places_text)
    return value


def decimal_text(value: Decimal) -> str:
    """A JSON number as the text a cell would hold: fixed point (``1E+3`` is ``1000``, ``1E-7``
    is ``0.0000001``) when it is within the bounds, else its short scientific form, which every
    text rule refuses (fixed point of ``1E+999999999`` would be a billion characters)."""
    try:
        if value.is_finite():
            return format(check_decimal(value), "f")
    except ValueError:
        pass
    return str(value)


def read_bounded(stream, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """At most ``limit + 1`` bytes of a binary stream: enough for the size check to refuse a
    larger document, never the whole of /dev/zero."""
    return stream.read(limit + 1)
