"""The letter: a notice as a Chinese administrative document (or its English counterpart).

发文机关 and 文号 at the head, the title, the addressee, the decision in plain sentences with its
normative basis, the rights of remedy (复议机关, court, one time limit each), the contact, the
落款 with the date and a place for the seal, 抄送 where the authority file names copies. Every
sentence comes from a pattern of labels.yaml; every figure from the decision.
"""

from __future__ import annotations

import datetime as dt

from engine.notices.findings import CAPPED, METERED, OVERRIDE, Findings, OutcomeFindings
from engine.notices.wording import Datum, Number, Phrase, Words, join, say

#: Further findings a letter states beside an item (the annex states them all).
_IN_LETTER = (CAPPED, METERED, OVERRIDE)


def letter(kind: str, w: Words, f: Findings, facts: dict, authority: dict, revocation: dict | None) -> dict:
    """The letter of a ``kind`` of notice: head, addressee, body blocks, remedies, 落款, 抄送."""
    L = w.lab["letter"]
    views = {name: f.of(name) for name in f.decision["outcomes"]}
    # a revocation names the application in its own first sentence
    blocks: list[dict] = [] if kind == "revocation" else [_p(say(L["opening"], **facts["opening"]))]
    cited: list[OutcomeFindings] = []
    if kind == "approval":
        granted = [v for v in views.values() if v.out["status"] == "granted"]
        blocks.append(_p(L["approval_lead"]))
        for i, v in enumerate(granted):
            text = say(L["approval_item"], title=w.title(v.outcome), amount=w.amount(v.out["amount"], v.out["unit"]))
            tiers = {t.reason for t in v.outcome.tables}
            notes = [n.text for n in v.notes if n.code in _IN_LETTER or n.code in tiers]
            if notes:
                text = join([text, say(L["approval_reason"], reasons=join(notes, w.say["all"]))], "")
            blocks.append(_item(w, i, text))
        blocks.append(_p(say(L["total"], total=w.money(f.decision["totals"]["subsidy_yuan"]))))
        if any(v.out["status"] == "denied" for v in views.values()):
            blocks.append(_p(L["see_denial"]))
        cited = granted
    elif kind == "denial":
        denied = [v for v in views.values() if v.out["status"] == "denied"]
        blocks.append(_p(L["denial_lead"]))
        said: set[str] = set()  # a failed check's own reasons are given the first time only
        for i, v in enumerate(denied):
            why = []
            for x in v.unmet:
                if x.short is not None and str(x.short) in said:
                    why.append(x.short)
                else:
                    why.append(x.text)
                    said.add(str(x.short))
            why += [n.text for n in v.notes if n.code in _IN_LETTER]
            text = say(L["denial_item"], title=w.title(v.outcome), reasons=join(why, w.say["all"]))
            blocks.append(_item(w, i, text))
        if any(v.out["status"] == "granted" for v in views.values()):
            blocks.append(_p(L["see_approval"]))
        cited = denied
    elif kind == "rectification":
        for v in views.values():
            notice = v.out.get("notice") or {}
            if notice.get("kind") != "rectification":
                continue
            why = [x.text for x in v.unmet] + [n.text for n in v.notes if n.code in _IN_LETTER]
            blocks.append(_p(say(L["rectification_lead"], title=w.title(v.outcome), reasons=join(why, w.say["all"]))))
            deadline = facts["notice_date"] + dt.timedelta(days=int(notice["deadline_days"]))
            blocks.append(_p(say(L["rectification_order"], deadline=w.date(deadline))))
            withdrawn = [w.title(x.outcome) for x in views.values() if _withdrawn_by(x, v.name)]
            if withdrawn:
                blocks.append(_p(say(L["rectification_withdrawn"], items=join(withdrawn, L["list_sep"]))))
            else:
                blocks.append(_p(L["rectification_none"]))
            cited.append(v)
    elif kind == "levy":
        for v in views.values():
            if v.out["status"] != "levied":
                continue
            found = join([x.text for x in v.met], w.say["all"])
            blocks.append(_p(say(L["levy_lead"], start=facts["start"], end=facts["end"], reasons=found)))
            calc = f.calculation(v) or Phrase(())
            blocks.append(
                _p(
                    say(
                        L["levy_item"],
                        title=w.title(v.outcome),
                        amount=w.amount(v.out["amount"], v.out["unit"]),
                        calculation=calc,
                    )
                )
            )
            levy = authority["levy"]
            blocks.append(
                _p(
                    say(
                        L["levy_pay"],
                        days=str(levy["deadline_days"]),
                        collector=Datum(levy["collector"]),
                        account_name=Datum(levy["account_name"]),
                        bank=Datum(levy["bank"]),
                        account=Datum(levy["account"]),
                    )
                )
            )
            earmark = (v.out.get("earmark") or {}).get(w.lang)
            if earmark:
                blocks.append(_p(say(L["earmark"], earmark=earmark)))
            cited.append(v)
    elif kind == "revocation":
        assert revocation is not None
        blocks.append(_p(say(L["revocation_lead"], **facts["opening"], confirmed=revocation["new_confirmed_at"])))
        blocks.append({"n": "", "text": Phrase(()), "table": revocation["table"]})
        blocks.append(_p(revocation["totals"]))
        blocks.append(_p(revocation["new"]))
    basis = _basis(w, cited)
    if basis is not None:
        blocks.append(_p(basis[0]))
    contact = authority["contact"]
    return {
        "lang": w.lang,
        "authority": Datum(authority["name"]),
        "notice_no": Number(facts["notice_no"]),
        "title": w.lab["title"][kind],
        "salutation": say(L["salutation"], name=Datum(facts["enterprise"])),
        "blocks": blocks,
        "draft_basis": L["basis_draft"] if basis is not None and basis[1] else None,
        "rights": say(L["rights"], body=Datum(authority["reconsideration"]), court=Datum(authority["court"])),
        "contact": say(
            L["contact"],
            person=Datum(contact["person"]),
            phone=Datum(contact["phone"]),
            address=Datum(contact["address"]),
        ),
        "annex_note": L["annex_note"],
        "signature": {
            "authority": Datum(authority["name"]),
            "date": w.date(facts["notice_date"]),
            "seal": L["seal"],
            "seal_line": L["seal_line"],
        },
        "cc": say(L["cc"], bodies=join([Datum(c) for c in authority["cc"]], L["list_sep"]))
        if authority["cc"]
        else None,
    }


def _p(text) -> dict:
    return {"n": "", "text": text if isinstance(text, Phrase) else Phrase((text,)), "table": None}


def _item(w: Words, i: int, text: Phrase) -> dict:
    return {"n": w.numeral(i), "text": text, "table": None}


def _withdrawn_by(v: OutcomeFindings, check: str) -> bool:
    """``v`` is a benefit denied because the check ``check`` failed (a status criterion on it)."""
    from engine.rulebook.expressions import Status

    if v.out["status"] != "denied":
        return False
    failing = {x.code for x in v.unmet}
    return any(isinstance(c.test, Status) and c.test.outcome == check and c.code in failing for c in v.outcome.criteria)


def _basis(w: Words, cited: list[OutcomeFindings]) -> tuple[Phrase, bool] | None:
    """ "本决定依据《…》第八条、第九条作出", and whether any basis is still a drafting assumption."""
    by_document: dict[str, list[str]] = {}
    draft = False
    for v in cited:
        b = v.outcome.basis
        if not b:
            continue
        articles = by_document.setdefault(b["document"][w.lang], [])
        if b["article"][w.lang] not in articles:
            articles.append(b["article"][w.lang])
        draft = draft or bool(b["assumption"])
    if not by_document:
        return None
    L = w.lab["letter"]
    bases = [say(L["basis_one"], document=doc, article=join(arts, L["list_sep"])) for doc, arts in by_document.items()]
    return say(L["basis"], bases=join(bases, L["list_sep"])), draft
