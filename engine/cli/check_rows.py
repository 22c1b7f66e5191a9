"""shuangtan check on a spreadsheet (CSV or XLSX): each row decided as a JSON application is.

The rows are read by the reader ``evaluate`` uses (engine/batch/readers.py: the same columns,
encodings, cells and refusals), so a file ``check`` accepts is one ``evaluate`` decides alike.
A bad row is named by its row number, each bad field by its label, path and cell (``M7``).
"""

from __future__ import annotations

import json

import click

from engine.cli.common import InputError, cannot_read
from engine.errors import BadRecordError, DateNotCoveredError, InvalidApplicationError
from engine.i18n import t

#: rows ``check`` decides one by one; a larger file is a batch, for ``evaluate``
MAX_ROWS = 1000


def check_rows(file, fmt, book, telemetry_path, system_id, partial, encoding) -> None:
    from engine.cli.check import decide_document, render_text

    rows, header = read_rows(file, encoding)
    if not rows:
        raise InputError(t("check.no_rows", file=file))
    if len(rows) > MAX_ROWS:
        raise InputError(t("check.too_many_rows", file=file, n=f"{len(rows):,}", max=f"{MAX_ROWS:,}"))
    if telemetry_path is not None and len(rows) > 1:
        raise click.BadParameter(t("check.telemetry_one_row", n=len(rows)), param_hint="--telemetry")
    decisions, texts, bad = [], [], 0
    for n, doc in rows:
        try:
            if isinstance(doc, BadRecordError):
                raise InvalidApplicationError(doc.errors)
            decision, app, unknown = decide_document(doc, book, telemetry_path, system_id, partial)
        except InvalidApplicationError as exc:
            if len(rows) == 1:
                raise InputError(row_problems(n, exc.errors, header)) from None
            bad += 1
            click.echo(row_problems(n, exc.errors, header), err=True)
            continue
        except DateNotCoveredError as exc:
            if len(rows) == 1:
                raise
            bad += 1
            click.echo(t("check.row_refused", row=n, problem=exc), err=True)
            continue
        decisions.append(decision)
        if fmt != "json":
            text = render_text(decision, app, unknown, book)
            texts.append(text if len(rows) == 1 else t("check.row_head", row=n) + "\n" + text)
    if fmt == "json":
        shown = decisions[0] if len(rows) == 1 else decisions
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))
    else:
        click.echo("\n\n".join(texts))
    if len(rows) > 1:
        click.echo(t("check.rows_done", decided=len(decisions), rejected=bad, total=len(rows)), err=True)
    if bad:
        raise SystemExit(2)  # invalid input, as for one JSON application: each named above


def read_rows(file: str, encoding: str | None) -> tuple[list[tuple[int, object]], list[str]]:
    """(row number, document or BadRecordError) per row of ``file``, and its columns."""
    from engine.batch.readers import detect_format, read_records
    from engine.tables.encoding import SNIFF

    header: list[str] = []
    try:
        with open(file, "rb", buffering=SNIFF) as src:
            rows = []
            for n, _raw, doc in read_records(src, detect_format(file), encoding, header):
                rows.append((n, doc))
                if len(rows) > MAX_ROWS:
                    break
    except OSError as exc:
        raise click.BadParameter(cannot_read(file, exc), param_hint="FILE") from None
    return rows, header


def row_problems(row: int, errors, header: list[str]) -> str:
    """Every problem of one row: the field's label and path, the problem, and its cell."""
    from engine.contract.formats import cell_name
    from engine.i18n.problems import problem_line

    place = {c: j for j, c in enumerate(header)}
    lines = []
    for path, message in errors:
        line = "  " + problem_line(path, message)
        cell = cell_name(place[path], row) if path in place else None
        if cell is not None and cell not in message:  # a spreadsheet's own problem names its cell
            line += t("check.in_cell", cell=cell)
        lines.append(line)
    key = "check.row_invalid_one" if len(errors) == 1 else "check.row_invalid"
    return "\n".join([t(key, row=row, n=len(errors)), *lines])
