"""One exception class per failure, so callers (and tests) can tell them apart.

Messages name the file, the key and the expected form, openfisca-core style.
"""

from __future__ import annotations


class ShuangtanError(Exception):
    """Base of every error the library raises on purpose."""


# --- the rulebook -----------------------------------------------------------------
class RulebookError(ShuangtanError):
    """A rule or parameter file is malformed. ``file`` and ``key`` say where."""

    expected: str = ""

    def __init__(self, file: str, key: str, problem: str, expected: str | None = None):
        self.file, self.key, self.problem = file, key, problem
        if expected is not None:
            self.expected = expected
        text = f"{file}: {key or '(top level)'}: {problem}"
        if self.expected:
            text += f" (expected {self.expected})"
        super().__init__(text)


class YamlSyntaxError(RulebookError):
    expected = "valid YAML"


class DuplicateKeyError(RulebookError):
    expected = "each key once per mapping"


class UnknownKeyError(RulebookError):
    pass


class MissingKeyError(RulebookError):
    pass


class BadDateError(RulebookError):
    expected = "YYYY-MM-DD, e.g. 2026-01-01"


class BadValueError(RulebookError):
    pass


class MissingUnitError(RulebookError):
    expected = "a unit such as yuan, ratio or Wh/kg"


class MissingReferenceError(RulebookError):
    expected = "a source section such as 'T §6.2.3', or 'assumption: <rationale>'"


class UnknownReferenceError(RulebookError):
    """A rule names a field, parameter, variable, table, outcome or source that does not exist."""


class BadExpressionError(RulebookError):
    pass


class HashCollisionError(RulebookError):
    """Two fact names hash alike in durable_rules' 32-bit FNV-1a lookups."""


# --- evaluation -------------------------------------------------------------------
class DateNotCoveredError(ShuangtanError):
    """The period ends on a date no rule covers: refused, never guessed."""


class InvalidApplicationError(ShuangtanError):
    """The application breaks the contract. ``errors`` lists (path, message) for every field."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{p}: {m}" for p, m in errors))


class EngineError(ShuangtanError):
    """The inference engine failed on an application (a defect, not bad input)."""


#: The reason code of a record that failed in a way no rule of the contract names (a defect):
#: it is rejected (batch) or refused (record) with this code, never a crash of the whole run.
INTERNAL_ERROR = "INTERNAL_ERROR"


def internal_reason(exc: BaseException) -> str:
    """An unexpected exception in one line: its type and the start of its message, no traceback."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:300]}" if lines else type(exc).__name__


# --- batches ----------------------------------------------------------------------
class BadRecordError(ShuangtanError):
    """A batch record that could not even be read as a document (not JSON, a ragged CSV row…);
    ``errors`` is [(path, message)]. Yielded in place of the document, so the batch goes on."""

    def __init__(self, errors):
        self.errors = [tuple(e) for e in errors]
        super().__init__(self.errors)  # picklable: args round-trip through __init__

    def __str__(self):
        return "; ".join(f"{p}: {m}" for p, m in self.errors)


class OversizeRecordError(BadRecordError):
    """A batch record larger than the document limit: only its start was read, so there is
    nothing whole to keep of it (submit stores no part of it, as of a file that size)."""


class UnreadableDocumentError(BadRecordError, ValueError):
    """JSON that breaks the contract's reading rules before any field is judged: not UTF-8,
    larger than the document limit, nested too deep, a key given twice. A ValueError, as
    json's own syntax errors are, so every reader that refuses bad JSON refuses these too."""


class UnreadableInputError(ShuangtanError, ValueError):
    """A whole input file that cannot be read as its format (not text at all, not Parquet, a
    Parquet column of a type that cannot hold its field exactly): nothing in it is decided.
    ``source`` names the file when the reader knows it, ``problem`` says what is wrong."""

    def __init__(self, problem: str, source: str | None = None):
        self.problem, self.source = problem, source
        super().__init__(problem, source)  # both in args: the error pickles

    def __str__(self) -> str:
        return f"{self.source}: {self.problem}" if self.source else self.problem


# --- the record of decisions --------------------------------------------------------
class RecordError(ShuangtanError):
    """A request the record cannot satisfy (unknown application, rejected input, ...).

    Raised with a catalogue key (``key="no_proposal"``: ``records.no_proposal`` of
    templates/messages/records.yaml) and its values: ``str(exc)`` is the English sentence (logs,
    tests and the JSON API's machine readers rely on it), :meth:`said` the sentence in the
    language in force. A plain message (no key) is said as it is.
    """

    key: str | None = None

    def __init__(
        self,
        message: str = "",
        *,
        key: str | None = None,
        terms: dict | None = None,
        parameters: tuple[str, ...] = (),
        **values: object,
    ):
        self.values = {name: str(value) for name, value in values.items()}
        #: values that are the record's words (a role, an act): said in the language in force,
        #: several joined by "or" (``records.term.<word>``)
        self.terms = {name: tuple(words) for name, words in (terms or {}).items()}
        #: values that name a parameter: by its label in Chinese (the English keeps the name, as logged)
        self.parameters = tuple(parameters)
        if key is not None:
            self.key = f"records.{key}"
            message = self.said("en")
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return self.message

    def said(self, lang=None) -> str:
        """The refusal in ``lang`` (default: the language in force)."""
        if self.key is None:
            return self.message
        from engine.i18n import language, t

        lang = lang or language()
        words = {
            name: t("records.or", lang).join(t(f"records.term.{w}", lang) for w in ws)
            for name, ws in self.terms.items()
        }
        if lang != "en" and self.parameters:
            from engine.notices.wording import Words

            labels = Words(lang)
            words.update({name: labels.param_label(self.values[name]) for name in self.parameters})
        return t(self.key, lang, **{**self.values, **words})


def spoken(exc: BaseException, lang=None) -> str:
    """An error as a person reads it: a refusal of the record in ``lang`` (default: the language
    in force), any other as it is."""
    return exc.said(lang) if isinstance(exc, RecordError) else str(exc)


class UnknownApplicationError(RecordError):
    pass


class NotDecidableError(RecordError):
    """The latest version was rejected: there is nothing valid to decide."""


class AlreadyDecidedError(RecordError):
    def __init__(self, application_id: str, decision_id: int):
        self.decision_id = decision_id
        super().__init__(key="already_decided", app=application_id, decision=decision_id)
        self.args = (application_id, decision_id)  # as given: the error pickles


class AlreadyProposedError(RecordError):
    def __init__(self, application_id: str, decision_id: int):
        self.decision_id = decision_id
        super().__init__(key="already_proposed", app=application_id, decision=decision_id)
        self.args = (application_id, decision_id)


class AccountRefused(RecordError):
    """Who is acting may not do it: no such account, disabled, the wrong role, or the same person twice."""


class FourEyesError(AccountRefused):
    """The person who submitted a version or proposed its decision may not also confirm it."""


class ReviewError(RecordError):
    """A confirmation, return or override the record cannot accept as asked."""


class OverrideError(ReviewError):
    """An override as given is malformed or does not apply (``--override``, the service's ``overrides``)."""


class IntegrityFailure(RecordError):
    """Stored bytes no longer match their recorded hash: the record has been tampered with."""


# --- output files -----------------------------------------------------------------
class OutputError(ShuangtanError):
    """An output file or folder cannot be written (its folder is missing, it is a folder, no
    permission…). ``path`` is the output, ``problem`` what the system said."""

    def __init__(self, path, problem: str):
        self.path, self.problem = str(path), problem
        super().__init__(self.path, problem)  # both in args: the error pickles (Dask workers)

    def __str__(self) -> str:
        return f"cannot write {self.path}: {self.problem}"


# --- metered telemetry ------------------------------------------------------------
class InvalidTelemetryError(ShuangtanError):
    """A telemetry file breaks its format. ``problems`` lists (where, column, message) for every
    offending cell or row, ``where`` being ``line N`` (CSV) or ``row N`` (Parquet)."""

    def __init__(self, source: str, problems: list[tuple[str, str, str]]):
        self.source, self.problems = source, problems
        super().__init__(
            f"{source}: "
            + "; ".join(f"{w}: {c}: {m}" for w, c, m in problems[:5])
            + (f"; … {len(problems) - 5} more" if len(problems) > 5 else "")
        )


class MeteringError(ShuangtanError):
    """Valid telemetry from which a fact cannot be derived (no interval in the daytime window,
    several storage systems and none chosen, a baseline peak of 0 kW…)."""
