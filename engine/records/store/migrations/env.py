"""Alembic environment: run on the connection ``db.upgrade`` hands over (no alembic.ini needed)."""

from alembic import context
from sqlmodel import SQLModel

from engine.records.store import models  # noqa: F401  (registers the tables on SQLModel.metadata)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through engine.records.store.db.upgrade(), which supplies the connection")
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
