"""The decision document (contract 1): its shape, and how annotations extend it.

The shape is written once here as TypedDicts: they cost nothing at run time (a TypedDict is a
plain dict), so the Rete backend builds documents at full speed and the type checker still
knows every key. ``DECISION_SCHEMA`` (pydantic) validates a document against the same
definitions, for tests and for anyone receiving decisions.

A decision is made by a backend and then explained further by annotations -- declared versus
metered (``with_metering``), history from the record (``with_history``). An annotation returns a
new document: the caller's is left as it was, and only what changes is copied (the outcomes
that gain a reason, never the trace or the parameters). Keys keep their order, so the JSON text
of a document is the same whichever way it was assembled.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any, Literal, NotRequired

from typing_extensions import TypedDict  # pydantic reads typing's TypedDict only from Python 3.12

CONTRACT = 1

#: ``undetermined`` only in a partial decision (an application with unknown fields, ``--partial``).
Status = Literal["met", "not_met", "granted", "denied", "levied", "exempt", "not_applicable", "undetermined"]


class Text(TypedDict):
    """A text in both languages of the rulebook."""

    en: str
    zh: str


class Reason(TypedDict):
    """Why an outcome is what it is: a stable upper-case code, the rule, the policy source.

    Every reason the engine writes also has ``message_zh`` and ``clause``; ``values`` (the facts
    and parameter values the rule read, as display text) is absent only on an exemption.
    """

    code: str
    rule: str
    message: str
    source: str
    message_zh: NotRequired[str]
    clause: NotRequired[str]
    values: NotRequired[dict[str, Any]]


class ParameterUsed(TypedDict):
    """A parameter an outcome read, as in force on the decision's date."""

    value: str | dict[str, str]  # a table indexed by region is {key: value, ..., "default": value}
    unit: str
    effective_from: str
    reference: str


class Notice(TypedDict):
    kind: str
    deadline_days: int


class AmountRange(TypedDict):
    """The amounts an undetermined outcome can still end with (``max`` null: no bound)."""

    min: str | None
    max: str | None


class OutcomeDoc(TypedDict):
    """One outcome of a decision (``OutcomeDoc``: the rulebook's ``Outcome`` is the rule that makes it)."""

    status: Status
    amount: str | None
    unit: str | None
    reasons: list[Reason]
    title: Text
    source: str
    parameters: dict[str, ParameterUsed]
    notice: NotRequired[Notice]  # a check not met that calls for rectification
    earmark: NotRequired[Text]  # what a levy is earmarked for
    # only in a partial decision:
    needs: NotRequired[list[str]]  # unknown fields that could change it (or add reasons)
    could_be: NotRequired[list[str]]  # an undetermined outcome's reachable statuses
    amount_range: NotRequired[AmountRange]  # an undetermined outcome's reachable amounts


class Ruleset(TypedDict):
    version: str
    digest: str


class Totals(TypedDict):
    subsidy_yuan: str
    levy_yuan: str


class TraceEntry(TypedDict):
    rule: str
    facts: dict[str, Any]


class HistoryBlock(TypedDict):
    """Which history decided the caps: the record of decisions, not the declaration."""

    used: Literal["record"]
    declared: dict[str, str]
    record: dict[str, str]
    agrees: bool
    differences: list[str]


class TelemetrySource(TypedDict):
    file: str
    sha256: str
    system_id: str | None


class Tolerance(TypedDict):
    parameter: str
    mode: str  # relative | absolute
    value: str


class Shown(TypedDict):
    """A declared-versus-metered comparison's numbers, as display text."""

    declared: str
    metered: str
    difference: str
    limit: str  # the tolerance in the fact's own unit


class MeteringComparison(Shown):
    fact: str
    outcome: str
    label: Text
    tolerance: Tolerance
    differs: bool


class MeteringBlock(TypedDict):
    """The metered facts that decided, and every declared-versus-metered comparison."""

    used: Literal["metered"]
    telemetry: TelemetrySource
    facts: dict[str, Any]  # MeteredFacts.as_dict()
    comparisons: list[MeteringComparison]
    agrees: bool
    differences: list[str]
    parameters: dict[str, ParameterUsed]


class Question(TypedDict):
    """An unknown field worth asking for, with the outcomes it settles and those that need it."""

    field: str
    label: Text
    settles: list[str]
    affects: list[str]


class TotalsRange(TypedDict):
    subsidy_yuan: AmountRange
    levy_yuan: AmountRange


class PartialBlock(TypedDict):
    """What a partial decision did not know, and what to ask next."""

    unknown: list[str]
    questions: list[Question]
    totals_range: TotalsRange


class Decision(TypedDict):
    contract: int
    application_id: str
    evaluated_on: str
    ruleset: Ruleset
    outcomes: dict[str, OutcomeDoc]
    totals: Totals
    trace: list[TraceEntry]
    partial: NotRequired[PartialBlock]
    history: NotRequired[HistoryBlock]
    metering: NotRequired[MeteringBlock]


#: (outcome name, reason) pairs an annotation adds
Annotations = Iterable[tuple[str, Reason]]


def with_reasons(decision: Decision, reasons: Annotations) -> Decision:
    """``decision`` with ``reasons`` appended to their outcomes, as a new document.

    A ``not_applicable`` outcome gains none: its one reason is the exemption, and nothing was
    decided on the facts an annotation speaks about.
    """
    outcomes = decision["outcomes"]
    changed: dict[str, OutcomeDoc] = {}
    for name, reason in reasons:
        out = changed.get(name) or outcomes[name]
        if out["status"] == "not_applicable":
            continue
        if name not in changed:
            out = changed[name] = {**out, "reasons": list(out["reasons"])}
        out["reasons"].append(reason)
    if not changed:
        return {**decision}
    return {**decision, "outcomes": {**outcomes, **changed}}


def with_history(decision: Decision, block: HistoryBlock, reasons: Annotations = ()) -> Decision:
    """``decision`` with its ``history`` block and the reasons where the record overruled the declaration."""
    return {**with_reasons(decision, reasons), "history": block}


def with_metering(decision: Decision, block: MeteringBlock, reasons: Annotations = ()) -> Decision:
    """``decision`` with its ``metering`` block and the reasons where a declaration differs from the meter."""
    return {**with_reasons(decision, reasons), "metering": block}


@cache
def _adapter():
    from pydantic import TypeAdapter  # only validation needs it: deciding never does

    return TypeAdapter(Decision)


def decision_schema() -> dict:
    """The JSON schema of a decision document (pydantic, from the TypedDicts above)."""
    return _adapter().json_schema()


def validate_decision(document: Any) -> Decision:
    """``document`` itself, once checked against the contract, strictly (pydantic's ValidationError
    names the path). Pydantic's own copy would order keys as declared here, not as written."""
    _adapter().validate_python(document, strict=True)
    return document
