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

from engine.cli.common import CONTEXT, clean_errors, errors_in_language, internal_error, show_library_notes
from engine.cli.extras import needs_extras
from engine.cli.help_text import HelpContext, adopt

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
        for name in ("submit", "decide", "confirm", "return", "replay", "notice", "export")
    },
    "template": ("engine.cli.template_cmd",),
    "list": ("engine.cli.looking",),
    "show": ("engine.cli.looking",),
    "db": ("engine.cli.db_cmd",),
    "telemetry": ("engine.cli.telemetry",),
    "users": ("engine.cli.users",),
    "audit": ("engine.cli.audit",),
    "serve": ("engine.cli.serve",),
    "tokens": ("engine.cli.tokens",),
    "verify-backends": ("engine.cli.scale",),
    "evaluate-columnar": ("engine.cli.scale",),
}

#: command -> the first sentence of its help: what `shuangtan --help` lists without importing every
#: command's module (a test holds these to the commands' own help)
SUMMARIES = {
    "serve": "Serve the rules, self-checks and the record over HTTP (OpenAPI at /openapi.json, docs at /docs).",
    "tokens": "Bearer tokens for the web API (`shuangtan serve`): one per account, stored only as a hash.",
    "audit": "The audit chain: every write to the record, linked so that a change behind its back shows.",
    "check": "Decide one application (FILE, or - for standard input).",
    "confirm": "Confirm proposals: from then on they are the decisions in force (caps, notices, exports).",
    "db": "The record's schema: its revision, and bringing it to this shuangtan's.",
    "decide": "Propose decisions: the engine's result, with the enterprise's history taken from the record.",
    "evaluate": "Decide a batch of applications (JSON Lines, CSV with dotted columns, XLSX, or Parquet).",
    "evaluate-columnar": "Decide a population with the columnar backend (same decisions as `evaluate`, flat rows).",
    "explain": (
        "The smallest changes to an application that would turn a denial into a grant, a check not met "
        "into met, or a levy into an exemption."
    ),
    "export": "Decisions for the provincial platform: CSV (flat dotted columns) or JSON Lines (full documents).",
    "list": "Applications on record, one line each (the version it stands on and the decision in force), newest first (by the receipt of that version): the first 50 unless --limit, --offset or --all.",
    "notice": "Issue the notices of a confirmed decision: approval, denial, rectification, levy, and a 变更/撤销 notice for an earlier decision it replaced.",
    "population": "Synthetic populations of applications for simulation.",
    "replay": "Re-evaluate a stored decision under its stored ruleset, its input and the history the record held when it was proposed (recomputed from the record); exit 1 if it differs.",
    "return": "Return a proposal to the proposing officer: nothing is decided; the application awaits a new proposal.",
    "rules": "Inspect the rulebook.",
    "show": "One application: every submitted version, telemetry file, decision and notice issued.",
    "simulate": "Evaluate a population under the baseline and under a reform, and report the difference.",
    "submit": "Receive applications: each is stored exactly as received, then validated.",
    "telemetry": "Metered intervals from the provincial platform.",
    "template": "The application template (XLSX): bilingual headers, drop-downs, formats and a 说明 sheet.",
    "users": "Accounts that may act on the record: officers, reviewers, enterprises…",
    "verify-backends": "Decide N generated applications with the Rete and the columnar backend; compare every cell.",
}


class LazyGroup(click.Group):
    context_class = HelpContext  # --help in the language in force (engine.cli.help_text)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(_LAZY))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        loaded: dict[str, bool] = self.__dict__.setdefault("_loaded", {})
        if cmd_name in _LAZY and not loaded.get(cmd_name):
            with needs_extras():
                for module in _LAZY[cmd_name]:
                    importlib.import_module(module).register(self)
            loaded[cmd_name] = True
            if cmd_name in self.commands:
                adopt(self.commands[cmd_name])
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click lists them, from SUMMARIES for a command not loaded yet (importing every module
        would make --help take most of a second)."""
        loaded = self.__dict__.get("_loaded", {})
        names = [n for n in self.list_commands(ctx) if not (n in self.commands and self.commands[n].hidden)]
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            if name in SUMMARIES and not loaded.get(name) and name not in self.commands:
                rows.append((name, click.Command(name, help=SUMMARIES[name]).get_short_help_str(limit)))
                continue
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # --help is eager and handled in the order given, so `shuangtan --help --lang en` would
        # print before --lang is seen: a --lang among the root's options is in force from the start
        lang = _root_lang(args)
        if lang is not None:
            from engine.i18n import use

            with contextlib.suppress(Exception):  # a bad value is click's to name, as usual
                ctx.with_resource(use(lang))
        return super().parse_args(ctx, args)

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        with no_traceback():  # the eager options (--help, --version)
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        with errors_in_language(), no_traceback():
            return super().invoke(ctx)


def _root_lang(args: list[str]) -> str | None:
    """The value of ``--lang`` among the root's options (before the command), if given."""
    for i, arg in enumerate(args):
        if arg == "--lang":
            return args[i + 1] if i + 1 < len(args) else None
        if arg.startswith("--lang="):
            return arg.removeprefix("--lang=")
        if not arg.startswith("-"):
            return None
    return None


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


def _set_lang(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """Speak ``value`` for the rest of the command (closed with the command's context)."""
    from engine.i18n import use
    from engine.i18n.language import language

    if value is None:
        try:
            language()  # a bad SHUANGTAN_LANG is named now, as a usage error, not mid-command
        except Exception as exc:
            raise click.UsageError(str(exc), ctx) from None
        return
    ctx.with_resource(use(value))


@click.group(cls=LazyGroup, context_settings=CONTEXT)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"], case_sensitive=False),
    default=None,
    is_eager=True,
    expose_value=False,
    callback=_set_lang,
    help="Language of what shuangtan says: zh (Chinese, the default) or en; also $SHUANGTAN_LANG. "
    "Machine-readable output (JSON, JSON Lines, codes, field paths) is the same in both.",
)
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
