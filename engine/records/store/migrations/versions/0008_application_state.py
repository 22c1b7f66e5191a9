"""Listing at scale: each application's standing in a table of its own, and compact statuses.

- ``decision.statuses`` and ``review.statuses``: ``{"outcome":"status",...}`` of the document,
  and of a review's overrides, so that listing and its --outcome filter never decode a decision
  document (filled from here on by column defaults; computed here for the rows there are).
- ``ix_telemetry_application_id``: ``show`` (and a decision) read an application's telemetry by it.
- ``application_state``: one row per application (status, region, receipt, decision in force,
  proposal), indexed for the list's filters and order. Its triggers and its rows are not made
  here: ``db.upgrade`` installs the current triggers and rebuilds the table after every
  migration (engine/records/store/state.py), so a later migration that recreates a table
  (SQLite's batch mode drops its triggers) cannot leave the table stale.

Revision ID: 0008
Revises: 0007
"""
import json

from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BATCH = 500


def _brief(statuses):
    return json.dumps(statuses, ensure_ascii=False, separators=(",", ":"))


def _decision(document):
    outcomes = json.loads(document).get("outcomes")
    return _brief({k: v["status"] for k, v in outcomes.items()}) if isinstance(outcomes, dict) else None


def _review(overrides):
    decided = {o["outcome"]: o["decided"]["status"] for o in json.loads(overrides)} if overrides else {}
    return _brief(decided) if decided else None


def _backfill(conn, table, column, summary):
    """Each row's summary, a batch of rows at a time (a decision document is kilobytes)."""
    last = 0
    while True:
        rows = conn.execute(
            sa.text(f"SELECT id, {column} FROM {table} WHERE id > :last ORDER BY id LIMIT {BATCH}"), {"last": last}
        ).all()
        if not rows:
            return
        values = [{"id": i, "s": summary(v)} for i, v in rows if v is not None]
        if values:
            conn.execute(sa.text(f"UPDATE {table} SET statuses = :s WHERE id = :id"), values)
        last = rows[-1][0]


def upgrade():
    for table in ("decision", "review"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("statuses", sa.Text, nullable=True))
    conn = op.get_bind()
    _backfill(conn, "decision", "document", _decision)
    _backfill(conn, "review", "overrides", _review)
    op.create_table(
        "application_state",
        sa.Column("submission_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("application_id", sa.String(200), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("region_code", sa.String(6), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision_id", sa.Integer, nullable=True),
        sa.Column("proposal_id", sa.Integer, nullable=True),
        sa.Column("statuses", sa.Text, nullable=True),
        sa.Column("override_statuses", sa.Text, nullable=True),
        sa.UniqueConstraint("application_id", name="uq_application_state_application"),
    )
    tail = ["received_at", "application_id", "submission_id"]
    op.create_index("ix_application_state_received", "application_state", tail)
    op.create_index("ix_application_state_status", "application_state", ["status", *tail])
    op.create_index("ix_application_state_region", "application_state", ["region_code", *tail])
    op.create_index("ix_telemetry_application_id", "telemetry", ["application_id"])


def downgrade():
    from engine.records.store import state

    state.uninstall(op.get_bind())
    op.drop_index("ix_telemetry_application_id", "telemetry")
    op.drop_table("application_state")
    for table in ("review", "decision"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("statuses")
