"""The ``shuangtan`` command line. The library (``engine.*``) never imports this package.

Commands load lazily: ``shuangtan check`` must start fast (a cold process is the common case
for an enterprise's self-check), so it must not import Polars, SQLAlchemy or Dask.
"""

from __future__ import annotations

import importlib

import click

from engine.cli.common import CONTEXT, show_library_notes

# command -> modules whose register(group) provide it (in order: later ones extend earlier ones).
_LAZY = {
    "check": ("engine.cli.check",),
    "evaluate": ("engine.cli.batch",),
    "rules": ("engine.cli.rules_cmd", "engine.cli.ruletest_cmd", "engine.cli.drafting"),
    "population": ("engine.cli.drafting",),
    "simulate": ("engine.cli.drafting",),
    "explain": ("engine.cli.drafting",),
    **{name: ("engine.cli.records",) for name in ("submit", "decide", "replay", "notice", "list", "show", "export")},
    "telemetry": ("engine.cli.telemetry",),
    "verify-backends": ("engine.cli.scale",),
    "evaluate-columnar": ("engine.cli.scale",),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(set(self.commands) | set(_LAZY))

    def get_command(self, ctx, name):
        if name in _LAZY and not getattr(self, "_loaded", {}).get(name):
            for module in _LAZY[name]:
                importlib.import_module(module).register(self)
            self.__dict__.setdefault("_loaded", {})[name] = True
        return self.commands.get(name)


@click.group(cls=LazyGroup, context_settings=CONTEXT)
@click.version_option(package_name="shuangtan")
def main():
    """shuangtan (双碳): subsidy and compliance rules engine for green e-commerce and storage."""
    show_library_notes()
