"""The statuses an outcome of each kind can have: a module of its own, so that a command that only
names them (``list --outcome NAME=STATUS``) needs neither the rule language nor the contract."""

from __future__ import annotations

STATUSES = {
    "check": ("met", "not_met"),
    "benefit": ("granted", "denied"),
    "levy": ("levied", "exempt"),
}
#: every status an outcome on record can have
ALL_STATUSES = (*(s for kind in STATUSES.values() for s in kind), "not_applicable")
