"""OIDC bearer tokens: a JWT from the configured issuer, its signature checked against the
issuer's JWKS (joserfc), its issuer, audience and times validated; the configured claim names
the record's account.

The key set is fetched once and kept ``jwks_max_age_seconds``; a token signed by a key it does
not hold refetches it at most once every ``_REFETCH`` seconds (keys rotate; a flood of tokens with
made-up key ids must not become a flood of fetches).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from engine.service.settings import OidcSettings

_REFETCH = 30.0
_TIMEOUT = 5.0


class OidcError(Exception):
    """Why a bearer JWT is not accepted (shown to the client in the 401)."""


class Verifier:
    def __init__(self, settings: OidcSettings, jwks: dict | None = None, fetch=None, clock=time.time):
        self.settings = settings
        self.clock = clock
        self._fetch = fetch or _http_json
        self._lock = threading.Lock()
        self._keys: KeySet | None = KeySet.import_key_set(jwks) if jwks is not None else None  # type: ignore[arg-type]
        self._fixed = jwks is not None or settings.jwks_file is not None
        if settings.jwks_file is not None and jwks is None:
            self._keys = KeySet.import_key_set(json.loads(Path(settings.jwks_file).read_text(encoding="utf-8")))
        self._fetched_at = 0.0
        self._last_try = 0.0

    # --- the key set ----------------------------------------------------------------
    def _jwks_uri(self) -> str:
        if self.settings.jwks_uri:
            return self.settings.jwks_uri
        found = self._fetch(self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration")
        uri = found.get("jwks_uri") if isinstance(found, dict) else None
        if not isinstance(uri, str):
            raise OidcError("the issuer's discovery document names no jwks_uri")
        return uri

    def _load(self, force: bool) -> KeySet:
        with self._lock:
            now = time.monotonic()
            stale = self._keys is None or now - self._fetched_at > self.settings.jwks_max_age_seconds
            if not self._fixed and (stale or (force and now - self._last_try > _REFETCH)):
                self._last_try = now
                try:
                    self._keys = KeySet.import_key_set(self._fetch(self._jwks_uri()))
                    self._fetched_at = now
                except (OSError, ValueError, JoseError, OidcError) as exc:
                    if self._keys is None:
                        raise OidcError(f"the identity provider's keys cannot be had: {type(exc).__name__}") from None
            if self._keys is None:
                raise OidcError("no keys to verify the token with")
            return self._keys

    # --- a token ----------------------------------------------------------------------
    def account(self, token: str) -> str:
        """The account name a valid token stands for; OidcError saying why not."""
        claims = self._claims(token)
        name = claims.get(self.settings.claim)
        if not isinstance(name, str) or not name:
            raise OidcError(f"the token has no {self.settings.claim!r} claim")
        return name

    def _claims(self, token: str) -> dict[str, Any]:
        algorithms = list(self.settings.algorithms)
        try:
            try:
                decoded = jwt.decode(token, self._load(False), algorithms=algorithms)
            except JoseError as exc:
                if type(exc).__name__ not in ("InvalidKeyIdError", "MissingKeyError", "BadSignatureError"):
                    raise
                decoded = jwt.decode(token, self._load(True), algorithms=algorithms)  # rotated keys
            registry = jwt.JWTClaimsRegistry(
                now=int(self.clock()),
                leeway=self.settings.leeway_seconds,
                iss={"essential": True, "value": self.settings.issuer},
                aud={"essential": True, "value": self.settings.audience},
                exp={"essential": True},
            )
            registry.validate(decoded.claims)
        except JoseError as exc:
            raise OidcError(f"the token is not valid: {exc.error}") from None
        except ValueError:  # not a JWT at all (bad base64, bad JSON)
            raise OidcError("the token is not a well-formed JWT") from None
        return dict(decoded.claims)


def _http_json(url: str) -> Any:
    import httpx

    response = httpx.get(url, timeout=_TIMEOUT, follow_redirects=False)
    response.raise_for_status()
    return response.json()
