"""list and show: looking around the record without changing it (and without SQLAlchemy).

Both run on the database driver alone (engine/cli/opening.py ``with_reading``) and on the
plain results of engine/records/browse.py: a cold ``shuangtan list`` on a record of 100,000
applications answers in a fraction of a second. Neither migrates nor loads the rulebook.
"""

from __future__ import annotations

import datetime as dt
import sys

import click

from engine.cli import saying
from engine.cli.common import domain_errors
from engine.cli.opening import with_reading
from engine.cst import as_cst, shown_time
from engine.i18n.catalogue import t
from engine.i18n.problems import problem

DEFAULT_LIMIT = 50


def date_value(ctx, param, value):
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(t("record_cli.list.not_a_date", value=repr(value))) from None


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
    granted = [k for k, v in a["statuses"].items() if v == "granted"]
    which = t("record_cli.list.decision", id=a["decision_id"]) if a["decision_id"] else ""
    if a["proposal_id"]:
        which = t("record_cli.list.proposal", id=a["proposal_id"])
    rejected = a["rejected_versions"]
    rejected_note = t("record_cli.list.rejected_versions", versions=saying.versions(rejected)) if rejected else ""
    version = a["current_version"] or a["latest_version"] or "-"
    return (
        f"{a['application_id'] or '-':24} v{version:<3} {saying.pad(saying.state(a['status']), 9)} "
        f"{a['region_code'] or '------'} {as_cst(a['received_at']):%Y-%m-%d} {saying.pad(which, 12)} "
        f"{a['enterprise_name'] or ''}"
        + (t("record_cli.list.granted", outcomes=saying.outcomes(granted)) if granted else "")
        + rejected_note
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
        raise click.UsageError(t("record_cli.list.all_and_limit"))
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
        footer = t("record_cli.list.all", total=f"{got.total:,}")
    elif not shown:
        footer = t("record_cli.list.past", total=f"{got.total:,}", offset=offset)
    else:
        footer = t(
            "record_cli.list.page",
            shown=f"{shown:,}",
            total=f"{got.total:,}",
            first=f"{offset + 1:,}",
            next=offset + shown,
            limit=limit or shown,
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
        raise click.ClickException(t("record_cli.show.not_found", app=application_id))
    if fmt == "json":
        click.echo(dumps(a, indent=2))
        return
    echo = click.echo
    echo(
        t(
            "record_cli.show.head",
            app=a["application_id"],
            name=a["enterprise_name"] or "",
            code=a["credit_code"] or "?",
            region=a["region_code"] or "?",
            status=saying.state(a["status"]),
        )
    )
    if a["rejected_versions"]:
        echo(
            t(
                "record_cli.show.rejected_note",
                versions=saying.versions(a["rejected_versions"]),
                current=a["current_version"],
            )
        )
    echo(t("record_cli.show.versions"))
    for v in a["versions"]:
        echo(
            t(
                "record_cli.show.version",
                version=v["version"],
                id=v["id"],
                at=shown_time(v["received_at"]),
                by=v["submitted_by"],
                sha=v["sha256"][:16],
                status=saying.state(v["status"]),
                file=v["filename"] or "",
            )
        )
        for e in v["errors"]:
            echo(f"      {e['path']}: {problem(e['message'])}")
    if a["telemetry"]:
        echo(t("record_cli.show.telemetry"))
    for m in a["telemetry"]:
        echo(
            t(
                "record_cli.show.telemetry_line",
                id=m["id"],
                submission=m["submission_id"],
                at=shown_time(m["received_at"]),
                sha=m["sha256"][:16],
                valid=saying.state("valid" if m["valid"] else "invalid"),
                file=m["filename"] or "",
                system=t("record_cli.show.system", system=m["system_id"]) if m["system_id"] else "",
            )
        )
        for said in m["problems"][:20]:
            echo(f"      {problem(said)}")
        if len(m["problems"]) > 20:
            echo(t("record_cli.show.more_problems", n=len(m["problems"]) - 20))
    echo(t("record_cli.show.decisions"))
    for d in a["decisions"]:
        _decision(d, echo)
    echo(t("record_cli.show.notices"))
    for n in a["notices"]:
        echo(
            t(
                "record_cli.show.notice",
                id=n["id"],
                number=n["number"] or t("record_cli.show.unnumbered"),
                decision=n["decision_id"],
                kind=t(f"record_cli.notice_kind.{n['kind']}"),
                language=n["lang"],
                format=n["format"],
                date=n["notice_date"],
                by=n["issued_by"],
                file=n["filename"],
            )
        )
    if not a["notices"]:
        echo(t("record_cli.show.none"))
    sys.stdout.flush()


def _decision(d: dict, echo) -> None:
    if d["state"] == "superseded":
        state = t("record_cli.show.superseded", by=d["superseded_by"])
    else:
        state = t(f"record_cli.show.{d['state']}")
    echo(
        t(
            "record_cli.show.decision",
            id=d["id"],
            at=shown_time(d["decided_at"]),
            by=d["officer"],
            submission=d["submission_id"],
            version=d["ruleset_version"],
            digest=d["ruleset_digest"][:19],
            state=state,
            replaces=t("record_cli.show.replaces", id=d["supersedes_id"]) if d["supersedes_id"] else "",
        )
    )
    if d["opinion"]:
        echo(t("record_cli.show.opinion", by=d["officer"], opinion=d["opinion"]))
    if d["reviewer"]:
        verb = "confirmed" if d["state"] in ("in_force", "superseded") else "returned_by"
        said = t("record_cli.show.review_opinion", opinion=d["review_opinion"]) if d["review_opinion"] else ""
        echo(t(f"record_cli.show.{verb}", at=shown_time(d["reviewed_at"]), by=d["reviewer"], opinion=said))
    for h in d["holds"]:
        echo(
            t(
                "record_cli.show.held",
                code=h["code"],
                outcome=saying.outcome(h["outcome"]),
                message=problem(h["message"]),
            )
        )
    for o in d["overrides"]:
        echo(
            t(
                "record_cli.show.override",
                outcome=saying.outcome(o["outcome"]),
                engine_status=saying.status(o["engine"]["status"]),
                engine_amount=o["engine"]["amount"] or "",
                status=saying.status(o["decided"]["status"]),
                amount=o["decided"]["amount"] or "",
                by=o["by"],
                reason=o["reason"],
            )
        )
    echo(t("record_cli.show.statuses", statuses=saying.statuses(d["statuses"].items())))
    notes = "" if d["history_agrees"] in (None, True) else t("record_cli.show.history_overruled")
    if d["telemetry_id"] is not None:
        notes += t("record_cli.show.metered", id=d["telemetry_id"]) + (
            "" if d["metering_agrees"] else t("record_cli.show.meter_differs")
        )
    echo(
        t(
            "record_cli.show.totals",
            subsidy=saying.money(d["totals"]["subsidy_yuan"]),
            levy=saying.money(d["totals"]["levy_yuan"]),
            notes=notes,
        )
    )


def register(group):
    for cmd in (list_cmd, show):
        group.add_command(cmd)
