"""A batch never dies of a record, and its outputs appear whole or not at all (issue 12, item 2).

Every per-record failure on the Rete path (an unexpected exception, a worker that dies, bytes
that are not UTF-8) is a reject with its line and reasons; outputs are renamed into place when
the run completes; --out, --rejects and the input are different files; a killed parent takes
its workers with it.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.backends.rete.engine import ReteEngine
from engine.batch import run as batch_run
from engine.batch.readers import read_records
from engine.cli import main
from engine.drafting.population import generate, write_population
from engine.rulebook.loader import load_rulebook

ROOT = Path(__file__).resolve().parents[2]
JSONL = ROOT / "examples/batch/applications.jsonl"
CSV = ROOT / "examples/batch/applications.csv"
BOOK = load_rulebook()
POISON = "APP-2026-141100-0042"  # the second line of examples/batch/applications.jsonl


def run(args):
    return CliRunner().invoke(main, [str(a) for a in args])


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def poisoned(monkeypatch):
    """The engine raises an exception no rule names (a defect) on one application."""
    real = ReteEngine.decide

    def decide(self, app):
        if app.application_id == POISON:
            raise ZeroDivisionError("a defect met on this record")
        return real(self, app)

    monkeypatch.setattr(ReteEngine, "decide", decide)


def _records():
    with open(JSONL, encoding="utf-8", newline="") as src:
        return list(read_records(src, "jsonl"))


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_unexpected_exception_rejects_that_record_only(poisoned, jobs):
    # jobs=2: the pool forks after the patch, so the workers carry it
    records = _records()
    out = list(batch_run.decide_stream(BOOK, records, jobs))
    assert len(out) == len(records)
    rejected = [json.loads(line) for ok, line in out if not ok]
    internal = [r for r in rejected if r["application_id"] == POISON]
    assert len(internal) == 1
    (err,) = internal[0]["errors"]
    assert err["code"] == "INTERNAL_ERROR"
    assert err["message"].startswith("ZeroDivisionError: a defect met on this record")
    assert "Traceback" not in json.dumps(internal[0])
    assert internal[0]["line"] == 2
    assert sum(ok for ok, _ in out) == len(records) - len(rejected)


def test_the_cli_keeps_going_and_counts_every_line(poisoned, tmp_path):
    r = run(["evaluate", JSONL, "--out", tmp_path / "o.jsonl", "--rejects", tmp_path / "r.jsonl", "-j", "1"])
    assert r.exit_code == 0, r.output
    decided, rejects = lines(tmp_path / "o.jsonl"), lines(tmp_path / "r.jsonl")
    n = sum(1 for x in JSONL.read_text().splitlines() if x.strip())
    assert len(decided) + len(rejects) == n
    assert any(e.get("code") == "INTERNAL_ERROR" for r in rejects for e in r["errors"])


def test_a_record_that_kills_its_worker_is_rejected_and_the_pool_goes_on(monkeypatch):
    records = _records() * 3  # several chunks' worth of work around the poison
    expected = [line for ok, line in batch_run.decide_stream(BOOK, records, 1) if ok and POISON not in line]
    real = ReteEngine.decide

    def decide(self, app):
        if app.application_id == POISON:
            os._exit(3)  # as a crash of the native engine, or the out-of-memory killer, would
        return real(self, app)

    monkeypatch.setattr(ReteEngine, "decide", decide)
    monkeypatch.setattr(batch_run, "CHUNK", 2)
    out = list(batch_run.decide_stream(BOOK, records, 2))
    assert len(out) == len(records)
    dead = [json.loads(line) for ok, line in out if not ok and POISON in line]
    assert len(dead) == 3 and all(d["errors"][0]["code"] == "INTERNAL_ERROR" for d in dead)
    assert all("BrokenProcessPool" in d["errors"][0]["message"] for d in dead)
    assert [line for ok, line in out if ok] == expected  # every other record decided, in order


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_invalid_utf8_rejects_that_line_not_the_file(tmp_path, fmt):
    src = JSONL if fmt == "jsonl" else CSV
    data = src.read_bytes().split(b"\n")
    data[2 if fmt == "csv" else 1] = data[2 if fmt == "csv" else 1].replace("吕梁".encode(), b"\xff\xfe")
    bad = tmp_path / f"bad.{fmt}"
    bad.write_bytes(b"\n".join(data))
    r = run(["evaluate", bad, "--out", tmp_path / "o.jsonl", "--rejects", tmp_path / "r.jsonl", "-j", "1"])
    assert r.exit_code == 0, r.output
    rejects = lines(tmp_path / "r.jsonl")
    utf8 = [x for x in rejects if "not valid UTF-8" in x["errors"][0]["message"]]
    assert len(utf8) == 1 and utf8[0]["line"] == (3 if fmt == "csv" else 2)
    assert "\\xff\\xfe" in utf8[0]["record"]  # the bad bytes shown escaped; the files stay UTF-8
    assert len(lines(tmp_path / "o.jsonl")) >= 1


# --- the same file twice ---------------------------------------------------------------
def _copy(tmp_path) -> Path:
    p = tmp_path / "in.jsonl"
    p.write_bytes(JSONL.read_bytes())
    return p


@pytest.mark.parametrize("how", ["same", "symlink", "hardlink", "spelling"])
def test_out_equal_to_the_input_is_refused_and_the_input_kept(tmp_path, how):
    src = _copy(tmp_path)
    out = {"same": src, "spelling": tmp_path / "." / "in.jsonl"}.get(how, tmp_path / "other.jsonl")
    if how == "symlink":
        out.symlink_to(src)
    elif how == "hardlink":
        os.link(src, out)
    r = run(["evaluate", src, "--out", out])
    assert r.exit_code == 2
    assert "same file" in r.output and len(r.output.strip().splitlines()) == 1, r.output
    assert src.read_bytes() == JSONL.read_bytes()


def test_rejects_equal_to_out_or_input_is_refused(tmp_path):
    src = _copy(tmp_path)
    r = run(["evaluate", src, "--out", tmp_path / "o.jsonl", "--rejects", tmp_path / "o.jsonl"])
    assert r.exit_code == 2 and "--out and --rejects are the same file" in r.output
    (tmp_path / "r.jsonl").symlink_to(src)
    r = run(["evaluate", src, "--out", tmp_path / "o.jsonl", "--rejects", tmp_path / "r.jsonl"])
    assert r.exit_code == 2 and "INPUT and --rejects" in r.output
    assert src.read_bytes() == JSONL.read_bytes() and not (tmp_path / "o.jsonl").exists()


def test_columnar_out_equal_to_the_input_is_refused(tmp_path):
    pop = tmp_path / "pop.parquet"
    write_population(generate(5, 1), pop)
    before = pop.read_bytes()
    (tmp_path / "link.parquet").symlink_to(pop)
    r = run(["evaluate", pop, "--out", tmp_path / "link.parquet"])
    assert r.exit_code == 2 and "same file" in r.output, r.output
    assert pop.read_bytes() == before


def test_out_that_is_a_symlink_is_replaced_not_followed(tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    link = tmp_path / "o.jsonl"
    link.symlink_to(target)
    r = run(["evaluate", JSONL, "--out", link, "-j", "1"])
    assert r.exit_code == 0, r.output
    assert target.read_text() == "keep me"
    assert not link.is_symlink() and len(lines(link)) >= 1


# --- interrupted runs ------------------------------------------------------------------
def _no_parts(folder: Path):
    assert not [p.name for p in folder.iterdir() if ".part-" in p.name]


def test_an_exception_mid_run_keeps_the_old_out_and_leaves_no_file(tmp_path, monkeypatch):
    old = tmp_path / "o.jsonl"
    old.write_text("the previous complete run\n")

    def failing(book, records, jobs=1):
        for i, rec in enumerate(records):
            if i == 2:
                raise RuntimeError("interrupted")
            yield True, json.dumps({"line": rec[0]})

    monkeypatch.setattr("engine.cli.batch.decide_stream", failing)
    r = run(["evaluate", JSONL, "--out", old, "--rejects", tmp_path / "r.jsonl"])
    assert r.exit_code != 0
    assert old.read_text() == "the previous complete run\n"
    assert not (tmp_path / "r.jsonl").exists()
    _no_parts(tmp_path)


def test_a_full_disk_mid_run_is_one_line_and_leaves_no_file(tmp_path, monkeypatch):
    import io

    real_open = open

    class Full(io.TextIOWrapper):
        def write(self, text):
            raise OSError(28, "No space left on device")

    def fake_open(path, mode="r", **kw):
        if ".part-" in str(path) and "w" in mode:
            return Full(real_open(path, "wb"), encoding="utf-8")
        return real_open(path, mode, **kw)

    monkeypatch.setattr("builtins.open", fake_open)
    r = run(["evaluate", JSONL, "--out", tmp_path / "o.jsonl", "-j", "1"])
    assert r.exit_code == 2
    assert "No space left on device" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "o.jsonl").exists()
    _no_parts(tmp_path)


def test_dev_full_as_out_is_one_line():
    r = run(["evaluate", JSONL, "--out", "/dev/full", "-j", "1"])
    assert r.exit_code == 2
    assert (
        r.output.strip().splitlines()[-1]
        == "Error: Invalid value for '--out': cannot write /dev/full: No space left on device"
    )


def test_columnar_interrupted_leaves_no_file(tmp_path, monkeypatch):
    pop = tmp_path / "pop.parquet"
    write_population(generate(20, 1), pop)

    def boom(*a, **k):
        raise RuntimeError("interrupted")

    monkeypatch.setattr("engine.batch.parquet.decide_chunk", boom)
    r = CliRunner().invoke(main, ["evaluate", str(pop), "--out", str(tmp_path / "o.parquet")], catch_exceptions=False)
    assert r.exit_code == 1 and "internal error (INTERNAL_ERROR): RuntimeError: interrupted" in r.output
    assert not (tmp_path / "o.parquet").exists()
    _no_parts(tmp_path)


# --- killing the parent ----------------------------------------------------------------
def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(d.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture(scope="module")
def population(tmp_path_factory):
    d = tmp_path_factory.mktemp("kill")
    write_population(generate(40000, 3), d / "pop.jsonl")  # minutes of work under load: the kill lands mid-run
    return d / "pop.jsonl"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killing_evaluate_j2_takes_its_workers_and_keeps_the_old_out(population, tmp_path, sig):
    out = tmp_path / "o.jsonl"
    out.write_text("the previous complete run\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-c", "from engine.cli import main; main()", "evaluate", str(population)]
    p = subprocess.Popen([*cmd, "--out", str(out), "-j", "2"], env=env, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while len(workers := _children(p.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(workers) >= 2, "the pool did not start"
        time.sleep(1.0)  # deciding and writing
        assert p.poll() is None, "the run ended before it could be interrupted"
        p.send_signal(sig)
        p.wait(timeout=30)
        deadline = time.monotonic() + 5
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [w for w in workers if _alive(w)], "orphaned workers"
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)
        for w in workers:  # whatever the outcome, nothing is left running
            if _alive(w):
                os.kill(w, signal.SIGKILL)
    assert p.returncode == -sig or p.returncode == 128 + sig
    assert out.read_text() == "the previous complete run\n"
    visible = [x.name for x in tmp_path.iterdir() if not x.name.startswith(".")]
    assert visible == ["o.jsonl"]  # a kill -9 leaves only a hidden .o.part-… file
    if sig == signal.SIGTERM:
        _no_parts(tmp_path)
