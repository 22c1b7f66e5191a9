"""The decision document of an incomplete application (docs/contract.md, "Partial decisions").

An outcome none of whose fields is unknown (through the outcomes it depends on) is the engine's
own, exactly as in a full decision: it is taken from the Rete engine's decision of the
application with stand-ins in the unknown fields, which it never reads. Every other outcome is
written from the analysis (engine/partial/analysis.py): settled, with the reasons that hold
whatever the unknowns are, or ``undetermined``, with the statuses it can still reach and the
range of its amount; each lists in ``needs`` the unknown fields that could change it. With no
unknown field the document is the full decision, byte for byte.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from engine.backends.rete.engine import ReteEngine
from engine.contract.application import FIELDS, Application
from engine.contract.decision import AmountRange, Decision, OutcomeDoc, TotalsRange
from engine.decimals import fmt_amount, fmt_plain, fmt_scaled
from engine.partial.analysis import OutcomeAnalysis, analyze, facts_of, term
from engine.partial.intervals import Interval, add, hull
from engine.partial.questions import questions
from engine.partial.reading import PartialApplication
from engine.rulebook.evaluate import field_values
from engine.rulebook.expressions import Compare, Hit, Param
from engine.rulebook.loader import STATUSES, Rulebook
from engine.rulebook.reasons import capped_reason, exemption_reason, failure_reason, failure_wording, tier_reason

UNDETERMINED = "undetermined"
#: How a value no one knows yet reads in a reason's message.
UNKNOWN_TEXT = "?"


def decide_partial(
    book: Rulebook,
    application: PartialApplication | Application,
    telemetry: Any = None,
    system_id: str | None = None,
) -> Decision:
    """The decision of an application whose unknown fields may take any value the contract allows.

    ``telemetry`` (engine.telemetry.reader.Telemetry) fills the metered fields, as ``check
    --telemetry`` does; a full application gives the document ``ReteEngine.decide`` (or
    ``decide_metered``) gives.
    """
    if isinstance(application, Application):
        application = PartialApplication(application, frozenset())
    engine = ReteEngine.for_rulebook(book)
    app, unknown = application.app, application.unknown
    if telemetry is not None:
        from engine.telemetry.crosscheck import annotate, facts_for, metered_application

        metered_facts = facts_for(book, app, telemetry, system_id)
        metered, comparisons = metered_application(book, app, metered_facts, unknown)
        unknown = unknown - set(metered_facts.contract_values())
        return annotate(_decide(book, engine, metered, unknown), book, app, metered_facts, comparisons, telemetry)
    return _decide(book, engine, app, unknown)


def _decide(book: Rulebook, engine: ReteEngine, app: Application, unknown: frozenset) -> Decision:
    full = engine.decide(app)
    if not unknown:
        return full
    fields, present = field_values(app)
    facts = facts_of(book, fields, present, unknown, app.period.end)
    analyses = analyze(book, facts)
    outcomes: dict[str, OutcomeDoc] = {}
    exact = {name for name, a in analyses.items() if not (a.reads & unknown)}
    for name, a in analyses.items():
        outcomes[name] = (
            full["outcomes"][name] if name in exact else _outcome_doc(a, full["outcomes"][name], outcomes, facts)
        )
    for name in exact:
        outcomes[name]["needs"] = []
    subsidy, levy = Decimal("0.00"), Decimal("0.00")
    for o in book.outcomes:
        doc = outcomes[o.name]
        if o.unit == "yuan" and doc["status"] == "granted":
            subsidy += Decimal(str(doc["amount"]))
        if o.kind == "levy" and doc["status"] == "levied":
            levy += Decimal(str(doc["amount"]))
    trace = [e for e in full["trace"] if e["rule"].split(".", 1)[0] in exact and e["rule"] != "decision.totals"]
    for name, a in analyses.items():
        if name not in exact:
            trace += _trace(a, outcomes[name])
    trace.append({"rule": "decision.totals", "facts": {}})
    return {
        "contract": full["contract"],
        "application_id": full["application_id"],
        "evaluated_on": full["evaluated_on"],
        "ruleset": full["ruleset"],
        "outcomes": outcomes,
        "totals": {"subsidy_yuan": fmt_amount(subsidy, 2), "levy_yuan": fmt_amount(levy, 2)},
        "trace": trace,
        "partial": {
            "unknown": [p for p in FIELDS if p in unknown],
            "questions": questions(book, analyses, outcomes),
            "totals_range": _totals_range(book, analyses, outcomes),
        },
    }


# --- one outcome --------------------------------------------------------------------------
def _outcome_doc(a: OutcomeAnalysis, engine_doc: OutcomeDoc, earlier: dict, facts) -> OutcomeDoc:
    """An outcome that reads an unknown field, as the analysis settles it (or cannot)."""
    o = a.outcome
    ok, ko = STATUSES[o.kind]
    statuses = {name: doc["status"] for name, doc in earlier.items()}
    reasons: list = []
    amount = None
    if a.settled:
        status = a.statuses[0]
        if status == "not_applicable":
            reasons = [exemption_reason(o, a.exemption)] if a.exemption is not None else []
        elif status == ko:
            reasons = [_failure(a, c, facts, statuses) for c in a.failing]
            amount = None if o.amount is None else fmt_amount(Decimal(0), o.amount.places)
        else:
            reasons = _granted_reasons(a, facts)
            if o.amount is not None and a.amount is not None:
                amount = fmt_scaled(_scaled(a.amount.lo, o.amount.places), o.amount.places)
    else:
        status = UNDETERMINED
    doc: dict = {
        "status": status,
        "amount": amount,
        "unit": None if status == "not_applicable" or o.amount is None else o.unit,
        "reasons": reasons,
        "title": engine_doc["title"],
        "source": engine_doc["source"],
        "parameters": engine_doc["parameters"],
    }
    if status == "not_met" and o.on_not_met:
        doc["notice"] = {
            "kind": o.on_not_met["notice"],
            "deadline_days": int(facts.params[o.on_not_met["deadline_days"]]),
        }
    if "earmark" in engine_doc:
        doc["earmark"] = engine_doc["earmark"]
    doc["needs"] = [p for p in FIELDS if p in a.needs]
    if status == UNDETERMINED:
        doc["could_be"] = list(a.statuses)
        span = a.amount_range()
        if span is not None and o.amount is not None:
            doc["amount_range"] = _range(span, o.amount.places)
    return doc  # type: ignore[return-value]  # an OutcomeDoc with the partial keys


def _scaled(value: Fraction | None, places: int) -> int:
    assert value is not None
    return int(value * 10**places)


def _range(span: Interval, places: int) -> AmountRange:
    return {
        "min": None if span.lo is None else fmt_scaled(_scaled(span.lo, places), places),
        "max": None if span.hi is None or span.undefined else fmt_scaled(_scaled(span.hi, places), places),
    }


def _point(node, a: OutcomeAnalysis):
    """The value of a term when the analysis knows it exactly, else None."""
    value = term(node, a.env)
    return value.lo if isinstance(value, Interval) and value.is_point else None


def _shown(node, a: OutcomeAnalysis, facts) -> str:
    """A term as a reason shows it: a parameter as written in its file, an unknown as ``?``."""
    if isinstance(node, Param) and node.name in facts.literals:
        return facts.literals[node.name]
    value = _point(node, a)
    return UNKNOWN_TEXT if value is None else fmt_plain(value)


def _values(node, a: OutcomeAnalysis, facts, statuses: dict) -> dict:
    """What a reason's ``values`` holds for ``node``: the facts it read (null where unknown)."""
    out: dict[str, Any] = {}
    for kind, name in sorted(node.refs()):
        if kind == "field":
            v = facts.fields.get(name)
            out[name] = None if name in facts.unknown else fmt_plain(v)
        elif kind == "param":
            v = facts.params[name]
            out[name] = (
                {k: fmt_plain(x) for k, x in v.items()}
                if isinstance(v, dict)
                else facts.literals.get(name, fmt_plain(v))
            )
        elif kind == "var":
            value = a.env.vars.get(name)
            out[name] = fmt_plain(value.lo) if isinstance(value, Interval) and value.is_point else None
        elif kind == "outcome":
            out[name] = statuses.get(name)
    return out


def _failure(a: OutcomeAnalysis, crit, facts, statuses: dict) -> dict:
    test = crit.test
    subst = {}
    if isinstance(test, Compare):
        subst = {"lhs": _shown(test.left, a, facts), "rhs": _shown(test.right, a, facts)}
    elif isinstance(test, Hit):
        t = next(t for t in a.outcome.tables if t.name == test.table)
        subst = {"value": _shown(t.input, a, facts)}
    return failure_reason(a.outcome, crit, failure_wording(crit), subst, _values(test, a, facts, statuses))


def _granted_reasons(a: OutcomeAnalysis, facts) -> list:
    o = a.outcome
    reasons = []
    for t in o.tables:
        row = a.rows.get(t.name)
        if row is not None:
            reasons.append(
                tier_reason(
                    o, t, row.id, _shown(t.input, a, facts), _shown(row.min, a, facts), _shown(row.output, a, facts)
                )
            )
    if o.amount is not None and a.capped == frozenset({True}):
        places = o.amount.places
        shown_value = (
            fmt_scaled(_scaled(a.uncapped.lo, places), places)
            if a.uncapped is not None and a.uncapped.is_point
            else UNKNOWN_TEXT
        )
        assert a.cap is not None
        reasons.append(capped_reason(o, shown_value, fmt_scaled(_scaled(a.cap.lo, places), places)))
    return reasons


def _trace(a: OutcomeAnalysis, doc: OutcomeDoc) -> list:
    """What the analysis found of an outcome that reads an unknown field, as trace entries."""
    o = a.outcome
    entries = []
    for r in doc["reasons"]:
        if doc["status"] == "not_applicable":
            entries.append({"rule": r["rule"], "facts": {}})
        elif r["code"] not in {t.reason for t in o.tables} | {"CAPPED"}:
            entries.append({"rule": f"{o.name}.criteria.{r['code']}", "facts": r["values"]})
    if doc["status"] == UNDETERMINED:
        entries.append(
            {"rule": f"{o.name}.undetermined", "facts": {"could_be": doc["could_be"], "needs": doc["needs"]}}
        )
    else:
        entries.append({"rule": f"{o.name}.settle", "facts": {"status": doc["status"], "amount": doc["amount"]}})
    return entries


# --- totals ---------------------------------------------------------------------------
def _totals_range(book: Rulebook, analyses: dict, outcomes: dict) -> TotalsRange:
    """The totals the decision can still end with: settled outcomes as they are, undetermined
    ones over every amount they can reach (0 where they are not granted or levied)."""
    sums = {"subsidy_yuan": Interval.point(Fraction(0)), "levy_yuan": Interval.point(Fraction(0))}
    for o in book.outcomes:
        key = "subsidy_yuan" if o.unit == "yuan" and o.kind == "benefit" else "levy_yuan" if o.kind == "levy" else None
        if key is None:
            continue
        doc, a = outcomes[o.name], analyses[o.name]
        ok = STATUSES[o.kind][0]
        if doc["status"] == UNDETERMINED:
            parts = [Interval.point(Fraction(0))] if any(s != ok for s in a.statuses) else []
            if ok in a.statuses:
                parts.append(a.amount if a.amount is not None else Interval.everything(undefined=True))
            share = hull(parts)
        else:
            share = Interval.point(Fraction(Decimal(doc["amount"])) if doc["status"] == ok else Fraction(0))
        sums[key] = add(sums[key], share)
    return {"subsidy_yuan": _range(sums["subsidy_yuan"], 2), "levy_yuan": _range(sums["levy_yuan"], 2)}
