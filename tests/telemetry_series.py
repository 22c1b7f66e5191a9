"""Small telemetry series built in tests, so every derived fact can be computed by hand."""

from engine.drafting.ruletests import TELEMETRY_HEADER as HEADER
from engine.drafting.ruletests import telemetry_day


def day(date="2026-03-01", base=("500", "0", "0"), special=None, skip=(), delay_s=300, late=None, system="S1"):
    """96 fifteen-minute rows of one day (see engine.drafting.ruletests.telemetry_day)."""
    return telemetry_day(date, base, special, skip, delay_s, late, system)


def csv_text(*row_lists):
    return "\n".join([HEADER, *[r for rows in row_lists for r in rows]]) + "\n"
