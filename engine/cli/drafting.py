"""Drafters' commands: rules validate, population generate, simulate, explain --why-not."""
from __future__ import annotations

import click

from .common import domain_errors, rulebook_options


@click.command("validate")
@rulebook_options
@domain_errors
def validate_cmd(book):
    """Find authoring mistakes: overlapping tiers, thresholds outside a field's range,
    reasons that can never fire, parameters never used. Exit 1 on any error."""
    from ..validate import validate
    found = validate(book)
    click.echo(f"ruleset {book.version}  {book.digest}")
    for f in found:
        click.echo(str(f))
    errors = sum(f.level == "error" for f in found)
    warnings = len(found) - errors
    if not found:
        click.echo("no findings")
    else:
        click.echo(f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}")
    if errors:
        raise SystemExit(1)


def register(group):
    group.commands["rules"].add_command(validate_cmd)
