"""shuangtan rules list / show / doc: what the engine believes, with sources."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import click

from engine.cli.common import domain_errors, rulebook_options
from engine.decimals import fmt_plain
from engine.i18n import language, number, region, t, unit
from engine.i18n.numbers import words


@click.group()
def rules():
    """Inspect the rulebook."""


@rules.command("list")
@rulebook_options
def list_rules(book):
    """The outcomes, their kind, source and reason codes."""
    click.echo(t("rules.ruleset", version=book.version, digest=book.digest))
    click.echo(t("rules.in_force_from", date=book.first_date.isoformat()))
    sep = t("rules.sep")
    for o in book.outcomes:
        codes = [e.code for e in book.exceptions] + [e.code for e in o.applies] + [c.code for c in o.criteria]
        codes += [t.reason for t in o.tables] + (["CAPPED"] if o.amount and o.amount.cap is not None else [])
        click.echo("")
        click.echo(t("rules.outcome_line", name=o.name, kind=_kind(o), unit=_unit_suffix(o), title=o.title[language()]))
        click.echo(t("rules.source_file", source=o.source, file=o.file))
        click.echo(t("rules.reasons", codes=sep.join(codes)))
        held = _plausibility_checks(book, o.name)
        if held:
            click.echo(t("rules.held", codes=sep.join(c.code for c in held)))


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
            t("rules.unknown_outcome", name=repr(outcome), names=", ".join(x.name for x in book.outcomes)),
            param_hint="OUTCOME",
        ) from None
    from engine.rulebook.doc import show_test

    lang = language()
    when = on.date() if on else dt.date.today()
    params = book.params_at(when)
    click.echo(t("rules.show_head", name=o.name, title=o.title[lang], kind=_kind(o)))
    section = book.sources[o.source.split(";")[0].strip()]["section"]
    click.echo(t("rules.show_source", source=o.source, section=section))
    click.echo(t("rules.show_clause", clause=o.clause))
    click.echo("\n" + t("rules.applies_unless"))
    for e in list(book.exceptions) + list(o.applies):
        click.echo(t("rules.exception", code=e.code, message=e.message[lang]))
    for table in o.tables:
        click.echo("")
        label = _input_label(o, table)
        name = words().table_label(o.name, table.name)
        click.echo(t("rules.table", name=name, input=label, unit=unit(table.unit)))
        for r in table.rows:
            low = _val(r.min, book, when, _unit_of(book, r.min))
            out = _val(r.output, book, when, table.unit)
            click.echo(t("rules.table_row", id=r.id, input=label, min=low, output=out))
    click.echo("\n" + t("rules.criteria"))
    for c in o.criteria:
        shown = show_test(c.test) if lang == "en" else _unfilled(c.message["zh"])
        click.echo(t("rules.criterion", code=c.code, rule=c.rule, message=shown))
        click.echo(t("rules.criterion_clause", clause=_reference(c.clause, c.clause_zh)))
    held = _plausibility_checks(book, o.name)
    if held:
        click.echo("\n" + t("rules.plausibility"))
        for c in held:
            click.echo(t("rules.check_line", code=c.code, rule=c.rule, message=_unfilled(c.message[lang])))
            if lang == "en":
                click.echo(t("rules.check_test", test=show_test(c.test)))
    click.echo("\n" + t("rules.params_on", date=when.isoformat()))
    for name in sorted(o.params().union(*(c.params() for c in held))):
        p = book.params[name]
        _, start = params[name]
        click.echo(
            t(
                "rules.param",
                label=words().param_label(name),
                name=name,
                value=_literal(p, p.literal_at(when)),
                since=start.isoformat(),
                reference=_reference(p.reference, p.rationale_zh, book.sources),
            )
        )
        if len(p.history) > 1:
            click.echo(t("rules.param_history", history=t("rules.sep").join(_history(p))))


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
    try:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:  # a folder that cannot be made, a disk full: named, never a traceback
        raise click.BadParameter(
            t("drafting.doc_unwritable", out=out, problem=_os_problem(exc)), param_hint="--out"
        ) from None
    click.echo(t("drafting.doc_written", out=out, lines=len(text.splitlines()), version=book.version), err=True)


def _os_problem(exc: OSError) -> str:
    """What the system refused, in the language in force when the catalogue words it."""
    import errno

    from engine.i18n import message

    key = f"errors.os.{errno.errorcode.get(exc.errno or 0, '').lower()}"
    why = t(key) if message(key) is not None else (exc.strerror or str(exc))
    return t("drafting.os_where", problem=why, path=exc.filename) if exc.filename else why


def _plausibility_checks(book, outcome: str) -> list:
    """The checks of rules/plausibility.yaml that hold ``outcome``, in file order."""
    return [c for c in book.plausibility.checks if c.outcome == outcome] if book.plausibility else []


def _val(term, book, when, unit_name=None):
    name = getattr(term, "name", None)
    if name in book.params:
        return _literal(book.params[name], book.params[name].literal_at(when))
    return number(fmt_plain(getattr(term, "number", term)), unit_name)


def _unit_of(book, term) -> str | None:
    name = getattr(term, "name", None)
    return book.params[name].unit if name in book.params else None


def _literal(p, literal) -> str:
    """A parameter's value as a person reads it: its unit named, a ratio as a percentage, a
    table by region with the cities' names."""
    if isinstance(literal, dict):
        sep = t("rules.sep")
        return sep.join(
            f"{t('rules.default_region') if k == 'default' else region(str(k))} {_literal(p, v)}"
            for k, v in literal.items()
        )
    if literal is None:
        return "–"
    return number(str(literal), p.unit if p.unit != "factor" else None) if _numeric(literal) else str(literal)


def _numeric(value) -> bool:
    try:
        Decimal(str(value))
    except ArithmeticError:
        return False
    return True


def _history(p) -> list[str]:
    return [
        t("rules.history_ended", date=start.isoformat())
        if value is None
        else t("rules.history_item", date=start.isoformat(), value=_literal(p, literal))
        for start, value, literal in p.history
    ]


_SOURCE = re.compile(r"[A-Z]+ §[\d.]+")
_GLOSS = re.compile(r"\s*\([\x00-\x7f]*\)\Z")


def _reference(reference: str, chinese: str | None = None, sources=()) -> str:
    """A source section or clause as it is; an assumption with its rationale, in Chinese from the
    rule file's translation (``rationale_zh``, ``clause_zh``) beside the English; the rule files'
    English glosses only in English."""
    if language() == "en":
        return reference
    if chinese is not None:
        head = reference.partition(":")[0].strip()
        return t("rules.assumption_because", rationale=chinese) if head == "assumption" else chinese
    source = _SOURCE.match(reference)
    if source:
        return source.group()
    if reference.partition(":")[0].strip() in sources:  # a source named by its key (MEE 2022)
        return reference.partition(":")[0].strip()
    if reference.startswith("assumption") or reference.isascii():
        return t("rules.assumption")
    return _GLOSS.sub("", reference)


def _unfilled(message: str) -> str:
    """A reason's message with its placeholders (the values read) shown as …"""
    return re.sub(r"\$\{\w+\}", "…", message)


def _kind(o) -> str:
    return t(f"rules.kind.{o.kind}")


def _unit_suffix(o) -> str:
    return f", {unit(o.unit)}" if o.unit else ""


def _input_label(o, table) -> str:
    return words().var_label(o.name, table.input_name)


def register(group):
    group.add_command(rules)
