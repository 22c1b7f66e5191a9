"""Load, validate and compile the rulebook in ``rules/`` (data, never code).

Storage of rules (these files) is kept apart from evaluation (``rete.py``, and later a
columnar backend): both consume the compiled ``Rulebook`` below.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import string
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.contract.application import FIELDS, LABEL_FIELDS, SECTIONS
from engine.errors import BadValueError, MissingKeyError, UnknownKeyError, UnknownReferenceError
from engine.resources import bundled
from engine.rulebook.expressions import Compare, Hit, Scope, parse_term, parse_test
from engine.rulebook.parameters import Parameter, parse_parameter
from engine.rulebook.statuses import STATUSES
from engine.rulebook.yamlfile import load_yaml

DEFAULT_RULES = bundled("rules")

_CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")
_PLACES = {"0.01": 2, "0.001": 3}
UNIT_PLACES = {"yuan": 2, "tCO2e": 3}
#: the files a rulebook may have at its top, beside parameters/ and outcomes/ (all but ruleset.yaml optional)
TOP_FILES = ("ruleset.yaml", "metering.yaml", "plausibility.yaml")


def _keys(raw: Any, file: str, key: str, required: set, optional: AbstractSet = frozenset()) -> dict:
    if not isinstance(raw, dict):
        raise BadValueError(file, key, f"expected a mapping, got {type(raw).__name__}")
    for k in raw:
        if k not in required and k not in optional:
            raise UnknownKeyError(
                file,
                f"{key}.{k}" if key else str(k),
                "unknown key",
                f"one of {', '.join(sorted(required | set(optional)))}",
            )
    for k in sorted(required):
        if k not in raw:
            raise MissingKeyError(file, f"{key}.{k}" if key else k, "required key is missing")
    return raw


def _text(raw, file, key) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise BadValueError(file, key, "expected non-empty text")
    return raw


def _bilingual(raw, file, key) -> dict:
    _keys(raw, file, key, {"en", "zh"})
    return {lang: _text(raw[lang], file, f"{key}.{lang}") for lang in ("en", "zh")}


def _code(raw, file, key) -> str:
    if not isinstance(raw, str) or not _CODE.match(raw):
        raise BadValueError(file, key, f"{raw!r} is not a reason code", "UPPER_CASE_WITH_UNDERSCORES")
    return raw


@dataclass(frozen=True)
class Exemption:
    """A named carve-out: when ``when`` fails, the outcome is not applicable for ``code``."""

    code: str
    when: Any
    message: dict
    source: str | None  # None: the outcome's own
    clause: str | None


@dataclass(frozen=True)
class Criterion:
    code: str
    rule: str
    clause: str
    test: Any
    message: dict
    source: str = ""  # the clause's source, when it is not the outcome's own
    #: a clause the rule file words in English (an assumption), in Chinese: display only, out of the digest
    clause_zh: str | None = None


@dataclass(frozen=True)
class Row:
    id: str
    min: Any
    output: Any


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    input_name: str
    input: Any
    unit: str
    reason: str
    rows: tuple


@dataclass(frozen=True)
class Amount:
    formula: Any
    places: int
    cap: Any | None


@dataclass(frozen=True)
class Outcome:
    name: str
    file: str
    title: dict
    kind: str
    unit: str | None
    source: str
    clause: str
    applies: tuple
    lets: tuple  # ((name, term), ...) in order
    tables: tuple
    criteria: tuple
    amount: Amount | None
    on_not_met: dict | None
    earmark: dict | None
    #: the normative document and article a notice cites ({"document", "article"}: bilingual;
    #: "assumption": why it is a placeholder, or None once the bureau names an adopted one)
    basis: dict | None = None

    @property
    def statuses(self):
        return (*STATUSES[self.kind], "not_applicable")

    def params(self) -> set:
        """Every parameter the outcome reads (for 'parameters used' and validation)."""
        names = set()
        nodes = [e.when for e in self.applies] + [t for _, t in self.lets] + [c.test for c in self.criteria]
        for t in self.tables:
            nodes.append(t.input)
            for r in t.rows:
                nodes += [r.min, r.output]
        if self.amount:
            nodes.append(self.amount.formula)
            if self.amount.cap is not None:
                nodes.append(self.amount.cap)
        for n in nodes:
            names |= {name for kind, name in n.refs() if kind == "param"}
        if self.on_not_met:
            names.add(self.on_not_met["deadline_days"])
        return names


@dataclass
class Rulebook:
    root: Path
    version: str
    contract: int
    title: dict
    sources: dict
    exceptions: tuple
    outcomes: tuple
    params: dict
    digest: str
    files: dict = field(repr=False)  # relative path -> parsed YAML (reforms patch these)
    metering: Any = None  # metering_rules.MeteringSpec from rules/metering.yaml, if any
    plausibility: Any = None  # plausibility.PlausibilitySpec from rules/plausibility.yaml, if any

    def outcome(self, name: str) -> Outcome:
        for o in self.outcomes:
            if o.name == name:
                return o
        raise KeyError(name)

    @property
    def first_date(self) -> dt.date:
        return min(p.history[0][0] for p in self.params.values())

    def params_at(self, when: dt.date):
        """Every parameter's (value, effective_from) on ``when``, or DateNotCoveredError."""
        return _resolve(self, when)

    def values_at(self, when: dt.date) -> dict:
        """Every parameter's value on ``when`` (``params_at`` without the effective dates)."""
        return {name: v for name, (v, _) in _resolve(self, when).items()}


def _resolve(book: Rulebook, when: dt.date):
    cache = book.__dict__.setdefault("_at_cache", {})
    if when not in cache:
        cache[when] = {name: p.at(when) for name, p in book.params.items()}
    return cache[when]


# --- loading ---------------------------------------------------------------------
def read_files(root: Path) -> dict:
    """Every YAML file of the rulebook, parsed strictly, keyed by path relative to ``root``."""
    root = Path(root)
    if not (root / "ruleset.yaml").is_file():
        raise MissingKeyError(str(root), "ruleset.yaml", "the rules folder has no ruleset.yaml")
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in (".yaml", ".yml"):
            rel = path.relative_to(root).as_posix()
            if rel.startswith("reforms/"):
                continue  # reforms are applied on demand, not part of the baseline
            files[rel] = load_yaml(path, f"rules/{rel}", numbers_in_text=True)
        elif path.is_file() and path.suffix not in (".md",):
            raise UnknownKeyError(
                f"rules/{path.relative_to(root).as_posix()}", "", "unexpected file in the rulebook", "*.yaml"
            )
    return files


def digest_of(files: dict) -> str:
    """A content digest of the parsed rulebook (stable across formatting-neutral edits of order)."""
    import json

    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(rel.encode())
        h.update(json.dumps(_decisive(rel, files[rel]), sort_keys=True, default=str, ensure_ascii=False).encode())
    return "sha256:" + h.hexdigest()


def _decisive(rel: str, content):
    """``content`` without the parameters' ``rationale_zh`` and the criteria's ``clause_zh``: a
    translation of what a rule file says in English decides nothing, so adding one leaves the
    digest of every decision as it was."""
    if not isinstance(content, dict):
        return content
    if rel.startswith("parameters/"):
        return {
            k: {f: v for f, v in p.items() if f != "rationale_zh"} if isinstance(p, dict) else p
            for k, p in content.items()
        }
    if rel.startswith("outcomes/") and isinstance(content.get("criteria"), list):
        criteria = [
            {f: v for f, v in c.items() if f != "clause_zh"} if isinstance(c, dict) else c for c in content["criteria"]
        ]
        return {**content, "criteria": criteria}
    return content


def _chinese(value, file: str, key: str) -> str:
    """A translation into Chinese: one line of text with Chinese in it."""
    if not isinstance(value, str) or not re.search(r"[\u3400-\u9fff]", value):
        raise BadValueError(file, key, "the translation is a text in Chinese", "one line of Chinese text")
    return " ".join(value.split())


def load_rulebook(root: Path | str | None = None, reforms: list | tuple = ()) -> Rulebook:
    root = Path(root) if root else DEFAULT_RULES
    files = read_files(root)
    for reform in reforms:
        files = reform.apply(files)
    return compile_rulebook(root, files)


def compile_rulebook(root: Path, files: dict) -> Rulebook:
    index_file = "rules/ruleset.yaml"
    idx = _keys(
        files["ruleset.yaml"], index_file, "", {"version", "contract", "title", "sources", "outcomes"}, {"exceptions"}
    )
    version = _text(str(idx["version"]), index_file, "version")
    sources = _keys(idx["sources"], index_file, "sources", set(), set(idx["sources"] or {}))
    for name, src in sources.items():
        _keys(src, index_file, f"sources.{name}", {"document", "section", "file"})
    order = idx["outcomes"]
    if not isinstance(order, list) or not order:
        raise BadValueError(index_file, "outcomes", "expected the list of outcomes")

    params: dict[str, Parameter] = {}
    for rel, data in files.items():
        if not rel.startswith("parameters/"):
            continue
        group = rel.removeprefix("parameters/").rsplit(".", 1)[0].replace("/", ".")
        if not isinstance(data, dict) or not data:
            raise BadValueError(f"rules/{rel}", "", "a parameter file maps names to parameters")
        for key, raw in data.items():
            name = f"{group}.{key}"
            params[name] = parse_parameter(name, raw, f"rules/{rel}", FIELDS, sources)

    base_scope: dict[str, Any] = dict(
        fields=FIELDS | {f: "label" for f in LABEL_FIELDS}, params=params, sections=SECTIONS[:-1]
    )
    exceptions = tuple(
        _exemption(
            raw,
            index_file,
            f"exceptions[{i}]",
            Scope(file=index_file, vars=set(), tables=set(), outcomes={}, **base_scope),
            sources,
        )
        for i, raw in enumerate(idx.get("exceptions") or [])
    )

    outcome_files = {rel for rel in files if rel.startswith("outcomes/")}
    listed = {f"outcomes/{name}.yaml" for name in order}
    for rel in sorted(outcome_files - listed):
        raise UnknownReferenceError(index_file, "outcomes", f"rules/{rel} is not listed in the outcomes")
    outcomes: list[Outcome] = []
    decided: dict[str, set] = {}  # outcome -> its statuses, for the status tests of later outcomes
    for i, name in enumerate(order):
        rel = f"outcomes/{name}.yaml"
        if rel not in files:
            raise UnknownReferenceError(index_file, f"outcomes[{i}]", f"no file rules/{rel} for outcome {name!r}")
        o = _outcome(files[rel], f"rules/{rel}", name, base_scope, decided, sources)
        outcomes.append(o)
        decided[name] = set(o.statuses)
    for o in outcomes:
        if o.on_not_met and o.on_not_met["deadline_days"] not in params:
            raise UnknownReferenceError(
                o.file, "on_not_met.deadline_days", f"unknown parameter {o.on_not_met['deadline_days']!r}"
            )
    metering = None
    if "metering.yaml" in files:
        from engine.rulebook.metering_rules import parse_metering

        metering = parse_metering(
            files["metering.yaml"],
            params,
            {o.name: o for o in outcomes},
            (_keys, _text, _bilingual, _code, lambda raw, file, key: _source(raw, file, key, sources)),
        )
    plausibility = None
    if "plausibility.yaml" in files:
        from engine.rulebook.plausibility import parse_plausibility

        plausibility = parse_plausibility(
            files["plausibility.yaml"],
            params,
            {o.name: o for o in outcomes},
            base_scope["fields"],
            base_scope["sections"],
            (_keys, _text, _bilingual, _code, lambda raw, file, key: _source(raw, file, key, sources)),
        )
    for rel in files:
        if "/" not in rel and rel not in TOP_FILES:
            raise UnknownKeyError(
                f"rules/{rel}",
                "",
                "unexpected file in the rulebook",
                ", ".join(TOP_FILES) + ", parameters/*.yaml or outcomes/*.yaml",
            )
    return Rulebook(
        root=root,
        version=version,
        contract=int(idx["contract"]),
        title=_bilingual(idx["title"], index_file, "title"),
        sources=sources,
        exceptions=exceptions,
        outcomes=tuple(outcomes),
        params=params,
        digest=digest_of(files),
        files=files,
        metering=metering,
        plausibility=plausibility,
    )


def _source(raw, file, key, sources) -> str:
    text = _text(raw, file, key)
    for part in text.split(";"):
        if part.strip() not in sources:
            raise UnknownReferenceError(
                file, key, f"{part.strip()!r} is not a source of ruleset.yaml", f"one of {', '.join(sources)}"
            )
    return text


def _exemption(raw, file, key, scope, sources) -> Exemption:
    _keys(raw, file, key, {"code", "when", "message"}, {"source", "clause"})
    return Exemption(
        code=_code(raw["code"], file, f"{key}.code"),
        when=parse_test(raw["when"], scope, f"{key}.when", top=False),
        message=_bilingual(raw["message"], file, f"{key}.message"),
        source=_source(raw["source"], file, f"{key}.source", sources) if "source" in raw else None,
        clause=raw.get("clause"),
    )


def _outcome(raw, file, name, base_scope, decided, sources) -> Outcome:
    _keys(
        raw,
        file,
        "",
        {"outcome", "title", "kind", "source", "clause", "criteria"},
        {"unit", "applies", "let", "tables", "amount", "on_not_met", "earmark", "basis"},
    )
    if raw["outcome"] != name:
        raise BadValueError(file, "outcome", f"{raw['outcome']!r} does not match the file name", repr(name))
    kind = raw["kind"]
    if kind not in STATUSES:
        raise BadValueError(file, "kind", f"{kind!r} is not a kind", "check, benefit or levy")
    source = _source(raw["source"], file, "source", sources)
    scope = Scope(file=file, vars=set(), tables=set(), outcomes=dict(decided), **base_scope)

    applies = tuple(
        _exemption(a, file, f"applies[{i}]", scope, sources) for i, a in enumerate(raw.get("applies") or [])
    )
    lets = []
    for vname, term in (raw.get("let") or {}).items():
        if vname in scope.fields or vname in scope.params:
            raise BadValueError(file, f"let.{vname}", "a variable may not shadow a field or parameter")
        lets.append((vname, parse_term(term, scope, f"let.{vname}")))
        scope.vars.add(vname)

    tables = []
    for tname, traw in (raw.get("tables") or {}).items():
        key = f"tables.{tname}"
        _keys(traw, file, key, {"input", "hit_policy", "unit", "rows", "reason"}, {"description"})
        if traw["hit_policy"] != "first":
            raise BadValueError(
                file,
                f"{key}.hit_policy",
                f"{traw['hit_policy']!r} is not supported",
                "first (rows tried in order, the first that matches wins)",
            )
        rows = []
        if not isinstance(traw["rows"], list) or not traw["rows"]:
            raise BadValueError(file, f"{key}.rows", "expected a non-empty list of rows")
        for j, row in enumerate(traw["rows"]):
            rk = f"{key}.rows[{j}]"
            _keys(row, file, rk, {"id", "min", "output"})
            rows.append(
                Row(
                    _text(row["id"], file, f"{rk}.id"),
                    parse_term(row["min"], scope, f"{rk}.min"),
                    parse_term(row["output"], scope, f"{rk}.output"),
                )
            )
        if len({r.id for r in rows}) != len(rows):
            raise BadValueError(file, f"{key}.rows", "row ids must be unique")
        tables.append(
            Table(
                tname,
                traw.get("description", ""),
                str(traw["input"]),
                parse_term(traw["input"], scope, f"{key}.input"),
                _text(traw["unit"], file, f"{key}.unit"),
                _code(traw["reason"], file, f"{key}.reason"),
                tuple(rows),
            )
        )
        scope.tables.add(tname)

    criteria = []
    for i, c in enumerate(raw["criteria"] or []):
        key = f"criteria[{i}]"
        _keys(c, file, key, {"code", "rule", "clause", "test", "message"}, {"source", "clause_zh"})
        criteria.append(
            Criterion(
                _code(c["code"], file, f"{key}.code"),
                _text(c["rule"], file, f"{key}.rule"),
                _text(c["clause"], file, f"{key}.clause"),
                parse_test(c["test"], scope, f"{key}.test"),
                _bilingual(c["message"], file, f"{key}.message"),
                _source(c["source"], file, f"{key}.source", sources) if "source" in c else source,
                _chinese(c["clause_zh"], file, f"{key}.clause_zh") if "clause_zh" in c else None,
            )
        )
    for i, c in enumerate(criteria):
        allowed = {"lhs", "rhs"} if isinstance(c.test, Compare) else {"value"} if isinstance(c.test, Hit) else set()
        for lang, text in c.message.items():
            used = set(string.Template(text).get_identifiers())
            if used - allowed:
                raise BadValueError(
                    file,
                    f"criteria[{i}].message.{lang}",
                    f"placeholder ${{{sorted(used - allowed)[0]}}} cannot be filled for this test",
                    "only " + (", ".join(f"${{{a}}}" for a in sorted(allowed)) or "no placeholders"),
                )
    codes = [c.code for c in criteria]
    if len(set(codes)) != len(codes):
        raise BadValueError(file, "criteria", "each reason code once per outcome")

    unit, amount = raw.get("unit"), None
    if kind == "check":
        if unit is not None or "amount" in raw:
            raise BadValueError(file, "amount" if "amount" in raw else "unit", "a check has no amount")
    else:
        if unit not in UNIT_PLACES:
            raise BadValueError(file, "unit", f"{unit!r} is not an amount unit", " or ".join(UNIT_PLACES))
        a = _keys(raw.get("amount"), file, "amount", {"formula", "round"}, {"cap"})
        if a["round"] not in _PLACES or _PLACES[a["round"]] != UNIT_PLACES[unit]:
            raise BadValueError(
                file,
                "amount.round",
                f"{a['round']!r} does not fit the unit {unit}",
                f'"{"0." + "0" * (UNIT_PLACES[unit] - 1) + "1"}"',
            )
        amount = Amount(
            parse_term(a["formula"], scope, "amount.formula"),
            _PLACES[a["round"]],
            parse_term(a["cap"], scope, "amount.cap") if "cap" in a else None,
        )
    on_not_met = None
    if "on_not_met" in raw:
        on_not_met = _keys(raw["on_not_met"], file, "on_not_met", {"notice", "deadline_days"})
    return Outcome(
        name=name,
        file=file,
        title=_bilingual(raw["title"], file, "title"),
        kind=kind,
        unit=unit,
        source=source,
        clause=_text(raw["clause"], file, "clause"),
        applies=applies,
        lets=tuple(lets),
        tables=tuple(tables),
        criteria=tuple(criteria),
        amount=amount,
        on_not_met=on_not_met,
        earmark=_bilingual(raw["earmark"], file, "earmark") if "earmark" in raw else None,
        basis=_basis(raw["basis"], file) if "basis" in raw else None,
    )


def _basis(raw, file) -> dict:
    """The normative basis of an outcome: the document and article its notices cite. Until the
    bureau adopts one, ``assumption`` says that the title is a placeholder (and why)."""
    _keys(raw, file, "basis", {"document", "article"}, {"assumption"})
    return {
        "document": _bilingual(raw["document"], file, "basis.document"),
        "article": _bilingual(raw["article"], file, "basis.article"),
        "assumption": _text(raw["assumption"], file, "basis.assumption") if "assumption" in raw else None,
    }
