"""shuangtan rules list / show / doc: what the engine believes, with sources."""

from __future__ import annotations

import datetime as dt

import click

from engine.cli.common import domain_errors, rulebook_options
from engine.decimals import fmt_plain


@click.group()
def rules():
    """Inspect the rulebook."""


@rules.command("list")
@rulebook_options
def list_rules(book):
    """The outcomes, their kind, source and reason codes."""
    click.echo(f"ruleset {book.version}  {book.digest}")
    click.echo(f"in force from {book.first_date.isoformat()}")
    for o in book.outcomes:
        codes = [e.code for e in book.exceptions] + [e.code for e in o.applies] + [c.code for c in o.criteria]
        codes += [t.reason for t in o.tables] + (["CAPPED"] if o.amount and o.amount.cap is not None else [])
        click.echo(f"\n{o.name}  [{o.kind}{', ' + o.unit if o.unit else ''}]  {o.title['zh']} / {o.title['en']}")
        click.echo(f"  source: {o.source}   file: {o.file}")
        click.echo(f"  reasons: {', '.join(codes)}")
        held = _plausibility_checks(book, o.name)
        if held:
            click.echo(f"  held for an officer (plausibility): {', '.join(c.code for c in held)}")


@rules.command("show")
@click.argument("outcome")
@click.option(
    "--on",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Show the parameters in force on this date (default: today).",
)
@rulebook_options
@domain_errors
def show(outcome, on, book):
    """One outcome: its clause, criteria, tiers and the parameters in force on a date."""
    try:
        o = book.outcome(outcome)
    except KeyError:
        raise click.BadParameter(
            f"unknown outcome {outcome!r}; one of: " + ", ".join(x.name for x in book.outcomes), param_hint="OUTCOME"
        ) from None
    from engine.rulebook.doc import show_test

    when = on.date() if on else dt.date.today()
    params = book.params_at(when)
    click.echo(f"{o.name}  {o.title['zh']} / {o.title['en']}  [{o.kind}]")
    click.echo(f"source: {o.source} ({book.sources[o.source.split(';')[0].strip()]['section']})")
    click.echo(f"clause: {o.clause}")
    click.echo("\napplies unless (not_applicable):")
    for e in list(book.exceptions) + list(o.applies):
        click.echo(f"  {e.code}: {e.message['en']}")
    if o.tables:
        for t in o.tables:
            click.echo(f"\ntable {t.name} (input {t.input_name}, hit policy first, {t.unit}):")
            for r in t.rows:
                click.echo(
                    f"  {r.id}: {t.input_name} ≥ {_val(r.min, book, when)} → {_val(r.output, book, when)} {t.unit}"
                )
    click.echo("\ncriteria (each failing one is a reason):")
    for c in o.criteria:
        click.echo(f"  {c.code}  ({c.rule})  clause: {c.clause}")
    held = _plausibility_checks(book, o.name)
    if held:
        click.echo("\nplausibility checks (each failing one holds the outcome for an officer):")
        for c in held:
            click.echo(f"  {c.code}  ({c.rule})  test: {show_test(c.test)}")
            click.echo(f"      clause: {c.clause}")
    click.echo(f"\nparameters in force on {when.isoformat()}:")
    for name in sorted(o.params().union(*(c.params() for c in held))):
        p = book.params[name]
        _, start = params[name]
        shown = p.literal_at(when)
        click.echo(f"  {name} = {shown} {p.unit}  (since {start.isoformat()}; {p.reference})")
        click.echo(f"      {p.description}")


@rules.command("doc")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write the reference here (e.g. docs/rulebook.md) instead of standard output.",
)
@rulebook_options
@domain_errors
def doc(out, book):
    """The rulebook as a Markdown reference, generated from the rule files (deterministic)."""
    from pathlib import Path

    from engine.rulebook.doc import rulebook_markdown

    text = rulebook_markdown(book)
    if out is None:
        click.echo(text, nl=False)
        return
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(text, encoding="utf-8")
    click.echo(f"wrote {out} ({len(text.splitlines())} lines, ruleset {book.version})", err=True)


def _plausibility_checks(book, outcome: str) -> list:
    """The checks of rules/plausibility.yaml that hold ``outcome``, in file order."""
    return [c for c in book.plausibility.checks if c.outcome == outcome] if book.plausibility else []


def _val(term, book, when):
    name = getattr(term, "name", None)
    if name in book.params:
        return book.params[name].literal_at(when)
    return fmt_plain(getattr(term, "number", term))


def register(group):
    group.add_command(rules)
