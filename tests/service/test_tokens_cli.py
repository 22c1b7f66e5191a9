"""shuangtan tokens: printed once, stored only as a hash, revoked; the chain stays intact."""

from sqlalchemy import select

from engine.records.audit import log, verify
from engine.records.store import open_store
from engine.records.store.models import AccountRow
from engine.service import tokens


def test_issue_prints_once_and_keeps_only_a_hash(cli, service_url):
    r = cli("tokens", "issue", "wang", "--db", service_url)
    assert r.exit_code == 0, r.output
    token = r.stdout.strip().splitlines()[0]
    assert tokens.parse(token)[0] == "wang"
    store = open_store(service_url)
    with store.reading() as s:
        row = s.execute(select(AccountRow).where(AccountRow.name == "wang")).scalars().one()
    secret = tokens.parse(token)[1]
    assert row.secret_hash.startswith("$argon2id$") and secret not in row.secret_hash
    assert tokens.matches(row.secret_hash, secret) and not tokens.matches(row.secret_hash, "0" * 64)
    assert [e.action for e in log(store, actor=None, entity="account", entity_id="wang")][-1] == "account.token"
    assert verify(store).ok
    assert cli("tokens", "revoke", "wang", "--db", service_url).exit_code == 0
    assert "had no token" in cli("tokens", "revoke", "wang", "--db", service_url).output
    with store.reading() as s:
        assert s.get(AccountRow, "wang").secret_hash is None
    assert verify(store).ok
    store.dispose()


def test_unknown_account_is_refused_in_one_line(cli, service_url):
    r = cli("tokens", "issue", "nobody", "--db", service_url)
    assert r.exit_code == 2 and "no account 'nobody'" in r.output and "Traceback" not in r.output
