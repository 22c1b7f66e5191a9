"""Drafters' commands: rules validate, population generate, simulate, explain --why-not."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from engine.atomic import replacing, replacing_folder
from engine.cli.common import (
    OutputPath,
    ReformPath,
    domain_errors,
    load_book,
    partial_option,
    progress_wanted,
    rulebook_options,
    rules_option,
    writing,
)
from engine.cli.telemetry import telemetry_options
from engine.drafting import MAX_POPULATION
from engine.i18n import t


@click.command("validate")
@rulebook_options
@domain_errors
def validate_cmd(book):
    """Find authoring mistakes: overlapping tiers, thresholds outside a field's range,
    reasons that can never fire, parameters never used. Exit 1 on any error."""
    from engine.rulebook.checks import validate

    found = validate(book)
    click.echo(t("rules.ruleset", version=book.version, digest=book.digest))
    for f in found:
        click.echo(f.text())
    errors = sum(f.level == "error" for f in found)
    warnings = len(found) - errors
    if not found:
        click.echo(t("rules.validate.no_findings"))
    else:
        click.echo(
            t(
                "rules.validate.counts",
                errors=t("rules.validate.errors" + ("_one" if errors == 1 else ""), n=errors),
                warnings=t("rules.validate.warnings" + ("_one" if warnings == 1 else ""), n=warnings),
            )
        )
    if errors:
        raise SystemExit(1)


# --- population generate ----------------------------------------------------------------
@click.group("population")
def population():
    """Synthetic populations of applications for simulation."""


@population.command("generate")
@click.option(
    "--n",
    "n",
    type=click.IntRange(1, MAX_POPULATION),
    required=True,
    help=f"Number of applications (at most {MAX_POPULATION:,}: the population is built in memory).",
)
@click.option(
    "--seed", type=click.IntRange(min=0), required=True, help="Random seed: the same seed gives the same file."
)
@click.option(
    "--year",
    type=click.IntRange(2026, 2100),
    default=2027,
    show_default=True,
    help="Calendar year of every application's period.",
)
@click.option(
    "--out",
    "out",
    type=OutputPath(),
    required=True,
    help="Output file: .parquet (typed, exact decimals), .jsonl (CONTRACT documents), .csv or .xlsx.",
)
def population_generate(n, seed, year, out):
    """Generate N synthetic applications calibrated to the Shanxi facts of source S §2."""
    from engine.drafting.population import FORMATS, generate, write_population

    if out.suffix.lower() not in FORMATS:
        raise click.BadParameter(
            t("drafting.population_suffix", name=out.name, formats=", ".join(FORMATS)), param_hint="--out"
        )
    started = time.perf_counter()
    frame = generate(n, seed, year)
    with writing(out, "--out"), replacing(out) as part:  # the file appears whole, or not at all
        write_population(frame, part)
    seconds = f"{time.perf_counter() - started:.2f}"
    click.echo(t("drafting.population_written", n=f"{frame.height:,}", path=out, seconds=seconds), err=True)


# --- simulate ----------------------------------------------------------------------------
@click.command()
@click.option(
    "--population",
    "population_path",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Population file (.parquet, .jsonl, or .csv/.xlsx with dotted or labelled columns).",
)
@click.option(
    "--reform",
    "reforms",
    multiple=True,
    required=True,
    type=ReformPath(),
    help="Reform to evaluate against the baseline: a file or a bundled reform's name (repeatable, in order).",
)
@click.option(
    "--baseline-reform",
    "baseline_reforms",
    multiple=True,
    type=ReformPath(),
    help="Reform already in the baseline (repeatable); the reform scenario builds on it.",
)
@rules_option
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=OutputPath(folder=True),
    help="Folder for report.md, summary.json, CSV tables and PNG charts.",
)
@click.option(
    "--backend",
    type=click.Choice(["auto", "columnar", "rete"]),
    default="auto",
    show_default=True,
    help="auto: the columnar backend when installed, else the Rete engine.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Processes for the Rete backend (with --cluster local: Dask worker processes).",
)
@click.option(
    "--cluster",
    "cluster",
    default=None,
    metavar="ADDRESS|local",
    help="Decide partition-wise on a Dask cluster (a scheduler address, or 'local' for a "
    "LocalCluster); Parquet population, columnar backend. Same results as one machine.",
)
@click.option(
    "--xlsx",
    "xlsx",
    is_flag=True,
    help="Also write tables.xlsx: the CSV tables as sheets, with Chinese headers.",
)
@click.option(
    "--partition-rows",
    type=click.IntRange(min=1),
    default=500_000,
    show_default=True,
    help="With --cluster: rows per task (whole Parquet row groups).",
)
@domain_errors
def simulate(
    population_path, reforms, baseline_reforms, rules_dir, out_dir, backend, workers, cluster, xlsx, partition_rows
):
    """Evaluate a population under the baseline and under a reform, and report the difference."""
    import polars as pl  # the [columnar] extra: imported here so that `rules` and `explain` need no Polars

    from engine.drafting.population import read_population
    from engine.drafting.simulate import simulate as run

    base_book = load_book(rules_dir, baseline_reforms)
    reform_book = load_book(rules_dir, (*baseline_reforms, *reforms))
    if cluster:
        _simulate_on_cluster(
            population_path,
            base_book,
            reform_book,
            out_dir,
            backend,
            workers,
            cluster,
            reforms,
            baseline_reforms,
            partition_rows,
        )
        return
    try:
        frame = read_population(population_path)
    except (ValueError, OSError, pl.exceptions.PolarsError) as exc:
        raise click.BadParameter(_cannot_read(population_path, exc), param_hint="--population") from None
    used = "columnar" if backend == "auto" else backend
    if progress_wanted():
        with click.progressbar(length=2 * frame.height, label=t("drafting.deciding"), file=sys.stderr) as bar:
            result = run(frame, base_book, reform_book, used, workers, progress=bar.update)
    else:
        result = run(frame, base_book, reform_book, used, workers)
    ends = frame["period.end"].drop_nulls()
    _report(
        result,
        out_dir,
        population_path,
        used,
        t("report.periods_span", first=ends.min(), last=ends.max()) if ends.len() else "?",
        reforms,
        baseline_reforms,
        t(
            "report.decided_in",
            decide=f"{result.timings['baseline']:.2f}",
            compare=f"{result.timings['reform']:.2f}",
            backend=used,
        ),
    )


def _report(result, out_dir, population_path, backend, periods, reforms, baseline_reforms, how):
    """Write the simulation's files and say what changed, the same for one machine and a cluster."""
    from engine.drafting.simulate import write_outputs

    meta = {
        "population": str(population_path),
        "backend": backend,
        "periods": periods,
        "reforms": [str(p) for p in reforms],
        "baseline_reforms": [str(p) for p in baseline_reforms],
    }
    with writing(out_dir, "--out"), replacing_folder(out_dir, last="report.md") as part:
        files = write_outputs(result, part, meta, xlsx=click.get_current_context().params.get("xlsx", False))
    from engine.drafting.report import printed_lines

    for line in printed_lines(result, how, files, out_dir):
        click.echo(line)


def _simulate_on_cluster(
    population_path,
    base_book,
    reform_book,
    out_dir,
    backend,
    workers,
    cluster,
    reforms,
    baseline_reforms,
    partition_rows,
):
    import polars as pl

    from engine.batch.distributed import simulate_distributed

    if population_path.suffix.lower() != ".parquet":
        raise click.BadParameter(t("drafting.cluster_parquet"), param_hint="--population")
    if backend == "rete":
        raise click.BadParameter(t("drafting.cluster_columnar"), param_hint="--backend")
    try:
        ends = (
            pl.scan_parquet(population_path)
            .select(pl.col("period.end").min().alias("lo"), pl.col("period.end").max().alias("hi"))
            .collect()
            .row(0)
        )
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise click.BadParameter(_cannot_read(population_path, exc), param_hint="--population") from None
    result = simulate_distributed(
        population_path, base_book, reform_book, cluster, n_workers=workers, rows_per_partition=partition_rows
    )
    timings = result.timings
    click.echo(t("drafting.cluster_partitions", partitions=timings["partitions"], workers=timings["workers"]), err=True)
    _report(
        result,
        out_dir,
        population_path,
        t("drafting.cluster_backend", cluster=cluster),
        t("report.periods_span", first=ends[0], last=ends[1]) if ends[0] is not None else "?",
        reforms,
        baseline_reforms,
        t("drafting.cluster_decided", seconds=f"{timings['cluster']:.2f}"),
    )


def _cannot_read(path, exc: Exception) -> str:
    """``cannot read pop.xlsx: …`` in the language in force (a reader's English problem translated)."""
    from engine.i18n.problems import problem

    return t("errors.cannot_read", path=path, problem=problem(getattr(exc, "problem", None) or str(exc)))


# --- explain --why-not ---------------------------------------------------------------
@click.command()
@click.argument("file", metavar="FILE|-")
@click.option(
    "--why-not",
    "outcome",
    required=True,
    help="The outcome to explain (e.g. storage_subsidy): the smallest data changes that grant it "
    "(meet a check; for a levy, each way to be exempt).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@partial_option
@telemetry_options
@rulebook_options
@domain_errors
def explain(file, outcome, fmt, book, telemetry_path, system_id, partial):
    """The smallest changes to an application that would turn a denial into a grant, a check
    not met into met, or a levy into an exemption.

    Computed from the rules (each failing comparison solved for the fields it reads) and
    verified by deciding the changed application with the engine. With --telemetry the
    starting point is what the meter shows, not what was declared. With --partial, only the
    suggestions that hold whatever the unknown fields are.
    """
    import json

    from engine.contract.application import parse_application
    from engine.drafting.whynot import why_not
    from engine.drafting.whynot_text import render_text

    names = [o.name for o in book.outcomes]
    if outcome not in names:
        raise click.BadParameter(
            t("rules.unknown_outcome", name=repr(outcome), names=", ".join(names)), param_hint="--why-not"
        )
    body = _one_document(file)
    unknown: frozenset = frozenset()
    if partial:
        from engine.partial import parse_partial_application

        given = parse_partial_application(body)
        app, unknown = given.app, given.unknown
    else:
        app = parse_application(body)
    if telemetry_path is not None:
        from engine.cli.telemetry import read_for
        from engine.telemetry.crosscheck import facts_for, metered_application

        facts = facts_for(book, app, read_for(book, app.period.end, telemetry_path), system_id)
        app, _ = metered_application(book, app, facts, unknown)
        unknown = unknown - set(facts.contract_values())
    result = why_not(book, app, outcome, unknown)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_text(result, book))


def _one_document(file):
    """The application of FILE: a JSON document, or the one row of a CSV or XLSX file (read as
    ``check`` and ``evaluate`` read it; a bad row is named by its cells)."""
    from engine.batch.readers import detect_format
    from engine.cli.common import InputError, read_input

    if file == "-" or detect_format(file) not in ("csv", "xlsx"):
        return read_input(file)
    from engine.cli.check_rows import read_rows, row_problems
    from engine.errors import BadRecordError

    rows, header = read_rows(file, None)
    if len(rows) != 1:
        raise InputError(t("drafting.explain_one_row", file=file, n=len(rows)))
    n, doc = rows[0]
    if isinstance(doc, BadRecordError):
        raise InputError(row_problems(n, doc.errors, header))
    return doc


def register(group):
    if "rules" in group.commands:
        group.commands["rules"].add_command(validate_cmd)
    group.add_command(population)
    group.add_command(simulate)
    group.add_command(explain)
