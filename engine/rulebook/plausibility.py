"""``rules/plausibility.yaml``: checks that hold an implausible application for an officer.

A check is a test in the outcome files' rule language over the application's fields, the
parameters and the variable ``period_days`` (the days of the period, start and end included).
When the test fails, the check's outcome is held for an officer instead of being paid; ``holds``
lists every failed check and leaves to the caller whether the outcome matters (a denied
outcome pays nothing anyway). A test that cannot be evaluated because a field it reads is
absent (no storage section, say) does not apply.

Parsed as strictly as the outcome files (unknown keys, fields, parameters, outcomes and
placeholders are errors naming the file and key), when the rulebook loads. The file is optional:
a rulebook without it has no checks.
"""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from engine.errors import BadValueError, UnknownReferenceError
from engine.rulebook.expressions import Compare, Scope, Var, parse_test

FILE = "rules/plausibility.yaml"
#: the variables a test may read besides fields and parameters
VARS = ("period_days",)
_KEYS = {"code", "outcome", "rule", "clause", "test", "message"}


@dataclass(frozen=True)
class Check:
    code: str
    outcome: str
    rule: str
    clause: str
    test: Any  # a parsed test (engine.rulebook.expressions)
    message: dict  # {"en": ..., "zh": ...}, placeholders ${lhs}, ${rhs} (comparisons), ${period_days}
    source: str

    def params(self) -> set:
        return {name for kind, name in self.test.refs() if kind == "param"}


@dataclass(frozen=True)
class PlausibilitySpec:
    source: str
    checks: tuple  # of Check, in file order

    @functools.cached_property
    def param_names(self) -> frozenset:
        """The parameters the checks read: asked once per application decided, walked once."""
        return frozenset().union(*(c.params() for c in self.checks))

    def params(self) -> set:
        return set(self.param_names)


@dataclass(frozen=True)
class Hold:
    """One failed plausibility check: ``outcome`` is held for an officer, for this reason."""

    code: str
    outcome: str
    rule: str
    clause: str
    source: str
    message: str  # English
    message_zh: str
    values: dict = field(default_factory=dict)  # display texts: lhs, rhs, period_days, and each name read


def _placeholders(test) -> set:
    return ({"lhs", "rhs"} if isinstance(test, Compare) else set()) | set(VARS)


def parse_plausibility(raw, params: dict, outcomes: dict, fields: dict, sections: tuple, helpers) -> PlausibilitySpec:
    """``helpers`` are the rulebook's strict readers (keys, text, bilingual, code, source);
    ``fields`` and ``sections`` what an outcome's test may read."""
    keys, text, bilingual, code, source = helpers
    keys(raw, FILE, "", {"source", "checks"})
    default_source = source(raw["source"], FILE, "source")
    if not isinstance(raw["checks"], list) or not raw["checks"]:
        raise BadValueError(FILE, "checks", "expected a list of checks")
    checks, seen = [], set()
    for i, c in enumerate(raw["checks"]):
        key = f"checks[{i}]"
        keys(c, FILE, key, _KEYS, {"source"})
        check_code = code(c["code"], FILE, f"{key}.code")
        if check_code in seen:
            raise BadValueError(FILE, f"{key}.code", f"{check_code} is used twice", "each check's code once")
        seen.add(check_code)
        if c["outcome"] not in outcomes:
            raise UnknownReferenceError(
                FILE, f"{key}.outcome", f"unknown outcome {c['outcome']!r}", "one of " + ", ".join(outcomes)
            )
        scope = Scope(
            file=FILE, fields=fields, params=params, sections=sections, vars=set(VARS), tables=set(), outcomes={}
        )
        test = parse_test(c["test"], scope, f"{key}.test")
        message = bilingual(c["message"], FILE, f"{key}.message")
        allowed = _placeholders(test)
        for lang, template in message.items():
            t = string.Template(template)
            used = set(t.get_identifiers())
            if used - allowed or not t.is_valid():
                bad = sorted(used - allowed)
                raise BadValueError(
                    FILE,
                    f"{key}.message.{lang}",
                    f"placeholder ${{{bad[0]}}} cannot be filled for this test" if bad else "a stray $ (write $$)",
                    "only " + ", ".join(f"${{{a}}}" for a in sorted(allowed)),
                )
        checks.append(
            Check(
                check_code,
                c["outcome"],
                text(c["rule"], FILE, f"{key}.rule"),
                text(c["clause"], FILE, f"{key}.clause"),
                test,
                message,
                source(c["source"], FILE, f"{key}.source") if "source" in c else default_source,
            )
        )
    return PlausibilitySpec(default_source, tuple(checks))


def holds(book, app) -> list[Hold]:
    """Every plausibility check ``app`` fails, in file order (empty without rules/plausibility.yaml).

    Parameters are read as in force on ``app.period.end``, the date a decision is evaluated on
    (DateNotCoveredError when a parameter is not, as for a decision).
    """
    spec = book.plausibility
    if spec is None:
        return []
    from engine.rulebook.evaluate import Env, display, field_values, ref_values

    when = app.period.end
    params = book.values_at(when)
    literals = {n: book.params[n].literal_at(when) for n in spec.param_names if not book.params[n].index}
    fields, present = field_values(app)
    env = Env(fields, present, params, literals)
    env.vars["period_days"] = Fraction((app.period.end - app.period.start).days + 1)
    out = []
    for c in spec.checks:
        if any(kind == "field" and fields.get(name) is None for kind, name in c.test.refs()):
            continue  # a field the test reads is absent: the check does not apply
        if c.test.holds(env) is not False:
            continue  # holds, or cannot be evaluated (None)
        values = ref_values(c.test, env)
        subst = {name: display(Var(name), env) for name in VARS}
        if isinstance(c.test, Compare):
            subst |= {"lhs": display(c.test.left, env), "rhs": display(c.test.right, env)}
        values |= subst
        out.append(
            Hold(
                code=c.code,
                outcome=c.outcome,
                rule=c.rule,
                clause=c.clause,
                source=c.source,
                message=string.Template(c.message["en"]).substitute(subst),
                message_zh=string.Template(c.message["zh"]).substitute(subst),
                values=values,
            )
        )
    return out
