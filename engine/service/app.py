"""The app factory, and the envelope every request and answer passes through.

``create_app(store_url, rulebook)`` opens the record (migrating it as every command does) and
returns a FastAPI app. ``app_from_env`` is the same for uvicorn's worker processes, which start
from an import string and read their ``Settings`` from the environment (settings.py).

The envelope (a plain ASGI middleware, cheaper than Starlette's BaseHTTPMiddleware) does what
every route shares: it refuses a body over its limit (413) before any route reads it, resolves a
pinned ruleset digest (422 ``unsupported_ruleset`` unless it is the one in force or a snapshot in
the record) and stamps every answer, errors included, with the ruleset it was made under.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections import OrderedDict
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.errors import ShuangtanError
from engine.i18n import t, use
from engine.records.store import open_store
from engine.records.store.db import Store
from engine.rulebook.loader import Rulebook
from engine.service.language import requested_lang
from engine.service.problems import Problem, for_error, title
from engine.service.ratelimit import Buckets, retry_after
from engine.service.settings import Settings

VERSION_HEADER = "Shuangtan-Ruleset-Version"
DIGEST_HEADER = "Shuangtan-Ruleset-Digest"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_SNAPSHOTS_KEPT = 8
_PHRASES = {s.value: s.phrase for s in HTTPStatus}
TELEMETRY_PATH = re.compile(r"^/v1/applications/[^/]+/telemetry$")


class Service:
    """What the routes share: the record, the rulebook in force, limits, identities, jobs."""

    def __init__(self, store: Store, book: Rulebook, settings: Settings, jwks: dict | None = None):
        self.store, self.book, self.settings = store, book, settings
        self.buckets = Buckets(settings.rate, settings.burst)
        self.oidc = None
        if settings.oidc is not None:
            from engine.service.oidc import Verifier

            self.oidc = Verifier(settings.oidc, jwks=jwks)
        self._snapshots: OrderedDict[str, Rulebook] = OrderedDict()
        self._lock = threading.Lock()
        from engine.service.jobs import Jobs

        self.jobs = Jobs(settings)
        self._authority: Any = None

    @staticmethod
    def client(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def authority(self):
        if self._authority is None:
            from engine.authority import resolve_authority

            self._authority = resolve_authority(self.settings.authority_file)
        return self._authority

    def pinned_book(self, digest: str) -> Rulebook | None:
        """The rulebook of a snapshot in the record, compiled once (a few kept), else None."""
        with self._lock:
            if digest in self._snapshots:
                self._snapshots.move_to_end(digest)
                return self._snapshots[digest]
        from engine.records.deciding import snapshot_book
        from engine.records.store.models import RulesetSnapshotRow

        with self.store.reading() as s:
            if s.get(RulesetSnapshotRow, digest) is None:
                return None
            book = snapshot_book(s, digest)
        with self._lock:
            self._snapshots[digest] = book
            while len(self._snapshots) > _SNAPSHOTS_KEPT:
                self._snapshots.popitem(last=False)
        return book

    def body_limit(self, path: str) -> int:
        return self.settings.max_telemetry_bytes if TELEMETRY_PATH.match(path) else self.settings.max_body_bytes

    def close(self) -> None:
        self.jobs.close()
        self.store.dispose()


def _headers(book: Rulebook) -> list[tuple[bytes, bytes]]:
    return [
        (VERSION_HEADER.lower().encode(), book.version.encode()),
        (DIGEST_HEADER.lower().encode(), book.digest.encode()),
    ]


class Envelope:
    def __init__(self, app, service: Service):
        self.app, self.service = app, service

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        with use(requested_lang(scope)):  # ?lang=: every text of the answer, errors included
            return await self._http(scope, receive, send)

    async def _http(self, scope, receive, send):
        service = self.service
        book = service.book
        stamp = _headers(book)

        async def stamped(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *stamp]}
            await send(message)

        pinned = None
        for key, value in scope["headers"]:
            if key == b"shuangtan-ruleset-digest":
                pinned = value.decode("latin-1").strip()
        if pinned and pinned != book.digest:
            found = await run_in_threadpool(service.pinned_book, pinned) if _DIGEST.match(pinned) else None
            if found is None:
                message = t("service.problem.unsupported_ruleset", digest=pinned[:80], current=book.digest)
                problem = Problem(422, "unsupported_ruleset", message, [(f"header {DIGEST_HEADER}", message)])
                return await problem.response()(scope, receive, stamped)
            book = found
            stamp = _headers(book)
        scope.setdefault("state", {})["book"] = book

        limit = service.body_limit(scope.get("path", ""))
        for key, value in scope["headers"]:
            if key == b"content-length" and value.isdigit() and int(value) > limit:
                return await _too_large(limit)(scope, receive, stamped)
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return await _too_large(limit)(scope, receive, stamped)
            chunks.append(chunk)
            more = message.get("more_body", False)
        body, replayed = b"".join(chunks), False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, stamped)


def _too_large(limit: int):
    text = t("service.problem.too_large", limit=f"{limit:,}")
    return Problem(413, "too_large", text, [("(body)", text)]).response()


def book_of(request: Request) -> Rulebook:
    """The rulebook this request is answered under: the one in force, or the snapshot it pinned."""
    return request.scope.get("state", {}).get("book") or request.app.state.service.book


def current_book(request: Request) -> Rulebook:
    """For what the record decides: always the rulebook in force; a pin of another is refused."""
    book = book_of(request)
    service = request.app.state.service
    if book.digest != service.book.digest:
        text = t("service.problem.not_in_force", current=service.book.digest, digest=book.digest)
        raise Problem(422, "unsupported_ruleset", text, [(f"header {DIGEST_HEADER}", text)])
    return book


def rate_limited(request: Request) -> None:
    """A dependency of the open endpoints: 429 once the client's bucket is empty."""
    service = request.app.state.service
    client = service.client(request)
    wait = service.buckets.take(client)
    if wait:
        seconds = retry_after(wait)
        raise Problem(
            429,
            "rate_limited",
            t("service.problem.rate_limited", client=client, seconds=seconds),
            headers={"Retry-After": seconds},
        )


# --- errors ----------------------------------------------------------------------------------
def _validation_problem(request: Request, exc: RequestValidationError):
    errors, malformed = [], False
    for e in exc.errors():
        where = [str(p) for p in e.get("loc", ())]
        errors.append((".".join(where), str(e.get("msg", "invalid"))))
        malformed = malformed or e.get("type") == "json_invalid"
    n = len(errors)
    if malformed:  # the body is not JSON at all: malformed, not merely invalid
        return Problem(400, "malformed_json", t("service.problem.not_json"), errors).response()
    return Problem(422, "invalid_request", t("service.problem.invalid_request", n=n), errors).response()


def _http_problem(request: Request, exc: StarletteHTTPException):
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    # Starlette's own detail is the status's English phrase: ours is the title, in the request's language
    ours = not isinstance(exc.detail, str) or exc.detail == _PHRASES.get(exc.status_code)
    detail = title(exc.status_code) if ours else exc.detail
    return Problem(exc.status_code, code, detail, headers=getattr(exc, "headers", None)).response()


def _record_failed(request: Request, exc: DBAPIError):
    from engine.errors import internal_reason

    # the database itself (a lost connection, a full disk): not the request's fault, and not a
    # defect of the service either; the URL and statement are never shown
    return Problem(
        503, "record_unavailable", t("service.problem.record_failed", what=internal_reason(exc.orig or exc))
    ).response()


def create_app(
    store_url: str | None = None,
    rulebook: Rulebook | None = None,
    settings: Settings | None = None,
    *,
    jwks: dict | None = None,
) -> FastAPI:
    """The service over the record at ``store_url`` (default as the CLI's: $SHUANGTAN_DB, else
    sqlite:///shuangtan.db) deciding under ``rulebook`` (default: the bundled one, with
    ``settings.reforms``). ``jwks``: the identity provider's key set given directly (tests)."""
    import engine
    from engine.service import openapi
    from engine.service.routes import applications, auditing, batches, checking, jobs, notices, rules

    settings = settings or Settings()
    if store_url is not None:
        settings = Settings(**{**settings.__dict__, "store_url": store_url})
    if rulebook is None:
        from engine.rulebook.loader import load_rulebook

        reforms = []
        if settings.reforms:
            from engine.rulebook.reforms import load_reform

            reforms = [load_reform(p) for p in settings.reforms]
        rulebook = load_rulebook(settings.rules_dir, reforms)
    service = Service(open_store(settings.store_url), rulebook, settings, jwks)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        service.close()

    app = FastAPI(
        lifespan=lifespan,
        title="shuangtan (双碳)",
        version=engine.__version__,
        description=openapi.DESCRIPTION,
        responses=openapi.PROBLEM_RESPONSES,
    )
    app.state.service = service
    app.add_exception_handler(Problem, lambda request, exc: exc.response())
    app.add_exception_handler(ShuangtanError, lambda request, exc: for_error(exc).response())
    app.add_exception_handler(RequestValidationError, _validation_problem)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_problem)  # type: ignore[arg-type]
    app.add_exception_handler(DBAPIError, _record_failed)  # type: ignore[arg-type]
    for module in (rules, checking, applications, batches, notices, auditing, jobs):
        app.include_router(module.router)
    from engine.service import pages

    pages.install(app)  # the HTML pages for people (engine/service/pages)
    app.add_middleware(Envelope, service=service)
    openapi.install(app)
    return app


def app_from_env() -> FastAPI:
    """For uvicorn's workers (``engine.service.app:app_from_env``, factory): Settings from $SHUANGTAN_SERVE."""
    return create_app(settings=Settings.from_env())
