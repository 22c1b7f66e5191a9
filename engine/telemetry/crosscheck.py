"""Declared versus metered: put the meter's facts into the application, and say what changed.

``metered_application`` replaces the declared storage fields with the facts derived from
telemetry (the meter always decides); ``annotate`` returns the decision with a ``metering`` block
(the facts, the gaps, every comparison, the parameters used) and, on the outcome each fact
feeds, the rulebook's ``DECLARED_DIFFERS_FROM_METERED`` reason wherever a declaration differs
from the meter beyond its tolerance (rules/metering.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR
from fractions import Fraction
from string import Template
from types import SimpleNamespace

from engine.contract.application import Application
from engine.contract.decision import Decision, MeteringBlock, Reason, Shown, Text, with_metering
from engine.errors import MeteringError, RulebookError
from engine.rulebook.evaluate import field_values
from engine.telemetry.metering import MeteredFacts, Settings, derive, settings_from, to_decimal
from engine.telemetry.reader import Telemetry

SHOWN_PLACES = 6  # a declared ratio like 360/1200 = 0.3 shows exactly; 1/3 as 0.333333


@dataclass(frozen=True)
class Comparison:
    fact: str
    outcome: str
    label: Text
    declared: Fraction
    metered: Fraction
    difference: Fraction
    limit: Fraction  # the tolerance in the fact's own unit
    tolerance: str  # parameter name
    mode: str

    @property
    def differs(self) -> bool:
        return self.difference > self.limit  # "beyond the tolerance": strictly greater

    def shown(self) -> Shown:
        return {
            "declared": _show(self.declared),
            "metered": _show(self.metered),
            "difference": _show(self.difference),
            "limit": _show(self.limit),
        }


def _show(value: Fraction) -> str:
    return str(to_decimal(value, SHOWN_PLACES, ROUND_FLOOR))


def _spec(book):
    if book.metering is None:
        raise RulebookError("rules/metering.yaml", "", "telemetry was given but the rulebook has no metering rules")
    return book.metering


def settings_at(book, when) -> Settings:
    """The metering window and interval in force on ``when``."""
    _spec(book)
    return settings_from(book.values_at(when))


def interval_minutes(book, when) -> int:
    """The metering interval in force on ``when``: a telemetry file is read on this grid."""
    return settings_at(book, when).interval_minutes


def facts_for(book, app: Application, telemetry: Telemetry, system_id: str | None = None) -> MeteredFacts:
    """The metered facts over the application's period, with the window and interval in force
    on ``period.end`` (the date every parameter of a decision is read on)."""
    return derive(telemetry, app.period.start, app.period.end, settings_at(book, app.period.end), system_id)


def metered_application(
    book, app: Application, facts: MeteredFacts, unknown: frozenset = frozenset()
) -> tuple[Application, list[Comparison]]:
    """``app`` with the metered facts in its storage fields, and each declaration compared with
    the meter; a declaration that reads an ``unknown`` field (a partial application's) has
    nothing to compare, and the meter fills the field."""
    if app.storage is None:
        raise MeteringError(
            f"{app.application_id}: telemetry was given, but the application declares no "
            "storage system (add the storage section, or leave the telemetry out)"
        )
    spec = _spec(book)
    params = book.values_at(app.period.end)
    values = facts.contract_values()
    declared_fields, present = field_values(app)
    metered_fields = {**declared_fields, **{k: Fraction(v) for k, v in values.items()}}
    comparisons = []
    for check in spec.checks:
        if unknown & check.declared_fields():
            continue
        if check.declared_term is not None:
            declared = _let(check.declared_term, declared_fields, present, params)
            metered = _let(check.declared_term, metered_fields, present, params)
        else:
            declared, metered = declared_fields[check.declared], metered_fields[check.declared]
        tolerance = params[check.tolerance]
        limit = tolerance * abs(metered) if check.mode == "relative" else tolerance
        comparisons.append(
            Comparison(
                check.fact,
                check.outcome,
                check.label,
                declared,
                metered,
                abs(declared - metered),
                limit,
                check.tolerance,
                check.mode,
            )
        )
    platform = app.storage.platform.model_copy(
        update={
            "reporting_completeness": values["storage.platform.reporting_completeness"],
            "max_upload_delay_min": values["storage.platform.max_upload_delay_min"],
        }
    )
    storage = app.storage.model_copy(
        update={
            "baseline_peak_kw": values["storage.baseline_peak_kw"],
            "peak_with_storage_kw": values["storage.peak_with_storage_kw"],
            "discharged_kwh": values["storage.discharged_kwh"],
            "platform": platform,
        }
    )
    return app.model_copy(update={"storage": storage}), comparisons


def _let(term, fields: dict, present: set, params: dict) -> Fraction:
    """An outcome's own formula (a let of the rulebook) on these fields: one definition of the
    peak-shaving ratio, whether it is applied to the declaration or to the meter."""
    env = SimpleNamespace(fields=fields, params=params, vars={}, tables={}, status={}, literals={}, present=present)
    value = term.value(env)
    if value is None:
        raise MeteringError("the declared value of a metered fact cannot be computed")
    return value


def annotate(
    decision: Decision,
    book,
    app: Application,
    facts: MeteredFacts,
    comparisons: list[Comparison],
    telemetry: Telemetry,
) -> Decision:
    """``decision`` with the metering block and the reasons, as a new document (``decision`` is kept)."""
    spec = _spec(book)
    when = app.period.end
    resolved = book.params_at(when)
    differing = [c for c in comparisons if c.differs]
    block: MeteringBlock = {
        "used": "metered",
        "telemetry": {"file": telemetry.source, "sha256": telemetry.sha256, "system_id": facts.system_id or None},
        "facts": facts.as_dict(),
        "comparisons": [
            {
                "fact": c.fact,
                "outcome": c.outcome,
                "label": c.label,
                **c.shown(),
                "tolerance": {
                    "parameter": c.tolerance,
                    "mode": c.mode,
                    "value": book.params[c.tolerance].literal_at(when),
                },
                "differs": c.differs,
            }
            for c in comparisons
        ],
        "agrees": not differing,
        "differences": [c.fact for c in differing],
        "parameters": {
            name: {
                "value": book.params[name].literal_at(when),
                "unit": book.params[name].unit,
                "effective_from": resolved[name][1].isoformat(),
                "reference": book.params[name].reference,
            }
            for name in sorted(spec.params())
        },
    }
    return with_metering(
        decision, block, [(c.outcome, _reason(spec, c, book.params[c.tolerance].literal_at(when))) for c in differing]
    )


def _reason(spec, c: Comparison, tolerance_value: str) -> Reason:
    """``DECLARED_DIFFERS_FROM_METERED`` for one comparison, in the rulebook's words."""
    shown = c.shown()
    words = {
        "declared": shown["declared"],
        "metered": shown["metered"],
        "difference": shown["difference"],
        "tolerance": shown["limit"],
    }
    return {
        "code": spec.code,
        "rule": f"metering.{c.fact}",
        "message": Template(spec.message["en"]).substitute(words, label=c.label["en"]),
        "message_zh": Template(spec.message["zh"]).substitute(words, label=c.label["zh"]),
        "source": spec.source,
        "clause": spec.clause,
        "values": {**words, c.tolerance: tolerance_value},
    }


def decide_metered(engine, book, app: Application, telemetry: Telemetry, system_id: str | None = None) -> Decision:
    """The decision on the metered facts, explained (the library's one-call entry point)."""
    facts = facts_for(book, app, telemetry, system_id)
    metered, comparisons = metered_application(book, app, facts)
    return annotate(engine.decide(metered), book, app, facts, comparisons, telemetry)
