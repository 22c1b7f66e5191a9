"""China Standard Time: how every stored (UTC) time is shown, and the day a notice is dated.

A fixed UTC+08:00 offset rather than zoneinfo's ``Asia/Shanghai``: China has kept UTC+8 without
daylight saving since 1991, and a fixed offset needs no time-zone database, which a bare system
with the base install does not have.
"""

from __future__ import annotations

import datetime as dt

CST = dt.timezone(dt.timedelta(hours=8), "CST")


def as_cst(value: dt.datetime) -> dt.datetime:
    """``value`` in China Standard Time; a naive value is UTC (as SQLite hands stored times back)."""
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(CST)


def shown_time(value: dt.datetime | None) -> str:
    """A stored time as the bureau reads it: ``2026-12-02 09:35:16 CST`` (``-`` for none)."""
    return "-" if value is None else f"{as_cst(value):%Y-%m-%d %H:%M:%S} CST"
