"""The pages' session: one signed cookie, a CSRF token in it, the account signed in, the language.

The cookie is signed with itsdangerous (``Settings.session_secret``), HttpOnly and SameSite=Lax,
and expires after ``Settings.session_hours``. Every visitor gets one on the first page, so even
the open self-check's forms carry a CSRF token: each POST form sends it back in the hidden field
``csrf`` and a POST without it (or with another session's) is refused with 403.

Signing in takes the account's record token (``shuangtan tokens issue NAME``), checked as the API
checks a bearer token (security.from_token). The session keeps the account's name and a
fingerprint of the token's stored hash: a token revoked or reissued ends every session signed in
with it, and a disabled account is signed out on its next page.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.responses import Response

from engine.i18n import LANGS, Lang
from engine.records.store.models import AccountRow
from engine.service.security import Identity

COOKIE = "shuangtan_session"
LANG_COOKIE = "shuangtan_lang"
_SALT = "shuangtan.pages.session"


@dataclass
class Session:
    csrf: str
    user: str | None = None
    fingerprint: str | None = None
    changed: bool = False
    extra: dict = field(default_factory=dict)

    def dump(self) -> dict:
        return {"c": self.csrf, "u": self.user, "f": self.fingerprint}


class CsrfRefused(Exception):
    """A POST form without this session's CSRF token."""


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.service.settings.session_secret, salt=_SALT)


def _max_age(request: Request) -> int:
    return request.app.state.service.settings.session_hours * 3600


def fingerprint(secret_hash: str | None) -> str | None:
    return hashlib.sha256(secret_hash.encode()).hexdigest()[:32] if secret_hash else None


def session(request: Request) -> Session:
    """This request's session (read once), a fresh anonymous one when the cookie is absent or bad."""
    found = getattr(request.state, "page_session", None)
    if found is not None:
        return found
    raw = request.cookies.get(COOKIE)
    got: Session | None = None
    if raw:
        try:
            data = _serializer(request).loads(raw, max_age=_max_age(request))
            if isinstance(data, dict) and isinstance(data.get("c"), str):
                got = Session(data["c"], data.get("u"), data.get("f"))
        except BadSignature:  # tampered, expired or signed with another secret
            got = None
    if got is None:
        got = Session(secrets.token_urlsafe(32), changed=True)
    request.state.page_session = got
    return got


def save(request: Request, response: Response) -> Response:
    """Set the cookie on ``response`` when the session is new or changed."""
    s = session(request)
    if s.changed:
        response.set_cookie(
            COOKIE,
            _serializer(request).dumps(s.dump()),
            max_age=_max_age(request),
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )
    return response


def check_csrf(request: Request, form) -> None:
    """Raise CsrfRefused unless the form's ``csrf`` is this session's token."""
    sent = form.get("csrf") if form is not None else None
    if not isinstance(sent, str) or COOKIE not in request.cookies:
        raise CsrfRefused
    if not hmac.compare_digest(sent.encode(), session(request).csrf.encode()):
        raise CsrfRefused


def signed_in(request: Request) -> Identity | None:
    """The account signed in, if it is still enabled and its token still the one signed in with."""
    if hasattr(request.state, "page_identity"):
        cached: Identity | None = request.state.page_identity
        return cached
    s = session(request)
    identity: Identity | None = None
    if s.user:
        with request.app.state.service.store.reading() as db:
            row = db.get(AccountRow, s.user)
            if row is not None and row.enabled and fingerprint(row.secret_hash) == s.fingerprint:
                identity = Identity(row.name, row.role, row.credit_code, "session")
        if identity is None:  # signed out by revocation or disabling
            sign_out(request)
    request.state.page_identity = identity
    return identity


def sign_in(request: Request, identity: Identity) -> None:
    """A new session for ``identity`` (a new CSRF token too: none issued before sign-in survives)."""
    with request.app.state.service.store.reading() as db:
        row = db.get(AccountRow, identity.name)
        print_ = fingerprint(row.secret_hash) if row is not None else None
    request.state.page_session = Session(secrets.token_urlsafe(32), identity.name, print_, changed=True)
    request.state.page_identity = identity


def sign_out(request: Request) -> None:
    request.state.page_session = Session(secrets.token_urlsafe(32), changed=True)
    request.state.page_identity = None


def language(request: Request) -> Lang:
    """``?lang=`` first, then the language cookie, then Chinese."""
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "zh"
    return asked if asked in LANGS else "zh"


def keep_language(request: Request, response: Response) -> None:
    """A ``?lang=`` switch is remembered for the pages that follow."""
    asked = request.query_params.get("lang")
    if asked in LANGS and request.cookies.get(LANG_COOKIE) != asked:
        response.set_cookie(LANG_COOKIE, asked, max_age=365 * 86400, httponly=True, samesite="lax", path="/")
