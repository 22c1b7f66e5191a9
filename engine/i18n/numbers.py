"""Numbers, units and place names for a person, in the language in force.

The notices already say these well (engine/notices/wording.py, templates/notices/labels.yaml:
amounts grouped in thousands, ratios as percentages, units and cities by name); the command
line and the reports say them the same way through these functions, never a copy of their own.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from functools import cache

from engine.i18n.catalogue import Lang


def words(lang: Lang | None = None):
    """The notices' :class:`~engine.notices.wording.Words` of ``lang`` (default: the language in force)."""
    if lang is None:
        from engine.i18n.language import language

        lang = language()
    return _words(lang)


@cache
def _words(lang: Lang):
    from engine.notices.wording import Words

    return Words(lang)


def number(value: object, unit: str | None = None, lang: Lang | None = None) -> str:
    """An exact value with its unit: ``30%`` (a ratio), ``0.80元/千瓦时``, ``1,200 kWh``."""
    return str(words(lang).number(value, unit).text)


def amount(value: str | Decimal, unit: str | None, lang: Lang | None = None) -> str:
    """A decision's amount in its unit, grouped, its places kept: ``280,000.00元``, ``285.150吨二氧化碳当量``."""
    if unit is None:
        return number(value, None, lang)
    from engine.notices.wording import say

    text = str(value)
    places = len(text.partition(".")[2])
    w = words(lang)
    return str(say(w.say["value"], number=grouped(text, places), unit=w.unit(unit)))


def unit(name: str | None, lang: Lang | None = None) -> str:
    """A unit's name: ``元/千瓦时`` / ``yuan/kWh`` (an unknown unit as it is)."""
    return words(lang).unit(name)


def region(code: str, lang: Lang | None = None) -> str:
    """A region's name by its division code: ``太原市`` / ``Taiyuan`` (an unknown code as it is)."""
    return words(lang).region(code)


def grouped(value: object, places: int = 2) -> str:
    """``value`` grouped in thousands with exactly ``places`` places (half up): ``3,200,000.00``."""
    from engine.notices.wording import grouped as _grouped

    return _grouped(Fraction(Decimal(str(value))) if not isinstance(value, (int, Fraction)) else value, places, places)[
        0
    ]


def percent(value: object, places: int = 1, lang: Lang | None = None) -> str:
    """A ratio as a percentage: ``0.305`` -> ``30.5%``."""
    return grouped(Fraction(Decimal(str(value))) * 100, places) + "%"
