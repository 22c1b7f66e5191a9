"""The base install: the commands it promises run with no optional dependency importable, and a
command that needs an extra says which one, in one line, with no traceback."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from people import seed_url

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples/applications/taiyuan-pv-storage-warehouse.json"
HEAVY = (
    "polars",
    "pyarrow",
    "numba",
    "numpy",
    "dask",
    "distributed",
    "matplotlib",
    "weasyprint",
    "psycopg",
    "psycopg2",
)

# Run in a fresh interpreter in which importing any optional dependency fails as if it were not
# installed (None in sys.modules: ModuleNotFoundError naming the module).
PRELUDE = f"""
import sys
for name in {HEAVY!r}:
    sys.modules[name] = None
from click.testing import CliRunner
from engine.cli import main
"""


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SHUANGTAN_DB", None)
    return subprocess.run([sys.executable, "-c", PRELUDE + code], cwd=cwd, env=env, capture_output=True, text=True)


def test_the_base_commands_need_no_optional_dependency(tmp_path):
    db = seed_url(f"sqlite:///{tmp_path / 'record.db'}")
    commands = [
        ["--help"],
        ["check", str(EXAMPLE)],
        ["check", str(EXAMPLE), "--format", "json"],
        ["explain", str(EXAMPLE), "--why-not", "storage_subsidy"],
        ["rules", "list"],
        ["rules", "show", "storage_subsidy", "--on", "2027-01-01"],
        ["rules", "test"],
        ["rules", "validate"],
        ["rules", "reforms"],
        ["submit", str(EXAMPLE), "--db", db, "--by", "li"],
        ["decide", "APP-2026-000123", "--db", db, "--by", "t"],
        ["confirm", "APP-2026-000123", "--db", db, "--by", "zhao"],
        ["notice", "APP-2026-000123", "--out", str(tmp_path / "n"), "--format", "md", "--db", db, "--by", "t"],
        ["notice", "APP-2026-000123", "--out", str(tmp_path / "n"), "--format", "html", "--db", db, "--by", "t"],
        ["list", "--db", db],
        ["show", "APP-2026-000123", "--db", db],
        ["export", "--db", db],
    ]
    code = f"""
import json
out = []
for args in {commands!r}:
    r = CliRunner().invoke(main, args)
    out.append([args, r.exit_code, r.output[-300:], repr(r.exception) if r.exit_code else None])
print(json.dumps(out))
"""
    proc = run_python(code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    failed = [r for r in json.loads(proc.stdout) if r[1] != 0]
    assert not failed, failed


@pytest.mark.parametrize(
    "args, extra",
    [
        (["population", "generate", "--n", "5", "--seed", "1", "--out", "p.parquet"], "columnar"),
        (["simulate", "--population", str(EXAMPLE), "--reform", "remote-region-tilt", "--out", "s"], "columnar"),
        (["verify-backends", "--n", "5"], "columnar"),
        (["list", "--db", "postgresql://postgres@127.0.0.1:5432/postgres"], "postgres"),
    ],
)
def test_a_missing_extra_is_named_in_one_line(tmp_path, args, extra):
    proc = run_python(f"main({args!r}, prog_name='shuangtan')", tmp_path)
    assert proc.returncode in (1, 2), (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert f"pip install 'shuangtan[{extra}]'" in lines[0]


def test_a_missing_module_of_no_extra_is_not_disguised(tmp_path):
    code = """
from engine.cli.extras import needs_extras
try:
    with needs_extras():
        import not_a_module_of_shuangtan  # noqa: F401
except ModuleNotFoundError as exc:
    print("raised", exc.name)
"""
    proc = run_python(code, tmp_path)
    assert proc.stdout.strip() == "raised not_a_module_of_shuangtan", proc.stderr
