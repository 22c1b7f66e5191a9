"""Every notice template rendered against complete decisions, in both languages and both formats."""

import datetime as dt
import struct
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest
import recordkit
from appdoc import example

from engine.notices import render as notices
from engine.records import service as records
from engine.records.store import open_store

DAY = dt.date(2027, 1, 15)
# The three decisions the notices must cover: the worked example (approval, denial, levy),
# a denial on the technical standard, and a reporting failure (rectification, everything denied).
CASES = {
    "example": {},
    "denial": {
        "storage.energy_density_wh_per_kg": "250",
        "storage.cycle_life": 9000,
        "equipment.realtime_data_analytics": False,
        "packaging.nondegradable_share": "0",
        "packaging.order_value_yuan": "12345.50",
    },
    "reporting": {
        "storage.platform.reporting_completeness": "0.90",
        "storage.platform.connected": False,
        "enterprise.name": "<script>alert(1)</script>",
    },
}


@pytest.fixture(scope="module")
def decided(tmp_path_factory, book):
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('n') / 'r.db'}")
    recordkit.staff(store)
    codes = {"example": "91140100MA0L3K2P5R", "denial": "91140200MA0HW2NB8C", "reporting": "91141100MA0KQ7LX3M"}
    for name, changes in CASES.items():
        recordkit.confirmed(store, f"N-{name}", book, **{"enterprise.credit_code": codes[name], **changes})
    yield store
    store.dispose()


def render_all(store, case, lang, fmt):
    _, docs = records.notice_documents(store, f"N-{case}", lang, fmt, DAY)
    return dict(docs)


def test_each_decision_calls_for_the_right_notices(decided):
    kinds = {c: list(render_all(decided, c, "zh", "md")) for c in CASES}
    assert kinds == {
        "example": ["approval", "denial", "levy"],
        "denial": ["approval", "denial"],
        "reporting": ["denial", "rectification", "levy"],
    }


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_template_renders_every_case(decided, lang, fmt):
    seen = set()
    for case in CASES:
        for kind, text in render_all(decided, case, lang, fmt).items():
            seen.add(kind)
            assert f"N-{case}" in text and "2027-01-15" in text
            assert ("（草稿，未编号）" if lang == "zh" else "(draft, not numbered)") in text  # a preview
            assert "行政复议" in text and "60" in text and "2027-03-16" in text  # rights and their deadline
            assert "T §6.2.3" in text or "S §4.2" in text
    assert seen == set(notices.KINDS)


def test_approval_shows_amounts_exactly_with_clauses(decided):
    text = render_all(decided, "example", "zh", "md")["approval"]
    assert "280,000.00 元" in text and "640,000.00 元" in text and "285.150 吨二氧化碳当量" in text
    assert "920,000.00 元" in text
    assert "`RATE_TIER` | 0.3 ≥ 0.30" in text and "参考西安“1元/度”补贴模式" in text


def test_denial_lists_every_unmet_and_every_met_criterion_with_evidence(decided):
    text = render_all(decided, "denial", "en", "md")["denial"]
    section = text.split("### Reverse-logistics equipment subsidy")[1].split("### ")[0]
    unmet, met = section.split("**Criteria met**")
    assert "`MISSING_REALTIME_ANALYTICS`" in unmet and "`REPORTING_NON_COMPLIANT`" not in unmet
    for code in (
        "MISSING_AUTOMATED_RETURN_RECEIVING",
        "ALREADY_SUBSIDIZED",
        "NO_INVESTMENT",
        "REPORTING_NON_COMPLIANT",
    ):
        assert f"`{code}` | ✔" in met
    assert "| `equipment.realtime_data_analytics` | false |" in met  # evidence considered
    assert "| `equipment.investment_yuan` | 3200000 |" in met
    storage = text.split("### User-side storage subsidy per kWh")[1].split("### ")[0]
    assert "`TECHNICAL_STANDARD_NOT_MET`" in storage.split("**Criteria met**")[0]
    checks = text.split("## Findings of the related checks")[1]
    assert "`ENERGY_DENSITY_BELOW_MINIMUM`" in checks and "`CYCLE_LIFE_BELOW_MINIMUM`" in checks


def test_money_is_formatted_from_the_decision_string_never_through_float(decided):
    text = render_all(decided, "denial", "zh", "md")
    assert "approval" in text  # the freight subsidy: 1,200,000 orders × 0.10 = 120,000.00, capped at 200,000
    assert "120,000.00 元" in text["approval"]
    assert notices.money("123.455") == "123.455" and notices.money("1234567890123.46") == "1,234,567,890,123.46"


def test_rectification_gives_the_deadline_from_the_notice_date(decided):
    for fmt in ("md", "html"):
        zh = render_all(decided, "reporting", "zh", fmt)["rectification"]
        assert "30 日内" in zh and "2027-02-14" in zh  # 2027-01-15 + 30 days
        assert "PLATFORM_NOT_CONNECTED" in zh and "REPORTING_INCOMPLETE" in zh
        assert "CARBON_REDUCTION_NOT_REPORTED" in zh  # listed among the criteria met
    en = render_all(decided, "reporting", "en", "html")["rectification"]
    assert "within 30 days" in en and "2027-02-14" in en


def test_levy_notice_states_amount_and_earmark(decided):
    text = render_all(decided, "example", "en", "md")["levy"]
    assert "CNY 1,500,000.00" in text and "storage-technology R&D" in text


def test_an_enterprise_called_script_is_rendered_as_text(decided):
    for kind, html in render_all(decided, "reporting", "zh", "html").items():
        assert "<script>" not in html, kind
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for md in render_all(decided, "reporting", "zh", "md").values():
        assert "<script>" not in md and "&lt;script>alert(1)&lt;/script>" in md


def test_a_missing_value_is_an_error_not_a_blank():
    env = notices.environment("html")
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("levy.html.j2").render(kind="levy", lang="zh")


def test_cli_writes_and_records_the_notices(decided, tmp_path):
    issued = records.issue_notices(decided, "N-reporting", tmp_path, recordkit.ISSUER, "en", "html", DAY)
    assert [n.kind for n in issued] == ["denial", "rectification", "levy"]
    assert all(n.path.read_text().startswith("<!DOCTYPE html>") for n in issued)
    assert [n.number for n in issued] == ["晋能源补〔2027〕1号", "晋能源补〔2027〕2号", "晋能源补〔2027〕3号"]
    from engine.records.views import show

    assert [(n.kind, n.lang, n.issued_by) for n in show(decided, "N-reporting").notices][-3:] == [
        ("denial", "en", "chen"),
        ("rectification", "en", "chen"),
        ("levy", "en", "chen"),
    ]
    # the preview now shows the numbers given
    assert "晋能源补〔2027〕2号" in render_all(decided, "reporting", "zh", "md")["rectification"]


@pytest.mark.parametrize("fmt", ["md", "html"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_revocation_template_renders_in_both_languages_and_formats(book, lang, fmt):
    from engine.backends import decide
    from engine.contract.application import parse_application

    app = parse_application(example("N-old"))
    view = notices.revocation_view(
        old_notices=[("晋能源补〔2027〕1号", "approval", DAY), ("N-old-D3-LEVY", "levy", DAY)],
        old_totals={"subsidy_yuan": "920000.00", "levy_yuan": "1500000.00"},
        new_decision_id=9,
        new_application_id="N-old",
        new_confirmed_at=dt.datetime(2027, 1, 20, 2, 30, tzinfo=dt.UTC),
        new_totals={"subsidy_yuan": "600000.00", "levy_yuan": "0.00"},
        new_notices=["晋能源补〔2027〕7号"],
        lang=lang,
    )
    ctx = notices.notice_context(
        "revocation",
        decision=decide(book, app),
        app=app,
        book=book,
        decision_id=3,
        officer="王芳",
        decided_at=dt.datetime(2027, 1, 10, 1, 0, tzinfo=dt.UTC),
        notice_date=dt.date(2027, 1, 21),
        lang=lang,
        notice_no="晋能源补〔2027〕8号",
        authority="某市能源局（示例）",
        confirmer="赵敏",
        confirmed_at=dt.datetime(2027, 1, 10, 2, 0, tzinfo=dt.UTC),
        revocation=view,
    )
    text = notices.render("revocation", ctx, fmt)
    assert ("变更/撤销通知书" if lang == "zh" else "Notice of Variation or Revocation") in text
    for shown in ("晋能源补〔2027〕8号", "晋能源补〔2027〕1号", "N-old-D3-LEVY", "晋能源补〔2027〕7号", "2027-01-21"):
        assert shown.replace("-", "\\-") in text or shown in text, shown
    assert "920,000.00" in text and "600,000.00" in text and "2027-01-20 10:30" in text  # confirmed, in CST
    assert "行政复议" in text and "2027-03-22" in text  # the rights, counted from this notice


def test_pdf_when_weasyprint_is_installed(decided):
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:  # OSError: WeasyPrint installed but the system has no Pango
        pytest.skip(f"PDF needs WeasyPrint and Pango: {exc}")
    html = render_all(decided, "example", "zh", "html")["approval"]
    font = notices.chinese_font()
    if font is None:  # refused rather than an official notice of empty boxes
        with pytest.raises(notices.NoticeFontError, match="no Chinese font"):
            notices.to_pdf(html, "zh")
    else:
        pdf = notices.to_pdf(html, "zh")
        # the Chinese font is embedded (WeasyPrint subsets it under its PostScript name)
        assert pdf.startswith(b"%PDF") and font.replace(" ", "-").encode() in b" ".join(embedded_fonts(pdf))
    en = render_all(decided, "example", "en", "html")["approval"]
    assert notices.to_pdf(en, "en").startswith(b"%PDF")


def embedded_fonts(pdf: bytes) -> set:
    import re
    import zlib

    names = set()
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            names |= set(re.findall(rb"/(?:BaseFont|FontName)\s*/([A-Za-z0-9+_-]+)", zlib.decompress(m.group(1))))
        except zlib.error:
            continue
    return names


def test_a_chinese_pdf_without_a_chinese_font_is_refused(decided, monkeypatch):
    monkeypatch.setattr(notices, "chinese_font", lambda: None)
    with pytest.raises(notices.NoticeFontError, match="fonts-noto-cjk"):
        notices.to_pdf("<p>批准</p>", "zh")


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="no /usr/bin/chromium (apt-get install chromium)")
def test_the_html_notice_opens_in_a_real_browser(decided, tmp_path, root):
    html = tmp_path / "notice.html"
    html.write_text(render_all(decided, "reporting", "zh", "html")["rectification"], encoding="utf-8")
    png = tmp_path / "notice.png"
    subprocess.run(
        [
            sys.executable,
            str(root / "scripts/screenshot_notice.py"),
            str(html),
            str(png),
            "--chromium",
            "/usr/bin/chromium",
        ],
        check=True,
        timeout=180,
    )
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", head[16:24]) == (1000, 1400)
    assert png.stat().st_size > 20_000  # a rendered page, not a blank one
