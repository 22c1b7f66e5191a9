"""Accounts: who may act on the record, in which role.

Every write names an enabled account of a role allowed to make it; the record keeps the name
(and the audit chain who did it). Accounts are never deleted, only disabled, so every name in
the record stays resolvable to a person. An enterprise account is bound to its credit code:
it may only submit that enterprise's applications.

Setting up accounts (``users add``/``disable``) is the deployment's own act, done by whoever
holds the database; the audit chain records the operating-system user who did it.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlmodel import col

from engine.errors import AccountRefused
from engine.records import audit
from engine.records.store.db import Store, as_utc, now_utc
from engine.records.store.models import AccountOut, AccountRow

ROLES = ("officer", "reviewer", "drafter", "auditor", "enterprise")
#: what each act on the record needs
MAY = {
    "submit": ("enterprise", "officer"),
    "propose": ("officer",),
    "review": ("officer", "reviewer"),
    "issue": ("officer",),
}
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def _check_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise AccountRefused(key="bad_account_name", name=repr(name))
    return name


def _check_credit_code(code: str) -> str:
    from stdnum.cn import uscc
    from stdnum.exceptions import ValidationError

    try:
        return uscc.validate(code)
    except ValidationError as exc:
        raise AccountRefused(key="bad_credit_code", code=repr(code), problem=exc) from None


def account_out(row: AccountRow) -> AccountOut:
    return AccountOut(
        name=row.name,
        role=row.role,
        display_name=row.display_name,
        credit_code=row.credit_code,
        enabled=row.enabled,
        created_at=as_utc(row.created_at),
        created_by=row.created_by,
    )


def add_account(
    store: Store,
    name: str,
    role: str,
    actor: str,
    display_name: str | None = None,
    credit_code: str | None = None,
    secret_hash: str | None = None,
) -> AccountOut:
    _check_name(name)
    if role not in ROLES:
        raise AccountRefused(key="bad_role", role=repr(role), roles=", ".join(ROLES))
    if role == "enterprise":
        if not credit_code:
            raise AccountRefused(key="needs_credit_code")
        credit_code = _check_credit_code(credit_code)
    elif credit_code:
        raise AccountRefused(key="credit_code_not_for", terms={"role": [role]})
    shown = (display_name or name).strip()
    if not shown or len(shown) > 200 or any(not ch.isprintable() for ch in shown):
        raise AccountRefused(key="bad_display_name")
    with store.session() as s:
        if s.get(AccountRow, name) is not None:
            raise AccountRefused(key="account_exists", name=name)
        row = AccountRow(
            name=name,
            role=role,
            display_name=shown,
            credit_code=credit_code,
            enabled=True,
            secret_hash=secret_hash,
            created_at=now_utc(),
            created_by=actor,
        )
        s.add(row)
        audit.append(s, actor, "account.add", "account", row, "state", f"{name} as {role}")
        return account_out(row)


def disable_account(store: Store, name: str, actor: str) -> AccountOut:
    with store.session() as s:
        row = s.get(AccountRow, name)
        if row is None:
            raise AccountRefused(key="no_account", name=name)
        if row.enabled:
            row.enabled = False
            s.add(row)
            audit.append(s, actor, "account.disable", "account", row, "state", name)
        return account_out(row)


def list_accounts(store: Store) -> list[AccountOut]:
    with store.reading() as s:
        return [account_out(r) for r in s.exec(select(AccountRow).order_by(col(AccountRow.name))).scalars()]


def require(s, name: str | None, act: str) -> AccountRow:
    """The enabled account ``name`` if its role may ``act``; else AccountRefused, in one line."""
    if not name:
        raise AccountRefused(key="no_actor", terms={"act": [act]})
    row = s.get(AccountRow, name)
    if row is None:
        raise AccountRefused(key="no_such_actor", name=repr(name), terms={"act": [act]})
    if not row.enabled:
        raise AccountRefused(key="actor_disabled", name=name, terms={"act": [act]})
    if row.role not in MAY[act]:
        raise AccountRefused(key="wrong_role", name=name, terms={"act": [act], "role": [row.role], "needs": MAY[act]})
    return row


def display_names(s, names) -> dict[str, str]:
    """Login -> display name; a name with no account (made before accounts existed) shows as itself."""
    wanted = sorted(set(filter(None, names)))
    if not wanted:
        return {}
    rows = s.exec(select(AccountRow).where(col(AccountRow.name).in_(wanted))).scalars()
    found = {r.name: r.display_name for r in rows}
    return {n: found.get(n, n) for n in wanted}
