"""What comes in, what is stored, what goes out: three families of sqlmodel models.

Stored rows (``table=True``) are append-only in spirit: a submission's raw bytes are never
rewritten, a decision is never updated (a re-decision is a new row that ``supersedes`` the old
one), and a notice is kept with the exact content issued. Inputs and outputs are plain
sqlmodel models so that the CLI, tests and any future API speak the same shapes.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from engine.records.store import state


def _utc() -> Column:
    return Column(DateTime(timezone=True), nullable=False)


def _brief(source: str, summary):
    """A column default: the compact summary of the row's ``source`` column as inserted (any way
    of inserting the row, the ORM's or a bulk insert, that leaves the summary out fills it)."""

    def default(context) -> str | None:
        return summary(context.get_current_parameters().get(source))

    return default


def stored_id(key: int | None) -> int:
    """A stored row's primary key. sqlmodel types ``id`` as optional because a new row has none
    until it is flushed; every row handed out here was read back or flushed first."""
    assert key is not None, "the row has not been flushed"
    return key


# --- stored ------------------------------------------------------------------------
class EnterpriseRow(SQLModel, table=True):
    """One row per credit code: the thing a decider locks to serialise its enterprise."""

    __tablename__ = "enterprise"
    credit_code: str = Field(primary_key=True, max_length=18)
    name: str = Field(max_length=200)
    region_code: str = Field(max_length=6)
    first_seen: dt.datetime = Field(sa_column=_utc())


class SubmissionRow(SQLModel, table=True):
    """A document exactly as received; ``valid``/``errors`` are filled in after it is safely stored."""

    __tablename__ = "submission"
    __table_args__ = (UniqueConstraint("application_id", "version", name="uq_submission_version"),)
    id: int | None = Field(default=None, primary_key=True)
    application_id: str | None = Field(default=None, max_length=200, index=True)
    version: int | None = None
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sha256: str = Field(max_length=64, index=True)
    filename: str | None = Field(default=None, max_length=1000)
    received_at: dt.datetime = Field(sa_column=_utc())
    submitted_by: str = Field(max_length=200)
    validated: bool = False
    valid: bool | None = None
    errors: str | None = Field(default=None, sa_column=Column(Text))  # JSON [{path, message}]
    credit_code: str | None = Field(default=None, max_length=18, index=True)
    region_code: str | None = Field(default=None, max_length=6)
    enterprise_name: str | None = Field(default=None, max_length=200)
    period_end: dt.date | None = None
    period_start: dt.date | None = None
    corrects: str | None = Field(default=None, max_length=200)  # the application id this one corrects
    # JSON {file, sha256, row, format[, cells]} when the submission was one row of a batch file
    source: str | None = Field(default=None, sa_column=Column(Text))


class AccountRow(SQLModel, table=True):
    """Who may act on the record, in which role. Never deleted: disabled, so the log keeps its names."""

    __tablename__ = "account"
    name: str = Field(primary_key=True, max_length=64)
    role: str = Field(max_length=16)  # officer | reviewer | drafter | auditor | enterprise
    display_name: str = Field(max_length=200)
    credit_code: str | None = Field(default=None, max_length=18)  # an enterprise account's own
    enabled: bool = True
    secret_hash: str | None = Field(default=None, max_length=400)
    created_at: dt.datetime = Field(sa_column=_utc())
    created_by: str = Field(max_length=200)


class RulesetSnapshotRow(SQLModel, table=True):
    """The parsed rule files a decision was made under, keyed by their digest (for replay)."""

    __tablename__ = "ruleset_snapshot"
    digest: str = Field(primary_key=True, max_length=80)
    version: str = Field(max_length=40)
    files: str = Field(sa_column=Column(Text, nullable=False))  # tagged JSON, see snapshot.py
    stored_at: dt.datetime = Field(sa_column=_utc())


class DecisionRow(SQLModel, table=True):
    """The engine's result proposed by an officer, never updated. It is in force once a review
    confirms it, until a later confirmation replaces it (``ReviewRow.replaces_id``)."""

    __tablename__ = "decision"
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(sa_column=Column(Integer, ForeignKey("submission.id"), nullable=False))
    application_id: str = Field(max_length=64, index=True)
    # Before four-eyes review (revision 0004) a decision replaced another on its own; kept as it was.
    supersedes_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("decision.id"), unique=True, nullable=True)
    )
    # The decision in force this proposal would replace once confirmed (its own, or the corrected one's).
    replaces_id: int | None = None
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    opinion: str | None = Field(default=None, sa_column=Column(Text))  # the proposer's 审核意见
    holds: str | None = Field(default=None, sa_column=Column(Text))  # JSON: plausibility checks failed
    credit_code: str = Field(max_length=18, index=True)
    period_year: int
    ruleset_version: str = Field(max_length=40)
    ruleset_digest: str = Field(sa_column=Column(String(80), ForeignKey("ruleset_snapshot.digest"), nullable=False))
    input_sha256: str = Field(max_length=64)
    officer: str = Field(max_length=200)
    decided_at: dt.datetime = Field(sa_column=_utc())
    document: str = Field(sa_column=Column(Text, nullable=False))  # the full decision JSON
    # Amounts granted, as the decision's own decimal strings: what later caps are computed from.
    storage_granted_yuan: str = Field(max_length=32)
    freight_granted_yuan: str = Field(max_length=32)
    equipment_granted: bool
    telemetry_id: int | None = None  # the metered data the decision used, if any
    # {"outcome":"status",...} of the document, for listing without decoding it (state.py)
    statuses: str | None = Field(
        default=None, sa_column=Column(Text, default=_brief("document", state.decision_statuses))
    )


class ReviewRow(SQLModel, table=True):
    """The second officer's verdict on one proposal: confirm (with overrides) or return it."""

    __tablename__ = "review"
    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = Field(sa_column=Column(Integer, ForeignKey("decision.id"), nullable=False, unique=True))
    application_id: str = Field(max_length=64, index=True)
    action: str = Field(max_length=16)  # confirm | return
    reviewer: str = Field(max_length=200)
    opinion: str | None = Field(default=None, sa_column=Column(Text))
    overrides: str | None = Field(default=None, sa_column=Column(Text))  # JSON, see reviewing.py
    reviewed_at: dt.datetime = Field(sa_column=_utc())
    # unique: two confirmations can never both take the same decision out of force
    replaces_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("decision.id"), unique=True, nullable=True)
    )
    # What is in force once confirmed (the engine's amounts unless overridden): caps read these.
    storage_granted_yuan: str = Field(max_length=32)
    freight_granted_yuan: str = Field(max_length=32)
    equipment_granted: bool = Field(sa_column=Column(Boolean, nullable=False))
    subsidy_yuan: str = Field(max_length=32)
    levy_yuan: str = Field(max_length=32)
    # {"outcome":"status",...} that the overrides set (None: none), for listing (state.py)
    statuses: str | None = Field(
        default=None, sa_column=Column(Text, default=_brief("overrides", state.override_statuses))
    )


class ApplicationStateRow(SQLModel, table=True):
    """One row per application: the standing ``list`` filters, sorts and counts by. Written only
    by the database's triggers (engine/records/store/state.py), from the rows above; never by code."""

    __tablename__ = "application_state"
    __table_args__ = (
        UniqueConstraint("application_id", name="uq_application_state_application"),
        Index("ix_application_state_received", "received_at", "application_id", "submission_id"),
        Index("ix_application_state_status", "status", "received_at", "application_id", "submission_id"),
        Index("ix_application_state_region", "region_code", "received_at", "application_id", "submission_id"),
    )
    # the version the application stands on (a submission with no readable id: itself)
    submission_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    application_id: str | None = Field(default=None, max_length=200)
    status: str = Field(max_length=16)
    region_code: str | None = Field(default=None, max_length=6)
    received_at: dt.datetime = Field(sa_column=_utc())
    decision_id: int | None = None  # in force
    proposal_id: int | None = None  # awaiting review
    statuses: str | None = Field(default=None, sa_column=Column(Text))  # of the decision shown
    override_statuses: str | None = Field(default=None, sa_column=Column(Text))  # its review's


class ApplicationOutcomeRow(SQLModel, table=True):
    """Each outcome's status shown for an application (its review's override, else its decision's):
    what ``list --outcome`` selects and counts by index. Kept by triggers on application_state
    (state.py), never written by code."""

    __tablename__ = "application_outcome"
    __table_args__ = (Index("ix_application_outcome_status", "outcome", "status", "submission_id"),)
    submission_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    outcome: str = Field(sa_column=Column(Text, primary_key=True))
    status: str = Field(max_length=32)


class AuditRow(SQLModel, table=True):
    """One link of the audit chain: who did what to which row, and the row's digest at that moment."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)
    seq: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(sa_column=_utc())
    actor: str = Field(max_length=200)
    action: str = Field(max_length=40)
    entity: str = Field(max_length=40)
    entity_id: str = Field(max_length=200)
    fieldset: str = Field(max_length=40)
    digest: str = Field(max_length=64)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    summary: str | None = Field(default=None, sa_column=Column(Text))


class AuditHeadRow(SQLModel, table=True):
    """The chain's last link; its one row is locked by each appender."""

    __tablename__ = "audit_head"
    id: int = Field(primary_key=True)
    seq: int
    hash: str = Field(max_length=64)


class TelemetryRow(SQLModel, table=True):
    """A telemetry file exactly as received, attached to one submission; never rewritten."""

    __tablename__ = "telemetry"
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(sa_column=Column(Integer, ForeignKey("submission.id"), nullable=False, index=True))
    application_id: str = Field(max_length=64, index=True)  # (show reads an application's by it)
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sha256: str = Field(max_length=64)
    filename: str | None = Field(default=None, max_length=1000)
    format: str = Field(max_length=8)
    system_id: str | None = Field(default=None, max_length=64)
    received_at: dt.datetime = Field(sa_column=_utc())
    submitted_by: str = Field(max_length=200)
    valid: bool
    errors: str | None = Field(default=None, sa_column=Column(Text))  # JSON [{where, column, message}]


class NoticeSequenceRow(SQLModel, table=True):
    """The last 文号 sequence number given out in a year; its row is locked by each allocator."""

    __tablename__ = "notice_sequence"
    year: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    last: int


class NoticeNumberRow(SQLModel, table=True):
    """A registered notice document: one (decision, kind), numbered and dated once, never reused.
    Its renditions (languages, formats) are notice rows that point here."""

    __tablename__ = "notice_number"
    __table_args__ = (
        UniqueConstraint("decision_id", "kind", name="uq_notice_number_document"),
        UniqueConstraint("year", "seq", name="uq_notice_number_seq"),
    )
    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = Field(sa_column=Column(Integer, ForeignKey("decision.id"), nullable=False))
    application_id: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=40)  # approval | denial | rectification | levy | revocation
    year: int
    seq: int
    number: str = Field(sa_column=Column(String(200), nullable=False, unique=True))
    notice_date: dt.date
    issued_at: dt.datetime = Field(sa_column=_utc())
    issued_by: str = Field(max_length=200)
    authority: str = Field(max_length=200)  # 发文机关 as printed, fixed with the number
    # A revocation: the decision that replaced this one (the notice names it).
    replaced_by_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("decision.id"), nullable=True)
    )


class NoticeRow(SQLModel, table=True):
    """A notice as issued: its exact bytes, for whoever asks later what the enterprise was told.
    Since revision 0005 each is a rendition (language, format) of one numbered document."""

    __tablename__ = "notice"
    __table_args__ = (Index("uq_notice_rendition", "number_id", "lang", "format", unique=True),)
    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = Field(sa_column=Column(Integer, ForeignKey("decision.id"), nullable=False, index=True))
    application_id: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=40)
    lang: str = Field(max_length=8)
    format: str = Field(max_length=8)
    filename: str = Field(max_length=1000)
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    notice_date: dt.date
    issued_at: dt.datetime = Field(sa_column=_utc())
    issued_by: str = Field(max_length=200)
    number_id: int | None = Field(  # None: issued before notices were numbered (revision 0005)
        default=None, sa_column=Column(Integer, ForeignKey("notice_number.id"), nullable=True)
    )


# --- coming in ---------------------------------------------------------------------
class SubmissionIn(SQLModel):
    raw: bytes
    filename: str | None = None
    submitted_by: str = Field(min_length=1, max_length=64)  # an account name
    corrects: str | None = Field(default=None, max_length=200)  # the application id this one corrects
    # one row of a batch file: {file, sha256, row, format[, cells]}, kept with the submission
    source: dict | None = None
    # a row its reader could not make a document of: [{path, message}], rejected with these unparsed
    refused: list[dict] | None = None


class TelemetryIn(SQLModel):
    raw: bytes
    filename: str | None = None
    format: str = Field(default="csv", regex="^(csv|parquet)$")
    system_id: str | None = Field(default=None, max_length=64)
    submitted_by: str = Field(min_length=1, max_length=200)


# --- going out ---------------------------------------------------------------------
class FieldError(SQLModel):
    path: str
    message: str


class SubmissionOut(SQLModel):
    id: int
    application_id: str | None
    version: int | None
    sha256: str
    filename: str | None
    received_at: dt.datetime
    submitted_by: str
    status: str  # received | rejected | pending | decided | superseded
    errors: list[FieldError] = []
    credit_code: str | None = None
    region_code: str | None = None
    enterprise_name: str | None = None


class DecisionOut(SQLModel):
    id: int
    application_id: str
    submission_id: int
    supersedes_id: int | None
    superseded_by: int | None
    in_force: bool
    state: str = "in_force"  # proposed | returned | in_force | superseded
    opinion: str | None = None  # the proposer's
    reviewer: str | None = None
    review_opinion: str | None = None
    reviewed_at: dt.datetime | None = None
    overrides: list[dict] = []
    holds: list[dict] = []
    credit_code: str
    officer: str
    decided_at: dt.datetime
    ruleset_version: str
    ruleset_digest: str
    input_sha256: str
    statuses: dict[str, str]
    totals: dict[str, str]
    history_agrees: bool | None = None
    telemetry_id: int | None = None
    metering_agrees: bool | None = None  # None: decided on declared values only


class TelemetryOut(SQLModel):
    id: int
    submission_id: int
    application_id: str
    sha256: str
    filename: str | None
    system_id: str | None
    received_at: dt.datetime
    valid: bool
    problems: list[str] = []


class AccountOut(SQLModel):
    name: str
    role: str
    display_name: str
    credit_code: str | None
    enabled: bool
    created_at: dt.datetime
    created_by: str


class AuditEntryOut(SQLModel):
    """One link of the audit chain as the log shows it: who did what to which row, and when."""

    seq: int
    at: dt.datetime
    actor: str
    actor_name: str  # the account's display name; an actor with no account (os:…, system) as itself
    action: str
    entity: str
    entity_id: str
    fieldset: str
    summary: str | None
    digest: str
    hash: str


class ReviewOut(SQLModel):
    id: int
    decision_id: int
    action: str
    reviewer: str
    opinion: str | None
    overrides: list[dict] = []
    reviewed_at: dt.datetime
    replaces_id: int | None


class NoticeOut(SQLModel):
    id: int
    decision_id: int
    kind: str
    lang: str
    format: str
    filename: str
    sha256: str
    notice_date: dt.date
    issued_at: dt.datetime
    issued_by: str
    number: str | None = None  # 文号 (None: issued before notices were numbered)


class ApplicationOut(SQLModel):
    application_id: str | None
    status: str
    enterprise_name: str | None
    credit_code: str | None
    region_code: str | None
    latest_version: int | None
    current_version: int | None = None  # the latest not rejected: what is decided
    rejected_versions: list[int] = []  # later versions rejected: listed, never hiding the current one
    received_at: dt.datetime
    decision_id: int | None = None  # in force
    proposal_id: int | None = None  # awaiting review
    statuses: dict[str, str] = {}
    versions: list[SubmissionOut] = []
    telemetry: list[TelemetryOut] = []
    decisions: list[DecisionOut] = []
    notices: list[NoticeOut] = []
