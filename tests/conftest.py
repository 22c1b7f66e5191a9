"""Shared fixtures: the repository, the worked example, the bundled rulebook, a record on SQLite
and on PostgreSQL, and the command line run in-process.

The helper modules beside this file (``repo``, ``appdoc``, ``telemetry_series``) are imported by
tests in the sub-folders as top-level modules, so this folder goes on ``sys.path`` whatever
import mode pytest runs in.
"""

import socket
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest
from appdoc import worked_example
from click.testing import CliRunner
from people import seed_url
from repo import ROOT, WORKED_EXAMPLE

from engine.cli import main
from engine.contract.application import parse_application
from engine.rulebook.loader import load_rulebook

PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_ADMIN = f"postgresql+psycopg2://postgres@{PG_HOST}:{PG_PORT}/postgres"


@pytest.fixture(scope="session", autouse=True)
def _english():
    """Tests assert shuangtan's words in English: SHUANGTAN_LANG=en for the whole session, before
    any module's fixture starts a worker process (which inherits it)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SHUANGTAN_LANG", "en")
        yield


@pytest.fixture(autouse=True)
def _language(request, monkeypatch):
    """A test marked ``zh`` reads shuangtan as a user does by default: in Chinese."""
    if request.node.get_closest_marker("zh"):
        monkeypatch.delenv("SHUANGTAN_LANG", raising=False)


@pytest.fixture(scope="session")
def root() -> Path:
    """The repository's top folder."""
    return ROOT


@pytest.fixture
def example_doc() -> dict:
    """The worked example as a dict, fresh for each test (change it freely)."""
    return worked_example()


@pytest.fixture(scope="session")
def example_application():
    """The worked example parsed (an Application is frozen, so one serves every test)."""
    return parse_application(WORKED_EXAMPLE.read_bytes())


@pytest.fixture(scope="session")
def book():
    """The bundled rulebook, loaded once."""
    return load_rulebook()


def pg_reachable() -> bool:
    try:
        socket.create_connection((PG_HOST, PG_PORT), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database for this test, dropped afterwards."""
    if not pg_reachable():
        pytest.skip(f"no PostgreSQL server reachable at {PG_HOST}:{PG_PORT}")
    from sqlalchemy import create_engine

    name = f"shuangtan_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield seed_url(f"postgresql+psycopg2://postgres@{PG_HOST}:{PG_PORT}/{name}")
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path):
    """A record in a fresh SQLite file, with the accounts of ``people``."""
    return seed_url(f"sqlite:///{tmp_path / 'record.db'}")


@pytest.fixture
def bare_sqlite_url(tmp_path):
    """A SQLite file not yet created: no schema, no accounts (for migration tests)."""
    return f"sqlite:///{tmp_path / 'bare.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def record_url(request):
    """The test once on SQLite and once on PostgreSQL (skipped when no server answers)."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture(scope="session")
def runner():
    return CliRunner()


@pytest.fixture(scope="session")
def cli(runner):
    """``shuangtan ARGS`` in-process: ``cli("check", path, input=...)``; arguments may be paths."""

    def invoke(*args, input=None):
        return runner.invoke(main, [str(a) for a in args], input=input)

    return invoke
