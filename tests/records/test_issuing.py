"""Notices as registered documents: confirmed decisions only, a 文号 from a per-year sequence,
dated the day of issue (China Standard Time), issued once and handed out again byte for byte, and
a 变更/撤销 notice when a decision replaces one whose notices went out."""

import datetime as dt
import multiprocessing as mp
import time

import pytest
import recordkit
from recordkit import ISSUER
from sqlalchemy import func, select

from engine.authority import EXAMPLE, resolve_authority
from engine.errors import AccountRefused
from engine.notices import render as notices
from engine.records import accounts, audit, issuing, numbering
from engine.records.issuing import NotConfirmedError, NoticeDateError, SupersededError, issue_notices
from engine.records.store import open_store
from engine.records.store.models import AuditRow, NoticeNumberRow, NoticeRow, NoticeSequenceRow
from engine.rulebook.loader import load_rulebook

SPAWN = mp.get_context("spawn")
UTC = dt.UTC
#: 10:00 in Beijing on 1 June 2026; the decisions are confirmed an hour before
NOW = dt.datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
CONFIRMED = NOW - dt.timedelta(hours=1)
AUTHORITY = resolve_authority()  # the bundled example: 晋能源补〔{year}〕{seq}号


@pytest.fixture
def store(record_url):
    store = open_store(record_url)
    recordkit.staff(store)
    yield store
    store.dispose()


def issue(store, app_id, out, *, now=NOW, by=ISSUER, lang="zh", fmt="md", date=None, decision=None):
    return issue_notices(store, app_id, out, by, lang, fmt, date, decision, authority=AUTHORITY, now=now)


def numbers(store):
    with store.reading() as s:
        return list(s.exec(select(NoticeNumberRow).order_by(NoticeNumberRow.id)).scalars())


def count(store, model):
    with store.reading() as s:
        return s.exec(select(func.count()).select_from(model)).scalar_one()


# one period, one payment: applications of one enterprise for the same days are not paid twice
OTHER_ENTERPRISE = {"enterprise.credit_code": "91140200MA0HW2NB8C"}
THIRD_ENTERPRISE = {"enterprise.credit_code": "91140700MA0GUK5T49"}


def test_the_bundled_authority_says_it_is_an_example():
    assert "示例" in AUTHORITY.name and AUTHORITY.number(2026, 17) == "晋能源补〔2026〕17号"
    assert "AN EXAMPLE" in EXAMPLE.read_text(encoding="utf-8")


def test_numbers_follow_the_year_sequence_and_restart_each_year(store, book, tmp_path):
    a = recordkit.confirmed(store, "S-1", book, at=CONFIRMED)
    b = recordkit.confirmed(store, "S-2", book, at=CONFIRMED, **OTHER_ENTERPRISE)
    with store.session() as s:  # a bureau carrying on its paper register: 16 numbers used this year
        s.add(NoticeSequenceRow(year=2026, last=16))
    first = issue(store, "S-1", tmp_path)
    assert [(n.kind, n.number) for n in first] == [
        ("approval", "晋能源补〔2026〕17号"),
        ("denial", "晋能源补〔2026〕18号"),
        ("levy", "晋能源补〔2026〕19号"),
    ]
    assert all(n.notice_date == dt.date(2026, 6, 1) and n.decision_id == a and not n.reissued for n in first)
    text = first[0].path.read_text(encoding="utf-8")
    assert "\n晋能源补〔2026〕17号\n" in text and "**某市能源局（示例）**" in text  # 发文机关 and 文号 at the head
    assert "| 文号 | 晋能源补〔2026〕17号 |" in text
    assert [n.number for n in issue(store, "S-2", tmp_path)][0] == "晋能源补〔2026〕20号"
    # 00:30 on 1 January 2027 in Beijing is still 31 December in UTC: the year is Beijing's
    new_year = dt.datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    recordkit.confirmed(store, "S-3", book, at=new_year - dt.timedelta(minutes=5), **THIRD_ENTERPRISE)
    third = issue(store, "S-3", tmp_path, now=new_year)
    assert [n.number for n in third] == ["晋能源补〔2027〕1号", "晋能源补〔2027〕2号", "晋能源补〔2027〕3号"]
    assert third[0].notice_date == dt.date(2027, 1, 1)
    rows = numbers(store)
    assert len({r.number for r in rows}) == len(rows) == 9 and {r.decision_id for r in rows} == {
        a,
        b,
        third[0].decision_id,
    }


def test_asking_again_hands_out_the_same_document_byte_for_byte(store, book, tmp_path, monkeypatch):
    recordkit.confirmed(store, "R-1", book, at=CONFIRMED)
    first = issue(store, "R-1", tmp_path / "one")
    kept = {n.kind: n.path.read_bytes() for n in first}
    later = NOW + dt.timedelta(days=3)
    # not typeset again: a renderer that fails shows it
    monkeypatch.setattr(notices, "render", lambda *a: pytest.fail("a kept notice was rendered again"))
    again = issue(store, "R-1", tmp_path / "two", now=later)
    assert [(n.number, n.notice_date, n.notice_id) for n in again] == [
        (n.number, n.notice_date, n.notice_id) for n in first
    ]
    assert all(n.reissued for n in again) and {n.kind: n.path.read_bytes() for n in again} == kept
    (tmp_path / "one" / first[0].path.name).write_bytes(b"edited by hand")
    issue(store, "R-1", tmp_path / "one", now=later)  # the file is rewritten from the record
    assert first[0].path.read_bytes() == kept["approval"]
    monkeypatch.undo()
    # a new language and format: the same document, same number and date, rendered once
    en = issue(store, "R-1", tmp_path / "en", now=later, lang="en", fmt="html")
    assert [(n.number, n.notice_date) for n in en] == [(n.number, n.notice_date) for n in first]
    assert not any(n.reissued for n in en)
    html = en[0].path.read_text(encoding="utf-8")
    assert (
        "晋能源补〔2026〕1号" in html and "1 June 2026" in html and "within sixty days of receiving this notice" in html
    )
    assert count(store, NoticeNumberRow) == 3 and count(store, NoticeRow) == 6
    with pytest.raises(NoticeDateError, match=r"notified on 2026-06-01 \(晋能源补〔2026〕1号\)"):
        issue(store, "R-1", tmp_path, now=later, date=dt.date(2026, 6, 5))
    assert issue(store, "R-1", tmp_path, now=later, date=dt.date(2026, 6, 1))[0].reissued


def test_the_date_is_the_day_of_issue_in_beijing_never_earlier(store, book, tmp_path):
    # confirmed at 01:00 on 2 June in Beijing (17:00 on 1 June UTC); issued half an hour later
    confirmed_at = dt.datetime(2026, 6, 1, 17, 0, tzinfo=UTC)
    recordkit.confirmed(store, "D-1", book, at=confirmed_at)
    now = confirmed_at + dt.timedelta(minutes=30)
    with pytest.raises(NoticeDateError) as refused:
        issue(store, "D-1", tmp_path, now=now, date=dt.date(2026, 6, 1))
    assert "--date 2026-06-01" in str(refused.value) and "today 2026-06-02" in str(refused.value)
    assert "confirmed 2026-06-02" in str(refused.value) and count(store, NoticeNumberRow) == 0
    out = issue(store, "D-1", tmp_path, now=now)
    assert out[0].notice_date == dt.date(2026, 6, 2)  # the UTC date is still 1 June
    text = out[0].path.read_text(encoding="utf-8")
    assert "2026-06-02 01:00 北京时间" in text and "UTC" not in text.split("规则集")[0]


def test_a_later_date_is_allowed_and_deadlines_count_from_it(store, book, tmp_path):
    recordkit.confirmed(store, "D-2", book, at=CONFIRMED)
    out = issue(store, "D-2", tmp_path, date=dt.date(2026, 6, 20), fmt="html")
    assert out[0].notice_date == dt.date(2026, 6, 20)
    text = out[0].path.read_text(encoding="utf-8")
    assert "2026年6月20日" in text and "自收到本通知书之日起六十日内" in text  # 行政复议: 60 days from receipt


def test_a_date_whose_deadlines_fall_beyond_the_calendar_gets_no_number(store, book, tmp_path):
    recordkit.confirmed(store, "D-4", book, at=CONFIRMED)
    with pytest.raises(NoticeDateError, match="--date 9999-11-30: the deadlines it sets fall beyond the calendar"):
        issue(store, "D-4", tmp_path, date=dt.date(9999, 11, 30))
    assert count(store, NoticeNumberRow) == 0 and count(store, NoticeSequenceRow) == 0
    assert issue(store, "D-4", tmp_path, date=dt.date(9999, 11, 1))[0].number == "晋能源补〔9999〕1号"


def test_not_before_the_confirmation_even_when_the_clock_says_so(store, book, tmp_path):
    recordkit.confirmed(store, "D-3", book, at=dt.datetime(2026, 6, 3, 2, 0, tzinfo=UTC))
    with pytest.raises(NoticeDateError, match="today 2026-06-01, confirmed 2026-06-03"):
        issue(store, "D-3", tmp_path)  # a clock two days behind the record
    assert issue(store, "D-3", tmp_path, date=dt.date(2026, 6, 3))[0].notice_date == dt.date(2026, 6, 3)


def test_refused_for_a_proposal_awaiting_review_or_returned(store, book, tmp_path):
    out = tmp_path / "out"
    waiting = recordkit.propose(store, "U-1", book, at=CONFIRMED)
    with pytest.raises(NotConfirmedError, match=f"U-1: decision {waiting} is a proposal that awaits confirmation"):
        issue(store, "U-1", out)
    with pytest.raises(NotConfirmedError, match=f"decision {waiting} is a proposal"):
        issue(store, "U-1", out, decision=waiting)
    recordkit.send_back(store, waiting, at=CONFIRMED)
    with pytest.raises(
        NotConfirmedError, match=f"decision {waiting} was returned by its reviewer and awaits confirmation"
    ):
        issue(store, "U-1", out)
    assert count(store, NoticeNumberRow) == 0 and count(store, NoticeRow) == 0 and not out.exists()


def test_the_issuer_is_an_enabled_officer_and_notices_show_display_names(store, book, tmp_path):
    recordkit.confirmed(store, "P-1", book, at=CONFIRMED)
    for who, why in (("zhao", "is a reviewer"), ("nobody", "no account 'nobody'")):
        with pytest.raises(AccountRefused, match=why):
            issue(store, "P-1", tmp_path, by=who)
    accounts.disable_account(store, "chen", "test")
    with pytest.raises(AccountRefused, match="disabled"):
        issue(store, "P-1", tmp_path)
    assert count(store, NoticeNumberRow) == 0
    out = issue(store, "P-1", tmp_path, by="wang")
    text = out[0].path.read_text(encoding="utf-8")
    assert "| 经办人 | 王芳 |" in text and "| 复核人 | 赵敏 |" in text
    assert "wang" not in text and "zhao" not in text
    with store.reading() as s:
        assert {n.issued_by for n in s.exec(select(NoticeRow)).scalars()} == {"wang"}  # the record keeps logins


def test_every_number_and_notice_is_chained(store, book, tmp_path):
    recordkit.confirmed(store, "C-1", book, at=CONFIRMED)
    issue(store, "C-1", tmp_path)
    issue(store, "C-1", tmp_path, lang="en")
    issue(store, "C-1", tmp_path)  # handed out again: nothing written, nothing chained
    with store.reading() as s:
        links = list(s.exec(select(AuditRow).where(AuditRow.action == "notice.issue").order_by(AuditRow.seq)).scalars())
        rows = {("notice_number", str(r.id)): r for r in s.exec(select(NoticeNumberRow)).scalars()}
        rows |= {("notice", str(r.id)): r for r in s.exec(select(NoticeRow)).scalars()}
    assert [link.entity for link in links] == ["notice_number"] * 3 + ["notice"] * 6
    assert {(link.entity, link.entity_id) for link in links} == set(rows)
    for link in links:
        assert link.actor == ISSUER and link.summary.startswith("晋能源补〔2026〕")
        assert link.digest == audit.row_digest(link.entity, link.fieldset, rows[(link.entity, link.entity_id)])


def test_a_replacing_decision_brings_a_revocation_of_the_old_notices(store, book, tmp_path):
    old = recordkit.confirmed(store, "V-1", book, at=CONFIRMED)
    before = issue(store, "V-1", tmp_path / "old")
    kept = {n.kind: n.path.read_bytes() for n in before}
    later = NOW + dt.timedelta(days=10)
    new = recordkit.propose(store, "V-1", book, at=later, **{"storage.discharged_kwh": "500000"})
    recordkit.confirm(store, new, at=later)
    out = issue(store, "V-1", tmp_path / "new", now=later + dt.timedelta(hours=1))
    assert [(n.kind, n.decision_id, n.number) for n in out] == [
        ("approval", new, "晋能源补〔2026〕4号"),
        ("denial", new, "晋能源补〔2026〕5号"),
        ("levy", new, "晋能源补〔2026〕6号"),
        ("revocation", old, "晋能源补〔2026〕7号"),
    ]
    text = out[-1].path.read_text(encoding="utf-8")
    assert out[-1].path.name == f"V-1.D{old}.revocation.zh.md" and "# 变更/撤销通知书" in text
    for n in before:
        assert f"| {n.number} |" in text  # every notice it varies or revokes, by number
    assert f"| 现行决定 | {new} |" in text and "晋能源补〔2026〕4号、晋能源补〔2026〕5号、晋能源补〔2026〕6号" in text
    assert "2026年6月11日" in text  # dated the day it is issued
    # asking again for the new decision hands out the same four, revocation included
    assert [n.number for n in issue(store, "V-1", tmp_path / "new", now=later + dt.timedelta(days=1))] == [
        n.number for n in out
    ]
    # the old decision: only what was issued, unchanged, marked as revoked
    old_again = issue(store, "V-1", tmp_path / "again", decision=old, now=later + dt.timedelta(days=2))
    assert {n.kind: n.path.read_bytes() for n in old_again} == kept
    assert all(n.superseded == "已被晋能源补〔2026〕7号通知书变更/撤销" for n in old_again)
    with pytest.raises(SupersededError, match=f"decision {old} is no longer in force.*never issued as en/html"):
        issue(store, "V-1", tmp_path, decision=old, lang="en", fmt="html", now=later)
    assert count(store, NoticeNumberRow) == 7


def test_a_replaced_decision_never_notified_gets_no_notice_and_no_revocation(store, book, tmp_path):
    old = recordkit.confirmed(store, "W-1", book, at=CONFIRMED)
    new = recordkit.propose(store, "W-1", book, at=NOW, **{"storage.discharged_kwh": "500000"})
    recordkit.confirm(store, new, at=NOW)
    with pytest.raises(SupersededError, match="never issued, and are not issued now"):
        issue(store, "W-1", tmp_path, decision=old)
    assert [n.kind for n in issue(store, "W-1", tmp_path)] == ["approval", "denial", "levy"]


def test_notices_from_before_numbering_are_named_by_their_old_reference(store, book, tmp_path):
    old = recordkit.confirmed(store, "L-1", book, at=CONFIRMED)
    with store.session() as s:  # as revision 0004 left it: kept bytes, no number
        s.add(
            NoticeRow(
                decision_id=old,
                application_id="L-1",
                kind="approval",
                lang="zh",
                format="md",
                filename=f"L-1.D{old}.approval.zh.md",
                sha256="0" * 64,
                content=b"old approval",
                notice_date=dt.date(2026, 5, 20),
                issued_at=CONFIRMED,
                issued_by="wang",
            )
        )
    new = recordkit.propose(store, "L-1", book, at=NOW, **{"storage.discharged_kwh": "500000"})
    recordkit.confirm(store, new, at=NOW)
    revocation = issue(store, "L-1", tmp_path)[-1]
    assert revocation.kind == "revocation" and f"| L-1-D{old}-APPROVAL | 批准通知书 | 2026年5月20日 |" in (
        revocation.path.read_text(encoding="utf-8")
    )
    [kept] = issue(store, "L-1", tmp_path / "old", decision=old)
    assert kept.path.read_bytes() == b"old approval" and kept.superseded == f"已被{revocation.number}通知书变更/撤销"


# --- concurrency ----------------------------------------------------------------------
def _issuer(url, app_id, out, barrier):
    real = numbering._counter

    def slow(s, year):  # hold the year's counter a while: widens any race for it
        row = real(s, year)
        time.sleep(0.2)
        return row

    numbering._counter = slow
    issuing._RETRIES = 1  # a lost race must show, not be retried away
    store = open_store(url)
    barrier.wait(timeout=60)
    issuing.issue_notices(store, app_id, out, ISSUER, "zh", "md", authority=AUTHORITY, now=NOW)
    store.dispose()


def test_four_issuers_at_once_get_distinct_consecutive_numbers(record_url, tmp_path):
    store = open_store(record_url)
    recordkit.staff(store)
    book = load_rulebook()
    apps = [f"Q-{i}" for i in range(4)]
    quarters = [("01-01", "03-31"), ("04-01", "06-30"), ("07-01", "09-30"), ("10-01", "12-31")]
    ids = {  # one quarter each: one period, one payment
        recordkit.confirmed(
            store, a, book, at=CONFIRMED, **{"period.start": f"2026-{q[0]}", "period.end": f"2026-{q[1]}"}
        ): a
        for a, q in zip(apps, quarters)
    }
    barrier = SPAWN.Barrier(len(apps))
    procs = [SPAWN.Process(target=_issuer, args=(record_url, a, str(tmp_path / a), barrier)) for a in apps]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    rows = numbers(store)
    assert sorted(r.seq for r in rows) == list(range(1, 13)) and len({r.number for r in rows}) == 12
    for decision_id in ids:  # one issue's numbers are consecutive: no other issuer came in between
        seqs = sorted(r.seq for r in rows if r.decision_id == decision_id)
        assert seqs == list(range(seqs[0], seqs[0] + 3))
    store.dispose()


def test_revision_0005_keeps_the_notices_issued_before_it_unnumbered(sqlite_url):
    from sqlalchemy import text

    from engine.records.store import db

    engine = db.make_engine(sqlite_url)
    db.upgrade(engine, "0004")
    t = dt.datetime(2026, 3, 1, tzinfo=UTC)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO submission (application_id, version, raw, sha256, received_at, submitted_by, "
                "validated) VALUES ('A-1', 1, 'x', 'abc', :t, 'li', 0)"
            ),
            {"t": t},
        )
        c.execute(text("INSERT INTO ruleset_snapshot VALUES ('sha256:x', '2026.1', '{}', :t)"), {"t": t})
        c.execute(
            text(
                "INSERT INTO decision (submission_id, application_id, credit_code, period_year, ruleset_version, "
                "ruleset_digest, input_sha256, officer, decided_at, document, storage_granted_yuan, "
                "freight_granted_yuan, equipment_granted) VALUES (1, 'A-1', 'C', 2026, '2026.1', 'sha256:x', "
                "'abc', 'wang', :t, '{}', '1.00', '0.00', 1)"
            ),
            {"t": t},
        )
        for _ in range(2):  # issued twice, as the record allowed then
            c.execute(
                text(
                    "INSERT INTO notice (decision_id, application_id, kind, lang, format, filename, sha256, content, "
                    "notice_date, issued_at, issued_by) VALUES (1, 'A-1', 'approval', 'zh', 'md', 'f', 's', :b, "
                    "'2026-03-01', :t, 'wang')"
                ),
                {"b": b"old", "t": t},
            )
    db.upgrade(engine)
    with engine.connect() as c:
        assert c.execute(text("SELECT content, number_id FROM notice")).all() == [(b"old", None), (b"old", None)]
        assert c.execute(text("SELECT count(*) FROM notice_number")).scalar_one() == 0
    engine.dispose()
