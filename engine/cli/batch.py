"""shuangtan evaluate: decide a batch, streaming, one decision per line in input order."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from pathlib import Path

import click

from engine.atomic import open_replacing
from engine.batch.readers import detect_format, read_records
from engine.batch.run import decide_stream
from engine.cli.common import (
    OutputPath,
    check_output,
    distinct_files,
    domain_errors,
    output_errors,
    partial_option,
    progress_wanted,
    rulebook_options,
    system_problem,
    terminated_cleanly,
)
from engine.errors import OutputError


@click.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False, exists=True, allow_dash=True))
# --out is a file, or with --cluster a folder: checked in the body, once the backend is known.
@click.option(
    "--out",
    "out_path",
    required=True,
    type=click.Path(path_type=Path),
    help="Decisions, one JSON document per line, in input order.",
)
@click.option(
    "--rejects",
    "rejects_path",
    type=OutputPath(),
    help="Bad records with their line number and every reason (JSON Lines).",
)
@click.option(
    "--input-format",
    type=click.Choice(["jsonl", "csv", "parquet"]),
    default=None,
    help="Default: from the file name (.jsonl, .csv, .parquet).",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes of the Rete path (default: the number of cores).",
)
@click.option(
    "--backend",
    type=click.Choice(["auto", "rete", "columnar"]),
    default="auto",
    show_default=True,
    help="rete: full decision documents with trace (JSON Lines out); columnar: flat decision rows "
    "(Parquet or CSV out, same statuses, amounts and reason codes). auto: columnar when the "
    "input or --out is Parquet, else rete.",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=250_000,
    show_default=True,
    help="Applications per chunk on the columnar path (bounds memory).",
)
@click.option(
    "--cluster",
    default=None,
    metavar="ADDRESS|local",
    help="Columnar path on a Dask cluster, partition-wise (Parquet input; --out is a folder).",
)
@partial_option
@rulebook_options
@domain_errors  # an input that is not text, or not Parquet: one line, exit 2
def evaluate(input_path, out_path, rejects_path, input_format, jobs, backend, chunk_size, cluster, book, partial):
    """Decide a batch of applications (JSON Lines, CSV with dotted columns, or Parquet).

    Never stops at a bad record: each goes to --rejects with its line number and reasons
    (on the columnar path, a bad row keeps its line and an `error` in the output).
    Exits non-zero only when it could not run at all. With --partial (the Rete path, JSON
    Lines out) a field a record leaves out, or an empty CSV cell, is unknown.
    """
    fmt = detect_format(input_path, input_format)
    if partial:
        if backend == "columnar" or cluster or fmt == "parquet" or out_path.suffix.lower() == ".parquet":
            raise click.BadParameter(
                "partial decisions are documents: the Rete path, JSON Lines or CSV in, JSON Lines out",
                param_hint="--partial",
            )
        backend = "rete"
    if backend == "auto":
        flat_out = out_path.suffix.lower() == ".parquet"
        backend = "columnar" if (fmt == "parquet" or flat_out or cluster) else "rete"
    if backend == "columnar":
        if rejects_path:
            raise click.BadParameter(
                "the columnar path keeps bad rows in --out with an error column", param_hint="--rejects"
            )
        from engine.cli.scale import run_columnar

        return run_columnar(book, Path(input_path), out_path, fmt, chunk_size, cluster)
    if fmt == "parquet":
        raise click.BadParameter("Parquet input is decided by the columnar backend", param_hint="--backend")
    check_output(out_path, "--out")
    distinct_files({"INPUT": input_path, "--out": out_path, "--rejects": rejects_path})
    jobs = jobs or os.cpu_count() or 1
    started = time.perf_counter()
    decided = rejected = 0
    # Bytes that are not UTF-8 are kept as surrogate escapes: that record is rejected, not the file.
    if input_path == "-":
        src = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="surrogateescape", newline="")
    else:
        try:
            src = open(input_path, encoding="utf-8", errors="surrogateescape", newline="")
        except OSError as exc:
            raise click.BadParameter(f"cannot read {input_path}: {system_problem(exc)}", param_hint="INPUT") from None
    outputs = {"--out": out_path, "--rejects": rejects_path}
    with terminated_cleanly(), output_errors(outputs), contextlib.ExitStack() as stack:
        stack.enter_context(src)
        # Both written beside their final names and renamed when the run completes: an existing
        # --out is replaced only then, and an interrupted run leaves nothing that looks finished.
        out = stack.enter_context(open_replacing(out_path))
        rejects = stack.enter_context(open_replacing(rejects_path)) if rejects_path else None
        records = read_records(src, fmt)
        bar = None
        if progress_wanted() and input_path != "-":
            bar = click.progressbar(length=Path(input_path).stat().st_size, label="deciding", file=sys.stderr)
            records = _counted(records, bar)
        try:
            for ok, line in decide_stream(book, records, jobs, partial):
                if ok:
                    decided += 1
                    try:
                        out.write(line + "\n")
                    except OSError as exc:
                        raise OutputError(out_path, system_problem(exc)) from None
                else:
                    rejected += 1
                    if rejects:
                        try:
                            rejects.write(line + "\n")
                        except OSError as exc:
                            raise OutputError(rejects_path, system_problem(exc)) from None
        finally:
            if bar is not None:
                bar.render_finish()
    elapsed = time.perf_counter() - started
    rate = decided / elapsed if elapsed > 0 else 0
    click.echo(
        f"decided {decided}, rejected {rejected}, total {decided + rejected} "
        f"in {elapsed:.2f} s ({rate:,.0f} decisions/s, {jobs} process{'es' if jobs > 1 else ''})",
        err=True,
    )
    if rejected and not rejects_path:
        click.echo("note: rejected records were not kept; pass --rejects FILE to keep them", err=True)


def _counted(records, bar):
    for rec in records:
        bar.update(len(rec[1].encode()) + 1)
        yield rec


def register(group):
    group.add_command(evaluate)
