"""shuangtan evaluate: decide a batch, streaming, one decision per line in input order."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

from ..batchio import detect_format, read_records
from ..batchrun import decide_stream
from .common import progress_wanted, rulebook_options


@click.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False, exists=True, allow_dash=True))
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Decisions, one JSON document per line, in input order.")
@click.option("--rejects", "rejects_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Bad records with their line number and every reason (JSON Lines).")
@click.option("--input-format", type=click.Choice(["jsonl", "csv"]), default=None,
              help="Default: from the file name (.jsonl, .csv).")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
              help="Worker processes (default: the number of cores).")
@rulebook_options
def evaluate(input_path, out_path, rejects_path, input_format, jobs, book):
    """Decide a batch of applications (JSON Lines or CSV with dotted columns).

    Never stops at a bad record: each goes to --rejects with its line number and reasons.
    Exits non-zero only when it could not run at all.
    """
    fmt = detect_format(input_path, input_format)
    jobs = jobs or os.cpu_count() or 1
    started = time.perf_counter()
    decided = rejected = 0
    src = sys.stdin if input_path == "-" else open(input_path, encoding="utf-8", newline="")
    rejects = open(rejects_path, "w", encoding="utf-8") if rejects_path else None
    try:
        with src, open(out_path, "w", encoding="utf-8") as out:
            records = read_records(src, fmt)
            bar = None
            if progress_wanted() and input_path != "-":
                bar = click.progressbar(length=Path(input_path).stat().st_size, label="deciding", file=sys.stderr)
                records = _counted(records, bar)
            try:
                for ok, line in decide_stream(book, records, jobs):
                    if ok:
                        out.write(line + "\n")
                        decided += 1
                    else:
                        rejected += 1
                        if rejects:
                            rejects.write(line + "\n")
            finally:
                if bar is not None:
                    bar.render_finish()
    finally:
        if rejects:
            rejects.close()
    elapsed = time.perf_counter() - started
    rate = decided / elapsed if elapsed > 0 else 0
    click.echo(f"decided {decided}, rejected {rejected}, total {decided + rejected} "
               f"in {elapsed:.2f} s ({rate:,.0f} decisions/s, {jobs} process{'es' if jobs > 1 else ''})", err=True)
    if rejected and not rejects_path:
        click.echo("note: rejected records were not kept; pass --rejects FILE to keep them", err=True)


def _counted(records, bar):
    for rec in records:
        bar.update(len(rec[1].encode()) + 1)
        yield rec


def register(group):
    group.add_command(evaluate)
