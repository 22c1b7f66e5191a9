"""Strict YAML: duplicate keys refused, dates and decimals kept exact.

PyYAML's SafeLoader silently keeps the last of two equal keys, turns ``0.20`` into a
binary float and ``2026-01-01`` into a date (raising a bare ValueError on ``2026-13-01``).
This loader keeps dates as text (the rulebook parses them with a clear message) and reads
every YAML float as a Decimal from its literal text.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import yaml

from engine.errors import DuplicateKeyError, YamlSyntaxError

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
_StrictLoader.add_implicit_resolver(
    _DECIMAL_TAG,
    re.compile(r"^[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+)(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)


def _construct_decimal(loader, node):
    return Decimal(loader.construct_scalar(node).replace("_", ""))


_StrictLoader.add_constructor(_DECIMAL_TAG, _construct_decimal)


def load_yaml(path: Path, display: str | None = None):
    """Parse one YAML file strictly; errors name ``display`` (the path as the user knows it)."""
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
        return yaml.load(text, Loader=Loader)  # noqa: S506 - Loader derives from SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        raise YamlSyntaxError(name, where, str(getattr(exc, "problem", exc))) from None
