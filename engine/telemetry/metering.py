"""Facts derived exactly from metered intervals: what the storage system actually did.

    baseline (site load without storage) = grid import + discharge − charge, per interval
    baseline peak        = max baseline over intervals inside the daytime window
    peak with storage    = max grid import over the same intervals
    peak-shaving ratio   = (baseline peak − peak with storage) / baseline peak
    discharged energy    = Σ discharge kW × interval hours, over the period
    completeness         = intervals received ÷ intervals expected in the period
    upload delay         = received_at − interval end, its maximum over the period

An interval is inside the window when it lies wholly inside it (start ≥ window start and end ≤
window end), so a 15-minute reading at 21:45 counts for a 08:00–22:00 window and 22:00 does not.
The period is the application's, from 00:00 on ``period.start`` to 24:00 on ``period.end``,
China Standard Time; intervals outside it are counted and reported, not used.

Everything is computed as Decimal sums and Fractions. Two facts must become contract decimals
for the rules: completeness is rounded *down* to 6 places and delay *up* to 0.01 min, the
direction that cannot turn a failing value into a passing one at any threshold with that many
places or fewer (the parameters have 2).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from fractions import Fraction

from engine.errors import MeteringError
from engine.telemetry.reader import Interval, Telemetry

COMPLETENESS_PLACES = 6
DELAY_PLACES = 2
ENERGY_PLACES = 6  # kWh from 0.01 kW × 15 min needs 4; a 7-minute grid would not terminate
#: The application fields the meter decides, by the key their value has in ``MeteredFacts.as_dict``
#: (a decision's ``metering.facts``): what a notice puts back to show the evidence that decided.
FACT_FIELDS = {
    "baseline_peak_kw": "storage.baseline_peak_kw",
    "peak_with_storage_kw": "storage.peak_with_storage_kw",
    "discharged_kwh": "storage.discharged_kwh",
    "reporting_completeness": "storage.platform.reporting_completeness",
    "max_upload_delay_min": "storage.platform.max_upload_delay_min",
}


@dataclass(frozen=True)
class Settings:
    interval_minutes: int
    window_start_min: int  # minutes after local midnight
    window_end_min: int

    @property
    def window_text(self) -> str:
        return (
            f"{self.window_start_min // 60:02d}:{self.window_start_min % 60:02d}–"
            f"{self.window_end_min // 60:02d}:{self.window_end_min % 60:02d}"
        )


@dataclass(frozen=True)
class Gap:
    start: dt.datetime  # first missing interval's start
    end: dt.datetime  # end of the last missing interval
    intervals: int

    def as_dict(self) -> dict:
        return {
            "from": self.start.isoformat(timespec="minutes"),
            "to": self.end.isoformat(timespec="minutes"),
            "intervals": self.intervals,
        }


@dataclass
class MeteredFacts:
    system_id: str
    period_start: dt.date
    period_end: dt.date
    settings: Settings
    baseline_peak_kw: Decimal
    baseline_peak_at: dt.datetime
    peak_with_storage_kw: Decimal
    peak_with_storage_at: dt.datetime
    peak_shaving_ratio: Fraction
    discharged_kwh: Fraction
    intervals_expected: int
    intervals_received: int
    intervals_outside_period: int
    max_upload_delay: Fraction  # minutes
    max_upload_delay_at: dt.datetime | None
    late_intervals: int  # received later than one interval after its end
    gaps: list[Gap] = field(default_factory=list)

    @property
    def completeness(self) -> Fraction:
        return Fraction(self.intervals_received, self.intervals_expected)

    def contract_values(self) -> dict[str, Decimal]:
        """The application fields these facts replace, as the contract's decimals (``FACT_FIELDS``)."""
        return {
            "storage.baseline_peak_kw": self.baseline_peak_kw,
            "storage.peak_with_storage_kw": self.peak_with_storage_kw,
            "storage.discharged_kwh": to_decimal(self.discharged_kwh, ENERGY_PLACES, ROUND_FLOOR),
            "storage.platform.reporting_completeness": to_decimal(self.completeness, COMPLETENESS_PLACES, ROUND_FLOOR),
            "storage.platform.max_upload_delay_min": to_decimal(self.max_upload_delay, DELAY_PLACES, ROUND_CEILING),
        }

    def as_dict(self) -> dict:
        values = self.contract_values()
        return {
            "system_id": self.system_id or None,
            "period": {"start": self.period_start.isoformat(), "end": self.period_end.isoformat()},
            "interval_minutes": self.settings.interval_minutes,
            "daytime_window": self.settings.window_text,
            "baseline_peak_kw": str(self.baseline_peak_kw),
            "baseline_peak_at": self.baseline_peak_at.isoformat(timespec="minutes"),
            "peak_with_storage_kw": str(self.peak_with_storage_kw),
            "peak_with_storage_at": self.peak_with_storage_at.isoformat(timespec="minutes"),
            "peak_shaving_ratio": str(to_decimal(self.peak_shaving_ratio, 6, ROUND_FLOOR)),
            "discharged_kwh": str(values["storage.discharged_kwh"]),
            "intervals_expected": self.intervals_expected,
            "intervals_received": self.intervals_received,
            "intervals_outside_period": self.intervals_outside_period,
            "reporting_completeness": str(values["storage.platform.reporting_completeness"]),
            "max_upload_delay_min": str(values["storage.platform.max_upload_delay_min"]),
            "max_upload_delay_at": self.max_upload_delay_at.isoformat(timespec="minutes")
            if self.max_upload_delay_at
            else None,
            "late_intervals": self.late_intervals,
            "gaps": [g.as_dict() for g in self.gaps],
        }


def to_decimal(value: Fraction | Decimal, places: int, rounding: str) -> Decimal:
    """``value`` as a decimal: exact, with as few places as it needs, when it has at most
    ``places``; otherwise cut to ``places`` in the given direction."""
    value = Fraction(value)
    for p in range(places + 1):
        scaled = value * 10**p
        if scaled.denominator == 1:
            return Decimal(scaled.numerator).scaleb(-p)
    whole = math.floor(scaled) if rounding == ROUND_FLOOR else math.ceil(scaled)
    return Decimal(whole).scaleb(-places)


def settings_from(params: dict) -> Settings:
    """Window and interval from the ``metering.*`` parameters in force (values are Fractions)."""

    def minutes(name, value):
        m = value * 60 if name != "metering.interval_length" else value
        if m.denominator != 1:
            raise MeteringError(f"parameter {name} = {value} is not a whole number of minutes")
        return int(m)

    interval = minutes("metering.interval_length", params["metering.interval_length"])
    start = minutes("metering.window_start", params["metering.window_start"])
    end = minutes("metering.window_end", params["metering.window_end"])
    if interval <= 0 or 1440 % interval:
        raise MeteringError(f"metering.interval_length = {interval} min does not divide a day")
    if not 0 <= start < end <= 1440:
        raise MeteringError(f"the daytime window {start}–{end} min is not inside one day")
    return Settings(interval, start, end)


def derive(
    telemetry: Telemetry, period_start: dt.date, period_end: dt.date, settings: Settings, system_id: str | None = None
) -> MeteredFacts:
    """Every derived fact for one storage system over the period (``MeteringError`` if undefined)."""
    if telemetry.interval_minutes != settings.interval_minutes:
        raise MeteringError(
            f"{telemetry.source} was read with {telemetry.interval_minutes}-minute intervals, "
            f"the rules use {settings.interval_minutes}"
        )
    system = _one_system(telemetry, system_id)
    grid = dt.timedelta(minutes=settings.interval_minutes)
    first = dt.datetime.combine(period_start, dt.time())
    stop = dt.datetime.combine(period_end + dt.timedelta(days=1), dt.time())
    expected = (stop - first) // grid
    inside, outside = [], 0
    for i in telemetry.intervals:
        if i.system_id != system:
            continue
        if first <= i.start and i.start + grid <= stop:
            inside.append(i)
        else:
            outside += 1
    if not inside:
        raise MeteringError(
            f"{telemetry.source} has no interval in the period {period_start.isoformat()} – {period_end.isoformat()}"
        )
    base_peak: tuple[Decimal, dt.datetime] | None = None
    store_peak: tuple[Decimal, dt.datetime] | None = None
    discharge_kw_minutes = Decimal(0)
    max_delay, max_delay_at, late = dt.timedelta(0), None, 0
    for i in inside:
        discharge_kw_minutes += i.discharge_kw
        minute = i.start.hour * 60 + i.start.minute
        if settings.window_start_min <= minute and minute + settings.interval_minutes <= settings.window_end_min:
            baseline = i.import_kw + i.discharge_kw - i.charge_kw
            if base_peak is None or baseline > base_peak[0]:
                base_peak = (baseline, i.start)
            if store_peak is None or i.import_kw > store_peak[0]:
                store_peak = (i.import_kw, i.start)
        delay = i.received_at - (i.start + grid)
        if delay > max_delay or max_delay_at is None:
            max_delay, max_delay_at = delay, i.start
        if delay > grid:
            late += 1
    if base_peak is None or store_peak is None:  # both are set by the same window intervals
        raise MeteringError(
            f"{telemetry.source} has no interval inside the daytime window "
            f"{settings.window_text}: the peak-shaving ratio is undefined"
        )
    if base_peak[0] <= 0:
        raise MeteringError(
            f"the metered baseline peak in the daytime window is {base_peak[0]} kW "
            f"(at {base_peak[1].isoformat()}): the peak-shaving ratio is undefined"
        )
    bp = Fraction(base_peak[0])
    return MeteredFacts(
        system_id=system,
        period_start=period_start,
        period_end=period_end,
        settings=settings,
        baseline_peak_kw=base_peak[0],
        baseline_peak_at=base_peak[1],
        peak_with_storage_kw=store_peak[0],
        peak_with_storage_at=store_peak[1],
        peak_shaving_ratio=(bp - Fraction(store_peak[0])) / bp,
        # kW summed per interval, then × minutes ÷ 60 once: exact, whatever the interval length
        discharged_kwh=Fraction(discharge_kw_minutes) * settings.interval_minutes / 60,
        intervals_expected=expected,
        intervals_received=len(inside),
        intervals_outside_period=outside,
        max_upload_delay=Fraction(max_delay // dt.timedelta(microseconds=1), 60_000_000),
        max_upload_delay_at=max_delay_at,
        late_intervals=late,
        gaps=_gaps(inside, first, stop, grid),
    )


def _one_system(telemetry: Telemetry, system_id: str | None) -> str:
    systems = telemetry.systems
    if system_id is not None:
        if system_id not in systems:
            raise MeteringError(
                f"{telemetry.source} has no storage system {system_id!r} "
                f"(it has {', '.join(repr(s) for s in systems) or 'none'})"
            )
        return system_id
    if len(systems) > 1:
        raise MeteringError(
            f"{telemetry.source} holds {len(systems)} storage systems ({', '.join(systems)}): choose one with --system"
        )
    return systems[0] if systems else ""


def _gaps(inside: list[Interval], first: dt.datetime, stop: dt.datetime, grid: dt.timedelta) -> list[Gap]:
    gaps, expected_next = [], first
    for i in inside:  # sorted by start (read_telemetry sorts)
        if i.start > expected_next:
            gaps.append(Gap(expected_next, i.start, (i.start - expected_next) // grid))
        expected_next = i.start + grid
    if expected_next < stop:
        gaps.append(Gap(expected_next, stop, (stop - expected_next) // grid))
    return gaps
