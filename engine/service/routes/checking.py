"""Open self-checks: POST /v1/check (the contract's decision, as `shuangtan check --format json`)
and POST /v1/explain (why-not, as `shuangtan explain --format json`).

The body is read as the contract reads a file (engine.contract.jsontext): bytes that are not
UTF-8 JSON are malformed (400); JSON the contract refuses names every offending field (422).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from engine.batch.readers import dumps_decision
from engine.contract.jsontext import decode_document, loads_exact
from engine.errors import InvalidApplicationError, UnreadableDocumentError
from engine.i18n import t
from engine.service.app import book_of, rate_limited
from engine.service.openapi import json_body, ok
from engine.service.problems import Problem, invalid_application

router = APIRouter(prefix="/v1", dependencies=[Depends(rate_limited)], tags=["self-check"])

Lang = Literal["zh", "en"]


def read_json(raw: bytes) -> Any:
    """The body as the contract's JSON: 400 when it is not JSON at all, 422 (by path) when the
    contract refuses how it is written (a key twice, nested too deep)."""
    try:
        text = decode_document(raw)
    except UnreadableDocumentError as exc:
        raise Problem(400, "malformed_json", str(exc), exc.errors) from None
    if not text.strip():
        raise Problem(400, "malformed_json", t("service.problem.empty_body"), [("(document)", "empty")])
    try:
        return loads_exact(text)
    except UnreadableDocumentError as exc:
        raise invalid_application(InvalidApplicationError(exc.errors)) from None
    except ValueError as exc:  # json.JSONDecodeError
        message = t("service.problem.not_json_detail", reason=exc)
        raise Problem(400, "malformed_json", message, [("(document)", message)]) from None


def _decide(book, doc, partial: bool) -> bytes:
    if partial:
        from engine.partial import decide_partial, parse_partial_application

        return dumps_decision(decide_partial(book, parse_partial_application(doc))).encode()
    from engine.backends.rete.engine import ReteEngine
    from engine.contract.application import parse_application

    return dumps_decision(ReteEngine.for_rulebook(book).decide(parse_application(doc))).encode()


def _answer(body: bytes, lang: str) -> Response:
    return Response(body, media_type="application/json", headers={"Content-Language": lang})


@router.post(
    "/check",
    openapi_extra=json_body("Application"),
    responses=ok("Decision", "The decision document (docs/contract.md); with ?partial=true a partial decision"),
)
async def check(
    request: Request,
    partial: bool = Query(default=False, description="fields left out are unknown: settled and undetermined outcomes"),
    lang: Lang = Query(default="zh", description="the language of the answer's texts (Content-Language)"),
) -> Response:
    """Decide one application (the body), as `shuangtan check --format json` does."""
    doc = read_json(await request.body())
    book = book_of(request)
    if partial:  # the partial analysis can take longer than one decision: off the event loop
        return _answer(await run_in_threadpool(_decide, book, doc, True), lang)
    return _answer(_decide(book, doc, False), lang)  # a fraction of a millisecond: no thread hop


def _explain(book, doc, outcome: str, partial: bool) -> bytes:
    from engine.drafting.whynot import why_not

    names = [o.name for o in book.outcomes]
    if outcome not in names:
        text = t("service.problem.unknown_outcome", name=repr(outcome[:80]), known=", ".join(names))
        raise Problem(422, "invalid_request", text, [("query.outcome", text)])
    unknown: frozenset = frozenset()
    if partial:
        from engine.partial import parse_partial_application

        given = parse_partial_application(doc)
        app, unknown = given.app, given.unknown
    else:
        from engine.contract.application import parse_application

        app = parse_application(doc)
    answer = why_not(book, app, outcome, unknown).to_dict()
    return json.dumps(answer, ensure_ascii=False).encode()


@router.post(
    "/explain", openapi_extra=json_body("Application"), responses=ok("WhyNot", "Why not, and what would change it")
)
async def explain(
    request: Request,
    outcome: str = Query(min_length=1, max_length=200, description="the outcome to explain, e.g. storage_subsidy"),
    partial: bool = Query(default=False),
    lang: Lang = Query(default="zh"),
) -> Response:
    """The smallest changes that would grant (meet, exempt) ``outcome``, as `shuangtan explain --why-not --format json`."""
    doc = read_json(await request.body())
    return _answer(await run_in_threadpool(_explain, book_of(request), doc, outcome, partial), lang)
