"""The service under test: an app over a seeded record, its client, and a token per account.

Tokens are hashed with Argon2's cheapest parameters here (the hash carries its parameters, so
the service verifies them as it would any other); what is tested is who gets in, not the cost.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pytest
from argon2 import PasswordHasher, profiles

from engine.records import accounts
from engine.records.store import open_store


def pytest_configure(config):
    # Starlette 1.x would rather its test client ran on httpx2; httpx is what it runs on here
    config.addinivalue_line("filterwarnings", "ignore:Using `httpx` with `starlette.testclient`")


CHEAP = PasswordHasher.from_parameters(profiles.CHEAPEST)
#: accounts beyond tests/people.py's: the roles the service adds operations for
STAFF = {"ding": "drafter", "shen": "auditor"}
OTHER_ENTERPRISE = ("dongfang", "91140200MA0HW2NB8C")


def add_staff(url: str) -> None:
    store = open_store(url)
    try:
        for name, role in STAFF.items():
            accounts.add_account(store, name, role, "os:test")
        accounts.add_account(store, OTHER_ENTERPRISE[0], "enterprise", "os:test", credit_code=OTHER_ENTERPRISE[1])
    finally:
        store.dispose()


def issue_tokens(url: str, names) -> dict[str, str]:
    from engine.service import tokens

    store = open_store(url)
    try:
        return {n: tokens.issue(store, n, "os:test", hasher=CHEAP) for n in names}
    finally:
        store.dispose()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def make_client():
    """``make_client(url, **settings)``: a TestClient of a fresh app (closed after the test)."""
    from fastapi.testclient import TestClient

    from engine.service.app import create_app
    from engine.service.settings import Settings

    opened = []

    def make(url, jwks=None, **settings):
        settings.setdefault("rate", 0)
        client = TestClient(create_app(url, settings=Settings(**settings), jwks=jwks))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for c in opened:
        c.__exit__(None, None, None)


@pytest.fixture
def service_url(sqlite_url):
    add_staff(sqlite_url)
    return sqlite_url


@pytest.fixture
def tokens(service_url):
    return issue_tokens(service_url, ["wang", "li", "zhao", "qinghe", "ding", "shen", OTHER_ENTERPRISE[0]])


@pytest.fixture
def client(make_client, service_url):
    return make_client(service_url)
