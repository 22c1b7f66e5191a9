"""A readable bilingual summary of a decision (Chinese labels with English)."""

from __future__ import annotations

from engine.decimals import fmt_money

STATUS_LABELS = {
    "met": ("达标", "met"),
    "not_met": ("未达标", "not met"),
    "granted": ("批准", "granted"),
    "denied": ("不予批准", "denied"),
    "levied": ("征收", "levied"),
    "exempt": ("免征", "exempt"),
    "not_applicable": ("不适用", "not applicable"),
    "undetermined": ("待定", "undetermined"),
}
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
UNIT_LABELS = {"yuan": "元 yuan", "tCO2e": "吨二氧化碳当量 tCO2e"}
UNKNOWN = "?"
#: how many of the next questions a partial summary lists
QUESTIONS_SHOWN = 3


def render_text(decision: dict, app=None, unknown=frozenset()) -> str:
    """The summary of a decision; ``unknown`` are the fields of a partial application not given
    (``app`` then holds stand-ins there, never shown)."""
    lines = []
    head = f"申请 Application {decision['application_id']}"
    if app is not None:
        e = app.enterprise
        name, code, region = (
            UNKNOWN if f"enterprise.{key}" in unknown else getattr(e, key)
            for key in ("name", "credit_code", "region_code")
        )
        head += f" · {name} ({code}, {region})"
    lines.append(head)
    rs = decision["ruleset"]
    lines.append(
        f"评估日期 Evaluated on {decision['evaluated_on']} · 规则集 Ruleset {rs['version']} ({rs['digest'][:19]}…)"
    )
    lines.append("")
    for name, out in decision["outcomes"].items():
        zh, en = STATUS_LABELS[out["status"]]
        title = out.get("title", {"zh": name, "en": name})
        amount = ""
        if out["amount"] is not None:
            amount = f"  {fmt_money(out['amount'])} {UNIT_LABELS.get(out['unit'], out['unit'] or '')}"
        if out.get("amount_range"):
            lines.append(
                f"{_MARK[out['status']]} {title['zh']} {title['en']}: {zh} {en}  "
                f"{_span(out['amount_range'])} {UNIT_LABELS.get(out['unit'], out['unit'] or '')}"
            )
        else:
            lines.append(f"{_MARK[out['status']]} {title['zh']} {title['en']}: {zh} {en}{amount}")
        if out["status"] == "undetermined":
            could = " / ".join(f"{STATUS_LABELS[s][0]} {STATUS_LABELS[s][1]}" for s in out["could_be"])
            lines.append(f"    可能 could be: {could}")
        if out.get("needs"):
            verb = "取决于 depends on" if out["status"] == "undetermined" else "尚可增加理由 may add reasons"
            lines.append(f"    {verb}: {'; '.join(_field(p) for p in out['needs'])}")
        for r in out["reasons"]:
            zh_msg = r.get("message_zh")
            text = f"{zh_msg} / {r['message']}" if zh_msg else r["message"]
            lines.append(f"    [{r['code']}] {text}  ({r['rule']}; {r['source']})")
        if out.get("notice"):
            n = out["notice"]
            lines.append(
                f"    整改通知 Rectification notice: {n['deadline_days']} 天内整改 / rectify within "
                f"{n['deadline_days']} days"
            )
    if decision.get("metering"):
        from engine.telemetry.report import metering_lines

        lines.append("")
        lines += metering_lines(decision["metering"])
    t = decision["totals"]
    lines.append("")
    partial = decision.get("partial")
    if partial:
        span = partial["totals_range"]
        lines.append(
            f"已定合计 Settled totals: 补贴 subsidy {fmt_money(t['subsidy_yuan'])} 元 yuan · "
            f"环保税费 levy {fmt_money(t['levy_yuan'])} 元 yuan"
        )
        lines.append(
            f"可能合计 Totals could be: 补贴 subsidy {_span(span['subsidy_yuan'])} 元 yuan · "
            f"环保税费 levy {_span(span['levy_yuan'])} 元 yuan"
        )
        if partial["questions"]:
            lines.append("")
            lines.append("下一个问题 Next questions:")
            for q in partial["questions"][:QUESTIONS_SHOWN]:
                settles = f"; 可确定 settles {', '.join(q['settles'])}" if q["settles"] else ""
                lines.append(f"  {_field(q['field'])}: 影响 affects {', '.join(q['affects'])}{settles}")
        return "\n".join(lines)
    lines.append(
        f"合计 Totals: 补贴 subsidy {fmt_money(t['subsidy_yuan'])} 元 yuan · 环保税费 levy {fmt_money(t['levy_yuan'])} 元 yuan"
    )
    return "\n".join(lines)


def _field(path: str) -> str:
    from engine.contract.labels import FIELD_LABELS

    label = FIELD_LABELS.get(path)
    return f"{label['zh']} {label['en']} ({path})" if label else path


def _span(r: dict) -> str:
    """An amount range for people: ``0.00 – 280,000.00`` (no upper bound: ``0.00 – …``)."""
    low = fmt_money(r["min"]) if r["min"] is not None else "…"
    high = fmt_money(r["max"]) if r["max"] is not None else "…"
    return low if r["min"] == r["max"] else f"{low} – {high}"
