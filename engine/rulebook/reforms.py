"""Reforms: dated diffs on the rulebook's files, never a copy of the rulebook.

A reform file (YAML, read strictly) says what changes and from when::

    name: tier30-0.90-from-2027            # a slug; recorded in ruleset.version as "+name"
    description: ...
    description_zh: ...                    # optional: the description and the reference in
    reference: "assumption: ..."           #   Chinese, as `rules reforms` and the pages show
    reference_zh: ...                      #   them (English: the two above)
    parameters:                            # dated values merged into each parameter's history
      storage_subsidy.tier_30_rate:
        values: {2027-01-01: "0.90"}       # null at a date ends the parameter there
      packaging_levy.per_order:            # a new parameter carries description, unit, reference
        description: ...
        unit: yuan/order
        reference: "assumption: ..."
        values: {2026-01-01: "0.01"}
    rules:                                 # replace top-level keys of an outcome file
      packaging_levy:
        replace: {amount: {formula: ..., round: "0.01"}}
    switch_off:                            # criteria removed, named as the engine names rules
      - storage_subsidy.criteria.NOTHING_DISCHARGED

``Reform.apply(files)`` returns a patched deep copy of ``read_files``' mapping; it compiles the
result once so that a mistake is reported against the reform file and key, not the rulebook.
"""

from __future__ import annotations

import copy
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import BadValueError, MissingKeyError, RulebookError, UnknownKeyError, UnknownReferenceError
from engine.rulebook.parameters import parse_date
from engine.rulebook.yamlfile import load_yaml

_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
_CJK = re.compile(r"[\u3400-\u9fff]")
_TOP = {"name", "description", "description_zh", "reference", "reference_zh", "parameters", "rules", "switch_off"}
_PARAM_CHANGE = {"values", "description", "reference", "rationale_zh"}
_PARAM_NEW = {"description", "unit", "reference", "rationale_zh", "values", "index"}
#: Outcome file keys a reform may replace (``outcome`` is the file's identity, never replaced).
REPLACEABLE = (
    "title",
    "kind",
    "unit",
    "source",
    "clause",
    "applies",
    "let",
    "tables",
    "criteria",
    "amount",
    "on_not_met",
    "earmark",
    "basis",
)


@dataclass(frozen=True)
class Reform:
    name: str
    description: str
    reference: str
    file: str
    parameters: dict = field(default_factory=dict)  # name -> raw spec
    rules: dict = field(default_factory=dict)  # outcome -> {key: raw}
    switch_off: tuple = ()  # (outcome, code)
    description_zh: str | None = None
    reference_zh: str | None = None

    def said(self, lang: str) -> tuple[str, str]:
        """(description, reference) in ``lang``: the Chinese where the file gives it."""
        if lang == "zh":
            return self.description_zh or self.description, self.reference_zh or self.reference
        return self.description, self.reference

    def apply(self, files: dict) -> dict:
        """A deep copy of ``files`` with this reform applied (validated against that rulebook)."""
        out = copy.deepcopy(files)
        touched: dict = {}  # (rulebook file, top key) -> reform key, to point errors at the reform
        for name, spec in self.parameters.items():
            self._apply_parameter(out, name, spec, touched)
        for outcome, replace in self.rules.items():
            rel = self._outcome_file(out, outcome, f"rules.{outcome}")
            for key, raw in replace.items():
                out[rel][key] = copy.deepcopy(raw)
                touched[(f"rules/{rel}", key)] = f"rules.{outcome}.replace.{key}"
        for i, (outcome, code) in enumerate(self.switch_off):
            here = f"switch_off[{i}]"
            rel = self._outcome_file(out, outcome, here)
            criteria = out[rel].get("criteria") or []
            codes = [c.get("code") for c in criteria if isinstance(c, dict)]
            if code not in codes:
                raise UnknownReferenceError(
                    self.file,
                    here,
                    f"outcome {outcome} has no criterion {code!r}",
                    f"one of {', '.join(f'{outcome}.criteria.{c}' for c in codes)}",
                )
            out[rel]["criteria"] = [c for c in criteria if c.get("code") != code]
        index = out["ruleset.yaml"]
        index["version"] = f"{index['version']}+{self.name}"
        self._check(out, touched)
        return out

    # --- parameters ------------------------------------------------------------
    def _apply_parameter(self, files, name, spec, touched):
        here = f"parameters.{name}"
        group, key = name.rsplit(".", 1)
        rel = f"parameters/{group.replace('.', '/')}.yaml"
        existing = files.get(rel, {}).get(key) if isinstance(files.get(rel), dict) else None
        if existing is None:
            if not {"description", "unit", "reference"} <= set(spec):
                known = _parameter_names(files)
                close = difflib.get_close_matches(name, known, n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                raise UnknownReferenceError(
                    self.file,
                    here,
                    f"unknown parameter {name!r}{hint}",
                    "an existing parameter, or a new one with description, unit, reference and values",
                )
            _allowed(spec, _PARAM_NEW, self.file, here)
            files.setdefault(rel, {})[key] = copy.deepcopy(spec)
        else:
            _allowed(spec, _PARAM_CHANGE, self.file, here)
            merged = existing
            if "reference" in spec:  # a new reference: the old one's translation no longer says it
                merged.pop("rationale_zh", None)
            for k in ("description", "reference", "rationale_zh"):
                if k in spec:
                    merged[k] = spec[k]
            merged["values"] = {**merged.get("values", {}), **copy.deepcopy(spec["values"])}
        touched[(f"rules/{rel}", key)] = here

    def _outcome_file(self, files, outcome, here) -> str:
        rel = f"outcomes/{outcome}.yaml"
        if rel not in files:
            known = sorted(r[len("outcomes/") : -len(".yaml")] for r in files if r.startswith("outcomes/"))
            raise UnknownReferenceError(self.file, here, f"unknown outcome {outcome!r}", f"one of {', '.join(known)}")
        return rel

    def _check(self, files, touched):
        """Compile once; an error in what this reform wrote is reported against the reform."""
        from engine.rulebook.loader import compile_rulebook

        try:
            compile_rulebook(Path("rules"), files)
        except RulebookError as exc:
            top = exc.key.split(".", 1)[0].split("[", 1)[0] if exc.key else ""
            where = touched.get((exc.file, top))
            if where is None:
                raise
            rest = exc.key[len(top) :]
            expected = exc.expected or (
                "a field of the data contract, a parameter, or a let variable or table of the outcome"
                if isinstance(exc, UnknownReferenceError)
                else "the form of the files in rules/outcomes/"
            )
            raise type(exc)(self.file, where + rest, f"{exc.problem} (reform {self.name})", expected) from None


def _parameter_names(files) -> list:
    names = []
    for rel, data in files.items():
        if rel.startswith("parameters/") and isinstance(data, dict):
            group = rel.removeprefix("parameters/").rsplit(".", 1)[0].replace("/", ".")
            names += [f"{group}.{k}" for k in data]
    return names


def _allowed(raw, keys, file, here):
    if not isinstance(raw, dict):
        raise BadValueError(
            file, here, f"expected a mapping, got {type(raw).__name__}", f"a mapping with {', '.join(sorted(keys))}"
        )
    for k in raw:
        if k not in keys:
            raise UnknownKeyError(file, f"{here}.{k}", "unknown key", f"one of {', '.join(sorted(keys))}")


def _text(raw, file, key, expected="non-empty text"):
    if not isinstance(raw, str) or not raw.strip():
        raise BadValueError(file, key, f"{raw!r} is not text", expected)
    return raw.strip()


def _chinese(raw: dict, file: str, key: str) -> str | None:
    if key not in raw:
        return None
    text = _text(raw[key], file, key, "Chinese text")
    if not _CJK.search(text):
        raise BadValueError(file, key, f"{text!r} is not Chinese", "Chinese text")
    return text


def load_reform(path: Path | str) -> Reform:
    """Read and check a reform file's form; names are checked against a rulebook in ``apply``."""
    path = Path(path)
    file = str(path)
    raw = load_yaml(path, file, numbers_in_text=True)
    if not isinstance(raw, dict):
        raise BadValueError(
            file, "", "a reform is a mapping", "name, description, reference, parameters, rules, switch_off"
        )
    for k in raw:
        if k not in _TOP:
            raise UnknownKeyError(file, str(k), "unknown key", f"one of {', '.join(sorted(_TOP))}")
    for k in ("name", "description", "reference"):
        if k not in raw:
            raise MissingKeyError(file, k, "required key is missing")
    name = _text(raw["name"], file, "name")
    if not _NAME.match(name):
        raise BadValueError(file, "name", f"{name!r} is not a reform name", "lower-case letters, digits, '.' and '-'")
    if not any(raw.get(k) for k in ("parameters", "rules", "switch_off")):
        raise MissingKeyError(
            file, "parameters", "a reform changes nothing", "at least one of parameters, rules, switch_off"
        )

    params = raw.get("parameters") or {}
    if not isinstance(params, dict):
        raise BadValueError(
            file,
            "parameters",
            "expected a mapping of parameter names",
            '{storage_subsidy.tier_30_rate: {values: {2027-01-01: "0.90"}}}',
        )
    for pname, spec in params.items():
        here = f"parameters.{pname}"
        if not isinstance(pname, str) or "." not in pname:
            raise BadValueError(
                file, here, f"{pname!r} is not a parameter name", "group.name, e.g. storage_subsidy.tier_30_rate"
            )
        _allowed(spec, _PARAM_NEW, file, here)
        values = spec.get("values")
        if not isinstance(values, dict) or not values:
            raise MissingKeyError(file, f"{here}.values", "dated values are required", 'values: {2027-01-01: "0.90"}')
        for date_text, value in values.items():
            parse_date(date_text, file, f"{here}.values.{date_text}")
            if isinstance(value, (bool, float)) or not (
                value is None or isinstance(value, (str, int, dict)) or type(value).__name__ == "Decimal"
            ):
                raise BadValueError(
                    file,
                    f"{here}.values.{date_text}",
                    f"{value!r} is not a value",
                    'a quoted decimal such as "0.90", a mapping for an indexed parameter, or null to end it',
                )

    rules = raw.get("rules") or {}
    if not isinstance(rules, dict):
        raise BadValueError(file, "rules", "expected a mapping of outcome names", "{outcome: {replace: {...}}}")
    replaced = {}
    for outcome, spec in rules.items():
        here = f"rules.{outcome}"
        _allowed(spec, {"replace"}, file, here)
        rep = spec.get("replace")
        if not isinstance(rep, dict) or not rep:
            raise MissingKeyError(
                file,
                f"{here}.replace",
                "expected the outcome keys to replace",
                f"a mapping with some of {', '.join(REPLACEABLE)}",
            )
        for k in rep:
            if k not in REPLACEABLE:
                raise UnknownKeyError(
                    file, f"{here}.replace.{k}", "not a replaceable outcome key", f"one of {', '.join(REPLACEABLE)}"
                )
        replaced[outcome] = rep

    offs = raw.get("switch_off") or []
    if not isinstance(offs, list):
        raise BadValueError(file, "switch_off", "expected a list", "[outcome.criteria.CODE, ...]")
    switched = []
    for i, item in enumerate(offs):
        parts = item.split(".") if isinstance(item, str) else []
        if len(parts) != 3 or parts[1] != "criteria":
            raise BadValueError(
                file,
                f"switch_off[{i}]",
                f"{item!r} is not a criterion name",
                "outcome.criteria.CODE, e.g. storage_subsidy.criteria.NOTHING_DISCHARGED",
            )
        switched.append((parts[0], parts[2]))
    return Reform(
        name=name,
        description=_text(raw["description"], file, "description"),
        reference=_text(raw["reference"], file, "reference"),
        description_zh=_chinese(raw, file, "description_zh"),
        reference_zh=_chinese(raw, file, "reference_zh"),
        file=file,
        parameters=params,
        rules=replaced,
        switch_off=tuple(switched),
    )
