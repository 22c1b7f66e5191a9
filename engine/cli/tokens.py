"""shuangtan tokens: the API tokens of the record's accounts (issue, revoke).

Like ``users``, the deployment's own act: the audit chain names the operating-system user.
"""

from __future__ import annotations

import click

from engine.cli.common import InputError, domain_errors
from engine.cli.records import with_store
from engine.errors import AccountRefused
from engine.i18n import t
from engine.records.common import default_person


@click.group()
def tokens():
    """Bearer tokens for the web API (`shuangtan serve`): one per account, stored only as a hash."""


@tokens.command()
@click.argument("name")
@domain_errors
@with_store
def issue(name, store):
    """Issue a token for account NAME and print it, once: it is not kept, only its hash.
    Issuing again replaces the account's token."""
    from engine.service import tokens as service_tokens

    try:
        token = service_tokens.issue(store, name, f"os:{default_person()}")
    except AccountRefused as exc:
        raise InputError(exc.said()) from None
    click.echo(token)
    click.echo(t("record_cli.tokens.issued", name=name), err=True)


@tokens.command()
@click.argument("name")
@domain_errors
@with_store
def revoke(name, store):
    """Revoke account NAME's token: requests with it are refused from now on."""
    from engine.service import tokens as service_tokens

    try:
        had = service_tokens.revoke(store, name, f"os:{default_person()}")
    except AccountRefused as exc:
        raise InputError(exc.said()) from None
    click.echo(t("record_cli.tokens.revoked" if had else "record_cli.tokens.none", name=name))


def register(group):
    group.add_command(tokens)
