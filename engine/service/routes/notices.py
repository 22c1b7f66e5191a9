"""GET /v1/notices/{number}.{pdf|docx|html|md}: a notice as issued, byte for byte from the record.

The number is the registered 文号 (percent-encoded in the path, as the application view's
``href`` gives it). Only renditions already issued are handed out; POST
/v1/applications/{id}/notices issues one (.docx is the letter an office edits before sealing).
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy import select
from sqlmodel import col
from starlette.responses import Response

from engine.i18n import t
from engine.records.store.models import DecisionRow, NoticeNumberRow, NoticeRow
from engine.service import reads
from engine.service.problems import Problem
from engine.service.security import READERS, Identity, allow

router = APIRouter(prefix="/v1/notices", tags=["record"])

MEDIA = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}


def _find(request: Request, number: str, lang: str, fmt: str, identity: Identity):
    with request.app.state.service.store.reading() as s:
        registered = s.exec(select(NoticeNumberRow).where(col(NoticeNumberRow.number) == number)).scalars().first()
        if registered is not None:
            decision = s.get(DecisionRow, registered.decision_id)
            if decision is None or not identity.sees(decision.credit_code):
                registered = None
        if registered is None:
            return None
        return (
            s.exec(
                select(NoticeRow).where(
                    col(NoticeRow.number_id) == registered.id, col(NoticeRow.lang) == lang, col(NoticeRow.format) == fmt
                )
            )
            .scalars()
            .first()
        )


@router.get(
    "/{ref}",
    responses={
        200: {
            "description": "The notice as issued",
            "content": {m.split(";")[0]: {"schema": {"type": "string", "format": "binary"}} for m in MEDIA.values()},
        }
    },
    response_class=Response,
)
def notice(
    request: Request,
    ref: str = Path(
        min_length=3, max_length=300, description="the notice's number and format, e.g. 晋能源补〔2026〕17号.pdf"
    ),
    lang: Literal["zh", "en", "zh-en"] = Query(default="zh"),
    identity: Identity = Depends(allow(*READERS)),
) -> Response:
    number, _, fmt = ref.rpartition(".")
    if fmt not in MEDIA or not number:
        raise Problem(404, "not_found", t("service.problem.notice_format", ref=ref[:300]))
    row = _find(request, number, lang, fmt, identity)
    if row is None:
        raise Problem(
            404,
            "not_found",
            t("service.problem.notice_missing", number=number[:200], language=lang, fmt=fmt, id="{id}"),
        )
    reads.notice_read(
        request.app.state.service.store, identity.name, row.id, f"GET /v1/notices/{number}.{fmt} ({lang})"
    )
    disposition = f"inline; filename*=UTF-8''{quote(row.filename, safe='')}"
    return Response(bytes(row.content), media_type=MEDIA[fmt], headers={"Content-Disposition": disposition})
