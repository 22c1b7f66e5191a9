"""Names a filter compares with (outcomes, statuses), checked: a typo is refused (exit 2) with
the valid names and the closest one, never answered with an empty list."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import click

from engine.i18n import t
from engine.resources import bundled
from engine.rulebook.statuses import ALL_STATUSES


def outcome_names() -> list[str]:
    """The outcomes of the bundled rulebook and of $SHUANGTAN_RULES (one file each in outcomes/):
    read from the file names, as ``list`` loads no rulebook."""
    folders = [bundled("rules") / "outcomes"]
    if os.environ.get("SHUANGTAN_RULES"):
        folders.append(Path(os.environ["SHUANGTAN_RULES"]) / "outcomes")
    return sorted({p.stem for folder in folders if folder.is_dir() for p in folder.glob("*.yaml")})


def _refuse(value: str, what: str, valid: list[str] | tuple[str, ...], param, ctx):
    message = t("tables.unknown_choice", value=value, what=what, valid=", ".join(valid))
    close = difflib.get_close_matches(value, list(valid), n=1, cutoff=0.6)
    if close:
        message += t("tables.did_you_mean", name=close[0])
    raise click.BadParameter(message, ctx=ctx, param=param)


def checked_outcome(value: str, param=None, ctx=None) -> str:
    """``value`` (NAME or NAME=STATUS) when both parts are known; BadParameter otherwise."""
    name, eq, status = value.partition("=")
    names = outcome_names()
    if name not in names:
        _refuse(name, t("tables.what_outcome"), names, param, ctx)
    if eq and status not in ALL_STATUSES:
        _refuse(status, t("tables.what_status"), ALL_STATUSES, param, ctx)
    return value
