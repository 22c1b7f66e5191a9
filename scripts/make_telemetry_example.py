"""Generate examples/telemetry/taiyuan-2026.csv: one year of 15-minute metering for the Taiyuan warehouse.

What it models
--------------
The storage system TY-QH-ESS-01 of examples/applications/taiyuan-pv-storage-warehouse.json: a
2,000 kWh battery (≤ 500 kW either way) behind the meter of an e-commerce warehouse in Taiyuan
with rooftop PV, through calendar year 2026, as the provincial platform received it.

- Site load (what the grid would supply without storage; PV already netted off): nights
  ~200–350 kW; days ~600–1,200 kW with a morning and an evening picking wave, a PV dip at midday
  that follows the season and the day's cloud, lighter weekends, the Spring Festival lull
  (15–23 Feb, daytime peaks ~460–570 kW), a quiet National Day week, and the 618 and 双11/双12
  shopping festivals.
- Night shifts put three days' load peak outside the daytime window 08:00–22:00: the 双11 order
  surge at midnight (00:00–01:45 on 11 Nov, above 1,200 kW, the year's in-window peak), a
  年货节 backlog shift starting at 22:00 on 9 Jan (the first interval outside the window) and a
  double-12 early shift peaking at 07:45 on 12 Dec (the last interval before the window).
- The battery charges in the night valley 23:00–07:00 towards 95 % state of charge (≤ 500 kW,
  never lifting night import above 900 kW); discharges in the tariff peak hours 08:00–11:00 and
  17:00–22:00 at a flat ~122.5 kW while above a 30 % reserve; and shaves any load above the EMS
  demand target of 880 kW. The controller acts on one-second readings, so a 15-minute average
  under shaving sits 0–25 kW above the target. The state of charge is tracked exactly (charging
  stores 90 % of the energy drawn: round-trip efficiency 0.9; floor 10 %) and no discharge ever
  exceeds it; the battery never charges and discharges in the same interval.
- Grid import = load − discharge + charge ≥ 0 in every interval.
- Three platform outages (rows missing, never back-filled) and upload delays of 1–8 minutes after
  the interval end, with a handful of late uploads up to just under 12 minutes.

Properties (checked on every run from the written file, with Decimal arithmetic; the script
exits 1 if one fails)
- header ``system_id,interval_start,grid_import_kw,storage_discharge_kw,storage_charge_kw,
  received_at``; starts on the 15-minute grid, unique, ascending; powers with exactly 2 places;
- baseline peak in the window exactly 1200.00 kW, reached in one interval (11 Nov 19:45);
- peak with storage in the window between 880 and 920 kW — so the metered peak-shaving ratio is
  about 0.25, not the declared 0.30 (840 kW): the point of the example;
- discharged energy within ±1 % of the declared 350,000 kWh;
- completeness between 0.965 and 0.975 (declared 0.97); maximum upload delay between 11 and 13
  minutes (declared 10);
- on 9 Jan, 11 Nov and 12 Dec the day's load peak lies outside the window.

Everything is integers in 0.01 kW (no binary float reaches a written value) from a seeded
``random.Random``, so the output is byte-identical on every run and platform.

    .venv/bin/python scripts/make_telemetry_example.py [--out PATH]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import random
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "examples" / "telemetry" / "taiyuan-2026.csv"
HEADER = ["system_id", "interval_start", "grid_import_kw", "storage_discharge_kw", "storage_charge_kw", "received_at"]
SYSTEM = "TY-QH-ESS-01"
SEED = 20260101
YEAR = 2026
SLOTS = 96  # 15-minute intervals per day
STEP = dt.timedelta(minutes=15)

# Powers are integers in 0.01 kW ("centi-kW"); the state of charge in 0.00025 kWh, so that one
# interval of d centi-kW discharging removes exactly 10·d and of c centi-kW charging stores 9·c
# (90 % of 0.0025 kWh per centi-kW-interval): exact bookkeeping with the efficiency included.
KW = 100
KWH = 4000  # state-of-charge units per kWh
CAPACITY = 2000 * KWH
SOC_FLOOR = CAPACITY * 10 // 100
SOC_RESERVE = CAPACITY * 30 // 100  # arbitrage stops here; what is left is for shaving
SOC_TARGET = CAPACITY * 95 // 100
MAX_POWER = 500 * KW
NIGHT_IMPORT_CAP = 900 * KW
DEMAND_TARGET = 880 * KW
OVERSHOOT_MAX = 25 * KW
ARBITRAGE_KW = 12250  # 122.50 kW: tuned so the year's received discharge is ~350,000 kWh
MIN_IMPORT = 50 * KW  # arbitrage never drives import below this (no backflow)

WINDOW = (8 * 4, 22 * 4)  # slots of the daytime window, [start, end)
TOU_PEAK = [(8 * 4, 11 * 4), (17 * 4, 22 * 4)]

PEAK_DAY, PEAK_SLOT = dt.date(2026, 11, 11), 19 * 4 + 3  # 19:45: the one interval at 1200.00 kW
BASELINE_PEAK = 1200 * KW

# Outages of the platform link: (first missing interval, intervals missing).
OUTAGES = [
    (dt.datetime(2026, 3, 17, 10, 15), 6 * 4),  # modem reboot loop, 6 h
    (dt.datetime(2026, 7, 28, 20, 0), 108 * 4),  # data logger hit by lightning, 4.5 days
    (dt.datetime(2026, 9, 21, 14, 0), 148 * 4),  # platform certificate expired, 6 days 4 h
]
LATE_UPLOADS = 8  # intervals uploaded 9–12 minutes late
MAX_DELAY_S = 11 * 60 + 43  # the latest upload of the year

# Shape of the gross (before PV) daytime load, per mille of the day's level, by hour 08–21.
DAY_SHAPE = {
    8: 760,
    9: 860,
    10: 930,
    11: 950,
    12: 830,
    13: 870,
    14: 910,
    15: 920,
    16: 900,
    17: 880,
    18: 870,
    19: 940,
    20: 950,
    21: 820,
}
MONTH = {1: 940, 2: 900, 3: 950, 4: 960, 5: 975, 6: 990, 7: 1000, 8: 1010, 9: 970, 10: 975, 11: 1010, 12: 985}
WEEKDAY = [1000, 1000, 1000, 1000, 1010, 930, 860]
# Sunrise/sunset (local hour × 4, i.e. slots) and clear-sky PV peak (kW) by month, Taiyuan 37.9° N.
SUN = {
    1: (31, 71, 250),
    2: (29, 74, 290),
    3: (27, 76, 330),
    4: (24, 78, 360),
    5: (22, 80, 375),
    6: (21, 81, 380),
    7: (22, 81, 370),
    8: (24, 79, 355),
    9: (26, 76, 330),
    10: (28, 73, 295),
    11: (30, 71, 255),
    12: (31, 70, 235),
}


def festival(day: dt.date) -> int:
    """Per-mille uplift (or cut) of the day's level for the calendar's events."""
    md = (day.month, day.day)
    if (2, 15) <= md <= (2, 23):
        return 620  # Spring Festival skeleton crew
    if (10, 1) <= md <= (10, 7):
        return 880  # National Day week
    if (6, 10) <= md <= (6, 19):
        return 1000 + 12 * (day.day - 9)  # 618 build-up, +12 % on the day
    if (11, 1) <= md <= (11, 12):
        return 1000 + {11: 150, 12: 140}.get(day.day, 8 * day.day)  # 双11
    if (12, 10) <= md <= (12, 12):
        return 1050
    if (1, 5) <= md <= (1, 20):
        return 1030  # 年货节
    return 1000


def day_loads(day: dt.date, rng: random.Random) -> list[int]:
    """The site's load (centi-kW, PV netted off) in each of the day's 96 intervals."""
    level = 1040 * KW * MONTH[day.month] * WEEKDAY[day.weekday()] * festival(day) // 10**9
    level += rng.randint(-2 * KW, 2 * KW) * 10
    night = rng.randint(220 * KW, 320 * KW)
    rise, set_, pv_peak = SUN[day.month]
    clearness = rng.choice([300, 550, 800, 900, 950, 1000, 1000])  # per mille; Taiyuan is mostly sunny
    loads = []
    for slot in range(SLOTS):
        if slot < 6 * 4 or slot >= 23 * 4:
            gross = night
        elif slot < 8 * 4:  # morning ramp to 72 % of the level
            gross = night + (level * 720 // 1000 - night) * (slot - 6 * 4 + 1) // 9
        elif slot < 22 * 4:
            gross = level * DAY_SHAPE[slot // 4] // 1000
        else:  # 22:00–22:45 wind-down
            gross = level * 700 // 1000 - (level * 700 // 1000 - night) * (slot - 22 * 4 + 1) // 5
        gross += gross * rng.randint(-20, 20) // 1000
        pv = 0
        if rise < slot < set_:
            # a parabola over the day: (x·(L−x)) / (L/2)² in exact integers
            x, span = slot - rise, set_ - rise
            pv = pv_peak * KW * clearness * 4 * x * (span - x) // (1000 * span * span)
        loads.append(gross - pv)
    return loads


def apply_events(year: dict[dt.date, list[int]], rng: random.Random) -> None:
    """Night shifts, and the one interval at the year's in-window baseline peak."""

    def ramp(day, first, values):
        for k, value in enumerate(values):
            year[day][first + k] = value + rng.randint(-3 * KW, 3 * KW)

    ramp(
        dt.date(2026, 11, 11),
        0,
        [1215 * KW, 1250 * KW, 1268 * KW, 1262 * KW, 1240 * KW, 1196 * KW, 1010 * KW, 720 * KW],
    )  # 双11 midnight surge 00:00–01:45
    ramp(dt.date(2026, 1, 9), 22 * 4, [1010 * KW, 985 * KW, 940 * KW, 860 * KW, 640 * KW, 420 * KW])
    ramp(
        dt.date(2026, 12, 12),
        6 * 4,
        [700 * KW, 820 * KW, 900 * KW, 960 * KW, 990 * KW, 1005 * KW, 1000 * KW, 1018 * KW],
    )  # early shift 06:00–07:45
    year[PEAK_DAY][PEAK_SLOT] = BASELINE_PEAK


def dispatch(year: dict[dt.date, list[int]], rng: random.Random):
    """(start, load, discharge, charge) for every interval, with the battery's state tracked."""
    soc = SOC_TARGET
    for day in sorted(year):
        for slot, load in enumerate(year[day]):
            start = dt.datetime.combine(day, dt.time()) + slot * STEP
            discharge = charge = 0
            if WINDOW[0] <= slot < WINDOW[1]:
                want = 0
                if any(a <= slot < b for a, b in TOU_PEAK) and soc > SOC_RESERVE:
                    want = min(ARBITRAGE_KW + rng.randint(-3 * KW, 3 * KW), max(0, load - MIN_IMPORT))
                if load > DEMAND_TARGET:
                    want = max(want, load - DEMAND_TARGET - rng.randint(0, OVERSHOOT_MAX))
                discharge = max(0, min(want, MAX_POWER, (soc - SOC_FLOOR) // 10))
            elif slot >= 23 * 4 or slot < 7 * 4:  # the night valley
                left = (7 * 4 - slot) if slot < 7 * 4 else (SLOTS - slot + 7 * 4)  # night intervals left
                need = SOC_TARGET - soc
                if need > 0:
                    charge = min(MAX_POWER, max(0, NIGHT_IMPORT_CAP - load), -(-need // (9 * left)))
                    charge = min(charge, (CAPACITY - soc) // 9)
            soc += 9 * charge - 10 * discharge
            assert SOC_FLOOR <= soc <= CAPACITY, (start, soc)
            yield start, load, discharge, charge


def cents(value: int) -> str:
    return f"{value // 100}.{value % 100:02d}"


def generate() -> bytes:
    rng = random.Random(SEED)
    days = [dt.date(YEAR, 1, 1) + dt.timedelta(days=k) for k in range(365)]
    year = {day: day_loads(day, rng) for day in days}
    apply_events(year, rng)
    missing = {first + k * STEP for first, count in OUTAGES for k in range(count)}
    rows = [r for r in dispatch(year, rng) if r[0] not in missing]
    late = set(rng.sample(range(len(rows)), LATE_UPLOADS))
    latest = rng.choice(sorted(late))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for k, (start, load, discharge, charge) in enumerate(rows):
        if k == latest:
            delay = MAX_DELAY_S
        elif k in late:
            delay = rng.randint(9 * 60, MAX_DELAY_S - 1)
        else:
            delay = rng.randint(60, 8 * 60)
        grid_import = load - discharge + charge
        assert grid_import >= 0, start
        received = start + STEP + dt.timedelta(seconds=delay)
        writer.writerow(
            [
                SYSTEM,
                start.isoformat(timespec="minutes"),
                cents(grid_import),
                cents(discharge),
                cents(charge),
                received.isoformat(timespec="seconds"),
            ]
        )
    return out.getvalue().encode("utf-8")


def decimal(value: Fraction, places: int) -> Decimal:
    """A fraction rounded half up once, to ``places`` decimals."""
    scaled = value * 10**places
    whole = (scaled.numerator * 2 + scaled.denominator) // (2 * scaled.denominator)
    return Decimal(whole).scaleb(-places)


def summarize(data: bytes) -> tuple[list[str], list[str]]:
    """The year's figures read back from the file's text, plain Decimal/Fraction arithmetic.

    Returns (summary lines, failed properties)."""
    reader = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))
    rows = list(reader)
    failures = [] if reader.fieldnames == HEADER else [f"header is {reader.fieldnames}, not {HEADER}"]
    starts = [dt.datetime.fromisoformat(r["interval_start"]) for r in rows]
    expected = [dt.datetime(YEAR, 1, 1) + k * STEP for k in range(365 * SLOTS)]
    if starts != sorted(set(starts)) or not set(starts) <= set(expected):
        failures.append("interval starts are not unique, ascending and on the 15-minute grid")
    gaps, present, k = [], set(starts), 0
    while k < len(expected):
        if expected[k] in present:
            k += 1
            continue
        first = k
        while k < len(expected) and expected[k] not in present:
            k += 1
        gaps.append((expected[first], expected[k - 1] + STEP, k - first))

    def power(row, column):
        text = row[column]
        if "." not in text or len(text.split(".")[1]) != 2:
            failures.append(f"{column} {text!r} at {row['interval_start']} does not have 2 decimal places")
        return Decimal(text)

    baseline, with_storage, discharged = [], [], Decimal(0)
    daily: dict[dt.date, tuple[Decimal, dt.datetime, bool]] = {}
    max_delay = (dt.timedelta(0), None)
    for row, start in zip(rows, starts):
        imp, dis, chg = (power(row, column) for column in HEADER[2:5])
        load = imp + dis - chg
        discharged += dis * Decimal("0.25")
        inside = start.hour >= 8 and start + STEP <= dt.datetime.combine(start.date(), dt.time(22))
        if inside:
            baseline.append((load, start))
            with_storage.append((imp, start))
        best = daily.get(start.date())
        if best is None or load > best[0]:
            daily[start.date()] = (load, start, inside)
        delay = dt.datetime.fromisoformat(row["received_at"]) - (start + STEP)
        if delay > max_delay[0]:
            max_delay = (delay, start)
    base_peak = max(v for v, _ in baseline)
    base_at = [t for v, t in baseline if v == base_peak]
    storage_peak, storage_at = max(with_storage)
    ratio = Fraction(1) - Fraction(storage_peak) / Fraction(base_peak)
    completeness = Fraction(len(rows), len(expected))
    outside_days = sorted(d for d, (_, _, inside) in daily.items() if not inside)
    delay_s = int(max_delay[0].total_seconds())
    delay_min = Fraction(delay_s, 60)

    lines = [
        f"rows: {len(rows)} of {len(expected)} intervals expected in {YEAR}",
        f"outages: {len(gaps)}, {sum(g[2] for g in gaps)} intervals missing",
    ]
    lines += [
        f"  {a.isoformat(timespec='minutes')} – {b.isoformat(timespec='minutes')}  ({n} intervals, {Fraction(n, 4)} h)"
        for a, b, n in gaps
    ]
    lines += [
        f"baseline peak in 08:00–22:00: {base_peak} kW at "
        + ", ".join(t.isoformat(timespec="minutes") for t in base_at),
        f"peak with storage in 08:00–22:00: {storage_peak} kW at {storage_at.isoformat(timespec='minutes')}",
        f"metered peak-shaving ratio: {decimal(ratio, 4)} (declared 0.30: 840 kW)",
        f"discharged: {discharged} kWh (declared 350000)",
        f"completeness: {decimal(completeness, 6)} = {len(rows)}/{len(expected)} (declared 0.97)",
        f"max upload delay: {delay_s // 60} min {delay_s % 60} s, "
        f"interval {max_delay[1].isoformat(timespec='minutes')} (declared 10 min)",
        "days whose load peak lies outside the window: "
        + ", ".join(f"{d.isoformat()} ({daily[d][0]} kW at {daily[d][1].strftime('%H:%M')})" for d in outside_days),
    ]

    checks = [
        (base_peak == 1200 and len(base_at) == 1, "baseline peak exactly 1200.00 kW in one interval"),
        (880 <= storage_peak <= 920, "peak with storage between 880 and 920 kW"),
        (abs(discharged - 350000) <= 3500, "discharged within ±1 % of 350,000 kWh"),
        (Fraction("0.965") <= completeness <= Fraction("0.975"), "completeness between 0.965 and 0.975"),
        (11 <= delay_min <= 13, "max upload delay between 11 and 13 minutes"),
        (len(gaps) == len(OUTAGES), "one gap per outage"),
        (
            outside_days == [dt.date(2026, 1, 9), dt.date(2026, 11, 11), dt.date(2026, 12, 12)],
            "the load peak outside the window on exactly 9 Jan, 11 Nov and 12 Dec",
        ),
    ]
    failures += [what for ok, what in checks if not ok]
    return lines, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"where to write (default {DEFAULT_OUT.relative_to(ROOT)})"
    )
    args = parser.parse_args(argv)
    data = generate()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    lines, failures = summarize(data)
    print(f"wrote {args.out}")
    print("\n".join(lines))
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
