"""Who is asking: a bearer token of the record (``st_…``) or the bureau's OIDC JWT, resolved to an
enabled account, and the roles each operation admits (the record's ``MAY`` and its own checks).

A failed authentication spends from the client's rate-limit bucket, so guessing tokens costs
what hammering the open endpoints costs. What was verified once is kept (``_Verified``): an
Argon2 check per request would cost a tenth of a second; a revoked or reissued token no longer
matches the stored hash it was verified against, so keeping it never outlives revocation.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from fastapi import Depends, Request

from engine.i18n import t
from engine.records.accounts import MAY
from engine.records.store.models import AccountRow
from engine.service import tokens
from engine.service.problems import Problem
from engine.service.ratelimit import retry_after

#: roles that may read an enterprise's applications, decisions and notices (an enterprise: its own)
READERS = ("officer", "reviewer", "auditor", "enterprise")
#: roles an identity provider's token may stand for: the bureau's staff, never an enterprise
STAFF = ("officer", "reviewer", "drafter", "auditor")


@dataclass(frozen=True)
class Identity:
    name: str
    role: str
    credit_code: str | None  # an enterprise account's own
    via: str  # token | oidc

    def sees(self, credit_code: str | None) -> bool:
        """Whether this identity may see an enterprise's data (others' are 404: existence does not leak)."""
        return self.role != "enterprise" or (credit_code is not None and credit_code == self.credit_code)


class _Verified:
    """sha256(token) -> the stored hash it matched, for at most ``size`` tokens."""

    def __init__(self, size: int = 10_000):
        self.size, self._lock = size, threading.Lock()
        self._seen: dict[str, str] = {}
        self._pending: dict[str, threading.Lock] = {}

    def lock(self, key: str) -> threading.Lock:
        """One verification of a token at a time: the requests of a client that just started
        wait for the first one's Argon2 check instead of each paying for their own."""
        with self._lock:
            if len(self._pending) >= self.size:
                self._pending.clear()
            return self._pending.setdefault(key, threading.Lock())

    def get(self, key: str) -> str | None:
        return self._seen.get(key)

    def put(self, key: str, secret_hash: str) -> None:
        with self._lock:
            if len(self._seen) >= self.size:
                self._seen.clear()
            self._seen[key] = secret_hash


_verified = _Verified()


def _refuse(request: Request, key: str, **fields) -> Problem:
    service = request.app.state.service
    wait = service.buckets.take(f"auth:{service.client(request)}")
    headers = {"WWW-Authenticate": 'Bearer realm="shuangtan"'}
    if wait:
        headers["Retry-After"] = retry_after(wait)
        return Problem(429, "rate_limited", t("service.problem.auth_slow_down"), headers=headers)
    return Problem(401, "unauthenticated", t(f"service.problem.auth_{key}", **fields), headers=headers)


def _account(request: Request, name: str) -> AccountRow | None:
    with request.app.state.service.store.reading() as s:
        row = s.get(AccountRow, name)
        return row if row is not None and row.enabled else None


def identify(request: Request) -> Identity:
    """The identity behind the request's bearer token; 401 when there is none or it is not valid."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _refuse(request, "missing")
    if token.count(".") == 2:
        return _from_jwt(request, token)
    identity = from_token(request, token)
    request.state.identity = identity
    return identity


def from_token(request: Request, token: str) -> Identity:
    """The enabled account a record token (``st_…``) stands for; 401 (429 when guessing) otherwise.
    The pages' sign-in takes the same token as the API, checked the same way."""
    parsed = tokens.parse(token)
    if parsed is None:
        raise _refuse(request, "malformed")
    name, secret = parsed
    row = _account(request, name)
    if row is None or not row.secret_hash:
        raise _refuse(request, "unknown")
    key = hashlib.sha256(token.encode()).hexdigest()
    if _verified.get(key) != row.secret_hash:
        with _verified.lock(key):
            if _verified.get(key) != row.secret_hash:
                if not tokens.matches(row.secret_hash, secret):
                    raise _refuse(request, "unknown")
                _verified.put(key, row.secret_hash)
    return Identity(row.name, row.role, row.credit_code, "token")


def _from_jwt(request: Request, token: str) -> Identity:
    from engine.service.oidc import OidcError

    verifier = request.app.state.service.oidc
    if verifier is None:
        raise _refuse(request, "no_oidc")
    try:
        name = verifier.account(token)
    except OidcError as exc:
        raise Problem(
            401, "unauthenticated", str(exc), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        ) from None
    row = _account(request, name) if len(name) <= 64 else None
    if row is None or row.role not in STAFF:
        raise _refuse(request, "oidc_account", name=repr(name[:64]))
    identity = Identity(row.name, row.role, None, "oidc")
    request.state.identity = identity
    return identity


def allow(*roles: str):
    """A dependency: the request's identity, 403 unless its role is one of ``roles``."""

    def dependency(identity: Identity = Depends(identify)) -> Identity:
        if identity.role not in roles:
            raise Problem(
                403,
                "forbidden",
                t("service.problem.role", name=identity.name, role=identity.role, roles=" / ".join(roles)),
            )
        return identity

    return dependency


def may(act: str):
    """``allow`` with the roles the record gives an act (``accounts.MAY``: submit, propose, review, issue)."""
    return allow(*MAY[act])
