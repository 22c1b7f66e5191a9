"""The auditors' page: the audit log (who did what to which row, and when) with its filters, and
``audit verify``'s answer on request (engine/records/audit, as ``GET /v1/audit`` and ``/verify``)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from engine.records import audit
from engine.service.pages.guard import account
from engine.service.pages.render import page

router = APIRouter(include_in_schema=False)

SHOWN = 200  # the latest links, newest first


@router.get("/audit")
async def audit_log(request: Request) -> Response:
    who = account(request, "auditor")
    if isinstance(who, Response):
        return who
    q = request.query_params
    actor = (q.get("actor") or "").strip()[:200] or None
    entity = q.get("entity") if q.get("entity") in audit.ENTITIES else None
    problems = []
    since = None
    if q.get("since"):
        try:
            since = dt.date.fromisoformat(q["since"])
        except ValueError:
            problems.append(("since", q["since"]))
    store = request.app.state.service.store
    entries = await run_in_threadpool(audit.log, store, since, None, actor, entity, None)
    report = await run_in_threadpool(audit.verify, store) if q.get("verify") else None
    return page(
        request,
        "audit.html.j2",
        400 if problems else 200,
        entries=list(reversed(entries[-SHOWN:])),
        total=len(entries),
        report=report,
        entities=audit.ENTITIES,
        filters={"actor": actor or "", "entity": entity or "", "since": q.get("since") or ""},
        problems=problems,
    )
