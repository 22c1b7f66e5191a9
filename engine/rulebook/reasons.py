"""The reasons of a decision, worded once: a named exemption, a failed criterion, a rate tier, a cap.

The Rete engine's actions and the partial evaluator (engine/partial) both build an outcome's
reasons here, so a reason reads the same, key for key, however the decision was reached.
"""

from __future__ import annotations

from typing import Any

from engine.rulebook.evaluate import substituter
from engine.rulebook.expressions import Compare, Hit


def exemption_reason(o, e) -> dict:
    """Why ``o`` is not applicable: the exemption ``e`` (a rulebook exception or one of its own)."""
    return {
        "code": e.code,
        "rule": f"{o.name}.not_applicable.{e.code}",
        "message": e.message["en"],
        "message_zh": e.message["zh"],
        "source": e.source or o.source,
        "clause": e.clause or o.clause,
    }


def placeholder_names(crit) -> tuple[str, ...]:
    """The placeholders a criterion's messages may fill: ${lhs}/${rhs} of a comparison, ${value} of a tier test."""
    if isinstance(crit.test, Compare):
        return ("lhs", "rhs")
    if isinstance(crit.test, Hit):
        return ("value",)
    return ()


def failure_wording(crit):
    """(English, Chinese) message functions of a criterion, each taking its placeholders' texts."""
    names = placeholder_names(crit)
    return substituter(crit.message["en"], names), substituter(crit.message["zh"], names)


def failure_reason(o, crit, wording, subst: dict, facts: dict) -> dict:
    """The reason of a failed criterion: its messages filled with ``subst``, the values it read."""
    en, zh = wording
    return {
        "code": crit.code,
        "rule": crit.rule,
        "message": en(subst),
        "message_zh": zh(subst),
        "source": crit.source or o.source,
        "clause": crit.clause,
        "values": facts,
    }


def tier_reason(o, t, row_id: str, shown_value: str, low: str, out: str) -> dict:
    """The row of a rate table an outcome was granted at."""
    return {
        "code": t.reason,
        "rule": f"{o.name}.{t.name}",
        "source": o.source,
        "message": f"{t.input_name} {shown_value} ≥ {low}: tier {row_id}, {out} {t.unit}",
        "message_zh": f"{shown_value} ≥ {low}，适用档位 {row_id}：{out} {t.unit}",
        "clause": o.clause,
        "values": {"row": row_id, "input": shown_value, "output": out},
    }


def capped_reason(o, shown_value: str, shown_cap: str) -> dict[str, Any]:
    """An amount cut to its cap."""
    return {
        "code": "CAPPED",
        "rule": f"{o.name}.cap",
        "source": o.source,
        "message": f"{shown_value} {o.unit} is capped at the remaining {shown_cap} {o.unit}",
        "message_zh": f"{shown_value} {o.unit} 超过剩余上限，按 {shown_cap} {o.unit} 计",
        "clause": o.clause,
        "values": {"uncapped": shown_value, "cap": shown_cap},
    }
