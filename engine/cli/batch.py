"""shuangtan evaluate: decide a batch, streaming, one decision per line in input order."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from ..application import parse_application
from ..batchio import RecordError, detect_format, dumps_decision, read_records
from ..errors import DateNotCoveredError, InvalidApplicationError
from ..rete import ReteEngine
from .common import progress_wanted, rulebook_options


def _reject(rejects, line, raw, errors, app_id=None):
    if rejects is not None:
        rejects.write(json.dumps({"line": line, "application_id": app_id,
                                  "errors": [{"path": p, "message": m} for p, m in errors],
                                  "record": raw}, ensure_ascii=False) + "\n")


def decide_stream(book, records, out, rejects):
    """Decide every good record, reject every bad one; returns (decided, rejected)."""
    engine = ReteEngine.for_rulebook(book)
    decided = rejected = 0
    for line, raw, doc in records:
        if isinstance(doc, RecordError):
            _reject(rejects, line, raw, doc.errors)
            rejected += 1
            continue
        try:
            app = parse_application(doc)
            decision = engine.decide(app)
        except InvalidApplicationError as exc:
            _reject(rejects, line, raw, exc.errors, doc.get("application_id") if isinstance(doc, dict) else None)
            rejected += 1
            continue
        except DateNotCoveredError as exc:
            _reject(rejects, line, raw, [("period.end", str(exc))], app.application_id)
            rejected += 1
            continue
        out.write(dumps_decision(decision) + "\n")
        decided += 1
    return decided, rejected


@click.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False, exists=True, allow_dash=True))
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Decisions, one JSON document per line, in input order.")
@click.option("--rejects", "rejects_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Bad records with their line number and every reason (JSON Lines).")
@click.option("--input-format", type=click.Choice(["jsonl", "csv"]), default=None,
              help="Default: from the file name (.jsonl, .csv).")
@rulebook_options
def evaluate(input_path, out_path, rejects_path, input_format, book):
    """Decide a batch of applications (JSON Lines or CSV with dotted columns).

    Never stops at a bad record: each goes to --rejects with its line number and reasons.
    Exits non-zero only when it could not run at all.
    """
    fmt = detect_format(input_path, input_format)
    started = time.perf_counter()
    src = sys.stdin if input_path == "-" else open(input_path, encoding="utf-8", newline="")
    with src, open(out_path, "w", encoding="utf-8") as out, \
            (open(rejects_path, "w", encoding="utf-8") if rejects_path else _Null()) as rejects:
        records = read_records(src, fmt)
        if progress_wanted() and input_path != "-":
            size = Path(input_path).stat().st_size
            with click.progressbar(length=size, label="deciding", file=sys.stderr) as bar:
                def counted():
                    for rec in records:
                        bar.update(len(rec[1].encode()) + 1)
                        yield rec
                decided, rejected = decide_stream(book, counted(), out, rejects if rejects_path else None)
        else:
            decided, rejected = decide_stream(book, records, out, rejects if rejects_path else None)
    elapsed = time.perf_counter() - started
    rate = decided / elapsed if elapsed > 0 else 0
    click.echo(f"decided {decided}, rejected {rejected}, total {decided + rejected} "
               f"in {elapsed:.2f} s ({rate:,.0f} decisions/s)", err=True)
    if rejected and not rejects_path:
        click.echo("note: rejected records were not kept; pass --rejects FILE to keep them", err=True)


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def write(self, _):
        pass


def register(group):
    group.add_command(evaluate)
