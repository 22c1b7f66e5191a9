"""The record over HTTP: submit, list, show, telemetry, propose, confirm, return, issue notices.

Each operation calls the record's own functions (engine/records/service.py) as the CLI does, as
the account the token stands for. Roles are checked first (403), so what the record still
refuses about who acts is four eyes (409). An enterprise account sees only its own credit
code's applications: another's answers 404, as one that does not exist. Every read of an
enterprise's data is chained in the audit log (engine/service/reads.py).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import tempfile
from typing import Literal
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from engine.i18n import t
from engine.records import service as records
from engine.records import views
from engine.records.common import latest_submission
from engine.records.store.models import ApplicationOut, DecisionOut, SubmissionIn, TelemetryIn, TelemetryOut
from engine.service import reads
from engine.service.app import current_book
from engine.service.models import (
    ApplicationList,
    ApplicationView,
    ConfirmIn,
    Issued,
    IssuedOut,
    NoticeLink,
    NoticesIn,
    ProposalIn,
    Receipt,
    ReturnIn,
)
from engine.service.openapi import raw_body
from engine.service.problems import Problem
from engine.service.security import READERS, Identity, allow, may

router = APIRouter(prefix="/v1/applications", tags=["record"])

AppId = Path(min_length=1, max_length=200, description="the application id as submitted")
Status = Literal["received", "rejected", "pending", "proposed", "decided", "corrected"]


def _service(request: Request):
    return request.app.state.service


def _href(app_id: str | None) -> str | None:
    return f"/v1/applications/{quote(app_id, safe='')}" if app_id else None


def notice_href(number: str, fmt: str, lang: str) -> str:
    return f"/v1/notices/{quote(number, safe='')}.{fmt}?lang={lang}"


def _view(a: ApplicationOut) -> ApplicationView:
    data = a.model_dump()
    data["notices"] = [
        NoticeLink(**n.model_dump(), href=notice_href(n.number, n.format, n.lang) if n.number else None)
        for n in a.notices
    ]
    return ApplicationView(**data, href=_href(a.application_id))


def _visible(identity: Identity, a: ApplicationOut | None, app_id: str) -> ApplicationOut:
    if a is None or not identity.sees(a.credit_code):
        raise Problem(404, "not_found", t("service.problem.app_not_found", app_id=app_id[:200]))
    return a


def _owned(request: Request, identity: Identity, app_id: str) -> None:
    """404 unless the application exists and is the identity's to see."""
    store = _service(request).store
    if identity.role == "enterprise":
        _visible(identity, views.show(store, app_id), app_id)
        return
    with store.reading() as s:
        if latest_submission(s, app_id) is None:
            raise Problem(404, "not_found", t("service.problem.app_not_found", app_id=app_id[:200]))


# --- submit, list, show ------------------------------------------------------------------------
def _submit(request: Request, raw: bytes, who: str, corrects: str | None, filename: str | None):
    r = records.submit(
        _service(request).store, SubmissionIn(raw=raw, filename=filename, submitted_by=who, corrects=corrects)
    )
    href = _href(r.submission.application_id) or ""
    if r.outcome == "rejected":
        errors = [(e.path, e.message) for e in r.submission.errors]
        raise Problem(
            422,
            "invalid_application",
            t("service.problem.rejected", note=r.note),
            errors,
            submission=r.submission.model_dump(mode="json"),
        )
    receipt = Receipt.model_validate({"outcome": r.outcome, "note": r.note, "submission": r.submission, "href": href})
    status = 200 if r.outcome == "unchanged" else 201
    headers = {"Location": href} if status == 201 and href else {}
    return JSONResponse(receipt.model_dump(mode="json"), status, headers=headers)


@router.post(
    "",
    openapi_extra=raw_body({"application/json": "binary"}),
    responses={
        201: {"model": Receipt, "description": "Received (a new application or version)"},
        200: {"model": Receipt},
    },
    status_code=201,
)
async def submit(
    request: Request,
    corrects: str | None = Query(
        default=None, min_length=1, max_length=200, description="the application this one corrects"
    ),
    filename: str | None = Query(default=None, max_length=255),
    identity: Identity = Depends(may("submit")),
) -> Response:
    """Submit an application document, kept byte for byte: an enterprise for its own credit
    code only, an officer on an enterprise's behalf. Rejected documents are kept too (422)."""
    raw = await request.body()
    if not raw.strip():
        text = t("service.problem.empty_application")
        raise Problem(400, "malformed_json", text, [("(document)", text)])
    return await run_in_threadpool(_submit, request, raw, identity.name, corrects, filename)


@router.get("", response_model=ApplicationList)
def list_applications(
    request: Request,
    status: Status | None = Query(default=None),
    region: str | None = Query(default=None, pattern=r"^[0-9]{6}$"),
    outcome: str | None = Query(
        default=None, max_length=100, description="NAME or NAME=STATUS, e.g. storage_subsidy=granted"
    ),
    since: dt.date | None = Query(default=None, description="received on or after (CST date)"),
    until: dt.date | None = Query(default=None, description="received on or before (CST date)"),
    offset: int = Query(default=0, ge=0),
    limit: int = Query(default=100, ge=1, le=1000),
    identity: Identity = Depends(allow(*READERS)),
) -> ApplicationList:
    """Applications on record, as `shuangtan list` (an enterprise: its own)."""
    service = _service(request)
    found = [
        a
        for a in views.list_applications(service.store, status, region, outcome, since, until)
        if identity.sees(a.credit_code)
    ]
    page = found[offset : offset + min(limit, service.settings.max_list)]
    reads.applications_read(
        service.store, identity.name, [a.application_id for a in page if a.application_id], "GET /v1/applications"
    )
    return ApplicationList(applications=[_view(a) for a in page], total=len(found), offset=offset, limit=limit)


@router.get("/{app_id}", response_model=ApplicationView)
def show(request: Request, app_id: str = AppId, identity: Identity = Depends(allow(*READERS))) -> ApplicationView:
    """One application: versions, telemetry, decisions (proposals, reviews), notices with their number."""
    service = _service(request)
    a = _visible(identity, views.show(service.store, app_id), app_id)
    reads.applications_read(service.store, identity.name, [app_id], "GET /v1/applications/{id}")
    return _view(a)


# --- telemetry -------------------------------------------------------------------------------
@router.put(
    "/{app_id}/telemetry",
    openapi_extra=raw_body({"text/csv": "binary", "application/vnd.apache.parquet": "binary"}),
    response_model=TelemetryOut,
)
async def telemetry(
    request: Request,
    app_id: str = AppId,
    system_id: str | None = Query(default=None, min_length=1, max_length=64),
    filename: str | None = Query(default=None, max_length=255),
    identity: Identity = Depends(may("submit")),
) -> TelemetryOut:
    """Keep the storage system's metering file with the application's latest version (CSV or Parquet)."""
    raw = await request.body()
    kind = request.headers.get("content-type", "text/csv").split(";")[0].strip().lower()
    fmt = (
        "parquet"
        if kind in ("application/vnd.apache.parquet", "application/x-parquet", "application/octet-stream")
        else "csv"
    )

    def work() -> TelemetryOut:
        _owned(request, identity, app_id)
        item = TelemetryIn(raw=raw, filename=filename, format=fmt, system_id=system_id, submitted_by=identity.name)
        kept = records.attach_telemetry(_service(request).store, app_id, item, current_book(request))
        if not kept.valid:
            raise Problem(
                422,
                "invalid_telemetry",
                t("service.problem.telemetry_kept", id=kept.id, n=len(kept.problems)),
                [("(telemetry)", p) for p in kept.problems],
                telemetry=kept.model_dump(mode="json"),
            )
        return kept

    return await run_in_threadpool(work)


# --- four eyes ---------------------------------------------------------------------------------
@router.post("/{app_id}/proposal", response_model=DecisionOut, status_code=201)
def propose(
    request: Request,
    app_id: str = AppId,
    body: ProposalIn | None = Body(default=None),
    identity: Identity = Depends(may("propose")),
) -> DecisionOut:
    """Propose a decision (the engine's, with the enterprise's history from the record): in force once confirmed."""
    body = body or ProposalIn()
    book = current_book(request)
    _owned(request, identity, app_id)
    return records.decide(_service(request).store, app_id, book, identity.name, again=body.again, opinion=body.opinion)


@router.post("/{app_id}/confirm", response_model=DecisionOut)
def confirm(
    request: Request,
    app_id: str = AppId,
    body: ConfirmIn | None = Body(default=None),
    identity: Identity = Depends(may("review")),
) -> DecisionOut:
    """Confirm the proposal awaiting review (not the proposer's, not the submitter's own)."""
    from engine.records.reviewing import parse_override

    body = body or ConfirmIn()
    for o in body.overrides:
        parse_override(o)  # a malformed override is the request's (422), before the record is asked
    if body.overrides and not (body.reason or "").strip():
        raise Problem(
            422,
            "invalid_override",
            t("service.problem.override_reason"),
            [("reason", t("service.problem.override_reason_path"))],
        )
    _owned(request, identity, app_id)
    return records.confirm(
        _service(request).store, app_id, current_book(request), identity.name, body.opinion, body.overrides, body.reason
    )


@router.post("/{app_id}/return", response_model=DecisionOut)
def return_proposal(
    request: Request, body: ReturnIn, app_id: str = AppId, identity: Identity = Depends(may("review"))
) -> DecisionOut:
    """Send the proposal back with the reviewer's opinion: nothing is decided."""
    _owned(request, identity, app_id)
    return records.return_proposal(_service(request).store, app_id, identity.name, body.opinion)


#: the formats that need an extra on the server: (module, problem code, message key)
_EXTRA_FORMATS = {
    "pdf": ("weasyprint", "pdf_unavailable", "service.problem.pdf_unavailable"),
    "docx": ("docx", "docx_unavailable", "service.problem.docx_unavailable"),
}


def _renderable(fmt: str) -> None:
    """422 before anything is numbered when the server lacks the extra ``fmt`` needs."""
    if fmt in _EXTRA_FORMATS:
        module, code, key = _EXTRA_FORMATS[fmt]
        if importlib.util.find_spec(module) is None:
            raise Problem(422, code, t(key))


@router.post("/{app_id}/notices", response_model=Issued, status_code=201)
def issue(
    request: Request,
    app_id: str = AppId,
    body: NoticesIn | None = Body(default=None),
    identity: Identity = Depends(may("issue")),
) -> Issued:
    """Issue the notices of the confirmed decision: numbered (文号) and dated once, the kept bytes ever after."""
    body = body or NoticesIn()
    service = _service(request)
    _owned(request, identity, app_id)
    _renderable(body.format)
    with tempfile.TemporaryDirectory(prefix="shuangtan-notices-") as out:
        issued = records.issue_notices(
            service.store, app_id, out, identity.name, body.lang, body.format, body.date, authority=service.authority()
        )
    return Issued(
        notices=[
            IssuedOut(
                kind=n.kind,
                number=n.number,
                notice_date=n.notice_date,
                decision_id=n.decision_id,
                reissued=n.reissued,
                href=notice_href(n.number, body.format, body.lang),
            )
            for n in issued
        ],
        superseded=issued[0].superseded if issued else None,
    )
