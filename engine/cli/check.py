"""shuangtan check: decide one application."""
from __future__ import annotations

import json

import click

from ..application import parse_application
from ..rete import ReteEngine
from ..textreport import render_text
from .common import domain_errors, read_input, rulebook_options


@click.command()
@click.argument("file", metavar="FILE|-")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: a bilingual summary for a person; json: the decision document of CONTRACT.md.")
@rulebook_options
@domain_errors
def check(file, fmt, book):
    """Decide one application (FILE, or - for standard input).

    Exit 0 when a decision was made, whatever it says; 2 when the input is invalid (every
    offending field is named on standard error).
    """
    app = parse_application(read_input(file))
    decision = ReteEngine.for_rulebook(book).decide(app)
    if fmt == "json":
        click.echo(json.dumps(decision, ensure_ascii=False, indent=2))
    else:
        click.echo(render_text(decision, app))


def register(group):
    group.add_command(check)
