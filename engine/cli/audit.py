"""shuangtan audit: check the record's tamper evidence, and read who did what when."""

from __future__ import annotations

import datetime as dt
import sys

import click

from engine.cli.common import domain_errors
from engine.cli.opening import reading_store
from engine.cli.saying import pad, width
from engine.cst import CST, shown_time
from engine.i18n import t
from engine.records.audit import ENTITIES, log
from engine.records.audit import verify as verify_chain


@click.group()
def audit():
    """The audit chain: every write to the record, linked so that a change behind its back shows."""


@audit.command()
@domain_errors  # outside reading_store, which names a failing record first
@reading_store
def verify(store):
    """Walk the chain and check every row against it; exit 1 listing what is wrong, first first.

    The head printed is worth writing down elsewhere: a chain rewritten whole from some link on
    verifies again, but no longer ends at that head.
    """
    r = verify_chain(store)
    head = t("record_cli.audit.head", hash=r.head_hash, seq=r.head_seq) if r.head_hash else ""
    if r.ok:
        click.echo(t("record_cli.audit.intact", links=r.links, rows=r.rows, head=head))
        return
    click.echo(t("record_cli.audit.broken", n=len(r.findings), links=r.links, rows=r.rows, head=head))
    first = t("record_cli.audit.first")
    for i, f in enumerate(r.findings):
        click.echo((first if i == 0 else pad("", width(first))) + f.message)
    sys.exit(1)


def _when(ctx, param, value):
    """YYYY-MM-DD (a day in China Standard Time) or YYYY-MM-DDTHH:MM[:SS] (CST unless it says otherwise)."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value)
        at = dt.datetime.fromisoformat(value)
        return at if at.tzinfo else at.replace(tzinfo=CST)
    except ValueError:
        raise click.BadParameter(t("record_cli.audit.not_when", value=repr(value))) from None


@audit.command("log")
@click.option("--since", callback=_when, metavar="WHEN", help="On or after: YYYY-MM-DD or YYYY-MM-DDTHH:MM (CST).")
@click.option("--until", callback=_when, metavar="WHEN", help="On or before: YYYY-MM-DD or YYYY-MM-DDTHH:MM (CST).")
@click.option("--actor", metavar="NAME", help="Only what NAME did (an account, os:USER or system).")
@click.option("--entity", type=click.Choice(list(ENTITIES)), help="Only links to this kind of row.")
@click.option("--id", "entity_id", metavar="ID", help="Only links to this row (with --entity).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@domain_errors  # outside reading_store, which names a failing record first
@reading_store
def log_cmd(since, until, actor, entity, entity_id, fmt, store):
    """Who did what to which row and when, oldest first (times in China Standard Time)."""
    if entity_id is not None and entity is None:
        raise click.UsageError(t("record_cli.audit.id_needs_entity"))
    entries = log(store, since, until, actor, entity, entity_id)
    for e in entries:
        if fmt == "json":
            click.echo(e.model_dump_json())
            continue
        who = e.actor if e.actor_name == e.actor else f"{e.actor} ({e.actor_name})"
        click.echo(
            t(
                "record_cli.audit.entry",
                seq=f"{e.seq:>6}",
                at=shown_time(e.at),
                who=f"{who:24}",
                action=f"{e.action:16}",
                entity=t(f"record_cli.audit.entity.{e.entity}") if e.entity in ENTITIES else e.entity,
                id=e.entity_id,
                fieldset=e.fieldset,
            )
            + (f"  {e.summary}" if e.summary else "")  # as the chain keeps it
        )
    if fmt == "text":
        click.echo(t("record_cli.audit.links", n=len(entries)))


def register(group):
    group.add_command(audit)
