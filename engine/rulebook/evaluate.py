"""The neutral evaluator: what a rule reads for one application, and how values are shown.

Every consumer of the rulebook that is not a backend (notices, why-not, the metering
cross-check) and both backends' document builders read an application through
``field_values`` and an ``Env`` and show values through ``display``/``ref_values``, so a value
reads the same in a decision's reasons, a notice and a suggestion.
"""

from __future__ import annotations

import string
from decimal import Decimal
from typing import Any

from engine.contract.application import FIELDS, Application
from engine.decimals import fmt_plain, fraction_of_ratio
from engine.rulebook.expressions import Field, Param, Var

__all__ = [
    "Env",
    "display",
    "displayer",
    "field_values",
    "named_ref",
    "param_displays",
    "ref_reader",
    "ref_values",
    "substituter",
]

_FIELD_PATHS = tuple((p, tuple(p.split("."))) for p in FIELDS)


def _field_tree(paths, depth=0):
    """The dotted paths as a tree, so a shared prefix (``storage.platform``) is read once."""
    leaves, groups = [], {}
    for path, parts in paths:
        if len(parts) == depth + 1:
            leaves.append((path, parts[depth]))
        else:
            groups.setdefault(parts[depth], []).append((path, parts))
    return tuple(leaves), tuple((attr, _field_tree(sub, depth + 1)) for attr, sub in groups.items())


_FIELD_TREE = _field_tree(_FIELD_PATHS)
_FIELD_ORDER = tuple(p for p, _ in _FIELD_PATHS)


def field_values(app: Application) -> tuple[dict, set]:
    """Flat exact view of the application: path -> Fraction | bool | str | None, and sections present."""
    values, present = dict.fromkeys(_FIELD_ORDER), set()  # every path, None unless found below
    _read_fields(app, _FIELD_TREE, values)
    for section in ("storage", "equipment", "packaging", "energy"):
        if getattr(app, section) is not None:
            present.add(section)
    return values, present


def _read_fields(obj, tree, values):
    leaves, groups = tree
    attrs = obj.__dict__  # a pydantic model keeps its field values here; getattr goes through the class
    for path, attr in leaves:
        v = attrs[attr]
        if type(v) is Decimal:
            v = fraction_of_ratio(*v.as_integer_ratio())  # as_integer_ratio is already in lowest terms
        elif isinstance(v, int) and type(v) is not bool:
            v = fraction_of_ratio(v, 1)
        values[path] = v
    for attr, sub in groups:
        child = attrs[attr]
        if child is not None:
            _read_fields(child, sub, values)


class Env:
    """Everything a rule may read for one application: fields, parameters, variables, tables, statuses."""

    __slots__ = ("fields", "present", "params", "vars", "tables", "status", "literals")

    def __init__(self, fields, present, params, literals=None):
        self.fields, self.present, self.params = fields, present, params
        self.vars, self.tables, self.status = {}, {}, {}
        self.literals = literals or {}


def display(node, env) -> str:
    """A term's value for people: a parameter as written in its file ("0.50"), else exact."""
    name = getattr(node, "name", None)
    if isinstance(node, Param) and name in env.literals:
        return env.literals[name]
    return fmt_plain(node.value(env))


def displayer(node):
    """``display`` for one node, prepared once: env -> text."""
    value = node.compile()
    if isinstance(node, Param):
        name = node.name

        def run(env):
            literal = env.literals.get(name)
            return fmt_plain(value(env)) if literal is None else literal

        return run
    return lambda env: fmt_plain(value(env))


_REFS: dict = {}


def _sorted_refs(node) -> list:
    """``sorted(node.refs())``, once per node (keyed by identity; the node is kept alive with it)."""
    hit = _REFS.get(id(node))
    if hit is None or hit[0] is not node:
        hit = _REFS[id(node)] = (node, sorted(node.refs()))
    return hit[1]


def ref_values(node, env) -> dict:
    """Display values of every field, parameter and variable a node reads (for reasons and trace)."""
    out: dict[str, Any] = {}
    for kind, name in _sorted_refs(node):
        if kind == "field":
            out[name] = fmt_plain(env.fields.get(name))
        elif kind == "param":
            v = env.params[name]
            out[name] = (
                {k: fmt_plain(x) for k, x in v.items()} if isinstance(v, dict) else env.literals.get(name, fmt_plain(v))
            )
        elif kind == "var":
            out[name] = fmt_plain(env.vars.get(name))
        elif kind == "outcome":
            out[name] = env.status.get(name)
    return out


def param_displays(params: dict, literals: dict) -> dict:
    """What ``ref_values`` shows for each parameter, given one date's values and literals."""
    return {
        name: {k: fmt_plain(x) for k, x in v.items()} if isinstance(v, dict) else literals.get(name, fmt_plain(v))
        for name, v in params.items()
    }


def _shown_param(env, shown, n):
    v = shown[n]
    return v.copy() if type(v) is dict else v  # each document gets its own mapping


def ref_reader(node):
    """``ref_values`` for one node, prepared once: (env, param_displays of its date) -> dict.

    Same keys, order and values; a parameter's display is the same all day, so it is looked up.
    """
    getters = []
    for kind, name in sorted(node.refs()):
        if kind == "field":
            getters.append((name, lambda env, shown, n=name: fmt_plain(env.fields.get(n))))
        elif kind == "param":
            getters.append((name, lambda env, shown, n=name: _shown_param(env, shown, n)))
        elif kind == "var":
            getters.append((name, lambda env, shown, n=name: fmt_plain(env.vars.get(n))))
        elif kind == "outcome":
            getters.append((name, lambda env, shown, n=name: env.status.get(n)))
    if len(getters) == 1:  # the usual sizes, without a comprehension's frame and loop
        ((k1, g1),) = getters
        return lambda env, shown: {k1: g1(env, shown)}
    if len(getters) == 2:
        (k1, g1), (k2, g2) = getters
        return lambda env, shown: {k1: g1(env, shown), k2: g2(env, shown)}
    return lambda env, shown: {name: get(env, shown) for name, get in getters}


def named_ref(node, refs: list):
    """The key under which ``ref_values`` already shows ``node`` exactly as ``display`` would, or None.

    A field, parameter or variable is shown the same way in both; an ambiguous name is left alone.
    """
    names = [n for _, n in refs]
    if len(set(names)) != len(names):
        return None
    if isinstance(node, Field):
        return node.path
    if isinstance(node, (Param, Var)):
        return node.name
    return None


def substituter(text: str, names):
    """``string.Template(text).substitute`` for a mapping with exactly ``names``, split once.

    Anything the split cannot reproduce exactly (an invalid ``$`` or a name not supplied) keeps
    the library's own substitute, so its error is the same as before.
    """
    template = string.Template(text)
    parts: list[Any] = []  # text, or (name,) for a placeholder
    pos = 0
    for m in template.pattern.finditer(text):
        parts.append(text[pos : m.start()])
        if m.group("escaped") is not None:
            parts.append(template.delimiter)
        else:
            named = m.group("named") or m.group("braced")
            if named is None or named not in names:
                return template.substitute
            parts.append((named,))
        pos = m.end()
    parts.append(text[pos:])
    if len(parts) == 1:
        return lambda subst: text
    # str.format_map does the joining in C; braces of the text are escaped, names are identifiers
    fmt = "".join(p.replace("{", "{{").replace("}", "}}") if type(p) is str else "{%s}" % p[0] for p in parts)
    return fmt.format_map
