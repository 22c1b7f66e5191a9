"""Which language this command, request or page speaks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from engine.errors import ShuangtanError
from engine.i18n.catalogue import LANGS, Lang

ENV = "SHUANGTAN_LANG"
_chosen: ContextVar[Lang | None] = ContextVar("shuangtan_lang", default=None)


def parse_lang(value: str, where: str = "--lang") -> Lang:
    """``zh`` or ``en`` (case and a region suffix such as ``zh-CN``/``en_US`` are ignored)."""
    code = value.strip().lower().replace("_", "-").split("-")[0]
    if code not in LANGS:
        raise ShuangtanError(f"{where}: {value!r} is not a language shuangtan speaks (zh, en) / 不支持的语言")
    return code


def language() -> Lang:
    """The language in force: :func:`use`, else ``SHUANGTAN_LANG``, else ``zh``."""
    chosen = _chosen.get()
    if chosen is not None:
        return chosen
    env = os.environ.get(ENV, "").strip()
    return parse_lang(env, ENV) if env else "zh"


@contextmanager
def use(lang: Lang | str | None) -> Iterator[Lang]:
    """Speak ``lang`` inside the block (``None``: leave the language as it is)."""
    if lang is None:
        yield language()
        return
    token = _chosen.set(parse_lang(lang))
    try:
        yield _chosen.get()  # type: ignore[misc]
    finally:
        _chosen.reset(token)
