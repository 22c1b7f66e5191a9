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
    FourEyesError,
    IntegrityFailure,
    InvalidApplicationError,
    InvalidTelemetryError,
    MeteringError,
    NotDecidableError,
    OverrideError,
    RecordError,
    ReviewError,
    ShuangtanError,
    UnknownApplicationError,
    UnreadableInputError,
)
from engine.i18n import t

MEDIA_TYPE = "application/problem+json"

#: the statuses with a title of their own (RFC 9457: the same for every occurrence of the
#: problem, in the request's language: templates/messages/service.yaml ``service.title``)
TITLED = (400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 429, 503)


def title(status: int) -> str:
    return t(f"service.title.s{status}") if status in TITLED else t("service.title.other")


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
            "title": title(self.status),
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
            "errors": [{"path": p, "message": m} for p, m in self.errors],
            **self.extra,
        }
        return Response(orjson.dumps(body), self.status, headers=self.headers, media_type=MEDIA_TYPE)


def invalid_application(exc: InvalidApplicationError) -> Problem:
    return Problem(422, "invalid_application", t("service.problem.invalid_application", n=len(exc.errors)), exc.errors)


def for_error(exc: ShuangtanError) -> Problem:
    """The library's error as the problem a client is told about."""
    text = exc.said() if isinstance(exc, RecordError) else str(exc)  # a refusal in the request's language
    if isinstance(exc, InvalidApplicationError):
        return invalid_application(exc)
    if isinstance(exc, InvalidTelemetryError):
        where = [(f"{w}{': ' + c if c else ''}", m) for w, c, m in exc.problems]
        return Problem(422, "invalid_telemetry", t("service.problem.invalid_telemetry", source=exc.source), where)
    if isinstance(exc, DateNotCoveredError):
        return Problem(422, "date_not_covered", text, [("period.end", text)])
    if isinstance(exc, MeteringError):
        return Problem(422, "metering", t("service.problem.metering", reason=text))
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
    if isinstance(exc, FourEyesError):
        return Problem(409, "four_eyes", text)
    if isinstance(exc, AccountRefused):  # the role was checked before (security.allow): disabled meanwhile
        return Problem(403, "forbidden", text)
    if isinstance(exc, OverrideError):  # the request's own override, not the record's state
        return Problem(422, "invalid_override", text, [("overrides", text)])
    if isinstance(exc, ReviewError):
        return Problem(409, "review_conflict", text)
    if isinstance(exc, IntegrityFailure):
        return Problem(409, "integrity_failure", text)
    if isinstance(exc, RecordError):
        return Problem(409, "record_refused", text)
    return Problem(422, "refused", text)
