"""shuangtan check: decide one application."""

from __future__ import annotations

import json

import click

from engine.backends.rete.engine import ReteEngine
from engine.cli.common import domain_errors, partial_option, read_input, rulebook_options
from engine.cli.summary import render_text
from engine.cli.telemetry import read_for, telemetry_options
from engine.contract.application import parse_application


@click.command()
@click.argument("file", metavar="FILE|-")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: a bilingual summary for a person; json: the decision document of docs/contract.md.",
)
@partial_option
@telemetry_options
@rulebook_options
@domain_errors
def check(file, fmt, book, telemetry_path, system_id, partial):
    """Decide one application (FILE, or - for standard input).

    Exit 0 when a decision was made, whatever it says; 2 when the input is invalid (every
    offending field is named on standard error).

    With --telemetry, the storage system's metered intervals decide its peaks, discharged
    energy, reporting completeness and upload delay; a declaration that differs from the meter
    beyond its tolerance is named in the decision (DECLARED_DIFFERS_FROM_METERED).

    With --partial, a field left out is unknown: each outcome is settled when no value of the
    unknown fields could change it, else undetermined with what it needs; the next questions
    follow.
    """
    if partial:
        from engine.partial import decide_partial, parse_partial_application

        given = parse_partial_application(read_input(file))
        tel = read_for(book, given.app.period.end, telemetry_path) if telemetry_path is not None else None
        decision = decide_partial(book, given, tel, system_id)
        if fmt == "json":
            click.echo(json.dumps(decision, ensure_ascii=False, indent=2))
        else:
            click.echo(render_text(decision, given.app, given.unknown, book))
        return
    app = parse_application(read_input(file))
    engine = ReteEngine.for_rulebook(book)
    if telemetry_path is not None:
        from engine.telemetry.crosscheck import decide_metered

        decision = decide_metered(engine, book, app, read_for(book, app.period.end, telemetry_path), system_id)
    else:
        decision = engine.decide(app)
    if fmt == "json":
        click.echo(json.dumps(decision, ensure_ascii=False, indent=2))
    else:
        click.echo(render_text(decision, app, book=book))


def register(group):
    group.add_command(check)
