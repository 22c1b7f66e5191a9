"""The self-check's reasons worded as the notices word them (engine/notices/findings.py): a
rate tier by its label and the rate with its unit, a ratio as a percentage, never an engine code.

The findings read the application's values. A partial application's unknown fields hold the
contract's stand-ins (engine/partial/reading.py), so an outcome that reads one is worded from
its reason's own message (the engine's, with ``?`` for what no one knows yet), once its codes
and units are said in the language of the page (``pages.reason``)."""

from __future__ import annotations

import re

from engine.i18n import Lang, t
from engine.i18n import unit as unit_label
from engine.partial.analysis import outcome_reads
from engine.rulebook.loader import Rulebook

#: "…，适用档位 tier_30：0.80 yuan/kWh": a row of a rate table, said by its place in the table
_ROW = re.compile(r"(?:档位\s*|tier\s+)?\b([a-z][a-z0-9]*_[0-9]+)\b")
_UNITS = re.compile(r"(?<![\w/])(yuan/kWh|yuan/tCO2e|yuan/t|yuan|kWh|tCO2e|tce|Wh/kg)(?![\w/])")


def worded(book: Rulebook, app, decision: dict, unknown: frozenset, lang: Lang) -> dict[tuple[str, str], str]:
    """(outcome, reason code) -> the reason as a person reads it, for every reason of ``decision``."""
    from engine.notices.findings import Findings, decided_fields, decision_env
    from engine.notices.wording import Words

    texts: dict[tuple[str, str], str] = {}
    reads = outcome_reads(book)
    exact = [n for n, o in decision["outcomes"].items() if o["status"] != "undetermined" and not reads[n] & unknown]
    if exact:
        fields, present, _ = decided_fields(app, decision)
        base = decision_env(book, fields, present, app.period.end, decision)
        findings = Findings(book, decision, base, Words(lang), decision.get("metering") or None)
        for name in exact:
            of = findings.of(name)
            for f in of.unmet + of.notes:
                texts[(name, f.code)] = str(f.short or f.text)
    for name, o in decision["outcomes"].items():
        for r in o["reasons"]:
            if (name, r["code"]) not in texts:
                texts[(name, r["code"])] = plain(book, name, r, lang)
    return texts


def plain(book: Rulebook, outcome: str, reason: dict, lang: Lang) -> str:
    """A reason's own message with its rows (``tier_30``) and units said in ``lang``."""
    from engine.notices.wording import Words

    numerals = [n.rstrip(".") for n in Words(lang).lab["numerals"]]
    rows = {row.id: i for table in book.outcome(outcome).tables for i, row in enumerate(table.rows)}

    def row(m: re.Match) -> str:
        i = rows.get(m.group(1))
        if i is None:
            return m.group(0)
        return t("pages.reason.row", lang, n=numerals[i] if i < len(numerals) else i + 1)

    message = reason.get("message_zh", reason["message"]) if lang == "zh" else reason["message"]
    message = _ROW.sub(row, message)
    return _UNITS.sub(lambda m: unit_label(m.group(1), lang), message)
