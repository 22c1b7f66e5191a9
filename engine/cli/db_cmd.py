"""shuangtan db: the record's schema (commands that only read never migrate; this one does)."""

from __future__ import annotations

import click

from engine.cli.common import domain_errors
from engine.cli.opening import with_reading, with_store
from engine.i18n.catalogue import t
from engine.records.store.direct import head_revision


@click.group()
def db():
    """The record's schema: its revision, and bringing it to this shuangtan's."""


@db.command()
@domain_errors  # outside with_store, which names a failing record first
@with_store
def upgrade(store):
    """Bring the record's schema to this shuangtan's revision (creating the record if there is none).

    Every command that writes does the same first; list, show, export and audit do not, and
    refuse a record at another revision.
    """
    from engine.cli.opening import masked_url

    click.echo(t("record_cli.db.upgraded", url=masked_url(store.url), head=head_revision()))


@db.command()
@domain_errors  # outside with_reading, which names a failing record first
@with_reading
def status(reading):
    """Whether read-only commands can read the record: its schema revision is this shuangtan's
    (else exit 2, naming the record's revision and what to run)."""
    current = reading.rows("SELECT version_num FROM alembic_version")[0][0]
    click.echo(t("record_cli.db.status", current=current))


def register(group):
    group.add_command(db)
