"""Optional dependencies: which extra of pyproject.toml installs a module a command reached for."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import click

#: top-level module a command may need -> the extra of pyproject.toml that installs it
EXTRAS = {
    "polars": "columnar",
    "pyarrow": "columnar",
    "numba": "columnar",
    "numpy": "columnar",
    "dask": "dask",
    "distributed": "dask",
    "matplotlib": "charts",
    "weasyprint": "pdf",
    "docx": "docx",
    "openpyxl": "spreadsheets",
    "psycopg2": "postgres",
    "psycopg": "postgres",
    "fastapi": "service",
    "starlette": "service",
    "uvicorn": "service",
    "argon2": "service",
    "joserfc": "service",
    "httpx": "service",
    "itsdangerous": "service",
    "multipart": "service",
    "python_multipart": "service",
}


class MissingExtraError(click.ClickException):
    """A command needs an optional dependency that is not installed (exit 1, one line)."""

    def __init__(self, module: str, extra: str):
        from engine.i18n import t  # worded when raised: the command's language is still in force

        self.module, self.extra = module, extra
        super().__init__(t("errors.missing_extra", module=module, extra=extra))


@contextlib.contextmanager
def needs_extras() -> Iterator[None]:
    """A ModuleNotFoundError for a module of an extra, as the line that says which extra to install."""
    try:
        yield
    except ModuleNotFoundError as exc:
        top = (exc.name or "").partition(".")[0]
        if top not in EXTRAS:
            raise
        raise MissingExtraError(top, EXTRAS[top]) from None
