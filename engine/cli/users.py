"""shuangtan users: the accounts that may act on the record (add, list, disable).

Setting up accounts is the deployment's own act, done by whoever holds the database: the
record names the operating-system user who did it (``os:NAME``), as the audit chain does.
"""

from __future__ import annotations

import contextlib

import click

from engine.cli import saying
from engine.cli.common import InputError, domain_errors
from engine.cli.records import with_store
from engine.cst import shown_time
from engine.errors import AccountRefused
from engine.i18n import language, t
from engine.records.accounts import ROLES, add_account, disable_account, list_accounts
from engine.records.common import default_person


def _actor() -> str:
    return f"os:{default_person()}"


@contextlib.contextmanager
def _refusals():
    """A refused account change is the user's input to fix: one line, exit 2."""
    try:
        yield
    except AccountRefused as exc:
        raise InputError(exc.said()) from None


def _role(role: str) -> str:
    """An account's role: its code in English (as always), its name in Chinese."""
    return role if language() == "en" else t(f"records.term.{role}")


@click.group()
def users():
    """Accounts that may act on the record: officers, reviewers, enterprises…"""


@users.command()
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the account may do.")
@click.option(
    "--display-name", default=None, metavar="TEXT", help="The person's name as shown, e.g. 王芳 (default: NAME)."
)
@click.option("--credit-code", default=None, metavar="CODE", help="An enterprise account's unified social credit code.")
@domain_errors  # outside with_store, which names a failing record first
@with_store
def add(name, role, display_name, credit_code, store):
    """Add an account NAME (lower-case letters, digits, '.', '_', '-'); names are never reused."""
    with _refusals():
        a = add_account(store, name, role, _actor(), display_name=display_name, credit_code=credit_code)
    credit = t("record_cli.users.for_credit", code=a.credit_code) if a.credit_code else ""
    click.echo(t("record_cli.users.added", name=a.name, role=_role(a.role), display=a.display_name, credit=credit))


@users.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@domain_errors  # outside with_store, which names a failing record first
@with_store
def list_cmd(fmt, store):
    """Every account, enabled or not (times in China Standard Time)."""
    accounts = list_accounts(store)
    for a in accounts:
        if fmt == "json":
            click.echo(a.model_dump_json())
            continue
        click.echo(
            t(
                "record_cli.users.line",
                name=f"{a.name:16}",
                role=saying.pad(_role(a.role), 10),
                enabled=saying.pad(t("record_cli.users.enabled" if a.enabled else "record_cli.users.disabled_word"), 8),
                credit=f"{a.credit_code or '-':18}",
                at=shown_time(a.created_at),
                by=a.created_by,
                display=a.display_name,
            )
        )
    if fmt == "text":
        click.echo(t("record_cli.users.count", n=len(accounts)))


@users.command()
@click.argument("name")
@domain_errors  # outside with_store, which names a failing record first
@with_store
def disable(name, store):
    """Disable an account: it can act no more, and its name stays in the record."""
    with _refusals():
        a = disable_account(store, name, _actor())
    click.echo(t("record_cli.users.disabled", name=a.name))


def register(group):
    group.add_command(users)
