"""shuangtan verify-backends and evaluate-columnar: populations through the columnar backend."""

from __future__ import annotations

import time
from pathlib import Path

import click

from engine.atomic import replacing
from engine.cli.common import check_output, distinct_files, domain_errors, rulebook_options, terminated_cleanly, writing
from engine.cli.tables_opts import bom_option, output_format
from engine.i18n import t


@click.command("verify-backends")
@click.option(
    "--n",
    "n",
    type=click.IntRange(min=1),
    default=3000,
    show_default=True,
    help="Applications to generate (random and on every rule boundary).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--show",
    type=click.IntRange(min=0),
    default=50,
    show_default=True,
    help="Disagreements to print (all are counted).",
)
@rulebook_options
def verify_backends(n, seed, show, book):
    """Decide N generated applications with the Rete and the columnar backend; compare every cell.

    Exit 0 when they agree everywhere (the only acceptable result), 1 otherwise.
    """
    from engine.backends import decide_frame
    from engine.backends.columnar.verify import Generator, disagreements

    frame = Generator(book, seed).frame(n)
    t0 = time.perf_counter()
    rete = decide_frame(book, frame, backend="rete")
    t1 = time.perf_counter()
    col = decide_frame(book, frame, backend="columnar")
    t2 = time.perf_counter()
    diffs = disagreements(rete, col)
    rejected = int(rete.get_column("error").is_not_null().sum())
    click.echo(
        t(
            "record_cli.scale.compared",
            n=n,
            seed=seed,
            rejected=rejected,
            rete=f"{t1 - t0:.2f}",
            columnar=f"{t2 - t1:.3f}",
        )
    )
    for row, app_id, column, a, b in diffs[:show]:
        click.echo(t("record_cli.scale.disagreement", row=row, app=app_id, column=column, a=repr(a), b=repr(b)))
    plural = "record_cli.scale.disagreements_one" if len(diffs) == 1 else "record_cli.scale.disagreements"
    click.echo(t(plural, n=len(diffs)))
    if diffs:
        raise SystemExit(1)


@click.command("evaluate-columnar")
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--out",
    "out_path",
    type=click.Path(path_type=Path),
    help="Decisions file (.parquet or .csv; dotted columns).",
)
@click.option(
    "--out-dir",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="With --cluster: the folder the parts of the decisions are written to (Parquet).",
)
@click.option(
    "--input-format",
    type=click.Choice(["parquet", "jsonl", "csv", "xlsx"]),
    default=None,
    help="Default: from the file name.",
)
@bom_option
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=250_000,
    show_default=True,
    help="Applications per chunk (bounds memory).",
)
@click.option(
    "--cluster",
    "cluster",
    default=None,
    metavar="ADDRESS|local",
    help="Run partition-wise on a Dask cluster (Parquet input only).",
)
@click.option(
    "--workers", type=click.IntRange(min=1), default=2, show_default=True, help="Worker processes of a local cluster."
)
@rulebook_options
@domain_errors  # an input that is not Parquet: one line, exit 2
def evaluate_columnar(input_path, out_path, out_dir, input_format, bom, chunk_size, cluster, workers, book):
    """Decide a population with the columnar backend (same decisions as `evaluate`, flat rows).

    Rows that fail validation are kept with their line number and an error message.
    """
    if cluster:
        if out_dir is None or out_path is not None:
            raise click.UsageError(t("tables.cluster_out_dir"))
        run_columnar(book, input_path, out_dir, input_format, chunk_size, cluster, workers, out_hint="--out-dir")
        return
    if out_path is None or out_dir is not None:
        raise click.UsageError(t("tables.out_not_dir"))
    output_format(out_path, ("parquet", "csv"))
    run_columnar(book, input_path, out_path, input_format, chunk_size, cluster, workers, bom=bom)


def run_columnar(
    book,
    input_path,
    out_path,
    input_format=None,
    chunk_size=250_000,
    cluster=None,
    workers=2,
    bom=True,
    out_hint="--out",
):
    """Shared by evaluate-columnar and evaluate --backend columnar: decide a file, print the counts.
    ``bom``: a CSV output starts with a UTF-8 BOM (engine.tables.writing); ``out_hint``: the
    option that named the output (evaluate --cluster: --out-dir)."""
    from engine.batch.readers import detect_format

    check_output(out_path, out_hint, folder=bool(cluster))
    distinct_files({"INPUT": input_path, out_hint: out_path})
    started = time.perf_counter()
    if cluster:
        if detect_format(str(input_path), input_format) != "parquet":
            raise click.BadParameter("--cluster needs a Parquet input", param_hint="INPUT")
        from engine.batch.distributed import decide_parquet_distributed

        with writing(out_path, out_hint, others=False):
            summary = decide_parquet_distributed(
                book, input_path, out_path, cluster, n_workers=workers, rows_per_partition=chunk_size
            )
        total, rejected = summary["rows"], summary["rejected"]
    else:
        from engine.batch.parquet import decide_file

        # the input's errors are not the output's; the file appears whole when the run completes
        with terminated_cleanly(), writing(out_path, out_hint, others=False), replacing(out_path) as part:
            decided, rejected = decide_file(book, input_path, part, chunk_size, input_format, bom=bom)
        total = decided + rejected
    elapsed = time.perf_counter() - started
    click.echo(
        t(
            "record_cli.batch.scale_done",
            decided=total - rejected,
            rejected=rejected,
            total=total,
            seconds=f"{elapsed:.2f}",
            rate=f"{total / elapsed if elapsed else 0:,.0f}",
        ),
        err=True,
    )


def register(group):
    group.add_command(verify_backends)
    group.add_command(evaluate_columnar)
