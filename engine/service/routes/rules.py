"""Open endpoints on the rulebook: health, the ruleset, its outcomes and parameters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from engine.decimals import fmt_plain
from engine.errors import DateNotCoveredError
from engine.i18n import t
from engine.rulebook.doc import show_term, show_test
from engine.rulebook.loader import Rulebook
from engine.service.app import book_of, rate_limited
from engine.service.models import (
    AmountOut,
    CriterionOut,
    Exemption,
    Health,
    OutcomeDetail,
    OutcomeSummary,
    ParameterOut,
    ParameterValue,
    PlausibilityOut,
    RulesetOut,
    RulesetRef,
    TableOut,
    TableRowOut,
)
from engine.service.problems import Problem

router = APIRouter(prefix="/v1", dependencies=[Depends(rate_limited)], tags=["rules"])


@router.get("/health", response_model=Health)
def health(request: Request) -> Health:
    import engine

    book = book_of(request)
    return Health(status="ok", version=engine.__version__, ruleset=RulesetRef(version=book.version, digest=book.digest))


def _exemption(e, outcome_source: str | None = None) -> Exemption:
    return Exemption(
        code=e.code, test=show_test(e.when), message=e.message, source=e.source or outcome_source, clause=e.clause
    )


def _sources(book: Rulebook, keys) -> dict[str, Any]:
    out = {}
    for key in keys:
        for part in str(key).split(";"):
            part = part.strip()
            if part in book.sources:
                out[part] = book.sources[part]
    return out


@router.get("/ruleset", response_model=RulesetOut)
def ruleset(request: Request) -> RulesetOut:
    """The ruleset in force (or pinned): version, digest, sources and what it decides."""
    book = book_of(request)
    return RulesetOut(
        version=book.version,
        digest=book.digest,
        contract=book.contract,
        title=book.title,
        in_force_from=book.first_date,
        sources=book.sources,
        outcomes=[o.name for o in book.outcomes],
        exceptions=[_exemption(e) for e in book.exceptions],
    )


def _codes(book: Rulebook, o) -> list[str]:
    codes = [e.code for e in book.exceptions] + [e.code for e in o.applies] + [c.code for c in o.criteria]
    return codes + [t.reason for t in o.tables] + (["CAPPED"] if o.amount and o.amount.cap is not None else [])


def _summary(book: Rulebook, o) -> dict:
    return {
        "name": o.name,
        "kind": o.kind,
        "unit": o.unit,
        "title": o.title,
        "source": o.source,
        "file": o.file,
        "reasons": _codes(book, o),
        "href": f"/v1/outcomes/{o.name}",
    }


@router.get("/outcomes", response_model=list[OutcomeSummary])
def outcomes(request: Request) -> list[OutcomeSummary]:
    book = book_of(request)
    return [OutcomeSummary(**_summary(book, o)) for o in book.outcomes]


def _outcome(book: Rulebook, name: str):
    try:
        return book.outcome(name)
    except KeyError:
        known = ", ".join(o.name for o in book.outcomes)
        raise Problem(
            404, "not_found", t("service.problem.unknown_outcome", name=repr(name[:80]), known=known)
        ) from None


@router.get("/outcomes/{name}", response_model=OutcomeDetail)
def outcome(name: str, request: Request) -> OutcomeDetail:
    """One outcome as `shuangtan rules show` prints it: exemptions, tables, criteria, amount, clauses, sources."""
    book = book_of(request)
    o = _outcome(book, name)
    held = [c for c in book.plausibility.checks if c.outcome == o.name] if book.plausibility else []
    criteria = [
        CriterionOut(
            code=c.code,
            rule=c.rule,
            test=show_test(c.test),
            clause=c.clause,
            message=c.message,
            source=c.source or o.source,
        )
        for c in o.criteria
    ]
    tables = [
        TableOut(
            name=t.name,
            description=t.description,
            input=t.input_name,
            unit=t.unit,
            reason=t.reason,
            rows=[TableRowOut(id=r.id, min=show_term(r.min), output=show_term(r.output)) for r in t.rows],
        )
        for t in o.tables
    ]
    amount = None
    if o.amount is not None:
        cap = show_term(o.amount.cap) if o.amount.cap is not None else None
        amount = AmountOut(formula=show_term(o.amount.formula), places=o.amount.places, cap=cap)
    params = sorted(o.params().union(*(c.params() for c in held)))
    return OutcomeDetail(
        **_summary(book, o),
        clause=o.clause,
        applies=[_exemption(e) for e in book.exceptions] + [_exemption(e, o.source) for e in o.applies],
        lets={n: show_term(t) for n, t in o.lets},
        tables=tables,
        criteria=criteria,
        amount=amount,
        plausibility=[PlausibilityOut(code=c.code, rule=c.rule, test=show_test(c.test), clause=c.clause) for c in held],
        parameters=params,
        sources=_sources(book, [o.source, *(c.source for c in o.criteria), *(e.source for e in o.applies)]),
    )


def _value(literal) -> str | dict[str, str] | None:
    if literal is None:
        return None
    if isinstance(literal, dict):
        return {str(k): str(v) for k, v in literal.items()}
    return fmt_plain(literal) if not isinstance(literal, str) else literal


def _parameter(book: Rulebook, name: str, on: dt.date | None) -> ParameterOut:
    p = book.params[name]
    history = [ParameterValue(effective_from=start, value=_value(literal)) for start, _, literal in p.history]
    value_on = None
    if on is not None:
        try:
            _, start = p.at(on)
        except DateNotCoveredError:
            value_on = None
        else:
            value_on = ParameterValue(effective_from=start, value=_value(p.literal_at(on)))
    return ParameterOut(
        id=p.name,
        description=p.description,
        unit=p.unit,
        reference=p.reference,
        index=p.index,
        file=p.file,
        history=history,
        on=on,
        value_on=value_on,
        href=f"/v1/parameters/{p.name}",
    )


@router.get("/parameters", response_model=list[ParameterOut])
def parameters(
    request: Request, on: dt.date | None = Query(default=None, description="also the value in force on this date")
) -> list[ParameterOut]:
    book = book_of(request)
    return [_parameter(book, name, on) for name in sorted(book.params)]


@router.get("/parameters/{id}", response_model=ParameterOut)
def parameter(id: str, request: Request, on: dt.date | None = Query(default=None)) -> ParameterOut:
    """A parameter's history (effective dates, unit, reference); with ?on=DATE the value in force then."""
    book = book_of(request)
    if id not in book.params:
        raise Problem(404, "not_found", t("service.problem.unknown_parameter", id=repr(id[:120])))
    return _parameter(book, id, on)
