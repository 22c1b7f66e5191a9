"""Authoring checks for drafters: mistakes a rulebook (or a reform) can load with but should not.

The loader already refuses what is malformed; these checks find what is well formed but wrong:
tiers that overlap (a row that can never be hit), thresholds outside the range the contract
allows for the field they are compared with, reasons that can never fire (a test that always
holds given the field's range, or a status test on a status the other outcome never takes),
parameters nothing uses (no outcome, metering or plausibility check; the ``review`` group is
read by the record), and values beyond what their unit can plausibly be (a rate typed 100 times
too large; values outside a unit's hard bounds never load). Every check is made on each date where a parameter changes,
because a reform may break a rule only from 2027.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel

from engine.contract.application import Application, check_money
from engine.decimals import fmt_plain
from engine.errors import DateNotCoveredError
from engine.rulebook.comparisons import COMPARISONS
from engine.rulebook.expressions import All, AnyOf, Compare, Field, Not, Status
from engine.rulebook.loader import Rulebook
from engine.rulebook.parameters import unit_bounds
from engine.rulebook.plausibility import FILE as PLAUSIBILITY_FILE


def _bound(value: Any) -> Fraction:
    """A bound of the contract model (annotated_types' Ge/Gt/Le/Lt: ints there) as an exact number."""
    return Fraction(value)


# --- what the contract allows for each field ---------------------------------------
@dataclass(frozen=True)
class Range:
    lo: Fraction | None
    lo_incl: bool
    hi: Fraction | None
    hi_incl: bool
    places: int | None  # decimal places the contract accepts (0 for integers, 2 for money)

    def text(self) -> str:
        left = "(-∞" if self.lo is None else ("[" if self.lo_incl else "(") + fmt_plain(self.lo)
        right = "∞)" if self.hi is None else fmt_plain(self.hi) + ("]" if self.hi_incl else ")")
        return f"{left}, {right}"


def _ranges(model: type[BaseModel], prefix: str, out: dict):
    for name, info in model.model_fields.items():
        ann = info.annotation
        inner = [a for a in getattr(ann, "__args__", ()) if a is not type(None)]
        target = inner[0] if inner and isinstance(inner[0], type) and issubclass(inner[0], BaseModel) else ann
        if isinstance(target, type) and issubclass(target, BaseModel):
            _ranges(target, f"{prefix}{name}.", out)
            continue
        if ann not in (int,) and getattr(ann, "__name__", "") != "Decimal":
            continue
        lo = hi = None
        lo_incl = hi_incl = True
        places = 0 if ann is int else None
        for m in info.metadata:
            if isinstance(m, Ge):
                lo, lo_incl = _bound(m.ge), True
            elif isinstance(m, Gt):
                lo, lo_incl = _bound(m.gt), False
            elif isinstance(m, Le):
                hi, hi_incl = _bound(m.le), True
            elif isinstance(m, Lt):
                hi, hi_incl = _bound(m.lt), False
            elif getattr(m, "func", None) is check_money:
                places = 2
        out[f"{prefix}{name}"] = Range(lo, lo_incl, hi, hi_incl, places)
    return out


#: Numeric field path -> the range the contract (engine/contract/application.py) accepts.
FIELD_RANGES: dict[str, Range] = _ranges(Application, "", {})


#: Parameter groups the record reads (engine/records), not a rule: never reported as unused.
RECORD_GROUPS = ("review",)


# --- findings --------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    level: str  # "error" or "warning"
    file: str
    key: str
    message: str  # in English: what tests and machine readers see, whatever the language in force
    said: tuple = ()  # (catalogue key, values): the message in the language in force

    def __str__(self):
        return f"{self.level:7s} {self.file}: {self.key}: {self.message}"

    def text(self) -> str:
        """The finding as a person reads it, in the language in force."""
        from engine.i18n import language, t, unit

        if language() == "en" or not self.said:
            return str(self)
        values = dict(self.said[1])
        if "op" in values:  # the rule files' operator names are English words: a person reads ≥
            values["op"] = COMPARISONS[values["op"]].symbol
        if "unit" in values:
            values["unit"] = unit(values["unit"])
        for key in ("fires_on", "possible"):  # statuses as the summaries name them
            if key in values:
                values[key] = t("rules.sep").join(t(f"cli.status.{s}") for s in values[key])
        message = t(self.said[0], **values)
        level = t(f"rules.validate.level.{self.level}")
        return t("rules.validate.finding", level=level, file=self.file, key=self.key, message=message)


def _said(key: str, **values) -> tuple[str, tuple]:
    """A finding's message in English and the means to say it in any language."""
    from engine.i18n import t

    full = f"rules.validate.finding_msg.{key}"
    english = {
        k: " or ".join(v) if k == "fires_on" else ", ".join(v) if isinstance(v, tuple) else v for k, v in values.items()
    }
    return t(full, lang="en", **english), (full, tuple(values.items()))


class _Params:
    """Parameter values on one date, for evaluating constant terms (no fields)."""

    def __init__(self, values):
        self.params, self.fields, self.vars, self.tables = values, {}, {}, {}


def change_dates(book: Rulebook) -> list[dt.date]:
    return sorted({h[0] for p in book.params.values() for h in p.history})


def _values_on(book: Rulebook, when: dt.date) -> dict:
    out = {}
    for name, p in book.params.items():
        try:
            out[name] = p.at(when)[0]
        except DateNotCoveredError:
            pass
    return out


def _constant(term, env):
    """The value of a term that reads only parameters and literals, else None."""
    if any(kind != "param" for kind, _ in term.refs()):
        return None
    if any(name not in env.params for _, name in term.refs()):
        return None
    v = term.value(env)
    return v if isinstance(v, Fraction) else None


def _field_vs_constant(test: Compare, env):
    """(field path, op with the field on the left, constant) or None."""
    if isinstance(test.left, Field) and test.left.path in FIELD_RANGES:
        v = _constant(test.right, env)
        return (test.left.path, test.op, v) if v is not None else None
    if isinstance(test.right, Field) and test.right.path in FIELD_RANGES:
        v = _constant(test.left, env)
        return (test.right.path, COMPARISONS[test.op].mirrored, v) if v is not None else None
    return None


def always(op: str, r: Range, v: Fraction):
    """True if ``x op v`` holds for every x in ``r``, False if for none, None otherwise."""
    lo_above = r.lo is not None and (r.lo > v or (r.lo == v and (op in ("gte", "lt") or not r.lo_incl)))
    lo_at_least = r.lo is not None and r.lo >= v
    hi_below = r.hi is not None and (r.hi < v or (r.hi == v and (op in ("lte", "gt") or not r.hi_incl)))
    hi_at_most = r.hi is not None and r.hi <= v
    if op == "gte":
        return True if lo_at_least else False if hi_below else None
    if op == "gt":
        return True if lo_above else False if hi_at_most else None
    if op == "lte":
        return True if hi_at_most else False if lo_above else None
    if op == "lt":
        return True if hi_below else False if lo_at_least else None
    return None


def _outside(r: Range, v: Fraction) -> bool:
    return (r.lo is not None and v < r.lo) or (r.hi is not None and v > r.hi)


def _compares(test, key):
    """Every Compare inside a test, with its key."""
    if isinstance(test, Compare):
        yield key, test
    elif isinstance(test, (All, AnyOf)):
        op = "all" if isinstance(test, All) else "any"
        for i, t in enumerate(test.tests):
            yield from _compares(t, f"{key}.{op}[{i}]")
    elif isinstance(test, Not):
        yield from _compares(test.test, f"{key}.not")


# --- the checks ------------------------------------------------------------------
def validate(book: Rulebook) -> list[Finding]:
    dates = change_dates(book)
    envs = {d: _Params(_values_on(book, d)) for d in dates}
    findings: list[Finding] = []
    seen = set()

    def add(level, file, key, said, dedupe=None):
        message, how = said
        tag = dedupe or (file, key, message)
        if tag not in seen:
            seen.add(tag)
            findings.append(Finding(level, file, key, message, how))

    findings_tiers(book, dates, envs, add)
    always_true = findings_thresholds(book, dates, envs, add)
    findings_statuses(book, always_true, add)
    findings_unused(book, add)
    findings_implausible(book, add)
    return findings


def findings_tiers(book, dates, envs, add):
    for o in book.outcomes:
        for t in o.tables:
            for d in dates:
                mins = [(r.id, _constant(r.min, envs[d])) for r in t.rows]
                for j in range(1, len(mins)):
                    (prev_id, prev), (rid, cur) = mins[j - 1], mins[j]
                    if prev is None or cur is None:
                        continue
                    if not cur < prev:
                        add(
                            "error",
                            o.file,
                            f"tables.{t.name}.rows[{j}].min",
                            _said(
                                "overlap",
                                date=d.isoformat(),
                                row=rid,
                                value=fmt_plain(cur),
                                prev=prev_id,
                                prev_value=fmt_plain(prev),
                                dead=prev_id if cur > prev else rid,
                            ),
                            dedupe=(o.file, t.name, j, "order"),
                        )


def findings_thresholds(book, dates, envs, add) -> set:
    """Thresholds outside a field's range and tests that always or never hold.

    Returns the (outcome, code) of criteria that can never fire.
    """
    never_fire = set()
    tests: list[tuple] = []  # (outcome or None, file, key, test, what) ; what: criterion code / exemption code
    for i, e in enumerate(book.exceptions):
        tests.append((None, "rules/ruleset.yaml", f"exceptions[{i}].when", e.when, ("applies", e.code)))
    for o in book.outcomes:
        for i, e in enumerate(o.applies):
            tests.append((o, o.file, f"applies[{i}].when", e.when, ("applies", e.code)))
        for i, c in enumerate(o.criteria):
            tests.append((o, o.file, f"criteria[{i}].test", c.test, ("criterion", c.code)))
    if book.plausibility is not None:  # thresholds only: whether a check can fail is not a finding
        for i, c in enumerate(book.plausibility.checks):
            tests.append((None, PLAUSIBILITY_FILE, f"checks[{i}].test", c.test, ("plausibility", c.code)))
    for o, file, key, test, (what, code) in tests:
        for ckey, cmp in _compares(test, key):
            for d in dates:
                found = _field_vs_constant(cmp, envs[d])
                if found is None:
                    continue
                path, op, v = found
                r = FIELD_RANGES[path]
                if _outside(r, v):
                    add(
                        "error",
                        file,
                        ckey,
                        _said("outside", date=d.isoformat(), value=fmt_plain(v), range=r.text(), path=path),
                        dedupe=(file, ckey, "range"),
                    )
                if cmp is not test:
                    continue  # only a whole test decides whether a reason fires
                verdict = always(op, r, v)
                said = {
                    "date": d.isoformat(),
                    "code": code,
                    "path": path,
                    "op": op,
                    "value": fmt_plain(v),
                    "range": r.text(),
                }
                if verdict is True and what == "criterion":
                    never_fire.add((o.name if o else None, code))
                    message, tag = _said("never_fires", **said), "never"
                elif verdict is False and what == "criterion":
                    message, tag = _said(f"always_fires_{o.kind}", **said, outcome=o.name), "always"
                elif verdict is False and what == "applies":
                    message, tag = _said("never_applies", **said), "na"
                else:
                    continue
                add("error", file, ckey, message, dedupe=(file, ckey, tag))
    return never_fire


def possible_statuses(book: Rulebook, never_fire: AbstractSet = frozenset()) -> dict:
    """Which statuses each outcome can take, given criteria that can never fire."""
    possible: dict[str, set] = {}
    for o in book.outcomes:
        ok, ko = o.statuses[0], o.statuses[1]
        can = {ok}
        if book.exceptions or o.applies:
            can.add("not_applicable")
        for c in o.criteria:
            if isinstance(c.test, Status):
                if c.test.outcome in possible and set(possible[c.test.outcome]) - set(c.test.allowed):
                    can.add(ko)
            elif (o.name, c.code) not in never_fire:
                can.add(ko)
        possible[o.name] = can
    return possible


def findings_statuses(book, never_fire, add):
    possible = possible_statuses(book, never_fire)
    for o in book.outcomes:
        for i, c in enumerate(o.criteria):
            if not isinstance(c.test, Status):
                continue
            dep = c.test.outcome
            fires_on = set(book.outcome(dep).statuses) - set(c.test.allowed)
            if not fires_on & possible[dep]:
                add(
                    "error",
                    o.file,
                    f"criteria[{i}].test",
                    _said(
                        "status_never_fires",
                        code=c.code,
                        dep=dep,
                        fires_on=tuple(sorted(fires_on)),
                        possible=tuple(sorted(possible[dep])),
                    ),
                )


def findings_unused(book, add):
    used = set()
    for e in book.exceptions:
        used |= {n for k, n in e.when.refs() if k == "param"}
    for o in book.outcomes:
        used |= o.params()
    if book.metering is not None:
        used |= book.metering.params()
    if book.plausibility is not None:
        used |= book.plausibility.params()
    used |= {name for name in book.params if name.split(".", 1)[0] in RECORD_GROUPS}
    for name in sorted(set(book.params) - used):
        p = book.params[name]
        add("warning", p.file, name.split(".", 1)[1], _said("unused", name=name))


def findings_implausible(book, add):
    """Values above their unit's plausibility ceiling (``UNIT_BOUNDS``' ``validate_hi``)."""
    for name, p in sorted(book.params.items()):
        ceiling = unit_bounds(p.unit).validate_hi
        if ceiling is None:
            continue
        for start, value, _ in p.history:
            values = value.items() if isinstance(value, dict) else [(None, value)]
            for k, v in values:
                if v is not None and v > ceiling:
                    where = f"values.{start.isoformat()}" + (f".{k}" if k is not None else "")
                    add(
                        "error",
                        p.file,
                        f"{name.split('.', 1)[1]}.{where}",
                        _said(
                            "implausible",
                            date=start.isoformat(),
                            name=name,
                            value=fmt_plain(v),
                            unit=p.unit,
                            ceiling=fmt_plain(ceiling),
                        ),
                    )
