"""The audit chain for auditors: GET /v1/audit (the log, as `shuangtan audit log`) and
GET /v1/audit/verify (as `shuangtan audit verify`)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from fastapi import APIRouter, Depends, Query, Request

from engine.i18n import t
from engine.records import audit
from engine.service.models import AuditPage, VerifyOut
from engine.service.problems import Problem
from engine.service.security import Identity, allow

router = APIRouter(prefix="/v1/audit", tags=["audit"])

Entity = Query(default=None, description="only links to this kind of row: " + ", ".join(audit.ENTITIES))


@router.get("", response_model=AuditPage)
def log(
    request: Request,
    since: dt.date | dt.datetime | None = Query(
        default=None, description="on or after: a CST date, or an instant (naive: UTC)"
    ),
    until: dt.date | dt.datetime | None = Query(default=None),
    actor: str | None = Query(default=None, max_length=200),
    entity: str | None = Entity,
    id: str | None = Query(default=None, max_length=200, description="only links to this row (with entity)"),
    offset: int = Query(default=0, ge=0),
    limit: int = Query(default=100, ge=1, le=1000),
    identity: Identity = Depends(allow("auditor")),
) -> AuditPage:
    """Who did what to which row, and when, oldest first."""
    if entity is not None and entity not in audit.ENTITIES:
        raise Problem(
            422,
            "invalid_request",
            t("service.problem.unknown_entity", entity=repr(entity[:40]), known=", ".join(audit.ENTITIES)),
            [("query.entity", "unknown entity")],
        )
    if id is not None and entity is None:
        text = t("service.problem.id_needs_entity")
        raise Problem(422, "invalid_request", text, [("query.id", text)])
    entries = audit.log(request.app.state.service.store, since, until, actor, entity, id)
    return AuditPage(entries=[e.model_dump(mode="json") for e in entries[offset : offset + limit]], total=len(entries))


@router.get("/verify", response_model=VerifyOut)
def verify(request: Request, identity: Identity = Depends(allow("auditor"))) -> VerifyOut:
    """Walk the chain and every row against it: intact, or what is wrong, first first."""
    r = audit.verify(request.app.state.service.store)
    return VerifyOut(
        ok=r.ok,
        links=r.links,
        rows=r.rows,
        head_seq=r.head_seq,
        head_hash=r.head_hash,
        findings=[dataclasses.asdict(f) for f in r.findings],
    )
