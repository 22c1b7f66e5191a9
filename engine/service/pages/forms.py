"""The application as a form: its sections and inputs (each named by its contract path), and the
way between a posted form and an application document.

A field left empty is unknown (engine/partial), never zero. An optional section (storage,
equipment, packaging, energy) takes part when its box ``sections`` is ticked, with the fields
left empty unknown; unticked, it is left out of the document, which the contract reads as "does
not take part". Values are passed as typed: the contract checks them and names every offending
field, so nothing here second-guesses a number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, get_args

from engine.contract.application import FIELDS, Application, leaf_fields
from engine.partial.reading import OPTIONAL_SECTIONS

#: the form's sections, in the contract's order; ``storage.platform`` is shown inside storage
SECTIONS = ("application", "enterprise", "storage", "equipment", "packaging", "energy", "history")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_CHOICES = {path: get_args(info.annotation) for path, info in leaf_fields(Application) if FIELDS[path] == "label"}
#: the input type of each kind of field (decimals stay text: the browser's number input would
#: round or reformat what the enterprise typed; dates too: the contract's ISO text, typed as
#: such, where a date input would be split into parts Tab steps through in the locale's order)
_INPUT = {"decimal": "text", "integer": "text", "text": "text", "date": "text"}
_MODE = {"decimal": "decimal", "integer": "numeric"}


@dataclass(frozen=True)
class Input:
    path: str
    kind: str  # the contract's: decimal, integer, text, date, boolean, label
    choices: tuple  # a boolean's or a label's values ("" first: unknown)
    input_type: str  # text, date, or select
    inputmode: str | None

    @property
    def key(self) -> str:
        """The catalogue's key of its help (``pages.help.storage_discharged_kwh``)."""
        return self.path.replace(".", "_")


def section_of(path: str) -> str:
    top = path.split(".")[0]
    return top if top in SECTIONS else "application"


def _input(path: str) -> Input:
    kind = FIELDS[path]
    if kind == "boolean":
        return Input(path, kind, ("", "true", "false"), "select", None)
    if kind == "label":
        return Input(path, kind, ("", *_CHOICES[path]), "select", None)
    return Input(path, kind, (), _INPUT[kind], _MODE.get(kind))


INPUTS = {path: _input(path) for path in FIELDS}
BY_SECTION = {name: [i for i in INPUTS.values() if section_of(i.path) == name] for name in SECTIONS}


def _value(kind: str, text: str) -> Any:
    if kind == "boolean":
        return {"true": True, "false": False}.get(text, text)
    if kind == "integer" and _INTEGER.match(text):
        return int(text)
    return text


def document(form) -> dict:
    """The application document a posted form gives (empty fields left out: unknown)."""
    sections = set(form.getlist("sections"))
    doc: dict = {}
    for path, kind in FIELDS.items():
        top = path.split(".")[0]
        if top in OPTIONAL_SECTIONS:
            if top not in sections:
                continue
            doc.setdefault(top, {})
        raw = form.get(path)
        text = raw.strip() if isinstance(raw, str) else ""
        if not text:
            continue
        *inner, last = path.split(".")
        node = doc
        for part in inner:
            node = node.setdefault(part, {})
        node[last] = _value(kind, text)
    return doc


def values(doc: Any) -> tuple[dict[str, str], set[str]]:
    """What each input shows for a document (an uploaded one), and the optional sections it declares."""
    shown: dict[str, str] = {}
    if not isinstance(doc, dict):
        return shown, set()
    for path in FIELDS:
        node: Any = doc
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is None or isinstance(node, dict | list):
            continue
        shown[path] = ("true" if node else "false") if isinstance(node, bool) else str(node)
    declared = {s for s in OPTIONAL_SECTIONS if isinstance(doc.get(s), dict)}
    return shown, declared


def form_values(form) -> tuple[dict[str, str], set[str]]:
    """What each input shows after a post (as typed, even when the contract refuses it)."""
    shown = {p: v.strip() for p in FIELDS if isinstance(v := form.get(p), str) and v.strip()}
    return shown, set(form.getlist("sections")) & set(OPTIONAL_SECTIONS)
