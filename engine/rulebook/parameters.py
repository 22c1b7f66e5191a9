"""Parameters keyed by effective date (openfisca style): the folder path is the lookup path.

``rules/parameters/storage_subsidy.yaml`` key ``annual_cap`` is ``storage_subsidy.annual_cap``.
A value of ``null`` at a date ends the parameter there (history is never deleted).
"""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from engine.decimals import fmt_plain
from engine.errors import (
    BadDateError,
    BadValueError,
    DateNotCoveredError,
    MissingKeyError,
    MissingReferenceError,
    MissingUnitError,
    UnknownKeyError,
    UnknownReferenceError,
)
from engine.rulebook.yamlfile import MAX_DIGITS, NUMBER_BOUNDS, decimal_problem, number_problem

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_KEYS = {"description", "unit", "reference", "rationale_zh", "values", "index"}
_CJK = re.compile(r"[\u3400-\u9fff]")


def parse_date(text: Any, file: str, key: str) -> dt.date:
    if not isinstance(text, str) or not _DATE.match(text):
        raise BadDateError(file, key, f"{text!r} is not a date")
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise BadDateError(file, key, f"{text!r} is not a date ({exc})") from None


def _exact(value: Any, file: str, key: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        raise BadValueError(file, key, f"{value!r} is not a number", 'a decimal number, quoted like "0.80"')
    # Bounded before any conversion: str(int) of 5,000 digits raises, Fraction(1e999999999) hangs.
    if isinstance(value, int) and value.bit_length() > 4 * MAX_DIGITS:
        raise BadValueError(file, key, f"an integer of {value.bit_length()} bits is out of bounds", NUMBER_BOUNDS)
    problem = number_problem(value) if isinstance(value, str) else None
    if problem:
        raise BadValueError(file, key, problem, NUMBER_BOUNDS)
    try:
        d = Decimal(value) if not isinstance(value, Decimal) else value
    except Exception:
        raise BadValueError(file, key, f"{value!r} is not a number", 'a decimal number, quoted like "0.80"') from None
    if not d.is_finite():
        raise BadValueError(file, key, f"{value!r} is not finite", "a finite decimal number")
    problem = decimal_problem(d, str(value))
    if problem:
        raise BadValueError(file, key, problem, NUMBER_BOUNDS)
    return Fraction(d)


@dataclass(frozen=True)
class UnitBounds:
    """What a parameter's value may be, given its unit.

    ``lo``/``hi`` are hard: a value outside is refused when the rulebook (or a reform) loads.
    ``validate_hi`` is a plausibility ceiling: ``rules validate`` reports a value above it as an
    error (a rate typed 100 times too large) without stopping anything from running.
    """

    lo: Fraction | None = Fraction(0)
    hi: Fraction | None = None
    integer: bool = False
    validate_hi: Fraction | None = None

    def text(self) -> str:
        left = "(-∞" if self.lo is None else f"[{fmt_plain(self.lo)}"
        right = "∞)" if self.hi is None else f"{fmt_plain(self.hi)}]"
        return f"{'an integer' if self.integer else 'a number'} in {left}, {right}"

    def problem(self, value: Fraction) -> str | None:
        if self.lo is not None and value < self.lo:
            return f"below {fmt_plain(self.lo)}"
        if self.hi is not None and value > self.hi:
            return f"above {fmt_plain(self.hi)}"
        if self.integer and value.denominator != 1:
            return "not a whole number"
        return None


#: Bounds per unit, as data. Every quantity of this rulebook is non-negative, so a unit not
#: listed is bounded below by 0 (``DEFAULT_BOUNDS``); a unit whose values may be negative must
#: be listed here with ``lo=None``.
UNIT_BOUNDS: dict[str, UnitBounds] = {
    "ratio": UnitBounds(hi=Fraction(1)),
    "yuan": UnitBounds(hi=Fraction(10**15) - Fraction(1, 100)),  # money: at most 15 integer digits
    "yuan/kWh": UnitBounds(validate_hi=Fraction(10)),  # electricity costs about 1 yuan/kWh
    "yuan/order": UnitBounds(validate_hi=Fraction(100)),
    "kgCO2/kWh": UnitBounds(validate_hi=Fraction(2)),  # coal power emits about 1 kg/kWh
    "tCO2e/tCO2e": UnitBounds(validate_hi=Fraction(10)),
    "factor": UnitBounds(validate_hi=Fraction(10)),
    "h": UnitBounds(hi=Fraction(24)),  # an hour of the day
    "min": UnitBounds(validate_hi=Fraction(24 * 60)),
    "ms": UnitBounds(validate_hi=Fraction(60_000)),
    "days": UnitBounds(integer=True, validate_hi=Fraction(366)),  # a deadline is added to a date
    "cycles": UnitBounds(integer=True, validate_hi=Fraction(10**6)),
    "cycles/day": UnitBounds(validate_hi=Fraction(24)),  # a full cycle takes hours; 24 a day is beyond any system
    "Wh/kg": UnitBounds(validate_hi=Fraction(1000)),  # lithium cells store about 300 Wh/kg
}
DEFAULT_BOUNDS = UnitBounds()


def unit_bounds(unit: str) -> UnitBounds:
    return UNIT_BOUNDS.get(unit, DEFAULT_BOUNDS)


def _bounded(value: Fraction, literal: Any, unit: str, file: str, key: str) -> Fraction:
    bounds = unit_bounds(unit)
    problem = bounds.problem(value)
    if problem:
        raise BadValueError(file, key, f"{literal} is {problem}, out of bounds for a value in {unit}", bounds.text())
    return value


@dataclass(frozen=True)
class Parameter:
    name: str
    description: str
    unit: str
    reference: str
    index: str | None
    #: (start date, value or None when ended, the literal text for display), sorted by date
    history: tuple
    file: str
    #: an assumption's rationale in Chinese, beside the English of ``reference`` (display only:
    #: no decision reads it, and the rulebook's digest leaves it out)
    rationale_zh: str | None = None

    def at(self, when: dt.date):
        """(value, effective_from) in force on ``when``; refuses dates the parameter does not cover."""
        starts = [h[0] for h in self.history]
        i = bisect_right(starts, when) - 1
        if i < 0:
            raise DateNotCoveredError(
                f"no rule is in force on {when.isoformat()}: parameter {self.name} starts on "
                f"{starts[0].isoformat()} ({self.file})"
            )
        start, value, _ = self.history[i]
        if value is None:
            raise DateNotCoveredError(
                f"no rule is in force on {when.isoformat()}: parameter {self.name} ended on "
                f"{start.isoformat()} ({self.file})"
            )
        return value, start

    def literal_at(self, when: dt.date):
        starts = [h[0] for h in self.history]
        return self.history[bisect_right(starts, when) - 1][2]


def parse_parameter(name: str, raw: Any, file: str, fields: dict, sources: dict) -> Parameter:
    key = name.split(".", 1)[1]
    if not isinstance(raw, dict):
        raise BadValueError(file, key, "a parameter is a mapping", "description, unit, reference, values")
    unknown = set(raw) - _KEYS
    if unknown:
        raise UnknownKeyError(file, f"{key}.{sorted(unknown)[0]}", "unknown key", f"one of {', '.join(sorted(_KEYS))}")
    if not raw.get("unit") or not isinstance(raw.get("unit"), str):
        raise MissingUnitError(file, f"{key}.unit", "a parameter needs a unit")
    ref = raw.get("reference")
    if not ref or not isinstance(ref, str):
        raise MissingReferenceError(file, f"{key}.reference", "a parameter needs a reference")
    head = ref.split(":", 1)[0].strip()
    if head != "assumption" and head not in sources:
        raise UnknownReferenceError(
            file,
            f"{key}.reference",
            f"{head!r} is not a source of ruleset.yaml",
            f"one of {', '.join(sources)} or 'assumption: <rationale>'",
        )
    if head == "assumption" and len(ref.split(":", 1)) < 2:
        raise MissingReferenceError(
            file, f"{key}.reference", "an assumption needs its rationale", "'assumption: <one-line rationale>'"
        )
    rationale_zh = raw.get("rationale_zh")
    if rationale_zh is not None:
        if head != "assumption":
            raise UnknownKeyError(
                file,
                f"{key}.rationale_zh",
                "only an assumption has a rationale to translate",
                "a reference 'assumption: <rationale>' beside it",
            )
        if not isinstance(rationale_zh, str) or not _CJK.search(rationale_zh):
            raise BadValueError(
                file, f"{key}.rationale_zh", "the rationale in Chinese is a text", "one line of Chinese text"
            )
        rationale_zh = " ".join(rationale_zh.split())
    if not isinstance(raw.get("description"), str) or not raw["description"].strip():
        raise MissingKeyError(file, f"{key}.description", "a parameter needs a description")
    index = raw.get("index")
    if index is not None and index not in fields:
        raise UnknownReferenceError(file, f"{key}.index", f"unknown field {index!r}")
    values = raw.get("values")
    if not isinstance(values, dict) or not values:
        raise MissingKeyError(
            file, f"{key}.values", "a parameter needs values keyed by effective date", 'values: {2026-01-01: "0.80"}'
        )
    unit = raw["unit"]
    history: list[tuple[dt.date, Any, Any]] = []  # (start, value or None, literal text or None)
    for date_text, value in values.items():
        here = f"{key}.values.{date_text}"
        when = parse_date(date_text, file, here)
        if value is None:
            history.append((when, None, None))
        elif index is not None:
            if not isinstance(value, dict) or "default" not in value:
                raise BadValueError(
                    file, here, "an indexed parameter maps keys to values", '{default: "1.0", "141100": "1.2"}'
                )
            history.append(
                (
                    when,
                    {
                        str(k): _bounded(_exact(v, file, f"{here}.{k}"), v, unit, file, f"{here}.{k}")
                        for k, v in value.items()
                    },
                    {str(k): str(v) for k, v in value.items()},
                )
            )
        else:
            history.append((when, _bounded(_exact(value, file, here), value, unit, file, here), str(value)))
    history.sort(key=lambda h: h[0])
    if history[0][1] is None:
        raise BadValueError(file, key, "the first value cannot be an end (null)")
    return Parameter(name, raw["description"].strip(), raw["unit"], ref, index, tuple(history), file, rationale_zh)
