"""The one money formatter (engine/decimals.py ``fmt_money``) used by the summary, notices and why-not."""

from decimal import Decimal

import pytest

from engine.decimals import fmt_money


@pytest.mark.parametrize(
    "value, shown",
    [
        ("1500000.00", "1,500,000.00"),
        ("285.150", "285.150"),  # tCO2e keep their 3 places
        ("0.00", "0.00"),
        ("-105000.00", "-105,000.00"),
        ("1234567", "1,234,567"),
        ("12345678901234567890.01", "12,345,678,901,234,567,890.01"),  # no float on the way
        ("1E+3", "1,000"),  # a positive exponent has no places
        (Decimal("175009.71"), "175,009.71"),
        (None, ""),
    ],
)
def test_amounts_are_grouped_by_thousands_with_their_own_places(value, shown):
    assert fmt_money(value) == shown


def test_places_can_be_fixed():
    assert fmt_money(Decimal("1234.5"), 2) == "1,234.50"
    assert fmt_money("0.125", 2) == "0.12"  # Decimal's default: half even (callers round first)
