"""shuangtan (双碳): a subsidy and compliance rules engine; this module is its public API.

    import engine

    book = engine.load_rulebook()  # the bundled rulebook (or a folder of your own)
    app = engine.parse_application(open("app.json", "rb").read())
    decision = engine.decide(book, app)  # the decision document of docs/contract.md

    partial = engine.parse_partial_application(body)  # missing fields are unknown, never zero
    decision = engine.decide_partial(book, partial)  # settled, undetermined, and the next question

Everything but the errors is imported on first use: every ``engine.*`` module imports this one
first, and ``shuangtan check`` must start cold in a fraction of a second, so nothing here may pull
in pydantic, durable_rules or the heavy optional parts (Polars, SQLAlchemy, numba).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.errors import (
    BadRecordError,
    DateNotCoveredError,
    EngineError,
    InvalidApplicationError,
    InvalidTelemetryError,
    MeteringError,
    OutputError,
    RecordError,
    RulebookError,
    ShuangtanError,
)
from engine.lazy import lazy_exports

if TYPE_CHECKING:
    from engine.backends import decide
    from engine.contract.application import Application, parse_application
    from engine.partial import PartialApplication, decide_partial, parse_partial_application
    from engine.rulebook.loader import Rulebook, load_rulebook
    from engine.rulebook.reforms import Reform, load_reform

    __version__: str

__all__ = [
    "__version__",
    "load_rulebook",
    "load_reform",
    "parse_application",
    "decide",
    "parse_partial_application",
    "decide_partial",
    "PartialApplication",
    "Rulebook",
    "Reform",
    "Application",
    "ShuangtanError",
    "RulebookError",
    "DateNotCoveredError",
    "InvalidApplicationError",
    "EngineError",
    "BadRecordError",
    "RecordError",
    "OutputError",
    "InvalidTelemetryError",
    "MeteringError",
]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("shuangtan")
    except PackageNotFoundError:  # a checkout that is not installed: its pyproject.toml says
        import tomllib
        from pathlib import Path

        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        try:
            return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "0+unknown"


#: public name -> the module that defines it (imported on first use)
_exported, __dir__ = lazy_exports(
    __name__,
    {
        "load_rulebook": "rulebook.loader",
        "Rulebook": "rulebook.loader",
        "load_reform": "rulebook.reforms",
        "Reform": "rulebook.reforms",
        "parse_application": "contract.application",
        "Application": "contract.application",
        "decide": "backends",
        "parse_partial_application": "partial",
        "decide_partial": "partial",
        "PartialApplication": "partial",
    },
)


def __getattr__(name: str) -> Any:
    if name != "__version__":
        return _exported(name)
    version = globals()["__version__"] = _version()  # once: later look-ups do not come back here
    return version
