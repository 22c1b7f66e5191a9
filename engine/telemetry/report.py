"""Metered facts and declared-versus-metered comparisons, as text for a person."""

from __future__ import annotations

MAX_GAPS_SHOWN = 12


def facts_lines(facts: dict) -> list[str]:
    """``facts`` is ``MeteredFacts.as_dict()``."""
    p = facts["period"]
    lines = [
        f"  储能系统 System {facts['system_id'] or '(unnamed)'} · 期间 period {p['start']} – {p['end']} · "
        f"间隔 interval {facts['interval_minutes']} min · 日间时段 daytime window {facts['daytime_window']}",
        f"  无储能基准峰值 Baseline peak        {facts['baseline_peak_kw']:>14} kW   at {facts['baseline_peak_at']}",
        f"  储能运行后峰值 Peak with storage    {facts['peak_with_storage_kw']:>14} kW   at {facts['peak_with_storage_at']}",
        f"  削峰比例 Peak-shaving ratio         {facts['peak_shaving_ratio']:>14}",
        f"  放电量 Energy discharged            {facts['discharged_kwh']:>14} kWh",
        f"  上报完整率 Reporting completeness   {facts['reporting_completeness']:>14}   "
        f"({facts['intervals_received']:,} of {facts['intervals_expected']:,} intervals received)",
        f"  最大上传延迟 Max upload delay       {facts['max_upload_delay_min']:>14} min  "
        + (f"interval at {facts['max_upload_delay_at']}" if facts["max_upload_delay_at"] else "")
        + f"; {facts['late_intervals']} interval(s) later than one interval",
    ]
    if facts["intervals_outside_period"]:
        lines.append(f"  期间外记录 Outside the period: {facts['intervals_outside_period']} interval(s), not used")
    gaps = facts["gaps"]
    lines.append(
        f"  缺失时段 Gaps: {len(gaps)}"
        + (", none" if not gaps else f", {sum(g['intervals'] for g in gaps):,} interval(s) missing")
    )
    for g in gaps[:MAX_GAPS_SHOWN]:
        lines.append(f"    {g['from']} – {g['to']}  ({g['intervals']} interval(s))")
    if len(gaps) > MAX_GAPS_SHOWN:
        lines.append(f"    … {len(gaps) - MAX_GAPS_SHOWN} more (--format json lists every gap)")
    return lines


def metering_lines(block: dict) -> list[str]:
    """``block`` is a decision's ``metering`` block."""
    t = block["telemetry"]
    lines = [f"计量核验 Metered data: {t['file']} (sha256 {t['sha256'][:12]}…); the metered values decided"]
    lines += facts_lines(block["facts"])
    lines.append("  申报与计量 Declared vs metered:")
    for c in block["comparisons"]:
        mark = "✘ differs" if c["differs"] else "✔ agrees"
        lines.append(
            f"    {mark:<10} {c['label']['zh']} {c['label']['en']}: declared {c['declared']}, "
            f"metered {c['metered']} (difference {c['difference']}, tolerance {c['limit']})"
        )
    return lines
