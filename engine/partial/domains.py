"""The values an unknown field can take: what the contract (engine/contract/application.py) allows.

A number ranges over its contract interval (a share over [0, 1], a positive decimal over
(0, +∞)), a boolean over both, a label over its choices, a text
over anything. Decimal places are not counted: the interval holds every decimal the contract
accepts, and more, which keeps the analysis sound.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import get_args

from engine.contract.application import FIELDS, Application, leaf_fields
from engine.contract.bounds import MAX_INTEGER
from engine.partial.intervals import Interval
from engine.rulebook.checks import FIELD_RANGES

BOOLEANS = frozenset({True, False})


@dataclass(frozen=True)
class Labels:
    """The texts a label can be (None: any text)."""

    values: frozenset | None


def _number(path: str) -> Interval:
    r = FIELD_RANGES[path]
    lo, lo_closed = (r.lo, r.lo_incl) if r.lo is not None else (Fraction(-MAX_INTEGER), False)
    # No upper bound but the contract's 18 digits, a limit of writing rather than of the policy:
    # unbounded, so a range that follows from it says "no bound" (max null), not 10^16 yuan.
    hi, hi_closed = (r.hi, r.hi_incl) if r.hi is not None else (None, False)
    return Interval(lo, lo_closed, hi, hi_closed)


def _domain(path: str, info):
    kind = FIELDS[path]
    if kind in ("decimal", "integer"):
        return _number(path)
    if kind == "boolean":
        return BOOLEANS
    if kind == "label":
        return Labels(frozenset(get_args(info.annotation)))
    return Labels(None)


_DOMAINS = {path: _domain(path, info) for path, info in leaf_fields(Application)}


def domain(path: str):
    """Every value the contract allows in field ``path``: an Interval, BOOLEANS or Labels."""
    return _DOMAINS[path]
