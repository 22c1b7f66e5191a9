"""How a notice says things: labels, numbers with their units, and sentences from patterns.

Every word comes from ``templates/notices/labels.yaml`` (one language at a time); this module
only fills patterns. A sentence is a :class:`Phrase`, a sequence of our own text and
:class:`Datum` parts (what an enterprise, an account or a deployment wrote), so that each format
escapes data as data (Markdown inert, HTML escaped) and prints our text as it is.

Numbers are exact: a Fraction is shown with at most the places its unit allows, grouped in
thousands; one that needs more is rounded half up and said to be approximate ("约为 24.59%").
Ratios are shown as percentages.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cache

from engine.resources import bundled
from engine.rulebook.yamlfile import load_yaml

TEMPLATES = bundled("templates") / "notices"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
#: (fewest, most) decimal places a value in this unit is shown with; ratios as percentages.
PLACES = {
    "yuan": (2, 2),
    "yuan/kWh": (2, 4),
    "yuan/order": (2, 4),
    "ratio": (0, 2),
    "tCO2e": (0, 3),
    "kgCO2/kWh": (0, 4),
}
DEFAULT_PLACES = (0, 4)


@cache
def labels() -> dict:
    return load_yaml(TEMPLATES / "labels.yaml", "templates/notices/labels.yaml")


class Datum(str):
    """Text from outside the notice's own words (a name, an id, a reason someone wrote)."""


class Number(Datum):
    """A document number (文号), printed on one line."""


class Figure(str):
    """A number with its unit: printed on one line (HTML and PDF never break it)."""


@dataclass(frozen=True)
class Phrase:
    """A sentence: our words and data, in order."""

    parts: tuple

    def __str__(self) -> str:
        return "".join(self.parts)

    def __bool__(self) -> bool:
        return any(self.parts)


def say(pattern: str, **values) -> Phrase:
    """``pattern`` with each ``{name}`` replaced by ``values[name]`` (a KeyError names a missing one)."""
    parts: list = []
    pos = 0
    for m in _PLACEHOLDER.finditer(pattern):
        parts.append(pattern[pos : m.start()])
        parts.extend(_parts(values[m.group(1)]))
        pos = m.end()
    parts.append(pattern[pos:])
    return Phrase(tuple(p for p in parts if p))


def join(items, sep: str) -> Phrase:
    parts: list = []
    for i, item in enumerate(items):
        if i:
            parts.append(sep)
        parts.extend(_parts(item))
    return Phrase(tuple(parts))


def _parts(value) -> tuple:
    if isinstance(value, Phrase):
        return value.parts
    if isinstance(value, str):
        return (value,)
    return (str(value),)


# --- numbers ----------------------------------------------------------------------------
def _round_half_up(x: Fraction) -> int:
    return int((x + Fraction(1, 2)).__floor__()) if x >= 0 else -int((-x + Fraction(1, 2)).__floor__())


def grouped(value: Fraction | Decimal | int, fewest: int, most: int) -> tuple[str, bool]:
    """``value`` with thousands grouped and ``fewest``..``most`` places: (text, approximate)."""
    value = Fraction(value)
    scaled = value * 10**most
    approx = scaled.denominator != 1
    n = _round_half_up(scaled) if approx else int(scaled)
    sign, n = ("-" if n < 0 else ""), abs(n)
    whole, frac = divmod(n, 10**most)
    digits = f"{frac:0{most}d}" if most else ""
    if not approx:
        digits = digits.rstrip("0").ljust(fewest, "0")
    return f"{sign}{whole:,}" + (f".{digits}" if digits else ""), approx


def as_fraction(value) -> Fraction | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        return Fraction(Decimal(value))
    return Fraction(value)


@dataclass(frozen=True)
class Shown:
    text: str
    approx: bool = False

    def __post_init__(self):
        object.__setattr__(self, "text", Figure(self.text))


class Words:
    """The labels and patterns of one language."""

    def __init__(self, lang: str):
        self.lang = lang
        self.lab = labels()[lang]
        self.say = self.lab["say"]

    # --- plain words ------------------------------------------------------------------
    def unit(self, unit: str | None) -> str:
        return self.lab["units"].get(unit, unit) if unit else ""

    def date(self, when: dt.date | str) -> str:
        d = dt.date.fromisoformat(when) if isinstance(when, str) else when
        months = self.say.get("months") or []
        name = months[d.month - 1] if months else str(d.month)
        return str(say(self.say["date"], year=str(d.year), month=str(d.month), day=str(d.day), month_name=name))

    def numeral(self, i: int) -> str:
        numerals = self.lab["numerals"]
        if self.lang == "zh":
            return f"{numerals[i]}、" if i < len(numerals) else f"{i + 1}、"
        return f"{numerals[i]} " if i < len(numerals) else f"{i + 1}. "

    def field_label(self, path: str) -> str:
        return self.lab["fields"].get(path, {}).get("label", path)

    def field_unit(self, path: str) -> str | None:
        return self.lab["fields"].get(path, {}).get("unit")

    def var_label(self, outcome: str, name: str) -> str:
        return self.lab["vars"].get(f"{outcome}.{name}", {}).get("label", name)

    def var_unit(self, outcome: str, name: str) -> str | None:
        return self.lab["vars"].get(f"{outcome}.{name}", {}).get("unit")

    def param_label(self, name: str) -> str:
        return self.lab["params"].get(name, name)

    def table_label(self, outcome: str, name: str) -> str:
        return self.lab["tables"].get(f"{outcome}.{name}", name)

    def region(self, code: str) -> str:
        return self.lab["regions"].get(code, code)

    # --- numbers ----------------------------------------------------------------------
    def title(self, outcome) -> str:
        """An outcome's title inside a sentence (English: lower case, 'the user-side storage subsidy')."""
        title = outcome.title[self.lang]
        return title[:1].lower() + title[1:] if self.lang == "en" and title[1:2].islower() else title

    def number(self, value, unit: str | None, most: int | None = None) -> Shown:
        """An exact value in ``unit``, as the notice prints it (``most``: more places than the unit's)."""
        v = as_fraction(value)
        if v is None:
            return Shown(self.lab["annex"]["none"])
        if unit == "ratio":
            text, approx = grouped(v * 100, *PLACES["ratio"])
            return Shown(f"{text}%", approx)
        fewest, places = PLACES.get(unit or "", DEFAULT_PLACES)
        text, approx = grouped(v, fewest, max(places, most or 0))
        if unit == "factor":
            return Shown(f"{text}倍" if self.lang == "zh" else f"×{text}", approx)
        if not unit:
            return Shown(text, approx)
        return Shown(str(say(self.say["value"], number=text, unit=self.unit(unit))), approx)

    def money(self, amount: str) -> str:
        """A decision's yuan string: '1500000.00' -> '人民币1,500,000.00元' / 'CNY 1,500,000.00'."""
        text, _ = grouped(Fraction(Decimal(amount)), 2, 2)
        return Figure(say(self.say["money"], amount=text))

    def amount(self, amount: str, unit: str) -> str:
        """A decision's amount in its own unit and places ('285.150' tCO2e keeps its 3 places)."""
        if unit == "yuan":
            return self.money(amount)
        places = len(amount.partition(".")[2])
        text, _ = grouped(Fraction(Decimal(amount)), places, places)
        return Figure(say(self.say["value"], number=text, unit=self.unit(unit)))

    def verb(self, shown: Shown) -> str:
        return self.say["is_about"] if shown.approx else self.say["is"]

    def about(self, shown: Shown) -> str:
        return Figure(self.say["about"] + shown.text) if shown.approx else shown.text
