"""shuangtan telemetry summarize, and the --telemetry option of check, submit and decide."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from engine.cli.common import domain_errors, rulebook_options
from engine.errors import MeteringError
from engine.i18n import t


def telemetry_options(fn):
    """--telemetry FILE and --system ID (bad telemetry is bad input: domain_errors exits 2)."""
    fn = click.option(
        "--system", "system_id", metavar="ID", help="The storage system in the telemetry file, when it holds several."
    )(fn)
    return click.option(
        "--telemetry",
        "telemetry_path",
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        help="Metering intervals (CSV or Parquet) of the storage system: the facts derived "
        "from them replace the declared ones, and differences are explained.",
    )(fn)


def read_for(book, when: dt.date, path: Path):
    from engine.telemetry.crosscheck import interval_minutes
    from engine.telemetry.reader import read_telemetry

    return read_telemetry(path, interval_minutes(book, when))


@click.group()
def telemetry():
    """Metered intervals from the provincial platform."""


@telemetry.command()
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--from",
    "start",
    type=click.DateTime(["%Y-%m-%d"]),
    help="First day of the period (default: the first day in the file).",
)
@click.option(
    "--to",
    "end",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Last day of the period (default: the last day in the file); the window and interval "
    "are the parameters in force on it.",
)
@click.option("--system", "system_id", metavar="ID", help="The storage system, when the file holds several.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@rulebook_options
@domain_errors
def summarize(file, start, end, system_id, fmt, book):
    """Print the facts derived from a telemetry FILE (CSV or Parquet) and its gaps.

    Exit 2 when the file is invalid: every bad row is named by line (or row) and column.
    """
    from engine.telemetry.crosscheck import settings_at
    from engine.telemetry.metering import derive
    from engine.telemetry.reader import read_telemetry

    # errors reach domain_errors: bad telemetry exits 2 with every problem named
    on = end.date() if end else _latest(book)
    settings = settings_at(book, on)
    tel = read_telemetry(file, settings.interval_minutes)
    if not tel.intervals:
        raise MeteringError(f"{tel.source} holds no interval")
    first = start.date() if start else min(i.start for i in tel.intervals).date()
    last = end.date() if end else max(i.start for i in tel.intervals).date()
    if last < first:
        raise click.BadParameter(t("telemetry.to_before_from", to=last, start=first), param_hint="--to")
    if not end:
        settings = settings_at(book, last)
    facts = derive(tel, first, last, settings, system_id)
    doc = {"file": tel.source, "sha256": tel.sha256, "rows": len(tel.intervals), **facts.as_dict()}
    if fmt == "json":
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    from engine.telemetry.report import facts_lines

    click.echo(t("telemetry.summary", source=tel.source, n=f"{len(tel.intervals):,}", digest=tel.sha256[:12]))
    click.echo("\n".join(facts_lines(facts.as_dict())))


def _latest(book) -> dt.date:
    """The date the newest metering parameter takes effect: the rules a summary without --to uses."""
    return max(h[0] for name, p in book.params.items() if name.startswith("metering.") for h in p.history)


def register(group):
    group.add_command(telemetry)
