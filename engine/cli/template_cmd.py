"""shuangtan template: the application template an enterprise fills in (XLSX)."""

from __future__ import annotations

from pathlib import Path

import click

from engine.atomic import open_replacing
from engine.cli.common import OutputPath, domain_errors, writing
from engine.cli.tables_opts import output_format
from engine.i18n import t


@click.command("template")
@click.option(
    "--out",
    "out_path",
    required=True,
    type=OutputPath(),
    help="The workbook to write (.xlsx), e.g. 申报模板.xlsx.",
)
@domain_errors
def template(out_path: Path):
    """The application template (XLSX): bilingual headers, drop-downs, formats and a 说明 sheet."""
    from engine.tables.template import write

    output_format(out_path, ("xlsx",))
    with writing(out_path, "--out"), open_replacing(out_path, "wb") as stream:
        columns = write(stream)
    click.echo(t("tables.template.written", path=out_path, columns=columns))


def register(group):
    group.add_command(template)
