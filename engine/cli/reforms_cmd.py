"""shuangtan rules reforms: the reforms bundled with the rulebook, which --reform takes by name."""

from __future__ import annotations

import click

from engine.cli.common import domain_errors
from engine.i18n import language, t
from engine.resources import bundled_reforms


@click.command("reforms")
@domain_errors
def reforms_cmd() -> None:
    """The bundled reforms: name, what each changes, its source and its file.

    Every --reform (and simulate's --baseline-reform) takes a reform file or one of these names.
    """
    from engine.rulebook.reforms import load_reform

    for name, path in bundled_reforms().items():
        description, reference = load_reform(path).said(language())
        click.echo(t("rules.reform", name=name, description=description, reference=reference, file=path))


def register(group: click.Group) -> None:
    rules = group.commands["rules"]
    assert isinstance(rules, click.Group)
    rules.add_command(reforms_cmd)
