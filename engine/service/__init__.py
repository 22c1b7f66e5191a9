"""The web API (issue 18): the rules, self-checks and the record over HTTP, with identities.

    from engine.service import create_app

    app = create_app("sqlite:///shuangtan.db")      # an ASGI app (FastAPI); or `shuangtan serve`

Modules: ``app`` (the factory and the envelope every response goes through), ``settings``,
``problems`` (RFC 9457 errors), ``models`` (request and response shapes), ``security`` (bearer
tokens and roles), ``tokens`` (issuing and revoking them on the record), ``oidc`` (the bureau's
identity provider), ``ratelimit``, ``reads`` (reads of an enterprise's data in the audit chain),
``jobs`` (simulations in the background) and ``routes/`` (one module per family of endpoints).
Needs the ``[service]`` extra (FastAPI, uvicorn, joserfc, argon2-cffi).
"""

from __future__ import annotations

from engine.lazy import lazy_exports

__all__ = ["Settings", "OidcSettings", "create_app"]

__getattr__, __dir__ = lazy_exports(__name__, {"create_app": "app", "Settings": "settings", "OidcSettings": "settings"})
