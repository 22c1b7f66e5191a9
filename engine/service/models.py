"""The API's request and response shapes (pydantic), beside the record's own (engine/records/
store/models.py), which the API answers with as they are wherever they fit.

Documents the engine already writes as JSON (a decision, an explanation) are passed through as
the bytes the CLI prints, not re-validated: their shape is in the OpenAPI document from the
contract's own definitions (``engine.contract.decision``), for clients and for Schemathesis.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.records.store.models import ApplicationOut, DecisionOut, NoticeOut, SubmissionOut


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- problems ------------------------------------------------------------------------------
class FieldProblem(BaseModel):
    path: str
    message: str


class ProblemOut(BaseModel):
    """RFC 9457 problem details, with the offending fields."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    code: str
    detail: str
    errors: list[FieldProblem]


# --- open ----------------------------------------------------------------------------------
class RulesetRef(BaseModel):
    version: str
    digest: str


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    ruleset: RulesetRef


class Source(BaseModel):
    model_config = ConfigDict(extra="allow")
    document: str
    section: str
    file: str | None = None


class RulesetOut(BaseModel):
    version: str
    digest: str
    contract: int
    title: dict[str, str]
    in_force_from: dt.date
    sources: dict[str, Source]
    outcomes: list[str]
    exceptions: list[Exemption]


class Exemption(BaseModel):
    code: str
    test: str
    message: dict[str, str]
    source: str | None
    clause: str | None


class OutcomeSummary(BaseModel):
    name: str
    kind: str
    unit: str | None
    title: dict[str, str]
    source: str
    file: str
    reasons: list[str]
    href: str


class CriterionOut(BaseModel):
    code: str
    rule: str
    test: str
    clause: str
    message: dict[str, str]
    source: str


class TableRowOut(BaseModel):
    id: str
    min: str
    output: str


class TableOut(BaseModel):
    name: str
    description: str
    input: str
    unit: str
    reason: str
    hit_policy: Literal["first"] = "first"
    rows: list[TableRowOut]


class AmountOut(BaseModel):
    formula: str
    places: int
    cap: str | None


class PlausibilityOut(BaseModel):
    code: str
    rule: str
    test: str
    clause: str


class OutcomeDetail(OutcomeSummary):
    clause: str
    applies: list[Exemption]
    lets: dict[str, str]
    tables: list[TableOut]
    criteria: list[CriterionOut]
    amount: AmountOut | None
    plausibility: list[PlausibilityOut]
    parameters: list[str]
    sources: dict[str, Source]


class ParameterValue(BaseModel):
    effective_from: dt.date
    value: str | dict[str, str] | None  # None: the parameter ends on that date


class ParameterOut(BaseModel):
    id: str
    description: str
    unit: str
    reference: str
    index: str | None
    file: str
    history: list[ParameterValue]
    on: dt.date | None = None
    value_on: ParameterValue | None = None  # in force on ``on`` (asked with ?on=DATE)
    href: str


# --- the record ----------------------------------------------------------------------------
class Receipt(BaseModel):
    outcome: Literal["new", "new_version", "unchanged", "rejected"]
    note: str
    submission: SubmissionOut
    href: str


class ProposalIn(_Strict):
    opinion: str | None = Field(default=None, max_length=2000)
    again: bool = False


class ConfirmIn(_Strict):
    opinion: str | None = Field(default=None, max_length=2000)
    overrides: list[str] = Field(default_factory=list, max_length=20)
    reason: str | None = Field(default=None, max_length=2000)


class ReturnIn(_Strict):
    opinion: str = Field(min_length=1, max_length=2000, pattern=r"\S")


class NoticesIn(_Strict):
    lang: Literal["zh", "en", "zh-en"] = "zh"  # zh-en: the Chinese letter with its English translation
    format: Literal["md", "html", "pdf", "docx"] = "pdf"
    date: dt.date | None = None


class IssuedOut(BaseModel):
    kind: str
    number: str
    notice_date: dt.date
    decision_id: int
    reissued: bool
    href: str


class Issued(BaseModel):
    notices: list[IssuedOut]
    superseded: str | None = None


class NoticeLink(NoticeOut):
    href: str | None = None  # where the rendition is fetched (None: unnumbered, from before numbering)


class ApplicationView(ApplicationOut):
    notices: list[NoticeLink] = []  # type: ignore[assignment]
    href: str | None = None


class ApplicationList(BaseModel):
    applications: list[ApplicationView]
    total: int
    offset: int
    limit: int


class AuditPage(BaseModel):
    entries: list[Any]
    total: int


class VerifyOut(BaseModel):
    ok: bool
    links: int
    rows: int
    head_seq: int | None
    head_hash: str | None
    findings: list[dict[str, Any]]


# --- simulations -----------------------------------------------------------------------------
class PopulationIn(_Strict):
    n: int = Field(ge=1)
    seed: int = Field(ge=0, le=2**32 - 1)
    year: int = Field(default=2027, ge=2026, le=2100)


class SimulationIn(_Strict):
    reforms: list[str] = Field(min_length=1, max_length=5)
    baseline_reforms: list[str] = Field(default_factory=list, max_length=5)
    population: PopulationIn
    backend: Literal["auto", "columnar", "rete"] = "auto"


class JobFile(BaseModel):
    name: str
    bytes: int
    href: str


class JobOut(BaseModel):
    id: str
    state: Literal["queued", "running", "done", "failed"]
    progress: float
    submitted_by: str
    created_at: dt.datetime
    finished_at: dt.datetime | None = None
    error: str | None = None
    report: str | None = None  # href of report.md once done
    files: list[JobFile] = []
    summary: dict[str, Any] | None = None


RulesetOut.model_rebuild()


# --- many at once --------------------------------------------------------------------------
class BatchIn(_Strict):
    application_ids: list[str] = Field(min_length=1, max_length=1000)
    opinion: str | None = Field(default=None, max_length=2000)


class BatchError(BaseModel):
    code: str
    status: int
    message: str


class BatchItemOut(BaseModel):
    application_id: str
    decision: DecisionOut | None = None
    error: BatchError | None = None


class BatchOut(BaseModel):
    items: list[BatchItemOut]
    done: int
    refused: int
