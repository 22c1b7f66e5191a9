"""The OpenAPI document: problem answers on every operation, and the contract's own shapes (the
application in, the decision out) as components, so clients and Schemathesis see what the
routes really take and give (the routes read raw bytes: a document is kept as received)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from engine.service.problems import MEDIA_TYPE

DESCRIPTION = (
    "Rules, self-checks and the accountable record of shuangtan over HTTP. Every answer carries "
    "`Shuangtan-Ruleset-Version` and `Shuangtan-Ruleset-Digest`; a request may pin a digest with the "
    "`Shuangtan-Ruleset-Digest` header. Errors are `application/problem+json` (RFC 9457) with "
    "`errors: [{path, message}]`. Operations on the record need `Authorization: Bearer st_…` "
    "(`shuangtan tokens issue NAME`) or, for the bureau's staff, a JWT of the configured identity provider."
)

_PROBLEM = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemOut"}}}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": _PROBLEM}
    for status, text in (
        (400, "Malformed JSON"),
        (401, "No valid bearer token"),
        (403, "The account's role may not do this"),
        (404, "Not found (or not this account's to see)"),
        (409, "The record's state refuses it"),
        (413, "Body over its limit"),
        (422, "Invalid input: every offending field by path"),
        (429, "Rate limited (Retry-After)"),
        (503, "The record is unavailable"),
    )
}


def json_body(schema: str, required: bool = True) -> dict:
    """``openapi_extra`` of a route that reads a JSON document of component ``schema`` itself."""
    return {
        "requestBody": {
            "required": required,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        }
    }


def raw_body(media_types: dict[str, str]) -> dict:
    return {
        "requestBody": {
            "required": True,
            "content": {m: {"schema": {"type": "string", "format": fmt}} for m, fmt in media_types.items()},
        }
    }


def ok(schema: str, description: str = "OK", status: int = 200) -> dict:
    return {
        status: {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        }
    }


def _contract_schemas() -> dict:
    from pydantic import TypeAdapter

    from engine.contract.application import Application
    from engine.contract.decision import Decision

    template = "#/components/schemas/{model}"
    found: dict = {}
    for name, schema in (
        ("Application", Application.model_json_schema(ref_template=template)),
        ("Decision", TypeAdapter(Decision).json_schema(ref_template=template, mode="serialization")),
    ):
        found.update(schema.pop("$defs", {}))
        found[name] = schema
    found["WhyNot"] = {"type": "object", "required": ["outcome", "status", "suggestions"]}
    return found


def install(app: FastAPI) -> None:
    from engine.service.models import ProblemOut

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(_contract_schemas())
        problem = ProblemOut.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(problem.pop("$defs", {}))
        components["ProblemOut"] = problem
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
