"""Accounts, four-eyes review, corrections, periods and the audit chain.

A decision row becomes the engine's *proposal*; a review row (one per proposal) confirms or
returns it. In force = confirmed and not replaced by a later confirmation (``review.replaces_id``
is unique: two confirmations can never both take the same decision out of force). Decisions made
before this revision were final when made: each gets a confirming review by its own officer.

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "account",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("credit_code", sa.String(18), nullable=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("secret_hash", sa.String(400), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
    )
    op.add_column("submission", sa.Column("corrects", sa.String(200), nullable=True))
    op.add_column("submission", sa.Column("period_start", sa.Date, nullable=True))
    op.add_column("decision", sa.Column("replaces_id", sa.Integer, nullable=True))
    op.add_column("decision", sa.Column("period_start", sa.Date, nullable=True))
    op.add_column("decision", sa.Column("period_end", sa.Date, nullable=True))
    op.add_column("decision", sa.Column("opinion", sa.Text, nullable=True))
    op.add_column("decision", sa.Column("holds", sa.Text, nullable=True))
    op.create_table(
        "review",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("decision_id", sa.Integer, sa.ForeignKey("decision.id"), nullable=False, unique=True),
        sa.Column("application_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("opinion", sa.Text, nullable=True),
        sa.Column("overrides", sa.Text, nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaces_id", sa.Integer, sa.ForeignKey("decision.id"), nullable=True, unique=True),
        sa.Column("storage_granted_yuan", sa.String(32), nullable=False),
        sa.Column("freight_granted_yuan", sa.String(32), nullable=False),
        sa.Column("equipment_granted", sa.Boolean, nullable=False),
        sa.Column("subsidy_yuan", sa.String(32), nullable=False),
        sa.Column("levy_yuan", sa.String(32), nullable=False),
    )
    op.create_index("ix_review_application_id", "review", ["application_id"])
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.String(200), nullable=False),
        sa.Column("fieldset", sa.String(40), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("summary", sa.Text, nullable=True),
    )
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_id"])
    # One row: the chain's head, locked by every writer that appends (serialises the chain).
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.execute("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '" + "0" * 64 + "')")
    conn = op.get_bind()
    decisions = conn.execute(
        sa.text(
            "SELECT id, application_id, officer, decided_at, supersedes_id, storage_granted_yuan, "
            "freight_granted_yuan, equipment_granted, document FROM decision ORDER BY id"
        )
    ).fetchall()
    import json

    for d in decisions:
        from decimal import Decimal

        doc = json.loads(d.document)
        fallback = str(Decimal(d.storage_granted_yuan) + Decimal(d.freight_granted_yuan))
        totals = doc.get("totals") if isinstance(doc, dict) else None
        totals = totals or {"subsidy_yuan": fallback, "levy_yuan": "0.00"}
        conn.execute(
            sa.text(
                "INSERT INTO review (decision_id, application_id, action, reviewer, opinion, reviewed_at, "
                "replaces_id, storage_granted_yuan, freight_granted_yuan, equipment_granted, subsidy_yuan, "
                "levy_yuan) VALUES (:d, :a, 'confirm', :o, :op, :t, :r, :s, :f, :e, :sub, :levy)"
            ),
            dict(
                d=d.id,
                a=d.application_id,
                o=d.officer,
                op="decided before four-eyes review existed (migration 0004)",
                t=d.decided_at,
                r=d.supersedes_id,
                s=d.storage_granted_yuan,
                f=d.freight_granted_yuan,
                e=d.equipment_granted,
                sub=totals["subsidy_yuan"],
                levy=totals["levy_yuan"],
            ),
        )
        conn.execute(sa.text("UPDATE decision SET replaces_id = supersedes_id WHERE id = :d"), dict(d=d.id))
    # Periods, for the one-period-one-payment rule: read from the documents already validated.
    import datetime as dt

    for sub in conn.execute(sa.text("SELECT id, raw FROM submission WHERE valid")).fetchall():
        try:
            period = json.loads(bytes(sub.raw))["period"]
            start, end = dt.date.fromisoformat(period["start"]), dt.date.fromisoformat(period["end"])
        except (ValueError, KeyError, TypeError):
            continue  # not a document this revision can read: its decisions keep no period
        conn.execute(sa.text("UPDATE submission SET period_start = :s WHERE id = :i"), dict(s=start, i=sub.id))
        conn.execute(
            sa.text("UPDATE decision SET period_start = :s, period_end = :e WHERE submission_id = :i"),
            dict(s=start, e=end, i=sub.id),
        )


def downgrade():
    raise NotImplementedError("the record is never downgraded: a downgrade could lose reviews and the audit chain")
