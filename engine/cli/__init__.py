"""The ``shuangtan`` command line. The library (``engine.*``) never imports this package."""
from __future__ import annotations

import importlib

import click

from .common import CONTEXT

# Command modules, each owning one area; a module may be absent while its issue is open.
_MODULES = ("engine.cli.check", "engine.cli.batch", "engine.cli.rules_cmd", "engine.cli.ruletest_cmd",
            "engine.cli.records", "engine.cli.drafting", "engine.cli.scale")


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="shuangtan")
def main():
    """shuangtan (双碳): subsidy and compliance rules engine for green e-commerce and storage."""


for _name in _MODULES:
    try:
        _mod = importlib.import_module(_name)
    except ModuleNotFoundError as exc:
        if exc.name != _name:
            raise
        continue
    _mod.register(main)
