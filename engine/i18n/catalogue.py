"""The message catalogue: ``templates/messages/<area>.yaml``, each area loaded strictly, once,
when first spoken."""

from __future__ import annotations

import re
from functools import cache
from typing import Literal

from engine.errors import ShuangtanError
from engine.resources import bundled
from engine.rulebook.yamlfile import load_yaml

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _flatten(tree: object, prefix: str, where: str, out: dict[str, str]) -> None:
    if isinstance(tree, str):
        out[prefix] = tree
        return
    if not isinstance(tree, dict) or not tree:
        raise ShuangtanError(f"{where}: {prefix}: expected a text or a mapping of texts")
    for key, sub in tree.items():
        if not isinstance(key, str) or not re.fullmatch(r"[a-z0-9_]+", key):
            raise ShuangtanError(f"{where}: {prefix}.{key}: keys are lower-case words (a-z, 0-9, _)")
        _flatten(sub, f"{prefix}.{key}", where, out)


def _folder():
    return bundled("templates") / "messages"


@cache
def area(name: str) -> dict[Lang, dict[str, str]]:
    """The messages of one file (``record_cli``: ``templates/messages/record_cli.yaml``), per
    language; empty when there is no such file. A command loads only the areas it speaks."""
    path = _folder() / f"{name}.yaml"
    merged: dict[Lang, dict[str, str]] = {lang: {} for lang in LANGS}
    if not re.fullmatch(r"[a-z0-9_]+", name) or not path.is_file():
        return merged
    where = f"templates/messages/{path.name}"
    data = load_yaml(path, where)
    if not isinstance(data, dict) or set(data) != set(LANGS):
        raise ShuangtanError(f"{where}: the top level is exactly the languages {', '.join(LANGS)}")
    for lang in LANGS:
        _flatten(data[lang], path.stem, where, merged[lang])
    return merged


def catalogue() -> dict[Lang, dict[str, str]]:
    """Every message, per language, by dotted key (``cli.summary.title``)."""
    merged: dict[Lang, dict[str, str]] = {lang: {} for lang in LANGS}
    for path in sorted(_folder().glob("*.yaml")):
        for lang in LANGS:
            merged[lang].update(area(path.stem)[lang])
    return merged


def message(key: str, lang: Lang | None = None) -> str | None:
    """The pattern of message ``key`` in ``lang`` (default: the language in force), or None."""
    if lang is None:
        from engine.i18n.language import language

        lang = language()
    return area(key.partition(".")[0])[lang].get(key)


def t(key: str, /, lang: Lang | None = None, **values: object) -> str:
    """The message ``key`` in ``lang`` (default: the language in force), placeholders filled.

    A missing key or placeholder is a defect of ours, raised as such (tests/i18n finds them all
    before a user can).
    """
    if lang is None:
        from engine.i18n.language import language

        lang = language()
    pattern = message(key, lang)
    if pattern is None:
        raise ShuangtanError(f"internal: no message {key!r} in {lang!r}")
    return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), pattern)
