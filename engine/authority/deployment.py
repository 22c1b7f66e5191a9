"""The authority file: read as strictly as the rule files, then checked field by field.

Duplicate keys, anchors and aliases are refused by the rulebook's YAML loader; an unknown key,
a missing one or a bad value is refused here, each naming the file and the key. Later issues
add the bureau's contacts, 复议机关, court and levy account: each is one more field below.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from engine.cst import CST
from engine.errors import RulebookError, ShuangtanError
from engine.rulebook.yamlfile import load_yaml

ENV_VAR = "SHUANGTAN_AUTHORITY"
EXAMPLE = Path(__file__).resolve().parent / "example.yaml"
#: China has kept UTC+8 without daylight saving since 1991: the fallback where no tz database is installed.
_PLACEHOLDERS = ("{year}", "{seq}")


class AuthorityFileError(ShuangtanError):
    """The authority file is unreadable or malformed; ``file`` and ``key`` say where."""

    def __init__(self, file: str, key: str, problem: str, expected: str = ""):
        self.file, self.key, self.problem, self.expected = file, key, problem, expected
        text = f"authority file {file}: {key or '(top level)'}: {problem}"
        super().__init__(text + (f" (expected {expected})" if expected else ""))


def _printable(value: str, most: int) -> str:
    value = value.strip()
    if not value or len(value) > most or not value.isprintable():
        raise ValueError(f"1-{most} printable characters on one line")
    return value


class Authority(BaseModel):
    """Who issues the notices and how it numbers them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str  # 发文机关, as printed on every notice
    document_number: str  # 文号 form, e.g. 晋能源补〔{year}〕{seq}号
    timezone: Literal["Asia/Shanghai"]  # notice dates and printed times; the record keeps UTC

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _printable(value, 200)

    @field_validator("document_number")
    @classmethod
    def _form(cls, value: str) -> str:
        value = _printable(value, 100)
        rest = value
        for p in _PLACEHOLDERS:
            if rest.count(p) != 1:
                raise ValueError(f"exactly one {p}")
            rest = rest.replace(p, "")
        if "{" in rest or "}" in rest:
            raise ValueError("no braces but {year} and {seq}")
        return value

    def number(self, year: int, seq: int) -> str:
        """The 文号 of the ``seq``-th document of ``year``: plain replacement, never str.format,
        so the form can hold no format directive of its own."""
        return self.document_number.replace("{year}", str(year)).replace("{seq}", str(seq))

    @property
    def tz(self) -> dt.tzinfo:
        return CST  # the one zone ``timezone`` admits, as a fixed offset (engine/cst.py says why)

    def today(self, now: dt.datetime) -> dt.date:
        """The date in the authority's time zone at the instant ``now`` (aware, or naive UTC)."""
        return self.local(now).date()

    def local(self, when: dt.datetime) -> dt.datetime:
        aware = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
        return aware.astimezone(self.tz)


def _key(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


def load_authority(path: Path | str, display: str | None = None) -> Authority:
    """The authority described by ``path``; AuthorityFileError naming the file and key otherwise."""
    path = Path(path)
    name = display or str(path)
    if not path.is_file():
        raise AuthorityFileError(name, "", "no such file", "a YAML file such as engine/authority/example.yaml")
    try:
        raw = load_yaml(path, name)
    except RulebookError as exc:  # duplicate key, alias, syntax: reworded, not called a rulebook error
        raise AuthorityFileError(name, exc.key, exc.problem, exc.expected) from None
    if not isinstance(raw, dict):
        raise AuthorityFileError(name, "", f"expected a mapping, got {type(raw).__name__}")
    try:
        return Authority.model_validate(raw)
    except ValidationError as exc:
        e = exc.errors()[0]
        key = _key(e["loc"])
        if e["type"] == "extra_forbidden":
            raise AuthorityFileError(name, key, "unknown key", f"one of {', '.join(Authority.model_fields)}") from None
        if e["type"] == "missing":
            raise AuthorityFileError(name, key, "required key is missing") from None
        problem = e["msg"].removeprefix("Value error, ")
        raise AuthorityFileError(name, key, problem) from None


def resolve_authority(path: Path | str | None = None) -> Authority:
    """``path``, else ``$SHUANGTAN_AUTHORITY``, else the bundled example."""
    chosen = path or os.environ.get(ENV_VAR)
    if chosen:
        return load_authority(chosen)
    return load_authority(EXAMPLE, "engine/authority/example.yaml")
