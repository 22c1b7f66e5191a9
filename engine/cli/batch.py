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
from engine.cli.tables_opts import bom_option, decision_table, encoding_option, output_format
from engine.errors import OutputError
from engine.i18n import t
from engine.tables.cells import with_cells
from engine.tables.encoding import SNIFF


@click.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False, exists=True, allow_dash=True))
# --out is a file whose suffix is its format; --cluster writes a folder of parts, named --out-dir.
@click.option(
    "--out",
    "out_path",
    type=click.Path(path_type=Path),
    help="Decisions in input order, in the format the name says: .jsonl (one document per line), "
    ".csv or .xlsx (one flat row per application), .parquet (the columnar backend).",
)
@click.option(
    "--out-dir",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="With --cluster: the folder the parts of the decisions are written to (Parquet).",
)
@click.option(
    "--rejects",
    "rejects_path",
    type=OutputPath(),
    help="Bad records with their line number and every reason (JSON Lines).",
)
@click.option(
    "--input-format",
    type=click.Choice(["jsonl", "csv", "xlsx", "parquet"]),
    default=None,
    help="Default: from the file name (.jsonl, .csv, .xlsx, .parquet).",
)
@encoding_option
@bom_option
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
def evaluate(
    input_path,
    out_path,
    out_dir,
    rejects_path,
    input_format,
    encoding,
    bom,
    jobs,
    backend,
    chunk_size,
    cluster,
    book,
    partial,
):
    """Decide a batch of applications (JSON Lines, CSV with dotted columns, XLSX, or Parquet).

    Never stops at a bad record: each goes to --rejects with its line number and reasons
    (on the columnar path, a bad row keeps its line and an `error` in the output).
    Exits non-zero only when it could not run at all. With --partial (the Rete path, JSON
    Lines out) a field a record leaves out, or an empty CSV cell, is unknown.
    """
    fmt = detect_format(input_path, input_format)
    if cluster:
        if out_dir is None or out_path is not None:
            raise click.UsageError(t("tables.cluster_out_dir"))
        out_path = out_dir
        out_fmt = "parquet"
    elif out_path is None or out_dir is not None:
        raise click.UsageError(t("tables.out_not_dir"))
    else:
        out_fmt = output_format(out_path)
    if partial:
        if backend == "columnar" or cluster or fmt == "parquet" or out_fmt != "jsonl":
            raise click.BadParameter(
                "partial decisions are documents: the Rete path, JSON Lines or CSV in, JSON Lines out",
                param_hint="--partial",
            )
        backend = "rete"
    if backend == "auto":
        backend = "columnar" if (fmt == "parquet" or out_fmt == "parquet" or cluster) else "rete"
    if backend == "columnar":
        if out_fmt not in ("parquet", "csv"):
            raise click.UsageError(t("tables.columnar_out", path=out_path))
        if rejects_path:
            raise click.BadParameter(
                "the columnar path keeps bad rows in --out with an error column", param_hint="--rejects"
            )
        from engine.cli.scale import run_columnar

        hint = "--out-dir" if cluster else "--out"
        return run_columnar(book, Path(input_path), out_path, fmt, chunk_size, cluster, bom=bom, out_hint=hint)
    if fmt == "parquet":
        raise click.BadParameter("Parquet input is decided by the columnar backend", param_hint="--backend")
    check_output(out_path, "--out")
    distinct_files({"INPUT": input_path, "--out": out_path, "--rejects": rejects_path})
    jobs = jobs or os.cpu_count() or 1
    started = time.perf_counter()
    decided = rejected = 0
    # Read as bytes (engine.contract.formats decodes them): bytes not in the file's encoding reject
    # their record, not the file. The buffer is the block the encoding is chosen on.
    if input_path == "-":
        src = io.BufferedReader(sys.stdin.buffer.raw, buffer_size=SNIFF)
    else:
        try:
            src = open(input_path, "rb", buffering=SNIFF)
        except OSError as exc:
            raise click.BadParameter(
                t("record_cli.batch.cannot_read", path=input_path, why=system_problem(exc)), param_hint="INPUT"
            ) from None
    outputs = {"--out": out_path, "--rejects": rejects_path}
    with terminated_cleanly(), output_errors(outputs), contextlib.ExitStack() as stack:
        stack.enter_context(src)
        # Both written beside their final names and renamed when the run completes: an existing
        # --out is replaced only then, and an interrupted run leaves nothing that looks finished.
        out = stack.enter_context(decision_table(out_path, out_fmt, book, bom))
        rejects = stack.enter_context(open_replacing(rejects_path)) if rejects_path else None
        header: list[str] = []  # a CSV or XLSX file's columns: a reject names its bad cells
        records = read_records(src, fmt, encoding, header)
        if out_fmt != "jsonl":
            records = out.regions(records)
        bar = None
        if progress_wanted() and input_path != "-":
            bar = click.progressbar(
                length=Path(input_path).stat().st_size, label=t("record_cli.batch.deciding"), file=sys.stderr
            )
            records = _counted(records, bar)
        try:
            for ok, line in decide_stream(book, records, jobs, partial):
                if ok:
                    decided += 1
                    try:
                        out.write(line)
                    except OSError as exc:
                        raise OutputError(out_path, system_problem(exc)) from None
                else:
                    rejected += 1
                    out.rejected()
                    if rejects:
                        if header:
                            line = with_cells(line, header)
                        try:
                            rejects.write(line + "\n")
                        except OSError as exc:
                            raise OutputError(rejects_path, system_problem(exc)) from None
        finally:
            if bar is not None:
                bar.render_finish()
    elapsed = time.perf_counter() - started
    rate = decided / elapsed if elapsed > 0 else 0
    processes = t("record_cli.batch.processes" if jobs > 1 else "record_cli.batch.process", n=jobs)
    click.echo(
        t(
            "record_cli.batch.done",
            decided=decided,
            rejected=rejected,
            total=decided + rejected,
            seconds=f"{elapsed:.2f}",
            rate=f"{rate:,.0f}",
            jobs=processes,
        ),
        err=True,
    )
    if rejected and not rejects_path:
        click.echo(t("record_cli.batch.rejects_note"), err=True)


def _counted(records, bar):
    for rec in records:
        bar.update(len(rec[1].encode()) + 1)
        yield rec


def register(group):
    group.add_command(evaluate)
