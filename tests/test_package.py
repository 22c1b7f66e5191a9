"""engine's public API: light to import, complete, and `python -m engine` is the command line."""

import os
import subprocess
import sys
from pathlib import Path

import engine

ROOT = Path(__file__).resolve().parent.parent


def _python(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)


def test_import_engine_pulls_in_nothing_heavy():
    proc = _python(
        "import sys, engine, engine.errors\n"
        "heavy = ('pydantic', 'durable', 'polars', 'sqlalchemy', 'sqlmodel', 'numba', 'numpy', 'pyarrow')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))"
    )
    assert proc.stdout.strip() == "[]", proc.stderr


def test_every_public_name_resolves():
    for name in engine.__all__:
        assert getattr(engine, name) is not None, name
    assert isinstance(engine.__version__, str) and engine.__version__[0].isdigit()
    assert issubclass(engine.InvalidApplicationError, engine.ShuangtanError)


def test_load_parse_decide_through_the_public_api():
    book = engine.load_rulebook()
    app = engine.parse_application((ROOT / "examples/applications/taiyuan-pv-storage-warehouse.json").read_bytes())
    assert isinstance(book, engine.Rulebook) and isinstance(app, engine.Application)
    decision = engine.decide(book, app)
    assert decision["totals"]["levy_yuan"] == "1500000.00"


def test_an_unknown_name_is_an_attribute_error():
    try:
        engine.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("engine.no_such_name resolved")


def test_python_dash_m_engine_is_the_command_line():
    proc = subprocess.run(
        [sys.executable, "-m", "engine", "--version"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"shuangtan, version {engine.__version__}"
