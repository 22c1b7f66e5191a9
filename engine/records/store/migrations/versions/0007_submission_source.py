"""Batch submission: where a submission came from when it was one row of a file.

``source`` is JSON text (NULL for a submission that was a file of its own): the file's name and
SHA-256, the row number and format, and for a spreadsheet row its cells as received, so the
row can be shown exactly as the enterprise sent it beside the application document read from it.

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("submission") as batch:
        batch.add_column(sa.Column("source", sa.Text, nullable=True))


def downgrade():
    with op.batch_alter_table("submission") as batch:
        batch.drop_column("source")
