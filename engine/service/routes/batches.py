"""Many applications in one request: POST /v1/proposals and POST /v1/confirmations.

One request per application pays a transaction per application (about 30 ms on PostgreSQL);
these hand the whole list to the record's chunked operations (a chunk of up to 200 applications
per transaction, as `decide --all-pending` and `confirm --all-proposed` do), so an officer's tool
proposes or confirms a day's applications at the record's batch rate. Each application gets its
own answer: its decision, or what refused it (the code and status a single request would get).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from engine.errors import ShuangtanError
from engine.records import service as records
from engine.service.app import current_book
from engine.service.models import BatchError, BatchIn, BatchItemOut, BatchOut
from engine.service.problems import for_error
from engine.service.security import Identity, may

router = APIRouter(prefix="/v1", tags=["record"])


def _error(exc: ShuangtanError) -> BatchError:
    p = for_error(exc)
    return BatchError(code=p.code, status=p.status, message=p.detail)


@router.post("/proposals", response_model=BatchOut)
def propose_many(request: Request, body: BatchIn, identity: Identity = Depends(may("propose"))) -> BatchOut:
    """Propose a decision on each application (as POST /v1/applications/{id}/proposal each)."""
    store, book = request.app.state.service.store, current_book(request)
    items = [
        BatchItemOut(application_id=a, error=_error(r))
        if isinstance(r, ShuangtanError)
        else BatchItemOut(application_id=a, decision=r)
        for a, r in records.proposals(store, body.application_ids, book, identity.name, opinion=body.opinion)
    ]
    refused = sum(i.error is not None for i in items)
    return BatchOut(items=items, done=len(items) - refused, refused=refused)


@router.post("/confirmations", response_model=BatchOut)
def confirm_many(request: Request, body: BatchIn, identity: Identity = Depends(may("review"))) -> BatchOut:
    """Confirm the proposal of each application (no overrides: a held one is refused, the others go on)."""
    store, book = request.app.state.service.store, current_book(request)
    items = []
    for item in records.confirm_many(store, body.application_ids, book, identity.name, body.opinion):
        if item.error is not None:
            error = BatchError(code="review_conflict", status=409, message=item.error)
            items.append(BatchItemOut(application_id=item.application_id, error=error))
        else:
            items.append(BatchItemOut(application_id=item.application_id, decision=item.decision))
    refused = sum(i.error is not None for i in items)
    return BatchOut(items=items, done=len(items) - refused, refused=refused)
