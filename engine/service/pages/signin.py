"""Signing in and out of the pages with the account's record token (sessions.py says why a token).

Signing in from the self-check carries the form as typed (its application JSON, the hidden
field ``draft``): once signed in the self-check comes back filled, ready to be submitted. It
travels in the form, not the cookie, which a long application would overflow.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.routing import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from engine.i18n import t
from engine.service.pages import sessions
from engine.service.pages.guard import posted
from engine.service.pages.render import page
from engine.service.problems import Problem
from engine.service.security import from_token

router = APIRouter(include_in_schema=False)

#: where each role starts
HOME = {
    "officer": "/applications",
    "reviewer": "/applications",
    "enterprise": "/applications",
    "drafter": "/parameters",
    "auditor": "/audit",
}


def _next(target: str | None, role: str) -> str:
    # only a path of this site: an absolute or scheme-relative URL would send the person elsewhere
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return HOME.get(role, "/")


@router.get("/signin")
def signin_form(request: Request, next: str | None = None) -> Response:
    return page(request, "signin.html.j2", next=next or "", draft="", error=None)


@router.post("/signin")
async def signin(request: Request) -> Response:
    form = await posted(request)
    token = str(form.get("token") or "").strip()
    target = str(form.get("next") or "")
    draft = str(form.get("draft") or "")
    lang = sessions.language(request)
    try:
        identity = await run_in_threadpool(from_token, request, token)
    except Problem as refused:
        key = "pages.signin.too_many" if refused.status == 429 else "pages.signin.refused"
        return page(request, "signin.html.j2", refused.status, next=target, draft=draft, error=t(key, lang))
    sessions.sign_in(request, identity)
    if draft:
        from engine.service.pages.selfcheck import resumed

        return await resumed(request, draft)
    return sessions.save(request, RedirectResponse(_next(target, identity.role), 303))


@router.post("/signout")
async def signout(request: Request) -> Response:
    await posted(request)  # signing out is a POST with the token too: no page can sign one out
    sessions.sign_out(request)
    return sessions.save(request, RedirectResponse("/", 303))
