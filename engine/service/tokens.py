"""API tokens for the record's accounts: issued once, stored only as an Argon2id hash.

A token reads ``st_<account>_<64 hex digits>``: the account name tells which one hash to check
(no scan over accounts), the hex is 256 random bits. Issuing again replaces the account's token;
revoking clears it. Either changes the account row, so each appends a link to the audit chain
under the account's ``state`` fieldset (which covers ``secret_hash``), like ``users add``.
"""

from __future__ import annotations

import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from engine.errors import AccountRefused
from engine.records import audit
from engine.records.store.db import Store
from engine.records.store.models import AccountRow

PREFIX = "st_"
_TOKEN = re.compile(r"^st_([a-z0-9][a-z0-9._-]{0,63})_([0-9a-f]{64})$")
#: RFC 9106's second recommended option (64 MiB, 3 passes); verified once per token and worker
#: process (security.py keeps what it verified), so its cost is not paid per request.
HASHER = PasswordHasher()


def parse(token: str) -> tuple[str, str] | None:
    """(account name, secret) of a well-formed token, else None."""
    found = _TOKEN.match(token)
    return (found.group(1), found.group(2)) if found else None


def matches(secret_hash: str | None, secret: str, hasher: PasswordHasher = HASHER) -> bool:
    if not secret_hash:
        return False
    try:
        return hasher.verify(secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def issue(store: Store, name: str, actor: str, hasher: PasswordHasher = HASHER) -> str:
    """A new token for account ``name`` (the old one stops working); shown to no one but the caller."""
    secret = secrets.token_hex(32)
    hashed = hasher.hash(secret)
    with store.session() as s:
        row = s.get(AccountRow, name)
        if row is None:
            raise AccountRefused(key="no_account_add", name=repr(name))
        if not row.enabled:
            raise AccountRefused(key="account_disabled", name=name)
        row.secret_hash = hashed
        s.add(row)
        audit.append(s, actor, "account.token", "account", row, "state", f"token issued for {name}")
    return f"{PREFIX}{name}_{secret}"


def revoke(store: Store, name: str, actor: str) -> bool:
    """Clear the account's token; False when it had none."""
    with store.session() as s:
        row = s.get(AccountRow, name)
        if row is None:
            raise AccountRefused(key="no_account", name=repr(name))
        if row.secret_hash is None:
            return False
        row.secret_hash = None
        s.add(row)
        audit.append(s, actor, "account.token_revoke", "account", row, "state", f"token revoked for {name}")
    return True
