"""shuangtan users: the accounts that may act on the record (add, list, disable).

Setting up accounts is the deployment's own act, done by whoever holds the database: the
record names the operating-system user who did it (``os:NAME``), as the audit chain does.
"""

from __future__ import annotations

import contextlib

import click

from engine.cli.common import InputError, domain_errors
from engine.cli.records import with_store
from engine.cst import shown_time
from engine.errors import AccountRefused
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
    click.echo(f"added {a.name} ({a.role}, {a.display_name})" + (f" for {a.credit_code}" if a.credit_code else ""))


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
            f"{a.name:16} {a.role:10} {'enabled' if a.enabled else 'DISABLED':8} {a.credit_code or '-':18} "
            f"added {shown_time(a.created_at)} by {a.created_by}  {a.display_name}"
        )
    if fmt == "text":
        click.echo(f"{len(accounts)} account(s)")


@users.command()
@click.argument("name")
@domain_errors  # outside with_store, which names a failing record first
@with_store
def disable(name, store):
    """Disable an account: it can act no more, and its name stays in the record."""
    with _refusals():
        a = disable_account(store, name, _actor())
    click.echo(f"{a.name} is disabled")


def register(group):
    group.add_command(users)
