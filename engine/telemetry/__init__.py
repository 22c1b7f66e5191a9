"""Metered data: the telemetry reader (CSV/Parquet intervals), the facts derived from it exactly, the
declared-versus-metered cross-check, and their text report.
"""

from __future__ import annotations

from engine.lazy import lazy_exports

__all__ = [
    "Interval",
    "MeteredFacts",
    "Settings",
    "Telemetry",
    "annotate",
    "decide_metered",
    "derive",
    "facts_for",
    "facts_lines",
    "metered_application",
    "metering_lines",
    "read_telemetry",
    "settings_at",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Telemetry": "reader",
        "Interval": "reader",
        "read_telemetry": "reader",
        "MeteredFacts": "metering",
        "Settings": "metering",
        "derive": "metering",
        "decide_metered": "crosscheck",
        "metered_application": "crosscheck",
        "facts_for": "crosscheck",
        "settings_at": "crosscheck",
        "annotate": "crosscheck",
        "facts_lines": "report",
        "metering_lines": "report",
    },
)
