"""Random applications, random deletions and random completions for the partial-decision tests.

Every numeric field draws from the values where the rules change their mind (each parameter of
the rulebook, one unit either side of it, the contract's ends) as often as from anywhere in its
contract range, so boundaries are hit, not hoped for.
"""

import copy
import datetime as dt
from decimal import Decimal
from fractions import Fraction

from hypothesis import strategies as st

from engine.contract.application import FIELDS
from engine.contract.bounds import MAX_INTEGER
from engine.drafting.ruletests import BASE_APPLICATION  # noqa: F401  # the tests build on it too
from engine.rulebook.checks import FIELD_RANGES
from engine.rulebook.loader import load_rulebook

BOOK = load_rulebook()
#: What identifies a decision, never deleted (the partial contract keeps them required), and text
#: no rule reads.
KEPT = ("application_id", "period.start", "period.end", "enterprise.credit_code", "enterprise.name")
PATHS = [p for p in FIELDS if p not in KEPT]
_PARAMS = sorted({v for v in BOOK.values_at(dt.date(2026, 12, 31)).values() if isinstance(v, Fraction)})


def _allowed(path: str, x: Fraction) -> bool:
    r = FIELD_RANGES[path]
    if r.lo is not None and (x < r.lo or (x == r.lo and not r.lo_incl)):
        return False
    hi = r.hi if r.hi is not None else Fraction(MAX_INTEGER) - Fraction(1, 100)
    if x > hi:
        return False
    places = r.places if r.places is not None else 12
    return (x * 10**places).denominator == 1


def _text(path: str, x: Fraction):
    if FIELDS[path] == "integer":
        return int(x)
    return format(Decimal(x.numerator) / Decimal(x.denominator), "f")


def _number(path: str):
    r = FIELD_RANGES[path]
    unit = Fraction(1, 10 ** (r.places if r.places is not None else 2))
    edges = [Fraction(0), unit, Fraction(1), *_PARAMS, *(p + unit for p in _PARAMS), *(p - unit for p in _PARAMS)]
    edges += [Fraction(MAX_INTEGER) - unit, Fraction(10**6), Fraction(350000), Fraction(1200), Fraction(840)]
    edges = [x for x in edges if _allowed(path, x)]
    scale = 10 ** (r.places if r.places is not None else 2)
    top = 10**8 if r.hi is None else int(r.hi * scale)
    bottom = 1 if r.lo is not None and not r.lo_incl else 0
    anywhere = st.integers(bottom, top).map(lambda n: Fraction(n, scale)).filter(lambda x: _allowed(path, x))
    return st.one_of(st.sampled_from(edges), anywhere).map(lambda x: _text(path, x))


def value(path: str):
    """Any value the contract accepts in ``path``, boundaries first."""
    kind = FIELDS[path]
    if kind == "boolean":
        return st.booleans()
    if kind == "label":
        return st.sampled_from(["sme", "large"])
    if path == "enterprise.region_code":
        return st.sampled_from(["140100", "141100", "140900"])
    return _number(path)


def set_path(doc: dict, path: str, v) -> None:
    node = doc
    *head, last = path.split(".")
    for part in head:
        node = node.setdefault(part, {})
    node[last] = v


def get_path(doc: dict, path: str):
    node = doc
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def delete_path(doc: dict, path: str) -> None:
    node = doc
    *head, last = path.split(".")
    for part in head:
        node = node.get(part)
        if not isinstance(node, dict):
            return
    node.pop(last, None)


@st.composite
def applications(draw) -> dict:
    """A complete, valid application: the base with any of its fields changed, a section dropped now and then."""
    doc = copy.deepcopy(BASE_APPLICATION)
    for path in PATHS:
        if draw(st.booleans()):
            set_path(doc, path, draw(value(path)))
    for section in ("storage", "equipment", "packaging", "energy"):
        if draw(st.integers(0, 9)) == 0:
            doc.pop(section)
    return doc


def given_paths(doc: dict) -> list[str]:
    return [p for p in PATHS if get_path(doc, p) is not None]


@st.composite
def deletions(draw, doc: dict) -> list[str]:
    """Some of the fields ``doc`` gives."""
    present = given_paths(doc)
    return draw(st.lists(st.sampled_from(present), unique=True, max_size=8)) if present else []


def without(doc: dict, paths) -> dict:
    out = copy.deepcopy(doc)
    for p in paths:
        delete_path(out, p)
    return out


@st.composite
def completions(draw, doc: dict, paths) -> dict:
    """``doc`` with a value the contract accepts in each of ``paths``."""
    out = copy.deepcopy(doc)
    for p in paths:
        set_path(out, p, draw(value(p)))
    return out
