"""``explain --why-not`` as text for a person, in the language in force (engine/i18n).

The analysis (engine/drafting/whynot.py) keeps its notes in English: they are part of the JSON
output other systems read. Here each note is matched to its catalogue sentence, each field named
by its label and path, each value in its unit (a ratio as a percentage), each outcome by title.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from engine.i18n import amount, field, language, number, t
from engine.i18n.numbers import words

#: the English notes of engine/drafting/whynot.py -> (catalogue key, how each group is shown)
_NOTES = (
    (re.compile(r"depends on (?P<fields>.+), which the enterprise cannot change"), "fixed"),
    (re.compile(r"depends on (?P<fields>.+), not known yet"), "unknown"),
    (re.compile(r"(?P<field>\S+) is a recorded fact, not something the enterprise can change"), "recorded"),
    (re.compile(r"whether (?P<outcome>\w+) applies \((?P<code>\w+)\) is not known yet"), "applies_unknown"),
    (re.compile(r"(?P<outcome>\w+) is not applicable \((?P<code>\w+)\)"), "not_applicable"),
    (re.compile(r"(?P<outcome>\w+): (?P<code>\w+) cannot be cleared by changing the data"), "cannot_clear"),
    (re.compile(r"a \w+ test is not solved automatically"), "not_solved"),
    (re.compile(r"whether the outcome applies is not known yet: .*"), "outcome_applies_unknown"),
    (re.compile(r"no change to the application's data earns this exemption"), "no_exemption"),
)
_MOVES = re.compile(r"moves you to \S+: (?P<rate>\S+) (?P<unit>\S+)")


class _Words:
    def __init__(self, book, outcome: str):
        self.book, self.outcome, self.sep = book, outcome, t("explain.sep")

    def title(self, name: str) -> str:
        if self.book is None:
            return name
        try:
            return self.book.outcome(name).title[language()]
        except KeyError:
            return name

    def fields(self, paths) -> str:
        return self.sep.join(field(p) for p in paths)

    def value(self, path: str, v) -> str:
        if v is None:
            return t("explain.absent")
        if isinstance(v, bool):
            return t("common.answer_yes") if v else t("common.answer_no")
        return number(v, words().field_unit(path))

    def note(self, text: str) -> str:
        shown = []
        for part in text.split("; "):
            for pattern, key in _NOTES:
                m = pattern.fullmatch(part)
                if m:
                    g: dict[str, Any] = m.groupdict()
                    if "fields" in g:
                        g["fields"] = self.fields(g["fields"].split(", "))
                    if "field" in g:
                        g["field"] = field(g["field"])
                    if "outcome" in g:
                        g["outcome"] = self.title(g["outcome"])
                    shown.append(t(f"explain.note.{key}", **g))
                    break
            else:
                shown.append(part)
        return t("explain.change_sep").join(shown)


def render_text(w, book=None) -> str:
    """The result of ``why_not`` as lines of text."""
    say = _Words(book, w.outcome)
    shown_amount = f"  {amount(w.amount, w.unit)}" if w.amount is not None else ""
    status = t(f"cli.status.{w.status}")
    head: dict[str, Any] = {"title": say.title(w.outcome), "status": status, "amount": shown_amount}
    if w.reasons:
        lines = [t("explain.head_reasons", reasons=say.sep.join(w.reasons), **head)]
    else:
        lines = [t("explain.head", **head)]
    if w.needs:
        lines.append(t("explain.not_known_yet", fields=say.fields(w.needs)))
    if w.status == "not_applicable":
        lines += [
            t("explain.does_not_apply", code=code, message=_exemption(book, w.outcome, code, msg))
            for code, msg in w.unfixable.items()
        ]
        return "\n".join(lines)
    for code, sugs in w.blockers.items():
        lines.append("\n" + t("explain.to_be_exempt" if w.kind == "levy" else "explain.to_clear", code=code))
        lines += ["  - " + _line(say, s) for s in sugs]
    for code, why in w.unfixable.items():
        lines.append("\n" + t("explain.unfixable", code=code, why=say.note(why)))
    for code, why in w.open.items():
        lines.append("\n" + t("explain.open", code=code, why=say.note(why)))
    if w.combined:
        lines.append("\n" + t("explain.combined"))
        lines.append("  - " + _line(say, w.combined))
    if w.tiers:
        lines.append("\n" + t("explain.higher_tiers"))
        lines += ["  - " + _line(say, s) for s in w.tiers]
    if len(lines) == 1:
        lines.append(t("explain.nothing"))
    return "\n".join(lines)


def _exemption(book, outcome: str, code: str, message: str) -> str:
    """An exemption's message in the language in force (the analysis keeps the English one)."""
    if book is not None:
        o = book.outcome(outcome)
        for e in (*book.exceptions, *o.applies):
            if e.code == code:
                return e.message[language()]
    return message


def _line(say: _Words, s) -> str:
    changes = t("explain.change_sep").join(
        t("explain.change", field=field(c.path), old=say.value(c.path, c.old), new=say.value(c.path, c.new))
        for c in s.changes
    )
    what = changes
    if s.via:  # "peak_shaving_ratio 30.0 % → 40.0 %", from the analysis
        name, _, change = s.via.partition(" ")
        label = words().var_label(say.outcome, name)
        what = t("explain.via", label=label, change=change.replace(" %", "%"), changes=changes)
    m = _MOVES.fullmatch(s.note) if s.note else None
    if m:
        what += t("explain.moves_to", rate=number(m["rate"], m["unit"]))
    elif s.note:
        what += f" {s.note}"
    got = t(
        "explain.verified",
        status=t(f"cli.status.{s.status}"),
        amount=f"{say.sep}{amount(s.amount, s.unit)}" if s.amount is not None else "",
    )
    if s.delta is not None and s.delta:
        sign = "+" if s.delta > 0 else ""
        got += t(
            "explain.delta",
            delta=sign
            + amount(format(s.delta.quantize(Decimal("0.01")) if s.unit == "yuan" else s.delta, "f"), s.unit),
        )
    if s.remaining and s.status not in ("granted", "met", "exempt"):
        got += t("explain.still", codes=say.sep.join(s.remaining))
    if s.needs and s.status == "undetermined":
        got += t("explain.needs", fields=say.fields(s.needs))
    return f"{what} {got}"
