"""The authority file: read as strictly as the rule files, then checked field by field.

Duplicate keys, anchors and aliases are refused by the rulebook's YAML loader; an unknown key,
a missing one or a bad value is refused here, every one of them, each naming the file and the key.
The file holds the bureau's own data that its notices print: 发文机关, the 文号 form, the contact,
the 复议机关 and the court named in the rights of remedy, the body that collects a levy with its
account and payment period, and who receives a copy (抄送). English notices print the names in
``en`` where given (each is optional: a name left out is printed as written in Chinese).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.cst import CST
from engine.errors import RulebookError, ShuangtanError
from engine.rulebook.yamlfile import load_yaml

ENV_VAR = "SHUANGTAN_AUTHORITY"
EXAMPLE = Path(__file__).resolve().parent / "example.yaml"
#: China has kept UTC+8 without daylight saving since 1991: the fallback where no tz database is installed.
_PLACEHOLDERS = ("{year}", "{seq}")


class AuthorityFileError(ShuangtanError):
    """The authority file is unreadable or malformed; ``file`` and ``key`` say where (the first
    problem), ``problems`` lists every (key, problem) found."""

    def __init__(self, file: str, key: str, problem: str, expected: str = "", more: list | None = None):
        self.file, self.key, self.problem, self.expected = file, key, problem, expected
        first = problem + (f" (expected {expected})" if expected else "")
        self.problems = [(key, first), *(more or [])]
        shown = "; ".join(f"{k or '(top level)'}: {p}" for k, p in self.problems)
        super().__init__(f"authority file {file}: {shown}")


def _printable(value: str, most: int) -> str:
    value = value.strip()
    if not value or len(value) > most or not value.isprintable():
        raise ValueError(f"1-{most} printable characters on one line")
    return value


_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{4,38}[0-9]$")
_ACCOUNT = re.compile(r"^[0-9][0-9 ]{6,38}[0-9]$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _line(most: int):
    """A validator: one line of at most ``most`` printable characters (names, addresses)."""
    return field_validator("*")(classmethod(lambda cls, v: _printable(v, most) if isinstance(v, str) else v))


class Contact(_Strict):
    """Who an enterprise asks about its notice (联系人, 联系电话, 地址)."""

    person: str
    phone: str
    address: str
    _lines = _line(200)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        if not _PHONE.match(value.strip()):
            raise ValueError("a telephone number: digits, spaces, hyphens, brackets, an optional leading +")
        return value.strip()


class Levy(_Strict):
    """Who collects a levy, into which account, within how many days of receipt."""

    collector: str  # 收缴机关
    account_name: str  # 户名
    bank: str  # 开户银行
    account: str  # 账号
    deadline_days: int = Field(ge=1, le=365)  # 自收到通知书之日起 N 日内缴纳
    _lines = _line(200)

    @field_validator("account")
    @classmethod
    def _account(cls, value: str) -> str:
        if not _ACCOUNT.match(value.strip()):
            raise ValueError("an account number: 8-40 digits, spaces allowed between them")
        return value.strip()


class EnglishContact(_Strict):
    person: str | None = None
    address: str | None = None
    _lines = _line(200)


class EnglishLevy(_Strict):
    collector: str | None = None
    account_name: str | None = None
    bank: str | None = None
    _lines = _line(200)


class English(_Strict):
    """The authority's names as English notices print them; each one left out is printed in Chinese."""

    name: str | None = None
    contact: EnglishContact = EnglishContact()
    reconsideration: str | None = None
    court: str | None = None
    levy: EnglishLevy = EnglishLevy()
    cc: list[str] | None = None  # the same bodies as ``cc``, in the same order
    _lines = _line(200)

    @field_validator("cc")
    @classmethod
    def _cc(cls, value):
        return None if value is None else [_printable(v, 200) for v in value]


class Authority(BaseModel):
    """Who issues the notices, how it numbers them, and what its notices say of remedies,
    contact, payment and copies."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str  # 发文机关, as printed on every notice
    document_number: str  # 文号 form, e.g. 晋能源补〔{year}〕{seq}号
    timezone: Literal["Asia/Shanghai"]  # notice dates and printed times; the record keeps UTC
    contact: Contact
    reconsideration: str  # 复议机关: where an application for administrative reconsideration goes
    court: str  # the people's court an administrative lawsuit is brought before
    levy: Levy
    cc: list[str] = []  # 抄送: the bodies that receive a copy of every notice
    en: English = English()

    @field_validator("name", "reconsideration", "court")
    @classmethod
    def _name(cls, value: str) -> str:
        return _printable(value, 200)

    @field_validator("cc")
    @classmethod
    def _copies(cls, value: list[str]) -> list[str]:
        if len(value) > 20:
            raise ValueError("at most 20 bodies")
        return [_printable(v, 200) for v in value]

    def model_post_init(self, _context) -> None:
        if self.en.cc is not None and len(self.en.cc) != len(self.cc):
            raise ValueError(f"en.cc: {len(self.en.cc)} names for the {len(self.cc)} of cc")

    def in_lang(self, lang: str) -> dict:
        """The names a notice in ``lang`` prints (English ones where the file gives them)."""
        en = self.en if lang == "en" else English()
        return {
            "name": en.name or self.name,
            "contact": {
                "person": en.contact.person or self.contact.person,
                "phone": self.contact.phone,
                "address": en.contact.address or self.contact.address,
            },
            "reconsideration": en.reconsideration or self.reconsideration,
            "court": en.court or self.court,
            "levy": {
                "collector": en.levy.collector or self.levy.collector,
                "account_name": en.levy.account_name or self.levy.account_name,
                "bank": en.levy.bank or self.levy.bank,
                "account": self.levy.account,
                "deadline_days": self.levy.deadline_days,
            },
            "cc": list(en.cc if en.cc is not None else self.cc),
        }

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
        found = [_problem(e) for e in exc.errors()]
        (key, problem, expected), rest = found[0], found[1:]
        more = [(k, p + (f" (expected {x})" if x else "")) for k, p, x in rest]
        raise AuthorityFileError(name, key, problem, expected, more) from None


def _problem(e) -> tuple[str, str, str]:
    """(key, problem, expected) of one pydantic error, in the words of the rule files."""
    loc = tuple(e["loc"])
    key = _key(loc)
    if e["type"] == "extra_forbidden":
        return key, "unknown key", f"one of {', '.join(_fields_at(loc[:-1]))}"
    if e["type"] == "missing":
        return key, "required key is missing", ""
    if not loc:  # a check across keys (model_post_init)
        text = e["msg"].removeprefix("Value error, ")
        where, _, problem = text.partition(": ")
        return where, problem, ""
    return key, e["msg"].removeprefix("Value error, "), ""


def _fields_at(loc: tuple) -> list[str]:
    """The keys the mapping at ``loc`` may have."""
    model: type[BaseModel] = Authority
    for part in loc:
        annotation = model.model_fields[str(part)].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def resolve_authority(path: Path | str | None = None) -> Authority:
    """``path``, else ``$SHUANGTAN_AUTHORITY``, else the bundled example."""
    chosen = path or os.environ.get(ENV_VAR)
    if chosen:
        return load_authority(chosen)
    return load_authority(EXAMPLE, "engine/authority/example.yaml")
