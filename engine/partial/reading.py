"""An incomplete application: the fields it gives, checked as the contract checks them, and the
fields it leaves out, which are unknown.

A field left out (or given as ``null``) is unknown: never zero and never the contract's default
(an absent ``history`` is not "no subsidy received yet" here). A section left out (``storage``,
``equipment``, ``packaging``, ``energy``) still means what the contract says, "does not take
part"; a section given, even as ``{}``, takes part, with the fields it leaves out unknown.
``application_id`` and the period stay required: they name the decision and the date its rules
are read on. Everything given is validated exactly as without partial mode (every offending
field named), because the unknown fields are filled with stand-in values the contract accepts
before the document is parsed; the stand-ins are never read as facts (engine/partial/analysis).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, get_args

from engine.contract.application import FIELDS, Application, leaf_fields, parse_application, read_document
from engine.errors import InvalidApplicationError
from engine.rulebook.checks import FIELD_RANGES

#: Fields a partial application must still give.
REQUIRED = ("application_id", "period.start", "period.end")
#: Sections whose absence the contract reads as "does not take part".
OPTIONAL_SECTIONS = ("storage", "equipment", "packaging", "energy")
#: Stand-ins for text fields (each valid: the credit code's check character of eighteen zeros is 0).
_TEXT_STANDINS = {"enterprise.credit_code": "0" * 18, "enterprise.name": "?", "enterprise.region_code": "000000"}


@dataclass(frozen=True)
class PartialApplication:
    """An application with some fields unknown.

    ``app`` is the application with a stand-in in each unknown field (so it can be handed to
    what reads an Application); ``unknown`` the dotted paths that are not known.
    """

    app: Application
    unknown: frozenset[str]

    @property
    def application_id(self) -> str:
        return self.app.application_id


def _standin(path: str, info) -> Any:
    kind = FIELDS[path]
    if kind == "boolean":
        return False
    if kind == "label":
        return get_args(info.annotation)[0]
    if kind in ("decimal", "integer"):
        r = FIELD_RANGES[path]
        low = Fraction(0) if r.lo is None else r.lo if r.lo_incl else r.lo + 1
        return int(low) if kind == "integer" else str(low)
    return _TEXT_STANDINS[path]


_STANDINS = {path: _standin(path, info) for path, info in leaf_fields(Application) if path not in REQUIRED}


def parse_partial_application(data: Any) -> PartialApplication:
    """Validate a document (text, bytes or parsed JSON) whose missing fields are unknown.

    InvalidApplicationError names every field given with a value the contract refuses, every
    unknown field name, and a missing ``application_id`` or period, as ``parse_application`` does.
    """
    doc = read_document(data)
    if not isinstance(doc, dict):
        raise InvalidApplicationError([("(document)", "must be a JSON object")])
    filled = copy.deepcopy(doc)
    unknown = set()
    for path, standin in _STANDINS.items():
        top, *inner, last = path.split(".")
        if top in OPTIONAL_SECTIONS and filled.get(top) is None:
            continue  # not declared: the section does not take part
        if filled.get(top) is None:
            filled[top] = {}
        node = filled[top]
        for part in inner:
            if not isinstance(node, dict):
                break
            if node.get(part) is None:
                node[part] = {}
            node = node[part]
        if isinstance(node, dict) and node.get(last) is None:
            node[last] = standin
            unknown.add(path)
    return PartialApplication(parse_application(filled), frozenset(unknown))
