"""Where the bundled data lives: the rulebook, the notice templates and the rule-test data.

The repository keeps them at its top level (``rules/``, ``templates/``, ``tests/rules/``), where
drafters and reviewers look for them; the wheel maps them into the package at build time
(``engine/bundled/…``, see ``pyproject.toml``), so an installed shuangtan finds them with no
``--rules`` flag, from any working folder. A checkout (or an editable install) has no
``engine/bundled/``, so the top-level folders are used there.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from engine.errors import ShuangtanError

#: name inside the installed package -> the folder in a checkout, relative to the repository root
_CHECKOUT = {"rules": "rules", "templates": "templates", "rule_tests": "tests/rules"}


def bundled(name: str) -> Path:
    """The folder of bundled data ``name`` (``rules``, ``templates`` or ``rule_tests``)."""
    inside = Path(str(files("engine"))) / "bundled" / name
    if inside.is_dir():
        return inside
    checkout = Path(__file__).resolve().parent.parent / _CHECKOUT[name]
    if checkout.is_dir():
        return checkout
    raise ShuangtanError(
        f"the installed shuangtan has no bundled {name!r} folder (looked in {inside} "
        f"and {checkout}); reinstall the package"
    )


def bundled_reforms() -> dict[str, Path]:
    """The reforms bundled with the rulebook (``rules/reforms/*.yaml``), by name (the file's stem)."""
    folder = bundled("rules") / "reforms"
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))} if folder.is_dir() else {}
