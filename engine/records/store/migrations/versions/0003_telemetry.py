"""Telemetry files attached to submissions, and which one a decision used.

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "telemetry",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("submission.id"), nullable=False),
        sa.Column("application_id", sa.String(64), nullable=False),
        sa.Column("raw", sa.LargeBinary, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(1000), nullable=True),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("system_id", sa.String(64), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by", sa.String(200), nullable=False),
        sa.Column("valid", sa.Boolean, nullable=False),
        sa.Column("errors", sa.Text, nullable=True),
    )
    op.create_index("ix_telemetry_submission_id", "telemetry", ["submission_id"])
    # No foreign key on the new column: SQLite cannot add one to an existing table, and the
    # link is checked where it is read (records.replay verifies the file's sha256).
    op.add_column("decision", sa.Column("telemetry_id", sa.Integer, nullable=True))


def downgrade():
    raise NotImplementedError("the record is never downgraded: a downgrade could lose telemetry")
