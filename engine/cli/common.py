"""Options and error handling shared by every command."""
from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from ..errors import (DateNotCoveredError, EngineError, InvalidApplicationError, InvalidTelemetryError,
                      MeteringError, RulebookError, ShuangtanError)

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class InputError(click.ClickException):
    """Bad input: exit 2 like click's UsageError, with every offending field listed."""
    exit_code = 2


def rulebook_options(fn):
    """--rules DIR and --reform FILE (repeatable) for every command that evaluates."""
    @click.option("--rules", "rules_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
                  envvar="SHUANGTAN_RULES", help="Rulebook folder (default: the bundled rules/).")
    @click.option("--reform", "reforms", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
                  help="Apply a reform file on top of the rulebook (repeatable, in order).")
    @functools.wraps(fn)
    def wrapper(*args, rules_dir=None, reforms=(), **kwargs):
        return fn(*args, book=load_book(rules_dir, reforms), **kwargs)
    return wrapper


def load_book(rules_dir=None, reforms=()):
    from ..rulebook import load_rulebook
    try:
        loaded = []
        if reforms:
            from ..reforms import load_reform  # the drafters' module
            loaded = [load_reform(p) for p in reforms]
        return load_rulebook(rules_dir, loaded)
    except RulebookError as exc:
        raise click.ClickException(f"rulebook error: {exc}") from None


def domain_errors(fn):
    """Turn the library's errors into clean CLI errors (no traceback)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except InvalidApplicationError as exc:
            lines = "\n".join(f"  {path}: {msg}" for path, msg in exc.errors)
            raise InputError(f"invalid application ({len(exc.errors)} problem"
                             f"{'s' if len(exc.errors) != 1 else ''}):\n{lines}") from None
        except DateNotCoveredError as exc:
            raise InputError(str(exc)) from None
        except InvalidTelemetryError as exc:
            raise InputError(telemetry_problems(exc)) from None
        except MeteringError as exc:
            raise InputError(f"telemetry: {exc}") from None
        except RulebookError as exc:
            raise click.ClickException(f"rulebook error: {exc}") from None
        except EngineError as exc:
            raise click.ClickException(f"engine error: {exc}") from None
        except ShuangtanError as exc:
            raise click.ClickException(str(exc)) from None
    return wrapper


def telemetry_problems(exc: InvalidTelemetryError) -> str:
    n = len(exc.problems)
    lines = "\n".join(f"  {where}: {column + ': ' if column else ''}{message}"
                      for where, column, message in exc.problems)
    return f"invalid telemetry {exc.source} ({n} problem{'s' if n != 1 else ''}):\n{lines}"


def read_input(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc.strerror}", param_hint="FILE") from None


def progress_wanted() -> bool:
    return sys.stderr.isatty()
