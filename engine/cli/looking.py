"""list and show: looking around the record without changing it (and without SQLAlchemy).

Both run on the database driver alone (engine/cli/opening.py ``with_reading``) and on the
plain results of engine/records/browse.py: a cold ``shuangtan list`` on a record of 100,000
applications answers in a fraction of a second. Neither migrates nor loads the rulebook.
"""

from __future__ import annotations

import datetime as dt
import sys

import click

from engine.cli.common import domain_errors
from engine.cli.opening import with_reading
from engine.cst import as_cst, shown_time

DEFAULT_LIMIT = 50
TEXT = {
    "all": "{total:,} application(s)",
    "page": "{shown:,} of {total:,} application(s) (newest first, from number {first:,}); "
    "--offset {next} for the next {limit}, --limit N for more at once, --all for every one",
    "past": "0 of {total:,} application(s): --offset {offset} is past the last",
    "not_found": "{app}: no submission with this application id on record",
    "all_and_limit": "--all lists every application: give it without --limit and --offset",
}


def date_value(ctx, param, value):
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD") from None


def outcome_value(ctx, param, value):
    """``NAME`` or ``NAME=STATUS`` naming an outcome of the rulebook and one of its statuses: a
    typo would select nothing and say "0 application(s)" as if none had it."""
    if value is None:
        return None
    from engine.cli.filter_names import checked_outcome

    return checked_outcome(value, param, ctx)


def filter_options(fn):
    """--region, --outcome, --since, --until: which applications (list; confirm --all-proposed)."""
    for option in reversed(
        [
            click.option("--region", metavar="CODE", help="6-digit region code, e.g. 140100."),
            click.option(
                "--outcome",
                callback=outcome_value,
                metavar="NAME[=STATUS]",
                help="e.g. storage_subsidy=granted; a bare name: any status but not_applicable.",
            ),
            click.option("--since", callback=date_value, metavar="YYYY-MM-DD", help="Received on or after (CST date)."),
            click.option(
                "--until", callback=date_value, metavar="YYYY-MM-DD", help="Received on or before (CST date)."
            ),
        ]
    ):
        fn = option(fn)
    return fn


def _line(a: dict) -> str:
    granted = ",".join(k for k, v in a["statuses"].items() if v == "granted")
    which = f"decision {a['decision_id']}" if a["decision_id"] else ""
    if a["proposal_id"]:
        which = f"proposal {a['proposal_id']}"
    rejected = a["rejected_versions"]
    rejected_note = f"  (v{', v'.join(map(str, rejected))} rejected)" if rejected else ""
    return (
        f"{a['application_id'] or '-':24} v{a['current_version'] or a['latest_version'] or '-':<3} {a['status']:9} "
        f"{a['region_code'] or '------'} {as_cst(a['received_at']):%Y-%m-%d} {which:12} "
        f"{a['enterprise_name'] or ''}" + (f"  granted: {granted}" if granted else "") + rejected_note
    )


@click.command("list")
@click.option("--status", type=click.Choice(["received", "rejected", "pending", "proposed", "decided", "corrected"]))
@filter_options
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help=f"How many applications to list (default {DEFAULT_LIMIT}).",
)
@click.option("--offset", type=click.IntRange(min=0), default=0, help="Skip this many first (the newest).")
@click.option("--all", "every", is_flag=True, help="List every application the filters select.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@domain_errors  # outside with_reading, which names a failing record first
@with_reading
def list_cmd(status, region, outcome, since, until, limit, offset, every, fmt, reading):
    """Applications on record, one line each (the version it stands on and the decision in force),
    newest first (by the receipt of that version): the first 50 unless --limit, --offset or --all.
    The last line says how many the filters select; with --format json (one application a line)
    it goes to standard error, and only when some are not listed."""
    from engine.records.browse import Filters, page

    if every and (limit is not None or offset):
        raise click.UsageError(TEXT["all_and_limit"])
    limit = None if every else (limit or DEFAULT_LIMIT)
    got = page(reading, Filters(status, region, outcome, since, until), limit, offset, newest_first=True)
    if fmt == "json":
        from engine.records.browse import dumps

        for a in got.rows:
            click.echo(dumps(a))
    else:
        for a in got.rows:
            click.echo(_line(a))
    shown = len(got.rows)
    if shown == got.total and not offset:
        footer = TEXT["all"].format(total=got.total)
    elif not shown:
        footer = TEXT["past"].format(total=got.total, offset=offset)
    else:
        footer = TEXT["page"].format(
            shown=shown, total=got.total, first=offset + 1, next=offset + shown, limit=limit or shown
        )
    if fmt == "text":
        click.echo(footer)
    elif shown != got.total:
        click.echo(footer, err=True)


@click.command()
@click.argument("application_id", metavar="APP_ID")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@domain_errors  # outside with_reading, which names a failing record first
@with_reading
def show(application_id, fmt, reading):
    """One application: every submitted version, telemetry file, decision and notice issued."""
    from engine.records.browse import dumps
    from engine.records.browse import show as read_application

    a = read_application(reading, application_id)
    if a is None:
        raise click.ClickException(TEXT["not_found"].format(app=application_id))
    if fmt == "json":
        click.echo(dumps(a, indent=2))
        return
    echo = click.echo
    echo(
        f"{a['application_id']}  {a['enterprise_name'] or ''} ({a['credit_code'] or '?'}, {a['region_code'] or '?'})  "
        f"status {a['status']}"
    )
    if a["rejected_versions"]:
        echo(
            f"note: v{', v'.join(map(str, a['rejected_versions']))} rejected; the application stands on "
            f"v{a['current_version']} and its decisions"
        )
    echo("versions:")
    for v in a["versions"]:
        echo(
            f"  v{v['version']}  submission {v['id']}  {shown_time(v['received_at'])}  by {v['submitted_by']}  "
            f"sha256 {v['sha256'][:16]}…  {v['status']}  {v['filename'] or ''}"
        )
        for e in v["errors"]:
            echo(f"      {e['path']}: {e['message']}")
    if a["telemetry"]:
        echo("telemetry:")
    for t in a["telemetry"]:
        echo(
            f"  {t['id']}  submission {t['submission_id']}  {shown_time(t['received_at'])}  "
            f"sha256 {t['sha256'][:16]}…  {'valid' if t['valid'] else 'INVALID'}  {t['filename'] or ''}"
            + (f"  system {t['system_id']}" if t["system_id"] else "")
        )
        for problem in t["problems"][:20]:
            echo(f"      {problem}")
        if len(t["problems"]) > 20:
            echo(f"      … {len(t['problems']) - 20} more (--format json lists them all)")
    echo("decisions:")
    for d in a["decisions"]:
        _decision(d, echo)
    echo("notices:")
    for n in a["notices"]:
        echo(
            f"  {n['id']}  {n['number'] or '(unnumbered)'}  decision {n['decision_id']}  {n['kind']} {n['lang']} "
            f"{n['format']}  dated {n['notice_date']}  by {n['issued_by']}  {n['filename']}"
        )
    if not a["notices"]:
        echo("  none")
    sys.stdout.flush()


def _decision(d: dict, echo) -> None:
    state = {
        "in_force": "in force",
        "proposed": "proposed, awaiting review",
        "returned": "returned",
        "superseded": f"superseded by {d['superseded_by']}",
    }[d["state"]]
    echo(
        f"  {d['id']}  proposed {shown_time(d['decided_at'])}  by {d['officer']}  submission {d['submission_id']}  "
        f"ruleset {d['ruleset_version']} {d['ruleset_digest'][:19]}…  {state}"
        + (f"  replaces {d['supersedes_id']}" if d["supersedes_id"] else "")
    )
    if d["opinion"]:
        echo(f"      opinion ({d['officer']}): {d['opinion']}")
    if d["reviewer"]:
        verb = "confirmed" if d["state"] in ("in_force", "superseded") else "returned"
        echo(
            f"      {verb} {shown_time(d['reviewed_at'])} by {d['reviewer']}"
            + (f": {d['review_opinion']}" if d["review_opinion"] else "")
        )
    for h in d["holds"]:
        echo(f"      held: {h['code']} on {h['outcome']}: {h['message']}")
    for o in d["overrides"]:
        echo(
            f"      override {o['outcome']}: {o['engine']['status']} {o['engine']['amount'] or ''} -> "
            f"{o['decided']['status']} {o['decided']['amount'] or ''} by {o['by']}: {o['reason']}"
        )
    echo("      " + ", ".join(f"{k} {v}" for k, v in d["statuses"].items()))
    echo(
        f"      subsidy {d['totals']['subsidy_yuan']} yuan, levy {d['totals']['levy_yuan']} yuan"
        + ("" if d["history_agrees"] in (None, True) else "; declared history overruled by the record")
        + (
            ""
            if d["telemetry_id"] is None
            else f"; metered (telemetry {d['telemetry_id']})"
            + ("" if d["metering_agrees"] else ", declared values differ from the meter")
        )
    )


def register(group):
    for cmd in (list_cmd, show):
        group.add_command(cmd)
