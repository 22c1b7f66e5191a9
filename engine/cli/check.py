"""shuangtan check: decide one application."""

from __future__ import annotations

import json

import click

from engine.backends.rete.engine import ReteEngine
from engine.batch.readers import detect_format
from engine.cli.common import domain_errors, partial_option, read_input, rulebook_options
from engine.cli.summary import render_text
from engine.cli.tables_opts import encoding_option
from engine.cli.telemetry import read_for, telemetry_options
from engine.contract.application import parse_application

#: the formats of a FILE checked row by row (engine/batch/readers.py reads them, as for evaluate)
TABLES = ("csv", "xlsx")


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
@encoding_option
@rulebook_options
@domain_errors
def check(file, fmt, book, telemetry_path, system_id, partial, encoding):
    """Decide one application (FILE, or - for standard input).

    Exit 0 when a decision was made, whatever it says; 2 when the input is invalid (every
    offending field is named on standard error).

    With --telemetry, the storage system's metered intervals decide its peaks, discharged
    energy, reporting completeness and upload delay; a declaration that differs from the meter
    beyond its tolerance is named in the decision (DECLARED_DIFFERS_FROM_METERED).

    With --partial, a field left out is unknown: each outcome is settled when no value of the
    unknown fields could change it, else undetermined with what it needs; the next questions
    follow.

    A CSV or XLSX FILE (dotted or labelled columns, as evaluate reads them) is checked row by
    row: one row like the JSON; several, each row's summary in turn (JSON: an array).
    """
    if file != "-" and detect_format(file) in TABLES:
        from engine.cli.check_rows import check_rows

        check_rows(file, fmt, book, telemetry_path, system_id, partial, encoding)
        return
    decide_one(read_input(file), fmt, book, telemetry_path, system_id, partial)


def decide_one(body, fmt, book, telemetry_path, system_id, partial) -> None:
    """Decide one document (bytes of JSON, or a table row's document) and print it in ``fmt``."""
    click.echo(decided_text(body, fmt, book, telemetry_path, system_id, partial))


def decided_text(body, fmt, book, telemetry_path, system_id, partial) -> str:
    decision, app, unknown = decide_document(body, book, telemetry_path, system_id, partial)
    if fmt == "json":
        return json.dumps(decision, ensure_ascii=False, indent=2)
    return render_text(decision, app, unknown, book)


def decide_document(body, book, telemetry_path, system_id, partial):
    """(decision, application, unknown fields) of one document; the contract's errors raised."""
    if partial:
        from engine.partial import decide_partial, parse_partial_application

        given = parse_partial_application(body)
        tel = read_for(book, given.app.period.end, telemetry_path) if telemetry_path is not None else None
        return decide_partial(book, given, tel, system_id), given.app, given.unknown
    app = parse_application(body)
    engine = ReteEngine.for_rulebook(book)
    if telemetry_path is not None:
        from engine.telemetry.crosscheck import decide_metered

        decision = decide_metered(engine, book, app, read_for(book, app.period.end, telemetry_path), system_id)
    else:
        decision = engine.decide(app)
    return decision, app, frozenset()


def register(group):
    group.add_command(check)
