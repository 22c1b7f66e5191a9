"""shuangtan rules reforms: the reforms bundled with the rulebook, which --reform takes by name."""

from __future__ import annotations

import click

from engine.cli.common import domain_errors
from engine.resources import bundled_reforms


@click.command("reforms")
@domain_errors
def reforms_cmd() -> None:
    """The bundled reforms: name, what each changes, its source and its file.

    Every --reform (and simulate's --baseline-reform) takes a reform file or one of these names.
    """
    from engine.rulebook.reforms import load_reform

    for name, path in bundled_reforms().items():
        reform = load_reform(path)
        click.echo(f"{name}\n  {reform.description}\n  reference: {reform.reference}\n  file: {path}")


def register(group: click.Group) -> None:
    rules = group.commands["rules"]
    assert isinstance(rules, click.Group)
    rules.add_command(reforms_cmd)
