"""Errors as ``application/problem+json`` (RFC 9457), each with a ``code`` and every offending
field in ``errors: [{path, message}]`` (the paths and messages the CLI prints).

``for_error`` maps the library's exceptions to a status: what a request got wrong about the
record's state (already decided, one's own proposal) is 409, input the contract refuses 422.
Nothing here catches ``Exception``: a defect stays a defect, for Schemathesis to find.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from starlette.responses import Response

from engine.errors import (
    AccountRefused,
    AlreadyDecidedError,
    AlreadyProposedError,
    DateNotCoveredError,
    IntegrityFailure,
    InvalidApplicationError,
    InvalidTelemetryError,
    MeteringError,
    NotDecidableError,
    RecordError,
    ReviewError,
    ShuangtanError,
    UnknownApplicationError,
    UnreadableInputError,
)

MEDIA_TYPE = "application/problem+json"

#: status -> title (RFC 9457: the same for every occurrence of the problem)
TITLES = {
    400: "Malformed request",
    401: "Authentication required",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict with the record",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    503: "The record is unavailable",
}


class Problem(Exception):
    """An answer that is an error: ``raise Problem(404, "not_found", "…")`` from any route."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        errors: Iterable[tuple[str, str]] = (),
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ):
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.errors = [(str(p), str(m)) for p, m in errors]
        self.headers = dict(headers or {})
        self.extra = extra

    def response(self) -> Response:
        body = {
            "type": f"urn:shuangtan:problem:{self.code}",
            "title": TITLES.get(self.status, "Error"),
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
            "errors": [{"path": p, "message": m} for p, m in self.errors],
            **self.extra,
        }
        return Response(orjson.dumps(body), self.status, headers=self.headers, media_type=MEDIA_TYPE)


def invalid_application(exc: InvalidApplicationError) -> Problem:
    n = len(exc.errors)
    return Problem(422, "invalid_application", f"invalid application ({n} problem{'s' if n != 1 else ''})", exc.errors)


def for_error(exc: ShuangtanError) -> Problem:
    """The library's error as the problem a client is told about."""
    text = str(exc)
    if isinstance(exc, InvalidApplicationError):
        return invalid_application(exc)
    if isinstance(exc, InvalidTelemetryError):
        where = [(f"{w}{': ' + c if c else ''}", m) for w, c, m in exc.problems]
        return Problem(422, "invalid_telemetry", f"invalid telemetry {exc.source}", where)
    if isinstance(exc, DateNotCoveredError):
        return Problem(422, "date_not_covered", text, [("period.end", text)])
    if isinstance(exc, MeteringError):
        return Problem(422, "metering", f"telemetry: {text}")
    if isinstance(exc, UnreadableInputError):
        return Problem(422, "unreadable_input", text)
    if isinstance(exc, UnknownApplicationError):
        return Problem(404, "not_found", text)
    if isinstance(exc, AlreadyDecidedError):
        return Problem(409, "already_decided", text, decision_id=exc.decision_id)
    if isinstance(exc, AlreadyProposedError):
        return Problem(409, "already_proposed", text, decision_id=exc.decision_id)
    if isinstance(exc, NotDecidableError):
        return Problem(409, "not_decidable", text)
    if isinstance(exc, AccountRefused):
        # the role was checked before the record was asked (security.allow): what the record
        # still refuses is who may act on this one, four eyes
        return Problem(409, "four_eyes", text)
    if isinstance(exc, ReviewError):
        if text.startswith("--override"):  # the request's own override, not the record's state
            return Problem(422, "invalid_override", text, [("overrides", text)])
        return Problem(409, "review_conflict", text)
    if isinstance(exc, IntegrityFailure):
        return Problem(409, "integrity_failure", text)
    if isinstance(exc, RecordError):
        return Problem(409, "record_refused", text)
    return Problem(422, "refused", text)
