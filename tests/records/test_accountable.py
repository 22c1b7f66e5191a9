"""A record a bureau can trust: four eyes, one payment per period, claims that cannot be gamed,
nothing decided hidden, replay from the record. On SQLite and PostgreSQL."""

import json

import pytest
from appdoc import example
from people import decide_and_confirm
from sqlalchemy import text

from engine.records import accounts
from engine.records import service as records
from engine.records import views as records_view
from engine.records.store import open_store
from engine.records.store.models import DecisionRow, SubmissionIn

FULL_YEAR = {"period.start": "2026-01-01", "period.end": "2026-12-31"}
H1 = {"period.start": "2026-01-01", "period.end": "2026-06-30"}
H2 = {"period.start": "2026-07-01", "period.end": "2026-12-31"}
PER_PERIOD = ("storage_subsidy", "eco_packaging_freight_subsidy", "carbon_quota_reward", "packaging_levy")
OTHER_CODE = "91140200MA0HW2NB8C"


@pytest.fixture
def store(record_url):
    s = open_store(record_url)
    yield s
    s.dispose()


def put(store, app_id, by="li", corrects=None, **changes):
    raw = example(app_id, **changes)
    return records.submit(store, SubmissionIn(raw=raw, filename=f"{app_id}.json", submitted_by=by, corrects=corrects))


def doc(store, decision_id):
    with store.reading() as s:
        return json.loads(s.get(DecisionRow, decision_id).document)


def reason(d, outcome, code):
    found = [r for r in d["outcomes"][outcome]["reasons"] if r["code"] == code]
    return found[0] if found else None


# --- one period, one payment ---------------------------------------------------------------
def test_a_second_application_inside_a_granted_period_is_not_paid_or_levied_again(store, book):
    put(store, "APP-1", **FULL_YEAR)
    first = decide_and_confirm(store, "APP-1", book)
    assert first.totals == {"subsidy_yuan": "920000.00", "levy_yuan": "1500000.00"}
    put(store, "APP-2", **H2)
    second = records.decide(store, "APP-2", book, "wang")
    d = doc(store, second.id)
    for name in PER_PERIOD:
        r = reason(d, name, "PERIOD_ALREADY_DECIDED")
        if d["outcomes"][name]["status"] in ("denied", "exempt") and r is not None:
            assert r["values"]["application_id"] == "APP-1"
            assert r["values"]["shared_days"] == "2026-07-01..2026-12-31"
    assert d["outcomes"]["storage_subsidy"]["status"] == "denied"
    assert d["outcomes"]["storage_subsidy"]["amount"] == "0.00"
    assert d["outcomes"]["carbon_quota_reward"]["status"] == "denied"
    assert d["outcomes"]["packaging_levy"]["status"] == "exempt"
    assert d["totals"] == {"subsidy_yuan": "0.00", "levy_yuan": "0.00"}


@pytest.mark.parametrize(
    "second, overlaps",
    [
        ({"period.start": "2026-07-01", "period.end": "2026-12-31"}, False),  # adjacent: no shared day
        ({"period.start": "2026-06-30", "period.end": "2026-12-31"}, True),  # one shared day
    ],
)
def test_adjacent_periods_do_not_overlap_and_one_shared_day_does(store, book, second, overlaps):
    put(store, "P-1", **H1)
    decide_and_confirm(store, "P-1", book)
    put(store, "P-2", **second)
    d = doc(store, records.decide(store, "P-2", book, "wang").id)
    got = reason(d, "storage_subsidy", "PERIOD_ALREADY_DECIDED")
    assert (got is not None) == overlaps
    assert d["outcomes"]["storage_subsidy"]["status"] == ("denied" if overlaps else "granted")
    if overlaps:
        assert got["values"]["shared_days"] == "2026-06-30..2026-06-30"


def test_a_pending_proposal_already_holds_its_period(store, book):
    put(store, "W-1", **FULL_YEAR)
    records.decide(store, "W-1", book, "wang")  # not confirmed yet
    put(store, "W-2", **H2)
    d = doc(store, records.decide(store, "W-2", book, "li").id)
    assert "proposed" in reason(d, "storage_subsidy", "PERIOD_ALREADY_DECIDED")["message"]


def test_a_correction_replaces_the_corrected_decision_once_confirmed(store, book):
    put(store, "C-1", **FULL_YEAR)
    original = decide_and_confirm(store, "C-1", book)
    put(store, "C-2", corrects="C-1", **FULL_YEAR, **{"storage.discharged_kwh": "300000"})
    proposal = records.decide(store, "C-2", book, "wang")
    assert proposal.state == "proposed" and proposal.supersedes_id == original.id
    d = doc(store, proposal.id)
    assert reason(d, "storage_subsidy", "PERIOD_ALREADY_DECIDED") is None
    assert d["outcomes"]["storage_subsidy"]["amount"] == "240000.00"  # 300,000 kWh × 0.80
    assert d["outcomes"]["equipment_subsidy"]["status"] == "granted"  # C-1's grant is being replaced
    assert records_view.show(store, "C-1").decision_id == original.id  # in force until confirmed
    confirmed = records.confirm(store, "C-2", book, "zhao")
    assert confirmed.in_force
    c1 = records_view.show(store, "C-1")
    assert c1.decision_id is None and c1.status == "corrected"
    assert [(x.id, x.state, x.superseded_by) for x in c1.decisions] == [(original.id, "superseded", confirmed.id)]
    assert records.pending(store) == []  # the corrected application is not decided again


def test_a_correction_of_another_enterprise_or_of_nothing_is_rejected(store):
    put(store, "O-1")
    r = put(store, "O-2", corrects="O-1", **{"enterprise.credit_code": OTHER_CODE})
    assert r.outcome == "rejected" and "belongs to another enterprise" in r.submission.errors[0].message
    r = put(store, "O-3", corrects="NOPE")
    assert r.outcome == "rejected" and "no valid application NOPE" in r.submission.errors[0].message


# --- claims that cannot be gamed ------------------------------------------------------------
def test_an_application_id_belongs_to_its_enterprise(store, book):
    put(store, "G-1")
    first = decide_and_confirm(store, "G-1", book)
    r = put(store, "G-1", **{"enterprise.credit_code": OTHER_CODE, "enterprise.name": "冒名公司"})
    assert r.outcome == "rejected"
    assert [(e.path, "belongs to enterprise" in e.message) for e in r.submission.errors] == [
        ("enterprise.credit_code", True)
    ]
    shown = records_view.show(store, "G-1")
    assert (shown.status, shown.credit_code, shown.decision_id) == ("decided", "91140100MA0L3K2P5R", first.id)


def test_an_enterprise_account_submits_only_for_its_own_enterprise(store):
    assert put(store, "EA-1", by="qinghe").outcome == "new"  # the worked example's enterprise
    r = put(store, "EA-2", by="qinghe", **{"enterprise.credit_code": OTHER_CODE})
    assert (
        r.outcome == "rejected" and "submits for enterprise 91140100MA0L3K2P5R only" in r.submission.errors[0].message
    )


def test_a_grant_that_rounds_to_nothing_does_not_use_up_the_one_time_subsidy(store, book):
    put(store, "Z-1", **H1, **{"equipment.investment_yuan": "0.02"})  # 20 % of 0.02 = 0.00
    tiny = records.decide(store, "Z-1", book, "wang")
    d = doc(store, tiny.id)
    assert d["outcomes"]["equipment_subsidy"]["status"] == "denied"
    assert reason(d, "equipment_subsidy", "GRANT_ROUNDS_TO_ZERO") is not None
    records.confirm(store, "Z-1", book, "zhao")
    put(store, "Z-2", **H2)
    real = doc(store, records.decide(store, "Z-2", book, "wang").id)
    assert real["outcomes"]["equipment_subsidy"]["status"] == "granted"
    assert real["outcomes"]["equipment_subsidy"]["amount"] == "640000.00"


# --- nothing decided is hidden --------------------------------------------------------------
def test_an_invalid_resubmission_keeps_the_decided_version_and_its_enterprise(store, book, cli, record_url):
    put(store, "H-1")
    first = decide_and_confirm(store, "H-1", book)
    bad = put(store, "H-1", **{"storage.discharged_kwh": "-1"})
    assert bad.outcome == "rejected"
    shown = records_view.show(store, "H-1")
    assert (shown.status, shown.current_version, shown.rejected_versions) == ("decided", 1, [2])
    assert (shown.enterprise_name, shown.region_code, shown.decision_id) == (
        "太原青禾电子商务有限公司",
        "140100",
        first.id,
    )
    assert [(v.version, v.status) for v in shown.versions] == [(1, "decided"), (2, "rejected")]
    out = cli("show", "--db", record_url, "H-1").output
    assert "(91140100MA0L3K2P5R, 140100)" in out and "v2 rejected" in out
    listed = cli("list", "--db", record_url).output
    assert "140100" in listed and "------" not in listed and "(v2 rejected)" in listed


# --- four eyes ---------------------------------------------------------------------------------
def test_the_proposer_and_the_submitter_cannot_confirm(store, book):
    put(store, "F-1", by="li")
    records.decide(store, "F-1", book, "wang")
    with pytest.raises(records.AccountRefused, match="wang proposed decision"):
        records.confirm(store, "F-1", book, "wang")
    with pytest.raises(records.AccountRefused, match="li submitted version 1"):
        records.confirm(store, "F-1", book, "li")
    assert records.confirm(store, "F-1", book, "t").in_force


@pytest.mark.parametrize(
    "who, act, message",
    [
        ("", "propose", "name the account acting"),
        ("nobody", "propose", "no account 'nobody'"),
        ("zhao", "propose", "zhao is a reviewer account; this needs the role officer"),
        ("qinghe", "review", "qinghe is a enterprise account"),
    ],
)
def test_only_an_enabled_account_of_the_right_role_acts(store, book, who, act, message):
    put(store, "K-1")
    with pytest.raises(records.AccountRefused, match=message):
        if act == "propose":
            records.decide(store, "K-1", book, who)
        else:
            records.decide(store, "K-1", book, "wang")
            records.confirm(store, "K-1", book, who)


def test_a_disabled_account_is_refused(store, book):
    put(store, "D-1")
    accounts.disable_account(store, "t", "os:test")
    with pytest.raises(records.AccountRefused, match="account t is disabled"):
        records.decide(store, "D-1", book, "t")


def test_a_returned_proposal_decides_nothing_and_awaits_a_new_one(store, book):
    put(store, "R-1")
    p = records.decide(store, "R-1", book, "wang")
    with pytest.raises(records.ReviewError, match="needs --opinion"):
        records.return_proposal(store, "R-1", "zhao", " ")
    back = records.return_proposal(store, "R-1", "zhao", "请补充储能系统检测报告")
    assert back.state == "returned" and not back.in_force
    assert records.pending(store) == ["R-1"]
    with pytest.raises(records.ReviewError, match="no proposal awaits review"):
        records.confirm(store, "R-1", book, "zhao")
    again = records.decide(store, "R-1", book, "wang")
    assert again.id != p.id and records.confirm(store, "R-1", book, "zhao").in_force


def test_an_override_is_kept_beside_the_engine_result_and_counts(store, book):
    put(store, "V-1", **H1)
    records.decide(store, "V-1", book, "wang")
    with pytest.raises(records.ReviewError, match="needs --reason"):
        records.confirm(store, "V-1", book, "zhao", overrides=["storage_subsidy=granted:100000.00"])
    with pytest.raises(records.ReviewError, match="the status is one of"):
        records.confirm(store, "V-1", book, "zhao", overrides=["storage_subsidy=levied"], reason="x")
    with pytest.raises(records.ReviewError, match="exceeds what the annual cap leaves"):
        records.confirm(store, "V-1", book, "zhao", overrides=["storage_subsidy=granted:5000000.01"], reason="x")
    d = records.confirm(
        store, "V-1", book, "zhao", overrides=["storage_subsidy=granted:100000.00"], reason="现场核查放电量不足"
    )
    assert d.in_force and d.totals["subsidy_yuan"] == "740000.00"  # 100,000.00 + 640,000.00
    assert d.overrides[0]["engine"] == {"status": "granted", "amount": "280000.00"}
    engine_doc = doc(store, d.id)
    assert engine_doc["outcomes"]["storage_subsidy"]["amount"] == "280000.00"  # the engine's, kept as it was
    put(store, "V-2", **H2)
    later = doc(store, records.decide(store, "V-2", book, "wang").id)
    assert later["history"]["record"]["storage_subsidy_granted_this_year_yuan"] == "100000.00"


# --- replay from the record -----------------------------------------------------------------
def test_replay_recomputes_history_from_the_record_and_checks_the_cap_columns(store, book):
    put(store, "RP-1", **H1)
    decide_and_confirm(store, "RP-1", book)
    put(store, "RP-2", **H2)
    d = decide_and_confirm(store, "RP-2", book)
    assert records.replay(store, d.id, book).identical
    original = doc(store, d.id)
    lie = json.loads(json.dumps(original))
    lie["history"]["record"]["storage_subsidy_granted_this_year_yuan"] = "0.00"  # the stored copy lies
    with store.session() as s:
        s.execute(
            text("UPDATE decision SET document = :d WHERE id = :i"),
            {"d": json.dumps(lie, ensure_ascii=False), "i": d.id},
        )
    assert records.replay(store, d.id, book).differences == ["/history/record/storage_subsidy_granted_this_year_yuan"]
    with store.session() as s:
        s.execute(
            text("UPDATE decision SET document = :d, storage_granted_yuan = '0.00' WHERE id = :i"),
            {"d": json.dumps(original, ensure_ascii=False), "i": d.id},
        )
    assert records.replay(store, d.id, book).differences == ["/record/storage_granted_yuan"]


# --- plausibility holds and one officer alone -------------------------------------------------
def test_an_implausible_claim_is_held_until_a_reviewer_overrides_it(store, book):
    # 5 kWh capacity x 2 cycles x 181 days = 1,810 kWh at most; 350,000 claimed
    put(store, "PL-1", **H1, **{"storage.capacity_kwh": "5"})
    p = records.decide(store, "PL-1", book, "wang")
    assert [(h["code"], h["outcome"]) for h in p.holds] == [("DISCHARGE_EXCEEDS_CAPACITY", "storage_subsidy")]
    with pytest.raises(records.ReviewError, match="is held: DISCHARGE_EXCEEDS_CAPACITY on storage_subsidy"):
        records.confirm(store, "PL-1", book, "zhao")
    d = records.confirm(
        store, "PL-1", book, "zhao", overrides=["storage_subsidy=denied"], reason="放电量超过装机容量可能，不予补贴"
    )
    assert d.in_force and d.statuses["storage_subsidy"] == "denied" and d.totals["subsidy_yuan"] == "640000.00"


def test_a_plausible_claim_is_not_held(store, book):
    put(store, "PL-2", **H1)  # the worked example's 3,200 kWh capacity delivers 350,000 kWh in 181 days
    assert records.decide(store, "PL-2", book, "wang").holds == []


def test_one_officer_may_confirm_alone_only_below_the_parameter(store, tmp_path, root):
    import shutil

    from engine.rulebook.loader import load_rulebook

    rules = tmp_path / "rules"
    shutil.copytree(root / "rules", rules)
    p = rules / "parameters/review.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace('2026-01-01: "0"', '2026-01-01: "1000000"'), encoding="utf-8")
    lenient = load_rulebook(rules)
    put(store, "S-1", **H1)  # 920,000.00 < 1,000,000
    records.decide(store, "S-1", lenient, "wang")
    assert records.confirm(store, "S-1", lenient, "wang").in_force
    put(store, "S-3", **{"period.start": "2027-01-01", "period.end": "2027-06-30", "storage.discharged_kwh": "1500000"})
    records.decide(store, "S-3", lenient, "wang")  # 1,200,000.00 is not below the limit
    with pytest.raises(records.AccountRefused, match="one officer alone only below"):
        records.confirm(store, "S-3", lenient, "wang")


def test_a_notice_states_the_decision_as_confirmed_with_the_override(store, book, tmp_path):
    put(store, "NV-1", **H1)
    records.decide(store, "NV-1", book, "wang")
    records.confirm(
        store, "NV-1", book, "zhao", overrides=["storage_subsidy=granted:100000.00"], reason="现场核查放电量不足"
    )
    issued = records.issue_notices(store, "NV-1", tmp_path, "wang", "zh", "md")
    approval = next(n for n in issued if n.kind == "approval").path.read_text(encoding="utf-8")
    assert "100,000.00" in approval and "740,000.00" in approval and "920,000.00" not in approval
    assert "现场核查放电量不足" in approval and "赵敏" in approval and "王芳" in approval
