"""Officers' commands: submit, decide, confirm, return, replay, notice, export (on the record).

list and show are in looking.py; opening the record (--db) is in opening.py."""

from __future__ import annotations

import contextlib
import gc
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import OperationalError

from engine.atomic import open_replacing
from engine.cli import saying
from engine.cli.common import InputError, OutputPath, distinct_files, domain_errors, rulebook_options, writing
from engine.cli.looking import date_value, filter_options
from engine.cli.opening import DB_HELP, hide_password, masked_url, reading_store, with_store
from engine.cli.tables_opts import bom_option, encoding_option, output_format
from engine.cli.telemetry import telemetry_options
from engine.contract.bounds import MAX_DOCUMENT_BYTES, read_bounded
from engine.contract.jsontext import SIZE_TEXT
from engine.errors import INTERNAL_ERROR, ShuangtanError, internal_reason
from engine.i18n import language, t
from engine.i18n.problems import problem
from engine.records import service as records
from engine.records import views as records_view
from engine.records.batch_files import CHANGED, NOT_STORED, Row, file_rows
from engine.records.batch_files import batch_format as batch_file_format
from engine.records.replaying import COMPARED
from engine.records.store.models import SubmissionIn, TelemetryIn

__all__ = ["DB_HELP", "hide_password", "masked_url", "register", "with_store"]


def person_option(*names, help):
    """The account acting: required, an enabled account of the role the command needs."""
    return click.option(
        *names, "person", required=True, metavar="NAME", help=help + " (an account: `shuangtan users`)."
    )


def _attach(store, app_id, path, system_id, who, book):
    item = TelemetryIn(
        raw=path.read_bytes(),
        filename=path.name,
        submitted_by=who,
        system_id=system_id,
        format="parquet" if path.suffix.lower() in (".parquet", ".pq") else "csv",
    )
    kept = records.attach_telemetry(store, app_id, item, book)
    if kept.valid:
        click.echo(
            t(
                "record_cli.submit.telemetry_attached",
                app=app_id,
                file=path.name,
                id=kept.id,
                sha=kept.sha256[:16],
                submission=kept.submission_id,
            )
        )
        return kept
    lines = "\n".join(f"  {problem(p)}" for p in kept.problems)
    raise InputError(
        t("record_cli.submit.telemetry_invalid", file=path.name, id=kept.id, n=len(kept.problems), lines=lines)
    )


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True, allow_dash=True))
@person_option(
    "--by", "--officer", help="Who is submitting: an enterprise account (its own applications) or an officer"
)
@click.option(
    "--corrects",
    metavar="APP_ID",
    default=None,
    help="This application corrects APP_ID (same enterprise): once confirmed, its decision replaces APP_ID's, "
    "and the overlapping period is not refused as already decided.",
)
@encoding_option
@telemetry_options
@rulebook_options
@domain_errors  # outside with_store, which names a failing record first
@with_store
def submit(files, person, corrects, encoding, telemetry_path, system_id, book, store):
    """Receive applications: each is stored exactly as received, then validated.

    A .json file (or - for standard input) is one application. A .jsonl/.ndjson file (one per
    line), .csv or .xlsx file (first sheet; dotted column headers, as `evaluate` reads them) is
    one submission per row, kept with the file's name and SHA-256, the row's number and, for
    CSV and XLSX, its cells as read (CSV in UTF-8, with or without BOM, or GBK/GB18030; 是/否 and
    thousands separators read as `evaluate` reads them). In XLSX, a number with more digits than a
    spreadsheet keeps, or a credit code typed as a number, refuses its row: format such a column as text.

    An invalid application (or a row that cannot be read as one) is kept with its errors (status
    rejected). The same application id with different content becomes a new version (two rows of
    one file too); identical content is recognised and not stored twice. Exit 1 when any was
    rejected (all are still on record, but one larger than the contract's limit for a document, or
    a file that is not its format, which is refused unread and not stored).

    With --telemetry (one .json FILE only), the metering file is kept with the application and
    checked; exit 2 when it is invalid (it is still on record, named as invalid).
    """
    single = len(files) == 1 and batch_file_format(files[0]) is None
    if telemetry_path is not None and not single:
        raise click.UsageError(t("record_cli.submit.telemetry_one_file"))
    if corrects is not None and not single:
        raise click.UsageError(t("record_cli.submit.corrects_one_file"))
    tally = _Tally()
    chunk: list[Row] = []
    with batch_lifetime():
        for row in _rows(files, person, corrects, encoding):
            chunk.append(row)
            if row.item is not None:
                tally.waiting += 1
            if tally.waiting >= records.CHUNK:
                tally.report(chunk, store)
                chunk = []
        tally.report(chunk, store)
    what = (
        t("record_cli.submit.files", n=len(files))
        if tally.seen == len(files)
        else t("record_cli.submit.submissions", seen=tally.seen, n=len(files))
    )
    click.echo(t("record_cli.submit.tally", what=what, accepted=tally.seen - tally.rejected, rejected=tally.rejected))
    if tally.rejected:
        sys.exit(1)
    if telemetry_path is not None:
        sub = tally.last
        if sub is None or sub.application_id is None:
            raise InputError(t("record_cli.submit.no_app_id"))
        _attach(store, sub.application_id, telemetry_path, system_id, person, book)


def _rows(files, who: str, corrects: str | None, encoding: str | None = None):
    """Every submission the FILE arguments hold, in order: a row of a batch file, or a file."""
    for name in files:
        shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")  # a file name not in UTF-8
        if batch_file_format(name) is not None:
            yield from file_rows(name, shown, who, encoding)
            continue
        raw = _read_submission(name)
        if len(raw) > MAX_DOCUMENT_BYTES:  # not read further, so not stored: it was not received whole
            yield Row(name, None, f"{SIZE_TEXT}; not stored")  # the contract's words: said in _why
            continue
        yield Row(name, SubmissionIn(raw=raw, filename=shown, submitted_by=who, corrects=corrects))


class _Tally:
    """Submits rows a chunk at a time and prints a line for each: stdout written once a chunk."""

    def __init__(self):
        self.waiting = self.seen = self.rejected = 0
        self.last = None

    def report(self, chunk: list[Row], store) -> None:
        items = [row.item for row in chunk if row.item is not None]
        receipts = iter(records.submit_chunk(store, items) if items else [])
        self.waiting = 0
        lines: list[str] = []
        for row in chunk:
            self.seen += 1
            if row.item is None:
                self.rejected += 1
                lines.append(t("record_cli.submit.row_rejected", where=row.where, why=_why(row.why)))
                continue
            r = next(receipts)
            sub = self.last = r.submission
            label = sub.application_id or t("record_cli.submit.no_id")
            ver = t("record_cli.submit.version", version=sub.version) if sub.version else ""
            said: dict[str, Any] = dict(label=label, version=ver, where=row.where, id=sub.id)
            if r.outcome == "unchanged":
                lines.append(t("record_cli.submit.unchanged", **said, same=sub.version, sha=sub.sha256[:12]))
            elif r.outcome == "rejected":
                self.rejected += 1
                lines.append(t("record_cli.submit.rejected", **said))
                click.echo("\n".join(lines))  # its reasons follow it, on stderr
                lines = []
                click.echo("\n".join(f"    {_problem(e.path, e.message)}" for e in sub.errors), err=True)
            else:
                note = t("record_cli.submit.new_version", version=sub.version) if r.outcome == "new_version" else ""
                lines.append(
                    t(
                        "record_cli.submit.received",
                        **said,
                        sha=sub.sha256[:16],
                        status=saying.state(sub.status),
                        note=note,
                    )
                )
        if lines:
            click.echo("\n".join(lines))


def _problem(path: str, message: str) -> str:
    """``path: problem``: the path as the contract names it (what a script or the row's cell
    reader keys on), the problem in the language in force."""
    return f"{path}: {problem(message)}"


def _why(why: str | None) -> str:
    """A row refused unread: the reason (English: as the contract and the files' reader word it)."""
    text = why or ""
    if language() == "en":
        return text
    head, stored = (text.removesuffix(NOT_STORED), True) if text.endswith(NOT_STORED) else (text, False)
    unread = re.fullmatch(r"cannot be read \((.*)\)", head)
    if head == CHANGED:
        said = t("record_cli.submit.changed")
    elif unread:
        said = t("record_cli.submit.cannot_read", why=unread.group(1))
    else:
        said = problem(head)
    return said + (t("record_cli.submit.not_stored") if stored else "")


def _read_submission(name: str) -> bytes:
    """At most one byte more than the contract's limit: a larger file (or /dev/zero) is
    never read whole."""
    if name == "-":
        return read_bounded(sys.stdin.buffer)
    with open(name, "rb") as fh:
        return read_bounded(fh)


#: objects allocated between two collections of the youngest generation during a batch: at
#: Python's default (700) a proposal, thousands of short-lived objects, sets the collector off
#: several times. Four interleaved A/B runs of 2,000 proposals on PostgreSQL: 3.76 s of CPU
#: against 4.29 s (mean).
YOUNG_OBJECTS = 100_000


@contextlib.contextmanager
def batch_lifetime() -> Iterator[None]:
    """During a batch: what is alive before it (the rulebook, the engine, the modules) outlives
    it, so the collector need not walk that again at each full collection (3-8 % of a batch of
    2,000 proposals on PostgreSQL, 3.43 s against 3.56 s, average of three), and the youngest
    generation is collected less often (YOUNG_OBJECTS). It all returns to the collector's care
    afterwards, garbage frozen with it included (CliRunner and the service run commands in a
    longer process)."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _decision_line(d) -> str:
    lang = language()  # once: a batch prints thousands of these lines
    granted = [(k, v) for k, v in d.statuses.items() if v in ("granted", "denied", "levied", "not_met", "exempt")]
    sup = ""
    if d.supersedes_id and d.state == "proposed":
        sup = t("record_cli.decision.would_replace", lang, id=d.supersedes_id)
    if d.supersedes_id and d.state == "in_force":
        sup = t("record_cli.decision.replaces", lang, id=d.supersedes_id)
    notes = "" if d.history_agrees in (None, True) else t("record_cli.decision.history_differs", lang)
    if d.metering_agrees is not None:
        notes += t("record_cli.decision.metered", lang, id=d.telemetry_id) + (
            "" if d.metering_agrees else t("record_cli.decision.meter_differs", lang)
        )
    if d.holds:
        holds = ", ".join(
            t("record_cli.decision.hold", lang, code=h["code"], outcome=saying.outcome(h["outcome"])) for h in d.holds
        )
        notes += t("record_cli.decision.held", lang, holds=holds)
    if d.overrides:
        notes += t("record_cli.decision.overridden", lang, outcomes=saying.outcomes(o["outcome"] for o in d.overrides))
    return t(
        "record_cli.decision.line",
        lang,
        state=t(f"record_cli.decision.{d.state}", lang, id=d.id),
        app=d.application_id,
        replaces=sup,
        subsidy=saying.money(d.totals["subsidy_yuan"]),
        levy=saying.money(d.totals["levy_yuan"]),
        statuses=saying.statuses(granted),
        notes=notes,
    )


@click.command()
@click.argument("application_ids", nargs=-1, metavar="APP_ID...")
@click.option("--all-pending", is_flag=True, help="Decide every application whose latest version awaits a decision.")
@click.option(
    "--again", is_flag=True, help="Re-decide even if the latest version is decided (the old decision is superseded)."
)
@person_option("--officer", "--by", help="The proposing officer")
@click.option("--opinion", default=None, metavar="TEXT", help="The proposing officer's opinion (审核意见).")
@telemetry_options
@rulebook_options
@domain_errors  # outside with_store, which names a failing record first
@with_store
def decide(application_ids, all_pending, again, person, opinion, telemetry_path, system_id, book, store):
    """Propose decisions: the engine's result, with the enterprise's history taken from the record.

    A proposal is in force only once another officer confirms it (`shuangtan confirm`). Subsidies
    already granted this year, amounts reserved by proposals awaiting review, and the one-time
    equipment subsidy come from the record, not from what the application declares. A period that
    another application of the enterprise already covers is not paid or levied again
    (PERIOD_ALREADY_DECIDED) unless this application corrects that one (`submit --corrects`).

    Telemetry kept with the application (submit --telemetry, or --telemetry here with one
    APP_ID) decides the storage facts; a declaration beyond tolerance is named in the decision.
    """
    if bool(application_ids) == all_pending:
        raise click.UsageError(t("record_cli.decide.ids_or_all"))
    if telemetry_path is not None and len(application_ids) != 1:
        raise click.UsageError(t("record_cli.decide.telemetry_one"))
    officer = person
    if telemetry_path is not None:
        _attach(store, application_ids[0], telemetry_path, system_id, officer, book)
    failed = 0
    if all_pending:
        n = 0
        with batch_lifetime():
            for item in records.decide_pending(store, book, officer, opinion):
                if item.error:
                    failed += 1
                    click.echo(
                        t("records.cli.not_decided", app=item.application_id, refusal=item.said or item.error), err=True
                    )
                else:
                    n += 1
                    click.echo(_decision_line(item.decision))
        click.echo(t("record_cli.decide.tally", n=n, failed=failed))
    else:
        for app_id in application_ids:
            try:
                click.echo(_decision_line(records.decide(store, app_id, book, officer, again=again, opinion=opinion)))
            except records.AccountRefused:
                raise  # the officer, for every application alike: one line, exit 2
            except records.RecordError as exc:
                failed += 1
                click.echo(t("records.cli.not_decided", app=app_id, refusal=exc.said()), err=True)
            except (ShuangtanError, OperationalError):
                raise  # the input (a date no rule covers) or the record itself: one line, exit
            except Exception as exc:  # a defect met on this application: the others are still decided
                failed += 1
                click.echo(
                    t("record_cli.decide.internal", app=app_id, code=INTERNAL_ERROR, reason=internal_reason(exc)),
                    err=True,
                )
    if failed:
        sys.exit(1)


_filters = filter_options


@click.command()
@click.argument("application_ids", nargs=-1, metavar="APP_ID...")
@click.option("--all-proposed", is_flag=True, help="Confirm every proposal awaiting review that the filters select.")
@_filters
@person_option("--by", help="The confirming officer or reviewer (not the proposer, not the submitter)")
@click.option("--opinion", default=None, metavar="TEXT", help="The reviewer's opinion (审核意见).")
@click.option(
    "--override",
    "overrides",
    multiple=True,
    metavar="OUTCOME=STATUS[:AMOUNT]",
    help="Change an outcome of the proposal (one APP_ID; repeatable; needs --reason). Kept beside the engine's result.",
)
@click.option(
    "--reason", default=None, metavar="TEXT", help="Why the outcomes are overridden (required with --override)."
)
@rulebook_options
@domain_errors
@with_store
def confirm(
    application_ids, all_proposed, region, outcome, since, until, person, opinion, overrides, reason, book, store
):
    """Confirm proposals: from then on they are the decisions in force (caps, notices, exports).

    The confirming account is an officer or reviewer who neither proposed the decision nor
    submitted the version decided. A proposal held by a plausibility check is confirmed only with
    an --override of each held outcome (OUTCOME=STATUS to accept the engine's amount, or with
    :AMOUNT) and a --reason.
    """
    if bool(application_ids) == all_proposed:
        raise click.UsageError(t("record_cli.confirm.ids_or_all"))
    if (region or outcome or since or until) and not all_proposed:
        raise click.UsageError(t("record_cli.confirm.filters"))
    if overrides and len(application_ids) != 1:
        raise click.UsageError(t("record_cli.confirm.override_one"))
    if reason and not overrides:
        raise click.UsageError(t("record_cli.confirm.reason_override"))
    if overrides:
        click.echo(_decision_line(records.confirm(store, application_ids[0], book, person, opinion, overrides, reason)))
        return
    if all_proposed:
        application_ids = [
            a.application_id
            for a in records_view.list_applications(store, "proposed", region, outcome, since, until)
            if a.application_id
        ]
    failed = n = 0
    with batch_lifetime():
        for item in records.confirm_many(store, application_ids, book, person, opinion):
            if item.error:
                failed += 1
                click.echo(t("records.cli.not_confirmed", refusal=item.said or item.error), err=True)
            else:
                n += 1
                click.echo(_decision_line(item.decision))
    click.echo(t("record_cli.confirm.tally", n=n, failed=failed))
    if failed:
        sys.exit(1)


@click.command("return")
@click.argument("application_id", metavar="APP_ID")
@person_option("--by", help="The reviewing officer or reviewer")
@click.option("--opinion", required=True, metavar="TEXT", help="Why the proposal goes back (审核意见).")
@domain_errors
@with_store
def return_cmd(application_id, person, opinion, store):
    """Return a proposal to the proposing officer: nothing is decided; the application awaits a new proposal."""
    click.echo(_decision_line(records.return_proposal(store, application_id, person, opinion)))


@click.command()
@click.argument("application_id", metavar="APP_ID")
@click.option(
    "--decision",
    "decision_id",
    type=click.IntRange(min=1),
    default=None,
    help="A specific decision of the application (default: the one in force, else its latest).",
)
@rulebook_options
@domain_errors  # outside with_store, which names a failing record first
@with_store
def replay(application_id, decision_id, book, store):
    """Re-evaluate a stored decision under its stored ruleset, its input and the history the
    record held when it was proposed (recomputed from the record); exit 1 if it differs."""
    decision_id = records.replay_target(store, application_id, decision_id)
    r = records.replay(store, decision_id, book)
    click.echo(t("record_cli.replay.head", decision=r.decision_id, app=r.application_id, digest=r.stored_digest))
    if r.ruleset_changed:
        click.echo(t("record_cli.replay.ruleset_changed", current=r.current_digest))
    compared = t("record_cli.replay.everything") if r.compared == COMPARED else r.compared
    click.echo(t("record_cli.replay.compared", compared=compared))
    if r.identical:
        click.echo(t("record_cli.replay.identical"))
        click.echo(t("record_cli.replay.trace_identical" if r.trace_identical else "record_cli.replay.trace_differs"))
    else:
        click.echo(t("record_cli.replay.different", differences=", ".join(r.differences)))
        sys.exit(1)


@click.command()
@click.argument("application_id", metavar="APP_ID")
@click.option("--out", "out_dir", required=True, type=OutputPath(folder=True), help="Folder to write the notices to.")
@click.option(
    "--lang",
    type=click.Choice(["zh", "en", "zh-en"]),
    default="zh",
    show_default=True,
    help="zh-en: the Chinese letter, its English translation for reference, and the Chinese annex.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "html", "pdf", "docx"]),
    default="html",
    show_default=True,
    help="pdf needs the [pdf] extra (WeasyPrint), docx the [docx] extra (python-docx).",
)
@click.option(
    "--date",
    "notice_date",
    callback=date_value,
    default=None,
    metavar="YYYY-MM-DD",
    help="Date of the notice, today (China Standard Time) or later; deadlines count from it. Default: today.",
)
@click.option(
    "--decision",
    "decision_id",
    type=click.IntRange(min=1),
    default=None,
    help="A specific confirmed decision (default: the one in force).",
)
@click.option(
    "--authority",
    "authority_file",
    envvar="SHUANGTAN_AUTHORITY",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="The issuing authority (name, 文号 form, contact, 复议机关, court, levy account, 抄送): a YAML file; "
    "default $SHUANGTAN_AUTHORITY, else the bundled example.",
)
@person_option("--by", "--officer", help="The officer account issuing the notices")
@domain_errors  # outside with_store, which names a failing record first
@with_store
def notice(application_id, out_dir, lang, fmt, notice_date, decision_id, authority_file, person, store):
    """Issue the notices of a confirmed decision: approval, denial, rectification, levy, and a
    变更/撤销 notice for an earlier decision it replaced. Each is a letter (发文机关, 文号, the
    decision and its basis, remedies, contact, 落款 and seal, 抄送) with the review details as its
    annex; numbered and dated once, asking again writes out the notice kept on record, byte for byte."""
    from engine.authority import resolve_authority

    if fmt == "pdf":
        try:
            import weasyprint  # noqa: F401
        except ImportError:
            raise click.ClickException(t("record_cli.notice.needs_pdf")) from None
    if fmt == "docx":
        try:
            import docx  # noqa: F401
        except ImportError:
            raise click.ClickException(t("record_cli.notice.needs_docx")) from None
    authority = resolve_authority(authority_file)
    with writing(out_dir, "--out", others=False):
        issued = records.issue_notices(
            store,
            application_id,
            out_dir,
            person,
            lang,
            fmt,
            notice_date,
            decision_id,
            authority=authority,
        )
    for n in issued:
        again = t("record_cli.notice.again") if n.reissued else ""
        kind = saying.pad(t(f"record_cli.notice_kind.{n.kind}"), 14)
        click.echo(
            t(
                "record_cli.notice.line",
                kind=kind,
                number=n.number,
                date=n.notice_date.isoformat(),
                path=n.path,
                again=again,
            )
        )
    if issued and issued[0].superseded:
        click.echo(t("record_cli.notice.superseded", decision=issued[0].decision_id, superseded=issued[0].superseded))
    if not issued:
        click.echo(t("record_cli.notice.none"))


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl", "xlsx"]),
    default=None,
    help="Default: from --out's name (.csv, .jsonl, .xlsx); csv on standard output.",
)
@click.option("--out", "out_path", type=OutputPath(allow_dash=True, path_type=None), default="-", show_default=True)
@bom_option
@click.option(
    "--all", "include_superseded", is_flag=True, help="Include superseded decisions (default: in force only)."
)
@click.option("--since", callback=date_value, metavar="YYYY-MM-DD", help="Confirmed on or after (CST date).")
@click.option("--until", callback=date_value, metavar="YYYY-MM-DD", help="Confirmed on or before (CST date).")
@rulebook_options
@domain_errors  # outside reading_store, which names a failing record first
@reading_store
def export(fmt, out_path, bom, include_superseded, since, until, book, store):
    """Decisions for the provincial platform: CSV (flat dotted columns) or JSON Lines (full documents).

    XLSX too (the CSV's columns under Chinese headers). A CSV file starts with a UTF-8 BOM, for
    Excel (--no-bom to omit it); on standard output it never does.
    """
    kwargs = dict(include_superseded=include_superseded, since=since, until=until)
    if out_path == "-":
        if fmt == "xlsx":
            raise click.BadParameter(t("tables.xlsx_to_a_file"), param_hint="--format")
        n = records_view.export(store, book, sys.stdout, fmt or "csv", **kwargs)
    else:
        if store.dialect == "sqlite" and store.engine.url.database:
            distinct_files({"--db": store.engine.url.database, "--out": out_path})
        named = fmt if fmt and not Path(out_path).suffix else output_format(Path(out_path), ("csv", "jsonl", "xlsx"))
        if fmt and fmt != named:
            raise click.UsageError(t("tables.format_conflict", fmt=fmt, path=out_path))
        # the file appears whole when the export completes; an existing one is kept until then
        mode = "wb" if named == "xlsx" else "w"
        with writing(out_path, "--out"), open_replacing(out_path, mode, newline="") as fh:
            n = records_view.export(store, book, fh, named, bom=bom, **kwargs)
    click.echo(t("record_cli.export.done", n=n), err=True)


def register(group):
    for cmd in (submit, decide, confirm, return_cmd, replay, notice, export):
        group.add_command(cmd)
