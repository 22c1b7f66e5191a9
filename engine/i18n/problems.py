"""The contract's problems with an input, said in the language in force.

The contract (engine/contract) names each problem in English, and that English is part of what
other systems read (a batch's rejections, the record's validation results, docs/contract.md):
it does not change. A person reads it here, translated when it is shown: each pattern below is
one English problem, its key in ``templates/messages/errors.yaml`` the sentence in each language.
A problem no pattern knows is shown as it is (tests/i18n runs the invalid inputs it knows of
and fails on English in the Chinese text).
"""

from __future__ import annotations

import re

from engine.i18n.catalogue import Lang, t
from engine.i18n.labels import field
from engine.i18n.language import language

_V = r"(?P<value>.+)"
_N = r"(?P<n>[\d,]+)"
#: (English problem as the contract words it, its key under ``errors.problem``)
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern + r"\Z"), key)
    for pattern, key in (
        (r"unknown field; did you mean (?P<name>\S+)\?", "unknown_field_hint"),
        (r"unknown field", "unknown_field"),
        (r"unknown column", "unknown_column"),
        (r"required field is missing", "missing"),
        (r"must be > 0", "positive"),
        (r"must be ≥ 0", "non_negative"),
        (r"must be > " + _V, "greater_than"),
        (r"must be ≥ " + _V, "at_least"),
        (r"must be ≤ " + _V, "at_most"),
        (r"must be a JSON boolean \(true or false\)", "boolean"),
        (r"must be an integer", "integer"),
        (r"must be 1–64 characters of A-Z a-z 0-9 \. _ -", "application_id"),
        (r"must be a 6-digit administrative division code \(GB/T 2260\), e\.g\. 140100", "region_code"),
        (r"must match " + _V, "pattern"),
        (r"must be a date YYYY-MM-DD, e\.g\. 2026-12-31", "date"),
        (r"must be a real date YYYY-MM-DD, got " + _V, "real_date"),
        (r"must be one of " + _V, "one_of"),
        (r"must not be empty", "empty"),
        (r"must be at most " + _N + " characters", "too_long"),
        (r"must be a JSON object", "object"),
        (r"must be a JSON string", "string"),
        (r"must be a finite number \(NaN and Infinity are refused\)", "finite"),
        (r"must be a finite number \((?P<value>.+) is refused\)", "finite_value"),
        (r"must be a decimal number given as a JSON string or number", "decimal"),
        (r"must be a decimal number, got " + _V, "decimal_got"),
        (r"must have at most " + _N + " decimal places", "places"),
        (r"must have at most " + _N + " integer digits", "digits"),
        (r"must be written in at most " + _N + " characters", "chars"),
        (r"must be an 18-character unified social credit code", "credit_code_length"),
        (r"must be an 18-character unified social credit code in upper case", "credit_code_case"),
        (r"is not a valid unified social credit code \(GB 32100-2015\): .*", "credit_code_check"),
        (r"start must not be after end", "period_order"),
        (r"the period must cover at most 366 days", "period_length"),
        (r"must not contain U\+(?P<value>[0-9A-F]{4}) \(.*\)", "unsafe_text"),
        (r"field name must not contain U\+(?P<value>[0-9A-F]{4}) \(.*\)", "unsafe_key"),
        (r"not valid JSON: .*: line (?P<line>\d+) column (?P<column>\d+) .*", "not_json_at"),
        (r"not valid JSON: " + _V, "not_json"),
        (r"not valid UTF-8 \(byte offset (?P<n>\d+)\)", "not_utf8"),
        (r"not valid UTF-8", "not_utf8_cell"),
        (r"not a text file \(a NUL byte at offset (?P<n>-?\d+)\); (?P<value>\w+) is UTF-8 text", "not_text_file"),
        (r"the CSV header cannot be read: .*", "csv_header"),
        (r"not an XLSX workbook \(.*\)", "not_xlsx"),
        (r"not a Parquet file \(.*\)", "not_parquet"),
        (r"duplicate key: given more than once in its object", "duplicate_key"),
        (r"larger than " + _N + r" bytes, .*", "too_large"),
        (r"objects and arrays nested more than " + _N + " deep", "too_deep"),
        (r"more than " + _N + r" values \(.*\)", "too_many_values"),
    )
)


#: a rule file's problems (engine/rulebook) and what was expected, under ``errors.rule``
_REFORM = r"(?: \(reform [\w.-]+\))?"
RULE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern + r"\Z"), key)
    for pattern, key in (
        (r"unknown key", "unknown_key"),
        (r"unknown parameter '(?P<name>[\w.]+)'; did you mean (?P<value>.+)\?", "unknown_parameter_like"),
        (r"unknown parameter '(?P<name>[\w.]+)'", "unknown_parameter"),
        (r"'(?P<value>.*)' is not a number" + _REFORM, "not_a_number"),
        (r"'(?P<value>.*)' is not a date \(.*\)" + _REFORM, "not_a_date"),
        (r"(?P<value>\S+) is below (?P<name>\S+), out of bounds for a value in \S+" + _REFORM, "below"),
        (r"(?P<value>\S+) is above (?P<name>\S+), out of bounds for a value in \S+" + _REFORM, "above"),
        (r"(?:line \d+: )?'(?P<value>[^']*)'.* is out of bounds", "out_of_bounds"),
        (r"unknown name '(?P<name>[\w.]+)': not a field, parameter, variable or table" + _REFORM, "unknown_name"),
        (r"outcome (?P<name>\w+) has no criterion '(?P<value>\w+)'", "no_criterion"),
        (r"line (?P<value>\d+): an anchor &\w+", "anchor"),
        (r"one of (?P<value>.+)", "one_of"),
        (r"YYYY-MM-DD, e\.g\. (?P<value>[\d-]+)", "date"),
        (r"a decimal number, quoted like \"(?P<value>[^\"]+)\"", "decimal"),
        (r"a number in (?P<value>\[.*\]|\[.*\))", "in_range"),
        (r"an existing parameter, or a new one with description, unit, reference and values", "parameter"),
        (r"a field of the data contract, a parameter, or a let variable or table of the outcome", "name"),
        (r"every value written out \(no YAML anchors or aliases\)", "no_anchors"),
        (r"a number of at most (?P<value>\d+) significant digits, between (?P<name>\S+) and \S+", "bounded"),
        (r"required key is missing", "missing_key"),
        (r"a reform changes nothing", "changes_nothing"),
        (r"at least one of (?P<value>.+)", "at_least_one"),
        (r"'(?P<value>.*)' is not Chinese", "not_chinese"),
        (r"Chinese text", "chinese_text"),
        (r"unknown outcome '(?P<name>\w+)'", "unknown_outcome"),
        (r"'(?P<value>.*)' is not a reform name", "not_reform_name"),
        (r"lower-case letters, digits, '\.' and '-'", "reform_name"),
        (r"(?P<value>.+) is not text", "not_text"),
        (r"non-empty text", "non_empty_text"),
    )
)


#: click's own refusals of an option's value (click.Choice, IntRange, Path, DateTime…), under ``errors.click``
CLICK_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern + r"\Z"), key)
    for pattern, key in (
        (r"(?P<value>.+) is not one of (?P<name>.+)\.", "not_one_of"),
        (r"(?P<value>\S+) is not in the range (?P<name>\S+)\.", "not_in_range"),
        (r"(?:File|Directory|Path) (?P<value>.+) does not exist\.", "does_not_exist"),
        (r"(?:File|Path) (?P<value>.+) is a directory\.", "is_a_directory"),
        (r"(?:Directory|Path) (?P<value>.+) is a file\.", "is_a_file"),
        (r"(?P<value>.+) does not match the formats? (?P<name>.+)\.", "format"),
        (r"(?P<value>.+) is not a valid integer\.", "integer"),
        (r"(?P<value>.+) is not a valid float\.", "float"),
    )
)


def _translated(patterns, area: str, message: str, lang: Lang, adjust=None) -> str | None:
    """``message`` said by the first of ``patterns`` it matches (key under ``errors.<area>``),
    its captured values first passed through ``adjust(key, values)``; None when none matches."""
    for pattern, key in patterns:
        m = pattern.match(message)
        if m:
            values = m.groupdict()
            if adjust is not None:
                adjust(key, values, lang)
            return t(f"errors.{area}.{key}", lang, **values)
    return None


def _bounds(key: str, values: dict, lang: Lang) -> None:
    if key == "not_in_range":  # x>=1, 1<=x<=5: the bounds as a person writes them
        values["name"] = values["name"].replace("<=", "≤").replace(">=", "≥")


def _choices(key: str, values: dict, lang: Lang) -> None:
    if key == "one_of":  # pydantic's "'sme' or 'large'"
        values["value"] = values["value"].replace(" or ", t("errors.or", lang))


def click_problem(message: str, lang: Lang | None = None) -> str:
    """One of click's refusals of an option's value, in ``lang`` (others as they are)."""
    lang = lang or language()
    if lang == "en":
        return message
    return _translated(CLICK_PATTERNS, "click", message, lang, _bounds) or message


def rule_problem(message: str, lang: Lang | None = None) -> str:
    """A rule file's problem or expected form (engine.errors.RulebookError) in ``lang``."""
    lang = lang or language()
    if lang == "en":
        return message
    return _translated(RULE_PATTERNS, "rule", message, lang) or problem(message, lang)


def rulebook_error(exc, lang: Lang | None = None) -> str:
    """A rule or reform file's error (engine.errors.RulebookError): where (file, key) and what."""
    lang = lang or language()
    if lang == "en":
        return str(exc)
    text = t(
        "errors.rulebook_at",
        lang,
        file=exc.file,
        key=exc.key or t("errors.top_level", lang),
        problem=rule_problem(exc.problem, lang),
    )
    if exc.expected:
        text += t("errors.rulebook_expected", lang, expected=rule_problem(exc.expected, lang))
    return text


def problem(message: str, lang: Lang | None = None) -> str:
    """``message`` (a contract problem, in English) in ``lang`` (default: the language in force)."""
    lang = lang or language()
    if lang == "en":
        return message
    return _translated(PATTERNS, "problem", message, lang, _choices) or message


def problem_line(path: str, message: str, lang: Lang | None = None) -> str:
    """``申报期放电量（kWh）（storage.discharged_kwh）：必须是非负数`` / ``energy discharged (kWh) (storage.discharged_kwh): must be ≥ 0``."""
    lang = lang or language()
    return t("errors.problem_line", lang, field=_where(path, lang), problem=problem(message, lang))


def _where(path: str, lang: Lang) -> str:
    if path == "(document)":
        return t("errors.document", lang)
    return field(path, lang)
