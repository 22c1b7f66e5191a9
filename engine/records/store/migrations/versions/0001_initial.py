"""Submissions, enterprises, ruleset snapshots and decisions.

Revision ID: 0001
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "enterprise",
        sa.Column("credit_code", sa.String(18), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("first_seen", UTC, nullable=False),
    )
    op.create_table(
        "submission",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("application_id", sa.String(200), nullable=True),
        sa.Column("version", sa.Integer, nullable=True),
        sa.Column("raw", sa.LargeBinary, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(1000), nullable=True),
        sa.Column("received_at", UTC, nullable=False),
        sa.Column("submitted_by", sa.String(200), nullable=False),
        sa.Column("validated", sa.Boolean, nullable=False),
        sa.Column("valid", sa.Boolean, nullable=True),
        sa.Column("errors", sa.Text, nullable=True),
        sa.Column("credit_code", sa.String(18), nullable=True),
        sa.Column("region_code", sa.String(6), nullable=True),
        sa.Column("enterprise_name", sa.String(200), nullable=True),
        sa.Column("period_end", sa.Date, nullable=True),
        sa.UniqueConstraint("application_id", "version", name="uq_submission_version"),
    )
    op.create_index("ix_submission_application_id", "submission", ["application_id"])
    op.create_index("ix_submission_sha256", "submission", ["sha256"])
    op.create_index("ix_submission_credit_code", "submission", ["credit_code"])
    op.create_table(
        "ruleset_snapshot",
        sa.Column("digest", sa.String(80), primary_key=True),
        sa.Column("version", sa.String(40), nullable=False),
        sa.Column("files", sa.Text, nullable=False),
        sa.Column("stored_at", UTC, nullable=False),
    )
    op.create_table(
        "decision",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("submission.id"), nullable=False),
        sa.Column("application_id", sa.String(64), nullable=False),
        sa.Column("supersedes_id", sa.Integer, sa.ForeignKey("decision.id"), nullable=True, unique=True),
        sa.Column("credit_code", sa.String(18), nullable=False),
        sa.Column("period_year", sa.Integer, nullable=False),
        sa.Column("ruleset_version", sa.String(40), nullable=False),
        sa.Column("ruleset_digest", sa.String(80), sa.ForeignKey("ruleset_snapshot.digest"), nullable=False),
        sa.Column("input_sha256", sa.String(64), nullable=False),
        sa.Column("officer", sa.String(200), nullable=False),
        sa.Column("decided_at", UTC, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("storage_granted_yuan", sa.String(32), nullable=False),
        sa.Column("freight_granted_yuan", sa.String(32), nullable=False),
        sa.Column("equipment_granted", sa.Boolean, nullable=False),
    )
    op.create_index("ix_decision_application_id", "decision", ["application_id"])
    op.create_index("ix_decision_credit_code", "decision", ["credit_code"])


def downgrade():
    raise NotImplementedError("the record is never downgraded: a downgrade could lose decisions")
