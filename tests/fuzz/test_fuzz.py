"""Fuzzing: whatever an input contains, it is decided or refused naming the field (issue 12).

Each property draws hostile inputs from tests/fuzz/fuzzkit.py — valid bundled examples
perturbed (wrong types, huge and tiny numbers and exponents, lenient spellings, NaN, deep
nesting, duplicate keys written as raw JSON text, unknown keys, invalid UTF-8, control and
bidirectional characters, long strings), CSV cells and rows (ragged rows, duplicate headers,
huge cells), Parquet schemas (float, decimal256, wrong types, files that are not Parquet),
telemetry rows and reform files (aliases, huge numbers) — and asserts the promise:

* **decided** (a decision document), or **refused naming the field** (``InvalidApplicationError``
  and its kin with paths; a batch reject with its line and reasons; a one-line CLI error);
* never another exception, never a traceback, never a hang;
* never more than ``fuzzkit.CASE_SECONDS`` (1 s) per case, measured in the worker process with
  the engine warm; a case still running after ``SHUANGTAN_FUZZ_KILL_SECONDS`` (3 s) is killed.

Both the library (``parse_application`` + ``decide``) and the command line (``check`` and
``evaluate`` through click's CliRunner, both backends; a few ``check`` runs as real processes)
are driven, and they must agree on which records they refuse.

Size: ``SHUANGTAN_FUZZ_EXAMPLES`` examples per library property (default 200, what CI runs),
a quarter of that for the command-line and file properties (a Parquet case writes and decides a
file). A longer run on demand::

    SHUANGTAN_FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest -p no:cacheprovider tests/fuzz

``scripts/fuzz_report.py`` draws from the same strategies and prints the counts (cases,
decided, refused, anything else) and the worst time per case.
"""

import datetime as dt
import os
import re
import subprocess
import sys
import time

import fuzzkit as fk
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SETTINGS = dict(
    deadline=dt.timedelta(seconds=fk.KILL_SECONDS + 1),  # the worker kills a hang before this
    database=None,
    suppress_health_check=list(HealthCheck),
)
LIBRARY = settings(max_examples=fk.EXAMPLES, **SETTINGS)
FILES = settings(max_examples=max(10, fk.EXAMPLES // 4), **SETTINGS)


@pytest.fixture(scope="module", autouse=True)
def warm_worker():
    """Start the worker (and compile everything it needs) before any case is timed."""
    fk.worker().call("library", fk.Case("large-merchant-levy").raw(), kill_after=600)
    yield


_BROKEN: dict[str, type] = {}


def promise(verdict: fk.Verdict):
    """Decided or refused; otherwise an AssertionError whose class names the cause, so that
    Hypothesis reports one minimal example per cause instead of the simplest one only."""
    if verdict.kind not in ("decided", "refused"):
        name = fk.cause(verdict.reason)
        ident = re.sub(r"\W", "_", name)
        cls = _BROKEN.setdefault(name, type(f"Broken_{ident}", (AssertionError,), {}))
        raise cls(verdict.reason)


# --- one application --------------------------------------------------------------------------
FAMILIES = fk.families()


@pytest.mark.parametrize("family", FAMILIES)
@LIBRARY
@given(data=st.data())
def test_library_decides_or_refuses_naming_the_field(family, data):
    case = data.draw(FAMILIES[family], label="case")
    promise(fk.judge(fk.worker().call("library", case.raw()), case.names()))


@pytest.mark.parametrize("family", FAMILIES)
@FILES
@given(data=st.data())
def test_check_decides_or_refuses_naming_the_field_like_the_library(family, data):
    case = data.draw(FAMILIES[family], label="case")
    raw = case.raw()
    cli = fk.judge(fk.worker().call("check", raw), case.names())
    promise(cli)
    lib = fk.judge(fk.worker().call("library", raw), case.names())
    assert cli.kind == lib.kind, f"check {cli.kind}, parse_application {lib.kind}"


@LIBRARY
@given(case=fk.lenient_numbers())
def test_a_number_spelled_as_json_never_writes_it_is_refused_naming_the_field(case):
    verdict = fk.judge(fk.worker().call("library", case.raw()), case.names())
    promise(verdict)
    assert verdict.kind == "refused", f"{case.changes[0].value!r} in {case.changes[0].path} was accepted"


@LIBRARY
@given(case=fk.duplicate_keys())
def test_a_duplicate_key_is_refused_naming_the_key(case):
    verdict = fk.judge(fk.worker().call("library", case.raw()), case.names())
    promise(verdict)
    assert verdict.kind == "refused", f"{case.changes[0].path} given twice was accepted (last value wins)"


# --- batches --------------------------------------------------------------------------------------
def _records(cases):
    """JSON Lines of the cases; the verdict parse_application gives each record, by line."""
    lines = [c.raw() for c in cases]
    data = b"\n".join(lines) + b"\n"
    library = {}
    for n, line in enumerate(lines, start=1):
        if line.strip():  # a blank line is not a record
            v = fk.judge(fk.worker().call("library", line))
            library[n] = v.kind
    return data, library


@FILES
@given(cases=st.lists(fk.applications(min_changes=0, max_changes=2), min_size=1, max_size=6))
def test_evaluate_rete_decides_or_rejects_every_line_as_the_library_does(cases):
    data, library = _records(cases)
    result = fk.worker().call("evaluate", data, "jsonl", "rete")
    promise(fk.judge_batch(result, dict.fromkeys(library), library))


@FILES
@given(cases=st.lists(fk.applications(min_changes=0, max_changes=2), min_size=1, max_size=6))
def test_evaluate_columnar_decides_or_rejects_every_line_as_the_library_does(cases):
    data, library = _records(cases)
    result = fk.worker().call("evaluate", data, "jsonl", "columnar")
    promise(fk.judge_batch(result, dict.fromkeys(library), library))


@FILES
@given(case=fk.csv_files())
def test_evaluate_csv_rejects_bad_rows_and_both_backends_agree(case):
    data, must = case.build()
    rete = fk.worker().call("evaluate", data, "csv", "rete")
    promise(fk.judge_batch(rete, must))
    columnar = fk.worker().call("evaluate", data, "csv", "columnar")
    promise(fk.judge_batch(columnar, must))
    assert sorted(n for n, _ in rete.detail["rejects"]) == sorted(n for n, _ in columnar.detail["rejects"])


@FILES
@given(case=fk.parquet_files())
def test_evaluate_parquet_decides_rejects_or_stops_with_one_clear_line(case):
    result = fk.worker().call("parquet", case.build())
    if result.kind != "batch":
        promise(fk.judge(result))
    assert result.seconds <= fk.CASE_SECONDS, f"took {result.seconds:.2f} s"
    b = result.detail
    changed = case.changed()
    floats = case.float_columns()
    if b["exit"] != 0:
        lines = [ln for ln in b["message"].splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("Error:"), b["message"]
        assert case.broken or any(c in b["message"] for c in changed), f"names no column of {changed}: {b['message']}"
        return
    assert case.broken is None, f"a file that is not Parquet ({case.broken}) was decided: {b['message']}"
    assert len(b["rows"]) == len(case.bases), b
    for line, error in b["rows"]:
        assert error is None or ":" in error, (line, error)
    if floats:
        named = [e for _, e in b["rows"] if e and any(f in e for f in floats)]
        assert len(named) == len(b["rows"]), f"a binary float column {sorted(floats)} was read as a decimal"


# --- telemetry and reforms -------------------------------------------------------------------
@FILES
@given(case=fk.telemetry_files())
def test_telemetry_is_decided_on_or_refused_naming_row_and_column(case):
    promise(fk.judge(fk.worker().call("telemetry", case.build())))


@LIBRARY
@given(case=fk.reform_files())
def test_a_reform_file_is_applied_or_refused_naming_file_and_key(case):
    promise(fk.judge(fk.worker().call("reform", case.build())))


# --- a few cases through a real process --------------------------------------------------------
def _check_process(raw: bytes, tmp_path) -> tuple[int, str, float]:
    p = tmp_path / "app.json"
    p.write_bytes(raw)
    env = {**os.environ, "PYTHONPATH": str(fk.ROOT)}
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-c", "from cli import main; main()", "check", str(p), "--format", "json"],
            cwd=fk.ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        return -1, "still running after 60 s", 60.0
    return done.returncode, done.stderr, time.perf_counter() - start


@settings(max_examples=max(3, fk.EXAMPLES // 40), **{**SETTINGS, "deadline": None})
@given(case=fk.applications())
def test_check_in_a_process_exits_0_or_2_without_a_traceback(case, tmp_path_factory):
    code, stderr, seconds = _check_process(case.raw(), tmp_path_factory.mktemp("p"))
    last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    if "Traceback" in stderr:
        promise(fk.Verdict("other", f"{last} (a traceback, exit {code})"))
    promise(fk.Verdict("decided" if code in (0, 2) else "other", f"exit {code}: {last}"))


def test_the_worker_reports_a_hang_and_goes_on():
    """The harness itself: a case that never ends is a timeout, and the next case runs."""
    hang = fk.worker().call("sleep", 30.0, kill_after=0.5)
    assert hang.kind == "timeout"
    assert fk.worker().call("library", fk.Case("large-merchant-levy").raw()).kind == "decided"


def test_a_change_after_a_duplicated_top_level_key_never_sends_the_harness_marker():
    """Found by the fuzz report: a field set after a top-level key was duplicated went out beside
    the harness's ``__pairs__`` marker, which the contract then (rightly) refused as a field."""
    case = fk.Case(
        "lvliang-sme-green-packaging",
        (
            fk.Mutation("duplicate", "packaging.filler_reduction_rate", "1_0.5"),
            fk.Mutation("duplicate", "application_id", False),
            fk.Mutation("value", "energy", None),
        ),
    )
    raw = case.raw() if callable(case.raw) else case.raw
    assert b"__pairs__" not in raw and raw.count(b'"application_id"') == 2
