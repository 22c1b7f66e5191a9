"""What every page route checks first: a POST form's CSRF token, and who is signed in."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from engine.i18n import t
from engine.service.pages import sessions
from engine.service.pages.render import problem_page
from engine.service.security import Identity


class Refused(Exception):
    """A page route's request refused before its work: the answer is ``response`` (the app's
    handler, engine/service/pages/__init__.py, returns it), so no route repeats the check."""

    def __init__(self, response: Response):
        super().__init__(response.status_code)
        self.response = response


async def posted(request: Request) -> FormData:
    """The posted form; Refused (the 403 page) when it does not carry this session's CSRF token."""
    form = await request.form()
    try:
        sessions.check_csrf(request, form)
    except sessions.CsrfRefused:
        raise Refused(problem_page(request, 403, t("pages.error.csrf", sessions.language(request)))) from None
    return form


def account(request: Request, *roles: str) -> Identity | Response:
    """The account signed in, if its role is one of ``roles``; else the way to sign in (or 403)."""
    identity = sessions.signed_in(request)
    if identity is None:
        return RedirectResponse(f"/signin?next={quote(request.url.path, safe='/')}", 303)
    if roles and identity.role not in roles:
        return problem_page(request, 403, t("pages.error.role", sessions.language(request)))
    return identity
