"""The annex (附件：审查明细): what the examination found, in full, for the officer and the enterprise.

Per outcome: its normative basis, the policy text it rests on, every condition as met or not
met (reason codes in a last column), further findings (tier, cap, meter, review), how the amount
was computed, the evidence with its origin (the meter's value beside the declared one), and the
parameters applied; then the metering check, the subsidies already on record, the sources.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from engine.notices.findings import Findings, OutcomeFindings
from engine.notices.wording import Datum, Phrase, Words, join, say
from engine.rulebook.loader import Rulebook

_CHECK = ("met", "not_met")


def shown_outcomes(kind: str, decision: dict) -> list[str]:
    """The outcomes a notice of ``kind`` details, in the rulebook's order."""
    outs = decision["outcomes"]
    status = {n: o["status"] for n, o in outs.items()}
    checks = [n for n, s in status.items() if s in _CHECK]
    if kind == "approval":
        return [n for n, s in status.items() if s == "granted"] + checks
    if kind == "denial":
        return [n for n, s in status.items() if s == "denied"] + checks
    if kind == "rectification":
        rect = [n for n, o in outs.items() if (o.get("notice") or {}).get("kind") == "rectification"]
        return rect + [n for n, s in status.items() if s == "denied"] + [c for c in checks if c not in rect]
    if kind == "levy":
        return [n for n, s in status.items() if s == "levied"]
    return []


def annex(w: Words, f: Findings, facts: list, shown: list[str], declared: dict, history: dict) -> dict:
    A = w.lab["annex"]
    return {
        "title": A["title"],
        "subtitle": A["subtitle"],
        "facts": facts,
        "outcomes": [outcome(w, f, f.of(name), declared) for name in shown],
        "metering": metering(w, f) if shown else None,
        "history": _history(w, history) if shown else None,
        "sources": sources(w, f.book, [f.of(n) for n in shown]),
        "revocation": None,  # a revocation notice: the decisions compared
    }


def outcome(w: Words, f: Findings, v: OutcomeFindings, declared: dict) -> dict:
    A, o, out = w.lab["annex"], v.outcome, v.out
    status = w.lab["status"][out["status"]]
    if out["amount"] is not None and out["unit"] and out["status"] in ("granted", "levied"):
        heading = say(
            A["outcome_amount"], title=o.title[w.lang], status=status, amount=w.amount(out["amount"], out["unit"])
        )
    else:
        heading = say(A["outcome_head"], title=o.title[w.lang], status=status)
    basis = None
    if o.basis:
        b = o.basis
        basis = say(w.lab["letter"]["basis_one"], document=b["document"][w.lang], article=b["article"][w.lang])
        if b["assumption"]:
            basis = join([basis, A["basis_draft"]], "")
    clause = None
    if w.lang == "zh":  # the policy text is Chinese: an English notice cites it by its source
        clause = join([o.clause, say(A["clause_source"], source=join(_cite(w, f.book, o.source), "；"))], "")
    calculation = f.calculation(v)
    return {
        "name": o.name,
        "heading": heading,
        "status": out["status"],
        "basis": basis,
        "clause": clause,
        # a criterion's code is the reason it gives when unmet: beside a met one it reads as a failure
        "criteria": [
            {"text": c.text, "result": A["met"] if c.met else A["unmet"], "met": c.met, "code": "" if c.met else c.code}
            for c in v.criteria
        ],
        "notes": [{"text": n.text, "code": n.code} for n in v.notes],
        "calculation": calculation,
        "evidence": evidence(w, f, v, declared) if out["status"] != "not_applicable" else [],
        "parameters": parameters(w, f.book, out),
    }


def _nodes(o) -> list:
    nodes = [e.when for e in o.applies] + [t for _, t in o.lets] + [c.test for c in o.criteria]
    nodes += [t.input for t in o.tables]
    if o.amount:
        nodes.append(o.amount.formula)
        if o.amount.cap is not None:
            nodes.append(o.amount.cap)
    return nodes


def evidence(w: Words, f: Findings, v: OutcomeFindings, declared: dict) -> list[dict]:
    """Every field and value the outcome read: the value it was decided on, and where from."""
    A, env, rows, seen = w.lab["annex"], v.env, [], set()
    for node in _nodes(v.outcome):
        for kind, name in sorted(node.refs()):
            if (kind, name) in seen or kind not in ("field", "var"):
                continue
            seen.add((kind, name))
            if kind == "field":
                value = env.fields.get(name)
                row = {"label": w.field_label(name), "value": field_value(w, name, value), "declared": ""}
                if name in declared:
                    row["declared"] = field_value(w, name, declared[name])
                    row["origin"] = A["from_meter"]
                elif name.startswith("history."):
                    row["origin"] = A["from_record"]
                else:
                    row["origin"] = A["from_declaration"]
            else:
                unit = w.var_unit(v.outcome.name, name)
                row = {
                    "label": w.var_label(v.outcome.name, name),
                    "value": w.number(env.vars.get(name), unit).text,
                    "declared": declared_var(w, f, v, name),
                    "origin": A["computed"],
                }
            rows.append(row)
    return rows


def declared_var(w: Words, f: Findings, v: OutcomeFindings, name: str) -> str:
    """A metered outcome value (the peak-shaving ratio) as the enterprise declared it."""
    block = f.metering
    if not block:
        return ""
    for c in block["comparisons"]:
        if c["fact"] == name and c["outcome"] == v.outcome.name:
            return w.number(c["declared"], w.var_unit(v.outcome.name, name)).text
    return ""


def field_value(w: Words, path: str, value) -> str:
    A = w.lab["annex"]
    if value is None:
        return A["none"]
    if isinstance(value, bool):
        return A["yes"] if value else A["no"]
    if path == "enterprise.region_code":
        return f"{w.region(value)}（{value}）" if w.lang == "zh" else f"{w.region(value)} ({value})"
    if path == "enterprise.size":
        return w.lab["sizes"].get(value, value)
    if isinstance(value, str) and not _numeric(value):
        return Datum(value)
    return w.number(value, w.field_unit(path)).text


def _numeric(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def parameters(w: Words, book: Rulebook, out: dict) -> list[dict]:
    A, rows = w.lab["annex"], []
    for name, p in out["parameters"].items():
        value = p["value"]
        if isinstance(value, dict):
            shown = join(
                [
                    f"{A['elsewhere'] if k == 'default' else w.region(k)}：{w.number(Fraction(Decimal(x)), p['unit']).text}"
                    if w.lang == "zh"
                    else f"{A['elsewhere'] if k == 'default' else w.region(k)}: {w.number(Fraction(Decimal(x)), p['unit']).text}"
                    for k, x in value.items()
                ],
                "；" if w.lang == "zh" else "; ",
            )
        else:
            shown = Phrase((w.number(Fraction(Decimal(value)), p["unit"]).text,))
        rows.append(
            {
                "label": w.param_label(name),
                "value": shown,
                "effective_from": w.date(p["effective_from"]),
                "reference": reference(w, book, p["reference"]),
            }
        )
    return rows


def reference(w: Words, book: Rulebook, text: str) -> Phrase:
    """A parameter's reference: its source, or that it is a drafting assumption (in English, with
    the rationale the drafter wrote)."""
    if text.startswith("assumption"):
        if w.lang == "zh":
            return Phrase((w.lab["annex"]["assumption"],))
        return Phrase((text,))
    keys, _, note = text.partition(":")
    cited = join(_cite(w, book, keys), "；" if w.lang == "zh" else "; ")
    return cited if w.lang == "zh" or not note else join([cited, note.strip()], ": ")


def _cite(w: Words, book: Rulebook, keys: str) -> list[str]:
    out = []
    for key in (k.strip() for k in keys.split(";")):
        src = book.sources.get(key)
        if src is None:
            out.append(w.lab["annex"]["record_source"])
        elif w.lang == "zh":
            out.append(f"{src['document']}，{src['section']}")
        else:
            out.append(key)
    return out


def sources(w: Words, book: Rulebook, shown: list[OutcomeFindings]) -> list[str]:
    """Every source the details cite, spelled out (papers, and the record of decisions)."""
    keys = sorted(
        {
            part.strip()
            for v in shown
            for source in [v.outcome.source, *(r.get("source", "") for r in v.out["reasons"])]
            for part in source.split(";")
            if part.strip()
        }
    )
    out = []
    for key in keys:
        src = book.sources.get(key)
        if src is None:
            text = w.lab["annex"]["record_source"]
        elif w.lang == "zh":
            text = f"{src['document']}，{src['section']}"
        else:
            text = f"{key}: {src['document']}, {src['section']}"
        if text not in out:
            out.append(text)
    return out


def metering(w: Words, f: Findings) -> dict | None:
    """The declared-versus-metered table of a decision decided on telemetry (else None)."""
    block = f.metering
    if not block:
        return None
    A, facts = w.lab["annex"], block["facts"]
    rows = []
    for c in block["comparisons"]:
        label, unit = f.fact_label(c["fact"])
        rows.append(
            {
                "label": label,
                "declared": w.number(c["declared"], unit).text,
                "metered": w.number(c["metered"], unit).text,
                "tolerance": w.number(c["limit"], unit).text,
                "differs": c["differs"],
                "result": A["differs"] if c["differs"] else A["agrees"],
            }
        )
    gaps = facts["gaps"]
    return {
        "intro": A["metering_intro"],
        "facts": [
            (A["telemetry_file"], Datum(block["telemetry"]["file"])),
            (A["telemetry_digest"], Datum(block["telemetry"]["sha256"])),
            (A["period"], f"{w.date(facts['period']['start'])} – {w.date(facts['period']['end'])}"),
            (A["daytime_window"], facts["daytime_window"]),
            (A["intervals"], f"{facts['intervals_received']:,} / {facts['intervals_expected']:,}"),
            (
                A["gaps"],
                str(
                    say(A["gaps_value"], gaps=str(len(gaps)), missing=f"{sum(g['intervals'] for g in gaps):,}")
                    if gaps
                    else A["none"]
                ),
            ),
        ],
        "rows": rows,
    }


def _history(w: Words, history: dict) -> list[dict] | None:
    rows = [
        {
            "label": w.field_label(f"history.{name}"),
            "declared": field_value(w, f"history.{name}", _typed(history["declared"][name])),
            "record": field_value(w, f"history.{name}", _typed(history["record"][name])),
        }
        for name in history.get("differences", [])
    ]
    return rows or None


def _typed(value):
    """A history value of the decision document ('true', 'false' or a yuan string) as a value."""
    if isinstance(value, bool) or value is None:
        return value
    if value in ("true", "false"):
        return value == "true"
    return Fraction(Decimal(str(value)))
