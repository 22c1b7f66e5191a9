"""Rule tests as data: load ``tests/rules/<outcome>.yaml``, run the cases, report coverage.

Used by pytest (tests/test_rule_cases.py) and by ``shuangtan rules test``.

File format (strict YAML through engine.yamlfile: duplicate keys refused, numbers exact)::

    outcome: storage_subsidy          # the outcome every case's ``expect`` speaks about
    base:                             # optional fragment merged over BASE_APPLICATION below
      storage: {baseline_peak_kw: "10000", peak_with_storage_kw: "7000"}
    cases:
      - name: A ratio of exactly 0.30 earns the 0.80 yuan/kWh tier.   # a full English sentence
        period_end: 2026-06-30        # optional; sets period.end and period.start to 1 January of its year
        input:                        # fragment deep-merged over base; ``null`` deletes a key/section
          storage: {peak_with_storage_kw: "7000"}
          energy: null
        expect:
          status: granted             # required
          amount: "280000.00"         # optional; a decimal string, or null
          unit: yuan                  # optional; yuan, tCO2e or null
          reasons: [RATE_TIER]        # optional; the reason codes, order-insensitive
          reasons_in_order: [...]     # optional; the exact list of codes, in order
          tier: tier_30               # optional; the RATE_TIER row (reasons[].values.row)
          notice: {kind: rectification, deadline_days: 30}   # optional; null asserts no notice
          totals: {subsidy_yuan: "...", levy_yuan: "..."}      # optional
          outcomes:                   # optional; the same keys for other outcomes
            reporting_compliance: {status: not_met, reasons: [PLATFORM_NOT_CONNECTED]}
      - name: A period ending before the rules took effect is refused.
        period_end: 2025-12-31
        expect: {error: DateNotCoveredError}   # the case must be refused with this error class
      - name: Without the discharge the subsidy is undetermined between nothing and the cap.
        partial: true                 # decided as ``check --partial``: a field the input deletes is unknown
        input: {storage: {discharged_kwh: null}}
        expect:
          status: undetermined        # or a settled status
          needs: [storage.discharged_kwh]          # the outcome's needs, in the contract's order
          could_be: [granted, denied]              # an undetermined outcome's statuses, in order
          amount_range: {min: "0.00", max: "5000000.00"}
          questions: [storage.discharged_kwh]      # top level: partial.questions' fields, in order

Files named ``<outcome>.partial.yaml`` hold the cases of partial inputs (every case ``partial:
true``), ``<outcome>.metered.yaml`` those decided on telemetry.

Coverage counts a branch as exercised only for the outcomes a case makes assertions about
(the file's outcome and those under ``expect.outcomes``), so that, e.g., NOT_ECOMMERCE must
be tested in every outcome's file.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import errors as errors_module
from engine.backends.rete.engine import ReteEngine
from engine.contract.application import parse_application
from engine.contract.decision import Decision
from engine.errors import InvalidApplicationError, ShuangtanError
from engine.i18n import t as msg
from engine.rulebook.loader import Rulebook
from engine.rulebook.yamlfile import load_yaml

#: A complete, valid application in which every outcome applies (the worked example of docs/contract.md).
BASE_APPLICATION: dict = {
    "application_id": "RULETEST-0001",
    "period": {"start": "2026-01-01", "end": "2026-12-31"},
    "enterprise": {
        "credit_code": "91140100MA0L3K2P5R",
        "name": "太原青禾电子商务有限公司",
        "region_code": "140100",
        "size": "sme",
        "is_ecommerce": True,
    },
    "storage": {
        "capacity_kwh": "2000",
        "energy_density_wh_per_kg": "268.5",
        "cycle_life": 12000,
        "backflow_response_ms": "40",
        "discharged_kwh": "350000",
        "baseline_peak_kw": "1200",
        "peak_with_storage_kw": "840",
        "platform": {
            "connected": True,
            "reporting_completeness": "0.97",
            "max_upload_delay_min": "10",
            "carbon_reduction_reported": True,
        },
    },
    "equipment": {"investment_yuan": "3200000.00", "automated_return_receiving": True, "realtime_data_analytics": True},
    "packaging": {
        "order_count": 1200000,
        "order_value_yuan": "150000000.00",
        "nondegradable_share": "0.4",
        "has_recycling_system": False,
        "recycling_rate": "0.25",
        "filler_reduction_rate": "0.10",
    },
    "energy": {"renewable_kwh": "500000"},
    "history": {
        "storage_subsidy_granted_this_year_yuan": "0",
        "freight_subsidy_granted_this_year_yuan": "0",
        "equipment_subsidy_received": False,
    },
}

_FILE_KEYS = {"outcome", "base", "cases"}
_CASE_KEYS = {"name", "input", "expect", "period_end", "telemetry", "partial"}
_TELEMETRY_KEYS = {"day", "base", "at", "missing", "delay_s", "late", "system"}
TELEMETRY_HEADER = "system_id,interval_start,grid_import_kw,storage_discharge_kw,storage_charge_kw,received_at"
_EXPECT_KEYS = {
    "status",
    "amount",
    "unit",
    "reasons",
    "reasons_in_order",
    "tier",
    "notice",
    "totals",
    "outcomes",
    "error",
    "needs",
    "could_be",
    "amount_range",
    "questions",
}
#: what only a partial decision has (engine/partial)
_PARTIAL_KEYS = {"needs", "could_be", "amount_range", "questions"}
_SENTENCE = re.compile(r"^[A-Z0-9].*[.!?]$", re.S)


class RuleTestFormatError(ShuangtanError):
    """A rule-test data file is malformed; the message names the file and the key."""

    def __init__(self, file, key, problem):
        self.file, self.key, self.problem = str(file), key, problem
        super().__init__(f"{file}: {key or '(top level)'}: {problem}")

    def said(self) -> str:
        """The message in the language in force (the English above is what tests and logs read)."""
        from engine.i18n import language

        if language() == "en":
            return str(self)
        problem = self.problem
        for pattern, key in _FORMAT_PROBLEMS:
            m = pattern.fullmatch(self.problem)
            if m:
                problem = msg(f"rules.test.format.{key}", None, **m.groupdict())
                break
        return msg(
            "rules.test.format.line", file=self.file, key=self.key or msg("rules.test.format.top"), problem=problem
        )


#: a rule-test file's problems (English, as raised here), each with its key under rules.test.format
_FORMAT_PROBLEMS = tuple(
    (re.compile(pattern), key)
    for pattern, key in (
        (r"expected a mapping", "mapping"),
        (r"unknown key \(expected one of (?P<value>.+)\)", "unknown_key"),
        (r"required key is missing", "missing"),
        (r"(?P<value>.+) is not a class of engine/errors\.py", "error_class"),
        (r"expected a list of names", "names"),
        (r"expected a non-empty list of cases", "cases"),
        (r"(?P<value>.+) is not a sentence \(a capital letter first, a full stop last\)", "sentence"),
        (r"(?P<value>.+) is used twice", "twice"),
        (r"expected true or false", "boolean"),
        (r"every case of a \.partial\.yaml file is partial: true", "partial_file"),
        (r"(?P<value>.+) is not a date YYYY-MM-DD", "date"),
        (r"expected \[import_kw, discharge_kw, charge_kw\]", "triple"),
        (r"unknown outcome\(s\) (?P<value>.+)", "outcomes"),
    )
)


@dataclass(frozen=True)
class Case:
    file: str
    outcome: str
    name: str
    document: dict  # the complete application the case decides
    expect: dict
    index: int
    telemetry: str | None = None  # CSV text of one metered day, when the case is decided on the meter
    partial: bool = False  # decided as a partial application: fields the input deletes are unknown


def telemetry_day(
    day="2026-03-01", base=("500", "0", "0"), at=None, missing=(), delay_s=300, late=None, system="S1"
) -> list[str]:
    """The 96 fifteen-minute CSV rows of one metered day: ``base`` (import, discharge, charge kW)
    everywhere but ``at`` {"HH:MM": (…)}; ``missing`` never received; each row received
    ``delay_s`` after its interval ended, or ``late[HH:MM]`` seconds. Written for people to
    compute the derived facts by hand."""
    at, late = at or {}, late or {}
    start = dt.datetime.fromisoformat(f"{day}T00:00")
    rows = []
    for k in range(96):
        t = start + dt.timedelta(minutes=15 * k)
        hm = t.strftime("%H:%M")
        if hm in missing:
            continue
        imp, dis, chg = at.get(hm, base)
        received = t + dt.timedelta(minutes=15, seconds=late.get(hm, delay_s))
        rows.append(f"{system},{t.isoformat(timespec='minutes')},{imp},{dis},{chg},{received.isoformat()}")
    return rows


def _telemetry(raw, path, key) -> tuple[str, str]:
    """A case's ``telemetry`` block as (CSV text, day)."""
    _mapping(raw, path, key, _TELEMETRY_KEYS, ("day",))
    try:
        day = dt.date.fromisoformat(str(raw["day"])).isoformat()
    except ValueError:
        raise RuleTestFormatError(path, f"{key}.day", f"{raw['day']!r} is not a date YYYY-MM-DD") from None
    triple = lambda v, k: (
        tuple(str(x) for x in v)
        if isinstance(v, list) and len(v) == 3
        else _fail(path, k, "expected [import_kw, discharge_kw, charge_kw]")
    )
    base = triple(raw.get("base", ["500", "0", "0"]), f"{key}.base")
    at = {str(hm): triple(v, f"{key}.at.{hm}") for hm, v in (raw.get("at") or {}).items()}
    rows = telemetry_day(
        day,
        base,
        at,
        [str(m) for m in raw.get("missing") or ()],
        int(raw.get("delay_s", 300)),
        {str(hm): int(v) for hm, v in (raw.get("late") or {}).items()},
        str(raw.get("system", "S1")),
    )
    return "\n".join([TELEMETRY_HEADER, *rows]) + "\n", day


def _fail(path, key, problem):
    raise RuleTestFormatError(path, key, problem)


@dataclass
class Result:
    case: Case
    passed: bool
    diffs: list  # "path: expected X, got Y", one per mismatch
    decision: Decision | None = None
    error: str | None = None

    @property
    def diff(self) -> str:
        return "\n".join(self.diffs)


def merge(base: Any, fragment: Any) -> Any:
    """Deep merge: mappings merge key by key, ``None`` deletes the key, anything else replaces."""
    if not isinstance(base, dict) or not isinstance(fragment, dict):
        return copy.deepcopy(fragment)
    out = copy.deepcopy(base)
    for key, value in fragment.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _mapping(raw, file, key, allowed, required=()):
    if not isinstance(raw, dict):
        raise RuleTestFormatError(file, key, "expected a mapping")
    for k in raw:
        if k not in allowed:
            raise RuleTestFormatError(
                file, f"{key}.{k}" if key else str(k), f"unknown key (expected one of {', '.join(sorted(allowed))})"
            )
    for k in required:
        if k not in raw:
            raise RuleTestFormatError(file, f"{key}.{k}" if key else k, "required key is missing")
    return raw


def _check_expect(raw, file, key, top=True, partial=False):
    allowed = _EXPECT_KEYS if top else _EXPECT_KEYS - {"outcomes", "totals", "error", "questions"}
    if not partial:
        allowed = allowed - _PARTIAL_KEYS
    exp = _mapping(raw, file, key, allowed)
    if "error" in exp:
        if not (isinstance(exp["error"], str) and isinstance(getattr(errors_module, exp["error"], None), type)):
            raise RuleTestFormatError(file, f"{key}.error", f"{exp['error']!r} is not a class of engine/errors.py")
        return exp
    if "status" not in exp:
        raise RuleTestFormatError(file, f"{key}.status", "required key is missing")
    for k in ("reasons", "reasons_in_order", "needs", "could_be", "questions"):
        if k in exp and not (isinstance(exp[k], list) and all(isinstance(c, str) for c in exp[k])):
            raise RuleTestFormatError(file, f"{key}.{k}", "expected a list of names")
    if "amount_range" in exp:
        _mapping(exp["amount_range"], file, f"{key}.amount_range", {"min", "max"}, ("min", "max"))
    for name, sub in (exp.get("outcomes") or {}).items():
        _check_expect(sub, file, f"{key}.outcomes.{name}", top=False, partial=partial)
    return exp


def load_cases(path: Path | str) -> list[Case]:
    """Every case of one rule-test file, each with its complete application document."""
    path = Path(path)
    data = load_yaml(path, str(path))
    _mapping(data, path, "", _FILE_KEYS, ("outcome", "cases"))
    base = merge(BASE_APPLICATION, data.get("base") or {})
    if not isinstance(data["cases"], list) or not data["cases"]:
        raise RuleTestFormatError(path, "cases", "expected a non-empty list of cases")
    cases, names = [], set()
    for i, raw in enumerate(data["cases"]):
        key = f"cases[{i}]"
        _mapping(raw, path, key, _CASE_KEYS, ("name", "expect"))
        name = raw["name"]
        if not isinstance(name, str) or not _SENTENCE.match(name.strip()):
            raise RuleTestFormatError(
                path, f"{key}.name", f"{name!r} is not a sentence (a capital letter first, a full stop last)"
            )
        if name in names:
            raise RuleTestFormatError(path, f"{key}.name", f"{name!r} is used twice")
        names.add(name)
        doc = merge(base, raw.get("input") or {})
        if "application_id" not in (raw.get("input") or {}):
            doc["application_id"] = f"RULETEST-{path.stem[:40]}-{i + 1}"
        partial = raw.get("partial", False)
        if not isinstance(partial, bool):
            raise RuleTestFormatError(path, f"{key}.partial", "expected true or false")
        if path.stem.endswith(".partial") and not partial:
            raise RuleTestFormatError(path, f"{key}.partial", "every case of a .partial.yaml file is partial: true")
        telemetry = None
        if "telemetry" in raw:  # one metered day: the application's period is that day
            telemetry, day = _telemetry(raw["telemetry"], path, f"{key}.telemetry")
            doc["period"] = {"start": day, "end": day}
        if "period_end" in raw:
            end = raw["period_end"]
            try:
                when = dt.date.fromisoformat(str(end))
            except ValueError:
                raise RuleTestFormatError(path, f"{key}.period_end", f"{end!r} is not a date YYYY-MM-DD") from None
            doc["period"] = {"start": f"{when.year:04d}-01-01", "end": when.isoformat()}
        cases.append(
            Case(
                str(path),
                data["outcome"],
                name.strip(),
                doc,
                _check_expect(raw["expect"], path, f"{key}.expect", partial=partial),
                i,
                telemetry,
                partial,
            )
        )
    return cases


def discover(paths) -> list[Path]:
    """Rule-test files under the given files or folders (``*.yaml``), sorted."""
    found = []
    for p in map(Path, paths):
        found += sorted(p.glob("*.yaml")) if p.is_dir() else [p]
    return found


# --- running ---------------------------------------------------------------------
def _codes(outcome_doc) -> list:
    return [r["code"] for r in outcome_doc["reasons"]]


def _compare(label, exp, got, diffs):
    if exp != got:
        diffs.append(msg("rules.test.expected_got", label=label, expected=repr(exp), got=repr(got)))


def _check_outcome(name, exp, doc, diffs):
    _compare(f"{name}.status", exp["status"], doc["status"], diffs)
    if "amount" in exp:
        want = None if exp["amount"] is None else str(exp["amount"])
        _compare(f"{name}.amount", want, doc["amount"], diffs)
    if "unit" in exp:
        _compare(f"{name}.unit", exp["unit"], doc["unit"], diffs)
    codes = _codes(doc)
    if "reasons" in exp and Counter(exp["reasons"]) != Counter(codes):
        diffs.append(
            msg("rules.test.expected_any_order", label=f"{name}.reasons", expected=sorted(exp["reasons"]), got=codes)
        )
    if "reasons_in_order" in exp:
        _compare(f"{name}.reasons", exp["reasons_in_order"], codes, diffs)
    if "tier" in exp:
        rows = [r["values"]["row"] for r in doc["reasons"] if r["code"] == "RATE_TIER"]
        _compare(f"{name}.tier", exp["tier"], rows[0] if rows else None, diffs)
    if "notice" in exp:
        _compare(f"{name}.notice", exp["notice"], doc.get("notice"), diffs)
    for k in ("needs", "could_be", "amount_range"):
        if k in exp:
            want = exp[k] if k != "amount_range" else {b: None if v is None else str(v) for b, v in exp[k].items()}
            _compare(f"{name}.{k}", want, doc.get(k), diffs)


def run_case(engine: ReteEngine, case: Case) -> Result:
    exp = case.expect
    try:
        given = None
        if case.partial:
            from engine.partial import parse_partial_application

            given = parse_partial_application(case.document)
            app = given.app
        else:
            app = parse_application(case.document)
        tel = None
        if case.telemetry is not None:
            from engine.telemetry.crosscheck import interval_minutes
            from engine.telemetry.reader import read_telemetry

            tel = read_telemetry(
                f"case-{case.index + 1}.csv",
                interval_minutes(engine.book, app.period.end),
                data=case.telemetry.encode(),
            )
        if given is not None:
            from engine.partial import decide_partial

            decision = decide_partial(engine.book, given, tel)
        elif tel is None:
            decision = engine.decide(app)
        else:
            from engine.telemetry.crosscheck import decide_metered

            decision = decide_metered(engine, engine.book, app, tel)
    except ShuangtanError as exc:
        name = type(exc).__name__
        if exp.get("error") == name:
            return Result(case, True, [], None, str(exc))
        detail = "; ".join(f"{p}: {m}" for p, m in exc.errors) if isinstance(exc, InvalidApplicationError) else str(exc)
        return Result(
            case,
            False,
            [
                msg("rules.test.expected_decision", name=name, detail=detail)
                if "error" not in exp
                else msg("rules.test.expected_error", expected=exp["error"], name=name, detail=detail)
            ],
            None,
            str(exc),
        )
    if "error" in exp:
        return Result(case, False, [msg("rules.test.expected_error_got_decision", expected=exp["error"])], decision)
    diffs: list = []
    _check_outcome(case.outcome, exp, decision["outcomes"][case.outcome], diffs)
    for other, sub in (exp.get("outcomes") or {}).items():
        if other not in decision["outcomes"]:
            diffs.append(msg("rules.test.no_such_outcome", name=other))
            continue
        _check_outcome(other, sub, decision["outcomes"][other], diffs)
    for k, v in (exp.get("totals") or {}).items():
        _compare(f"totals.{k}", str(v), decision["totals"].get(k), diffs)
    if "questions" in exp:
        asked = [q["field"] for q in decision.get("partial", {}).get("questions", [])]
        _compare("partial.questions", exp["questions"], asked, diffs)
    return Result(case, not diffs, diffs, decision)


def run_cases(book: Rulebook, cases) -> list[Result]:
    engine = ReteEngine.for_rulebook(book)
    unknown = {c.outcome for c in cases} - {o.name for o in book.outcomes}
    if unknown:
        raise RuleTestFormatError(cases[0].file, "outcome", f"unknown outcome(s) {sorted(unknown)}")
    return [run_case(engine, c) for c in cases]


# --- coverage --------------------------------------------------------------------
def branches(book: Rulebook) -> dict:
    """Every branch of every outcome: ('not_applicable', code), ('reason', code), ('tier', table.row),
    ('reason', 'CAPPED') where a cap exists, ('status', s)."""
    out = {}
    for o in book.outcomes:
        b = [("not_applicable", e.code) for e in (*book.exceptions, *o.applies)]
        b += [("reason", c.code) for c in o.criteria]
        b += [("tier", f"{t.name}.{r.id}") for t in o.tables for r in t.rows]
        if o.amount is not None and o.amount.cap is not None:
            b.append(("reason", "CAPPED"))
        b += [("status", s) for s in o.statuses]
        out[o.name] = b
    return out


def exercised(book: Rulebook, results) -> dict:
    """outcome -> set of branches some case's decision took (only outcomes the case asserts on)."""
    tables = {o.name: {t.reason: t.name for t in o.tables} for o in book.outcomes}
    seen: dict = {o.name: set() for o in book.outcomes}
    for res in results:
        if res.decision is None or res.case.partial:
            continue  # coverage is of full decisions; a partial one settles what it can
        for name in {res.case.outcome, *(res.case.expect.get("outcomes") or {})}:
            doc = res.decision["outcomes"].get(name)
            if doc is None:
                continue
            seen[name].add(("status", doc["status"]))
            for r in doc["reasons"]:
                if doc["status"] == "not_applicable":
                    seen[name].add(("not_applicable", r["code"]))
                elif r["code"] in tables[name]:
                    seen[name].add(("tier", f"{tables[name][r['code']]}.{r['values']['row']}"))
                else:
                    seen[name].add(("reason", r["code"]))
    return seen


@dataclass
class CoverageReport:
    branches: dict  # outcome -> [branch]
    covered: dict  # outcome -> {branch}
    uncovered: list = field(default_factory=list)  # (outcome, kind, name)

    def lines(self) -> list[str]:
        return [
            msg(
                "rules.test.uncovered",
                outcome=o,
                kind=msg(f"rules.test.branch.{kind}"),
                name=msg(f"cli.status.{name}") if kind == "status" else name,
            )
            for o, kind, name in self.uncovered
        ]


def coverage(book: Rulebook, results) -> CoverageReport:
    all_branches, seen = branches(book), exercised(book, results)
    uncovered = [(o, kind, name) for o, bs in all_branches.items() for kind, name in bs if (kind, name) not in seen[o]]
    return CoverageReport(all_branches, seen, uncovered)
