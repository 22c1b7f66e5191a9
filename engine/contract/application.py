"""The application document of the data contract (docs/contract.md) as pydantic models, read exactly.

Decimals arrive as JSON strings or numbers; JSON is parsed with exact numbers (jsontext.py)
so a number never becomes a binary float. Unknown fields, NaN and Infinity are refused, and
every number is held to the bounds of bounds.py before anything is computed from it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from operator import mul
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    model_validator,
)
from stdnum.cn import uscc
from stdnum.exceptions import ValidationError as StdnumError

from engine.contract.bounds import (
    INTEGER_TEXT,
    MAX_INTEGER,
    PLACES_TEXT,
    OutOfBounds,
    check_decimal,
    decimal_from_text,
)
from engine.contract.jsontext import NonFinite, loads_exact
from engine.errors import InvalidApplicationError, UnreadableDocumentError


def exact_decimal(value: Any, places_text: str = PLACES_TEXT) -> Decimal:
    """A Decimal within the bounds, from a JSON number (int or Decimal) or text spelt as the
    contract spells it; bounds are judged on the text or the exponent, before any arithmetic.
    (The validator of every decimal field, ``ExactDecimal``; the columnar backend recognises
    the fields by it.)"""
    kind = type(value)
    if kind is str:  # the usual spellings first; the same outcome as below
        return decimal_from_text(value, places_text)
    if kind is Decimal:
        if not value.is_finite():
            raise ValueError("must be a finite number (NaN and Infinity are refused)")
        return check_decimal(value, places_text)
    if isinstance(value, NonFinite):
        raise ValueError(f"must be a finite number ({value} is refused)")
    if isinstance(value, OutOfBounds):
        raise ValueError(value.problem)
    if isinstance(value, bool) or isinstance(value, float):
        # A float has already lost exactness; a bool is not a number.
        raise ValueError("must be a decimal number given as a JSON string or number")
    if isinstance(value, int):
        if not -MAX_INTEGER < value < MAX_INTEGER:  # a too-long JSON integer is ±MAX_INTEGER
            raise ValueError(INTEGER_TEXT)
        return Decimal(value)
    if isinstance(value, Decimal):
        return exact_decimal(Decimal(value), places_text)
    if isinstance(value, str):
        return decimal_from_text(str(value), places_text)
    raise ValueError("must be a decimal number given as a JSON string or number")


def check_money(value: Decimal) -> Decimal:
    """``value`` when it has at most 2 decimal places (trailing zeros not counted), else
    ValueError. The validator of every ``Money`` field, by which the columnar backend and the
    rulebook checks recognise money."""
    exponent = value.as_tuple().exponent  # an int: exact_decimal has refused NaN and Infinity
    if isinstance(exponent, int) and exponent < -2 and value != value.quantize(Decimal("0.01")):
        raise ValueError("must have at most 2 decimal places")
    return value


#: GB 32100-2015 credit codes: the alphabet (a character's value is its index), the weights of
#: the first 17 characters.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_ALPHABET, _USCC_VALUE, _USCC_WEIGHTS = USCC_ALPHABET, USCC_VALUE, USCC_WEIGHTS  # _valid_uscc's names


def _valid_uscc(value: str) -> bool:
    """True exactly when stdnum's ``uscc.validate`` accepts ``value`` unchanged (upper case, 18 chars).

    stdnum first cleans the text through several generator passes (a third of parsing an
    application); a code made only of its alphabet needs no cleaning. Anything else, valid or
    not, goes through stdnum, so every error stays stdnum's.
    """
    if len(value) != 18 or not (value.isascii() and value[:8].isdigit()):
        return False
    try:
        total = sum(map(mul, map(_USCC_VALUE.__getitem__, value[:17]), _USCC_WEIGHTS))
    except KeyError:  # a character outside the alphabet
        return False
    return value[17] == _USCC_ALPHABET[(31 - total) % 31]


def check_credit_code(value: str) -> str:
    """``value`` when it is an 18-character unified social credit code in upper case with a
    valid check character (GB 32100-2015), else ValueError saying which. The validator of
    ``enterprise.credit_code``, by which the columnar backend recognises the field."""
    if _valid_uscc(value):
        return value
    try:
        uscc.validate(value)
    except StdnumError as exc:
        if len(value) != 18:
            raise ValueError("must be an 18-character unified social credit code") from None
        raise ValueError(f"is not a valid unified social credit code (GB 32100-2015): {exc}") from None
    if value != value.upper() or len(value) != 18:
        raise ValueError("must be an 18-character unified social credit code in upper case")
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: Any) -> dt.date:
    # pydantic's lax dates accept Unix timestamps and datetimes; the contract says ISO dates.
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date YYYY-MM-DD, e.g. 2026-12-31")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"must be a real date YYYY-MM-DD, got {value!r}") from None


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
ExactDecimal = Annotated[Decimal, BeforeValidator(exact_decimal)]
Positive = Annotated[ExactDecimal, Field(gt=0)]
NonNegative = Annotated[ExactDecimal, Field(ge=0)]
Share = Annotated[ExactDecimal, Field(ge=0, le=1)]
Money = Annotated[ExactDecimal, Field(ge=0), AfterValidator(check_money)]
#: An integer field's bound as a plain ``le`` constraint, which the columnar validation reads
#: from the model as it reads every other (a custom validator would send its rows to Rete).
BoundedInt = Annotated[StrictInt, Field(le=MAX_INTEGER - 1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Period(_Strict):
    start: IsoDate
    end: IsoDate

    @model_validator(mode="after")
    def _order(self):
        if self.start > self.end:
            raise ValueError("start must not be after end")
        if (self.end - self.start).days + 1 > 366:
            raise ValueError("the period must cover at most 366 days")
        return self


class Enterprise(_Strict):
    credit_code: Annotated[str, AfterValidator(check_credit_code)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    region_code: Annotated[str, Field(pattern=r"^[0-9]{6}$")]
    size: Literal["sme", "large"]
    is_ecommerce: StrictBool


class Platform(_Strict):
    connected: StrictBool
    reporting_completeness: Share
    max_upload_delay_min: NonNegative
    carbon_reduction_reported: StrictBool


class Storage(_Strict):
    capacity_kwh: Positive
    energy_density_wh_per_kg: Positive
    cycle_life: Annotated[BoundedInt, Field(gt=0)]
    backflow_response_ms: NonNegative
    discharged_kwh: NonNegative
    baseline_peak_kw: Positive
    peak_with_storage_kw: NonNegative
    platform: Platform


class Equipment(_Strict):
    investment_yuan: Money
    automated_return_receiving: StrictBool
    realtime_data_analytics: StrictBool


class Packaging(_Strict):
    order_count: Annotated[BoundedInt, Field(ge=0)]
    order_value_yuan: Money
    nondegradable_share: Share
    has_recycling_system: StrictBool
    recycling_rate: Share
    filler_reduction_rate: Share


class Energy(_Strict):
    renewable_kwh: NonNegative


class History(_Strict):
    storage_subsidy_granted_this_year_yuan: Money = Decimal("0")
    freight_subsidy_granted_this_year_yuan: Money = Decimal("0")
    equipment_subsidy_received: StrictBool = False


class Application(_Strict):
    application_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
    period: Period
    enterprise: Enterprise
    storage: Storage | None = None
    equipment: Equipment | None = None
    packaging: Packaging | None = None
    energy: Energy | None = None
    history: History = History()


SECTIONS = ("storage", "equipment", "packaging", "energy", "history")


def leaf_fields(model: type[BaseModel], prefix: str = ""):
    """(dotted path, pydantic FieldInfo) of every leaf field, sections walked in order."""
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        ann = info.annotation
        inner = [a for a in getattr(ann, "__args__", ()) if a is not type(None)]
        target = inner[0] if inner and isinstance(inner[0], type) and issubclass(inner[0], BaseModel) else ann
        if isinstance(target, type) and issubclass(target, BaseModel):
            yield from leaf_fields(target, path + ".")
        else:
            yield path, info


def _kind(ann) -> str:
    if ann is Decimal:
        return "decimal"
    if ann is int:
        return "integer"
    if ann is bool:
        return "boolean"
    if ann is dt.date:
        return "date"
    if getattr(ann, "__origin__", None) is Literal:
        return "label"
    return "text"


#: Every field a rule may name, with its kind; rule files are checked against it on load.
FIELDS: dict[str, str] = {path: _kind(info.annotation) for path, info in leaf_fields(Application)}
LABEL_FIELDS = {"enterprise.region_code"}  # text compared as a label (lookup key)
_TEXT_PATHS = [path for path, kind in FIELDS.items() if kind in ("text", "label")]


# --- errors, phrased for people --------------------------------------------------
_PATTERN_TEXT = {
    "application_id": "must be 1–64 characters of A-Z a-z 0-9 . _ -",
    "enterprise.region_code": "must be a 6-digit administrative division code (GB/T 2260), e.g. 140100",
}


def _phrase(err: Mapping[str, Any]) -> str:
    kind, ctx = err["type"], err.get("ctx", {})
    if kind == "extra_forbidden":
        from engine.tables.headers import did_you_mean  # it reads FIELDS, defined above

        return "unknown field" + did_you_mean(_path(err["loc"]), lang="en")  # the contract speaks English
    if kind == "missing":
        return "required field is missing"
    if kind == "greater_than":
        return f"must be > {ctx['gt']}"
    if kind == "greater_than_equal":
        return f"must be ≥ {ctx['ge']}"
    if kind == "less_than_equal":
        return f"must be ≤ {ctx['le']}"
    if kind in ("bool_type", "bool_parsing"):
        return "must be a JSON boolean (true or false)"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "must be an integer"
    if kind == "string_pattern_mismatch":
        return _PATTERN_TEXT.get(_path(err["loc"]), f"must match {ctx['pattern']}")
    if kind in ("date_from_datetime_parsing", "date_parsing", "date_type"):
        return "must be a date YYYY-MM-DD, e.g. 2026-12-31"
    if kind == "literal_error":
        return f"must be one of {ctx['expected']}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx['max_length']} characters"
    if kind == "model_type":
        return "must be a JSON object"
    if kind == "string_type":
        return "must be a JSON string"
    msg = err["msg"]
    return msg.removeprefix("Value error, ")


def _path(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) or "(document)"


def validation_errors(exc: ValidationError) -> list[tuple[str, str]]:
    return [(_path(e["loc"]), _phrase(e)) for e in exc.errors()]


# --- text a record keeps and a reader sees as it is -----------------------------------
#: NUL (PostgreSQL cannot store it in text), lone surrogates (not UTF-8: no database stores
#: them) and the bidirectional controls that make a name display as other text than it holds.
#: The class as a pattern both Python's re and Polars' (Rust) regex read; surrogates never reach
#: Polars (its strings are UTF-8), so the columnar inputs need only this part.
UNSAFE_TEXT_CLASS = r"[\x00\u200e\u200f\u202a-\u202e\u2066-\u2069]"
_UNSAFE_TEXT = re.compile(r"[\x00\ud800-\udfff\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def text_problem(text: str) -> str | None:
    """Why ``text`` is refused in any field of a document (None when it is not)."""
    found = _UNSAFE_TEXT.search(text)
    if found is None:
        return None
    c = ord(found.group())
    what = "NUL" if c == 0 else "not UTF-8 text" if 0xD800 <= c <= 0xDFFF else "a bidirectional control character"
    return f"must not contain U+{c:04X} ({what})"


def _shown_key(key: str) -> str:
    return _UNSAFE_TEXT.sub(lambda m: f"\\u{ord(m.group()):04x}", key)


def _any_unsafe(data: Any) -> bool:
    """The quick look every document gets (paths are built only when something is found)."""
    texts: list[str] = []
    stack = [data]
    while stack:
        node = stack.pop()
        if type(node) is str:
            texts.append(node)
        elif isinstance(node, dict):
            texts.extend(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            texts.append(node)
    try:
        joined = "\x01".join(texts)
    except TypeError:  # a key that is not text (a document built in Python, not read from JSON)
        joined = "\x01".join(map(str, texts))
    return _UNSAFE_TEXT.search(joined) is not None


def text_problems(data: Any) -> list[tuple[str, str]]:
    """(path, message) for every string of a parsed document, field names included, that
    ``text_problem`` refuses; walked without recursion, so any depth is safe."""
    if not _any_unsafe(data):
        return []
    problems: list[tuple[str, str]] = []
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            problem = text_problem(node)
            if problem:
                problems.append((path or "(document)", problem))
        elif isinstance(node, dict):
            children = []
            for key, value in node.items():
                key = str(key)
                problem = text_problem(key)
                shown = f"{path}.{_shown_key(key)}" if path else _shown_key(key)
                if problem:
                    problems.append((shown, f"field name {problem}"))
                children.append((shown, value))
            stack.extend(reversed(children))  # popped in document order
        elif isinstance(node, list):
            stack.extend(reversed([(f"{path}.{i}", v) for i, v in enumerate(node)]))
    return problems


def read_document(data: Any) -> Any:
    """A document as parsed JSON: text or bytes read exactly (jsontext), anything else as it is;
    InvalidApplicationError when the text is not a JSON document the contract can read."""
    if isinstance(data, (str, bytes, bytearray)):
        try:
            return loads_exact(data)
        except UnreadableDocumentError as exc:
            raise InvalidApplicationError(exc.errors) from None
        except ValueError as exc:  # JSONDecodeError is a ValueError
            raise InvalidApplicationError([("(document)", f"not valid JSON: {exc}")]) from None
    return data


def parse_application(data: Any) -> Application:
    """Validate a document (text, bytes or already-parsed JSON) against the contract."""
    data = read_document(data)
    if not isinstance(data, dict):
        raise InvalidApplicationError([("(document)", "must be a JSON object")])
    try:
        app = Application.model_validate(data)
    except ValidationError as exc:
        # every string of the document is looked at; a path holding refused text is named once, escaped
        unsafe = text_problems(data)
        named = {p for p, _ in unsafe}
        found = [(p, m) for p, m in validation_errors(exc) if p not in named and not _UNSAFE_TEXT.search(p)]
        raise InvalidApplicationError(unsafe + found) from None
    # valid: the document holds no field but the contract's, so its text fields are all there is to look at
    unsafe = [(path, problem) for path in _TEXT_PATHS if (problem := _text_at(app, path))]
    if unsafe:
        raise InvalidApplicationError(unsafe)
    return app


def _text_at(app: Application, path: str) -> str | None:
    node: Any = app
    for part in path.split("."):
        node = getattr(node, part, None)
        if node is None:
            return None
    return text_problem(node) if isinstance(node, str) else None
