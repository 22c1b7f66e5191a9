"""Every command that writes a file or a folder refuses an output it cannot write with one line
naming the option and the path (exit 2), never a traceback, and leaves no half-written file."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from people import decided_steps
from repo import BATCH, REFORMS, WORKED_EXAMPLE

from engine.cli.common import output_problem
from engine.drafting.population import generate, write_population
from engine.errors import OutputError

APP_ID = "APP-2026-000123"
JSONL = BATCH / "applications.jsonl"
CSV = BATCH / "applications.csv"
REFORM = REFORMS / "tier30-0.90-from-2027.yaml"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, cli):
    """A small Parquet population and a record holding one decided application."""
    d = tmp_path_factory.mktemp("inputs")
    write_population(generate(50, 1), d / "pop.parquet")
    db = f"sqlite:///{d / 'record.db'}"
    for args in decided_steps(db, WORKED_EXAMPLE):
        r = cli(*args)
        assert r.exit_code == 0, r.output
    return {"pop": d / "pop.parquet", "db": db}


# name -> (option, file or folder output, arguments with {out} for the output and {ok} for a good file)
FILE_COMMANDS = {
    "evaluate rete jsonl": ("--out", ["evaluate", JSONL, "--out", "{out}.jsonl"]),
    "evaluate rete csv": ("--out", ["evaluate", CSV, "--backend", "rete", "--out", "{out}.jsonl"]),
    "evaluate --rejects": ("--rejects", ["evaluate", JSONL, "--out", "{ok}.jsonl", "--rejects", "{out}.jsonl"]),
    "evaluate columnar parquet": ("--out", ["evaluate", "{pop}", "--backend", "columnar", "--out", "{out}.parquet"]),
    "evaluate columnar csv": ("--out", ["evaluate", CSV, "--backend", "columnar", "--out", "{out}.csv"]),
    "evaluate-columnar parquet": ("--out", ["evaluate-columnar", "{pop}", "--out", "{out}.parquet"]),
    "evaluate-columnar csv": ("--out", ["evaluate-columnar", "{pop}", "--out", "{out}.csv"]),
    "population generate parquet": (
        "--out",
        ["population", "generate", "--n", "5", "--seed", "1", "--out", "{out}.parquet"],
    ),
    "population generate jsonl": (
        "--out",
        ["population", "generate", "--n", "5", "--seed", "1", "--out", "{out}.jsonl"],
    ),
    "export": ("--out", ["export", "--db", "{db}", "--out", "{out}.csv"]),
}
FOLDER_COMMANDS = {
    "simulate": ("--out", ["simulate", "--population", "{pop}", "--reform", REFORM, "--out", "{out}"]),
    "notice": ("--out", ["notice", "--db", "{db}", APP_ID, "--by", "wang", "--out", "{out}"]),
    "evaluate --cluster": ("--out-dir", ["evaluate", "{pop}", "--cluster", "local", "--out-dir", "{out}"]),
    "evaluate-columnar --cluster": (
        "--out-dir",
        ["evaluate-columnar", "{pop}", "--cluster", "local", "--out-dir", "{out}"],
    ),
    "simulate --cluster": (
        "--out",
        ["simulate", "--population", "{pop}", "--reform", REFORM, "--cluster", "local", "--out", "{out}"],
    ),
}


def _args(template, out, ok, inputs):
    return [str(a).format(out=out, ok=ok, **inputs) for a in template]


def _refused(r, option, path):
    assert r.exit_code == 2, r.output
    assert isinstance(r.exception, SystemExit), r.exception  # a click error, not an escaped exception
    assert "Traceback" not in r.output
    assert f"Invalid value for '{option}'" in r.output, r.output
    assert str(path) in r.output, r.output
    assert r.output.count("Error:") == 1, r.output


def _files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def place(tmp_path):
    """Output locations that cannot be written, by case: (path to give, stem for the file's suffix)."""
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "a_folder").mkdir()
    (tmp_path / "read_only").mkdir()
    return tmp_path


def _unwritable(monkeypatch, folder: Path):
    """``folder`` refuses writing, whoever runs the tests (root may write anywhere)."""
    real = os.access
    monkeypatch.setattr(
        os,
        "access",
        lambda p, mode, *a, **k: False if Path(p).absolute() == folder and mode & os.W_OK else real(p, mode, *a, **k),
    )


@pytest.mark.parametrize("case", ["missing folder", "missing folders", "parent is a file", "read-only folder"])
@pytest.mark.parametrize("name", FILE_COMMANDS)
def test_a_file_output_that_cannot_be_written_is_refused_naming_option_and_path(
    name, case, place, inputs, monkeypatch, cli
):
    option, template = FILE_COMMANDS[name]
    stem = {
        "missing folder": place / "nope" / "out",
        "missing folders": place / "nope" / "deeper" / "out",
        "parent is a file": place / "a_file" / "out",
        "read-only folder": place / "read_only" / "out",
    }[case]
    if case == "read-only folder":
        _unwritable(monkeypatch, place / "read_only")
    before = _files_under(place)
    args = _args(template, stem, place / "ok", inputs)
    r = cli(*args)
    given = args[args.index(option) + 1]
    _refused(r, option, given)
    if case.startswith("missing"):
        assert f"directory {Path(given).parent} does not exist" in r.output
        assert not (place / "nope").exists()
    assert _files_under(place) == before  # neither the output nor the other output (--out of --rejects)


@pytest.mark.parametrize("name", FILE_COMMANDS)
def test_a_file_output_that_is_a_folder_is_refused(name, place, inputs, cli):
    option, template = FILE_COMMANDS[name]
    args = _args(template, place / "a_folder", place / "ok", inputs)
    folder = args[args.index(option) + 1]
    os.makedirs(folder, exist_ok=True)  # the folder carries the suffix the command expects
    r = cli(*args)
    _refused(r, option, folder)
    assert "is a directory, not a file" in r.output
    assert not (place / "ok.jsonl").exists()


@pytest.mark.parametrize("case", ["is a file", "parent is a file", "read-only folder"])
@pytest.mark.parametrize("name", FOLDER_COMMANDS)
def test_a_folder_output_that_cannot_be_written_is_refused(name, case, place, inputs, monkeypatch, cli):
    option, template = FOLDER_COMMANDS[name]
    out = {
        "is a file": place / "a_file",
        "parent is a file": place / "a_file" / "sub",
        "read-only folder": place / "read_only" / "sub",
    }[case]
    if case == "read-only folder":
        _unwritable(monkeypatch, place / "read_only")
    before = _files_under(place)
    r = cli(*_args(template, out, place / "ok", inputs))
    _refused(r, option, out)
    assert _files_under(place) == before


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc, where no file can be created")
@pytest.mark.parametrize(
    "name", [*FILE_COMMANDS, "simulate", "notice", "evaluate --cluster", "evaluate-columnar --cluster"]
)
def test_a_file_system_that_refuses_the_file_is_reported_not_raised(name, tmp_path, inputs, cli):
    """/proc passes the permission check for root; the failure when writing is then reported the
    same way (for anyone else the check refuses it up front)."""
    option, template = {**FILE_COMMANDS, **FOLDER_COMMANDS}[name]
    args = _args(template, "/proc/shuangtan-no-such-output", tmp_path / "ok", inputs)
    r = cli(*args)
    _refused(r, option, args[args.index(option) + 1])
    assert not list(tmp_path.iterdir())  # --out is removed when --rejects cannot be opened


def test_a_missing_output_folder_is_created_for_folder_outputs(tmp_path, inputs, cli):
    out = tmp_path / "new" / "notices"
    r = cli("notice", "--db", inputs["db"], APP_ID, "--by", "wang", "--out", out)
    assert r.exit_code == 0, r.output
    assert any(out.iterdir())
    assert output_problem(out, folder=True) is None  # an existing folder is fine, too (runs again)
    assert output_problem(out, folder=False) == f"{out} is a directory, not a file"


def test_the_real_command_prints_one_line_and_no_traceback(tmp_path, inputs, root):
    """The reported defect, through a real process: stderr holds the usage and one error line."""
    out = tmp_path / "missing_dir" / "out.parquet"
    p = subprocess.run(
        [
            sys.executable,
            "-c",
            "from engine.cli import main; main()",
            "evaluate",
            str(inputs["pop"]),
            "--out",
            str(out),
            "--backend",
            "columnar",
        ],
        capture_output=True,
        text=True,
        cwd=root,
    )
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr
    assert f"Error: Invalid value for '--out': cannot write {out}: directory {out.parent} does not exist" in p.stderr


# --- the library: DecisionWriter -----------------------------------------------------------
def test_decision_writer_raises_one_output_error_and_closes_quietly(tmp_path, inputs, book):
    from engine.batch.parquet import DecisionWriter, decide_file

    for out in (tmp_path / "nope" / "d.parquet", tmp_path / "nope" / "d.csv", tmp_path):
        with pytest.raises(OutputError) as caught:
            decide_file(book, inputs["pop"], out, chunk_size=10)
        assert caught.value.path == str(out) and str(out) in str(caught.value)
        assert isinstance(caught.value.__cause__, OSError)
        assert caught.value.__context__ is caught.value.__cause__  # no second error raised while closing
    w = DecisionWriter(tmp_path / "nope" / "empty.parquet", book)
    with pytest.raises(OutputError):
        w.close()  # an empty population: the empty table's write
    assert not (tmp_path / "nope").exists()


def test_a_decisions_file_is_removed_when_deciding_fails_midway(tmp_path, inputs, monkeypatch, book):
    import engine.batch.parquet as parquetio

    real, calls = parquetio.decide_chunk, []

    def failing(book, chunk):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("deciding failed")
        return real(book, chunk)

    monkeypatch.setattr(parquetio, "decide_chunk", failing)
    out = tmp_path / "d.parquet"
    with pytest.raises(RuntimeError):
        parquetio.decide_file(book, inputs["pop"], out, chunk_size=10)
    assert not out.exists()  # not a truncated file with a valid footer


def test_output_error_survives_pickling_for_dask_workers():
    import pickle

    e = pickle.loads(pickle.dumps(OutputError("/x/part-00000.parquet", "No space left on device")))
    assert str(e) == "cannot write /x/part-00000.parquet: No space left on device"
