"""Words the record's commands share: an outcome, a status, an amount, a padded column.

Cheap to import (the catalogue only): ``list`` and ``show`` use it and must not load the
rulebook, so an outcome's title comes from ``templates/messages/record_cli.yaml`` (kept equal to
the rulebook's by tests/i18n), and an outcome the catalogue does not know is shown by its name.
"""

from __future__ import annotations

import functools
import unicodedata

from engine.i18n.catalogue import message, t
from engine.i18n.language import language, use


def outcome(name: str) -> str:
    """``用户侧储能度电补贴`` / ``storage_subsidy`` (English has always shown the name)."""
    return message(f"record_cli.outcome.{name}") or name


def status(word: str) -> str:
    """An outcome's status (``granted``…) in Chinese; in English the code, as it always was."""
    if language() == "en":
        return word
    return message(f"cli.status.{word}", "zh") or word


def state(word: str) -> str:
    """An application's status on record (``received``, ``decided``…)."""
    return message(f"record_cli.state.{word}") or word


def statuses(items) -> str:
    """``storage_subsidy granted, …`` / ``用户侧储能度电补贴：批准，…``."""
    return _statuses(language(), tuple(items))


# A batch prints a line per decision, and its statuses and amounts repeat: each phrase is
# worked out once per language (the catalogue does not change while a process runs).
@functools.lru_cache(maxsize=4096)
def _statuses(lang: str, items: tuple) -> str:
    with use(lang):
        return t("record_cli.list_sep").join(
            t("record_cli.outcome_status", outcome=outcome(k), status=status(v)) for k, v in items
        )


def outcomes(names) -> str:
    """Outcome names or titles, listed (English: comma-joined names, as before)."""
    sep = "," if language() == "en" else t("record_cli.list_sep")
    return sep.join(outcome(n) for n in names)


def money(value: object) -> str:
    """``280000.00 yuan`` (English, as before) / ``280,000.00元``."""
    return _money(language(), str(value))


@functools.lru_cache(maxsize=4096)
def _money(lang: str, value: str) -> str:
    with use(lang):
        return _money_now(value)


def _money_now(value: str) -> str:
    if language() == "en":
        return t("record_cli.money", amount=value)
    from engine.i18n.numbers import amount

    return t("record_cli.money", amount=amount(str(value), "yuan"))


def versions(numbers) -> str:
    """``v1, v2`` / ``第 1 版，第 2 版``."""
    sep = ", " if language() == "en" else t("record_cli.list_sep")
    return sep.join(t("record_cli.list.version_ref", version=n) for n in numbers)


def width(text: str) -> int:
    """Columns ``text`` takes on a terminal: a CJK character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, columns: int) -> str:
    """``text`` padded with spaces to ``columns`` terminal columns (``f"{text:columns}"`` for CJK)."""
    return text + " " * max(0, columns - width(text))
