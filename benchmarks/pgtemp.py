"""A fresh PostgreSQL database for a benchmark run, dropped afterwards (bench_record, bench_service)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable

PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_ADMIN = f"postgresql+psycopg2://postgres@{PG_HOST}:{PG_PORT}/postgres"


def pg_database() -> tuple[tuple[str, str, Callable[[], None]] | None, str | None]:
    """((url, server version, drop), None) of a fresh database, or (None, reason) when none can be had."""
    try:
        socket.create_connection((PG_HOST, PG_PORT), timeout=1).close()
    except OSError as exc:
        return None, f"no PostgreSQL server at {PG_HOST}:{PG_PORT} ({exc})"
    from sqlalchemy import create_engine

    name = f"shuangtan_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{name}"')
            version = str(c.exec_driver_sql("SHOW server_version").scalar())
    except Exception as exc:  # a benchmark reports the reason and goes on without PostgreSQL
        admin.dispose()
        return None, f"cannot create a database on {PG_HOST}:{PG_PORT}: {str(exc).splitlines()[0]}"

    def drop() -> None:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return (f"postgresql+psycopg2://postgres@{PG_HOST}:{PG_PORT}/{name}", version, drop), None
