"""A telemetry file's problems and the metering's refusals, said in the language in force.

The reader (engine/telemetry/reader.py) names each problem in English, as (where, column,
message): that English is what the record keeps and other systems read, so it does not change.
A person reads it here, each pattern one English problem, its key under ``telemetry.`` in
``templates/messages/telemetry.yaml``; where (``line 7``, ``row 6``, ``header``) and the column
are said as a row and a column. A problem no pattern knows is shown as it is (tests/i18n runs the
bad files it knows of and fails on English in the Chinese text).
"""

from __future__ import annotations

import re

from engine.errors import InvalidTelemetryError, MeteringError
from engine.i18n import language, t
from engine.i18n.problems import problem as contract_problem

_V = r"(?P<value>.+)"
_PROBLEMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern + r"\Z"), key)
    for pattern, key in (
        (_V + r" is not a timestamp \(expected ISO 8601 local time, e\.g\. .*\)", "not_timestamp"),
        (_V + r" is a date, not a timestamp \(expected e\.g\. 2026-01-01T08:15\)", "date_not_timestamp"),
        (_V + r" is not a timestamp", "not_timestamp"),
        (r"a binary float; write the decimal as text or a decimal column", "binary_float"),
        (r"expected a decimal number of kW", "expected_kw"),
        (_V + r" is not a decimal number \(expected kW, e\.g\. 812\.50\)", "not_decimal"),
        (_V + r" is not finite", "not_finite"),
        (r"must be ≥ 0, got " + _V, "negative"),
        (
            _V + r" is out of bounds \(at most (?P<digits>\d+) integer digits and (?P<places>\d+) decimal places\)",
            "bounds",
        ),
        (r"missing", "missing"),
        (r"missing \(an empty cell is not 0 kW\)", "missing_kw"),
        (r"not UTF-8", "not_utf8"),
        (r"the file is empty \(expected a header row: " + _V + r"\)", "empty_file"),
        (r"(?P<n>\d+) cells, the header has (?P<m>\d+)", "cell_count"),
        (
            r"a binary float column \((?P<value>.+)\); store decimals as decimal128 or text, never through a float",
            "float_column",
        ),
        (r"unknown column \(expected " + _V + r"\)", "unknown_column"),
        (r"missing column", "missing_column"),
        (r"column given twice", "column_twice"),
        (r"cannot read: " + _V, "cannot_read"),
        (r"duplicate interval (?P<start>\S+) of (?P<system>\S+) \(already on (?P<at>.+)\)", "duplicate_of"),
        (r"duplicate interval (?P<start>\S+) \(already on (?P<at>.+)\)", "duplicate"),
        (r"cannot be read as (?P<fmt>\w+): " + _V, "cannot_read_as"),
        (r"(?P<n>\d+) more problems not listed", "more"),
        (_V + r": expected 1–64 characters of A-Z a-z 0-9 \. _ -", "system_id"),
        (_V + r" is not on the (?P<n>\d+)-minute grid \(intervals start at :00, :(?P<m>\d+), …\)", "off_grid"),
        (_V + r" is before the interval ended \((?P<end>\S+)\)", "received_early"),
        (r"overlaps the interval (?P<start>\S+) – (?P<end>\S+) \((?P<at>.+)\)", "overlaps"),
    )
)

#: the metering's refusals (engine/telemetry/metering.py, crosscheck.py, the summarize command)
_METERING: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern + r"\Z"), key)
    for pattern, key in (
        (
            r"(?P<id>\S+): telemetry was given, but the application declares no storage system "
            r"\(add the storage section, or leave the telemetry out\)",
            "no_storage",
        ),
        (r"the declared value of a metered fact cannot be computed", "declared_uncomputable"),
        (r"parameter (?P<name>\S+) = (?P<value>\S+) is not a whole number of minutes", "not_minutes"),
        (r"metering\.interval_length = (?P<value>\S+) min does not divide a day", "interval_day"),
        (r"the daytime window (?P<value>\S+) min is not inside one day", "window_day"),
        (
            r"(?P<file>.+) was read with (?P<n>\d+)-minute intervals, the rules use (?P<m>\d+)",
            "interval_mismatch",
        ),
        (r"(?P<file>.+) has no interval in the period (?P<start>\S+) – (?P<end>\S+)", "none_in_period"),
        (
            r"(?P<file>.+) has no interval inside the daytime window (?P<value>.+): "
            r"the peak-shaving ratio is undefined",
            "none_in_window",
        ),
        (
            r"the metered baseline peak in the daytime window is (?P<value>\S+) kW "
            r"\(at (?P<at>\S+)\): the peak-shaving ratio is undefined",
            "zero_peak",
        ),
        (r"(?P<file>.+) has no storage system (?P<name>.+) \(it has (?P<value>.+)\)", "no_system"),
        (
            r"(?P<file>.+) holds (?P<n>\d+) storage systems \((?P<value>.+)\): choose one with --system",
            "several_systems",
        ),
        (r"(?P<file>.+) holds no interval", "empty"),
    )
)
_WHERE = re.compile(r"(?:line|row) (?P<n>\d+)")


def where(text: str) -> str:
    """``line 7`` / ``row 6`` as a row of the file, ``header`` and ``file`` as themselves."""
    m = _WHERE.fullmatch(text)
    if m:
        return t("telemetry.where.row", n=m.group("n"))
    m = re.fullmatch(r"byte (?P<n>\d+)", text)
    if m:
        return t("telemetry.where.byte", n=m.group("n"))
    if text in ("header", "file", "schema"):
        return t(f"telemetry.where.{text}")
    return text


def problem(message: str) -> str:
    """One cell's or row's problem (the reader's English) in the language in force."""
    if language() == "en":
        return message
    for pattern, key in _PROBLEMS:
        m = pattern.match(message)
        if m:
            values = m.groupdict()
            if "at" in values:
                values["at"] = where(values["at"])
            return t(f"telemetry.problem.{key}", None, **values)
    return contract_problem(message)  # an XLSX workbook's problem, worded by the contract


def problem_lines(exc: InvalidTelemetryError) -> str:
    """Every problem of a refused file, one a line, each naming its row and column."""
    n = len(exc.problems)
    if language() == "en":
        lines = "\n".join(f"  {w}: {c + ': ' if c else ''}{m}" for w, c, m in exc.problems)
        return f"invalid telemetry {exc.source} ({n} problem{'s' if n != 1 else ''}):\n{lines}"
    said = [
        t("telemetry.line_column" if column else "telemetry.line", where=where(w), column=column, problem=problem(m))
        for w, column, m in exc.problems
    ]
    return "\n".join([t("telemetry.invalid", source=exc.source, n=n), *said])


def metering(exc: MeteringError) -> str:
    """A metering refusal, prefixed as a telemetry problem, in the language in force."""
    message = str(exc)
    if language() == "en":
        return f"telemetry: {message}"
    for pattern, key in _METERING:
        m = pattern.match(message)
        if m:
            return t("telemetry.metering.prefix") + t(f"telemetry.metering.{key}", None, **m.groupdict())
    return t("telemetry.metering.prefix") + message
