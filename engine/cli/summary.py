"""A readable summary of a decision, in the language in force (engine/i18n; ``--lang``).

The reasons are worded as the notices word them (engine/notices/findings.py: ratios as
percentages, amounts grouped, units and cities named); a reason the findings do not phrase is
shown by the decision's own message in that language.
"""

from __future__ import annotations

from engine.decimals import fmt_money
from engine.i18n import amount, field, language, region, t, unit

_MARK = {
    "met": "✔",
    "granted": "✔",
    "levied": "●",
    "exempt": "○",
    "not_met": "✘",
    "denied": "✘",
    "not_applicable": "–",
    "undetermined": "?",
}
#: how many of the next questions a partial summary lists
QUESTIONS_SHOWN = 3


def status_name(status: str) -> str:
    return t(f"cli.status.{status}")


def render_text(decision: dict, app=None, unknown=frozenset(), book=None) -> str:
    """The summary of a decision; ``unknown`` are the fields of a partial application not given
    (``app`` then holds stand-ins there, never shown). With ``book`` (and ``app``) the reasons
    are worded from the rulebook as a notice words them."""
    lang = language()
    texts = _reason_texts(book, app, decision, lang, unknown)
    lines = [_head(decision, app, unknown)]
    rs = decision["ruleset"]
    lines.append(
        t("cli.summary.evaluated", date=decision["evaluated_on"], version=rs["version"], digest=rs["digest"][:19])
    )
    lines.append("")
    outcomes = decision["outcomes"]
    for name, out in outcomes.items():
        status = status_name(out["status"])
        if out.get("amount_range"):
            status += f"  {_span(out['amount_range'], out['unit'])}"
        elif out["amount"] is not None:
            status += f"  {amount(out['amount'], out['unit'])}"
        lines.append(t("cli.summary.outcome", mark=_MARK[out["status"]], title=_title(name, out), status=status))
        if out["status"] == "undetermined":
            could = t("cli.summary.or_sep").join(status_name(s) for s in out["could_be"])
            lines.append(t("cli.summary.could_be", statuses=could))
        for r in out["reasons"]:
            text = texts.get((name, r["code"])) or (r.get("message_zh") if lang == "zh" else None) or r["message"]
            lines.append(t("cli.summary.reason", code=r["code"], text=text, rule=r["rule"], source=r["source"]))
        if out.get("needs"):
            key = "cli.summary.depends_on" if out["status"] == "undetermined" else "cli.summary.may_add"
            lines.append(t(key, fields=t("cli.summary.fields_sep").join(field(p) for p in out["needs"])))
        if out.get("notice"):
            lines.append(t("cli.summary.rectify", days=out["notice"]["deadline_days"]))
    if decision.get("metering"):
        from engine.telemetry.report import metering_lines

        lines.append("")
        lines += metering_lines(decision["metering"])
    totals = decision["totals"]
    lines.append("")
    partial = decision.get("partial")
    if not partial:
        lines.append(t("cli.summary.totals", subsidy=_yuan(totals["subsidy_yuan"]), levy=_yuan(totals["levy_yuan"])))
        return "\n".join(lines)
    span = partial["totals_range"]
    lines.append(
        t("cli.summary.settled_totals", subsidy=_yuan(totals["subsidy_yuan"]), levy=_yuan(totals["levy_yuan"]))
    )
    lines.append(
        t(
            "cli.summary.totals_could_be",
            subsidy=_span(span["subsidy_yuan"], "yuan"),
            levy=_span(span["levy_yuan"], "yuan"),
        )
    )
    if partial["questions"]:
        lines.append("")
        lines.append(t("cli.summary.next_questions"))
        sep = t("cli.summary.list_sep")
        for q in partial["questions"][:QUESTIONS_SHOWN]:
            affects = sep.join(_title(n, outcomes.get(n, {})) for n in q["affects"])
            if q["settles"]:
                settles = sep.join(_title(n, outcomes.get(n, {})) for n in q["settles"])
                lines.append(
                    t("cli.summary.question_settles", field=field(q["field"]), affects=affects, settles=settles)
                )
            else:
                lines.append(t("cli.summary.question", field=field(q["field"]), affects=affects))
    return "\n".join(lines)


def _head(decision: dict, app, unknown) -> str:
    if app is None:
        return t("cli.summary.head", id=decision["application_id"])
    e = app.enterprise
    shown = {
        key: t("cli.summary.unknown") if f"enterprise.{key}" in unknown else getattr(e, key)
        for key in ("name", "credit_code", "region_code")
    }
    code = shown["region_code"]
    return t(
        "cli.summary.head_enterprise",
        id=decision["application_id"],
        name=shown["name"],
        code=shown["credit_code"],
        region=region(code) if "enterprise.region_code" not in unknown else code,
    )


def _title(name: str, out: dict) -> str:
    title = out.get("title")
    return title[language()] if isinstance(title, dict) else name


def _reason_texts(book, app, decision: dict, lang: str, unknown) -> dict:
    """The notices' wording of each reason, when the rulebook and the application are at hand."""
    if book is None or app is None:
        return {}
    from engine.notices.findings import reason_texts

    texts = reason_texts(book, app, decision, lang)
    if unknown:  # an undetermined outcome's wording would read the stand-ins of what is unknown
        texts = {k: v for k, v in texts.items() if not decision["outcomes"][k[0]].get("needs")}
    return texts


def _yuan(value) -> str:
    return amount(value, "yuan")


def _span(r: dict, unit_name: str | None) -> str:
    """An amount range for people: ``0.00 – 280,000.00元`` (no upper bound: ``0.00 – …``)."""
    low = fmt_money(r["min"]) if r["min"] is not None else "…"
    high = fmt_money(r["max"]) if r["max"] is not None else "…"
    text = low if r["min"] == r["max"] else f"{low} – {high}"
    shown_unit = unit(unit_name) if unit_name else ""
    return f"{text}{'' if language() == 'zh' else ' '}{shown_unit}".rstrip()
