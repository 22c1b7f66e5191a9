"""What the record changes in the engine's result before an officer proposes it.

The engine decides one application on its own; only the record knows the enterprise's other
applications. Two rules are the record's:

- **One period, one payment.** An outcome paid or levied per period (storage per kWh, freight
  per order, the carbon reward, the levy) is not paid or levied again for days another counting
  application of the enterprise already covers: it is denied (the levy: exempt) with
  ``PERIOD_ALREADY_DECIDED``, naming that application and the shared days. A correction
  (``submit --corrects``) is the way to change what was decided for a period.
- **A grant is money.** A benefit that rounds to 0.00 (0.000 t) is denied with
  ``GRANT_ROUNDS_TO_ZERO``: it must not use up a one-time subsidy.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from engine.contract.decision import Reason
from engine.decimals import fmt_amount

if TYPE_CHECKING:  # (standing reads the record through SQLAlchemy: show applies overrides without it)
    from engine.records.standing import Standing

#: outcomes paid or levied for a period (the equipment subsidy is once per enterprise, checks are not paid)
PER_PERIOD = ("storage_subsidy", "eco_packaging_freight_subsidy", "carbon_quota_reward", "packaging_levy")
PERIOD_CODE = "PERIOD_ALREADY_DECIDED"
ZERO_CODE = "GRANT_ROUNDS_TO_ZERO"
_PAID = ("granted", "levied")


def _zero_like(amount: str | None) -> str | None:
    if amount is None:
        return None
    places = len(amount.partition(".")[2])
    return fmt_amount(Decimal(0), places)


def _denied(out: dict, reason: Reason) -> dict[str, Any]:
    status = "exempt" if out["status"] == "levied" else "denied"
    return {**out, "status": status, "amount": _zero_like(out["amount"]), "reasons": [*out["reasons"], reason]}


def retotal(decision: dict) -> dict:
    """Totals from the outcomes, as the engine sums them: granted yuan benefits, levied yuan."""
    subsidy = levy = Decimal("0.00")
    for out in decision["outcomes"].values():
        if out["unit"] == "yuan" and out["amount"] is not None:
            if out["status"] == "granted":
                subsidy += Decimal(out["amount"])
            elif out["status"] == "levied":
                levy += Decimal(out["amount"])
    return {**decision, "totals": {"subsidy_yuan": fmt_amount(subsidy, 2), "levy_yuan": fmt_amount(levy, 2)}}


def one_payment(decision: dict, overlaps: list[tuple[Standing, dt.date, dt.date]]) -> dict:
    if not overlaps:
        return decision
    other, first, last = overlaps[0]
    days = f"{first}..{last}"
    outcomes = dict(decision["outcomes"])
    for name in PER_PERIOD:
        out = outcomes.get(name)
        if out is None or out["status"] not in _PAID:
            continue
        what = "proposed (awaiting review)" if other.state == "proposed" else "in force"
        reason: Reason = {
            "code": PERIOD_CODE,
            "rule": f"records.one_period_one_payment.{name}",
            "source": "record of decisions",
            "clause": "同一企业同一期间只补贴（征收）一次；更正须以更正申请提交 (one payment per period; a correction replaces)",
            "message": f"application {other.application_id} (decision {other.decision_id}, {what}) already covers "
            f"{days}; submit a correction (--corrects {other.application_id}) to change it",
            "message_zh": f"申请 {other.application_id}（决定 {other.decision_id}）已覆盖 {days}，"
            f"同一期间不重复补贴或征收；如需更正请以更正申请提交",
            "values": {
                "application_id": other.application_id,
                "decision_id": str(other.decision_id),
                "shared_days": days,
                "others": ", ".join(f"{o.application_id} ({f}..{t})" for o, f, t in overlaps),
            },
        }
        outcomes[name] = _denied(out, reason)
    return retotal({**decision, "outcomes": outcomes})


def no_zero_grants(decision: dict) -> dict:
    outcomes = dict(decision["outcomes"])
    changed = False
    for name, out in outcomes.items():
        if out["status"] == "granted" and out["amount"] is not None and Decimal(out["amount"]) == 0:
            reason: Reason = {
                "code": ZERO_CODE,
                "rule": f"records.grant_is_money.{name}",
                "source": "record of decisions",
                "clause": "补贴金额为零不构成补贴，不占用一次性补贴资格 (a grant of nothing is not a grant)",
                "message": f"the amount rounds to {out['amount']}: not a grant",
                "message_zh": f"补贴金额为 {out['amount']}，不构成补贴",
                "values": {"amount": out["amount"]},
            }
            outcomes[name] = _denied(out, reason)
            changed = True
    return retotal({**decision, "outcomes": outcomes}) if changed else decision


OVERRIDE_CODE = "OFFICER_OVERRIDE"


def apply_overrides(decision: dict, overrides: list[dict]) -> dict:
    """The document as a reviewer decided it: each recorded override's status and amount, with a
    reason that keeps the engine's result and the written reason beside it."""
    outcomes = dict(decision["outcomes"])
    for o in overrides:
        out, was, now = outcomes[o["outcome"]], o["engine"], o["decided"]
        shown = lambda r: r["status"] + (f" {r['amount']}" if r["amount"] is not None else "")  # noqa: E731
        outcomes[o["outcome"]] = {
            **out,
            "status": now["status"],
            "amount": now["amount"],
            "reasons": [
                *out["reasons"],
                {
                    "code": OVERRIDE_CODE,
                    "rule": "records.review.override",
                    "source": "record of decisions",
                    "clause": "审核人员可书面说明理由变更审查结果 (a reviewer may change a result, with a written reason)",
                    "message": f"set to {shown(now)} by {o['by']} (the engine gave {shown(was)}): {o['reason']}",
                    "message_zh": f"审核人员 {o['by']} 变更为 {shown(now)}（系统结果 {shown(was)}），理由：{o['reason']}",
                    "values": {"engine": was, "decided": now, "reason": o["reason"]},
                },
            ],
        }
    return retotal({**decision, "outcomes": outcomes})
