"""Chain the rows recorded before the audit chain existed, so that an upgraded record verifies.

Each earlier row gets one link by the actor ``migration``, with its digest as it stands at the
upgrade: the chain vouches for the record from this moment on; what happened to those rows
before it cannot be proven now, and the links say so (action ``migrate``).

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy import select
from sqlalchemy.orm import load_only
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: (entity, fieldset, only rows for which this holds), in the order the record made them
ORDER = (
    ("account", "state", None),
    ("submission", "received", None),
    ("submission", "verdict", lambda r: r.validated),
    ("telemetry", "received", None),
    ("telemetry", "verdict", None),
    ("decision", "proposal", None),
    ("review", "review", None),
    ("notice_number", "allocated", None),
    ("notice", "issued", None),
)


def upgrade():
    from engine.records import audit
    from engine.records.store.models import AuditRow

    bind = op.get_bind()
    s = Session(bind=bind)
    linked = {(a.entity, a.entity_id, a.fieldset) for a in s.execute(select(AuditRow)).scalars()}
    for entity, fieldset, wanted in ORDER:
        cls, key_of = audit.ENTITIES[entity]
        key = cls.__table__.primary_key.columns.values()[0]
        # The models are today's: a column added by a later revision is not in the table yet,
        # so only the columns there are read and the later ones are None, as they were then.
        present = {c["name"] for c in sa.inspect(bind).get_columns(cls.__tablename__)}
        later = [c.name for c in cls.__table__.columns if c.name not in present]
        stmt = select(cls).options(load_only(*(getattr(cls, c) for c in present))).order_by(key)
        for row in s.execute(stmt).scalars():
            for name in later:
                set_committed_value(row, name, None)
            if (entity, key_of(row), fieldset) in linked or (wanted is not None and not wanted(row)):
                continue
            audit.append(s, "migration", "migrate", entity, row, fieldset, "recorded before the audit chain")
    s.flush()


def downgrade():
    raise NotImplementedError("the record is never downgraded: a downgrade could lose the audit chain")
