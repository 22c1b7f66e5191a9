"""A readable bilingual summary of a decision (Chinese labels with English)."""

from __future__ import annotations

from decimal import Decimal

STATUS_LABELS = {
    "met": ("达标", "met"),
    "not_met": ("未达标", "not met"),
    "granted": ("批准", "granted"),
    "denied": ("不予批准", "denied"),
    "levied": ("征收", "levied"),
    "exempt": ("免征", "exempt"),
    "not_applicable": ("不适用", "not applicable"),
}
_MARK = {"met": "✔", "granted": "✔", "levied": "●", "exempt": "○", "not_met": "✘", "denied": "✘", "not_applicable": "–"}
UNIT_LABELS = {"yuan": "元 yuan", "tCO2e": "吨二氧化碳当量 tCO2e"}


def money(text: str | None) -> str:
    if text is None:
        return ""
    d = Decimal(text)
    exponent = d.as_tuple().exponent
    assert isinstance(exponent, int), text  # amounts are finite decimals, never NaN or infinity
    places = -exponent
    return f"{d:,.{places}f}"


def render_text(decision: dict, app=None) -> str:
    lines = []
    head = f"申请 Application {decision['application_id']}"
    if app is not None:
        head += f" · {app.enterprise.name} ({app.enterprise.credit_code}, {app.enterprise.region_code})"
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
            amount = f"  {money(out['amount'])} {UNIT_LABELS.get(out['unit'], out['unit'] or '')}"
        lines.append(f"{_MARK[out['status']]} {title['zh']} {title['en']}: {zh} {en}{amount}")
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
    lines.append(
        f"合计 Totals: 补贴 subsidy {money(t['subsidy_yuan'])} 元 yuan · 环保税费 levy {money(t['levy_yuan'])} 元 yuan"
    )
    return "\n".join(lines)
