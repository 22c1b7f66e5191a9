"""The metered facts of a decision (its ``metering`` block) as the application page shows them:
each fact by its field's label, the meter's value and the declared one with their units, whether
they agree; the period, the telemetry file and the gaps in it. Numbers as the notices say them."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from fractions import Fraction

from engine.i18n import Lang, field, t


def _number(words, value, unit: str | None) -> str:
    try:
        return words.number(Fraction(Decimal(str(value))), unit).text
    except (InvalidOperation, ValueError, TypeError):
        return str(value)


def view(block: dict | None, lang: Lang) -> dict | None:
    """What the page shows of ``block`` (None: the decision was made on the declaration)."""
    if not block or block.get("used") != "metered":
        return None
    from engine.notices.wording import Words
    from engine.telemetry.metering import FACT_FIELDS

    words = Words(lang)
    facts = block.get("facts") or {}
    compared = {c.get("fact"): c for c in block.get("comparisons") or []}
    rows = []
    for fact, path in FACT_FIELDS.items():
        if facts.get(fact) is None:
            continue
        unit = words.field_unit(path)
        c = compared.get(fact)
        rows.append(
            {
                "fact": fact,
                "label": field(path, lang, with_path=False),
                "metered": _number(words, facts[fact], unit),
                "declared": _number(words, c["declared"], unit) if c and c.get("declared") is not None else "",
                "check": ""
                if c is None
                else t("pages.metering.differs" if c.get("differs") else "pages.metering.agrees", lang),
                "differs": bool(c and c.get("differs")),
            }
        )
    period = facts.get("period") or {}
    gaps = [
        t(
            "pages.metering.gap",
            lang,
            start=g["from"].replace("T", " "),
            end=g["to"].replace("T", " "),
            n=g["intervals"],
        )
        for g in facts.get("gaps") or []
    ]
    telemetry = block.get("telemetry") or {}
    return {
        "rows": rows,
        "period": t("pages.metering.period_value", lang, start=period.get("start", ""), end=period.get("end", ""))
        if period
        else "",
        "intervals": t(
            "pages.metering.intervals_value",
            lang,
            received=facts.get("intervals_received", ""),
            expected=facts.get("intervals_expected", ""),
            minutes=facts.get("interval_minutes", ""),
        ),
        "window": facts.get("daytime_window") or "",
        "file": telemetry.get("file") or "",
        "gaps": gaps,
    }
