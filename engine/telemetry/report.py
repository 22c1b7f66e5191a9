"""Metered facts and declared-versus-metered comparisons, as text for a person, in the language
in force (engine/i18n): values in their units, ratios as percentages."""

from __future__ import annotations

from engine.i18n import language, number, t

MAX_GAPS_SHOWN = 12
#: the unit each metered fact and compared value is shown in
UNITS = {
    "baseline_peak_kw": "kW",
    "peak_with_storage_kw": "kW",
    "peak_shaving_ratio": "ratio",
    "discharged_kwh": "kWh",
    "reporting_completeness": "ratio",
    "max_upload_delay_min": "min",
}


def facts_lines(facts: dict) -> list[str]:
    """``facts`` is ``MeteredFacts.as_dict()``."""
    p = facts["period"]
    shown = {k: number(facts[k], u) for k, u in UNITS.items()}
    lines = [
        t(
            "cli.metering.system",
            system=facts["system_id"] or t("cli.metering.unnamed"),
            start=p["start"],
            end=p["end"],
            interval=number(facts["interval_minutes"], "min"),
            window=facts["daytime_window"],
        ),
        t("cli.metering.baseline_peak", value=shown["baseline_peak_kw"], at=facts["baseline_peak_at"]),
        t("cli.metering.peak_with_storage", value=shown["peak_with_storage_kw"], at=facts["peak_with_storage_at"]),
        t("cli.metering.ratio", value=shown["peak_shaving_ratio"]),
        t("cli.metering.discharged", value=shown["discharged_kwh"]),
        t(
            "cli.metering.completeness",
            value=shown["reporting_completeness"],
            expected=f"{facts['intervals_expected']:,}",
            received=f"{facts['intervals_received']:,}",
        ),
        t(
            "cli.metering.delay",
            value=shown["max_upload_delay_min"],
            at=t("cli.metering.delay_at", at=facts["max_upload_delay_at"]) if facts["max_upload_delay_at"] else "",
            late=facts["late_intervals"],
        ),
    ]
    if facts["intervals_outside_period"]:
        lines.append(t("cli.metering.outside", n=facts["intervals_outside_period"]))
    gaps = facts["gaps"]
    if not gaps:
        lines.append(t("cli.metering.gaps_none"))
    else:
        missing = f"{sum(g['intervals'] for g in gaps):,}"
        lines.append(t("cli.metering.gaps", n=len(gaps), missing=missing))
    for g in gaps[:MAX_GAPS_SHOWN]:
        lines.append(t("cli.metering.gap", start=g["from"], end=g["to"], n=g["intervals"]))
    if len(gaps) > MAX_GAPS_SHOWN:
        lines.append(t("cli.metering.more_gaps", n=len(gaps) - MAX_GAPS_SHOWN))
    return lines


def metering_lines(block: dict) -> list[str]:
    """``block`` is a decision's ``metering`` block."""
    tel = block["telemetry"]
    lines = [t("cli.metering.head", file=tel["file"], digest=tel["sha256"][:12])]
    lines += facts_lines(block["facts"])
    lines.append(t("cli.metering.compared"))
    lang = language()
    for c in block["comparisons"]:
        u = UNITS.get(c["fact"])
        lines.append(
            t(
                "cli.metering.comparison",
                mark=t("cli.metering.differs" if c["differs"] else "cli.metering.agrees"),
                label=c["label"][lang],
                declared=number(c["declared"], u),
                metered=number(c["metered"], u),
                difference=number(c["difference"], u),
                limit=number(c["limit"], u),
            )
        )
    return lines
