"""Lazy re-exports for the subpackages' ``__init__`` (PEP 562).

A subpackage names its API in ``__init__`` with ``__all__``; importing ``engine.records`` must
still not load SQLAlchemy until a name of it is used, nor ``engine.drafting`` Polars: the base
install has neither, and a cold ``shuangtan check`` imports only what deciding one application
needs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, names: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: each public name -> the module defining it,
    dotted relative to ``package`` (``"loader"``, or ``"rulebook.loader"`` from ``engine``)."""
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value  # once: later look-ups do not come back here
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(names) | set(namespace.get("__all__", ())))

    return __getattr__, __dir__
