"""``list --outcome`` at scale: each application's outcomes as indexed rows.

- ``application_outcome``: (current version's key, outcome, status shown), indexed by outcome and
  status, so that selecting and counting the applications with an outcome's status is an index
  range, not a scan of every application's summary. Its rows, like ``application_state``'s, are
  not made here: ``db.upgrade`` installs the current triggers (state.py, version 4: those on
  ``application_state`` keep this table) and rebuilds both tables after every migration.

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "application_outcome",
        sa.Column("submission_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("outcome", sa.Text, primary_key=True),
        sa.Column("status", sa.String(32), nullable=False),
    )
    op.create_index("ix_application_outcome_status", "application_outcome", ["outcome", "status", "submission_id"])


def downgrade():
    from engine.records.store import state

    state.uninstall(op.get_bind())  # those on application_state write the table dropped here
    op.drop_index("ix_application_outcome_status", "application_outcome")
    op.drop_table("application_outcome")
