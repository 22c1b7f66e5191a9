"""The rulebook as a reference document (Markdown), generated from the rule files themselves.

``shuangtan rules doc --out docs/rulebook.md`` writes it; a test checks the copy in the
repository is what this module writes now, so the reference cannot drift from the rules.
Tests and formulas are shown in the comparison vocabulary's own symbols (≥, <, ≠, …), in
the order the files give (outcomes in decision order, criteria as listed); parameters by name.
The output depends on nothing but the rulebook: no dates of generation, no paths of this machine.
"""

from __future__ import annotations

from engine.decimals import fmt_plain
from engine.rulebook.checks import RECORD_GROUPS
from engine.rulebook.comparisons import COMPARISONS
from engine.rulebook.expressions import (
    All,
    AnyOf,
    Arith,
    Compare,
    Const,
    Field,
    Hit,
    Label,
    Lookup,
    Not,
    Param,
    Present,
    Status,
    TableOutput,
    Truth,
    Var,
)
from engine.rulebook.loader import STATUSES, Outcome, Rulebook
from engine.rulebook.metering_rules import FACTS, SETTINGS
from engine.rulebook.metering_rules import FILE as METERING_FILE
from engine.rulebook.plausibility import FILE as PLAUSIBILITY_FILE

_INFIX = {"add": "+", "sub": "−", "mul": "×", "div": "÷"}
_MODES = {"relative": "share of the metered value:", "absolute": "absolute:"}


# --- terms and tests in words ------------------------------------------------------------------
def show_term(term, nested: bool = False) -> str:
    """A formula as a reader writes it: ``(a − b) ÷ a``, ``min(x, y)``, ``table[key]``."""
    if isinstance(term, Field):
        return term.path
    if isinstance(term, Param | Var):
        return term.name
    if isinstance(term, TableOutput):
        return term.table
    if isinstance(term, Const):
        return fmt_plain(term.number)
    if isinstance(term, Label):
        return f'"{term.text}"'
    if isinstance(term, Lookup):
        return f"{term.param}[{term.key.path}]"
    if isinstance(term, Arith):
        args = [show_term(a, nested=True) for a in term.args]
        if term.op in _INFIX:
            text = f" {_INFIX[term.op]} ".join(args)
            return f"({text})" if nested else text
        return f"{term.op}({', '.join(show_term(a) for a in term.args)})"
    raise TypeError(f"no text for {type(term).__name__}")


def show_test(test, nested: bool = False) -> str:
    """A test as a reader writes it: ``storage.cycle_life ≥ storage_technical_standard.min_cycle_life``."""
    if isinstance(test, Compare):
        return f"{show_term(test.left)} {COMPARISONS[test.op].symbol} {show_term(test.right)}"
    if isinstance(test, Truth):
        return f"{test.field.path} is {'true' if test.expected else 'false'}"
    if isinstance(test, Present):
        return f"section {test.section} is present"
    if isinstance(test, Hit):
        return f"a row of table {test.table} applies"
    if isinstance(test, Status):
        return f"{test.outcome} is {' or '.join(sorted(test.allowed))}"
    if isinstance(test, All | AnyOf):
        word = " and " if isinstance(test, All) else " or "
        text = word.join(show_test(t, nested=True) for t in test.tests)
        return f"({text})" if nested else text
    if isinstance(test, Not):
        return f"not ({show_test(test.test)})"
    raise TypeError(f"no text for {type(test).__name__}")


# --- Markdown --------------------------------------------------------------------------------
def _cell(text) -> str:
    """Text for one Markdown table cell: pipes escaped, lines joined."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _code(text) -> str:
    return f"`{text}`"


def _bilingual(d: dict) -> str:
    return f"{d['zh']} / {d['en']}"


def _source(book: Rulebook, source: str) -> str:
    parts = []
    for key in (s.strip() for s in source.split(";")):
        parts.append(f"[{key}](#source-{_slug(key)})")
    return "; ".join(parts)


def _reference(book: Rulebook, reference: str) -> str:
    """A parameter's reference: a source (linked), with its note if any, or an assumption as written."""
    head, colon, rest = reference.partition(":")
    if head.strip() not in book.sources:
        return reference
    return _source(book, head.strip()) + (f": {rest.strip()}" if colon else "")


def _slug(text: str) -> str:
    return "".join(c.lower() if c.isalnum() else "-" for c in text).strip("-")


def _param_link(name: str) -> str:
    return f"[`{name}`](#{_slug(name)})"


def rulebook_markdown(book: Rulebook) -> str:
    """The reference of ``book``: outcomes, criteria, exemptions, tables, amounts, parameters
    with their whole history, sources, metering cross-checks and plausibility checks."""
    out: list[str] = []
    w = out.append
    w(f"# Rulebook {book.version}: {book.title['en']}")
    w("")
    w(f"{book.title['zh']}")
    w("")
    w(
        "Generated from the rule files in `rules/` by `shuangtan rules doc --out docs/rulebook.md`; "
        "do not edit by hand (`tests/rulebook/test_doc.py` fails when this file is not what the "
        "generator writes). The rule language and the loading rules are described in "
        "[README.md](../README.md#the-rulebook); the decision document in [contract.md](contract.md)."
    )
    w("")
    w(f"- Version: `{book.version}`; data contract {book.contract}")
    w(f"- Digest: `{book.digest}` (SHA-256 over the parsed rule files; every decision carries it)")
    w(f"- In force from {book.first_date.isoformat()}")
    w("")
    w("## Contents")
    w("")
    w("- [Sources](#sources)")
    w("- [Exceptions for every outcome](#exceptions-for-every-outcome)")
    w("- Outcomes, in the order they are decided:")
    for i, o in enumerate(book.outcomes, 1):
        w(f"  {i}. [`{o.name}`](#{_slug(o.name)}): {_bilingual(o.title)}")
    w("- [Parameters](#parameters)")
    if book.metering is not None:
        w("- [Metering cross-checks](#metering-cross-checks)")
    if book.plausibility is not None:
        w("- [Plausibility checks](#plausibility-checks)")
    w("")
    _sources(book, w)
    _exceptions(book, w)
    for i, o in enumerate(book.outcomes, 1):
        _outcome(book, o, i, w)
    _parameters(book, w)
    if book.metering is not None:
        _metering(book, w)
    if book.plausibility is not None:
        _plausibility(book, w)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def _sources(book: Rulebook, w) -> None:
    w("## Sources")
    w("")
    w("Every outcome, criterion and parameter cites one of these (`reference` of a parameter may")
    w("instead be `assumption: <rationale>`).")
    w("")
    w("| key | document | section | file |")
    w("|---|---|---|---|")
    for key, s in book.sources.items():
        file = _code(s["file"]) if s.get("file") else "—"
        w(f'| <a id="source-{_slug(key)}"></a>{_cell(key)} | {_cell(s["document"])} | {_cell(s["section"])} | {file} |')
    w("")


def _exemption_rows(book: Rulebook, exemptions, w, fallback_source: str | None, fallback_clause: str | None) -> None:
    w("| code | applies only if | message (zh / en) | source | clause |")
    w("|---|---|---|---|---|")
    for e in exemptions:
        source = e.source or fallback_source
        clause = e.clause or fallback_clause
        w(
            f"| `{e.code}` | {_cell(show_test(e.when))} | {_cell(_bilingual(e.message))} | "
            f"{_source(book, source) if source else '—'} | {_cell(clause) if clause else '—'} |"
        )
    w("")


def _exceptions(book: Rulebook, w) -> None:
    w("## Exceptions for every outcome")
    w("")
    w("Tried first, in this order, for every outcome: when the test does not hold, the outcome is")
    w("`not_applicable` and its one reason is the exception's code.")
    w("")
    if book.exceptions:
        _exemption_rows(book, book.exceptions, w, None, None)
    else:
        w("None.")
        w("")


def _outcome(book: Rulebook, o: Outcome, i: int, w) -> None:
    ok, ko = STATUSES[o.kind]
    w(f'<a id="{_slug(o.name)}"></a>')
    w("")
    w(f"## {i}. `{o.name}`: {_bilingual(o.title)}")
    w("")
    kind = f"{o.kind}: `{ok}`, `{ko}` or `not_applicable`"
    w(f"- Kind: {kind}" + (f"; amount in {o.unit}" if o.unit else "; no amount"))
    w(f"- Source: {_source(book, o.source)}")
    w(f"- File: `{o.file}`")
    if o.earmark:
        w(f"- Earmark: {_bilingual(o.earmark)}")
    if o.basis:
        b = o.basis
        w(
            f"- Normative basis (cited by notices): 《{b['document']['zh']}》{b['article']['zh']} / "
            f"{b['document']['en']}, {b['article']['en']}"
            + (f"; **assumption**: {b['assumption']}" if b["assumption"] else "")
        )
    if o.on_not_met:
        w(
            f"- When `{ko}`: a {o.on_not_met['notice']} notice, with the deadline (days) of "
            f"{_param_link(o.on_not_met['deadline_days'])}"
        )
    w("")
    w(f"> {' '.join(o.clause.split())}")
    w("")
    if o.applies:
        w("### Exemptions (`not_applicable`)")
        w("")
        w("After the exceptions for every outcome, in this order:")
        w("")
        _exemption_rows(book, o.applies, w, o.source, o.clause)
    if o.lets:
        w("### Variables")
        w("")
        for name, term in o.lets:
            w(f"- `{name}` = {show_term(term)}")
        w("")
    for t in o.tables:
        w(f"### Table `{t.name}`")
        w("")
        if t.description:
            w(f"{t.description}.")
            w("")
        w(
            f"Input `{t.input_name}`"
            + (f" = {show_term(t.input)}" if t.input_name != show_term(t.input) else "")
            + f"; hit policy first (rows tried in order, the first whose minimum the input reaches wins); "
            f"output in {t.unit}; the row used is the reason `{t.reason}`."
        )
        w("")
        w(f"| row | {t.input_name} ≥ | output ({t.unit}) |")
        w("|---|---|---|")
        for r in t.rows:
            w(f"| `{r.id}` | {_term_cell(r.min)} | {_term_cell(r.output)} |")
        w("")
    w("### Criteria")
    w("")
    if not o.criteria:
        w("None.")
        w("")
    else:
        w(f"Every criterion must hold for `{ok}`; each one that fails is a reason, all are listed, and the")
        w(f"outcome is `{ko}`. In a message, `${{lhs}}` and `${{rhs}}` are the two sides of a comparison")
        w("and `${value}` a table's input, as the decision shows them.")
        w("")
    for c in o.criteria:
        w(f"#### `{c.code}`")
        w("")
        w(f"- Test: {show_test(c.test)}")
        w(f"- Rule: `{c.rule}`; source: {_source(book, c.source or o.source)}")
        w(f"- Clause: {' '.join(c.clause.split())}")
        w(f"- Message (zh): {c.message['zh']}")
        w(f"- Message (en): {c.message['en']}")
        w("")
    if o.amount is not None:
        w("### Amount")
        w("")
        unit_step = "0." + "0" * (o.amount.places - 1) + "1"
        w(f"- Formula: {show_term(o.amount.formula)}")
        w(f"- Rounded once, half up (四舍五入), to {unit_step} {o.unit}, after the rate and before the cap")
        if o.amount.cap is not None:
            w(f"- Cap: {show_term(o.amount.cap)} (rounded the same way); a capped amount has the reason `CAPPED`")
        w(f"- `{ko}`: {'0.' + '0' * o.amount.places} {o.unit}; `not_applicable`: no amount")
        w("")
    params = sorted(o.params())
    if params:
        w("### Parameters read")
        w("")
        w(", ".join(_param_link(p) for p in params))
        w("")


def _term_cell(term) -> str:
    if isinstance(term, Param):
        return _param_link(term.name)
    return _cell(show_term(term))


def _parameters(book: Rulebook, w) -> None:
    w("## Parameters")
    w("")
    w("Keyed by effective date: a value holds from its date until the next; `ended` means the")
    w("parameter is not in force from that date (a decision for a later period is refused).")
    w("")
    readers: dict[str, list[str]] = {}
    for o in book.outcomes:
        for name in o.params():
            readers.setdefault(name, []).append(f"[`{o.name}`](#{_slug(o.name)})")
    if book.metering is not None:
        for name in sorted(book.metering.params()):
            readers.setdefault(name, []).append("[metering](#metering-cross-checks)")
    if book.plausibility is not None:
        for name in sorted(book.plausibility.params()):
            readers.setdefault(name, []).append("[plausibility](#plausibility-checks)")
    for name in book.params:
        if name.split(".", 1)[0] in RECORD_GROUPS:
            readers.setdefault(name, []).append("the record (officer review)")
    by_file: dict[str, list[str]] = {}
    for name in sorted(book.params):
        by_file.setdefault(book.params[name].file, []).append(name)
    for file in sorted(by_file):
        w(f"### `{file}`")
        w("")
        for name in by_file[file]:
            p = book.params[name]
            w(f'<a id="{_slug(name)}"></a>')
            w("")
            w(f"#### `{name}`")
            w("")
            w(f"{p.description}")
            w("")
            w(f"- Unit: {p.unit}")
            w(f"- Reference: {_reference(book, p.reference)}")
            if p.index:
                w(f"- Indexed by `{p.index}` (a key not listed takes `default`)")
            w(f"- Read by: {', '.join(readers.get(name, [])) or 'nothing (rules validate reports it)'}")
            w("")
            w("| effective from | value |")
            w("|---|---|")
            for start, value, literal in p.history:
                if value is None:
                    shown = "ended"
                elif isinstance(literal, dict):
                    shown = ", ".join(f"{k}: {v}" for k, v in literal.items())
                else:
                    shown = literal
                w(f"| {start.isoformat()} | {_cell(shown)} |")
            w("")


def _metering(book: Rulebook, w) -> None:
    spec = book.metering
    w("## Metering cross-checks")
    w("")
    w(
        f"From `{METERING_FILE}`. When telemetry is given, the facts derived from it replace the declared "
        "fields before the rules run (the meter decides). Where a declaration differs from the meter by "
        f"strictly more than its tolerance, the outcome the fact feeds also carries `{spec.code}`."
    )
    w("")
    w(f"- Source: {_source(book, spec.source)}")
    w(f"- Clause: {' '.join(spec.clause.split())}")
    w(f"- Message (zh): {spec.message['zh']}")
    w(f"- Message (en): {spec.message['en']}")
    w(f"- Derivation settings: {', '.join(_param_link(p) for p in SETTINGS)}")
    w("")
    w("| fact | replaces | checked against | feeds | tolerance | label (zh / en) |")
    w("|---|---|---|---|---|---|")
    for c in spec.checks:
        replaces = _code(FACTS[c.fact]) if FACTS[c.fact] else "— (derived)"
        against = _code(c.declared)
        if c.declared_term is not None:
            against += f" = {_cell(show_term(c.declared_term))}"
        w(
            f"| `{c.fact}` | {replaces} | {against} | [`{c.outcome}`](#{_slug(c.outcome)}) | "
            f"{_MODES[c.mode]} {_param_link(c.tolerance)} | {_cell(_bilingual(c.label))} |"
        )
    w("")


def _plausibility(book: Rulebook, w) -> None:
    spec = book.plausibility
    w("## Plausibility checks")
    w("")
    w(
        f"From `{PLAUSIBILITY_FILE}`. A check whose test fails holds its outcome for an officer instead of "
        "paying it. A test reads the application's fields, the parameters in force on the last day of the "
        "period and `period_days` (the days of the period, first and last included); a test that reads an "
        "absent field does not apply. In a message, `${lhs}` and `${rhs}` are the two sides of a comparison "
        "and `${period_days}` the days."
    )
    w("")
    for c in spec.checks:
        w(f"### `{c.code}`")
        w("")
        w(f"- Holds: [`{c.outcome}`](#{_slug(c.outcome)})")
        w(f"- Test: {show_test(c.test)}")
        w(f"- Rule: `{c.rule}`; source: {_source(book, c.source)}")
        w(f"- Clause: {' '.join(c.clause.split())}")
        w(f"- Message (zh): {c.message['zh']}")
        w(f"- Message (en): {c.message['en']}")
        params = sorted(c.params())
        if params:
            w(f"- Parameters read: {', '.join(_param_link(p) for p in params)}")
        w("")
