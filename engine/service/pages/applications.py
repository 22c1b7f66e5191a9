"""Applications on the record: the queue (officers, reviewers, auditors: every one; an enterprise:
its own), one application's page, and the officers' acts on it (propose, confirm with overrides,
return, issue the notices).

Each reads and acts through the record's own functions (engine/records), as the JSON routes do
(routes/applications.py); reads land in the audit chain (engine/service/reads.py). Another
enterprise's application answers 404, as one that does not exist. What the record refuses (four
eyes: no one confirms their own proposal; a decision already in force) is shown on the page with
409, in the record's words. Every act posts a form with the CSRF token and comes back to the
application's page (post, redirect, get).
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from engine.errors import ShuangtanError, spoken
from engine.i18n import Lang, t
from engine.notices.wording import Words
from engine.records import service as records
from engine.records import views
from engine.records.accounts import MAY
from engine.records.reviewing import effective_document
from engine.records.store.models import DecisionRow
from engine.service import reads
from engine.service.app import current_book
from engine.service.pages import metering, reasons, sessions
from engine.service.pages.guard import account, posted
from engine.service.pages.render import page, problem_page, regions
from engine.service.problems import Problem
from engine.service.security import READERS, Identity

router = APIRouter(include_in_schema=False)

STATES = ("received", "rejected", "pending", "proposed", "decided", "corrected")
PAGE_SIZE = 100
DONE = ("propose", "confirm", "return", "issue")


def _href(app_id: str) -> str:
    return f"/applications/{quote(app_id, safe='')}"


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


@router.get("/applications")
def queue(request: Request) -> Response:
    who = account(request, *READERS)
    if isinstance(who, Response):
        return who
    q = request.query_params
    filters = {k: (q.get(k) or "").strip() for k in ("state", "region", "outcome", "since", "until")}
    problems = []
    if filters["state"] and filters["state"] not in STATES:
        problems.append(("state", filters["state"]))
    if filters["region"] and not (len(filters["region"]) == 6 and filters["region"].isdigit()):
        problems.append(("region", filters["region"]))
    outcomes = outcome_choices(current_book(request))
    if filters["outcome"] and filters["outcome"] not in {v for _, choices in outcomes for v, _ in choices}:
        problems.append(("outcome", filters["outcome"]))
    dates = {}
    for key in ("since", "until"):
        try:
            dates[key] = _date(filters[key])
        except ValueError:
            problems.append((key, filters[key]))
    offset = int(q.get("offset", "0")) if q.get("offset", "0").isdigit() else 0
    store = request.app.state.service.store
    found = []
    if not problems:
        found = [
            a
            for a in views.list_applications(
                store,
                filters["state"] or None,
                filters["region"] or None,
                filters["outcome"] or None,
                dates.get("since"),
                dates.get("until"),
            )
            if who.sees(a.credit_code)
        ]
    shown = found[offset : offset + PAGE_SIZE]
    reads.applications_read(store, who.name, [a.application_id for a in shown if a.application_id], "GET /applications")
    return page(
        request,
        "queue.html.j2",
        400 if problems else 200,
        applications=shown,
        total=len(found),
        filters=filters,
        states=STATES,
        outcomes=outcomes,
        regions=regions(filters["region"], sessions.language(request)),
        titles={o.name: o.title for o in current_book(request).outcomes},
        problems=problems,
        href=_href,
    )


def outcome_choices(book) -> list[tuple[object, list[tuple[str, str | None]]]]:
    """The outcome filter's choices, by outcome (its title): ``NAME`` (any status it was decided
    with) and ``NAME=STATUS`` for each status it can take (views.list_applications reads both)."""
    return [
        (o, [(o.name, None), *((f"{o.name}={s}", s) for s in o.statuses if s != "not_applicable")])
        for o in book.outcomes
    ]


def _decision(request: Request, a) -> tuple[dict | None, object | None]:
    """The decision shown: the proposal awaiting review, else the one in force, else the latest."""
    chosen = a.proposal_id or a.decision_id or (a.decisions[-1].id if a.decisions else None)
    if chosen is None:
        return None, None
    with request.app.state.service.store.reading() as s:
        row = s.get(DecisionRow, chosen)
        doc = effective_document(s, row) if row is not None else None
    out = next((d for d in a.decisions if d.id == chosen), None)
    return doc, out


def _visible(request: Request, who: Identity, app_id: str):
    a = views.show(request.app.state.service.store, app_id)
    return a if a is not None and who.sees(a.credit_code) else None


def _declared(request: Request, a) -> dict:
    """The current version's document as the enterprise declared it (the record keeps its bytes)."""
    from engine.records.store.models import SubmissionRow

    current = next((v for v in a.versions if v.version == a.current_version), None)
    if current is None:
        return {}
    with request.app.state.service.store.reading() as s:
        row = s.get(SubmissionRow, current.id)
        try:
            return json.loads(bytes(row.raw)) if row is not None and row.raw else {}
        except ValueError:
            return {}


@router.get("/applications/{app_id}")
def show(request: Request, app_id: str) -> Response:
    who = account(request, *READERS)
    if isinstance(who, Response):
        return who
    return _show(request, who, app_id)


def _show(request: Request, who: Identity, app_id: str, status: int = 200, refused: str | None = None) -> Response:
    a = _visible(request, who, app_id)
    if a is None:
        return problem_page(request, 404, t("pages.error.not_found", sessions.language(request)))
    store = request.app.state.service.store
    reads.applications_read(store, who.name, [app_id], "GET /applications/{id}")
    doc, shown = _decision(request, a)
    done = request.query_params.get("done")
    lang = sessions.language(request)
    book = current_book(request)
    names = {o.name for o in book.outcomes}
    words = Words(lang)
    return page(
        request,
        "application.html.j2",
        status,
        a=a,
        doc=doc,
        shown=shown,
        declared=_declared(request, a),
        done=done if done in DONE else None,
        refused=refused,
        may_propose=who.role in MAY["propose"],
        may_review=who.role in MAY["review"],
        may_issue=who.role in MAY["issue"],
        notice_href=lambda n: f"/notices/{quote(n.number, safe='')}.{n.format}?lang={n.lang}",
        metering=metering.view(doc.get("metering") if doc else None, lang),
        states=STATES,
        notice_kind=lambda kind: words.lab["title"].get(kind, kind),  # the notice's own title
        parameter=words.param_label,
        shown_value=lambda v: t(f"pages.choice.{str(v).lower()}", lang) if str(v).lower() in ("true", "false") else v,
        reason=lambda name, r: reasons.plain(book, name, r, lang) if name in names else r["message"],
    )


async def _act(request: Request, app_id: str, roles: tuple, act: str, work) -> Response:
    """Post, act through the record, redirect to the page; the record's refusal shown as 409."""
    form = await posted(request)
    who = account(request, *roles)
    if isinstance(who, Response):
        return who
    if _visible(request, who, app_id) is None:
        return problem_page(request, 404, t("pages.error.not_found", sessions.language(request)))
    try:
        await run_in_threadpool(work, who, form)
    except (ShuangtanError, Problem) as exc:
        text = exc.detail if isinstance(exc, Problem) else spoken(exc, sessions.language(request))
        return _show(request, who, app_id, 409, refused=text)
    return RedirectResponse(f"{_href(app_id)}?done={act}", 303)


def _opinion(form) -> str | None:
    return str(form.get("opinion") or "").strip() or None


@router.post("/applications/{app_id}/propose")
async def propose(request: Request, app_id: str) -> Response:
    def work(who, form):
        records.decide(request.app.state.service.store, app_id, current_book(request), who.name, opinion=_opinion(form))

    return await _act(request, app_id, MAY["propose"], "propose", work)


@router.post("/applications/{app_id}/confirm")
async def confirm(request: Request, app_id: str) -> Response:
    def work(who, form):
        from engine.records.reviewing import parse_override

        overrides = [line.strip() for line in str(form.get("overrides") or "").splitlines() if line.strip()]
        for o in overrides:
            parse_override(o)
        reason = str(form.get("reason") or "").strip() or None
        if overrides and not reason:
            raise Problem(422, "invalid_override", t("pages.app.override_reason", sessions.language(request)))
        records.confirm(
            request.app.state.service.store,
            app_id,
            current_book(request),
            who.name,
            _opinion(form),
            overrides,
            reason,
        )

    return await _act(request, app_id, MAY["review"], "confirm", work)


@router.post("/applications/{app_id}/return")
async def return_proposal(request: Request, app_id: str) -> Response:
    def work(who, form):
        records.return_proposal(request.app.state.service.store, app_id, who.name, _opinion(form) or "")

    return await _act(request, app_id, MAY["review"], "return", work)


@router.post("/applications/{app_id}/notices")
async def issue(request: Request, app_id: str) -> Response:
    service = request.app.state.service

    def work(who, form):
        lang = "en" if form.get("lang") == "en" else "zh"
        with tempfile.TemporaryDirectory(prefix="shuangtan-notices-") as out:
            records.issue_notices(service.store, app_id, out, who.name, lang, "html", authority=service.authority())

    return await _act(request, app_id, MAY["issue"], "issue", work)


@router.get("/notices/{ref}")
def notice(request: Request, ref: str) -> Response:
    """A notice as issued, for the account signed in (the JSON route's own function, its checks)."""
    from engine.service.routes import notices

    who = account(request, *READERS)
    if isinstance(who, Response):
        return who
    lang: Lang = "en" if request.query_params.get("lang") == "en" else "zh"
    try:
        return notices.notice(request, ref=ref, lang=lang, identity=who)
    except Problem:
        return problem_page(request, 404, t("pages.error.not_found", sessions.language(request)))
