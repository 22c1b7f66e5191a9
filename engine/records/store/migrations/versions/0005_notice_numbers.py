"""Notices as registered documents: a 文号 per (decision, kind) from a per-year sequence.

A document is numbered and dated once (``notice_number``); each language and format issued is
a ``notice`` row pointing at it, stored once (unique per number, language and format). Notices
issued before this revision keep no number (``number_id`` NULL): they were printed with the
old ``APP-D<id>-KIND`` reference, which is what a later revocation names for them.

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notice_sequence",
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("last", sa.Integer, nullable=False),
    )
    op.create_table(
        "notice_number",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("decision_id", sa.Integer, sa.ForeignKey("decision.id"), nullable=False),
        sa.Column("application_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("number", sa.String(200), nullable=False, unique=True),
        sa.Column("notice_date", sa.Date, nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(200), nullable=False),
        sa.Column("authority", sa.String(200), nullable=False),
        sa.Column("replaced_by_id", sa.Integer, sa.ForeignKey("decision.id"), nullable=True),
        sa.UniqueConstraint("decision_id", "kind", name="uq_notice_number_document"),
        sa.UniqueConstraint("year", "seq", name="uq_notice_number_seq"),
    )
    op.create_index("ix_notice_number_application_id", "notice_number", ["application_id"])
    if op.get_bind().dialect.name == "sqlite":
        # SQLite takes REFERENCES in ADD COLUMN but no ALTER of a constraint: this spares copying
        # every stored notice (what batch mode would do) to add one nullable column.
        op.execute("ALTER TABLE notice ADD COLUMN number_id INTEGER REFERENCES notice_number (id)")
    else:
        op.add_column("notice", sa.Column("number_id", sa.Integer, sa.ForeignKey("notice_number.id"), nullable=True))
    op.create_index("uq_notice_rendition", "notice", ["number_id", "lang", "format"], unique=True)


def downgrade():
    raise NotImplementedError("the record is never downgraded: a downgrade could lose notice numbers")
