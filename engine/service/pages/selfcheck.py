"""The open self-check (``/``): the application's form, and the answer as the fields are filled.

The answer is the partial decision (engine/partial, as ``POST /v1/check?partial=true``): each
outcome settled or undetermined with what it could still be, the unknown fields in the order
that settles most (``partial.questions``), and for each outcome settled and not won the why-not
suggestions (engine/drafting/whynot, as ``POST /v1/explain``). With JavaScript htmx posts the
form on each change and swaps the answer in (``HX-Request``); without it the form posts and the
whole page comes back with the answer. The application can be downloaded as the contract's JSON,
uploaded as such, and, signed in, submitted to the record.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from engine.contract.jsontext import decode_document, loads_exact
from engine.errors import InvalidApplicationError, ShuangtanError, UnreadableDocumentError, spoken
from engine.i18n import Lang, language, t
from engine.records import service as records
from engine.records.accounts import MAY
from engine.records.store.models import SubmissionIn
from engine.rulebook.loader import Rulebook
from engine.service.app import book_of
from engine.service.pages import forms, sessions
from engine.service.pages.guard import posted
from engine.service.pages.reasons import worded
from engine.service.pages.render import context, page, problem_page, render

router = APIRouter(include_in_schema=False)

#: a self-check needs no application number; the partial reader does (it names the decision)
STANDIN_ID = "SELF-CHECK"
#: outcomes worth a why-not: settled and not won (an undetermined one shows what it still needs).
#: After an htmx update each is fetched when its suggestions are opened (``/check/whynot``): at
#: 3-30 ms an outcome they would take an update past its 100 ms (benchmarks/bench_pages.py)
EXPLAINED = ("denied", "not_met", "levied")
_MAX_UPLOAD = 1 << 20
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def answer(book: Rulebook, doc: dict, explain: bool = True, lang: Lang | None = None) -> dict:
    """The partial decision of ``doc``, its reasons worded in ``lang`` (by (outcome, code)) and,
    with ``explain``, the why-not suggestions of each outcome settled and not won (by outcome);
    or the fields to correct."""
    from engine.partial import decide_partial, parse_partial_application

    given = {**doc, "application_id": doc.get("application_id") or STANDIN_ID}
    try:
        partial = parse_partial_application(given)
    except InvalidApplicationError as exc:
        return {"errors": exc.errors, "decision": None, "suggestions": {}, "reasons": {}, "explained": EXPLAINED}
    decision = decide_partial(book, partial)
    reasons = worded(book, partial.app, decision, partial.unknown, lang or language())
    suggestions: dict[str, list] = {}
    if explain:
        for name, outcome in decision["outcomes"].items():
            if outcome["status"] in EXPLAINED:
                suggestions[name] = why_not(book, partial, name)
    return {"errors": [], "decision": decision, "suggestions": suggestions, "reasons": reasons, "explained": EXPLAINED}


def why_not(book: Rulebook, partial, outcome: str) -> list[dict]:
    from engine.drafting import whynot

    found = whynot.why_not(book, partial.app, outcome, partial.unknown)
    return [s.to_dict() for sugs in found.blockers.values() for s in sugs]


def _page(request: Request, shown: dict, declared: set, result: dict | None, status: int = 200, **extra) -> Response:
    return page(
        request,
        "selfcheck.html.j2",
        status,
        sections=forms.SECTIONS,
        inputs=forms.BY_SECTION,
        optional=forms.OPTIONAL_SECTIONS,
        shown=shown,
        declared=declared,
        result=result,
        upload_error=extra.get("upload_error"),
    )


@router.get("/")
def selfcheck(request: Request) -> Response:
    return _page(request, {}, set(forms.OPTIONAL_SECTIONS), None)


@router.post("/check")
async def check(request: Request) -> Response:
    form = await posted(request)
    doc = forms.document(form)
    htmx = request.headers.get("hx-request") == "true"
    result = await run_in_threadpool(answer, book_of(request), doc, not htmx, sessions.language(request))
    if htmx:  # only the answer is swapped in
        ctx = context(request, result=result)
        return sessions.save(request, Response(render("_answer.html.j2", ctx), media_type="text/html"))
    shown, declared = forms.form_values(form)
    return _page(request, shown, declared, result, 422 if result["errors"] else 200)


@router.post("/check/whynot")
async def whynot(request: Request, outcome: str = "") -> Response:
    """The why-not suggestions of one outcome of the posted form (htmx, when they are opened)."""
    form = await posted(request)
    book = book_of(request)
    if outcome not in {o.name for o in book.outcomes}:
        return problem_page(request, 404, t("pages.error.not_found", sessions.language(request)))

    def work() -> list[dict] | None:
        from engine.partial import parse_partial_application

        doc = forms.document(form)
        try:
            partial = parse_partial_application({**doc, "application_id": doc.get("application_id") or STANDIN_ID})
        except InvalidApplicationError:
            return None
        return why_not(book, partial, outcome)

    found = await run_in_threadpool(work)
    ctx = context(request, suggestions=found or [])
    return sessions.save(request, Response(render("_whynot.html.j2", ctx), media_type="text/html"))


@router.post("/check/download")
async def download(request: Request) -> Response:
    form = await posted(request)
    doc = forms.document(form)
    name = f"{doc.get('application_id') or 'application'}.json"
    body = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    disposition = f"attachment; filename*=UTF-8''{_quoted(name)}"
    return Response(body.encode(), media_type="application/json", headers={"Content-Disposition": disposition})


@router.get("/template.xlsx")
async def excel_template(request: Request) -> Response:
    """The application template an enterprise fills in, as ``shuangtan template`` writes it."""
    from io import BytesIO

    from engine.tables.template import write

    lang = sessions.language(request)
    stream = BytesIO()
    await run_in_threadpool(write, stream, lang)
    name = t("pages.selfcheck.excel_filename", lang)
    headers = {"Content-Disposition": f"attachment; filename*=UTF-8''{_quoted(name)}", "Content-Language": lang}
    return Response(stream.getvalue(), media_type=XLSX, headers=headers)


def _quoted(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


@router.post("/check/upload")
async def upload(request: Request) -> Response:
    form = await posted(request)
    file = form.get("application")
    raw = await file.read(_MAX_UPLOAD + 1) if isinstance(file, UploadFile) else b""
    lang = sessions.language(request)
    if not raw:
        return _page(request, {}, set(forms.OPTIONAL_SECTIONS), None, 400, upload_error=t("pages.upload.empty", lang))
    if len(raw) > _MAX_UPLOAD:
        return _page(
            request, {}, set(forms.OPTIONAL_SECTIONS), None, 413, upload_error=t("pages.upload.too_large", lang)
        )
    try:
        doc: Any = loads_exact(decode_document(raw))
    except (UnreadableDocumentError, ValueError) as exc:
        message = t("pages.upload.not_json", lang, detail=str(exc)[:200])
        return _page(request, {}, set(forms.OPTIONAL_SECTIONS), None, 400, upload_error=message)
    if not isinstance(doc, dict):
        message = t("pages.upload.not_json", lang, detail="(document): must be a JSON object")
        return _page(request, {}, set(forms.OPTIONAL_SECTIONS), None, 400, upload_error=message)
    shown, declared = forms.values(doc)
    result = await run_in_threadpool(answer, book_of(request), doc, True, sessions.language(request))
    return _page(request, shown, declared, result)


@router.post("/check/signin")
async def signin_to_submit(request: Request) -> Response:
    """The sign-in page, carrying the form as typed (``draft``) through to the self-check."""
    form = await posted(request)
    draft = json.dumps(forms.document(form), ensure_ascii=False)
    return page(request, "signin.html.j2", next="/", draft=draft, error=None)


async def resumed(request: Request, draft: str) -> Response:
    """The self-check as it was before signing in (``draft``: the application JSON it carried)."""
    try:
        doc: Any = loads_exact(draft)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):  # not what /check/signin wrote: start afresh
        return _page(request, {}, set(forms.OPTIONAL_SECTIONS), None)
    shown, declared = forms.values(doc)
    result = await run_in_threadpool(answer, book_of(request), doc, True, sessions.language(request))
    return _page(request, shown, declared, result, 422 if result["errors"] else 200)


@router.post("/check/submit")
async def submit(request: Request) -> Response:
    """Submit the form's application to the record as the account signed in (enterprise or officer)."""
    form = await posted(request)
    identity = sessions.signed_in(request)
    if identity is None:
        return RedirectResponse("/signin?next=/", 303)
    if identity.role not in MAY["submit"]:
        return problem_page(request, 403, t("pages.error.role", sessions.language(request)))
    doc = forms.document(form)
    raw = json.dumps(doc, ensure_ascii=False, indent=2).encode()

    def work():
        return records.submit(
            request.app.state.service.store,
            SubmissionIn(raw=raw, filename="self-check.json", submitted_by=identity.name),
        )

    try:
        receipt = await run_in_threadpool(work)
    except ShuangtanError as exc:  # the record refuses (an enterprise submitting another's)
        return problem_page(request, 403, spoken(exc, sessions.language(request)))
    if receipt.outcome == "rejected":
        shown, declared = forms.form_values(form)
        result: dict = {
            "errors": [(e.path, e.message) for e in receipt.submission.errors],
            "decision": None,
            "suggestions": {},
            "reasons": {},
            "explained": EXPLAINED,
        }
        return _page(request, shown, declared, result, 422)
    from urllib.parse import quote

    return RedirectResponse(f"/applications/{quote(receipt.submission.application_id or '', safe='')}", 303)
