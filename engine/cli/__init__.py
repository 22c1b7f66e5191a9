"""The ``shuangtan`` command line. The library (``engine.*``) never imports this package.

Commands load lazily: ``shuangtan check`` must start fast (a cold process is the common case
for an enterprise's self-check), so it must not import Polars, SQLAlchemy or Dask.

The base install carries what check, explain, the rules commands and the record need; the rest
are extras (pyproject.toml). A command that reaches for a missing one says, in one line, which
extra to install: ``engine.cli.extras.EXTRAS`` maps the missing top-level module to its extra, and ``LazyGroup``
turns the ModuleNotFoundError into that line wherever it surfaces (loading a command or running it).

No command shows a traceback: whatever escapes one (a command that ``domain_errors`` does not wrap
included) gets the same treatment as in ``domain_errors``, an unexpected exception the one-line
internal error ($SHUANGTAN_TRACEBACK=1 for the traceback). click's own exceptions, SystemExit and
KeyboardInterrupt reach click unchanged.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import Any

import click

from engine.cli.common import CONTEXT, clean_errors, internal_error, show_library_notes
from engine.cli.extras import needs_extras

# command -> modules whose register(group) provide it (in order: later ones extend earlier ones).
_LAZY = {
    "check": ("engine.cli.check",),
    "evaluate": ("engine.cli.batch",),
    "rules": ("engine.cli.rules_cmd", "engine.cli.ruletest_cmd", "engine.cli.drafting", "engine.cli.reforms_cmd"),
    "population": ("engine.cli.drafting",),
    "simulate": ("engine.cli.drafting",),
    "explain": ("engine.cli.drafting",),
    **{
        name: ("engine.cli.records",)
        for name in ("submit", "decide", "confirm", "return", "replay", "notice", "list", "show", "export")
    },
    "telemetry": ("engine.cli.telemetry",),
    "users": ("engine.cli.users",),
    "audit": ("engine.cli.audit",),
    "serve": ("engine.cli.serve",),
    "tokens": ("engine.cli.tokens",),
    "verify-backends": ("engine.cli.scale",),
    "evaluate-columnar": ("engine.cli.scale",),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(_LAZY))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        loaded: dict[str, bool] = self.__dict__.setdefault("_loaded", {})
        if cmd_name in _LAZY and not loaded.get(cmd_name):
            with needs_extras():
                for module in _LAZY[cmd_name]:
                    importlib.import_module(module).register(self)
            loaded[cmd_name] = True
        return self.commands.get(cmd_name)

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        with no_traceback():  # the eager options (--help loads every command, --version)
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        with no_traceback():
            return super().invoke(ctx)


@contextlib.contextmanager
def no_traceback() -> Iterator[None]:
    """A missing extra as the line naming it, any other exception as ``domain_errors`` shows it."""
    try:
        with clean_errors(), needs_extras():
            yield
    except ModuleNotFoundError as exc:  # of no extra: a defect like any other
        internal_error(exc)


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    # engine.__version__ rather than click.version_option(package_name=...): a checkout that is
    # not installed has a version too, and importlib.metadata is only imported when asked.
    if not value or ctx.resilient_parsing:
        return
    import engine

    click.echo(f"{ctx.find_root().info_name}, version {engine.__version__}")
    ctx.exit()


@click.group(cls=LazyGroup, context_settings=CONTEXT)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and exit.",
)
def main() -> None:
    """shuangtan (双碳): subsidy and compliance rules engine for green e-commerce and storage."""
    show_library_notes()
