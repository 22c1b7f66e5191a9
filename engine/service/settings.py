"""What a deployment of the service chooses: the record, the rulebook, limits, the identity provider.

``shuangtan serve`` builds one ``Settings`` from its options. With several workers uvicorn starts
each in a fresh process from an import string, so the settings travel to them as JSON in the
environment variable ``SHUANGTAN_SERVE`` (``to_env``/``from_env``); nothing else is shared.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
from dataclasses import dataclass, field

from engine.contract.bounds import MAX_DOCUMENT_BYTES

ENV_VAR = "SHUANGTAN_SERVE"


@dataclass(frozen=True)
class OidcSettings:
    """Bearer JWTs from the bureau's identity provider, for its staff (never enterprises).

    ``jwks_uri`` defaults to what the issuer's discovery document names
    (``{issuer}/.well-known/openid-configuration``); ``jwks_file`` reads a JWKS from a file
    instead of fetching one. The value of ``claim`` is the record's account name.
    """

    issuer: str
    audience: str
    jwks_uri: str | None = None
    jwks_file: str | None = None
    claim: str = "preferred_username"
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    leeway_seconds: int = 30
    jwks_max_age_seconds: int = 300


@dataclass(frozen=True)
class Settings:
    store_url: str | None = None  # None: $SHUANGTAN_DB, else sqlite:///shuangtan.db
    rules_dir: str | None = None  # None: the bundled rulebook
    reforms: tuple[str, ...] = ()
    #: open endpoints, per client address: a bucket of ``burst`` requests refilled at ``rate``/s
    #: (0: no limit). Each worker process keeps its own buckets.
    rate: float = 50.0
    burst: int = 100
    max_body_bytes: int = MAX_DOCUMENT_BYTES  # an application, as the contract bounds it
    max_telemetry_bytes: int = 64 << 20  # a year of 15-minute intervals is about 2.3 MB of CSV
    jobs_dir: str | None = None  # None: a folder in the system's temporary folder
    max_population: int = 200_000  # a simulation job's population
    max_jobs: int = 2  # simulations queued or running per worker
    authority_file: str | None = None  # the issuing authority (engine/authority), as `notice --authority`
    oidc: OidcSettings | None = None
    max_list: int = 1000  # applications or audit links in one answer
    #: signs the pages' session cookies; made once per `serve` and carried to its workers with the
    #: rest of the settings, so every worker reads the cookies the others signed
    session_secret: str = field(default_factory=lambda: secrets.token_hex(32))
    session_hours: int = 8
    extra: dict = field(default_factory=dict)  # room for tests: not read by the service

    def to_env(self) -> str:
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False)

    @classmethod
    def from_env(cls, text: str | None = None) -> Settings:
        raw = json.loads(text if text is not None else os.environ.get(ENV_VAR, "{}"))
        oidc = raw.pop("oidc", None)
        if oidc is not None:
            oidc["algorithms"] = tuple(oidc.get("algorithms", OidcSettings.algorithms))
            raw["oidc"] = OidcSettings(**oidc)
        raw["reforms"] = tuple(raw.get("reforms", ()))
        return cls(**raw)
