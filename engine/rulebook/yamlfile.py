"""Strict YAML: duplicate keys refused, dates and decimals kept exact, work bounded.

PyYAML's SafeLoader silently keeps the last of two equal keys, turns ``0.20`` into a
binary float and ``2026-01-01`` into a date (raising a bare ValueError on ``2026-13-01``).
This loader keeps dates as text (the rulebook parses them with a clear message) and reads
every YAML float as a Decimal from its literal text.

Before anything is built, one pass over the parser's events refuses what a hostile or careless
file could use to make later work unbounded: anchors and aliases (a 675-byte "billion laughs"
is walked 2ⁿ times by every consumer that copies or hashes the data), nesting deeper than
``MAX_DEPTH`` (the constructor recurses), and number literals with more digits or a larger
exponent than ``number_problem`` allows (``1e999999999`` is nine bytes and a billion-digit
exact fraction). Each refusal names the file, the key path and the line.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import yaml

from engine.errors import BadValueError, DuplicateKeyError, YamlSyntaxError

#: Deepest nesting of mappings and sequences a rule file may use (the rulebook needs under 10).
MAX_DEPTH = 64
#: Significant digits, and the largest power of ten either way, of a number literal: money needs
#: 15 integer digits and 2 places, ratios a handful of places; anything beyond is a mistake.
MAX_DIGITS = 30
MAX_MAGNITUDE = 30
_INT_TAG = "tag:yaml.org,2002:int"
#: A literal that reads as a decimal number (the text is checked before Decimal sees it).
_NUMBER_TEXT = re.compile(r"^[-+]?(?=\.?[0-9])(?P<int>[0-9_]*)(?:\.(?P<frac>[0-9_]*))?(?:[eE](?P<exp>[-+]?[0-9_]+))?$")
NUMBER_BOUNDS = f"a number of at most {MAX_DIGITS} significant digits, between 1e-{MAX_MAGNITUDE} and 1e{MAX_MAGNITUDE}"


def number_problem(text: str) -> str | None:
    """Why a number literal is out of bounds, or None (also None for text that is not a number).

    Decided on the text, before any exact arithmetic: the digit strings are measured first, so
    ``Decimal`` only ever sees a short literal.
    """
    m = _NUMBER_TEXT.match(text.strip())
    if m is None:
        return None
    digits = (m["int"] + (m["frac"] or "")).replace("_", "").lstrip("0")
    exp = (m["exp"] or "0").replace("_", "").lstrip("+-").lstrip("0")
    if len(digits) > MAX_DIGITS + MAX_MAGNITUDE or len(exp) > 6:
        return f"{_short(text)} is out of bounds"
    try:
        return decimal_problem(Decimal(text.strip().replace("_", "")), text)
    except ArithmeticError:  # decimal.InvalidOperation: not a number after all
        return None


def decimal_problem(value: Decimal, text: str | None = None) -> str | None:
    """Why a Decimal is out of the bounds of a rule-file number, or None."""
    if not value.is_finite() or not value:
        return None
    if len(value.as_tuple().digits) > MAX_DIGITS or not -MAX_MAGNITUDE <= value.adjusted() <= MAX_MAGNITUDE:
        return f"{_short(text if text is not None else str(value))} is out of bounds"
    return None


def _short(text: str) -> str:
    text = text.strip()
    return repr(text) if len(text) <= 40 else f"{text[:20]!r}…({len(text)} characters)"


try:
    from yaml import CSafeLoader as _BaseLoader  # libyaml parses ~5x faster
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader


class _StrictLoader(_BaseLoader):
    pass


# Drop the implicit timestamp and float resolvers; re-add floats as Decimal.
_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_DECIMAL_TAG = "tag:yaml.org,2002:float"
_STR_TAG = "tag:yaml.org,2002:str"
_StrictLoader.add_implicit_resolver(
    _DECIMAL_TAG,
    re.compile(r"^[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+)(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)


def _construct_decimal(loader, node):
    return Decimal(loader.construct_scalar(node).replace("_", ""))


_StrictLoader.add_constructor(_DECIMAL_TAG, _construct_decimal)


class _Frame:
    """Where the event scan is inside one mapping or sequence."""

    __slots__ = ("mapping", "key", "want_key", "index")

    def __init__(self, mapping: bool):
        self.mapping, self.key, self.want_key, self.index = mapping, "?", True, 0

    def done(self, event) -> None:
        """A child node ended: a mapping alternates key and value, a sequence counts."""
        if not self.mapping:
            self.index += 1
        elif self.want_key:
            self.key = event.value if isinstance(event, yaml.ScalarEvent) else "?"
            self.want_key = False
        else:
            self.want_key = True


def _path(stack: list) -> str:
    out = ""
    for f in stack:
        if not f.mapping:
            out += f"[{f.index}]"
        elif not f.want_key:
            out += f".{f.key}" if out else str(f.key)
    return out


def _scan(text: str, name: str, numbers_in_text: bool) -> None:
    """Refuse anchors, aliases, deep nesting and out-of-bounds numbers before anything is built."""
    loader = _StrictLoader(text)
    stack: list[_Frame] = []
    try:
        while loader.check_event():
            event = loader.get_event()
            line = f"line {event.start_mark.line + 1}"
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                what = (
                    f"an alias *{event.anchor}" if isinstance(event, yaml.AliasEvent) else f"an anchor &{event.anchor}"
                )
                raise YamlSyntaxError(
                    name, _path(stack), f"{line}: {what}", "every value written out (no YAML anchors or aliases)"
                )
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if len(stack) >= MAX_DEPTH:
                    raise YamlSyntaxError(
                        name,
                        _path(stack[:8]) + "…",
                        f"{line}: nested deeper than {MAX_DEPTH} levels",
                        "a shallower document",
                    )
                stack.append(_Frame(isinstance(event, yaml.MappingStartEvent)))
                continue
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                stack.pop()
            elif isinstance(event, yaml.ScalarEvent):
                tag = event.tag
                if tag in (None, "!") and event.implicit[0]:
                    tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
                number = tag in (_INT_TAG, _DECIMAL_TAG) or (numbers_in_text and tag in (None, "!", _STR_TAG))
                problem = number and _scalar_problem(event.value, tag)
                if problem:
                    raise BadValueError(name, _path(stack), f"{line}: {problem}", NUMBER_BOUNDS)
            else:
                continue
            if stack:
                stack[-1].done(event)
    finally:
        loader.dispose()


def _scalar_problem(value: str, tag: str | None) -> str | None:
    if tag == _INT_TAG and len(value.replace("_", "")) > MAX_DIGITS + 2:  # also 0x…, 0o…, 1:20:…
        return f"{_short(value)} is out of bounds"
    return number_problem(value)


def load_yaml(path: Path, display: str | None = None, *, numbers_in_text: bool = False):
    """Parse one YAML file strictly; errors name ``display`` (the path as the user knows it).

    ``numbers_in_text``: also bound quoted scalars that read as numbers (rule files quote their
    numbers, ``"0.80"``); otherwise only what YAML itself reads as a number is bounded.
    """
    name = display or str(path)

    class Loader(_StrictLoader):
        def construct_mapping(self, node, deep=False):
            seen = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise DuplicateKeyError(
                        name, str(key), f"duplicate key (line {seen[key]} and line {key_node.start_mark.line + 1})"
                    )
                seen[key] = key_node.start_mark.line + 1
            return super().construct_mapping(node, deep=deep)

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise YamlSyntaxError(name, "", f"not UTF-8 text ({exc.reason})") from None
    try:
        _scan(text, name, numbers_in_text)
        return yaml.load(text, Loader=Loader)  # noqa: S506 - Loader derives from SafeLoader
    except (ValueError, ArithmeticError) as exc:  # a constructor's own check (an explicit !!int tag…)
        raise YamlSyntaxError(name, "", f"cannot read a value: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        raise YamlSyntaxError(name, where, str(getattr(exc, "problem", exc))) from None
