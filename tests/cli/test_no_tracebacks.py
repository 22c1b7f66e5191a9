"""No tracebacks, no secrets (issue 12, item 7): each case ends with a one-line error and a
non-zero exit; a database password is never shown; outputs appear whole or not at all."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from people import decided_steps, seed_url

from engine.cli import main
from engine.drafting.population import generate, write_population

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples/applications/taiyuan-pv-storage-warehouse.json"
APP_ID = "APP-2026-000123"
TELEMETRY = ROOT / "examples/telemetry/taiyuan-2026.csv"
REFORM = ROOT / "rules/reforms/tier30-0.90-from-2027.yaml"


def run(args, **kw):
    return CliRunner().invoke(main, [str(a) for a in args], **kw)


def error_line(output: str) -> str:
    """The one line that says what went wrong (click's usage lines aside)."""
    assert "Traceback" not in output, output
    errors = [x for x in output.splitlines() if x.startswith("Error:")]
    assert len(errors) == 1, output
    return errors[0]


def shell(args, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-c", "from engine.cli import main; main()", *map(str, args)]
    return subprocess.run(cmd, env=env, text=True, timeout=120, **kw)


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    d = tmp_path_factory.mktemp("record")
    db = f"sqlite:///{d / 'record.db'}"
    for args in decided_steps(db, EXAMPLE):
        r = run(args)
        assert r.exit_code == 0, r.output
    return db


def test_notice_dated_beyond_the_calendar(record, tmp_path):
    r = run(["notice", "--db", record, APP_ID, "--by", "wang", "--out", tmp_path / "n", "--date", "9999-12-31"])
    assert r.exit_code == 1
    assert "beyond the calendar" in error_line(r.output)
    assert not (tmp_path / "n").exists()


@pytest.mark.parametrize("number", ["99999999999999999999", str(2**63)])
def test_replay_of_a_number_no_key_can_hold(record, number):
    r = run(["replay", "--db", record, APP_ID, "--decision", number])
    assert r.exit_code == 1
    assert error_line(r.output) == f"Error: {APP_ID}: no decision {number} for this application"


def test_notice_of_a_decision_number_no_key_can_hold(record, tmp_path):
    r = run(["notice", "--db", record, APP_ID, "--by", "wang", "--out", tmp_path, "--decision", "99999999999999999999"])
    assert r.exit_code == 1 and "no decision 99999999999999999999" in error_line(r.output)


def test_population_beyond_the_documented_maximum():
    r = run(["population", "generate", "--n", "100000000000", "--seed", "1", "--out", "x.parquet"])
    assert r.exit_code == 2
    assert "1<=x<=10000000" in error_line(r.output)


@pytest.mark.parametrize("value", ["1e999999999", "1e-999999999", "9" * 5000])
def test_telemetry_kw_out_of_bounds_is_refused_fast_naming_the_cell(tmp_path, value):
    rows = TELEMETRY.read_text().splitlines()
    cells = rows[14521].split(",")
    cells[3] = value  # storage_discharge_kw in the daytime window
    rows[14521] = ",".join(cells)
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(rows) + "\n")
    started = time.perf_counter()
    r = run(["telemetry", "summarize", bad])
    assert r.exit_code == 2, r.output
    assert "line 14522: storage_discharge_kw:" in r.output and "out of bounds" in r.output
    r = run(["check", EXAMPLE, "--telemetry", bad])
    assert r.exit_code == 2 and "storage_discharge_kw" in r.output
    assert time.perf_counter() - started < 30


def test_standard_output_on_a_full_disk_is_one_line():
    with open("/dev/full", "w") as full:
        p = shell(["check", EXAMPLE, "--format", "json"], stdout=full, stderr=subprocess.PIPE)
    assert p.returncode == 1
    assert p.stderr.strip() == "Error: cannot write to standard output: No space left on device"


def test_a_reader_that_stops_reading_ends_the_output_silently(monkeypatch):
    """`shuangtan rules reforms | head -4`: the closed pipe is no error to report (`cat` says
    nothing); a full disk still is."""
    import errno

    import click

    from engine.cli import common

    class Closed:
        def __init__(self, code):
            self.code = code

        def flush(self):
            raise OSError(self.code, os.strerror(self.code))

        def fileno(self):
            raise ValueError("no descriptor")  # where stdout_failed would point it at /dev/null

    monkeypatch.setattr(sys, "stdout", Closed(errno.EPIPE))
    with pytest.raises(SystemExit) as ended:
        common.flush_stdout()
    assert ended.value.code == 1
    monkeypatch.setattr(sys, "stdout", Closed(errno.ENOSPC))
    with pytest.raises(click.ClickException, match="cannot write to standard output: No space left on device"):
        common.flush_stdout()


def test_export_to_dev_full_is_one_line(record):
    r = run(["export", "--db", record, "--out", "/dev/full"])
    assert r.exit_code == 2
    assert error_line(r.output).endswith("cannot write /dev/full: No space left on device")


def test_export_interrupted_keeps_the_previous_file(record, tmp_path, monkeypatch):
    out = tmp_path / "export.csv"
    out.write_text("the previous export\n")

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("engine.records.views.flatten_decision", boom)
    r = run(["export", "--db", record, "--out", out])
    assert r.exit_code == 2 and "No space left on device" in error_line(r.output)
    assert out.read_text() == "the previous export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["export.csv"]


def test_export_over_the_database_is_refused(record):
    db_file = record.removeprefix("sqlite:///")
    before = Path(db_file).stat().st_size
    r = run(["export", "--db", record, "--out", db_file])
    assert r.exit_code == 2 and "same file" in error_line(r.output)
    assert Path(db_file).stat().st_size == before


def test_population_interrupted_leaves_no_file(tmp_path, monkeypatch):
    def boom(frame, path):
        Path(path).write_text("half")
        raise KeyboardInterrupt

    monkeypatch.setattr("engine.drafting.population.write_population", boom)
    r = run(["population", "generate", "--n", "5", "--seed", "1", "--out", tmp_path / "p.jsonl"])
    assert r.exit_code != 0
    assert list(tmp_path.iterdir()) == []


def test_simulate_replaces_its_files_only_when_complete(tmp_path, monkeypatch):
    pop = tmp_path / "pop.parquet"
    write_population(generate(200, 5), pop)
    out = tmp_path / "sim"
    r = run(["simulate", "--population", pop, "--reform", REFORM, "--out", out])
    assert r.exit_code == 0, r.output
    report = (out / "report.md").read_text()
    assert not [p for p in out.iterdir() if p.name.startswith(".part-")]

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("engine.drafting.simulate.write_charts", boom)
    r = run(["simulate", "--population", pop, "--reform", REFORM, "--out", out])
    assert r.exit_code == 2 and "No space left on device" in error_line(r.output)
    assert (out / "report.md").read_text() == report
    assert not [p for p in out.iterdir() if p.name.startswith(".part-")]


def test_an_unexpected_error_is_one_line_unless_asked(monkeypatch, tmp_path):
    def boom(*a, **k):
        raise KeyError("a defect")

    monkeypatch.setattr("engine.cli.check.render_text", boom)
    r = run(["check", EXAMPLE])
    assert r.exit_code == 1
    assert error_line(r.output) == "Error: internal error (INTERNAL_ERROR): KeyError: 'a defect'"
    monkeypatch.setenv("SHUANGTAN_TRACEBACK", "1")
    r = run(["check", EXAMPLE])
    assert isinstance(r.exception, KeyError)


# --- the record's failures --------------------------------------------------------------
def _pg_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg2://postgres:Sup3rS3cret@127.0.0.1:5432/shuangtan_no_such_database",
        "postgresql+psycopg2://postgres:Sup3rS3cret@127.0.0.1:1/x",
        "nosuchdialect://officer:Sup3rS3cret@host/x",
        "postgresql+psycopg2://officer:Sup3r%40S3cret@127.0.0.1:1/x",
    ],
)
def test_a_password_in_db_is_never_shown(url):
    if "5432" in url and not _pg_reachable():
        pytest.skip("no PostgreSQL server reachable at 127.0.0.1:5432")
    for args in (["list", "--db", url], ["decide", "--db", url, "--all-pending", "--officer", "wang"]):
        r = run(args)
        assert r.exit_code == 1
        line = error_line(r.output)
        assert "S3cret" not in r.output and ":***@" in line, line


def test_password_from_the_environment_is_masked_too(monkeypatch):
    monkeypatch.setenv("SHUANGTAN_DB", "postgresql+psycopg2://officer:Sup3rS3cret@127.0.0.1:1/x")
    r = run(["list"])
    assert r.exit_code == 1 and "S3cret" not in r.output


def test_a_full_disk_during_decide_is_one_line(tmp_path, monkeypatch):
    """The disk fills while the decision is written (a tiny tmpfs when this machine can mount
    one, else the database's own 'disk is full' raised at the insert)."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)], capture_output=True)
    try:
        db = seed_url(f"sqlite:///{folder / 'record.db'}")
        assert run(["submit", "--db", db, "--by", "li", EXAMPLE]).exit_code == 0
        from engine.records import deciding

        real = deciding.evaluated  # what proposal_document calls

        def evaluate(*a, **k):
            if mounted.returncode == 0:  # fill the disk now: the decision's insert has no room
                with (
                    open(folder / "filler", "wb", buffering=0) as fh,
                    pytest.raises(OSError),
                ):  # unbuffered: nothing left for close() to flush onto the full disk
                    while True:
                        fh.write(b"\0" * 65536)
                        fh.flush()
            return real(*a, **k)

        monkeypatch.setattr(deciding, "evaluated", evaluate)
        if mounted.returncode != 0:
            import sqlite3

            from sqlalchemy import event

            from engine.records.store import db as store_db

            real_make = store_db.make_engine

            def make_engine(url):
                engine = real_make(url)

                @event.listens_for(engine, "before_cursor_execute")
                def full(conn, cursor, statement, *rest):
                    if statement.startswith("INSERT INTO decision"):
                        raise sqlite3.OperationalError("database or disk is full")

                return engine

            monkeypatch.setattr(store_db, "make_engine", make_engine)
        r = run(["decide", "--db", db, "--all-pending", "--officer", "wang"])
        assert r.exit_code == 1
        line = error_line(r.output)
        assert line.startswith(f"Error: the record at {db} failed: OperationalError:"), line
        assert "full" in line or "disk" in line
    finally:
        if mounted.returncode == 0:
            subprocess.run(["umount", "-l", str(folder)], check=False)


def test_stdout_json_stays_parseable(record):
    """The ordinary outputs are untouched: list --format json is still one document a line."""
    r = run(["list", "--db", record, "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.output.splitlines()[0])["application_id"] == APP_ID


# --- commands that domain_errors does not wrap: the command group gives the same one line ---
def _defect(*a, **k):
    raise KeyError("a defect")


@pytest.mark.parametrize(
    "target, args",
    [
        ("engine.cli.common.load_book", ["rules", "list"]),
        ("engine.rulebook.checks.validate", ["rules", "validate"]),
        ("engine.cli.ruletest_cmd.coverage", ["rules", "test"]),
        ("engine.backends.columnar.verify.disagreements", ["verify-backends", "--n", "20"]),
    ],
)
def test_an_unexpected_error_in_any_command_is_one_line(monkeypatch, target, args):
    monkeypatch.setattr(target, _defect)
    r = run(args)
    assert r.exit_code == 1, r.output
    assert error_line(r.output) == "Error: internal error (INTERNAL_ERROR): KeyError: 'a defect'"
    monkeypatch.setenv("SHUANGTAN_TRACEBACK", "1")
    assert isinstance(run(args).exception, KeyError)


def test_a_library_error_in_an_unwrapped_command_is_its_own_line(monkeypatch):
    from engine.errors import ShuangtanError

    def refuse(*a, **k):
        raise ShuangtanError("no such thing")

    monkeypatch.setattr("engine.cli.ruletest_cmd.coverage", refuse)
    r = run(["rules", "test"])
    assert r.exit_code == 1 and error_line(r.output) == "Error: no such thing"


def test_a_missing_module_of_no_extra_is_an_internal_error(monkeypatch):
    def missing(*a, **k):
        raise ModuleNotFoundError("No module named 'nosuchmodule'", name="nosuchmodule")

    monkeypatch.setattr("engine.cli.ruletest_cmd.coverage", missing)
    r = run(["rules", "test"])
    assert r.exit_code == 1
    assert error_line(r.output) == (
        "Error: internal error (INTERNAL_ERROR): ModuleNotFoundError: No module named 'nosuchmodule'"
    )


def test_click_exits_and_usage_errors_are_untouched(tmp_path):
    failing = tmp_path / "failing.yaml"
    failing.write_text("outcome: packaging_levy\ncases:\n  - name: Wrong on purpose.\n    expect: {status: exempt}\n")
    r = run(["rules", "test", failing])  # SystemExit(1) after the report
    assert r.exit_code == 1 and "Traceback" not in r.output and "1 case failed" in r.output
    r = run(["rules", "list", "--no-such-option"])
    assert r.exit_code == 2 and "No such option" in error_line(r.output)
    r = run(["--version"])
    assert r.exit_code == 0 and "version" in r.output
