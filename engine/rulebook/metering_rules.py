"""``rules/metering.yaml``: which declared value each metered fact checks, and its tolerance.

Parsed as strictly as the outcome files (unknown keys, facts, fields, parameters, outcomes and
placeholders are errors naming the file and key), when the rulebook loads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.errors import BadValueError, UnknownReferenceError

FILE = "rules/metering.yaml"
#: the facts engine.metering derives, and the application field each one replaces (None: derived)
FACTS = {
    "baseline_peak_kw": "storage.baseline_peak_kw",
    "peak_with_storage_kw": "storage.peak_with_storage_kw",
    "peak_shaving_ratio": None,
    "discharged_kwh": "storage.discharged_kwh",
    "reporting_completeness": "storage.platform.reporting_completeness",
    "max_upload_delay_min": "storage.platform.max_upload_delay_min",
}
PLACEHOLDERS = {"label", "declared", "metered", "difference", "tolerance"}
#: parameters the derivation itself reads (engine.metering.settings_from)
SETTINGS = ("metering.window_start", "metering.window_end", "metering.interval_length")
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


@dataclass(frozen=True)
class Check:
    fact: str
    declared: str  # a field path, or "<outcome>.<let>"
    declared_term: object  # the outcome's let term when ``declared`` names one, else None
    outcome: str
    mode: str  # "relative" (share of the metered value) or "absolute"
    tolerance: str  # parameter name
    label: dict

    def declared_fields(self) -> frozenset:
        """The application fields the declared value is read from."""
        if self.declared_term is None:
            return frozenset({self.declared})
        refs = self.declared_term.refs()  # type: ignore[attr-defined]  # a term of the rule language
        return frozenset(name for kind, name in refs if kind == "field")


@dataclass(frozen=True)
class MeteringSpec:
    code: str
    source: str
    clause: str
    message: dict
    checks: tuple

    def params(self) -> set:
        return {c.tolerance for c in self.checks} | set(SETTINGS)


def parse_metering(raw, params: dict, outcomes: dict, helpers) -> MeteringSpec:
    """``helpers`` are the rulebook's strict readers (keys, text, bilingual, code, source)."""
    keys, text, bilingual, code, source = helpers
    keys(raw, FILE, "", {"code", "source", "clause", "message", "checks"})
    message = bilingual(raw["message"], FILE, "message")
    for lang, template in message.items():
        for name in _PLACEHOLDER.findall(template):
            if name not in PLACEHOLDERS:
                raise UnknownReferenceError(
                    FILE,
                    f"message.{lang}",
                    f"unknown placeholder ${{{name}}}",
                    "one of " + ", ".join(f"${{{p}}}" for p in sorted(PLACEHOLDERS)),
                )
    for name in SETTINGS:
        if name not in params:
            raise UnknownReferenceError(
                FILE,
                "",
                f"the parameter {name} is missing",
                f"rules/parameters/metering.yaml with key {name.split('.', 1)[1]}",
            )
    if not isinstance(raw["checks"], list) or not raw["checks"]:
        raise BadValueError(FILE, "checks", "expected a list of checks")
    checks, seen = [], set()
    for i, c in enumerate(raw["checks"]):
        key = f"checks[{i}]"
        keys(c, FILE, key, {"fact", "declared", "outcome", "tolerance", "label"})
        fact = c["fact"]
        if fact not in FACTS:
            raise UnknownReferenceError(FILE, f"{key}.fact", f"unknown fact {fact!r}", "one of " + ", ".join(FACTS))
        if fact in seen:
            raise BadValueError(FILE, f"{key}.fact", f"{fact} is checked twice")
        seen.add(fact)
        if c["outcome"] not in outcomes:
            raise UnknownReferenceError(FILE, f"{key}.outcome", f"unknown outcome {c['outcome']!r}")
        declared, term = text(c["declared"], FILE, f"{key}.declared"), None
        if FACTS[fact] is not None:
            if declared != FACTS[fact]:
                raise BadValueError(
                    FILE,
                    f"{key}.declared",
                    f"{fact} replaces the field {FACTS[fact]}, so it is checked against that field",
                    FACTS[fact],
                )
        else:
            owner, _, let = declared.partition(".")
            lets = dict(outcomes[owner].lets) if owner in outcomes else {}
            if let not in lets:
                raise UnknownReferenceError(
                    FILE,
                    f"{key}.declared",
                    f"{declared!r} is not a variable (let) of an outcome",
                    "<outcome>.<let>, e.g. storage_subsidy.peak_shaving_ratio",
                )
            term = lets[let]
        keys(c["tolerance"], FILE, f"{key}.tolerance", set(), {"relative", "absolute"})
        if len(c["tolerance"]) != 1:
            raise BadValueError(FILE, f"{key}.tolerance", "expected exactly one of relative or absolute")
        mode, tolerance = next(iter(c["tolerance"].items()))
        if tolerance not in params:
            raise UnknownReferenceError(FILE, f"{key}.tolerance.{mode}", f"unknown parameter {tolerance!r}")
        checks.append(
            Check(fact, declared, term, c["outcome"], mode, tolerance, bilingual(c["label"], FILE, f"{key}.label"))
        )
    return MeteringSpec(
        code(raw["code"], FILE, "code"),
        source(raw["source"], FILE, "source"),
        text(raw["clause"], FILE, "clause"),
        message,
        tuple(checks),
    )
